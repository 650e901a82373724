#!/usr/bin/env bash
# Rerunnable Citus benchmark (see citus.py): one server against a coordinator
# with two workers on this machine. Builds Citus from ../shared/citus when it
# is not installed (or set RAR_CITUS_SRC). Needs the set-up of
# scripts/setup.sh (run it first, or pass --setup).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--setup" ] && { shift; ./scripts/setup.sh --no-demo; }
. scripts/env.sh
for d in "${RAR_CITUS_SRC:-}" ./shared/citus ../shared/citus /work/shared/citus; do
  if [ -n "$d" ] && [ -f "$d/build.sh" ]; then bash "$d/build.sh"; break; fi
done
exec python benches/citus.py "$@"
