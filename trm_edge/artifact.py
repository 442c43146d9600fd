"""The artifact format: a folder with the model file(s), `metadata.json`, `init_state.f32` and a parity report.

It sits below both its writer (export) and its readers (runtime, bench, solve) and imports neither torch
nor any exporter, so the torch-free runtime can read and verify artifacts.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .files import check_writable_file, sha256_of

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
    files: dict[str, str] = field(default_factory=dict)   # relative path -> SHA-256 of every file the artifact runs
    metadata_sha256: str = ""                              # digest of every other field: edits are refused
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ArtifactMeta":
        d = dict(d)
        d["inputs"] = [TensorSpec(**t) for t in d["inputs"]]
        d["outputs"] = [TensorSpec(**t) for t in d["outputs"]]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class ArtifactIntegrityError(ValueError):
    """An artifact whose files or metadata are not the ones its export wrote."""


def read_meta(folder: str | Path) -> ArtifactMeta:
    """The folder's metadata, with every file name it holds checked to stay inside the folder."""
    folder = Path(folder)
    path = folder / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a trm-edge artifact: no {METADATA_FILE}")
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
            raise ValueError(f"unknown schema {raw.get('schema') if isinstance(raw, dict) else None!r}")
        meta = ArtifactMeta.from_dict(raw)
    except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: not valid artifact metadata ({exc})") from None
    for name in [meta.model_file, meta.init_state.get("file", INIT_STATE_FILE), *meta.files]:
        inside(folder, name)
    return meta


def inside(folder: Path, name: str) -> Path:
    """`folder / name`, refusing names that are absolute or climb out of the folder."""
    if not isinstance(name, str) or not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ArtifactIntegrityError(f"{folder / METADATA_FILE}: file name {name!r} points outside the artifact folder")
    return folder / name


def is_artifact(folder: str | Path) -> bool:
    """A folder that trm-edge wrote (its metadata.json names our schema): the only kind --overwrite replaces."""
    try:
        raw = json.loads((Path(folder) / METADATA_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and raw.get("schema") == SCHEMA


def hash_files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder` except the metadata and the parity report (written after)."""
    return {p.relative_to(folder).as_posix(): sha256_of(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in (METADATA_FILE, PARITY_FILE)}


def metadata_digest(meta: ArtifactMeta) -> str:
    d = meta.to_dict()
    d.pop("metadata_sha256", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def write_meta(folder: Path, meta: ArtifactMeta) -> None:
    """Seal the artifact: hash its files, digest the metadata, write metadata.json."""
    meta.files = hash_files(folder)
    meta.metadata_sha256 = metadata_digest(meta)
    write_json(folder / METADATA_FILE, meta.to_dict())


def verify(folder: str | Path) -> ArtifactMeta:
    """Read the metadata and refuse an artifact whose metadata or files changed since export."""
    folder = Path(folder)
    meta = read_meta(folder)
    if not meta.files or not meta.metadata_sha256:
        raise ArtifactIntegrityError(f"{folder}: metadata.json records no file hashes (written by an older trm-edge); "
                                     "export it again")
    if metadata_digest(meta) != meta.metadata_sha256:
        raise ArtifactIntegrityError(f"{folder}: metadata.json was edited after export (its digest does not match); "
                                     "export again rather than editing it")
    needed = {meta.model_file, meta.init_state.get("file", INIT_STATE_FILE)}
    covered = {name for name in needed if name in meta.files or any(f.startswith(name + "/") for f in meta.files)}
    if covered != needed:
        raise ArtifactIntegrityError(f"{folder}: metadata.json has no hash for {', '.join(sorted(needed - covered))}")
    for name, digest in meta.files.items():
        path = inside(folder, name)
        if not path.is_file():
            raise ArtifactIntegrityError(f"{folder}: {name} is missing")
        if sha256_of(path) != digest:
            raise ArtifactIntegrityError(f"{folder}: {name} does not match the SHA-256 recorded at export "
                                         "(the file was replaced or edited)")
    return meta


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def check_destination(final: Path, overwrite: bool = False) -> None:
    """Refuse, before any work, a destination we must not or cannot write: only a trm-edge artifact
    folder is ever replaced, and the parent must be a writable folder."""
    final = Path(final)
    if final.exists() or final.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{final} already exists (pass --overwrite to replace it)")
        if final.is_symlink() or not final.is_dir() or not is_artifact(final):
            raise FileExistsError(f"{final} exists and is not a trm-edge artifact folder: --overwrite only replaces "
                                  "folders that trm-edge export wrote; choose another --out")
    check_writable_file(final.parent / f".{final.name}.partial")


def _clean_leftovers(final: Path) -> None:
    """Staging and replaced folders of earlier exports to `final` that a kill left behind."""
    for pattern in (f".{final.name}.partial-*", f".{final.name}.old-*"):
        for stale in final.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged_folder(final: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; it becomes `final` only if the block succeeds, so a failed
    export leaves nothing half-written. An old artifact is renamed aside, the new one renamed in, and only
    then is the old one removed."""
    final = Path(final)
    check_destination(final, overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(final)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)   # a normal folder once renamed in, not mkdtemp's private 0700
    try:
        yield tmp
        check_destination(final, overwrite)   # the destination may have changed during the export
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
            os.replace(final, old / final.name)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def folder_size(folder: str | Path, model_file: str) -> int:
    """Bytes of the model file, or of the whole package when it is a directory (.mlpackage)."""
    p = Path(folder) / model_file
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size
