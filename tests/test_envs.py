"""Helper environments come from the installed package (`trm-edge setup NAME`), under the one cache folder that
TRM_EDGE_CACHE names; a command that needs one that is missing names the setup command."""
from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.envs import HelperEnv, litert_python
from conftest import SUDOKU9


def test_every_helper_env_lives_under_the_cache_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path))
    assert all(env.folder().parent == tmp_path for env in HelperEnv)
    with pytest.raises(RuntimeError, match="trm-edge setup litert"):
        litert_python()


def test_export_to_tflite_without_the_env_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path))

    ckpt = SUDOKU9
    res = CliRunner().invoke(app, ["export", str(ckpt), "--target", "tflite", "--out", str(tmp_path / "t"),
                                   "--parity-puzzles", "0"])
    assert res.exit_code != 0 and "trm-edge setup litert" in res.output and not (tmp_path / "t").exists()


def test_setup_refuses_an_unknown_environment():
    res = CliRunner().invoke(app, ["setup", "android-sdk"])
    assert res.exit_code == 2 and "'litert'" in res.output


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_setup_web_installs_onnx_runtime_web_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path))
    res = CliRunner().invoke(app, ["setup", "web"])
    assert res.exit_code == 0, res.output
    from trm_edge.web.site import ORT_FILES, ort_web_dir

    assert all((ort_web_dir() / name).is_file() for name in ORT_FILES)
