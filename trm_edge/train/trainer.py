"""The training loop: one supervision step per optimizer step, with a persistent ACT carry (official recipe)."""
from __future__ import annotations

import json
import math
import secrets
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import DataSpec, PuzzleSet, exact_accuracy
from ..datasets import augment, load_splits
from ..datasets.splits import split_note
from ..errors import Interrupted
from ..files import check_writable_dir, replace_file
from ..model import ACTModel, TRM, TRMConfig
from ..model.checkpoint import load_checkpoint, read_file, save_checkpoint
from ..progress import silent, step_bar
from ..runtime.reference import solve_with_model
from ..runtime.tries import score_puzzle_set, solve_puzzle_set
from ..tasks import get_task
from ..budget import BUDGET
from . import distributed
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

    def __init__(self, data: PuzzleSet, batch_size: int, device: torch.device, seed: int, use_augment: bool = True,
                 rows: slice = slice(None)):
        """`batch_size` is the global batch; `rows` the slice this process keeps (data parallel)."""
        self.data, self.batch_size, self.device = data, batch_size, device
        self.rng = np.random.default_rng(seed)
        self.use_augment = use_augment
        self.rows = rows

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.rng.integers(0, len(self.data), self.batch_size)
        batch = self.data.subset(idx)
        if self.use_augment:
            batch = augment(batch, self.rng)
        batch = batch.subset(self.rows)   # every rank draws the same global batch and keeps its own rows
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
    reports: bool = True    # the process that evaluates and writes (rank 0): the one that says what was done


def evaluate(model: TRM, data: PuzzleSet, device: torch.device, halting: str = "fixed",
             max_steps: int | None = None, on_step=None) -> dict[str, float]:
    res = solve_with_model(model, data.inputs, data.puzzle_identifiers, max_steps, halting=halting, device=device,
                           on_step=on_step)
    exact = exact_accuracy(res.predictions, data.labels, data.meta.ignore_label_id)
    mask = data.labels != data.meta.ignore_label_id if data.meta.ignore_label_id is not None else np.ones_like(data.labels, bool)
    cell = float(((res.predictions == data.labels) & mask).sum() / mask.sum())
    return {"exact_accuracy": float(exact.mean()), "cell_accuracy": cell, "mean_steps": float(res.steps.mean()),
            "puzzles": len(data)}


def evaluate_with_tries(model: TRM, data: PuzzleSet, device: torch.device, halting, max_steps: int,
                        tries: int) -> dict[str, float]:
    """Accuracy when each puzzle may be tried as up to `tries` views of itself, answers checked by the task's rules
    (runtime/tries.py), with the fraction verified and the verified answers that are wrong."""
    def run(x, ids, rule, steps):
        return solve_with_model(model, x, ids, steps, halting=rule, device=device)

    with step_bar(len(data), f"evaluate ({len(data)} puzzles, up to {tries} tries)") as bar:
        outcomes = solve_puzzle_set(run, data, halting, max_steps, tries, TRIES_CHUNK,
                                    lambda done: bar.update(done - bar.n))
    return score_puzzle_set(outcomes, data)


TRIES_CHUNK = 256   # puzzles per round of copies: progress between chunks, the stream full inside one


def check_run_folder(out: Path, resume: str | Path | None, overwrite: bool) -> None:
    """Refuse, before any work, to replace a trained run by accident or to train into a folder we cannot write."""
    taken = [name for name in ("checkpoint.pt", "train_log.jsonl") if (out / name).exists()]
    continues_it = resume is not None and (out / "checkpoint.pt").exists() and \
        Path(resume).resolve() == (out / "checkpoint.pt").resolve()
    if taken and not overwrite and not continues_it:
        hint = f"--resume {out / 'checkpoint.pt'} to continue it, " if not resume else ""
        raise FileExistsError(f"{out} already holds a run ({', '.join(taken)}): pass {hint}--overwrite to start "
                              "over there, or another --out")
    check_writable_dir(out)


