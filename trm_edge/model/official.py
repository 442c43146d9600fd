"""Import of checkpoints written by the official TinyRecursiveModels repository.

They are bare `state_dict`s saved as `step_<N>` (keys prefixed `_orig_mod.model.inner.` when the
model was compiled), with bf16 `H_init`/`L_init` and the puzzle-embedding table as a buffer.
Sequence length, cycles and heads are not in the tensors: they come from `all_config.yaml` when given,
else from the tensor shapes and the paper's per-task defaults (each guess is reported in `info`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.puzzles import DatasetMeta
from ..errors import CheckpointError
from ..schema import SchemaError, check_values, load_yaml
from ..tasks import get_task
from .config import TRMConfig
from .layers import find_multiple

PREFIXES = ("_orig_mod.model.inner.", "model.inner.", "_orig_mod.inner.", "inner.")
REQUIRED = ("embed_tokens.embedding_weight", "lm_head.weight", "q_head.weight", "H_init", "L_init")
# Paper tasks told apart by vocabulary size: (task, seq_len, L_cycles, grid side)
KNOWN_VOCABS = {11: ("sudoku", 81, 6, 9), 6: ("maze", 900, 4, 30), 12: ("arc", 900, 4, 30)}


def strip_prefix(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for prefix in PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = value
    return out


def is_official_state_dict(raw: dict) -> bool:
    if not raw or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        return False
    keys = strip_prefix(raw)
    return "embed_tokens.embedding_weight" in keys


def to_official_state_dict(state: dict[str, torch.Tensor], prefix: str = "_orig_mod.model.inner.") -> dict[str, torch.Tensor]:
    """Our weights under official key names and dtypes (bf16 y/z inits), as `step_<N>` files hold them."""
    out = {}
    for key, value in state.items():
        out[prefix + key] = value.to(torch.bfloat16) if key in ("H_init", "L_init") else value.clone()
    return out


def _read_yaml(path: str | Path) -> dict[str, Any]:
    """The architecture an official all_config.yaml states, each value of the type TRMConfig declares (a
    regular file of bounded size, aliases bounded; nothing coerced: `halt_max_steps: 2.5` is refused)."""
    try:
        data = load_yaml(path)
    except SchemaError as exc:
        raise CheckpointError(str(exc)) from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a mapping at the top level")
    arch = data.get("arch", data)
    if not isinstance(arch, dict):
        raise CheckpointError(f"{path}: arch must be a mapping (got {type(arch).__name__})")
    arch = dict(arch)
    for key in ("seq_len", "vocab_size", "num_puzzle_identifiers"):
        if key in data and key not in arch:
            arch[key] = data[key]
    # Interpolations such as ${.hidden_size} are resolved from the tensors instead.
    arch = {k: v for k, v in arch.items() if not (isinstance(v, str) and v.startswith("${"))}
    try:
        check_values(TRMConfig, arch, str(path))
    except SchemaError as exc:
        raise CheckpointError(str(exc)) from None
    return arch


OFFICIAL_DEFAULTS = dict(num_heads=8, H_cycles=3, halt_max_steps=16, halt_exploration_prob=0.1, puzzle_emb_len=16,
                         rms_norm_eps=1e-5, rope_theta=10000.0, no_ACT_continue=True)


def infer_config(state: dict[str, torch.Tensor], yaml_arch: dict[str, Any] | None = None,
                 overrides: dict[str, Any] | None = None) -> tuple[TRMConfig, list[str]]:
    """Config from tensor shapes, completed by the yaml, overrides, then the official defaults.
    Returns a note for every value that was not read from a file, and refuses what the shapes contradict."""
    missing = [k for k in (*REQUIRED, "L_level.layers.0.mlp.gate_up_proj.weight") if k not in state]
    if missing:
        raise CheckpointError(f"not an official TRM state dict: missing {', '.join(missing)}")
    arch = dict(yaml_arch or {})
    arch.update(overrides or {})
    notes: list[str] = []

    def pick(name: str, default: Any, why: str = "the official default") -> Any:
        if name in arch:
            return arch[name]
        notes.append(f"{name} {default}: {why}, not read from a config (pass all_config.yaml or --{name.replace('_', '-').lower()})")
        return default

    vocab, hidden = state["embed_tokens.embedding_weight"].shape
    layer_ids = sorted({int(m.group(1)) for k in state if (m := re.match(r"L_level\.layers\.(\d+)\.", k))})
    mlp_t = "L_level.layers.0.mlp_t.gate_up_proj.weight" in state
    inter = state["L_level.layers.0.mlp.gate_up_proj.weight"].shape[0] // 2
    expansion = float(arch.get("expansion", 4))
    if find_multiple(round(expansion * hidden * 2 / 3), 256) != inter:
        expansion = inter * 3 / (2 * hidden)
        notes.append(f"expansion {expansion} inferred from the MLP width {inter}")
    pe = state.get("puzzle_emb.weights")
    puzzle_emb_ndim = int(pe.shape[1]) if pe is not None else 0
    known = KNOWN_VOCABS.get(int(vocab))
    evidence = _Evidence(state, arch, known, mlp_t)
    puzzle_emb_len = int(_puzzle_emb_len(evidence, puzzle_emb_ndim, int(hidden), pick))
    prefix = _prefix(puzzle_emb_len, puzzle_emb_ndim, int(hidden))
    seq_len = _seq_len(evidence, prefix, vocab, notes)
    paper_n = known[2] if known else 6
    pos = arch.get("pos_encodings") or ("learned" if "embed_pos.embedding_weight" in state else
                                        ("none" if mlp_t else "rope"))
    num_heads = 1 if mlp_t else int(pick("num_heads", OFFICIAL_DEFAULTS["num_heads"]))
    if not mlp_t and hidden % num_heads:
        raise CheckpointError(f"num_heads {num_heads} does not divide the hidden size {hidden}: pass --num-heads")
    cfg = TRMConfig(
        vocab_size=int(vocab), seq_len=int(seq_len),
        num_puzzle_identifiers=int(pe.shape[0]) if pe is not None else int(arch.get("num_puzzle_identifiers", 1)),
        hidden_size=int(hidden), num_heads=num_heads, expansion=expansion, L_layers=len(layer_ids),
        H_cycles=int(pick("H_cycles", OFFICIAL_DEFAULTS["H_cycles"])),
        L_cycles=int(pick("L_cycles", paper_n, f"the paper's value for {known[0] if known else 'an unknown task'}")),
        halt_max_steps=int(pick("halt_max_steps", OFFICIAL_DEFAULTS["halt_max_steps"])),
        halt_exploration_prob=float(arch.get("halt_exploration_prob", OFFICIAL_DEFAULTS["halt_exploration_prob"])),
        puzzle_emb_ndim=puzzle_emb_ndim, puzzle_emb_len=puzzle_emb_len, pos_encodings=str(pos), mlp_t=mlp_t,
        rms_norm_eps=float(arch.get("rms_norm_eps", 1e-5)), rope_theta=float(arch.get("rope_theta", 10000.0)),
        no_ACT_continue=bool(arch.get("no_ACT_continue", True)),
    )
    return cfg, notes


def _prefix(puzzle_emb_len: int, ndim: int, hidden: int) -> int:
    if ndim <= 0:
        return 0
    return puzzle_emb_len if puzzle_emb_len else -(ndim // -hidden)


@dataclass(frozen=True)
class _Evidence:
    """What a sequence length is inferred from: the tensors, the official arch config, the task its vocabulary
    names (name, seq_len, paper n) if known, and whether the model mixes tokens with an MLP."""

    state: dict
    arch: dict
    known: tuple | None
    mlp_t: bool


def _puzzle_emb_len(ev: _Evidence, ndim: int, hidden: int, pick) -> int:
    """The prefix length: from the config, or from the token-mixing width when the task's grid is known."""
    state, arch, known, mlp_t = ev.state, ev.arch, ev.known, ev.mlp_t
    width = None
    if mlp_t:
        width = state["L_level.layers.0.mlp_t.gate_up_proj.weight"].shape[1]
    elif "embed_pos.embedding_weight" in state:
        width = state["embed_pos.embedding_weight"].shape[0]
    seq = int(arch["seq_len"]) if "seq_len" in arch else (known[1] if known else None)
    if "puzzle_emb_len" in arch:
        value = int(arch["puzzle_emb_len"])
        if width is not None and seq is not None and width - seq != _prefix(value, ndim, hidden):
            raise CheckpointError(f"puzzle_emb_len {value} contradicts the tensors: the model mixes {width} positions, "
                                  f"{seq} grid cells + {width - seq} prefix positions")
        if ndim and value and value * hidden < ndim:
            raise CheckpointError(f"puzzle_emb_len {value} cannot hold the {ndim}-wide puzzle embedding")
        return value
    if width is not None and seq is not None and ndim:
        prefix = width - seq
        return prefix if prefix != _prefix(0, ndim, hidden) else 0
    return pick("puzzle_emb_len", OFFICIAL_DEFAULTS["puzzle_emb_len"])


