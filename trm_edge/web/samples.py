"""Sample puzzles for the page's buttons: held-out puzzles of the artifact's source checkpoint, per band."""
from __future__ import annotations

from pathlib import Path

BANDS = {"easy (30-50 givens)": "30-50", "harder (20-29 givens)": "20-29", "minimal": "minimal"}


def band_samples(checkpoint: Path, per_band: int = 6) -> dict[str, list[str]]:
    """{button label: puzzles}; empty where the checkpoint is not here or names no generated data."""
    from ..data.tasks import DataSpec, puzzle_texts
    from ..model.checkpoint import load_checkpoint

    if not checkpoint.is_file():
        return {}
    spec = (load_checkpoint(checkpoint).info or {}).get("data_spec")
    if not spec or spec.get("path"):
        return {}
    data_spec = DataSpec.from_saved(spec)
    if not data_spec.task_obj.has_bands:   # one button of held-out puzzles (a maze has no difficulty bands)
        return {f"held-out {data_spec.task}": puzzle_texts(data_spec, 3 * per_band)}
    return {label: puzzle_texts(data_spec, per_band, band) for label, band in BANDS.items()}
