"""The browser demo in a real browser: headless Chromium (Debian's) solves held-out puzzles through the page's
own UI, with the same answers and step counts as `trm-edge solve` on the same artifact."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.export import export_checkpoint
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.web.site import ORT_FILES, ort_web_dir
from conftest import MAZE7, SUDOKU9

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


def _serve_site(checkpoint: Path, root: Path):
    """Export the checkpoint's ONNX step, build its site with `trm-edge web` and serve it: (artifact, site, url)."""
    from trm_edge.web.serve import start

    artifact = export_checkpoint(checkpoint, "onnx", root / "onnx", parity_puzzles=0)
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(root / "site")])
    assert res.exit_code == 0, res.output
    server = start(root / "site")
    return artifact, root / "site", f"http://127.0.0.1:{server.server_address[1]}/", server


@pytest.fixture(scope="module")
def driver():
    """Playwright itself (one per module: a second one cannot start while the first runs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(driver):
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _open_page(browser, url: str):
    """A page on a phone's screen, loaded and ready."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    page.wait_for_selector("body[data-state=ready], body[data-state=error]", timeout=120_000)
    assert page.get_attribute("body", "data-state") == "ready", page.inner_text("#status")
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    *served, server = _serve_site(SUDOKU9, tmp_path_factory.mktemp("web"))
    yield tuple(served)
    server.shutdown()


@pytest.fixture(scope="module")
def page(site, browser):
    page = _open_page(browser, site[2])
    yield page
    page.close()


def _solve_in_page(page, puzzle: str) -> tuple[str, int, str]:
    page.fill("#puzzle", puzzle)
    page.click("#solve")
    page.wait_for_selector("body[data-state=done]", timeout=120_000)
    steps = page.inner_text("#steps")   # "-" when the puzzle was refused: no answer of an earlier one stays
    return page.text_content("#answer"), int(steps) if steps.isdigit() else None, page.inner_text("#status")


def _runtime_answers(artifact: Path, grids: list, halting=None, max_steps=None, tries=None) -> list:
    """What trm-edge's own runtime answers on the artifact, at its recorded settings (the page's defaults) where
    not given."""
    from trm_edge.host_loop import Halting
    from trm_edge.runtime.solver import open_chosen, solve_batch

    src, chosen = open_chosen(artifact, halting=halting, max_steps=max_steps, tries=tries)
    return solve_batch(src, grids, Halting.parse(chosen.halting), tries=chosen.tries)


def test_page_starts_at_the_models_recorded_settings(site, page):
    from trm_edge.runtime.solver import recorded_settings

    rec = recorded_settings(site[0])
    assert rec is not None and rec.tries > 1   # models/sudoku9 records tries
    assert page.input_value("#halting") == rec.halting and page.input_value("#tries") == str(rec.tries)
    assert page.input_value("#max-steps") == str(rec.max_steps)


def test_page_solves_held_out_puzzles_offline_like_trm_edge_solve(site, page):
    """After one visit the page is kept on the device: with the network off it reloads and gives the same
    answers, copies and steps as the runtime, at settings whose trajectories WASM and native ONNX Runtime follow
    alike (q_halt, <= 16 steps; at 30 steps a chaotic trajectory can part by one rounding)."""
    artifact = site[0]
    ckpt = load_checkpoint(SUDOKU9)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 20, "20-29")
    want = _runtime_answers(artifact, [sudoku.decode(tokens, 9) for tokens in data.inputs], "act", 16, 1)
    page.wait_for_selector("body[data-offline=ready]", state="attached", timeout=60_000)
    assert "works offline" in page.inner_text("#offline")
    page.context.set_offline(True)
    try:
        page.reload()
        page.wait_for_selector("body[data-state=ready], body[data-state=error]", timeout=60_000)
        assert page.get_attribute("body", "data-state") == "ready", page.inner_text("#status")
        page.select_option("#halting", "act")
        page.fill("#max-steps", "16")
        page.fill("#tries", "1")
        for i, tokens in enumerate(data.inputs):
            answer, steps, status = _solve_in_page(page, sudoku.to_text(sudoku.decode(tokens, 9)))
            assert answer == sudoku.to_text(want[i].answer), (i, status)
            assert steps == want[i].steps and int(page.inner_text("#copy")) == want[i].copy, i
    finally:
        page.context.set_offline(False)
    assert np.mean([w.valid for w in want]) > 0.5   # a real model at work
    page.screenshot(path=str(site[1].parent / "solved.png"), full_page=True)


