#!/usr/bin/env bash
# Rerunnable benchmark of rar_train against PyTorch in Python (see train.py).
# Needs scripts/setup.sh, and benches/mine.sh once (it loads the bench tables).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
exec python benches/train.py "$@"
