#!/usr/bin/env bash
# Rerunnable: the sequence model against the basket-only models (see sequence.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cargo build --release -p rar-model --example sequence_check
exec python3 benches/sequence.py "$@"
