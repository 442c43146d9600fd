"""Exporters: ExecuTorch, Core ML, ONNX and TFLite artifacts of a TRM checkpoint (targets: trm_edge.targets)."""
from .api import ExportError, check_request, export_checkpoint

__all__ = ["ExportError", "check_request", "export_checkpoint"]
