"""Core ML settings, written once: the Core ML target and ExecuTorch's Core ML delegate both read them."""
from __future__ import annotations

from ..targets.precision import Precision

MIN_COMPRESSED_WEIGHT = 512   # smaller tensors (embeddings, heads of tiny models) stay uncompressed


def deployment_target(ios18: bool = False):
    """iOS 17 for ML Programs; Core ML states (y/z kept in the model) and int4 weight blocks need iOS 18."""
    import coremltools as ct

    return ct.target.iOS18 if ios18 else ct.target.iOS17


def compute_precision(quantize: str):
    import coremltools as ct

    return ct.precision.FLOAT16 if quantize == Precision.FP16 else ct.precision.FLOAT32


def int8_weight_config() -> dict:
    """Per-channel symmetric int8 weights (compute stays float), as a dict both APIs take."""
    return {"mode": "linear_symmetric", "dtype": "int8", "granularity": "per_channel",
            "weight_threshold": MIN_COMPRESSED_WEIGHT}


def int4_weight_config() -> dict:
    """Symmetric 4-bit weights in blocks of INT4_BLOCK input channels, one scale each (iOS 18's per-block
    quantization; compute stays float)."""
    from .spec import INT4_BLOCK

    return {"mode": "linear_symmetric", "dtype": "int4", "granularity": "per_block", "block_size": INT4_BLOCK,
            "weight_threshold": MIN_COMPRESSED_WEIGHT}


def palette_config(nbits: int) -> dict:
    return {"mode": "kmeans", "nbits": nbits, "weight_threshold": MIN_COMPRESSED_WEIGHT}
