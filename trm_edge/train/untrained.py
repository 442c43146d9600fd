"""An untrained checkpoint of a preset: real shapes, graphs, file sizes, speed and memory at a size this machine
cannot train (the paper-size presets), with answers that mean nothing (its info says `untrained`)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ..model import TRM, TRMConfig
from ..model.checkpoint import save_checkpoint
from ..tasks import get_task
from .presets import get_preset


def untrained_checkpoint(preset_name: str, out: Path) -> Path:
    """The preset's model with seed-0 weights saved at `out`, with its task's data description."""
    preset = get_preset(preset_name)
    meta = get_task(preset.data.task).meta(preset.data.grid_size, 0)
    torch.manual_seed(0)
    model = TRM(TRMConfig.from_dict(dict(preset.train.arch, vocab_size=meta.vocab_size, seq_len=meta.seq_len)))
    spec = dataclasses.replace(preset.data, train_puzzles=16, test_puzzles=16)
    save_checkpoint(out, model, meta, info={"data_spec": dataclasses.asdict(spec), "untrained": True})
    return out
