"""Named presets: the paper's configurations and small ones that train on a laptop CPU."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..data.spec import DataSpec
from ..limits import MAX_BATCH, MAX_PUZZLES, MAX_TRAIN_STEPS, check_count
from ..schema import check_values, load_yaml


@dataclass
class TrainConfig:
    """Everything a training run needs besides the data: model arch fields and optimisation."""

    arch: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 768
    lr: float = 1e-4
    lr_warmup_steps: int = 2000
    weight_decay: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.95
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    ema: bool = True
    ema_rate: float = 0.999
    steps: int = 50_000
    eval_every: int = 2_000
    eval_puzzles: int = 200
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        """Refuse settings that would crash mid-run or silently do nothing."""
        for name in ("steps", "batch_size", "eval_every", "eval_puzzles"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        for name, low, high in (("batch_size", 1, MAX_BATCH), ("steps", 1, MAX_TRAIN_STEPS),
                                ("eval_puzzles", 1, MAX_PUZZLES), ("lr_warmup_steps", 0, MAX_TRAIN_STEPS),
                                ("seed", 0, (1 << 32) - 1)):
            check_count(f"--{name.replace('_', '-')}", getattr(self, name), low, high)
        if not 0 < self.lr < float("inf"):
            raise ValueError(f"lr must be a positive finite number (got {self.lr})")
        if self.lr_warmup_steps < 0:
            raise ValueError(f"lr-warmup-steps must be >= 0 (got {self.lr_warmup_steps})")


@dataclass
class Preset:
    description: str
    data: DataSpec
    train: TrainConfig


_PAPER = dict(hidden_size=512, num_heads=8, expansion=4, L_layers=2, H_cycles=3, halt_max_steps=16,
              puzzle_emb_ndim=512, puzzle_emb_len=16)

def _tiny_train() -> TrainConfig:
    """The CPU-sized recipe: hidden 64, T=2, n=2, N_sup=8, narrow SwiGLU, fast EMA for short runs."""
    return TrainConfig(arch=dict(hidden_size=64, expansion=2, L_layers=2, H_cycles=2, L_cycles=2, halt_max_steps=8,
                                 mlp_t=True, pos_encodings="none", puzzle_emb_ndim=64, puzzle_emb_len=1,
                                 ffn_multiple=32),
                       batch_size=128, lr=2e-3, lr_warmup_steps=100, weight_decay=0.1, ema_rate=0.99, steps=1500,
                       eval_every=250, eval_puzzles=500)


_SUDOKU9_ARCH = dict(hidden_size=128, expansion=2, L_layers=2, H_cycles=2, L_cycles=2, halt_max_steps=16, mlp_t=True,
                     pos_encodings="none", puzzle_emb_ndim=128, puzzle_emb_len=1, ffn_multiple=32)

PRESETS: dict[str, Preset] = {
    "sudoku4-tiny": Preset(
        "4x4 Sudoku, 41k-parameter MLP-mixer TRM; trains to high accuracy on a 2-core CPU in minutes (default)",
        DataSpec(task="sudoku", grid_size=4, train_puzzles=1000, test_puzzles=500), _tiny_train()),
    "sudoku6-tiny": Preset(
        "6x6 Sudoku, the same MLP-mixer TRM (52k parameters); about 1250 steps to solve held-out puzzles",
        DataSpec(task="sudoku", grid_size=6, train_puzzles=1000, test_puzzles=500), _tiny_train()),
    "sudoku9": Preset(
        "9x9 Sudoku, 214k-parameter MLP-mixer TRM sized for a 2-core CPU (47 min here); puzzles with 20-50 givens",
        DataSpec(task="sudoku", grid_size=9, train_puzzles=20_000, test_puzzles=1000, givens=(20, 50)),
        TrainConfig(arch=dict(_SUDOKU9_ARCH), batch_size=64, lr=1e-3, lr_warmup_steps=300, weight_decay=0.1, ema_rate=0.999, steps=12_000,
                    eval_every=1000, eval_puzzles=500)),
    "sudoku9-hard": Preset(
        "9x9 Sudoku, the sudoku9 network continued on harder puzzles (17-34 givens: most are minimal); "
        "start it with --resume models/sudoku9/checkpoint.pt",
        DataSpec(task="sudoku", grid_size=9, train_puzzles=50_000, test_puzzles=1000, givens=(17, 34)),
        TrainConfig(arch=dict(_SUDOKU9_ARCH), batch_size=64, lr=1e-3, lr_warmup_steps=300, weight_decay=0.1,
                    ema_rate=0.999, steps=60_000, eval_every=2000, eval_puzzles=500)),
    "sudoku9-deep": Preset(
        "the sudoku9-hard network and data trained on at T=4, n=1 (tried: it lost on minimal puzzles, see "
        "models/sudoku9-hard/README.md); start it with --resume models/sudoku9-hard/checkpoint.pt",
        DataSpec(task="sudoku", grid_size=9, train_puzzles=50_000, test_puzzles=1000, givens=(17, 34)),
        TrainConfig(arch=_SUDOKU9_ARCH | dict(H_cycles=4, L_cycles=1), batch_size=64, lr=1e-3, lr_warmup_steps=300,
                    weight_decay=0.1, ema_rate=0.999, steps=60_000, eval_every=2000, eval_puzzles=500)),
    "maze-small": Preset(
        "11x11 maze shortest path, small attention TRM for a CPU",
        DataSpec(task="maze", grid_size=11, train_puzzles=2000, test_puzzles=300),
        TrainConfig(arch=dict(hidden_size=64, num_heads=2, expansion=2, L_layers=2, H_cycles=2, L_cycles=2,
                              halt_max_steps=8, pos_encodings="rope", puzzle_emb_ndim=64, puzzle_emb_len=1),
                    batch_size=64, lr=1e-3, lr_warmup_steps=200, weight_decay=0.1, steps=6000, eval_every=1000)),
    "sudoku-mlp": Preset(
        "the paper's Sudoku-Extreme TRM-MLP (5.0M params, T=3, n=6): GPU scale",
        DataSpec(task="sudoku", grid_size=9, train_puzzles=1000, test_puzzles=1000),
        TrainConfig(arch=_PAPER | dict(L_cycles=6, mlp_t=True, pos_encodings="none"),
                    lr=1e-4, puzzle_emb_lr=1e-4, weight_decay=1.0, puzzle_emb_weight_decay=1.0, steps=50_000)),
    "sudoku-att": Preset(
        "the paper's Sudoku-Extreme TRM-Att (6.8M params, T=3, n=6): GPU scale",
        DataSpec(task="sudoku", grid_size=9, train_puzzles=1000, test_puzzles=1000),
        TrainConfig(arch=_PAPER | dict(L_cycles=6, pos_encodings="rope"),
                    lr=1e-4, puzzle_emb_lr=1e-4, weight_decay=1.0, puzzle_emb_weight_decay=1.0, steps=50_000)),
    "maze-att": Preset(
        "the paper's Maze-Hard TRM-Att (6.8M params, T=3, n=4; 30x30 mazes): GPU scale",
        DataSpec(task="maze", grid_size=30, train_puzzles=1000, test_puzzles=1000),
        TrainConfig(arch=_PAPER | dict(L_cycles=4, pos_encodings="rope"),
                    lr=1e-4, puzzle_emb_lr=1e-4, weight_decay=1.0, puzzle_emb_weight_decay=1.0, steps=50_000)),
}
DEFAULT_PRESET = "sudoku4-tiny"


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def recorded_run(checkpoint: Path) -> Preset | None:
    """The run a trm-edge checkpoint was trained by (its data spec and training config, saved in it): what
    `train --resume CK` continues when no --preset is named; None when it records no run (the default preset
    then applies, and resuming checks that the weights fit it)."""
    from ..model.checkpoint import load_checkpoint

    info = load_checkpoint(checkpoint).info or {}
    if not isinstance(info.get("train_config"), dict) or not isinstance(info.get("data_spec"), dict):
        return None
    saved = info["train_config"]
    check_values(TrainConfig, saved, f"{checkpoint}: train_config")
    train = TrainConfig(**{k: v for k, v in saved.items() if k in TrainConfig.__dataclass_fields__})
    return Preset(f"the run recorded in {checkpoint}", DataSpec.from_saved(info["data_spec"]), train)


@dataclass
class RunChoice:
    """What a `trm-edge train` command line asks for: a preset (or the run a resumed checkpoint records), a config
    file on top, then single changes to the data, the training and the model (None: as the preset has it)."""

    preset: str | None = None
    resume: Path | None = None
    config: Path | None = None
    data: dict[str, Any] = field(default_factory=dict)     # DataSpec fields
    train: dict[str, Any] = field(default_factory=dict)    # TrainConfig fields
    arch: dict[str, Any] = field(default_factory=dict)     # model fields


def plan_run(choice: RunChoice) -> tuple[DataSpec, TrainConfig, Path]:
    """The data, the training config and the default run folder a command line means, in the order a person
    expects: the preset (or a resumed run as recorded, in its own folder), the config file, then each option."""
    recorded = recorded_run(choice.resume) if choice.preset is None and choice.resume is not None else None
    if recorded is not None:   # continue the run as it was, where it was
        preset, folder = recorded, choice.resume.parent
    else:
        name = choice.preset or DEFAULT_PRESET
        preset, folder = get_preset(name), Path("runs") / name
    if choice.config is not None:
        preset = with_config_file(preset, choice.config)
    spec = replace(preset.data, **_given(choice.data))
    cfg = with_arch(replace(preset.train, **_given(choice.train)), _given(choice.arch))
    return spec, cfg, folder


def _given(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if v is not None}


def with_config_file(preset: Preset, path: Path) -> Preset:
    """The preset with a YAML or JSON file's changes on top: `data:` (DataSpec fields), `train:` (TrainConfig
    fields) and `arch:` (model fields, e.g. hidden_size, H_cycles, L_cycles, halt_max_steps). Unknown keys are
    refused, so a typo does not silently train the preset's model."""
    raw = load_yaml(path) or {}   # YAML reads JSON too; a regular file of bounded size, aliases bounded
    unknown = set(raw) - {"data", "train", "arch"} if isinstance(raw, dict) else {"(not a mapping)"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; use data, train and arch")
    data = _replace(preset.data, raw.get("data") or {}, path, "data")
    train = _replace(preset.train, raw.get("train") or {}, path, "train")
    return Preset(preset.description, data, with_arch(train, raw.get("arch") or {}, path))


def with_arch(cfg: TrainConfig, changes: dict[str, Any], source: str | Path = "the command line") -> TrainConfig:
    """The train config with model fields changed (checked against TRMConfig's fields)."""
    from ..model.config import TRMConfig

    unknown = set(changes) - set(TRMConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{source}: unknown model field(s) {', '.join(sorted(unknown))}")
    check_values(TRMConfig, changes, f"{source}: arch")
    return replace(cfg, arch={**cfg.arch, **changes})


def _replace(obj, changes: dict[str, Any], path: Path, section: str):
    if not isinstance(changes, dict):
        raise ValueError(f"{path}: {section} must be a mapping of field: value")
    unknown = set(changes) - (set(type(obj).__dataclass_fields__) - {"arch"})   # model fields go under arch:
    if unknown:
        raise ValueError(f"{path}: unknown {section} field(s) {', '.join(sorted(unknown))}")
    check_values(type(obj), changes, f"{path}: {section}")
    return replace(obj, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in changes.items()})
