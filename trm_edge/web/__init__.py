"""The browser demo: a static site around an ONNX step artifact (ONNX Runtime Web, WASM or WebGPU)."""
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"   # the page, its scripts and the service worker's template
