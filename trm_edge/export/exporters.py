"""Which function exports each target. The target registry (`trm_edge/targets/`) sits a floor below the exporters,
so the link is made here, where the import can be seen; each entry imports its exporter's heavy libraries only when
an export to that target runs."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .spec import ExportRequest, ExportResult

Exporter = Callable[[ExportRequest, Path], ExportResult]


def _onnx(req: ExportRequest, folder: Path) -> ExportResult:
    from . import onnx_target
    return onnx_target.export(req, folder)


def _executorch(req: ExportRequest, folder: Path) -> ExportResult:
    from . import executorch_target
    return executorch_target.export(req, folder)


def _coreml(req: ExportRequest, folder: Path) -> ExportResult:
    from . import coreml_target
    return coreml_target.export(req, folder)


def _tflite(req: ExportRequest, folder: Path) -> ExportResult:
    from . import tflite_target
    return tflite_target.export(req, folder)


def _qnn(req: ExportRequest, folder: Path) -> ExportResult:
    from . import qnn_target
    return qnn_target.export(req, folder)


_EXPORTERS: dict[str, Exporter] = {"onnx": _onnx, "executorch": _executorch, "coreml": _coreml, "tflite": _tflite,
                                   "qnn": _qnn}


def register_exporter(target: str, export: Exporter) -> None:
    """The exporter of a target registered from outside the package (see `targets.register`)."""
    _EXPORTERS[target] = export


def exporter_for(target: str) -> Exporter:
    try:
        return _EXPORTERS[target]
    except KeyError:
        raise ValueError(f"no exporter is registered for target {target!r}") from None
