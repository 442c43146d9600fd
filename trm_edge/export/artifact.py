"""An exported artifact: a folder with the model file(s), `metadata.json`, `init_state.f32` and a parity report."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

METADATA_FILE = "metadata.json"
INIT_STATE_FILE = "init_state.f32"
PARITY_FILE = "parity.json"
SCHEMA = "trm-edge-artifact/1"


@dataclass
class TensorSpec:
    name: str
    shape: list[int]
    dtype: str


@dataclass
class ArtifactMeta:
    """Everything an app or the bench needs to drive the artifact without PyTorch."""

    target: str
    recursion: str
    quantize: str
    model_file: str
    task: str
    vocab_size: int
    seq_len: int
    grid_shape: list[int] | None
    hidden_size: int
    state_shape: list[int]          # [batch, prefix + seq_len, hidden] of y and z
    prefix_len: int
    H_cycles: int
    L_cycles: int
    halt_max_steps: int
    halting: dict[str, Any]
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    batch: int
    source_checkpoint: str
    source_sha256: str
    tool_versions: dict[str, str]
    init_state: dict[str, Any] = field(default_factory=lambda: {
        "file": INIT_STATE_FILE, "dtype": "float32", "layout": "H_init[hidden] then L_init[hidden], little-endian",
        "use": "broadcast H_init to y and L_init to z over [batch, positions, hidden] before the first step"})
    token_codec: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ArtifactMeta":
        d = dict(d)
        d["inputs"] = [TensorSpec(**t) for t in d["inputs"]]
        d["outputs"] = [TensorSpec(**t) for t in d["outputs"]]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def read_meta(folder: str | Path) -> ArtifactMeta:
    folder = Path(folder)
    path = folder / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a trm-edge artifact: no {METADATA_FILE}")
    try:
        raw = json.loads(path.read_text())
        if raw.get("schema") != SCHEMA:
            raise ValueError(f"unknown schema {raw.get('schema')!r}")
        return ArtifactMeta.from_dict(raw)
    except (json.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not valid artifact metadata ({exc})") from None


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def staged_folder(final: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; it becomes `final` only if the block succeeds,
    so a failed export leaves nothing half-written behind."""
    final = Path(final)
    if final.exists() and not overwrite:
        raise FileExistsError(f"{final} already exists (pass --overwrite to replace it)")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def folder_size(folder: str | Path, model_file: str) -> int:
    """Bytes of the model file, or of the whole package when it is a directory (.mlpackage)."""
    p = Path(folder) / model_file
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size
