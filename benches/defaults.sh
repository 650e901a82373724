#!/usr/bin/env bash
# What the defaults give (see defaults.py): models trained with no params,
# against the exact rules and popularity, on three data sets' test splits.
# Needs the set-up of scripts/setup.sh (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/defaults.py "$@"
