#!/usr/bin/env bash
# Rerunnable benchmark of rar_clean (see clean.py). Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/clean.py "$@"
