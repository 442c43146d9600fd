"""Checkpoints: our self-describing file, and the official repository's bare state dicts."""
from __future__ import annotations

import dataclasses
import errno
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data.puzzles import DatasetMeta
from ..errors import CheckpointError
from ..files import sha256_of
from .official import is_official_state_dict, load_official
from .config import TRMConfig
from ..settings import INFO_KEY, InferenceSettings
from .trm import TRM

FORMAT = "trm-edge-checkpoint"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """Weights plus everything needed to rebuild, feed and describe the model."""

    config: TRMConfig
    state_dict: dict[str, torch.Tensor]
    data_meta: DatasetMeta | None = None
    source: str = "trm-edge"
    info: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None

    @property
    def settings(self) -> InferenceSettings | None:
        """The inference settings recorded with these weights (None: none recorded)."""
        return InferenceSettings.from_dict((self.info or {}).get(INFO_KEY))

    def build_model(self, device: str | torch.device = "cpu") -> TRM:
        """The model in eval mode with these weights (strictly checked)."""
        model = TRM(self.config)
        load_weights(model, self.state_dict)
        return model.to(device).eval()

    def check_fits(self, data: DatasetMeta, what: str = "the puzzles") -> None:
        """Refuse puzzles of another size or alphabet than the model's, before any work."""
        c = self.config
        if data.seq_len != c.seq_len or data.vocab_size > c.vocab_size:
            grid = "x".join(map(str, data.grid_shape)) + " " if data.grid_shape else ""
            mine = "x".join(map(str, self.data_meta.grid_shape)) + " " if self.data_meta and self.data_meta.grid_shape else ""
            raise CheckpointError(f"{what} are {grid}grids of {data.seq_len} cells and {data.vocab_size} tokens, but "
                                  f"this model was trained on {mine}grids of {c.seq_len} cells and {c.vocab_size} tokens")

    def at_depth(self, h_cycles: int | None = None, l_cycles: int | None = None) -> "Checkpoint":
        """These weights run at another depth (T cycles, n latent updates; None keeps the trained one): every cycle
        shares the network, so any depth runs (results/depth measures what it does to accuracy)."""
        changes = {k: v for k, v in (("H_cycles", h_cycles), ("L_cycles", l_cycles)) if v is not None}
        return dataclasses.replace(self, config=self.config.replace(**changes)) if changes else self

    def check_artifact(self, meta: Any, name: str) -> None:
        """Refuse an artifact exported from a model of another shape than this checkpoint's (its depth may differ:
        `at_depth` runs these weights at the artifact's)."""
        c = self.config
        fields = ("seq_len", "vocab_size", "hidden_size")
        differ = [f"{f} {getattr(meta, f)} vs {getattr(c, f)}" for f in fields if getattr(meta, f) != getattr(c, f)]
        if differ:
            raise CheckpointError(f"{name} was not exported from a model like {self.path} ({', '.join(differ)}): "
                                  "give the checkpoint it was exported from")


def load_weights(model: TRM, state_dict: dict[str, torch.Tensor]) -> None:
    """Strict load with an error that names missing, unexpected and mis-shaped tensors."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: file {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensors (e.g. {', '.join(missing[:4])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {', '.join(unexpected[:4])})")
        if shapes:
            parts.append("shape mismatch: " + "; ".join(shapes[:4]))
        raise CheckpointError("checkpoint does not match the model config: " + " | ".join(parts))
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state_dict.items()}, strict=True)


def save_checkpoint(path: str | Path, model: TRM, data_meta: DatasetMeta | None = None,
                    info: dict[str, Any] | None = None, training_state: dict[str, Any] | None = None,
                    state_dict: dict[str, torch.Tensor] | None = None) -> None:
    """Atomically write our checkpoint (weights = `state_dict` or the model's, e.g. EMA weights)."""
    weights = state_dict if state_dict is not None else model.state_dict()
    payload = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in weights.items()},
        "data_meta": data_meta.to_dict() if data_meta else None,
        "info": info or {},
        "training_state": training_state,
    }
    _write_payload(Path(path), payload)


def record_settings(path: str | Path, settings: InferenceSettings) -> None:
    """Record the inference settings a measurement chose in the checkpoint at `path` (rewritten whole)."""
    raw = read_file(path)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a trm-edge checkpoint (import it first)")
    raw["info"] = {**(raw.get("info") or {}), INFO_KEY: settings.to_dict()}
    _write_payload(Path(path), raw)