def test_without_webgpu_the_page_runs_on_wasm_and_says_why(page):
    assert page.get_attribute("body", "data-backend") == "wasm"
    assert page.inner_text("#runs-on").startswith("WASM (CPU): WebGPU has no adapter")


def test_the_app_is_installable_with_its_manifest_and_icons(site, driver, tmp_path):
    """Chromium reports no installability errors (a real profile: incognito contexts are never installable)."""
    context = driver.chromium.launch_persistent_context(tmp_path / "profile", executable_path=CHROMIUM,
                                                        args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        page.goto(site[2])
        page.wait_for_selector("body[data-offline=ready]", state="attached", timeout=60_000)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        manifest = json.loads(cdp.send("Page.getAppManifest")["data"])
    finally:
        context.close()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "./" and "sudoku" in manifest["name"]
    for icon in manifest["icons"]:
        size = int(icon["sizes"].split("x")[0])
        assert _png_size(site[1] / icon["src"]) == (size, size)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_a_rebuilt_site_replaces_the_kept_version_whole(site, browser, tmp_path):
    """Site from artifact A, visited; rebuilt from B into the same folder: the next visit ends on B's model with
    B's task, one cache left, and no load ever mixed A's files with B's (the page checks every hash)."""
    from trm_edge.web.serve import start

    res = CliRunner().invoke(app, ["web", str(site[0]), "--out", str(tmp_path / "site")])
    assert res.exit_code == 0, res.output
    server = start(tmp_path / "site")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_selector("body[data-offline=ready]", state="attached", timeout=60_000)
        model_a = page.get_attribute("body", "data-model")
        maze = export_checkpoint(MAZE7, "onnx", tmp_path / "maze", parity_puzzles=0)
        res = CliRunner().invoke(app, ["web", str(maze), "--out", str(tmp_path / "site"), "--overwrite"])
        assert res.exit_code == 0, res.output
        model_b = json.loads((maze / "metadata.json").read_text())["files"]["model.onnx"]
        page.goto(url)
        page.wait_for_selector(f"body[data-model='{model_b}'][data-state=ready]", state="attached",
                               timeout=60_000)
        assert model_a != model_b and "maze" in page.inner_text("#title")
        assert len(page.evaluate("caches.keys()")) == 1 and not errors
        context.close()
    finally:
        server.shutdown()


def test_page_reports_bad_puzzles_as_messages(page):
    from conftest import NO_SOLUTION

    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _, _, status = _solve_in_page(page, "55" + "." * 79)
    assert "contradictory givens: row 1 has two 5s" in status
    _, _, status = _solve_in_page(page, "x" * 81)
    assert "are not cells of a 9x9 sudoku" in status
    _, steps, status = _solve_in_page(page, NO_SOLUTION)
    assert status == "this puzzle has no solution: no answer can pass the rules" and steps is None
    assert not errors


def test_page_reads_what_trm_edge_solve_reads_and_fits_a_phone(site, browser):
    """A puzzle pasted as a bordered grid (the format `solve` prints and reads) is the same puzzle; the page has
    no sideways scrolling from 320 to 430 px wide."""
    ckpt = load_checkpoint(SUDOKU9)
    grid = sudoku.decode(held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 1, "30-50").inputs[0], 9)
    text = sudoku.to_text(grid)
    bordered = "\n".join(" ".join(text[r * 9 + c * 3:r * 9 + c * 3 + 3] for c in range(3)).replace(" ", " | ")
                         + ("\n------+-----+------" if r in (2, 5) else "") for r in range(9))
    assert sudoku.to_text(sudoku.parse(bordered)) == text
    for width in (320, 390, 430):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(site[2])
        page.wait_for_selector("body[data-state=ready]", state="attached", timeout=60_000)
        page.fill("#puzzle", bordered)
        assert page.inner_text("#status") == "" and page.locator("#grid td.given").count() == int((grid > 0).sum())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        page.close()


