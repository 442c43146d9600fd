"""ARM64 parity: artifacts run on ARM64 kernels under qemu-user (`trm-edge setup arm64` builds the environment)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.bench.arm import ArmEnv, ArmEnvMissing
from trm_edge.host_loop import act_halt_steps
from trm_edge.cli import app
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.runtime.solve_job import run_job


def _job(path, data, rules):
    np.savez(path, inputs=data.inputs, puzzle_identifiers=data.puzzle_identifiers, halting=np.array(rules))


def test_act_halting_read_off_a_fixed_run_equals_an_act_run(trained_checkpoint, onnx_artifact, tmp_path):
    """The ARM check runs each artifact once (fixed steps) and reads ACT halting off its q_halt trace."""
    ckpt = load_checkpoint(trained_checkpoint)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 40)
    _job(tmp_path / "job.npz", data, ["fixed", "act"])
    run_job(onnx_artifact, tmp_path / "job.npz", tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as out:
        trace, real = out["fixed/q_trace"], out["act/steps"]
        assert trace.shape == (ckpt.config.halt_max_steps, len(data))
        assert json.loads(str(out["host"]))["runtime"] == "onnxruntime"
    np.testing.assert_array_equal(act_halt_steps(trace, ckpt.config.halt_max_steps), real)
    # rows that never halt run every step; a row halting at step k is k
    assert act_halt_steps(np.array([[-1.0, 2.0], [-1.0, 3.0]]), 2).tolist() == [2, 1]


def test_check_arm_without_the_environment_says_how_to_build_it(onnx_artifact, tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["check-arm", str(onnx_artifact), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2, result.output
    assert "trm-edge setup arm64" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


def test_onnx_artifact_on_arm64_matches_pytorch(onnx_artifact, tmp_path):
    """Runs inside the emulated ARM64 environment when it was built; otherwise skips and says why."""
    try:
        ArmEnv.locate()
    except ArmEnvMissing as exc:
        pytest.skip(str(exc))
    out = tmp_path / "arm.json"
    result = CliRunner().invoke(app, ["check-arm", str(onnx_artifact), "--puzzles", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    check = json.loads(out.read_text())["checks"][0]
    assert check["arm_host"]["machine"] == "aarch64" and check["status"] == "ok", check
    assert check["arm64"]["cell_agreement"] >= 0.999 and check["arm64"]["halting_agreement"] == 1.0, check
    assert check["arm64_vs_x86"]["max_abs_logit_diff"] < 1e-3, check   # fp32: float rounding only
