"""Where an export goes when no --out is given: artifacts/<model>-<target>-<recursion>-<precision>[-T<h>n<l>].

The model is the checkpoint's folder (runs/ and models/ hold one checkpoint.pt each) or its file name; the
precision is the one the artifact computes in (fp32 for 'none', int8-static when calibrated, plus an int8
scheme); the depth is named when an option or the model's recorded settings chose it."""
from __future__ import annotations

from pathlib import Path

from ..targets.precision import Precision

ARTIFACTS = Path("artifacts")
DEFAULT_DELEGATE = "xnnpack"


def precision_label(internal: str, options: dict) -> str:
    """What a person calls the precision (fp32 for 'none'); an int8 scheme is named after it."""
    return Precision(internal).label + (f"-{options['int8-scheme']}" if options.get("int8-scheme") else "")


def model_name(checkpoint: str | Path) -> str:
    """What a checkpoint is called: its folder (runs/ and models/ hold one checkpoint.pt each) or its file name."""
    checkpoint = Path(checkpoint)
    return checkpoint.parent.name if checkpoint.name == "checkpoint.pt" and checkpoint.parent.name else checkpoint.stem


def default_folder(checkpoint: Path, target: str, recursion: str, precision: str, options: dict,
                   depth: tuple[int, int] | None) -> Path:
    model = model_name(checkpoint)
    delegate = options.get("delegate")
    runtime = f"{target}-{delegate}" if delegate not in (None, DEFAULT_DELEGATE) else target
    suffix = f"-T{depth[0]}n{depth[1]}" if depth else ""
    return ARTIFACTS / f"{model}-{runtime}-{recursion}-{precision_label(precision, options)}{suffix}"
