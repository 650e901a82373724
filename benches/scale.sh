#!/usr/bin/env bash
# Rerunnable scale benchmark (see scale.py): generated tables of 1 to 100
# million lines, parallel speed-up, per-segment mining, pyfim where it fits.
# Needs the set-up of scripts/setup.sh (run it first, or pass --setup), and
# about 8 GB of free disk for the 100-million-line table.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
exec python benches/scale.py "$@"
