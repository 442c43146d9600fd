"""Training: loss, EMA, presets and the loop."""
from .presets import PRESETS, DEFAULT_PRESET, Preset, TrainConfig, get_preset


def __getattr__(name: str):
    """The loop needs torch; the presets do not (`train --list-presets` works on a torch-free install)."""
    if name in ("TrainResult", "evaluate", "train"):
        from . import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PRESETS", "DEFAULT_PRESET", "Preset", "TrainConfig", "get_preset", "TrainResult", "evaluate", "train"]
