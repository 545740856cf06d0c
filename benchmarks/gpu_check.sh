#!/usr/bin/env bash
# The GPU check: run it whenever a GPU is lent (at most 8 minutes: each step has a limit and the whole a
# budget), then copy its summary's figures into the README and docs/gpu.md.
#
#   bash benchmarks/gpu_check.sh [SUMMARY_FILE]        (default: $OUT/gpu_check.txt, else ./gpu_check.txt)
#
# Needs a Python ($PYTHON, default .venv/bin/python, else python3) with this project installed
# ('.[dev]'), torch built for CUDA and faiss with GPU support (faiss-gpu-cu12). Steps, each bounded
# by `timeout` so one stuck step cannot eat the machine's time:
#   1. the device; 2. MULE parity with mule-torch on CUDA in fp32, then bf16 (tests/indexer/test_mule_parity.py);
#   3. MULE throughput, fp32 and bf16, at batch sizes 32, 128, 256, and against mule-torch on the same GPU
#      (benchmarks/bench_mule.py);
#   4. where a GPU build's time goes (benchmarks/bench_pipeline.py, 20 h of generated audio): decode per core against
#      FFmpeg's, the model alone, and the build's stage clock (which stage bounds it: the wait for decoders or the model);
#      then `indexer build` end to end vs the naive librosa + mule-torch loop (benchmarks/bench_build.py): the
#      x real-time figure that sizes a large catalog's build (docs/scale.md);
#   5. where faiss has GPU support: the faiss-gpu tests (tests/storage/test_gpu.py), the search benchmark at
#      300k vectors, GPU vs CPU, and the compressed index's build at 500k vectors, k-means on the GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
SUMMARY=${1:-${OUT:-.}/gpu_check.txt}
LOG=$(mktemp)
failures=0

BUDGET=${GPU_CHECK_SECONDS:-470}  # the whole check stays under 8 minutes: later steps shrink, or are skipped

step() {  # step NAME SECONDS COMMAND...: run it, keep its output, note pass/fail in the summary
    local name=$1 limit=$2
    shift 2
    local left=$((BUDGET - SECONDS))
    if [ "$left" -lt 20 ]; then
        echo "== $name: skipped (the check's ${BUDGET} s are spent)" | tee -a "$SUMMARY"
        failures=$((failures + 1))
        return
    fi
    [ "$limit" -le "$left" ] || limit=$left
    echo "== $name" | tee -a "$SUMMARY"
    local started=$SECONDS
    timeout "$limit" "$@" >"$LOG" 2>&1
    local rc=$?
    grep -v -e '^WARNING' -e 'warnings.warn' "$LOG" | tail -n 25 >>"$SUMMARY"
    echo "-- $name: exit $rc in $((SECONDS - started)) s" | tee -a "$SUMMARY"
    [ "$rc" -eq 0 ] || failures=$((failures + 1))
}

: >"$SUMMARY"
echo "soundalike GPU check, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >>"$SUMMARY"
step "device" 30 sh -c "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; \
    $PYTHON -c 'import torch, faiss; print(\"torch\", torch.__version__, \"cuda\", torch.cuda.is_available(), \
    torch.cuda.get_device_name(0) if torch.cuda.is_available() else \"-\"); print(\"faiss\", faiss.__version__, \
    \"gpus\", faiss.get_num_gpus() if hasattr(faiss, \"get_num_gpus\") else 0)'"
if ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
    echo "== no CUDA GPU visible to torch here: nothing to check" | tee -a "$SUMMARY"
    exit 2
fi
for precision in fp32 bf16; do
    step "MULE parity on CUDA, $precision" 90 env SOUNDALIKE_TEST_DEVICE=cuda SOUNDALIKE_TEST_PRECISION=$precision \
        "$PYTHON" -m pytest -q -p no:warnings tests/indexer/test_mule_parity.py
done
for batch in 32 128 256; do
    step "MULE throughput, batch $batch" 60 "$PYTHON" benchmarks/bench_mule.py --device cuda --batch-size "$batch" \
        --clips 30,60,150,300,300,300 --repeat 2 --skip-reference
done
step "MULE vs mule-torch on the GPU" 90 "$PYTHON" benchmarks/bench_mule.py --device cuda --clips 30,60,150,300 \
    --repeat 2
step "where a GPU build's time goes: 20 h of generated audio" 200 "$PYTHON" benchmarks/bench_pipeline.py \
    --generate 20 --device cuda --workers "$(nproc)" --decode-files 12
step "indexer build end to end on the GPU" 120 "$PYTHON" benchmarks/bench_build.py --device cuda --tracks 24 \
    --min 60 --max 240
# faiss-gpu wheels need CUDA 12's cuBLAS (hundreds of MB), which cannot always travel to a lent machine.
if ! "$PYTHON" -c 'import sys, faiss; sys.exit(not getattr(faiss, "get_num_gpus", lambda: 0)())' 2>/dev/null; then
    echo "== faiss has no GPU support here: faiss-gpu steps skipped" | tee -a "$SUMMARY"
    echo "== $failures step(s) failed" | tee -a "$SUMMARY"
    rm -f "$LOG"
    exit $((failures > 0))
fi
step "faiss-gpu tests" 60 "$PYTHON" -m pytest -q -p no:warnings tests/storage/test_gpu.py
step "search benchmark, 300k vectors" 120 "$PYTHON" benchmarks/bench_search.py --sizes 300000 --kinds approximate \
    --no-cli --queries 200
step "compressed index, 500k vectors" 120 "$PYTHON" benchmarks/bench_compressed.py --count 500000 --kinds pq \
    --queries 100
echo "== $failures step(s) failed" | tee -a "$SUMMARY"
rm -f "$LOG"
exit $((failures > 0))
