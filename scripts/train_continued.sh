#!/usr/bin/env bash
# Train a committed model over several sessions: models/<PRESET>/ holds its checkpoint and logs, and each call
# continues it with --resume (the run folder's own checkpoint when this machine has one, else the committed one,
# else a fresh start), then copies the checkpoint and its logs back into models/<PRESET>/.
#   STEPS=30000 bash scripts/train_continued.sh sudoku9-hard   # until global step 30000 (the preset's end: 60000)
#   STEPS=2000 bash scripts/train_continued.sh maze-small      # the 11x11 maze model, 2000 steps at a time
# sudoku9-hard was started from models/sudoku9/checkpoint.pt (step 12000), sudoku9-deep from models/sudoku9-hard
# (step 30000, same weights at T=4, n=1): FROM=... picks the first checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:?usage: train_continued.sh PRESET}
MODEL=models/$PRESET
RUN=${RUN:-${TRM_EDGE_CACHE:-$HOME/.cache/trm-edge}/runs/$PRESET}
if [ -e "$RUN/checkpoint.pt" ]; then FROM=${FROM:-$RUN/checkpoint.pt}
elif [ -e "$MODEL/checkpoint.pt" ]; then FROM=${FROM:-$MODEL/checkpoint.pt}
else FROM=${FROM:-}; fi
[ -z "$FROM" ] || [ "$FROM" -ef "$RUN/checkpoint.pt" ] || [ ! -e "$RUN/checkpoint.pt" ] \
  || { echo "$RUN holds another run: set RUN"; exit 2; }
mkdir -p "$RUN" "$MODEL"
start=$(date +%s)
trm-edge train --preset "$PRESET" ${FROM:+--resume "$FROM"} --out "$RUN" --quiet ${STEPS:+--steps "$STEPS"} 2>&1 \
  | tee -a "$MODEL/train.log"
echo "wall clock of this run: $(( $(date +%s) - start )) s" | tee -a "$MODEL/train.log"
cp "$RUN/checkpoint.pt" "$MODEL/checkpoint.pt"
touch "$MODEL/train_log.jsonl"
python3 - "$RUN/train_log.jsonl" "$MODEL/train_log.jsonl" <<'PY'
import json, sys
new, kept = sys.argv[1], sys.argv[2]
rows = {json.loads(l)["step"]: l for path in (kept, new) for l in open(path) if l.strip()}   # one line per step
open(kept, "w").writelines(rows[s] if rows[s].endswith("\n") else rows[s] + "\n" for s in sorted(rows))
PY
