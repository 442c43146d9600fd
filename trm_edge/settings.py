"""The inference settings a model runs best at (depth T/n, halting, step limit, tries), recorded in its checkpoint
by the measurement that chose them and copied into every export's metadata: every command uses them unless an
option overrides, and says in one line which it used."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from .host_loop import Halting, check_max_steps
from .limits import CONFIG_LIMITS, check_count
from .schema import check_types

INFO_KEY = "inference"   # where a checkpoint's info and an artifact's metadata extra hold them


@dataclass(frozen=True)
class InferenceSettings:
    h_cycles: Optional[int] = None      # T to run at (None: as trained)
    l_cycles: Optional[int] = None      # n to run at
    halting: str = "act"
    max_steps: Optional[int] = None     # None: the N_sup it was trained with
    tries: int = 1
    measured_by: str = ""               # the results file or command that chose them

    def __post_init__(self) -> None:
        check_types(self, "inference settings")
        Halting.parse(self.halting)
        if self.max_steps is not None:
            check_max_steps(self.max_steps)
        for name in ("h_cycles", "l_cycles"):
            if getattr(self, name) is not None:
                check_count(name, getattr(self, name), 1, CONFIG_LIMITS["H_cycles"])
        check_count("tries", self.tries, 1, 1 << 16)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: object) -> Optional["InferenceSettings"]:
        """None when nothing is recorded (checkpoints written before settings were)."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ValueError(f"inference settings must be a mapping (got {type(raw).__name__})")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"inference settings: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(**raw)

    def depth_text(self) -> str:
        return "" if self.h_cycles is None and self.l_cycles is None else \
            f"T={self.h_cycles or 'trained'}, n={self.l_cycles or 'trained'}"


@dataclass(frozen=True)
class Chosen:
    """What one command runs with: each value from its option, else the model's recorded settings, else the
    built-in default; `from_model` names the values the recorded settings gave."""
    h_cycles: Optional[int]
    l_cycles: Optional[int]
    halting: str
    max_steps: Optional[int]
    tries: int
    from_model: tuple[str, ...] = ()

    def note(self) -> str:
        """The one line a command prints about it (empty when the model recorded nothing it used)."""
        if not self.from_model:
            return ""
        shown = {"h_cycles": f"T={self.h_cycles}", "l_cycles": f"n={self.l_cycles}", "halting": f"{self.halting} halting",
                 "max_steps": f"at most {self.max_steps} steps", "tries": f"{self.tries} tries"}
        return ("using the model's recorded settings: " + ", ".join(shown[k] for k in self.from_model)
                + " (options override them)")


def choose(recorded: Optional[InferenceSettings], h_cycles: Optional[int] = None, l_cycles: Optional[int] = None,
           halting: Optional[str] = None, max_steps: Optional[int] = None, tries: Optional[int] = None) -> Chosen:
    """Options first, then the recorded settings, then the defaults (trained depth, act, N_sup, one try)."""
    rec = recorded or InferenceSettings()
    given = dict(h_cycles=h_cycles, l_cycles=l_cycles, halting=halting, max_steps=max_steps, tries=tries)
    defaults = InferenceSettings()
    values, used = {}, []
    for name, value in given.items():
        if value is not None:
            values[name] = value
        else:
            values[name] = getattr(rec, name)
            if recorded is not None and getattr(rec, name) != getattr(defaults, name):
                used.append(name)
    return Chosen(**values, from_model=tuple(used))
