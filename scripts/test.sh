#!/usr/bin/env bash
# `make test`: set up, start a real PostgreSQL and a real Redis on loopback (stopped again on
# exit, by PID), and run the whole suite: unit, integration and browser tests (Debian's
# chromium driven by Playwright). Ends with pytest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

SERVICES=$(mktemp -d /tmp/genegate-test-XXXXXX)
chmod 755 "$SERVICES"
cleanup() {
  scripts/services.sh stop "$SERVICES" || true
  rm -rf "$SERVICES"
}
trap cleanup EXIT INT TERM

# Free ports, so a `make run` or another test run on this machine does not collide.
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
PG_PORT=$(free_port)
scripts/services.sh start-redis "$SERVICES/redis" "$REDIS_PORT"
scripts/services.sh start-postgres "$SERVICES/pg" "$PG_PORT"

export GENEGATE_TESTING=1
export GENEGATE_TEST_SERVICES="$SERVICES"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DATABASE_URL="postgres://genegate@127.0.0.1:$PG_PORT/genegate"
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium || command -v chromium-browser)}

.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -50; echo "ruff format: files need formatting" >&2; exit 1; }
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest exit 5 means "no tests collected": that is a failure for CI too.
exit $rc
