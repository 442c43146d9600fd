"""An untrained checkpoint of a paper-size preset (for speed and memory rows: its accuracy means nothing).

    python scripts/bench/paper_checkpoint.py sudoku-mlp /tmp/paper-sudoku-mlp.pt
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from trm_edge.data import maze, sudoku
from trm_edge.model import TRM, TRMConfig
from trm_edge.model.checkpoint import save_checkpoint
from trm_edge.train.presets import get_preset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset")
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    preset = get_preset(args.preset)
    side = preset.data.grid_size
    meta = sudoku.meta(side, 0) if preset.data.task == "sudoku" else maze.meta(side, 0)
    torch.manual_seed(0)
    model = TRM(TRMConfig.from_dict(dict(preset.train.arch, vocab_size=meta.vocab_size, seq_len=meta.seq_len)))
    spec = dataclasses.replace(preset.data, train_puzzles=16, test_puzzles=16)
    save_checkpoint(args.out, model, meta, info={"data_spec": dataclasses.asdict(spec), "untrained": True})
    print(f"{args.preset}: {model.num_parameters():,} parameters (untrained) -> {args.out}")


if __name__ == "__main__":
    main()
