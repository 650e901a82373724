#!/usr/bin/env bash
# What rar_track_changes costs writers and saves repeated mining (see tracking.py).
# Needs the set-up of scripts/setup.sh and the tables of benches/mine.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/tracking.py "$@"
