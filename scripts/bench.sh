#!/usr/bin/env bash
# `make bench`: the benchmark on a throw-away PostgreSQL and Redis (stopped on exit), printing
# one JSON report (also written to data/bench-latest.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
SERVICES=$(mktemp -d /tmp/genegate-bench-XXXXXX)
chmod 755 "$SERVICES"
cleanup() { scripts/services.sh stop "$SERVICES" || true; rm -rf "$SERVICES"; }
trap cleanup EXIT INT TERM
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port); PG_PORT=$(free_port)
scripts/services.sh start-redis "$SERVICES/redis" "$REDIS_PORT"
scripts/services.sh start-postgres "$SERVICES/pg" "$PG_PORT"
export GENEGATE_BENCH=1 GENEGATE_DEBUG=0 GENEGATE_REQUIRE_2FA=0 SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0
export SECRET_KEY=${SECRET_KEY:-bench-only-$(head -c 24 /dev/urandom | base64)}
export ALLOWED_HOSTS=127.0.0.1,localhost,testserver
export GENEGATE_DATA_DIR="$SERVICES/data"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DATABASE_URL="postgres://genegate@127.0.0.1:$PG_PORT/genegate"
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
mkdir -p data "$GENEGATE_DATA_DIR"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py bench --out data/bench-latest.json "$@"
