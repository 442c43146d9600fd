#!/usr/bin/env bash
# On a CUDA machine: PyTorch fp32/bf16, eager and torch.compile, batch 1 and 64, beside the ONNX CPU row.
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${CKPT:-runs/sudoku4-tiny/checkpoint.pt}
trm-edge bench "${ART:-artifacts}/onnx-step-none" --checkpoint "$CKPT" --device cuda --threads 1 --threads 4 --halting fixed \
  --puzzles 100 --repeats 48 --out "${OUT:-results/h100}"
