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


# Where a registry name may appear as a string literal in a comparison: its own registry, or a word that only
# shares the spelling (each with the reason).
OWN_WORDS = {
    "trm_edge/host_loop.py": {"fixed", "act", "valid"},            # the halting registry parsing its own names
    "trm_edge/targets/executorch.py": {"coreml"},                  # its --delegate option's value
    "trm_edge/export/executorch_target.py": {"coreml"},            # the same option, where it is applied
    "trm_edge/bench/harness.py": {"step"},                         # a measurement's key (per step / per puzzle)
    "trm_edge/bench/columns.py": {"step"},                         # the same key, where the table reads it
    "trm_edge/model/config.py": {"none"},                          # pos_encodings: none
}


def test_no_rule_is_compared_by_its_name_outside_its_registry():
    """Halting rules, recursion modes, targets and precisions are asked of their registries (HaltRule, the
    recursion modes, Target, Precision), never compared as string literals: renaming one is one edit."""
    import ast

    from trm_edge.host_loop import HaltRule
    from trm_edge.targets import PRECISIONS, RECURSION_MODES, all_targets

    names = set(PRECISIONS) | set(RECURSION_MODES) | set(all_targets()) | {rule.value for rule in HaltRule}
    found = []
    for path in sorted((ROOT / "trm_edge").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            words = [c.value for side in sides for c in (side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set))
                                                          else [side])
                     if isinstance(c, ast.Constant) and isinstance(c.value, str)]
            found += [f"{rel}:{node.lineno} {w!r}" for w in words if w in names - OWN_WORDS.get(rel, set())]
    assert not found, found
