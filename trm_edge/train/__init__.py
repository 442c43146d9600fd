"""Training: loss, EMA, presets and the loop."""
from .presets import PRESETS, DEFAULT_PRESET, Preset, TrainConfig, get_preset
from .trainer import TrainResult, evaluate, train

__all__ = ["PRESETS", "DEFAULT_PRESET", "Preset", "TrainConfig", "get_preset", "TrainResult", "evaluate", "train"]
