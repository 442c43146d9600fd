"""Import of checkpoints written by the official TinyRecursiveModels repository.

They are bare `state_dict`s saved as `step_<N>` (keys prefixed `_orig_mod.model.inner.` when the
model was compiled), with bf16 `H_init`/`L_init` and the puzzle-embedding table as a buffer.
Sequence length, cycles and heads are not in the tensors: they come from `all_config.yaml` when given,
else from the tensor shapes and the paper's per-task defaults (each guess is reported in `info`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from ..data.puzzles import DatasetMeta
from .checkpoint import Checkpoint, CheckpointError
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
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CheckpointError(f"cannot read config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a mapping at the top level")
    arch = dict(data.get("arch", data))
    for key in ("seq_len", "vocab_size", "num_puzzle_identifiers"):
        if key in data and key not in arch:
            arch[key] = data[key]
    # Interpolations such as ${.hidden_size} are resolved from the tensors instead.
    return {k: v for k, v in arch.items() if not (isinstance(v, str) and v.startswith("${"))}


def infer_config(state: dict[str, torch.Tensor], yaml_arch: dict[str, Any] | None = None,
                 overrides: dict[str, Any] | None = None) -> tuple[TRMConfig, list[str]]:
    """Config from tensor shapes, completed by the yaml, overrides, then paper defaults. Returns notes on guesses."""
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"not an official TRM state dict: missing {', '.join(missing)}")
    arch = dict(yaml_arch or {})
    arch.update(overrides or {})
    notes: list[str] = []
    vocab, hidden = state["embed_tokens.embedding_weight"].shape
    layer_ids = sorted({int(m.group(1)) for k in state if (m := re.match(r"L_level\.layers\.(\d+)\.", k))})
    if not layer_ids:
        raise CheckpointError("not an official TRM state dict: no L_level.layers.* tensors")
    mlp_t = "L_level.layers.0.mlp_t.gate_up_proj.weight" in state
    inter = state["L_level.layers.0.mlp.gate_up_proj.weight"].shape[0] // 2
    expansion = float(arch.get("expansion", 4))
    if find_multiple(round(expansion * hidden * 2 / 3), 256) != inter:
        expansion = inter * 3 / (2 * hidden)
        notes.append(f"expansion {expansion} inferred from the MLP width {inter}")
    pe = state.get("puzzle_emb.weights")
    puzzle_emb_ndim = int(pe.shape[1]) if pe is not None else 0
    puzzle_emb_len = int(arch.get("puzzle_emb_len", 16))
    known = KNOWN_VOCABS.get(int(vocab))
    if mlp_t:
        seq_len = state["L_level.layers.0.mlp_t.gate_up_proj.weight"].shape[1] - (puzzle_emb_len if puzzle_emb_ndim else 0)
    elif "seq_len" in arch:
        seq_len = int(arch["seq_len"])
    elif "embed_pos.embedding_weight" in state:
        seq_len = state["embed_pos.embedding_weight"].shape[0] - (puzzle_emb_len if puzzle_emb_ndim else 0)
    elif known:
        seq_len = known[1]
        notes.append(f"seq_len {seq_len} guessed from vocab {vocab} ({known[0]}); pass seq_len to override")
    else:
        raise CheckpointError(f"cannot infer seq_len for an attention model with vocab {vocab}: "
                              "pass all_config.yaml or a seq_len override")
    if "L_cycles" not in arch:
        notes.append(f"L_cycles {known[2] if known else 6} is the paper default for this task, not read from a config")
    if "H_cycles" not in arch:
        notes.append("H_cycles 3 is the paper default, not read from a config")
    pos = arch.get("pos_encodings")
    if pos is None:
        pos = "learned" if "embed_pos.embedding_weight" in state else ("none" if mlp_t else "rope")
    cfg = TRMConfig(
        vocab_size=int(vocab), seq_len=int(seq_len),
        num_puzzle_identifiers=int(pe.shape[0]) if pe is not None else int(arch.get("num_puzzle_identifiers", 1)),
        hidden_size=int(hidden), num_heads=int(arch.get("num_heads", max(1, hidden // 64))),
        expansion=expansion, L_layers=len(layer_ids),
        H_cycles=int(arch.get("H_cycles", 3)), L_cycles=int(arch.get("L_cycles", known[2] if known else 6)),
        halt_max_steps=int(arch.get("halt_max_steps", 16)),
        halt_exploration_prob=float(arch.get("halt_exploration_prob", 0.1)),
        puzzle_emb_ndim=puzzle_emb_ndim, puzzle_emb_len=puzzle_emb_len, pos_encodings=str(pos), mlp_t=mlp_t,
        rms_norm_eps=float(arch.get("rms_norm_eps", 1e-5)), rope_theta=float(arch.get("rope_theta", 10000.0)),
        no_ACT_continue=bool(arch.get("no_ACT_continue", True)),
    )
    return cfg, notes


def load_official(raw: dict[str, torch.Tensor], config_path: str | Path | None = None,
                  overrides: dict[str, Any] | None = None) -> Checkpoint:
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
    return Checkpoint(cfg, state, meta, "official", {"notes": notes, "config_file": str(config_path) if config_path else None})
