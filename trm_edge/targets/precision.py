"""The precisions an artifact can compute in: one registry that the CLI, the exporters, parity and naming ask
instead of comparing names. The value is the name in artifact metadata (`none` is fp32, kept for artifacts
already written); `label` is what a person reads."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Precision(str, Enum):
    FP32 = "none"
    FP16 = "fp16"
    INT8 = "int8"                 # dynamic int8 (weights int8, activations quantized at run time)
    INT8_STATIC = "int8-static"   # int8 with --calibration: activation ranges fixed from real trajectories
    INT4 = "int4"
    PALETTE4 = "palette4"         # Core ML k-means weight palettes
    PALETTE6 = "palette6"
    W8A16 = "w8a16"               # X-bit weights, Y-bit activations: calibrated QDQ graphs for NPUs
    W8A8 = "w8a8"
    W16A16 = "w16a16"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """fp32 for `none`: what folder names, tables and messages say."""
        return "fp32" if self is Precision.FP32 else self.value

    @property
    def calibrated(self) -> bool:
        """Its activation ranges come from calibration samples."""
        return self in (Precision.INT8_STATIC, Precision.W8A16, Precision.W8A8, Precision.W16A16)

    @property
    def asked_for(self) -> bool:
        """--quantize takes it by name (static int8 is asked for as int8 with --calibration N)."""
        return self is not Precision.INT8_STATIC

    @classmethod
    def label_of(cls, name: str) -> str:
        """What a person calls a precision name: fp32 for `none`; a name outside the registry (PyTorch's bf16, an
        unknown request) as it is."""
        return cls(name).label if name in cls._value2member_map_ else name


def internal(name: str, calibration: int) -> Precision:
    """What a --quantize request computes in: int8 with calibration samples is static int8."""
    precision = Precision(name)
    return Precision.INT8_STATIC if precision is Precision.INT8 and calibration > 0 else precision


@dataclass(frozen=True)
class Int4Grid:
    """How a runtime's own 4-bit quantizer picks a block's scale: scale = anchor / divisor, the anchor being the
    block's largest-magnitude weight (with its sign, or its magnitude). Calibrated int4 weights are chosen on this
    grid, with the anchor kept as it is, so the runtime's rounding at export reproduces them exactly."""

    divisor: float
    signed: bool
    qmin: int = -8
    qmax: int = 7


ORT_INT4 = Int4Grid(-8.0, signed=True)      # ONNX Runtime's MatMulNBits, symmetric: the anchor is code -8
TORCHAO_INT4 = Int4Grid(7.5, signed=False)  # torchao's symmetric int4 (XNNPACK's 4-bit GEMMs): |anchor| = 7.5 steps
