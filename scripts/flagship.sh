#!/usr/bin/env bash
# Set up .venv (if needed), run the flagship scenario (a knowledge community over two years)
# with its figures, and write a strategy-review report. Output: results/flagship/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=results/flagship
.venv/bin/qunsim run configs/knowledge_community.toml --steps 730 --seed 1 --out "$out" --plots --force
.venv/bin/qunsim report "$out" --out "$out/report.html"
echo "open $out/report.html (figures in $out/figures/)"
