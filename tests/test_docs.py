"""The docs site builds offline and strictly (a broken link or a missing page fails), and its generated pages
follow the code: a new target shows up in the target reference without anyone editing a page."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if shutil.which("mkdocs") is None and subprocess.run([sys.executable, "-c", "import mkdocs"]).returncode:
        pytest.skip("mkdocs is not installed (pip install '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_the_site_builds_strictly_with_a_page_per_command_and_results(site):
    from typer.main import get_command

    from trm_edge.cli import app

    for name in get_command(app).commands:
        assert (site / "reference" / "commands" / name / "index.html").is_file(), name
    page = (site / "reference" / "commands" / "export" / "index.html").read_text()
    assert "--quantize" in page and "--target" in page
    assert "snapdragon-8-gen-2 (SM8550)" in (site / "results" / "qnn" / "index.html").read_text()   # from results/qnn


def test_a_registered_target_appears_in_the_target_reference():
    gen = pytest.importorskip("mkdocs_gen_files")
    del gen
    sys.path.insert(0, str(REPO / "docs"))
    from trm_edge import targets

    fake = targets.Target(name="fake-npu", model_file="model.bin", modes=("step",), precisions=("none",),
                          note="a made-up target", runtime=print, runtime_module="json")
    targets.all_targets()
    targets.register(fake)
    try:
        import importlib

        gen_pages = importlib.import_module("gen_pages")
        assert "| [`fake-npu`](targets/fake-npu.md) | `model.bin` | step | none |" in gen_pages.targets_page()
        assert "made-up target" in gen_pages.target_page(fake)
    finally:
        targets._REGISTRY.pop("fake-npu", None)
        sys.path.remove(str(REPO / "docs"))


def test_every_command_teaches_in_80_columns_with_examples():
    """--help at 80 columns: every option's name whole (no '…'), no Python type names, and at least one example
    of the command itself, kept on its own lines (not rewrapped into a paragraph)."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from trm_edge.cli import app

    runner = CliRunner()
    for name in [None, *get_command(app).commands]:
        result = runner.invoke(app, [*([name] if name else []), "--help"], terminal_width=80, env={"COLUMNS": "80"})
        assert result.exit_code == 0, (name, result.output[-2000:], result.exception)
        assert "Usage" in result.output and "…" not in result.output and "<bool>" not in result.output, name
        if name:
            assert any(line.startswith(f"    trm-edge {name}") for line in result.output.splitlines()), name


def _built_pages(site: Path) -> set[str]:
    """Every page of the built site, as its folder URL ('' for the home page)."""
    pages = set()
    for html in site.rglob("index.html"):
        rel = html.parent.relative_to(site).as_posix()
        if not rel.startswith(("assets", "search")):
            pages.add("" if rel == "." else rel + "/")
    return pages


def test_every_built_page_is_in_the_nav_and_every_image_loads(site):
    """A page outside the nav is a page nobody finds; an image that does not resolve is a broken page."""
    import re
    from html import unescape
    from urllib.parse import urljoin, urlparse

    home = (site / "index.html").read_text()
    nav = re.search(r'<nav class="md-nav md-nav--primary".*?</nav>\s*</div>\s*</div>\s*</div>', home, re.S)
    links = {urljoin("/", unescape(h)).lstrip("/") for h in re.findall(r'href="([^"#]*)"', nav.group(0) if nav else home)}
    links = {"" if link in ("", ".") else link.removesuffix("index.html") for link in links}
    missing = sorted(p for p in _built_pages(site) if p not in links and p != "404/")
    assert not missing, f"built but not in the nav: {missing}"
    broken = []
    for html in site.rglob("*.html"):
        for src in re.findall(r'<img[^>]+src="([^"]+)"', html.read_text()):
            if urlparse(src).scheme in ("http", "https", "data"):
                continue
            target = (html.parent / unescape(src).split("#")[0]).resolve()
            if not target.is_file():
                broken.append(f"{html.relative_to(site)}: {src}")
    assert not broken, broken


def test_export_help_shows_each_targets_options_under_its_name():
    """Options a target declares (targets/*.py) are offered by export under that target's heading."""
    from typer.testing import CliRunner

    from trm_edge import targets
    from trm_edge.cli import app

    text = CliRunner().invoke(app, ["export", "--help"], terminal_width=80).output
    for t in targets.all_targets().values():
        if t.options:
            panel = text.split(f"\n{t.name} options:\n", 1)[1].split("\n\n", 1)[0]
            assert all(f"--{o.name}" in panel for o in t.options), (t.name, panel)
