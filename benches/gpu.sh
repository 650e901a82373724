#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, builds the model library
# against the venv's libtorch 2.13.0 (the PyPI wheel is a CUDA build) and
# trains each architecture on Online Retail on the CPU and on CUDA, printing
# the device, the time per epoch and the speed-up. Needs no PostgreSQL; CI
# never runs it (the CPU path is the one the tests check).
#
#   benches/gpu.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RAR_VENV:-/opt/rar/venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0
fi
export PATH=$venv/bin:$PATH LIBTORCH_USE_PYTORCH=1
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
csv=$(mktemp --suffix=.csv)
python - "$csv" <<'PY'
import csv, gzip, sys
with gzip.open("data/online_retail.csv.gz", "rt", encoding="utf-8") as f, open(sys.argv[1], "w") as out:
    w = csv.writer(out); w.writerow(["invoice", "item"])
    for r in csv.DictReader(f):
        if int(r["Quantity"]) > 0 and not r["InvoiceNo"].startswith("C"):
            w.writerow([r["InvoiceNo"], r["StockCode"]])
PY
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
cargo run --release -p rar-model --example gpu_check -- "$csv" "${1:-3}"
