"""The browser demo in a real browser: headless Chromium (Debian's) solves held-out puzzles through the page's
own UI, with the same answers and step counts as `trm-edge solve` on the same artifact."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.data.tasks import DataSpec, held_out
from trm_edge.export import export_checkpoint
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.web.site import ORT_FILES, ort_web_dir

SUDOKU9 = Path(__file__).resolve().parents[1] / "models" / "sudoku9" / "checkpoint.pt"
CHROMIUM = shutil.which("chromium")
# What the machine's closed network and a root user need (no sandbox, no background connections).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _why_not() -> str | None:
    if CHROMIUM is None:
        return "Debian's chromium is not installed (scripts/install.sh installs it as root)"
    if not all((ort_web_dir() / f).is_file() for f in ORT_FILES):
        return "ONNX Runtime Web is not installed (scripts/install.sh runs npm ci; needs npm)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed: pip install '.[dev]'"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from trm_edge.web.serve import start

    root = tmp_path_factory.mktemp("web")
    artifact = export_checkpoint(SUDOKU9, "onnx", root / "onnx", parity_puzzles=0, log=lambda m: None)
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(root / "site")])
    assert res.exit_code == 0, res.output
    server = start(root / "site")
    yield artifact, root / "site", f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})   # a phone's screen
        page.goto(site[2])
        page.wait_for_selector("body[data-state=ready], body[data-state=error]", timeout=120_000)
        assert page.get_attribute("body", "data-state") == "ready", page.inner_text("#status")
        yield page
        browser.close()


def _solve_in_page(page, puzzle: str) -> tuple[str, int, str]:
    page.fill("#puzzle", puzzle)
    page.click("#solve")
    page.wait_for_selector("body[data-state=done]", timeout=120_000)
    return page.text_content("#answer"), int(page.inner_text("#steps")), page.inner_text("#status")


def test_page_solves_held_out_puzzles_like_trm_edge_solve(site, page):
    artifact = site[0]
    ckpt = load_checkpoint(SUDOKU9)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 20, "20-29")
    want = load_runner(artifact).solve(data.inputs, data.puzzle_identifiers, halting="act")
    for i, tokens in enumerate(data.inputs):
        answer, steps, status = _solve_in_page(page, sudoku.to_text(sudoku.decode(tokens, 9)))
        assert answer == sudoku.to_text(sudoku.decode(want.predictions[i], 9)), (i, status)
        assert steps == int(want.steps[i]), i
    assert np.mean([(p == l).all() for p, l in zip(want.predictions, data.labels)]) > 0.5   # a real model at work
    page.screenshot(path=str(site[1].parent / "solved.png"), full_page=True)


def test_page_reports_bad_puzzles_as_messages(page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _, _, status = _solve_in_page(page, "55" + "." * 79)
    assert "contradictory givens: row 1 has two 5s" in status
    _, _, status = _solve_in_page(page, "x" * 81)
    assert "are not cells of a 9x9 sudoku" in status
    assert not errors


def test_web_refuses_other_artifacts_and_foreign_folders(site, tmp_path):
    artifact, built, _ = site
    unrolled = export_checkpoint(SUDOKU9, "onnx", tmp_path / "unrolled", recursion="unrolled", parity_puzzles=0,
                                 log=lambda m: None)
    res = CliRunner().invoke(app, ["web", str(unrolled), "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and "runs --target onnx --recursion step" in res.output
    (tmp_path / "mine").mkdir()
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(tmp_path / "mine")])
    assert res.exit_code == 2 and "not a site trm-edge web wrote" in res.output
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(built)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert not (tmp_path / "s").exists() and not any((tmp_path / "mine").iterdir())
