#!/usr/bin/env bash
# Rerunnable benchmark of rar_mine across a product hierarchy, beside plain
# mining and pyfim (see hierarchy.py). Needs the set-up of scripts/setup.sh
# (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/hierarchy.py "$@"
