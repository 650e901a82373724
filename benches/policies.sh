#!/usr/bin/env bash
# What the catalog's row-level security costs each kind of role on a
# database of many sources (see policies.py). Needs scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/policies.py "$@"
