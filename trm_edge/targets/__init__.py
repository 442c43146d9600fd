"""The registry of export targets. Each module here declares one target (`TARGET`): its name, model
file, recursion modes, precisions, its own options and its runtime backend. The CLI, the exporter, the
runtime's dispatch and the bench all read this table; adding a target (OpenVINO, a QNN delegate) is one
new module listed in `MODULES`, or `register()` from outside."""
from __future__ import annotations

import importlib

from .base import CALIBRATED, PRECISIONS, RECURSION_MODES, Option, RequestError, Target
from .precision import Precision

MODULES = ("onnx", "executorch", "coreml", "tflite", "qnn")
_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    _REGISTRY[target.name] = target
    return target


def all_targets() -> dict[str, Target]:
    if not _REGISTRY:
        for name in MODULES:
            register(importlib.import_module(f".{name}", __name__).TARGET)
    return dict(_REGISTRY)


def get(name: str) -> Target:
    targets = all_targets()
    if name not in targets:
        raise RequestError(f"unknown target {name!r}; choose one of: {', '.join(targets)}")
    return targets[name]


def options_by_name() -> dict[str, list[str]]:
    """Each option name -> the targets that take it (for errors like "--ort applies to onnx only")."""
    out: dict[str, list[str]] = {}
    for t in all_targets().values():
        for opt in t.options:
            out.setdefault(opt.name, []).append(t.name)
    return out


__all__ = ["CALIBRATED", "PRECISIONS", "Precision", "RECURSION_MODES", "Option", "RequestError", "Target", "all_targets", "get",
           "register", "options_by_name"]
