"""An untrained checkpoint of a paper-size preset (for speed and memory rows: its accuracy means nothing).

    python scripts/bench/paper_checkpoint.py sudoku-mlp /tmp/paper-sudoku-mlp.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.train.untrained import untrained_checkpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset")
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    model = load_checkpoint(untrained_checkpoint(args.preset, args.out)).build_model()
    print(f"{args.preset}: {model.num_parameters():,} parameters (untrained) -> {args.out}")


if __name__ == "__main__":
    main()
