"""Progress with an ETA for long loops (parity, evaluate) and long single calls (a converter): a bar on stderr
when it is a terminal, nothing when the output goes to a log or a pipe, where a bar's redraws would be noise."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from tqdm.auto import tqdm


_HIDDEN = {"on": False}


def silent(_message: str) -> None:
    """The default log of library calls: a library says nothing unless its caller passes a log (the CLI passes
    its own, which --quiet silences)."""


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


@contextlib.contextmanager
def stage(desc: str, key: str, history: Path):
    """A stage that cannot count its own work (a converter's single call): on a terminal, a line that ticks every
    second with the time so far and, once the same stage (`key`) has finished before on this machine, the time it
    took then as the ETA. Finished stages' times are kept in `history` (a small JSON file)."""
    times = _read_times(history)
    expected = times.get(key)
    bar = tqdm(total=round(expected) if expected else None, desc=desc, unit="s", leave=False, file=sys.stderr,
               disable=_HIDDEN["on"] or not sys.stderr.isatty(),
               bar_format="{desc}: {n} s" + (" of ~{total} s (this stage's last run here)" if expected else ""))
    done = threading.Event()

    def tick() -> None:
        while not done.wait(1.0):
            bar.update(1)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        done.set()
        thread.join()
        bar.close()
    times[key] = time.perf_counter() - start   # only a stage that finished: an error skips this line
    _write_times(history, times)


def _read_times(history: Path) -> dict[str, float]:
    try:
        data = json.loads(history.read_text())
        return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_times(history: Path, times: dict[str, float]) -> None:
    """Best effort: a cache that cannot be written costs the next run its ETA, nothing else."""
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        tmp = history.with_name(f".{history.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(times, indent=1, sort_keys=True))
        os.replace(tmp, history)
    except OSError:
        pass
