#!/usr/bin/env bash
# Bench rows at real scale (the real-scale issue, item 5), one CPU-heavy job at a time:
#  - the committed 9x9 model's step artifacts (fp32 and int8 of each runtime) beside PyTorch, 1 and 2 threads,
#    fixed and ACT halting, on held-out puzzles;
#  - the paper-size presets, untrained (speed and memory only), PyTorch at batch 1 and 4, 1 and 2 threads.
# Needs the artifacts of `python bench/sudoku9_report.py exports` under bench/results_sudoku9/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
ART=bench/results_sudoku9/artifacts
trm-edge bench "$ART"/onnx-step-none "$ART"/onnx-step-int8 "$ART"/executorch-step-none "$ART"/executorch-step-int8 \
  "$ART"/tflite-step-none "$ART"/tflite-step-int8 --checkpoint models/sudoku9/checkpoint.pt \
  --threads 1,2 --halting fixed,act --puzzles 100 --large-batch 8 --repeats 32 --out bench/results_sudoku9/bench
for preset in sudoku-mlp sudoku-att maze-att; do
  python bench/paper_checkpoint.py "$preset" "/tmp/paper-$preset.pt"
  trm-edge bench --checkpoint "/tmp/paper-$preset.pt" --threads 1,2 --halting fixed --puzzles 4 --large-batch 4 \
    --repeats 16 --out "bench/results_paper/$preset"
done
