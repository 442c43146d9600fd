"""Regenerate the JVM tests' fixtures from the Python side, so both codecs, the puzzle views (tries) and the
metadata stay in step.

    python android_demo/core/make_fixtures.py [ARTIFACT_DIR]    # without it, the metadata files are kept
"""
import json
import shutil
import sys
from pathlib import Path


from trm_edge.data import maze, sudoku

out = Path(__file__).parent / "src" / "test" / "resources"
out.mkdir(parents=True, exist_ok=True)
if len(sys.argv) > 1:
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
views = []   # copies 0..9 of one puzzle per size: the text of each view, as Python makes it
for side in (4, 6, 9):
    puzzle = sudoku.generate(1, side, seed=11)[0][0]
    for copy in range(10):
        views.append({"kind": "sudoku", "side": side, "copy": copy, "puzzle": sudoku.to_text(puzzle),
                      "view": sudoku.to_text(sudoku.view(side, copy).apply(puzzle))})
grid = maze.generate(1, 7, seed=11)[0][0]
for copy in range(8):
    views.append({"kind": "maze", "side": 7, "copy": copy, "puzzle": maze.to_text(grid),
                  "view": maze.to_text(maze.view(7, copy).apply(grid))})
(out / "views.json").write_text(json.dumps(views, indent=1))
print(f"wrote fixtures to {out}")
