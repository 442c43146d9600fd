"""Layers point down only: the import-linter contract in pyproject.toml, checked on every run of the suite
(a module that imports a layer above it, or a sibling it must not, fails here with the import named)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_layers_contract_holds(tmp_path, capsys):
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is not installed: pip install '.[dev]'")
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


def test_every_package_module_sits_in_a_layer():
    """A new top-level module or package must be placed in the contract, or nothing checks its arrows."""
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    placed = {name.strip().removeprefix("trm_edge.") for line in layers for name in line.split("|")}
    package = ROOT / "trm_edge"
    present = {p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    present |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert present == placed, f"not in the contract: {sorted(present - placed)}; gone: {sorted(placed - present)}"
