"""TRM model package: config, net, ACT wrapper, presets and checkpoints."""
from .config import TRMConfig
from .trm import TRM, Carry, StepOutput
from .act import ACTModel, ACTState

__all__ = ["TRMConfig", "TRM", "Carry", "StepOutput", "ACTModel", "ACTState"]