@dataclass
class TrainJob:
    """One training run: the data, the config, where it writes, and how it reports."""

    spec: DataSpec
    cfg: TrainConfig
    out_dir: str | Path
    device: str = "auto"
    resume: str | Path | None = None              # a checkpoint to continue (same network; T and n may differ)
    progress: bool = True
    log: Callable[[str], None] = silent
    overwrite: bool = False


def train(*args, **kwargs) -> TrainResult:
    """Train a TRM on `spec`, writing `checkpoint.pt` (EMA weights + resume state) and `train_log.jsonl` (the
    arguments are TrainJob's)."""
    return run_training(TrainJob(*args, **kwargs))


def run_training(job: TrainJob) -> TrainResult:
    job.cfg.validate()
    ranks = distributed.from_env()
    if job.cfg.batch_size % ranks.world:
        raise ValueError(f"batch size {job.cfg.batch_size} does not split over {ranks.world} processes")
    dev = distributed.setup(ranks, pick_device(job.device))
    job = replace(job, out_dir=Path(job.out_dir), progress=job.progress and ranks.is_main,
                  log=job.log if ranks.is_main else silent)
    try:
        return _train(job, dev, ranks)
    finally:
        distributed.teardown(ranks)


@dataclass
class _Parts:
    """What a run trains and checks against: the model, its optimizer and EMA, the held-out puzzles."""

    model: TRM
    opt: torch.optim.Optimizer
    ema: EMA | None
    meta: object
    test_set: PuzzleSet
    dev: torch.device


def _train(job: TrainJob, dev: torch.device, ranks: distributed.Ranks) -> TrainResult:
    spec, cfg, out, resume, log = job.spec, job.cfg, job.out_dir, job.resume, job.log
    torch.manual_seed(cfg.seed)
    if ranks.is_main:
        check_run_folder(out, resume, job.overwrite)
    if not spec.path:   # the model a generated task asks for, counted before any puzzle is made
        planned = get_task(spec.task).meta(spec.grid_size, 1)
        _check_model_size(dict(cfg.arch, vocab_size=planned.vocab_size, seq_len=planned.seq_len))
    log(f"preparing data: {spec.path or f'{spec.train_puzzles} + {spec.test_puzzles} generated {spec.task} puzzles'} "
        "(generated sets are cached)")
    train_set, test_set = load_splits(spec)
    test_set = test_set.subset(slice(0, cfg.eval_puzzles))
    meta = train_set.meta
    arch = dict(cfg.arch)
    arch.update(vocab_size=meta.vocab_size, seq_len=meta.seq_len,
                num_puzzle_identifiers=max(meta.num_puzzle_identifiers, test_set.meta.num_puzzle_identifiers))
    config = TRMConfig.from_dict(arch)
    if spec.path:   # a generated task's model was counted before its puzzles were made
        _check_model_size(arch)
    model = TRM(config).to(dev)
    opt = _adamw(model, cfg)
    ema = EMA(model, cfg.ema_rate) if cfg.ema else None
    start = _restore(resume, model, opt, ema, config) if resume else 0
    if resume and cfg.steps <= start:
        raise ValueError(f"{resume} is already at step {start}: --steps is the total to reach, so pass more than "
                         f"{start} (nothing was written)")
    if resume:
        log(f"resumed from {resume} at step {start}{_depth_note(resume, config)}")
    created = not out.exists()
    if ranks.is_main:
        out.mkdir(parents=True, exist_ok=True)   # only now: every check above runs before anything is written
    log(f"training {config.mlp_t and 'MLP' or 'attention'} TRM, {model.num_parameters():,} params, on {dev} "
        f"({len(train_set)} train / {len(test_set)} test puzzles, {spec.task} {spec.grid_size}x{spec.grid_size})"
        + (f", {ranks.world} processes of {cfg.batch_size // ranks.world} rows" if ranks.active else ""))
    if split_note(spec):
        log(split_note(spec))
    run = _Run(job, _Parts(model, opt, ema, meta, test_set, dev), ranks)
    if resume and ranks.is_main:
        run.run_id = RunLog.resume(run.log_path, Path(resume), start)
    sampler = BatchSampler(train_set, cfg.batch_size, dev, cfg.seed + start, rows=ranks.shard(cfg.batch_size))
    act = ACTModel(model, shard=(ranks.rank, ranks.world) if ranks.active else None).train()
    with _interrupt_note(run, had_checkpoint=(out / "checkpoint.pt").exists(), created=out if created else None):
        metrics = run.loop(act, sampler, start, resume is not None, job.progress)
    return TrainResult(run.ckpt_path, metrics.get("exact_accuracy", float("nan")), (time.time() - run.t0) / 60,
                       cfg.steps, reports=ranks.is_main)


