#!/usr/bin/env bash
# `make run`: set up, load demo data, start Redis, a Celery worker and beat, the MLLP results
# listener (loopback, port GENEGATE_MLLP_PORT, default 2575) and the web server at
# http://127.0.0.1:8000. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export GENEGATE_DEBUG=${GENEGATE_DEBUG:-1}
# The product's own 404/500 pages; GENEGATE_DEBUG_PAGES=1 make run shows Django's debug pages.
export GENEGATE_DEBUG_PAGES=${GENEGATE_DEBUG_PAGES:-0}
# Two-factor sign-in is on in production; the demo turns it off so the demo logins work at once.
export GENEGATE_REQUIRE_2FA=${GENEGATE_REQUIRE_2FA:-0}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6390/0}
export EMAIL_BACKEND=${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
MLLP_HOST=${GENEGATE_MLLP_HOST:-127.0.0.1}
MLLP_PORT=${GENEGATE_MLLP_PORT:-2575}
PAS_PORT=${GENEGATE_DEMO_PAS_PORT:-8765}
export GENEGATE_DEMO_PAS_URL=${GENEGATE_DEMO_PAS_URL:-http://127.0.0.1:$PAS_PORT/fhir}
# The demo asks a pended payer again every minute (production default: 15 minutes).
export PAS_INQUIRY_SECONDS=${PAS_INQUIRY_SECONDS:-60}
export PAS_SWEEP_SECONDS=${PAS_SWEEP_SECONDS:-60}
PY=.venv/bin/python
SERVICES=data/services
pids=()

cleanup() {
  trap - INT TERM EXIT
  echo; echo "run: stopping worker, beat, MLLP listener, PAS test payer and Redis"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  scripts/services.sh stop "$SERVICES"
}
trap cleanup INT TERM EXIT

redis_port=$(echo "$REDIS_URL" | sed -E 's#.*:([0-9]+)/?.*#\1#')
scripts/services.sh start-redis "$SERVICES" "$redis_port"
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo

$PY -m celery -A config worker --loglevel=INFO --concurrency=2 -n "genegate@%h" > data/worker.log 2>&1 &
pids+=($!)
$PY -m celery -A config beat --loglevel=INFO --schedule data/celerybeat-schedule > data/beat.log 2>&1 &
pids+=($!)
# HL7 v2 results over MLLP into the results inbox (monitoring/inbox/mllp.py); messages whose
# MSH-6 names no site go to Northfield (NCH), the demo's main site.
# Two listener processes share the port (the machine's two cores; GENEGATE_MLLP_WORKERS to change).
$PY manage.py mllp_listener --host "$MLLP_HOST" --port "$MLLP_PORT" --site NCH \
  --workers "${GENEGATE_MLLP_WORKERS:-2}" > data/mllp.log 2>&1 &
pids+=($!)
# A Da Vinci PAS test payer on loopback (demo/pas_payer.py): the demo's "State Medicaid" sends its
# electronic prior authorizations here (pended first, approved when GeneGate asks again).
$PY -m demo.pas_payer --host 127.0.0.1 --port "$PAS_PORT" > data/pas_payer.log 2>&1 &
pids+=($!)

cat <<MSG

  GeneGate is starting at http://127.0.0.1:8000
  Demo logins (password: GeneGate-demo-2026):
    coordinator, physician, billing, manager   (Northfield Children's Hospital)
    outsider                                   (coordinator at Lakeshore Pediatric Center)
    admin                                      (both sites, Django admin at /admin/)
  Two-factor sign-in is OFF for this demo (GENEGATE_REQUIRE_2FA=0); it is on in production.
  Worker and beat logs: data/worker.log, data/beat.log. E-mails: data/mail/
  (the demo's due reminders go out with the first beat sweep, about 5 minutes after start).
  HL7 v2 results listener (MLLP): $MLLP_HOST:$MLLP_PORT (log data/mllp.log). Send a sample:
    .venv/bin/python manage.py mllp_send --port $MLLP_PORT demo/samples/nch-liver.hl7
  Da Vinci PAS test payer: $GENEGATE_DEMO_PAS_URL (log data/pas_payer.log). A State Medicaid case
  sends its prior authorization electronically from its "Electronic prior authorization" page.
  Press Ctrl-C to stop everything.

MSG
# The web server runs in the foreground so Ctrl-C reaches it; the EXIT trap then stops the
# worker, beat and Redis (background jobs of a script ignore Ctrl-C themselves).
$PY manage.py runserver 127.0.0.1:8000 || true
