#!/usr/bin/env bash
# Train the default preset (the README's `trm-edge train`) and keep its log: the README's training figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p results/default
start=$(date +%s)
trm-edge train --quiet --overwrite 2>&1 | grep -v -i warning | tee results/default/train_default.log
echo "wall clock: $(( $(date +%s) - start )) s" | tee -a results/default/train_default.log
cp runs/sudoku4-tiny/train_log.jsonl results/default/train_default_log.jsonl
