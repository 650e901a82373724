#!/usr/bin/env bash
# Rerunnable latency benchmark of rar_recommend (see recommend.py). Needs
# scripts/setup.sh, and benches/mine.sh once (it loads the bench tables).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/recommend.py "$@"
