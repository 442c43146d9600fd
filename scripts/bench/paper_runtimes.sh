#!/usr/bin/env bash
# Paper-size sudoku-att (6.83M parameters, untrained: speed and memory only): what the bench study
# (`trm-edge study paper-runtimes`) does not measure, one CPU-heavy job at a time (run it on a quiet machine):
#  - exports ONNX, ExecuTorch and TFLite fp32 programs (step, and --recursion net for the two XNNPACK
#    runtimes) into build/paper_runtimes/, each timed;
#  - scripts/bench/runtime_memory.py (memory added by load + one step, next to the file size);
#  - scripts/bench/gemm_backends.py (the step's GEMMs alone per runtime: kernels vs graph).
#   bash scripts/bench/paper_runtimes.sh              # writes results/paper/sudoku-att-runtimes/
set -euo pipefail
cd "$(dirname "$0")/../.."
ART=build/paper_runtimes
OUT=results/paper/sudoku-att-runtimes
mkdir -p "$ART" "$OUT"
CKPT=$ART/paper-sudoku-att.pt
[ -f "$CKPT" ] || python scripts/bench/paper_checkpoint.py sudoku-att "$CKPT"
export_one() {   # name, then export flags
  local name=$1; shift
  /usr/bin/time -f "export $name: %e s wall, %M KB peak" \
    trm-edge export "$CKPT" --parity-puzzles 0 --overwrite --out "$ART/$name" "$@" 2>&1 | grep -E "^export |^error|^delegation"
}
{
  export_one onnx --target onnx
  export_one executorch-step --target executorch
  export_one executorch-net --target executorch --recursion net
  export_one tflite-step --target tflite
  export_one tflite-net --target tflite --recursion net
} | tee "$OUT/exports.txt"
ALL=("$ART"/onnx "$ART"/executorch-step "$ART"/executorch-net "$ART"/tflite-step "$ART"/tflite-net)
python scripts/bench/runtime_memory.py "${ALL[@]}" 2>/dev/null | tee "$OUT/memory.txt"
python scripts/bench/gemm_backends.py "$CKPT" --threads 1,2 --json "$OUT/gemm.json" 2>/dev/null | tee "$OUT/gemm.txt"
