#!/usr/bin/env bash
# Builds, on the project's machine, what benches/device_run.sh needs on a lent
# GPU machine that has no Rust toolchain, no network and its own PyTorch:
# .device/ (ignored by git, carried to the machine) gets
#   gpu_check, train_tests  rar-model's GPU check and training tests, built
#                           with the tch release for the lent machine's
#                           libtorch (torch 2.11.0 there: tch 0.24.0; the
#                           extension itself is built with tch 0.26 against
#                           libtorch 2.13.0) and linked against that libtorch,
#                           which the machine provides at run time
#   mine_csv                the pure mining core (no libtorch)
#   or.csv                  the cleaned Online Retail lines of the bench database
#   pyfim-*.tar.gz          pyfim's source, built there if it can be
#
#   benches/device_bundle.sh [TORCH_VERSION [TCH_VERSION]]
set -euo pipefail
cd "$(dirname "$0")/.."
torch_version=${1:-2.11.0}
tch_version=${2:-0.24.0}
root=$PWD
work=${DEVICE_BUILD:-/tmp/rar_device_build}
mkdir -p "$work/torch" .device
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
. scripts/env.sh
# libtorch for linking: the PyPI wheel's headers and libraries (no CUDA
# libraries needed to link; the machine has them).
if [ ! -f "$work/torch/torch/lib/libtorch_cpu.so" ]; then
  "$RAR_VENV/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 -d "$work/torch" "torch==$torch_version"
  (cd "$work/torch" && unzip -q -o torch-*.whl 'torch/include/*' 'torch/lib/*' 'torch/share/*')
fi
# A copy of the two pure crates with tch pinned to the release for that libtorch.
rm -rf "$work/src" && mkdir -p "$work/src/crates"
cp -r crates/rar-core crates/rar-model "$work/src/crates/"
cp Cargo.lock "$work/src/"
printf '[workspace]\nmembers = ["crates/rar-core", "crates/rar-model"]\nresolver = "2"\n[profile.release]\npanic = "unwind"\nopt-level = 3\nlto = "thin"\n' >"$work/src/Cargo.toml"
sed -i "s/^tch = .*/tch = \"=$tch_version\"/; s/^torch-sys = .*/torch-sys = \"=$tch_version\"/" "$work/src/crates/rar-model/Cargo.toml"
(
  cd "$work/src"
  unset LIBTORCH_USE_PYTORCH
  export CARGO_TARGET_DIR=$work/target LIBTORCH=$work/torch/torch LIBTORCH_BYPASS_VERSION_CHECK=1
  # libtorch_cuda's own CUDA libraries are resolved on the GPU machine.
  export RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined"
  cargo build --release -p rar-model --example gpu_check
  cargo build --release -p rar-core --example mine_csv
  cargo test --release -p rar-model --test train --no-run 2>&1 | tee "$work/tests.log"
)
cp "$work/target/release/examples/gpu_check" "$work/target/release/examples/mine_csv" .device/
tests=$(grep -o 'target/release/deps/train-[0-9a-f]*' "$work/tests.log" | tail -1)
cp "$work/$tests" .device/train_tests
psql -d rar_bench -c "\\copy (SELECT invoice_no, stock_code FROM online_retail_sales) TO '$root/.device/or.csv' WITH (FORMAT csv, HEADER true)"
"$RAR_VENV/bin/pip" download -q --no-deps --no-binary=:all: -d .device pyfim
strip .device/gpu_check .device/mine_csv .device/train_tests || true
ls -la .device
