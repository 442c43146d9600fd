"""No code from the working directory runs inside the processes trm-edge starts.

Each command that starts a helper process (bench worker, TFLite converter, ORT converter, torchrun workers,
the ARM64 job) is run from a folder holding trojan modules named like what those helpers import; the trojans
write a marker file, which must never appear.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import tiny_config
from trm_edge.data import sudoku
from trm_edge.datasets.splits import DataSpec
from trm_edge.export import export_checkpoint
from trm_edge.model import TRM
from trm_edge.model.checkpoint import save_checkpoint
from trm_edge.subproc import python_command

# Modules the helpers import early (stdlib and third-party), plus a fake trm_edge package.
TROJANS = ["json", "argparse", "typing", "tempfile", "numpy", "torch", "onnxruntime", "trm_edge"]


def _plant(folder: Path, marker: Path) -> None:
    code = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in TROJANS:
        if name in ("numpy", "torch", "onnxruntime", "trm_edge"):
            (folder / name).mkdir()
            (folder / name / "__init__.py").write_text(code)
        else:
            (folder / f"{name}.py").write_text(code)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("isolation")
    torch.manual_seed(0)
    ckpt = root / "run" / "checkpoint.pt"
    spec = DataSpec(task="sudoku", grid_size=4, train_puzzles=50, test_puzzles=20)
    save_checkpoint(ckpt, TRM(tiny_config(vocab_size=sudoku.vocab_size(4), seq_len=16)), sudoku.meta(4, 50),
                    info={"data_spec": dataclasses.asdict(spec)})
    artifact = export_checkpoint(ckpt, "onnx", root / "artifact", parity_puzzles=4)
    cwd = root / "sent-to-you"
    cwd.mkdir()
    marker = root / "PWNED"
    _plant(cwd, marker)
    return dict(root=root, ckpt=ckpt, artifact=artifact, cwd=cwd, marker=marker)


def _trm_edge(world: dict[str, Path], *args: str) -> subprocess.CompletedProcess:
    """Run the CLI as its console script does (the script's folder, not the working directory, is on the path)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-I", "-m", "trm_edge", *map(str, args)], cwd=world["cwd"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert not world["marker"].exists(), f"a module from the working directory ran: {world['marker'].read_text()}"
    return proc


def test_helper_command_ignores_the_working_directory(world):
    proc = subprocess.run(python_command("json.tool", ["--help"]), cwd=world["cwd"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not world["marker"].exists()


def test_bench_worker(world):
    proc = _trm_edge(world, "bench", world["artifact"], "--threads", "1", "--puzzles", "2", "--halting", "fixed",
                     "--repeats", "2", "--budget-s", "5", "--out", world["root"] / "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed" not in (world["root"] / "bench" / "bench.txt").read_text()


def test_ort_converter(world):
    proc = _trm_edge(world, "export", world["ckpt"], "--target", "onnx", "--ort", "--parity-puzzles", "0",
                     "--out", world["root"] / "ort")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list((world["root"] / "ort").glob("*.ort"))


def test_tflite_converter(world):
    from trm_edge.envs import litert_python

    try:
        litert_python()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    proc = _trm_edge(world, "export", world["ckpt"], "--target", "tflite", "--parity-puzzles", "0",
                     "--out", world["root"] / "tflite")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (world["root"] / "tflite" / "model.tflite").is_file()


def test_torchrun_workers(world):
    proc = _trm_edge(world, "train", "--steps", "2", "--eval-every", "2", "--eval-puzzles", "4", "--batch-size", "4",
                     "--device", "cpu", "--quiet", "--nproc", "2", "--out", world["root"] / "dp")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (world["root"] / "dp" / "checkpoint.pt").is_file()


def test_arm64_job(world):
    from trm_edge.bench.arm import ArmEnv, ArmEnvMissing

    try:
        ArmEnv.locate()
    except ArmEnvMissing as exc:
        pytest.skip(str(exc))
    proc = _trm_edge(world, "check-arm", world["artifact"], "--puzzles", "2", "--out", world["root"] / "arm.json")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert (world["root"] / "arm.json").is_file()


def test_a_helper_answers_once_and_fails_in_one_line(tmp_path):
    """Every helper (bench worker, TFLite converter, ARM64 job) is run by one function: its tagged answer
    comes back parsed, other output is ignored, and a crash or a timeout is one line naming the helper."""
    from trm_edge.subproc import HelperFailed, HelperJob, RESULT_TAG, run_helper

    script = tmp_path / "helper_probe.py"
    script.write_text(f"print('noise'); print({RESULT_TAG!r} + '{{\"rows\": 3}}'); print('more noise')\n")
    assert run_helper(HelperJob("helper_probe", paths=[tmp_path])) == {"rows": 3}
    with pytest.raises(HelperFailed, match=r"^the probe failed: Expecting property name[^\n]*$"):
        bad = tmp_path / "not.json"
        bad.write_text("{")
        run_helper(HelperJob("json.tool", [bad], "the probe"))
    with pytest.raises(HelperFailed, match="^the sleeper timed out after 1 s$"):
        run_helper(HelperJob("timeit", ["-n", "1", "-r", "1", "import time; time.sleep(30)"], "the sleeper", 1))
