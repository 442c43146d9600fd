"""Model configuration: the official TRM arch fields under their official names."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from ..limits import CONFIG_LIMITS
from ..schema import check_types


@dataclass
class TRMConfig:
    """Architecture of one TRM, field names as in the official `arch` config.

    `H_cycles` is the paper's T, `L_cycles` its n, `halt_max_steps` its N_sup.
    The carry is (z_H, z_L) in official code, (y, z) in the paper.
    """

    vocab_size: int
    seq_len: int
    num_puzzle_identifiers: int = 1
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    L_layers: int = 2
    H_cycles: int = 3
    L_cycles: int = 6
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    puzzle_emb_ndim: int = 512
    puzzle_emb_len: int = 16
    pos_encodings: str = "rope"
    mlp_t: bool = False
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    no_ACT_continue: bool = True
    # Not an official field: SwiGLU width is rounded up to this multiple (official: 256).
    ffn_multiple: int = 256

    def __post_init__(self) -> None:
        self.validate()

    @property
    def prefix_len(self) -> int:
        """Number of puzzle-embedding positions prepended to the grid."""
        if self.puzzle_emb_ndim <= 0:
            return 0
        if self.puzzle_emb_len:
            return self.puzzle_emb_len
        return -(self.puzzle_emb_ndim // -self.hidden_size)

    @property
    def total_len(self) -> int:
        """Sequence length the net sees: prefix + grid."""
        return self.seq_len + self.prefix_len

    def validate(self) -> None:
        """Refuse a config that cannot build, or that asks for more than any TRM needs (a crafted file with
        10^6 cycles would otherwise run for ever)."""
        check_types(self, "TRM config")
        errors: list[str] = []
        for name, low, high in (("rms_norm_eps", 0.0, 1.0), ("rope_theta", 0.0, 1e12),
                                ("halt_exploration_prob", 0.0, 1.0), ("expansion", 0.0, 64.0)):
            value = getattr(self, name)
            if not (low < value <= high or (name == "halt_exploration_prob" and value == 0)):
                errors.append(f"{name} must be in ({low:g}, {high:g}] (got {value})")
        for name, top in CONFIG_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{name} must be a number (got {type(value).__name__})")
            elif not 1 <= value <= top:
                errors.append(f"{name} must be between 1 and {top:,} (got {value})")
        for name, top in (("puzzle_emb_len", 1024), ("puzzle_emb_ndim", 1 << 16)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                errors.append(f"{name} must be between 0 and {top:,} (got {value})")
        if errors:
            raise ValueError("invalid TRM config: " + "; ".join(errors))
        if self.pos_encodings not in ("rope", "learned", "none"):
            errors.append(f"pos_encodings must be rope|learned|none (got {self.pos_encodings!r})")
        if not self.mlp_t and self.hidden_size % self.num_heads:
            errors.append(f"hidden_size {self.hidden_size} not divisible by num_heads {self.num_heads}")
        if self.puzzle_emb_ndim > 0 and self.puzzle_emb_ndim > self.prefix_len * self.hidden_size:
            errors.append("puzzle_emb_ndim does not fit in puzzle_emb_len * hidden_size")
        if errors:
            raise ValueError("invalid TRM config: " + "; ".join(errors))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TRMConfig":
        """Build from a dict, ignoring keys that are not architecture fields (e.g. an official yaml)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        missing = [f.name for f in fields(cls) if f.name not in kwargs
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ValueError(f"config is missing required fields: {', '.join(missing)}")
        return cls(**kwargs)

    def replace(self, **changes: Any) -> "TRMConfig":
        return dataclasses.replace(self, **changes)

    def depth(self) -> dict[str, int]:
        """The recursion depth (T, n): the fields one set of weights can run or train at other values of."""
        return {name: getattr(self, name) for name in DEPTH_FIELDS}

    def same_weights_as(self, other: "TRMConfig") -> bool:
        """True when `other` is this network at another depth (same parameters, other T or n)."""
        return self.replace(**other.depth()) == other


DEPTH_FIELDS = ("H_cycles", "L_cycles")
