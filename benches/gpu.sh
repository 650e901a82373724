#!/usr/bin/env bash
# The GPU check: trains each architecture on Online Retail and on the
# Instacart sample on the CPU and on CUDA in the same run, with the same
# settings, and prints per run the device, seconds per epoch, training
# baskets per second, recall@10 on the validation baskets, the GPU speed-up,
# and the peak GPU memory the run took (nvidia-smi sampled every 100 ms,
# less what was in use before it). Then, when given, it runs rar-model's
# training tests on CUDA (RAR_TEST_DEVICE=cuda). Needs no PostgreSQL; CI
# never runs it (the CPU path is the one the tests check).
#
#   benches/gpu.sh [EPOCHS]
#
# GPU_CHECK   a prebuilt gpu_check example (benches/device_bundle.sh builds
#             one); without it, it is built here against the venv's libtorch
# MODEL_TESTS a prebuilt rar-model `train` test binary to run on CUDA
# RESULTS     where gpu.txt goes (default benches/results)
set -uo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
results=${RESULTS:-benches/results}
mkdir -p "$results"
if [ -z "${GPU_CHECK:-}" ]; then
  venv=${RAR_VENV:-/opt/rar/venv}
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch==2.13.0
  fi
  export PATH=$venv/bin:$PATH LIBTORCH_USE_PYTORCH=1
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  cargo build --release -p rar-model --example gpu_check || exit 1
  GPU_CHECK=target/release/examples/gpu_check
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import csv, gzip, sys
out = sys.argv[1]
with gzip.open("data/online_retail.csv.gz", "rt", encoding="utf-8") as f, open(f"{out}/online_retail.csv", "w") as o:
    w = csv.writer(o); w.writerow(["invoice", "item"])
    for r in csv.DictReader(f):
        if int(r["Quantity"]) > 0 and not r["InvoiceNo"].startswith("C"):
            w.writerow([r["InvoiceNo"], r["StockCode"]])
with gzip.open("data/instacart/order_products_sample.csv.gz", "rt") as f, open(f"{out}/instacart.csv", "w") as o:
    w = csv.writer(o); w.writerow(["order", "product"])
    for r in csv.DictReader(f):
        w.writerow([r["order_id"], r["product_id"]])
PY
gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$results/gpu.txt"
fi
for data in online_retail instacart; do
  for model in mlp autoencoder transformer; do
    echo "== $data, $model, $epochs epochs" | tee -a "$results/gpu.txt"
    if [ $gpu = 1 ]; then
      base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
      nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$tmp/mem" &
      sampler=$!
    fi
    MODELS=$model "$GPU_CHECK" "$tmp/$data.csv" "$epochs" 2>&1 | tee -a "$results/gpu.txt"
    if [ $gpu = 1 ]; then
      kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
      peak=$(sort -n "$tmp/mem" | tail -1)
      echo "$data $model: peak GPU memory $((peak - base)) MiB above the $base MiB in use before" | tee -a "$results/gpu.txt"
    fi
  done
done
if [ -n "${MODEL_TESTS:-}" ]; then
  echo "== rar-model's training tests with RAR_TEST_DEVICE=cuda" | tee -a "$results/gpu.txt"
  RAR_TEST_DEVICE=cuda RAR_DATA_DIR=$PWD/data "$MODEL_TESTS" --test-threads=1 --nocapture 2>&1 | tee -a "$results/gpu.txt"
fi
