"""QNN: the ONNX step graph compiled ahead of time for Qualcomm's Hexagon NPU (HTP), one context binary per SoC.

Compiled with ONNX Runtime's QNN execution provider (`onnxruntime-qnn`, which ships Qualcomm's QNN HTP
libraries). On this x86 host the compiled model runs in the HTP simulator: its answers are the NPU's
arithmetic, its time says nothing about a phone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..artifact import inside
from ..errors import UnsupportedOnHost
from .base import Option, RequestError, Target
from .precision import Precision


@dataclass(frozen=True)
class Soc:
    """One Snapdragon chip as QNN names it."""

    name: str        # marketing name, as --soc takes it
    chip: str        # Qualcomm part number
    soc_model: int   # QNN_SOC_MODEL_<chip> in the QNN SDK's QnnTypes.h
    htp_arch: int    # Hexagon tensor processor version (v68 has no fp16 math)
    tier: str


# Source: the QNN_SOC_MODEL_* constants of Qualcomm's QNN SDK (include/QNN/QnnTypes.h) and the SoC -> HTP
# version table of its "Supported Snapdragon devices" page; the same pairs are in ExecuTorch's Qualcomm backend
# (backends/qualcomm/serialization/qc_schema.py). Which of them this QNN SDK compiles is measured by
# scripts/bench/qnn_table.py, not assumed.
SOCS: tuple[Soc, ...] = (
    Soc("snapdragon-8-gen-1", "SM8450", 36, 69, "flagship 2022"),
    Soc("snapdragon-8-gen-2", "SM8550", 43, 73, "flagship 2023"),
    Soc("snapdragon-8-gen-3", "SM8650", 57, 75, "flagship 2024"),
    Soc("snapdragon-8-elite", "SM8750", 69, 79, "flagship 2025"),
    Soc("snapdragon-8-elite-gen-5", "SM8850", 87, 81, "flagship 2026"),
    Soc("snapdragon-778g", "SM7325", 35, 68, "mid-range 2021"),
)
DEFAULT_SOC = "snapdragon-8-elite"


def soc(name: str) -> Soc:
    """A SoC by marketing name or part number (any case)."""
    for s in SOCS:
        if name.lower() in (s.name, s.chip.lower()):
            return s
    raise RequestError(f"unknown --soc {name!r}; choose from: {', '.join(s.name for s in SOCS)} "
                       "(or their part numbers, e.g. SM8650)")


def socs_of(option: str) -> list[Soc]:
    """The SoCs a comma-separated --soc names, in order, without repeats."""
    chosen: list[Soc] = []
    for name in (n.strip() for n in str(option).split(",")):
        if name and soc(name) not in chosen:
            chosen.append(soc(name))
    if not chosen:
        raise RequestError("--soc names no SoC")
    return chosen


_REGISTERED = False


def register_ep() -> list:
    """Register the QNN execution provider library with ONNX Runtime once; its devices."""
    global _REGISTERED
    import onnxruntime as ort

    try:
        import onnxruntime_qnn
    except ImportError:
        raise UnsupportedOnHost("qnn artifacts need onnxruntime-qnn (pip install 'trm-edge[npu]')") from None
    if not _REGISTERED:
        ort.set_default_logger_severity(3)   # its per-node warnings are ours to summarise, not to print
        ort.register_execution_provider_library("QNNExecutionProvider", onnxruntime_qnn.get_library_path())
        _REGISTERED = True
    return [d for d in ort.get_ep_devices() if d.ep_name == "QNNExecutionProvider"]


def htp_options(chip: Soc, precision: str) -> dict[str, str]:
    """QNN EP provider options for the HTP backend of one SoC."""
    return {"backend_type": "htp", "soc_model": str(chip.soc_model), "htp_arch": str(chip.htp_arch),
            "enable_htp_fp16_precision": "1" if precision == Precision.FP16 else "0"}


def session_options(chip: Soc, precision: str, allow_cpu_fallback: bool = False):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    if not allow_cpu_fallback:
        so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    so.add_provider_for_devices(register_ep(), htp_options(chip, precision))
    return so


def runtime(r):
    """The compiled model of the artifact's first SoC, run by the HTP simulator on this host."""
    import onnxruntime as ort

    from ..quiet import native_output_captured

    info = r.meta.extra.get("qnn", {})
    name = next(iter(info.get("socs", {})), None)
    if name is None:
        raise ValueError(f"{r.folder}: a qnn artifact whose metadata names no compiled SoC")
    entry = info["socs"][name]
    path = inside(r.folder, entry["model"])
    with native_output_captured():
        sess = ort.InferenceSession(str(path), session_options(soc(name), info.get("precision", "fp16"),
                                                               bool(info.get("allow_cpu_fallback"))))
    names = [i.name for i in r.meta.inputs]

    def call(arrays, state=None):
        with native_output_captured():
            return sess.run(None, dict(zip(names, [np.asarray(a) for a in arrays])))

    return call


def _check(recursion: str, precision: str, options: dict) -> None:
    socs_of(options.get("soc") or DEFAULT_SOC)   # what a SoC cannot run is found by compiling, and named then
    if options.get("w16-weights") and precision not in (Precision.W8A16, Precision.W8A8):
        raise RequestError(f"--w16-weights keeps some weights 16-bit in a w8a16 or w8a8 graph, not in {precision}")


def weights_kept_16bit(option: str | None) -> tuple[str, ...]:
    """The name parts a --w16-weights list gives (each picks every weight whose name contains it)."""
    return tuple(part.strip() for part in (option or "").split(",") if part.strip())


TARGET = Target(
    name="qnn", model_file="model.onnx", modes=("step",), precisions=("fp16", "w16a16", "w8a16", "w8a8"),
    note="Qualcomm Hexagon NPU: the step graph compiled per SoC into a QNN context binary (onnxruntime-qnn); "
         "runs here in the HTP simulator (answers, no timings)",
    runtime=runtime,
    runtime_module="onnxruntime_qnn",
    options=(Option("soc", "comma-separated Snapdragon SoCs to compile for (" + ", ".join(s.name for s in SOCS)
                    + f"; default {DEFAULT_SOC})", DEFAULT_SOC, None),
             Option("w16-weights", "comma-separated parts of weight names that stay 16-bit in a w8a16/w8a8 graph "
                                   "(a mixed-precision list, e.g. layers.1.mlp; scripts/bench/qnn_sensitivity.py "
                                   "measures each weight's error on the HTP)", None, None),
             Option("allow-cpu-fallback", "let ops the NPU cannot run stay on the phone's CPU instead of "
                                          "failing the export")),
    check=_check,
    simulated=True,
    parity_puzzles=8,
)
