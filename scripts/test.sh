#!/usr/bin/env bash
# Set up .venv (if needed) and run the whole test suite on all cores. Hypothesis runs with the
# derandomised "ci" profile (tests/conftest.py), so every run draws the same examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n auto -q --hypothesis-profile=ci "$@"