def _seq_len(ev: _Evidence, prefix: int, vocab: int, notes: list[str]) -> int:
    state, arch, known, mlp_t = ev.state, ev.arch, ev.known, ev.mlp_t
    if mlp_t:
        width = state["L_level.layers.0.mlp_t.gate_up_proj.weight"].shape[1]
        if "seq_len" in arch and int(arch["seq_len"]) + prefix != width:
            raise CheckpointError(f"seq_len {arch['seq_len']} contradicts the tensors: the model mixes {width} positions "
                                  f"({prefix} of them prefix)")
        return width - prefix
    if "seq_len" in arch:
        return int(arch["seq_len"])
    if "embed_pos.embedding_weight" in state:
        return state["embed_pos.embedding_weight"].shape[0] - prefix
    if known:
        notes.append(f"seq_len {known[1]} guessed from vocab {vocab} ({known[0]}); pass --seq-len to override")
        return known[1]
    raise CheckpointError(f"cannot infer seq_len for an attention model with vocab {vocab}: "
                          "pass all_config.yaml or --seq-len")


def load_official(raw: dict[str, torch.Tensor], config_path: str | Path | None = None,
                  overrides: dict[str, Any] | None = None) -> tuple[TRMConfig, dict, DatasetMeta | None, dict]:
    """(config, float32 state dict, dataset metadata when the task is known, info with notes)."""
    state = strip_prefix(raw)
    yaml_arch = _read_yaml(config_path) if config_path else None
    cfg, notes = infer_config(state, yaml_arch, overrides)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    known = KNOWN_VOCABS.get(cfg.vocab_size)
    meta = None
    if known and known[1] == cfg.seq_len:
        side = known[3]
        meta = DatasetMeta(vocab_size=cfg.vocab_size, seq_len=cfg.seq_len, task=known[0], grid_shape=(side, side),
                           num_puzzle_identifiers=cfg.num_puzzle_identifiers)
    info: dict[str, Any] = {"notes": notes, "config_file": str(config_path) if config_path else None}
    if meta is not None and get_task(meta.task).generated:   # held-out puzzles from our generators
        info["data_spec"] = {"task": meta.task, "grid_size": meta.grid_shape[0], "train_puzzles": 1000,
                             "test_puzzles": 1000}
    return cfg, state, meta, info
