#!/usr/bin/env bash
# How often neural rules hold on test (see holding.py), with filters not shipped,
# against the exact rules, on three data sets' test splits.
# Needs the set-up of scripts/setup.sh (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/holding.py "$@"
