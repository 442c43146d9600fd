"""Progress with an ETA for long loops (parity, evaluate): a bar on stderr when it is a terminal, nothing when the
output goes to a log or a pipe, where a bar's redraws would be noise."""
from __future__ import annotations

import sys

from tqdm.auto import tqdm


_HIDDEN = {"on": False}


def hide_progress() -> None:
    """No bars or progress lines from here on (the CLI's --quiet)."""
    _HIDDEN["on"] = True


def shown() -> bool:
    return not _HIDDEN["on"]


def step_bar(total: int, desc: str) -> tqdm:
    """A bar counting supervision steps run (a batch's step is one tick)."""
    return tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr,
                disable=_HIDDEN["on"] or not sys.stderr.isatty())


def on_step_ticks(bar: tqdm):
    """An `on_step` callback (see host_loop.solve) that advances `bar` by one per step."""
    def tick(step, predictions, q_halt) -> None:
        bar.update(1)
    return tick
