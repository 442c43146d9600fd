"""The committed maze model (models/maze7): it finds shortest paths in held-out generated mazes, exported and
solved through the command line like any puzzle, the maze printed as text."""
from __future__ import annotations


from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.export import export_checkpoint
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.runtime.reference import solve_with_model
from trm_edge.tasks import get_task
from conftest import MAZE7 as CHECKPOINT


def _solved(task, data, predictions) -> list[bool]:
    side = data.meta.grid_shape[0]
    return [task.check(task.decode(x, side), task.decode(p, side))[0] for x, p in zip(data.inputs, predictions)]


def test_committed_maze_model_finds_shortest_paths_in_held_out_mazes(tmp_path):
    """models/maze7/README.md states the accuracy on the 300 held-out mazes; 100 of them here, by the rules
    (any shortest path counts), through PyTorch and through its ONNX export."""
    ckpt = load_checkpoint(CHECKPOINT)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 100)
    maze = get_task("maze")
    ref = solve_with_model(ckpt.build_model(), data.inputs, data.puzzle_identifiers, halting="act")
    assert sum(_solved(maze, data, ref.predictions)) >= 80
    artifact = export_checkpoint(CHECKPOINT, "onnx", tmp_path / "onnx", parity_puzzles=0)
    art = load_runner(artifact).solve(data.inputs, data.puzzle_identifiers, halting="act")
    assert abs(sum(_solved(maze, data, art.predictions)) - sum(_solved(maze, data, ref.predictions))) <= 1
    side = data.meta.grid_shape[0]
    text = maze.to_text(maze.decode(data.inputs[0], side))
    rows = "\n".join(text[r * side:(r + 1) * side] for r in range(side))
    res = CliRunner().invoke(app, ["solve", str(artifact), "-", "--halting", "act", "--tries", "1"], input=rows + "\n")
    assert res.exit_code in (0, 1), res.output
    printed = res.stdout.splitlines()[:side]
    assert all(len(line) == side and set(line) <= set("# SGo") for line in printed), res.output
    assert ("NOT a valid solution" not in res.output) == _solved(maze, data, art.predictions[:1])[0], res.output
