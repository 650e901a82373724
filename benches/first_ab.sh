#!/usr/bin/env bash
# Paired timing of the mining table's calls with two builds of rar.so (see first_ab.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/first_ab.py "$@"
