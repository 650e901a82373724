#!/usr/bin/env bash
# Rerunnable benchmark of rar_mine against Spark MLlib's FPGrowth and pyfim
# (see spark.py). Needs the set-up of scripts/setup.sh (run it first, or pass
# --setup) and Java 17.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/spark.py "$@"
