"""The plain types exporters take and return."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from ..progress import silent

INT4_BLOCK = 32   # int4 weights per scale along K (every target): smaller blocks follow the weights more closely


@dataclass
class ExportRequest:
    graph: nn.Module                            # StepGraph or UnrolledGraph, eval mode, fp32
    example_inputs: tuple[torch.Tensor, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    recursion: str
    quantize: str
    calibration: Callable[[], list[dict[str, np.ndarray]]]   # lazily computed static-quant samples
    log: Callable[[str], None] = silent
    options: dict[str, Any] = field(default_factory=dict)   # the target's own options (see trm_edge.targets)
    methods: dict[str, tuple[nn.Module, tuple[torch.Tensor, ...]]] = field(default_factory=dict)
    # --recursion net: the program's named graphs (embed, net, heads); `graph` is then the step they make up


@dataclass
class ExportResult:
    model_file: str
    notes: list[str] = field(default_factory=list)
    tool_versions: dict[str, str] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
