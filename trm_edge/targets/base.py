"""What a target is: everything the CLI, the exporter, the runtime and the bench need to know about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..recursion import mode_names
from .precision import Int4Grid, Precision

RECURSION_MODES = mode_names()   # each one's graphs and host driver: trm_edge/recursion/
PRECISIONS = tuple(p.value for p in Precision)   # their metadata names (trm_edge/targets/precision.py)
CALIBRATED = tuple(p.value for p in Precision if p.calibrated)


class RequestError(ValueError):
    """An export request this target cannot serve; the message says what it can."""


@dataclass(frozen=True)
class Option:
    """A target's own export option (e.g. ONNX's `ort`): its CLI flag and the values it takes."""

    name: str
    help: str
    default: Any = False
    choices: tuple[str, ...] | None = None   # None: any value (an on/off flag when the default is a bool)


@dataclass(frozen=True)
class Target:
    """One export format, as the runtime, the CLI and the bench see it. Its exporter lives a floor up, in
    `trm_edge/export/exporters.py`. Declaring every target costs no heavy import (the torch-free runtime reads
    this registry too): `runtime` imports its library when called.

    runtime(runner) -> call(arrays, state=None) -> outputs, for an `ArtifactRunner` of this target."""

    name: str
    model_file: str
    modes: tuple[str, ...]
    precisions: tuple[str, ...]
    note: str
    runtime: Callable[[Any], Callable]
    runtime_module: str                      # imported before the bench measures memory (not the model's cost)
    options: tuple[Option, ...] = ()
    weights_readback: bool = False           # where it cannot run, parity reads its weights back into PyTorch
    simulated: bool = False                  # runs here in a simulator: answers are real, timings are not
    parity_puzzles: int = 200                # default parity size (a simulator is slow)
    android_app: bool = False                # android_demo can run its (host-stepped, batch 1) artifacts
    browser: bool = False                    # the web page can run its step artifacts (ONNX Runtime Web)
    check: Callable[[str, str, dict[str, Any]], None] | None = field(default=None, compare=False)
    # what an artifact's GEMMs compute in where it is not its stored precision (from its metadata's `extra`):
    # the bench measures a row against the GEMM peak of that precision
    gemm_precision: Callable[[dict[str, Any]], Precision | None] | None = field(default=None, compare=False)
    int4_grid: Int4Grid | None = None        # its int4 rounding, which calibrated (GPTQ) int4 weights are chosen on

    @property
    def default_precision(self) -> str:
        """What --quantize means when not given: the first precision the target lists (fp32 where offered)."""
        return self.precisions[0]

    def check_request(self, recursion: str, precision: str, options: dict[str, Any]) -> None:
        """Refuse a recursion mode, precision or option value this target does not have."""
        if recursion not in self.modes:
            raise RequestError(f"{self.name} supports --recursion {'/'.join(self.modes)}, not {recursion} ({self.note})")
        if precision not in self.precisions:
            offered = ", ".join(Precision.label_of(p) for p in self.precisions)
            raise RequestError(f"{self.name} does not support --quantize {Precision.label_of(precision)}; it offers "
                               f"{offered}")
        for opt in self.options:
            value = options.get(opt.name)
            value = opt.default if value is None else value   # None: the user did not choose
            if opt.choices is not None and value not in opt.choices:
                raise RequestError(f"unknown --{opt.name} {value!r}; choose one of: {', '.join(opt.choices)}")
        if self.check is not None:
            self.check(recursion, precision, options)

    def open_runtime(self, runner):
        return self.runtime(runner)
