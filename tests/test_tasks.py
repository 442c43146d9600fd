"""The task registry: a new puzzle task is one module, and solve and export see it without being told."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.data.puzzles import DatasetMeta, PuzzleSet
from trm_edge.datasets.splits import DataSpec, load_splits
from trm_edge.tasks import Task, get_task, register_task, task_names


class Flip(Task):
    """A made-up task: a grid of light (L) and dark (D) cells; the answer turns every cell over."""

    name = "flip-test"

    def encode(self, grid):
        return grid.reshape(-1).astype(np.int64)

    def decode(self, tokens, side):
        return np.asarray(tokens).reshape(side, side)

    def meta(self, side, count):
        return DatasetMeta(vocab_size=3, seq_len=side * side, total_groups=count, total_puzzles=count,
                           task=self.name, grid_shape=(side, side))

    def codec(self):
        return {"pad": 0, "light": 1, "dark": 2}

    def parse(self, text, side):
        cells = text.strip()
        if len(cells) != side * side or set(cells) - set("LD"):
            raise ValueError(f"a flip puzzle is {side * side} letters L or D")
        return np.array([1 if ch == "L" else 2 for ch in cells]).reshape(side, side)

    def to_text(self, grid):
        return "".join("L" if v == 1 else "D" for v in grid.reshape(-1))

    def check(self, puzzle, answer):
        return bool(np.array_equal(answer, 3 - puzzle)), True

    def cell(self, puzzle, answer, r, c):
        return ("L" if answer[r, c] == 1 else "D"), False

    def generate(self, spec, count, seed):
        grids = np.random.default_rng(seed).integers(1, 3, (count, spec.grid_size ** 2))
        return PuzzleSet(grids, 3 - grids, np.zeros(count, dtype=np.int64), self.meta(spec.grid_size, count))


@pytest.fixture(scope="module")
def flip_checkpoint(tmp_path_factory):
    from trm_edge.train import get_preset, train

    register_task(Flip())
    preset = get_preset("sudoku4-tiny")
    spec = DataSpec(task="flip-test", grid_size=4, train_puzzles=300, test_puzzles=50)
    out = tmp_path_factory.mktemp("flip")
    cfg = dataclasses.replace(preset.train, steps=150, eval_every=150, eval_puzzles=50)
    return train(spec, cfg, out, device="cpu", progress=False).checkpoint


def test_the_built_in_tasks_are_registered_and_a_typo_names_them():
    assert {"sudoku", "maze", "arc"} <= set(task_names())
    with pytest.raises(ValueError, match="unknown task 'sudok'.*sudoku"):
        get_task("sudok")
    with pytest.raises(ValueError, match="unknown task"):
        load_splits(DataSpec(task="sudok"))   # a data spec is read by its task when its puzzles are


def test_a_task_defined_in_one_module_goes_through_solve_and_export(flip_checkpoint, tmp_path):
    runner = CliRunner()
    solved = runner.invoke(app, ["solve", str(flip_checkpoint), "LLDDLDLDDDLLLDLD", "--json"])
    assert solved.exit_code in (0, 1), solved.output
    answer = json.loads(solved.output)
    assert answer["puzzle"] == "LLDDLDLDDDLLLDLD" and len(answer["answer"]) == 16   # the task's own text form
    assert answer["valid"] == (answer["answer"] == "DDLLDLDLLLDDDLDL")           # checked by the task's rules

    out = tmp_path / "flip-onnx"
    exported = runner.invoke(app, ["export", str(flip_checkpoint), "--target", "onnx", "--out", str(out),
                                   "--parity-puzzles", "8"])
    assert exported.exit_code == 0, exported.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["task"] == "flip-test" and meta["token_codec"] == {"pad": 0, "light": 1, "dark": 2}
    again = runner.invoke(app, ["solve", str(out), "LLDDLDLDDDLLLDLD", "--json"])
    assert json.loads(again.output)["answer"] == answer["answer"]


def test_bad_puzzle_text_is_refused_by_the_task(flip_checkpoint):
    result = CliRunner().invoke(app, ["solve", str(flip_checkpoint), "LLXX"])
    assert result.exit_code == 2 and "16 letters L or D" in result.output


def test_a_maze_answer_is_any_shortest_path_and_generated_mazes_have_one():
    """The rules accept every shortest S-G route (not only the one BFS found first), and the generator keeps only
    mazes whose shortest path is unique, so the label is the only right answer."""
    from trm_edge.data import maze

    task = get_task("maze")
    grid = maze.from_text("#######" "#S   ##" "# ## ##" "#    G#" "#######" "#######" "#######", 7)
    assert maze.shortest_path_count(grid) == (6, 2)
    for route in ([(1, 2), (1, 3), (1, 4), (2, 4), (3, 4)], [(2, 1), (3, 1), (3, 2), (3, 3), (3, 4)]):
        answer = grid.copy()
        for cell in route:
            answer[cell] = maze.PATH
        assert task.check(grid, answer) == (True, True)
        answer[3, 3 if route[0] == (1, 2) else 2] = maze.OPEN if route[0] != (1, 2) else maze.PATH   # break it
        assert task.check(grid, answer)[0] is False
    assert all(maze.shortest_path_count(g)[1] == 1 for g, _ in maze.generate(40, 11, seed=1))
