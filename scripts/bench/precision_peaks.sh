#!/usr/bin/env bash
# The committed 9x9 model's fp32 and int8 artifacts on one core, each measured against the GEMM peak of what its
# math computes in (ONNX's default int8 dequantizes its weights at load: fp32; ExecuTorch's XNNPACK int8: int8),
# in throughput mode beside the official evaluation, on 200 minimal puzzles; then where one ExecuTorch int8 step
# spends its time, per kind of XNNPACK op (ETDump), at batch 1 and at batch 8 (eight puzzles or copies a call: does
# a larger M raise the GEMMs' rate?). Writes results/precision-peaks/.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for spec in "onnx none" "onnx int8" "executorch int8"; do
    set -- $spec
    trm-edge --quiet export models/sudoku9/checkpoint.pt --target "$1" --quantize "$2" --parity-puzzles 0 \
        --out "$WORK/sudoku9-$1-$2"
done
trm-edge --quiet export models/sudoku9/checkpoint.pt --target executorch --quantize int8 --batch 8 \
    --parity-puzzles 0 --out "$WORK/sudoku9-executorch-int8-b8"
taskset -c 0 trm-edge bench "$WORK"/sudoku9-onnx-none "$WORK"/sudoku9-onnx-int8 "$WORK"/sudoku9-executorch-int8 \
    --throughput --threads 1 --halting stable-2 --band minimal --puzzles 200 --out results/precision-peaks
taskset -c 0 python scripts/bench/executorch_profile.py "$WORK"/sudoku9-executorch-int8 --calls 30 --by-kind \
    2>/dev/null > results/precision-peaks/executorch_int8_profile.txt
taskset -c 0 python scripts/bench/executorch_profile.py "$WORK"/sudoku9-executorch-int8-b8 --calls 30 --by-kind \
    2>/dev/null > results/precision-peaks/executorch_int8_batch8_profile.txt
