#!/usr/bin/env bash
# Export the trained default preset to every target in fp32 and int8 (step graphs); print the parity table.
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=${CKPT:-runs/sudoku4-tiny/checkpoint.pt}
ART=${ART:-artifacts}
for target in onnx executorch tflite coreml; do
  for q in none int8; do
    trm-edge export "$CKPT" --target "$target" --quantize "$q" --out "$ART/$target-step-$q" --overwrite --parity-puzzles 300
  done
done
trm-edge export "$CKPT" --target onnx --quantize int8 --calibration 256 --out "$ART/onnx-step-int8-static" --overwrite --parity-puzzles 300
trm-edge export "$CKPT" --target executorch --quantize int8 --calibration 256 --out "$ART/executorch-step-int8-static" --overwrite --parity-puzzles 300
python bench/parity_table.py "$ART"/* | tee bench/results/parity.md
