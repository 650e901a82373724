#!/usr/bin/env bash
# Rerunnable thread-scaling benchmark of exact mining (see threads.py).
# Needs the set-up of scripts/setup.sh (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/threads.py "$@"
