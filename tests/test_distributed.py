"""Data-parallel training: 2 gloo processes on the CPU compute what one process does with the same global batch."""
from __future__ import annotations

import os
import subprocess
import sys

import torch
from typer.testing import CliRunner

from trm_edge.cli import app

ARGS = ["train", "--steps", "4", "--eval-every", "4", "--batch-size", "8", "--device", "cpu", "--quiet"]


def _run(cmd: list[str]) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_two_gloo_processes_match_one_process(tmp_path):
    _run([sys.executable, "-m", "trm_edge", *ARGS, "--out", str(tmp_path / "one")])
    _run([sys.executable, "-m", "trm_edge", *ARGS, "--out", str(tmp_path / "two"), "--nproc", "2"])
    one = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=True)
    two = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=True)
    assert one["training_state"]["step"] == two["training_state"]["step"] == 4
    moved = 0
    for key, value in one["training_state"]["model"].items():
        torch.testing.assert_close(two["training_state"]["model"][key], value, atol=2e-5, rtol=1e-4, msg=key)
        moved += int(key != "H_init" and key != "L_init")
    for key, value in one["state_dict"].items():   # the EMA weights written for inference
        torch.testing.assert_close(two["state_dict"][key], value, atol=2e-5, rtol=1e-4, msg=key)
    assert moved > 0


def test_nproc_bad_input_is_one_line(tmp_path):
    res = CliRunner().invoke(app, [*ARGS, "--out", str(tmp_path / "x"), "--nproc", "64"])
    assert res.exit_code == 2 and "more than the" in res.output, res.output
    res = CliRunner().invoke(app, [*ARGS[:-3], "--batch-size", "7", "--device", "cpu", "--out", str(tmp_path / "x"),
                                   "--nproc", "2"])
    assert res.exit_code == 2 and "does not split over 2 processes" in res.output, res.output
    assert not (tmp_path / "x").exists()


def test_workers_die_with_a_launcher_killed_by_sigkill(tmp_path):
    """kill -9 of `train --nproc 2` takes torchrun and both workers with it: no orphan trains on."""
    import signal
    import time

    import psutil

    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "trm_edge", "train", "--steps", "1000000", "--batch-size", "8",
                             "--device", "cpu", "--quiet", "--nproc", "2", "--out", str(tmp_path / "run")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    family: list[psutil.Process] = []
    while time.time() < deadline and len(family) < 3:   # torchrun and its two workers
        time.sleep(0.5)
        family = parent.children(recursive=True)
    assert len(family) >= 3, "torchrun did not start two workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(family, timeout=30)
    for p in alive:
        p.kill()
    assert not alive, f"{len(alive)} process(es) outlived the launcher"
