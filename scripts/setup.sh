#!/usr/bin/env bash
# Idempotent set-up for `make run` and `make test`: Debian packages (apt-get when root,
# otherwise the exact command is printed), the virtualenv with pinned packages, npm ci,
# and migrations. Each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p data

# 1. Debian packages. Versions are discovered, never hard-coded (Debian 12 or 13).
APT_PACKAGES=(redis-server postgresql chromium poppler-utils fonts-dejavu-core
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 python3-venv nodejs npm wrk)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node and npm may come from elsewhere than Debian (e.g. NodeSource): accept any working npm.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
# python3-venv is only needed when `python3 -m venv` does not work already.
if python3 -m venv --help >/dev/null 2>&1; then missing=("${missing[@]/python3-venv}"); fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# 2. Python: the newest python3 that is 3.11 or later.
PY=""
for cand in python3.14 python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PY=$(command -v "$cand"); break
  fi
done
[ -n "$PY" ] || { echo "setup: Python 3.11 or newer is required" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned Python packages"
  # (grep drops pip's notes about local index folders some machines configure and lack)
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
  .venv/bin/python -m pip install -q -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither" || true
  .venv/bin/python -c "import django, celery, weasyprint, playwright" || { echo "setup: pip install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi

# 3. Front-end assets from the npm registry (package-lock.json), served as static files.
want_npm=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$want_npm" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_npm" > node_modules/.lock.sha256
fi
echo "setup: ok ($($ROOT/.venv/bin/python --version))"
