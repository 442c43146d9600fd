#!/usr/bin/env bash
# Continue the harder-puzzle 9x9 run (preset sudoku9-hard: the sudoku9 network on 17-34-given puzzles, most of
# them minimal) from the committed checkpoint, then copy the checkpoint and its logs back into models/sudoku9-hard/.
# It was started from models/sudoku9/checkpoint.pt (step 12000); each session continues it with --resume.
#   STEPS=30000 bash scripts/train_sudoku9_hard.sh      # train until global step 30000 (the preset's end: 60000)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-${TRM_EDGE_CACHE:-$HOME/.cache/trm-edge}/runs/sudoku9-hard}
# resume the run folder's own checkpoint when it has one (a later session on this machine), else the committed one
if [ -e "$RUN/checkpoint.pt" ]; then FROM=${FROM:-$RUN/checkpoint.pt}; else FROM=${FROM:-models/sudoku9-hard/checkpoint.pt}; fi
[ "$FROM" -ef "$RUN/checkpoint.pt" ] || [ ! -e "$RUN/checkpoint.pt" ] || { echo "$RUN holds another run: set RUN"; exit 2; }
mkdir -p "$RUN"
trm-edge train --preset sudoku9-hard --resume "$FROM" --out "$RUN" --quiet ${STEPS:+--steps "$STEPS"} 2>&1 \
  | tee -a models/sudoku9-hard/train.log
cp "$RUN/checkpoint.pt" models/sudoku9-hard/checkpoint.pt
python3 - "$RUN/train_log.jsonl" models/sudoku9-hard/train_log.jsonl <<'PY'
import json, sys
new, kept = sys.argv[1], sys.argv[2]
rows = {json.loads(l)["step"]: l for path in (kept, new) for l in open(path) if l.strip()}   # one line per step
open(kept, "w").writelines(rows[s] if rows[s].endswith("\n") else rows[s] + "\n" for s in sorted(rows))
PY
