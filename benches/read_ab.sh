#!/usr/bin/env bash
# Paired timing of the read path with two builds of rar.so (see read_ab.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/read_ab.py "$@"
