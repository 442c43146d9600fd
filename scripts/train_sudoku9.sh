#!/usr/bin/env bash
# Regenerate the committed 9x9 model (models/sudoku9/): train the sudoku9 preset on this machine's CPU
# and copy the checkpoint and its logs into place. About 2 hours on a 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-runs/sudoku9}
mkdir -p models/sudoku9
start=$(date +%s)
trm-edge train --preset sudoku9 --out "$RUN" --overwrite --quiet "$@" 2>&1 | tee models/sudoku9/train.log
echo "wall clock: $(( $(date +%s) - start )) s" | tee -a models/sudoku9/train.log
cp "$RUN/checkpoint.pt" models/sudoku9/checkpoint.pt
cp "$RUN/train_log.jsonl" models/sudoku9/train_log.jsonl
