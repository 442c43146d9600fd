"""The ownership rule: trm-edge replaces or removes only folders that carry its marker; everything else at a
destination is refused by name, and a swap killed half-way is put back by the next command (reliability,
third round: web sites, the cache folder's helper environments, export's leftovers, odd destinations)."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import killed_between_renames
from tests.test_safety import _snapshot, world  # noqa: F401 - the safety suite's files, built once here
from trm_edge.cli import app
from trm_edge.ownership import MARKER
from trm_edge.web.site import ORT_FILES, ort_web_dir

NEEDS_ORT_WEB = pytest.mark.skipif(not all((ort_web_dir() / f).is_file() for f in ORT_FILES),
                                   reason="ONNX Runtime Web is not installed (trm-edge setup web; needs npm)")


def _invoke(*argv: str):
    return CliRunner().invoke(app, [str(a) for a in argv])


def _refused(res, phrase: str) -> None:
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)   # one line, no traceback
    assert phrase in res.output, res.output


@pytest.fixture(scope="module")
def site(tmp_path_factory, world):
    """A site built by `trm-edge web` from the safety suite's 4x4 ONNX step artifact."""
    root = tmp_path_factory.mktemp("sites")
    res = _invoke("web", world["artifact"], "--out", root / "site")
    assert res.exit_code == 0, res.output
    return root / "site"


@NEEDS_ORT_WEB
def test_web_on_a_small_grid_gets_held_out_samples_and_rebuilds_its_own_site(site, world, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    res = _invoke("web", world["artifact"], "--out", copy, "--overwrite")
    assert res.exit_code == 0 and "no sample puzzles" not in res.output, res.output
    assert (copy / MARKER).is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@NEEDS_ORT_WEB
@pytest.mark.parametrize("case", ["user-files", "input-inside", "working-dir", "site-json-only"])
def test_web_overwrite_refuses_what_it_did_not_write(site, world, tmp_path, monkeypatch, case):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    argv = ["web", world["artifact"], "--out", copy, "--overwrite"]
    if case == "user-files":   # what a GitHub Pages site has
        (copy / "CNAME").write_text("trm.example.org\n")
        (copy / "img").mkdir()
        (copy / "img" / "logo.png").write_bytes(b"\x89PNG")
        phrase = "not part of the site (CNAME, img/logo.png)"
    elif case == "input-inside":
        shutil.copytree(world["artifact"], copy / "model_src")
        argv[1] = copy / "model_src"
        phrase = "is inside"
    elif case == "working-dir":
        monkeypatch.chdir(copy)
        argv[3] = "."
        phrase = "is the working directory"
    else:   # a folder whose site.json claims the schema, without trm-edge's marker
        (copy / MARKER).unlink()
        (copy / "thesis.tex").write_text("\\documentclass{article}\n")
        phrase = "is not a trm-edge site folder"
    before = _snapshot([copy])
    _refused(_invoke(*argv), phrase)
    assert _snapshot([copy]) == before


@NEEDS_ORT_WEB
def test_a_web_swap_killed_between_its_renames_is_put_back(site, world, tmp_path, monkeypatch):
    out = tmp_path / "site"
    shutil.copytree(site, out)
    before = _snapshot([out])
    with killed_between_renames(monkeypatch):
        res = _invoke("web", world["artifact"], "--out", out, "--overwrite")
    assert res.exit_code == 130 and not out.exists(), res.output   # the old site waits only in .site.old-*
    res = _invoke("web", world["artifact"], "--out", out)
    _refused(res, "already exists")
    assert "restored" in res.output
    assert _snapshot([out]) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_an_empty_cache_variable_is_an_error_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<p>mine</p>\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRM_EDGE_CACHE", "")
    before = _snapshot([tmp_path])
    _refused(_invoke("setup", "web", "--rebuild"), "TRM_EDGE_CACHE is set but empty")
    assert _snapshot([tmp_path]) == before


@pytest.mark.parametrize("env, user_file", [("web", "package.json"), ("arm64", "notes.txt"), ("litert", "bin/python")])
def test_setup_refuses_a_cache_folder_holding_user_files(tmp_path, monkeypatch, env, user_file):
    from trm_edge.envs import HelperEnv

    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path))
    folder = HelperEnv(env).folder()
    (folder / user_file).parent.mkdir(parents=True)
    (folder / user_file).write_text("a user's own file\n")
    before = _snapshot([tmp_path])
    _refused(_invoke("setup", env, "--rebuild"), "was not built by `trm-edge setup")
    assert _snapshot([tmp_path]) == before


def _fake_npm(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)


def test_setup_web_keeps_a_working_install_when_the_registry_is_unreachable(tmp_path, monkeypatch):
    """A working install is not rebuilt; a rebuild whose npm fails keeps it whole (npm ci empties node_modules
    first, so it must run in a folder of its own)."""
    from trm_edge.envs import HelperEnv

    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path / "cache"))
    installer = ('mkdir -p node_modules/onnxruntime-web/dist && '
                 'echo \'{"version": "1.30.0"}\' > node_modules/onnxruntime-web/package.json && '
                 'echo wasm > node_modules/onnxruntime-web/dist/ort.wasm\n')
    _fake_npm(tmp_path / "bin", installer)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    assert _invoke("setup", "web").exit_code == 0
    folder = HelperEnv.web.folder()
    before = _snapshot([folder])
    _fake_npm(tmp_path / "bin", "echo 'npm error network request failed' >&2; rm -rf node_modules; exit 1\n")
    res = _invoke("setup", "web")
    assert res.exit_code == 0 and "already built" in res.output, res.output
    res = _invoke("setup", "web", "--rebuild")
    assert res.exit_code == 1 and "network request failed" in res.output, res.output
    assert _snapshot([folder]) == before
    # no staging folder left beside it (the first build's time, the next one's ETA, is the one other file)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["stage-times.json", "web"]


@pytest.mark.parametrize("kind", ["device", "link"])
def test_import_official_refuses_a_device_or_link_as_out(world, tmp_path, kind):
    target = tmp_path / "target.pt"
    target.write_bytes(b"someone else's file")
    out = tmp_path / "out.pt"
    if kind == "device":
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(out, 0o666 | stat.S_IFCHR, os.makedev(1, 3))   # like /dev/null
        phrase = "is a device"
    else:
        out.symlink_to(target)
        phrase = "is a symbolic link"
    _refused(_invoke("import-official", world["official_ok"], "--out", out, "--overwrite"), phrase)
    assert target.read_bytes() == b"someone else's file"
    assert out.is_symlink() if kind == "link" else stat.S_ISCHR(out.lstat().st_mode)
