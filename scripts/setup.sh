#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install qunsim with its dev extras (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=""
for cand in python3.12 python3.13 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    PY=$cand; break
  fi
done
if [ -z "$PY" ]; then echo "qunsim needs Python >= 3.12 (none found on PATH)" >&2; exit 1; fi
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[dev]"
# The dashboard's browser test drives Debian's chromium; install it when missing and we can
# (root with apt-get, as in CI). Quiet; a failure here only leaves that test without a browser.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing chromium for the dashboard's browser test" >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; then
    echo "setup: could not install chromium (apt-get failed)" >&2
  fi
fi
