"""`trm-edge solve`: one puzzle or a file of them, from a checkpoint or an artifact, with no torch for artifacts."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.datasets import DataSpec, load_split
from trm_edge.datasets.formats import write_csv
from conftest import NO_SOLUTION, SUDOKU9

BLOCK_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'executorch', 'coremltools', 'numba'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from trm_edge.cli import app
app(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def held_out(trained_checkpoint):
    from trm_edge.model.checkpoint import load_checkpoint

    spec = DataSpec.from_saved(load_checkpoint(trained_checkpoint).info["data_spec"])
    return load_split(spec, "test").subset(slice(0, 20))


def _text(tokens) -> str:
    return sudoku.to_text(sudoku.decode(tokens, 4))


def test_solve_one_puzzle_from_a_checkpoint_with_trace(trained_checkpoint, held_out):
    result = CliRunner().invoke(app, ["solve", str(trained_checkpoint), _text(held_out.inputs[0]), "--trace",
                                      "--halting", "fixed"])
    assert result.exit_code == 0, result.output
    assert "step 1:" in result.output and "step 8 (the answer):" in result.output   # every step shown
    assert result.output.count("givens in bold") == 1                                 # the legend, once
    assert sum(set(line) == {"-"} for line in result.output.splitlines()) == 8        # 8 grids: the answer once
    assert "8 supervision steps (halted by step limit)" in result.output
    assert "a valid solution that keeps every given" in result.output


def test_solve_runs_an_onnx_artifact_without_torch(onnx_artifact, held_out):
    """What an edge box with only numpy + onnxruntime runs: torch, numba, executorch cannot even be imported."""
    puzzle = _text(held_out.inputs[1])
    proc = subprocess.run([sys.executable, "-c", BLOCK_TORCH, "solve", str(onnx_artifact), puzzle, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["valid"] and out["keeps_givens"] and out["answer"] == _text(held_out.labels[1])
    assert out["halted_by"] in ("q_halt", "step limit") and 1 <= out["steps"] <= 8


def test_solve_a_file_scores_answers(onnx_artifact, held_out, tmp_path):
    write_csv(held_out, tmp_path / "p.csv")
    result = CliRunner().invoke(app, ["solve", str(onnx_artifact), "--file", str(tmp_path / "p.csv"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["puzzles"] == 20 and out["scored"] == 20 and out["exact_accuracy"] >= 0.9
    assert len(out["results"]) == 20 and all("correct" in r for r in out["results"])


@pytest.mark.parametrize("puzzle,phrase", [
    ("1234", "has 16 cells; this one has 4"),
    ("12x4" + "." * 12, "not cells of a 4x4 sudoku"),
    ("11.." + "." * 12, "row 1 has two 1s"),
    ("." * 81, "the model was trained on 4x4"),
])
def test_solve_bad_puzzles_get_one_line(trained_checkpoint, puzzle, phrase):
    result = CliRunner().invoke(app, ["solve", str(trained_checkpoint), puzzle])
    assert result.exit_code == 2 and phrase in result.output, result.output
    assert isinstance(result.exception, SystemExit)


def test_solve_file_with_a_bad_line_names_it(trained_checkpoint, tmp_path):
    (tmp_path / "p.txt").write_text("." * 16 + "\n" + "1" * 16 + "\n")
    result = CliRunner().invoke(app, ["solve", str(trained_checkpoint), "--file", str(tmp_path / "p.txt")])
    assert result.exit_code == 2 and "p.txt:2: contradictory givens" in result.output, result.output


def test_solve_says_when_the_puzzle_itself_has_no_solution_or_several():
    result = CliRunner().invoke(app, ["solve", str(SUDOKU9), NO_SOLUTION, "--tries", "1"])
    assert result.exit_code == 1 and "the puzzle has no solution, so no answer can pass the rules" in result.output
    result = CliRunner().invoke(app, ["solve", str(SUDOKU9), "." * 81, "--tries", "1"])
    assert "the puzzle has more than one solution" in result.output


def test_solve_file_names_the_lines_it_did_not_solve_and_times_each_puzzle_by_its_steps(tmp_path):
    easy = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
    (tmp_path / "p.txt").write_text(f"{easy}\n# a comment line\n{NO_SOLUTION}\n")
    args = ["solve", str(SUDOKU9), "--file", str(tmp_path / "p.txt"), "--tries", "1", "--halting", "valid",
            "--max-steps", "16"]
    result = CliRunner().invoke(app, args)
    assert f"not solved: line 3 of {tmp_path / 'p.txt'}" in result.output, result.output
    out = CliRunner().invoke(app, [*args, "--json"]).output
    results = json.loads(out[out.index("{"):])["results"]
    steps, seconds = [r["steps"] for r in results], [r["seconds"] for r in results]
    assert steps[0] < steps[1] == 16   # solved early; the puzzle with no solution runs to the limit
    assert seconds[0] / seconds[1] == pytest.approx(steps[0] / steps[1])
