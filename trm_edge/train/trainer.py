"""The training loop: one supervision step per optimizer step, with a persistent ACT carry (official recipe)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import DataSpec, PuzzleSet, augment, exact_accuracy, load_splits
from ..model import ACTModel, TRM, TRMConfig
from ..model.checkpoint import load_checkpoint, read_file, save_checkpoint
from ..runtime.reference import solve_with_model
from .ema import EMA
from .loss import IGNORE_LABEL_ID, act_loss
from .presets import TrainConfig


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
    return torch.device(requested)


class BatchSampler:
    """Random training puzzles, freshly augmented each draw, as tensors on the device."""

    def __init__(self, data: PuzzleSet, batch_size: int, device: torch.device, seed: int, use_augment: bool = True):
        self.data, self.batch_size, self.device = data, batch_size, device
        self.rng = np.random.default_rng(seed)
        self.use_augment = use_augment

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.rng.integers(0, len(self.data), self.batch_size)
        batch = self.data.subset(idx)
        if self.use_augment:
            batch = augment(batch, self.rng)
        labels = batch.labels.copy()
        if batch.meta.ignore_label_id is not None:
            labels[labels == batch.meta.ignore_label_id] = IGNORE_LABEL_ID
        as_t = lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device)
        return as_t(batch.inputs), as_t(labels), as_t(batch.puzzle_identifiers)


def lr_at(step: int, cfg: TrainConfig, base: float) -> float:
    """Linear warm-up then constant (the official cosine schedule with min ratio 1)."""
    return base * min(1.0, (step + 1) / max(1, cfg.lr_warmup_steps))


@dataclass
class TrainResult:
    checkpoint: Path
    test_accuracy: float
    minutes: float
    steps: int


def evaluate(model: TRM, data: PuzzleSet, device: torch.device, halting: str = "fixed") -> dict[str, float]:
    res = solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=halting, device=device)
    exact = exact_accuracy(res.predictions, data.labels, data.meta.ignore_label_id)
    mask = data.labels != data.meta.ignore_label_id if data.meta.ignore_label_id is not None else np.ones_like(data.labels, bool)
    cell = float(((res.predictions == data.labels) & mask).sum() / mask.sum())
    return {"exact_accuracy": float(exact.mean()), "cell_accuracy": cell, "mean_steps": float(res.steps.mean()),
            "puzzles": len(data)}


def train(spec: DataSpec, cfg: TrainConfig, out_dir: str | Path, device: str = "auto", resume: str | Path | None = None,
          progress: bool = True, log: Callable[[str], None] = print) -> TrainResult:
    """Train a TRM on `spec`, writing `checkpoint.pt` (EMA weights + resume state) and `train_log.jsonl`."""
    dev = pick_device(device)
    torch.manual_seed(cfg.seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_set, test_set = load_splits(spec)
    test_set = test_set.subset(slice(0, cfg.eval_puzzles))
    meta = train_set.meta
    arch = dict(cfg.arch)
    arch.update(vocab_size=meta.vocab_size, seq_len=meta.seq_len,
                num_puzzle_identifiers=max(meta.num_puzzle_identifiers, test_set.meta.num_puzzle_identifiers))
    config = TRMConfig.from_dict(arch)
    model = TRM(config).to(dev)
    act = ACTModel(model).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    ema = EMA(model, cfg.ema_rate) if cfg.ema else None
    start = 0
    if resume:
        start = _restore(resume, model, opt, ema, config)
        log(f"resumed from {resume} at step {start}")
    log(f"training {config.mlp_t and 'MLP' or 'attention'} TRM, {model.num_parameters():,} params, on {dev} "
        f"({len(train_set)} train / {len(test_set)} test puzzles, {spec.task} {spec.grid_size}x{spec.grid_size})")
    sampler = BatchSampler(train_set, cfg.batch_size, dev, cfg.seed + start)
    autocast = dict(device_type=dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")
    inputs, labels, ids = sampler.next()
    state = act.initial_state(inputs, labels, ids)
    t0 = time.time()
    log_path = out / "train_log.jsonl"
    ckpt_path = out / "checkpoint.pt"
    running: dict[str, float] = {}
    metrics: dict[str, float] = {}
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress, desc="train", unit="step")
    with log_path.open("a") as log_fh:
        for step in bar:
            inputs, labels, ids = sampler.next()
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg, cfg.lr)
            with torch.autocast(**autocast):
                state, output = act(state, inputs, labels, ids)
                loss, stats = act_loss(output.logits, output.q_halt, state.labels)
            opt.zero_grad(set_to_none=True)
            (loss / cfg.batch_size).backward()
            opt.step()
            if config.puzzle_emb_ndim > 0:
                model.puzzle_emb.sign_sgd_step(lr_at(step, cfg, cfg.puzzle_emb_lr), cfg.puzzle_emb_weight_decay)
            if ema is not None:
                ema.update(model)
            halted = state.halted
            n_halted = int(halted.sum())
            if n_halted:
                running = _smooth(running, {
                    "loss": float(loss.detach()) / cfg.batch_size,
                    "acc": float(stats["seq_correct"][halted].float().mean()),
                    "cell": float(stats["token_correct"][halted].mean()),
                    "steps": float(state.steps[halted].float().mean()),
                })
            bar.set_postfix(loss=f"{running.get('loss', 0):.3f}", acc=f"{running.get('acc', 0):.3f}",
                            steps=f"{running.get('steps', 0):.1f}")
            last = step + 1 == cfg.steps
            if (step + 1) % cfg.eval_every == 0 or last:
                eval_model = _ema_model(model, ema)
                metrics = evaluate(eval_model, test_set, dev)
                record = {"step": step + 1, "minutes": (time.time() - t0) / 60, "train": running, "test": metrics}
                log_fh.write(json.dumps(record) + "\n")
                log_fh.flush()
                bar.write(f"step {step + 1}: test exact {metrics['exact_accuracy']:.3f} "
                          f"cell {metrics['cell_accuracy']:.3f} ({record['minutes']:.1f} min)")
                save_checkpoint(ckpt_path, model, meta, info={
                    "step": step + 1, "train_config": cfg.to_dict(), "data_spec": spec.__dict__,
                    "test_metrics": metrics, "device": str(dev), "minutes": record["minutes"],
                }, training_state={"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "ema": ema.state_dict() if ema else None, "step": step + 1},
                    state_dict=ema.state_dict() if ema else None)
                model.train()
    minutes = (time.time() - t0) / 60
    return TrainResult(ckpt_path, metrics.get("exact_accuracy", float("nan")), minutes, cfg.steps)


def _smooth(running: dict[str, float], new: dict[str, float], rate: float = 0.95) -> dict[str, float]:
    return {k: (rate * running[k] + (1 - rate) * v) if k in running else v for k, v in new.items()}


def _ema_model(model: TRM, ema: EMA | None) -> TRM:
    if ema is None:
        return model.eval()
    copy = TRM(model.config).to(next(model.parameters()).device)
    copy.load_state_dict({k: v.to(copy.state_dict()[k].dtype) for k, v in ema.state_dict().items()})
    return copy.eval()


def _restore(path: str | Path, model: TRM, opt: torch.optim.Optimizer, ema: EMA | None, config: TRMConfig) -> int:
    ckpt = load_checkpoint(path)
    if ckpt.config != config:
        raise ValueError(f"cannot resume: {path} was trained with a different model config")
    raw = read_file(path)
    state = raw.get("training_state")
    if not state:
        raise ValueError(f"cannot resume: {path} has no training state (exported or official checkpoints hold weights only)")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    if ema is not None and state.get("ema"):
        ema.load_state_dict(state["ema"])
    return int(state["step"])
