"""Upper bounds on what a file or an option may ask for, far above any real TRM (the paper's: hidden 512,
T=3, n=6, N_sup=16, 900 cells, ~876k ARC identifiers, 422,786 test puzzles). A crafted checkpoint or
artifact asking for 10^6 cycles or 10^9 steps is refused in one line instead of running for ever.
Kept free of imports so the torch-free runtime can check artifacts against them."""
from __future__ import annotations

MAX_SUPERVISION_STEPS = 1024
MAX_PUZZLES = 10_000_000
MAX_BATCH = 1 << 16            # the paper trains with 768 a step; more only exhausts memory
MAX_TRAIN_STEPS = 100_000_000

CONFIG_LIMITS: dict[str, int] = {
    "vocab_size": 1 << 16, "seq_len": 1 << 16, "num_puzzle_identifiers": 1 << 24, "hidden_size": 1 << 14,
    "num_heads": 256, "expansion": 64, "L_layers": 64, "H_cycles": 64, "L_cycles": 64,
    "halt_max_steps": MAX_SUPERVISION_STEPS, "ffn_multiple": 1 << 14,
}


def check_count(name: str, value: object, low: int, high: int) -> None:
    """Refuse a value that is not a whole number in [low, high], naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,} (got {value!r})")