class _Run:
    """One training run's loop, periodic evaluation and checkpoint writes."""

    def __init__(self, job: TrainJob, parts: _Parts, ranks: distributed.Ranks = distributed.Ranks()) -> None:
        self.spec, self.cfg, self.log, self.ranks = job.spec, job.cfg, job.log, ranks
        self.meta, self.model, self.opt, self.ema = parts.meta, parts.model, parts.opt, parts.ema
        self.dev, self.test_set = parts.dev, parts.test_set
        self.ckpt_path, self.log_path = Path(job.out_dir) / "checkpoint.pt", Path(job.out_dir) / "train_log.jsonl"
        self.saved_step: int | None = None
        self.run_id = secrets.token_hex(8)   # in the checkpoint and every log record: a resume keeps only its own
        self.t0 = time.time()

    def loop(self, act: ACTModel, sampler: BatchSampler, start: int, append_log: bool, progress: bool) -> dict:
        """Train from `start` to cfg.steps; the log is appended to on resume, started afresh otherwise."""
        cfg = self.cfg
        autocast = dict(device_type=self.dev.type, dtype=torch.bfloat16, enabled=self.dev.type == "cuda")
        state = act.initial_state(*sampler.next())
        stats_acc = TrainStats(self.dev)
        running: dict[str, float] = {}
        metrics: dict[str, float] = {}
        live = progress and sys.stderr.isatty()   # a redrawn bar only on a terminal; eval lines always
        bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not live, desc="train", unit="step")
        run_log = RunLog(self.log_path, append=append_log)
        try:
            for step in bar:
                state, loss, stats = self.train_step(act, state, sampler.next(), step, autocast)
                stats_acc.add(loss, stats, state, cfg.batch_size)
                if live and (step + 1) % 50 == 0:   # the bar's figures: one host sync every 50 steps
                    running = stats_acc.read() or running
                    bar.set_postfix(loss=f"{running.get('loss', 0):.3f}", acc=f"{running.get('acc', 0):.3f}",
                                    steps=f"{running.get('steps', 0):.1f}")
                if ((step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps) and self.ranks.is_main:
                    running = stats_acc.read() or running
                    metrics = self.evaluate_and_save(step + 1, running, run_log)
                    (bar.write if live else self.log)(
                        f"step {step + 1}: test exact {metrics['exact_accuracy']:.3f} "
                        f"cell {metrics['cell_accuracy']:.3f} ({(time.time() - self.t0) / 60:.1f} min)")
                if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
                    distributed.barrier(self.ranks)   # the others wait while rank 0 evaluates and writes
        finally:
            bar.close()
        return metrics

    def train_step(self, act: ACTModel, state, batch, step: int, autocast: dict):
        """One optimizer step on one deep-supervision step of the (global) batch."""
        cfg, model = self.cfg, self.model
        for group in self.opt.param_groups:
            group["lr"] = lr_at(step, cfg, cfg.lr)
        with torch.autocast(**autocast):
            state, output = act(state, *batch)
            loss, stats = act_loss(output.logits, output.q_halt, state.labels)
        self.opt.zero_grad(set_to_none=True)
        (loss / cfg.batch_size).backward()   # the global batch: gradients summed over ranks below
        distributed.sum_gradients(model.parameters(), self.ranks)
        self.opt.step()
        if model.config.puzzle_emb_ndim > 0:
            model.puzzle_emb.sign_sgd_step(lr_at(step, cfg, cfg.puzzle_emb_lr), cfg.puzzle_emb_weight_decay,
                                           gather=lambda t: distributed.gather_rows(t, self.ranks))
        if self.ema is not None:
            self.ema.update(model)
        return state, loss, stats

    def evaluate_and_save(self, step: int, running: dict[str, float], run_log: "RunLog") -> dict[str, float]:
        """Evaluate the EMA weights, write the checkpoint, then its log line; a diverged run stops here and
        keeps the last good checkpoint."""
        self.check_finite(step, running)
        metrics = evaluate(_ema_model(self.model, self.ema), self.test_set, self.dev)
        minutes = (time.time() - self.t0) / 60
        ema = self.ema
        save_checkpoint(self.ckpt_path, self.model, self.meta, info={
            "step": step, "train_config": self.cfg.to_dict(), "data_spec": self.spec.__dict__,
            "test_metrics": metrics, "device": str(self.dev), "minutes": minutes, "run_id": self.run_id,
        }, training_state={"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                           "ema": ema.state_dict() if ema else None, "step": step},
            state_dict=ema.state_dict() if ema else None)
        self.saved_step = step
        run_log.write({"step": step, "minutes": minutes, "train": running, "test": metrics, "run": self.run_id})
        self.model.train()
        return metrics

    def check_finite(self, step: int, running: dict[str, float]) -> None:
        weights = list(self.model.parameters()) + ([*self.ema.state_dict().values()] if self.ema else [])
        loss = running.get("loss", 0.0)
        if math.isfinite(loss) and all(bool(torch.isfinite(w).all()) for w in weights):
            return
        kept = (f"kept {self.ckpt_path} from step {self.saved_step}" if self.saved_step
                else "no checkpoint was written by this run")
        raise TrainingDiverged(f"training diverged by step {step} (loss {loss:.3g}, or weights hold NaN/infinity); "
                               f"{kept}; try a lower --lr")


class TrainingDiverged(ValueError):
    """Non-finite loss or weights: the run stops before writing them."""


class RunLog:
    """train_log.jsonl. A fresh run replaces an old log only with its first whole record (written after its
    checkpoint), so a run stopped before that leaves the earlier run's log and checkpoint as they were."""

    def __init__(self, path: Path, append: bool) -> None:
        self.path, self.append = path, append

    @staticmethod
    def resume(path: Path, checkpoint: Path, step: int) -> str:
        """Make the log agree with the checkpoint a run resumes from, before it appends: records of other runs
        (a log left by a run killed between its checkpoint and its first log line) and records past the
        checkpoint's step (a checkpoint whose rename a kill undid) go; a lost record of the checkpoint's own step
        is restored from the checkpoint. The run id it continues."""
        info = load_checkpoint(checkpoint).info or {}
        run_id = info.get("run_id") or secrets.token_hex(8)
        kept, have_step = [], False
        for record in RunLog._records(path):
            same_run = record.get("run", info.get("run_id")) == info.get("run_id")
            if same_run and isinstance(record.get("step"), int) and record["step"] <= step and not (
                    have_step and record["step"] == step):
                kept.append(record)
                have_step |= record["step"] == step
        for record in kept:   # a log written before run ids: its records are this run's from now on
            record["run"] = run_id
        if not have_step:
            kept.append({"step": step, "minutes": info.get("minutes"), "test": info.get("test_metrics"),
                         "run": run_id, "note": "the checkpoint this run resumed from (no log line of its own here)"})
        replace_file(path, lambda tmp: tmp.write_text("".join(json.dumps(r) + "\n" for r in kept)))
        return run_id

    @staticmethod
    def _records(path: Path) -> list[dict]:
        """The whole records of a log (a line cut short by a kill is not one)."""
        if not path.is_file():
            return []
        records = []
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def write(self, record: dict) -> None:
        line = json.dumps(record) + "\n"
        if self.append:
            with self.path.open("a") as fh:
                fh.write(line)
        else:
            replace_file(self.path, lambda tmp: tmp.write_text(line))
            self.append = True


class TrainStats:
    """Training metrics summed on the device and read once per report: no host sync inside the step.
    Loss is per step; accuracy, cells and steps are over the sequences that halted."""

    def __init__(self, device: torch.device) -> None:
        self.sums = torch.zeros(5, dtype=torch.float64, device=device)   # loss, steps counted, halted, acc, cells
        self.steps_sum = torch.zeros((), dtype=torch.float64, device=device)

    def add(self, loss: torch.Tensor, stats: dict, state, batch_size: int) -> None:
        halted = state.halted.double()   # masks, not boolean indexing: indexing would sync with the host
        self.sums += torch.stack([loss.detach().double() / batch_size, torch.ones((), device=halted.device,
                                                                                  dtype=torch.float64),
                                  halted.sum(), (stats["seq_correct"].double() * halted).sum(),
                                  (stats["token_correct"].double() * halted).sum()])
        self.steps_sum += (state.steps.double() * halted).sum()

    def read(self) -> dict[str, float]:
        """Means since the last read (one host sync), then start again."""
        loss, calls, halted, acc, cells = self.sums.tolist()
        steps = float(self.steps_sum)
        self.sums.zero_()
        self.steps_sum.zero_()
        if not calls:
            return {}
        out = {"loss": loss / calls}
        if halted:
            out.update(acc=acc / halted, cell=cells / halted, steps=steps / halted)
        return out


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training; says what was kept."""

    def __init__(self, step: int | None, checkpoint: Path, had_checkpoint: bool) -> None:
        if step:
            kept = f"kept {checkpoint} from step {step}; continue with --resume {checkpoint}"
        elif had_checkpoint:
            kept = f"no checkpoint written by this run; {checkpoint} is still the earlier one"
        else:
            kept = "no checkpoint was written yet"
        super().__init__(f"interrupted: {kept}")


@contextmanager
def _interrupt_note(run: "_Run", had_checkpoint: bool, created: Path | None = None) -> Iterator[None]:
    """Ctrl-C says what was kept; a run folder this run made and left empty (no checkpoint yet) is removed."""
    try:
        yield
    except KeyboardInterrupt:
        if created is not None and run.saved_step is None:
            try:
                created.rmdir()   # only when empty: nothing of anyone's is deleted
            except OSError:
                pass
        raise TrainingInterrupted(run.saved_step, run.ckpt_path, had_checkpoint) from None


def _check_model_size(arch: dict) -> None:
    """Count the parameters a config builds (on the meta device: nothing allocated) against the work budget: a
    100x100 maze for a token-mixing MLP is a 10,000 x 20,000 matrix per layer."""
    with torch.device("meta"):   # the puzzle embedding (876k ARC identifiers in the paper) is sparse: not counted
        params = sum(p.numel() for name, p in TRM(TRMConfig.from_dict(arch)).named_parameters()
                     if "puzzle_emb" not in name)
    BUDGET.check_parameters(params, f"{arch['seq_len']:,} cells of {arch.get('hidden_size', 512)} features")


def _adamw(model: TRM, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where this torch has it for the device (fewer passes over the weights)."""
    kwargs = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    try:
        return torch.optim.AdamW(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(model.parameters(), **kwargs)


def _ema_model(model: TRM, ema: EMA | None) -> TRM:
    if ema is None:
        return model.eval()
    copy = TRM(model.config).to(next(model.parameters()).device)
    copy.load_state_dict({k: v.to(copy.state_dict()[k].dtype) for k, v in ema.state_dict().items()})
    return copy.eval()


def _depth_note(path: str | Path, config: TRMConfig) -> str:
    """Say so when a run continues the same weights at another depth (T, n)."""
    was = load_checkpoint(path).config.depth()
    if was == config.depth():
        return ""
    return f", at T={config.H_cycles}, n={config.L_cycles} (it was trained at T={was['H_cycles']}, n={was['L_cycles']})"


def _restore(path: str | Path, model: TRM, opt: torch.optim.Optimizer, ema: EMA | None, config: TRMConfig) -> int:
    ckpt = load_checkpoint(path)
    if not ckpt.config.same_weights_as(config):
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
