"""The browser demo: a static site around an ONNX step artifact (ONNX Runtime Web, WASM)."""
