"""The registry of recursion modes: how an artifact holds the TRM recursion and how the host drives it.
Each module here declares one mode (`MODE`); adding one is a new module listed below."""
from __future__ import annotations

from . import loop, net, stateful, step, unrolled
from .base import GraphKind, OnStep, Recursion, register_mode, _MODES

for _module in (step, unrolled, loop, stateful, net):
    register_mode(_module.MODE)


def mode(name: str) -> Recursion:
    """The mode an artifact or a request names."""
    if name not in _MODES:
        raise ValueError(f"unknown recursion mode {name!r}; choose one of: {', '.join(_MODES)}")
    return _MODES[name]


def mode_names() -> tuple[str, ...]:
    return tuple(_MODES)


__all__ = ["GraphKind", "OnStep", "Recursion", "mode", "mode_names", "register_mode"]
