#!/usr/bin/env bash
# Rerunnable held-out quality benchmark (see quality.py): exact, neural and
# hybrid rules, the model and popularity on Online Retail and Instacart.
# Needs the set-up of scripts/setup.sh (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/quality.py "$@"