def test_web_refuses_other_artifacts_and_foreign_folders(site, tmp_path):
    artifact, built, _ = site
    unrolled = export_checkpoint(SUDOKU9, "onnx", tmp_path / "unrolled", recursion="unrolled", parity_puzzles=0)
    res = CliRunner().invoke(app, ["web", str(unrolled), "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and "runs --target onnx --recursion step" in res.output
    (tmp_path / "mine").mkdir()
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(tmp_path / "mine")])
    assert res.exit_code == 2 and "not a trm-edge site folder" in res.output
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(built)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert not (tmp_path / "s").exists() and not any((tmp_path / "mine").iterdir())


def test_page_solves_held_out_mazes_like_trm_edge_solve(browser, tmp_path):
    """The committed maze model in the page: the maze drawn, the same answers and steps as the runtime, and the
    page's shortest-path verdict the same as the Python rules'."""
    from trm_edge.tasks import get_task

    artifact, built, url, server = _serve_site(MAZE7, tmp_path)
    try:
        ckpt = load_checkpoint(MAZE7)
        data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 12)
        maze, side = get_task("maze"), data.meta.grid_shape[0]
        want = _runtime_answers(artifact, [maze.decode(tokens, side) for tokens in data.inputs])
        page = _open_page(browser, url)
        assert "maze" in page.inner_text("#title")
        verdicts = []
        for i, tokens in enumerate(data.inputs):
            text = maze.to_text(maze.decode(tokens, side))
            rows = "\n".join(text[r * side:(r + 1) * side] for r in range(side))
            answer, steps, status = _solve_in_page(page, rows)
            assert answer == maze.to_text(want[i].answer), (i, status)
            assert steps == want[i].steps and int(page.inner_text("#copy")) == want[i].copy, i
            solved = maze.check(maze.decode(tokens, side), want[i].answer)[0]
            assert page.inner_text("#verdict").startswith("a valid") == solved, i
            verdicts.append(solved)
        assert any(verdicts)   # a real model at work
        assert page.locator("#grid td.wall").count() > 0 and page.locator("#grid td.path").count() > 0
        page.screenshot(path=str(tmp_path / "maze.png"), full_page=True)
        _, _, status = _solve_in_page(page, "#" * (side * side))
        assert "a maze needs exactly one S (this one has 0)" in status
        page.close()
    finally:
        server.shutdown()


HARD = Path(__file__).resolve().parents[1] / "models" / "sudoku9-hard" / "checkpoint.pt"
MISSED_ALONE = "....2....513.4....4....7.1...8..2.......3..65.3....2...9.5..6.1...49.5.7........."   # see test_tries.py


def test_page_tries_the_same_copies_as_python_and_accepts_only_by_the_rules(browser, tmp_path):
    """Tries in the page: copy k is the same view in JavaScript as in Python, and a puzzle the model misses
    alone is solved by a later copy with the same copy, steps and answer as trm-edge's own runtime."""
    from trm_edge.host_loop import Halting
    from trm_edge.runtime.solver import open_source, parse_puzzle, solve_batch
    from trm_edge.web.serve import start

    artifact = export_checkpoint(HARD, "onnx", tmp_path / "onnx", h_cycles=4, l_cycles=1, parity_puzzles=0)
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(tmp_path / "site")])
    assert res.exit_code == 0, res.output
    server = start(tmp_path / "site")
    try:
        page = _open_page(browser, f"http://127.0.0.1:{server.server_address[1]}/")
        grid = sudoku.generate(1, 9, seed=11)[0][0]
        js = page.evaluate("""async (cells) => {
            const t = await import('./tasks/sudoku.js');
            return Array.from({length: 10}, (_, k) => t.view(9, k).apply(cells));
        }""", [int(v) for v in grid.ravel()])
        assert js == [sudoku.view(9, k).apply(grid).ravel().tolist() for k in range(10)]
        page.select_option("#halting", "valid-2")
        page.fill("#max-steps", "32")
        page.fill("#tries", "4")
        answer, steps, status = _solve_in_page(page, MISSED_ALONE)
        src = dataclasses.replace(open_source(artifact), max_steps=32)
        want = solve_batch(src, [parse_puzzle(src, MISSED_ALONE)], Halting.parse("valid-2"), tries=4)[0]
        assert want.valid and want.copy >= 1
        assert answer == sudoku.to_text(want.answer) and steps == want.steps, status
        assert int(page.inner_text("#copy")) == want.copy and "accepted by the rules" in status
        assert page.inner_text("#verdict").startswith("a valid solution")
        page.close()
    finally:
        server.shutdown()