def _write_payload(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint's dict atomically: a temp file beside it, fsynced, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                torch.save(payload, fh)
                fh.flush()
                os.fsync(fh.fileno())
            except (RuntimeError, OSError) as exc:
                raise _write_failure(path, exc) from None
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_failure(path: Path, exc: Exception) -> Exception:
    """A failed checkpoint write in words: torch reports a full disk as "[enforce fail at inline_container.cc]
    unexpected pos"; nothing was replaced either way."""
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "unexpected pos" in str(exc) or \
        "file write failed" in str(exc)
    if full:
        return OSError(f"no space left on the device holding {path.parent}: {path.name} was not written "
                       "(nothing was replaced)")
    if isinstance(exc, OSError):
        return exc
    return OSError(f"could not write {path}: {str(exc).splitlines()[0][:200]} (nothing was replaced)")


def remove_stale_temps(path: Path) -> None:
    """Temp files of earlier writes of `path` that a kill left behind."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_file(path: str | Path) -> Any:
    """Unpickle with torch's weights-only loader: tensors and plain containers, never code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = _refused_global(exc)
        if reason:
            raise CheckpointError(f"{path}: refused to load: the file holds Python objects beyond tensors and plain "
                                  f"containers, which could run code ({reason})") from None
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (unreadable pickle data)") from None
    except Exception as exc:  # torch raises many types for foreign files
        raise CheckpointError(f"{path} is not a PyTorch checkpoint ({type(exc).__name__}: {str(exc)[:200]})") from None


def _refused_global(exc: Exception) -> str | None:
    """The line of torch's long weights-only message that names a refused Python object, if it names one."""
    for line in str(exc).splitlines():
        if "GLOBAL" in line:
            return line.split("error:", 1)[-1].strip()[:160]
    return None


def _check_layout(raw: dict, path: str | Path) -> None:
    """Each part of our format has the type the readers expect (a crafted file may put a list anywhere)."""
    expected = {"model_config": dict, "state_dict": dict, "data_meta": (dict, type(None)), "info": (dict, type(None)),
                "training_state": (dict, type(None))}
    for key, kind in expected.items():
        if key in raw and not isinstance(raw[key], kind):
            raise CheckpointError(f"{path}: {key} is a {type(raw[key]).__name__}, not a mapping")
    if "state_dict" not in raw:
        raise CheckpointError(f"{path}: no state_dict")
    odd = [k for k, v in raw["state_dict"].items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if odd:
        raise CheckpointError(f"{path}: state_dict entry {odd[0]!r} is not a named tensor")


def load_checkpoint(path: str | Path, official_config: str | Path | None = None,
                    overrides: dict[str, Any] | None = None) -> Checkpoint:
    """Load either format. Official files are recognised by their key names."""
    raw = read_file(path)
    if isinstance(raw, dict) and raw.get("format") == FORMAT:
        if raw.get("version", 0) > FORMAT_VERSION:
            raise CheckpointError(f"{path}: checkpoint version {raw['version']} is newer than this trm-edge "
                                  f"understands ({FORMAT_VERSION}); upgrade trm-edge")
        _check_layout(raw, path)
        try:
            config = TRMConfig.from_dict(raw["model_config"])
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: bad model_config ({exc})") from None
        try:
            meta = DatasetMeta.from_dict(raw["data_meta"]) if raw.get("data_meta") else None
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: bad data_meta ({exc})") from None
        ckpt = Checkpoint(config, raw["state_dict"], meta, "trm-edge", raw.get("info") or {}, str(path))
    elif isinstance(raw, dict) and is_official_state_dict(raw):
        config, state, meta, info = load_official(raw, official_config, overrides)
        ckpt = Checkpoint(config, state, meta, "official", info, str(path))
    else:
        kind = type(raw).__name__
        sample = ", ".join(list(raw)[:5]) if isinstance(raw, dict) else ""
        raise CheckpointError(f"{path} is not a TRM checkpoint: found a {kind}"
                              + (f" with keys {sample}" if sample else "")
                              + "; expected a trm-edge checkpoint or an official TinyRecursiveModels state dict "
                                "(keys like model.inner.embed_tokens.embedding_weight)")
    ckpt.sha256 = sha256_of(path)
    complex_ = [k for k, v in ckpt.state_dict.items() if isinstance(v, torch.Tensor) and v.is_complex()]
    if complex_:   # casting would drop the imaginary part, NaN and all
        raise CheckpointError(f"{path}: {', '.join(complex_[:3])} hold complex numbers; TRM weights are real")
    load_weights(TRM(ckpt.config), ckpt.state_dict)
    bad = [k for k, v in ckpt.state_dict.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f"{path}: weights hold NaN or infinity ({', '.join(bad[:3])}"
                              f"{f' and {len(bad) - 3} more' if len(bad) > 3 else ''}): the run that wrote it "
                              "diverged; use an earlier checkpoint")
    return ckpt
