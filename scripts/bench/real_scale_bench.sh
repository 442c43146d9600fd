#!/usr/bin/env bash
# Bench rows at real scale, one CPU-heavy job at a time (run it on a quiet machine):
#  - the committed 9x9 model: fp32 and int8 step artifacts of each runtime beside PyTorch, 1 and 2 threads,
#    fixed and ACT halting, on 100 held-out puzzles (exported first into build/real_scale/, each export timed);
#  - the paper-size presets, untrained (speed and memory only; their accuracy means nothing): PyTorch at
#    batch 1 and 4, 1 and 2 threads, fixed 16 steps on 4 puzzles.
#   bash scripts/bench/real_scale_bench.sh            # writes results/sudoku9/bench and results/paper/<preset>
set -euo pipefail
cd "$(dirname "$0")/../.."
ART=build/real_scale
mkdir -p "$ART"
CKPT=models/sudoku9/checkpoint.pt
export_one() {   # name, then export flags
  local name=$1; shift
  /usr/bin/time -f "export $name: %e s wall, %M KB peak" \
    trm-edge export "$CKPT" --parity-puzzles 0 --overwrite --out "$ART/$name" "$@" 2>&1 | grep -E "^export |^error"
}
export_one onnx-fp32 --target onnx
export_one onnx-int8-weights --target onnx --quantize int8 --int8-scheme weights
export_one executorch-fp32 --target executorch
export_one executorch-int8 --target executorch --quantize int8
export_one tflite-fp32 --target tflite
export_one tflite-int8 --target tflite --quantize int8
trm-edge bench "$ART"/onnx-fp32 "$ART"/onnx-int8-weights "$ART"/executorch-fp32 "$ART"/executorch-int8 \
  "$ART"/tflite-fp32 "$ART"/tflite-int8 --checkpoint "$CKPT" \
  --threads 1 --threads 2 --halting fixed,act --puzzles 100 --large-batch 8 --repeats 32 --budget-s 10 \
  --out results/sudoku9/bench
for preset in sudoku-mlp sudoku-att maze-att; do
  python scripts/bench/paper_checkpoint.py "$preset" "$ART/paper-$preset.pt"
  trm-edge bench --checkpoint "$ART/paper-$preset.pt" --threads 1 --threads 2 --halting fixed --puzzles 4 --large-batch 4 \
    --repeats 16 --budget-s 20 --out "results/paper/$preset"
done