def test_a_link_opens_with_its_puzzle_and_a_new_puzzle_clears_the_old_answer(site, browser):
    """?puzzle= fills the page; after a solve, typing another (bad) puzzle leaves no verdict of the old one."""
    from urllib.parse import quote

    ckpt = load_checkpoint(SUDOKU9)
    text = sudoku.to_text(sudoku.decode(held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 1, "30-50").inputs[0], 9))
    page = _open_page(browser, site[2] + "?puzzle=" + quote(text))
    assert page.input_value("#puzzle") == text and page.locator("#grid td").count() == 81
    page.select_option("#halting", "act")
    page.fill("#tries", "1")
    page.click("#solve")
    page.wait_for_selector("body[data-state=done]", timeout=120_000)
    assert page.inner_text("#verdict") != "-"
    page.fill("#puzzle", "55" + "." * 79)
    assert page.inner_text("#verdict") == "-" and page.inner_text("#steps") == "-"
    assert "contradictory givens" in page.inner_text("#status") and page.locator("#grid td").count() == 0
    page.close()


WEBGPU_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + ["--enable-unsafe-webgpu"]


def _solve_traced(page, puzzles: list[str]) -> list[tuple[str, int, list]]:
    """(answer, steps, every step's logits) per puzzle, from a page opened with ?trace=1."""
    out = []
    for text in puzzles:
        answer, steps, status = _solve_in_page(page, text)
        assert steps is not None, status
        out.append((answer, steps, page.evaluate("window.trmState.trace")))
    return out


@pytest.mark.parametrize("count", [pytest.param(3, id="3-puzzles"), pytest.param(20, id="20", marks=pytest.mark.slow)])
def test_page_on_webgpu_gives_the_wasm_answers(site, driver, count):
    """Chromium's WebGPU adapter here is SwiftShader (software: a check of answers, never a speed figure). The
    same puzzles on WebGPU and on WASM: the same answers and steps; the largest logit difference per step is
    printed: ~1e-4 (fp32 rounding, not fp16's ~1e-2) at step 1, growing only on puzzles the model wanders on
    (measured 2026-12-07, 20 puzzles: the same answers and steps on all; the largest 5.3 at step 16 of one)."""
    webgpu_browser = driver.chromium.launch(executable_path=CHROMIUM, args=WEBGPU_ARGS)
    try:
        ckpt = load_checkpoint(SUDOKU9)
        data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), count, "20-29")
        puzzles = [sudoku.to_text(sudoku.decode(tokens, 9)) for tokens in data.inputs]
        runs = {}
        for ep in ("webgpu", "wasm"):
            page = _open_page(webgpu_browser, site[2] + f"?ep={ep}&trace=1")
            assert page.get_attribute("body", "data-backend") == ep, page.inner_text("#runs-on")
            page.select_option("#halting", "act")
            page.fill("#max-steps", "16")
            page.fill("#tries", "1")
            runs[ep] = _solve_traced(page, puzzles)
            page.close()
    finally:
        webgpu_browser.close()
    for i, (gpu, cpu) in enumerate(zip(runs["webgpu"], runs["wasm"])):
        diffs = [float(np.abs(np.subtract(a, b)).max()) for a, b in zip(gpu[2], cpu[2])]
        print(f"puzzle {i}: largest |logit difference| per step, WebGPU vs WASM: "
              + " ".join(f"{d:.2g}" for d in diffs))
        assert gpu[:2] == cpu[:2], i
