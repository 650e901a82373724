#!/usr/bin/env bash
# What a session runs on a lent GPU machine (NVIDIA, with PyTorch and no
# network), from the repository root, after benches/device_bundle.sh filled
# .device/ here: the GPU check (benches/gpu.sh with the prebuilt binaries,
# against the machine's own libtorch) and the thread scaling of the mining
# core (benches/threads_core.py, 1 to 16 threads, pyfim's eclat beside it
# when its source builds there). Results go to $OUT (or /tmp/rar_device).
#
#   benches/device_run.sh [EPOCHS]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/rar_device}
mkdir -p "$out"
torch=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
export LD_LIBRARY_PATH=$torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
python3 -c "import torch; print('python torch', torch.__version__, 'cuda', torch.cuda.is_available())"
nproc
ldd .device/gpu_check | grep -E "not found|torch|c10" || true
# pyfim from source, if the machine has a compiler and Python's headers.
if python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/site .device/pyfim-*.tar.gz >/tmp/pyfim.log 2>&1; then
  export PYTHONPATH=/tmp/site
else
  echo "pyfim did not build here (eclat left out):"; tail -3 /tmp/pyfim.log
fi
GPU_CHECK=.device/gpu_check MODEL_TESTS=.device/train_tests RESULTS=$out timeout "${GPU_TIMEOUT:-420}" benches/gpu.sh "${1:-3}"
echo "== thread scaling of the mining core"
timeout "${THREADS_TIMEOUT:-150}" python3 benches/threads_core.py .device/or.csv --exe .device/mine_csv \
  --json "$out/threads_device.json" 2>&1 | tee "$out/threads.txt"
