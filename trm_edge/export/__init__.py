"""Exporters: ExecuTorch, Core ML, ONNX and TFLite artifacts of a TRM checkpoint."""
from .api import SUPPORT, TARGETS, ExportError, export_checkpoint

__all__ = ["SUPPORT", "TARGETS", "ExportError", "export_checkpoint"]
