#!/usr/bin/env bash
# What rar.memory_limit charges against a call's measured peak (see budget.py).
# Needs the set-up of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/budget.py "$@"
