"""Regenerate the JVM tests' fixtures from the Python side, so both codecs and the metadata stay in step.

    python android_demo/core/make_fixtures.py ARTIFACT_DIR
"""
import json
import shutil
import sys
from pathlib import Path


from trm_edge.data import maze, sudoku

out = Path(__file__).parent / "src" / "test" / "resources"
out.mkdir(parents=True, exist_ok=True)
artifact = Path(sys.argv[1])
shutil.copy(artifact / "metadata.json", out / "metadata.json")
shutil.copy(artifact / "init_state.f32", out / "init_state.f32")
cases = []
for puzzle, solution in sudoku.generate(3, 4, seed=7) + sudoku.generate(1, 9, difficulty=0.5, seed=7):
    text = "".join("." if d == 0 else str(d) for d in puzzle.ravel())
    cases.append({"kind": "sudoku", "text": text, "tokens": sudoku.encode(puzzle).tolist()})
for grid, _ in maze.generate(1, 7, seed=7):
    cases.append({"kind": "maze", "text": maze.to_text(grid), "tokens": grid.reshape(-1).tolist()})
(out / "codec_cases.json").write_text(json.dumps(cases, indent=1))
print(f"wrote fixtures to {out}")
