"""Sample puzzles for the page's buttons: held-out puzzles of the artifact's source checkpoint, per band."""
from __future__ import annotations

from pathlib import Path

from ..artifact import ArtifactMeta, source_path, verified_source

BANDS = {"easy (30-50 givens)": "30-50", "harder (20-29 givens)": "20-29", "minimal": "minimal"}


class NoSamples(Exception):
    """Why the page gets no sample puzzles (said in one line; the page still runs typed puzzles)."""


def band_samples(folder: Path, meta: ArtifactMeta, per_band: int = 6) -> dict[str, list[str]]:
    """{button label: puzzles} from the checkpoint the artifact was exported from, read only when it is the file
    that was exported (its SHA-256); bands where the grid has them, else one button of held-out puzzles."""
    from ..datasets.splits import DataSpec, puzzle_texts
    from ..tasks import get_task
    from ..model.checkpoint import load_checkpoint

    src = verified_source(folder, meta)
    if src is None:
        where = source_path(folder, meta)
        reason = "is not here" if not where.is_file() else \
            "is not the file the artifact was exported from (its SHA-256 differs)"
        raise NoSamples(f"the source checkpoint {where} {reason}")
    spec = (load_checkpoint(src).info or {}).get("data_spec")
    if not spec or spec.get("path"):
        raise NoSamples("the source checkpoint was trained on a data folder, not on generated puzzles")
    data_spec = DataSpec.from_saved(spec)
    held_out = {f"held-out {data_spec.task}": puzzle_texts(data_spec, 3 * per_band)}
    if not get_task(data_spec.task).has_bands:   # a maze has no difficulty bands
        return held_out
    try:
        return {label: puzzle_texts(data_spec, per_band, band) for label, band in BANDS.items()}
    except ValueError:   # the bands are 9x9 givens counts: a smaller grid gets held-out puzzles
        return held_out
