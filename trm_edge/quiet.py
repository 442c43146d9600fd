"""Keep third-party native libraries from writing on the user's terminal.

Some vendor libraries (Qualcomm's QNN HTP libraries among them) print straight to file descriptors 1 and 2,
below Python, where neither `warnings` nor `logging` reach. Their lines are captured here instead, and kept
for an error message when the call fails.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from contextlib import contextmanager
from typing import Iterator


class NativeOutput:
    """What the native code wrote while it was silenced (empty until the block ends)."""

    text: str = ""


@contextmanager
def native_output_captured() -> Iterator[NativeOutput]:
    """Point fds 1 and 2 at a temporary file for the block (Python's own streams are flushed first)."""
    captured = NativeOutput()
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.text = sink.read().decode(errors="replace")


_SILENCED = False   # set by silence_third_party: the CLI without --verbose


@contextmanager
def quiet_native() -> Iterator[None]:
    """Keep a native library's chatter off the terminal for the block, unless the user asked for --verbose (or
    trm-edge is used as a library, where the caller owns the streams)."""
    if not _SILENCED:
        yield
        return
    with native_output_captured():
        yield


def silence_third_party() -> None:
    """Lines other libraries print on a normal run, each silenced at its source (`--verbose` keeps them)."""
    global _SILENCED
    _SILENCED = True
    # ExecuTorch's runtime reads /sys files for the CPU's model when it starts and prints each attempt from C++
    # (cpuinfo_utils.cpp): runtime start-up runs inside quiet_native().
    # torch logs a deprecation through its own logger when torchao registers an Enum as a pytree constant.
    logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)
    # torch.onnx's exporter logs every torchvision op it cannot register when torchvision is absent; we use none.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    # torch's pytree deprecation, raised inside torch.export and ExecuTorch code, once per tree it flattens.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*", category=FutureWarning)
    # onnxruntime.quantization gives advice through the root logger ("consider pre-processing"); we pre-process
    # where it matters and report what was quantized in the artifact's notes. Its 4-bit quantizer calls
    # logging.basicConfig(level=INFO) when first imported, which would lower the root level again (and let
    # onnx_ir's and onnxscript's passes log each step) unless the root logger already has a handler.
    root = logging.getLogger()
    root.setLevel(logging.ERROR)
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    # torchao warns, through its own logger, about optional kernels (CUDA, Triton) this machine does not need.
    logging.getLogger("torchao").setLevel(logging.ERROR)
