#!/usr/bin/env bash
# Train the default preset (the README's `trm-edge train`) and keep its log: the README's training figure. The
# checkpoint it trains is the committed default model (models/sudoku4-tiny/), which the default studies measure.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p results/default models/sudoku4-tiny
start=$(date +%s)
trm-edge train --quiet --overwrite 2>&1 | grep -v -i warning | tee results/default/train_default.log
echo "wall clock: $(( $(date +%s) - start )) s" | tee -a results/default/train_default.log
cp runs/sudoku4-tiny/train_log.jsonl results/default/train_default_log.jsonl
cp runs/sudoku4-tiny/checkpoint.pt runs/sudoku4-tiny/train_log.jsonl models/sudoku4-tiny/
cp results/default/train_default.log models/sudoku4-tiny/train.log
