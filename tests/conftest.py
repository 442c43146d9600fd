"""Shared fixtures: tiny configs, a checkpoint trained by the default preset (built once per session)."""
from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from trm_edge.model import TRM, TRMConfig

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
SUDOKU9 = MODELS / "sudoku9" / "checkpoint.pt"
SUDOKU9_HARD = MODELS / "sudoku9-hard" / "checkpoint.pt"
MAZE7 = MODELS / "maze7" / "checkpoint.pt"
# One given added to a unique 9x9 puzzle: no two givens clash, but no completion exists (data.sudoku.count_solutions).
NO_SOLUTION = "......34..76..98...53....97..5...1.....6....3.87.9..6..19..7.......5..21...2.4..."


def tiny_config(**changes) -> TRMConfig:
    base = dict(vocab_size=6, seq_len=16, hidden_size=32, num_heads=2, expansion=2, H_cycles=2, L_cycles=2,
                halt_max_steps=4, puzzle_emb_ndim=32, puzzle_emb_len=2, ffn_multiple=16)
    base.update(changes)
    return TRMConfig(**base)


@pytest.fixture
def tiny_model() -> TRM:
    torch.manual_seed(0)
    return TRM(tiny_config()).eval()


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory) -> Path:
    """The default preset, trained for 1000 of its 1500 steps: it solves held-out 4x4 puzzles (about 3 minutes on 2 cores)."""
    from trm_edge.train import get_preset, train

    p = get_preset("sudoku4-tiny")
    out = tmp_path_factory.mktemp("trained")
    result = train(p.data, dataclasses.replace(p.train, steps=1000, eval_every=1000, eval_puzzles=200), out,
                   device="cpu", progress=False)
    return result.checkpoint


@pytest.fixture(scope="session")
def onnx_artifact(trained_checkpoint, tmp_path_factory) -> Path:
    """The trained checkpoint as an ONNX step artifact (no parity run), shared read-only by every test file."""
    from trm_edge.export import export_checkpoint

    return export_checkpoint(trained_checkpoint, "onnx", tmp_path_factory.mktemp("shared") / "onnx", parity_puzzles=0)


@contextmanager
def killed_between_renames(monkeypatch):
    """Inside the block, a swap of the ownership rule is killed (KeyboardInterrupt) after the old folder was
    renamed aside and before the new one is renamed in: the state a kill -9 at that moment leaves."""
    from trm_edge import ownership

    real_replace = os.replace

    def replace(src, dst):
        if ".partial-" in str(src):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(ownership.os, "replace", replace)
    try:
        yield
    finally:
        monkeypatch.setattr(ownership.os, "replace", real_replace)
