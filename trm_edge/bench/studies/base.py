"""What every study shares: the study file (common keys, then its measure's own), the measure registry, errors."""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from ...train.presets import PRESETS
from ...train.untrained import untrained_checkpoint

COMMON_KEYS = ("title", "question", "models", "measure")
UNTRAINED = "untrained:"   # a model given as `untrained:PRESET`: the preset's model with untrained weights
RUN_STATE = {"run_state": True}   # a measure field's metadata: what one run keeps (opened runtimes), not a study key


class StudyError(ValueError):
    """A study file that cannot be run as written (one line for the user)."""


class Measure(Protocol):
    """One kind of measurement a study makes (a dataclass of the study file's own keys): its cells, the rows each
    cell measures (one, or a bench run's several), and the table of its rows."""

    def with_puzzles(self, counts: list[int]) -> "Measure": ...

    def cells(self, models: list[str]) -> list[Any]: ...

    def describe(self, cell: Any) -> str: ...

    def rows(self, cell: Any, work: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
        """The cell's rows; `log` takes progress lines inside a long cell (a bench run's rows)."""

    def table(self, results: dict[str, Any]) -> str: ...

    def line(self, row: dict[str, Any]) -> str: ...

    def finish(self, results: dict[str, Any], out: Path) -> dict[str, Any]:
        """What the measure adds to the results once every row is in (a measure that declares itself a Measure
        and adds nothing inherits this)."""
        return {}


MEASURES: dict[str, type] = {}


def register_measure(name: str) -> Callable[[type], type]:
    """Adding a measure is one module that declares its keys as a dataclass and registers it by name."""
    def add(cls: type) -> type:
        MEASURES[name] = cls
        return cls
    return add


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    question: str
    models: list[str]
    measure: str
    how: Any            # the measure: its own keys from the study file

    @classmethod
    def load(cls, path: Path) -> "Study":
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StudyError(f"{path}: {exc}") from None
        measure = raw.get("measure")
        if measure not in MEASURES:
            raise StudyError(f"{path}: measure must be one of {', '.join(MEASURES)} (got {measure!r})")
        own = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
        known = {f.name for f in fields(MEASURES[measure]) if not f.metadata.get("run_state")}
        if set(own) - known:
            raise StudyError(f"{path}: unknown keys {', '.join(sorted(set(own) - known))} "
                             f"(a {measure} study takes {', '.join(sorted(known))})")
        missing = [k for k in ("title", "question", "models") if not raw.get(k)]
        if missing:
            raise StudyError(f"{path}: a study needs {', '.join(missing)}")
        for model in raw["models"]:
            if untrained_preset(model) not in (None, *PRESETS):
                raise StudyError(f"{path}: {model}: no such preset (presets: {', '.join(PRESETS)})")
        try:
            how = MEASURES[measure].from_file(own)
        except (TypeError, ValueError) as exc:
            raise StudyError(f"{path}: {exc}") from None
        return cls(path.stem, raw["title"], raw["question"], list(raw["models"]), measure, how)

    def check_models(self) -> None:
        """Every model a checkpoint file (model paths are relative to where the study runs)."""
        missing = [m for m in self.models if untrained_preset(m) is None and not Path(m).is_file()]
        if missing:
            raise StudyError(f"no checkpoint at {', '.join(missing)} (a study's model paths are relative to the "
                             "folder it runs in: the repository root for studies/)")

    def checkpoints(self, work: Path) -> list[str]:
        """The models as checkpoint files: `untrained:PRESET` is the preset's untrained model, built into the
        study's work folder (paper-size speed and memory: sizes this machine cannot train)."""
        files = []
        for model in self.models:
            preset = untrained_preset(model)
            if preset is not None:
                model = str(untrained_checkpoint(preset, work / f"untrained-{preset}" / "checkpoint.pt"))
            files.append(model)
        return files

    def to_dict(self) -> dict[str, Any]:
        keys = {f.name: _plain(getattr(self.how, f.name)) for f in fields(self.how) if not f.metadata.get("run_state")}
        return {"name": self.name, "title": self.title, "question": self.question, "models": self.models,
                "measure": self.measure, **keys}


def untrained_preset(model: str) -> str | None:
    """The preset a study's `untrained:PRESET` model names; None for a checkpoint path."""
    return model.removeprefix(UNTRAINED) if model.startswith(UNTRAINED) else None


def _plain(value: Any) -> Any:
    """A study key's value as results.json holds it (dataclasses as dicts; a measure's run state never reaches
    here, so opened runtimes are not copied)."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"
