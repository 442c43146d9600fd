#!/usr/bin/env bash
# Export the trained default preset to every target and variant; print the parity table (results/default/parity.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${CKPT:-runs/sudoku4-tiny/checkpoint.pt}
ART=${ART:-artifacts}
P=(--overwrite --parity-puzzles 300)
ex() { local out=$1; shift; trm-edge export "$CKPT" --out "$ART/$out" "${P[@]}" --allow-parity-failure "$@"; }
mkdir -p "$ART"   # each export replaces only its own earlier artifact (--overwrite)
for target in onnx executorch tflite coreml; do
  for q in none int8; do ex "$target-step-$q" --target "$target" --quantize "$q"; done
done
ex onnx-step-int8-static --target onnx --quantize int8 --calibration 256
ex onnx-loop-none --target onnx --recursion loop --ort
ex executorch-step-int8-static --target executorch --quantize int8 --calibration 256
ex executorch-step-fp16 --target executorch --quantize fp16
ex executorch-net-none --target executorch --recursion net
ex tflite-net-none --target tflite --recursion net
ex executorch-coreml-step-none --target executorch --delegate coreml
ex executorch-coreml-step-int8 --target executorch --delegate coreml --quantize int8
ex coreml-step-palette4 --target coreml --quantize palette4
ex coreml-step-palette6 --target coreml --quantize palette6
ex coreml-stateful-none --target coreml --recursion stateful
python scripts/bench/parity_table.py "$ART"/* | tee results/default/parity.md
