"""The artifact format: a folder with the model file(s), `metadata.json`, `init_state.f32` and a parity report.

It sits below both its writer (export) and its readers (runtime, bench, solve) and imports neither torch
nor any exporter, so the torch-free runtime can read and verify artifacts.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .files import check_writable_file, sha256_of, swap_in_folder
from .limits import CONFIG_LIMITS, MAX_SUPERVISION_STEPS, check_count

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
        _check_fields(meta)
    except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid artifact metadata ({exc})") from None
    for name in [meta.model_file, meta.init_state.get("file", INIT_STATE_FILE), *meta.files]:
        inside(folder, name)
    return meta


_COUNTS = {"vocab_size": (1, CONFIG_LIMITS["vocab_size"]), "seq_len": (1, CONFIG_LIMITS["seq_len"]),
           "hidden_size": (1, CONFIG_LIMITS["hidden_size"]), "prefix_len": (0, 1024),
           "H_cycles": (1, CONFIG_LIMITS["H_cycles"]), "L_cycles": (1, CONFIG_LIMITS["L_cycles"]),
           "halt_max_steps": (1, MAX_SUPERVISION_STEPS), "batch": (1, 1 << 16)}


def _check_fields(meta: ArtifactMeta) -> None:
    """Each field has the type its readers use and a bounded size (a hand-made file may hold anything)."""
    for name, (low, high) in _COUNTS.items():
        check_count(name, getattr(meta, name), low, high)
    for name in ("target", "recursion", "quantize", "model_file", "task"):
        if not isinstance(getattr(meta, name), str):
            raise ValueError(f"{name} must be a string")
    for name in ("halting", "init_state", "token_codec", "extra", "files", "tool_versions"):
        if not isinstance(getattr(meta, name), dict):
            raise ValueError(f"{name} must be a mapping")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.files.items()):
        raise ValueError("files must map file names to SHA-256 strings")
    if not isinstance(meta.state_shape, list) or not all(isinstance(d, int) for d in meta.state_shape):
        raise ValueError("state_shape must be a list of whole numbers")


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


_VERIFIED: dict[tuple, ArtifactMeta] = {}   # one hashing pass per artifact and process (a bench job loads it often)


def _stamp(folder: Path, meta: ArtifactMeta) -> tuple:
    """What any change to the artifact's files changes: inode, size and both times (ctime cannot be set back)."""
    stats = []
    for name in (METADATA_FILE, *sorted(meta.files)):
        st = inside(folder, name).stat()
        stats.append((name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return (str(folder.resolve()), tuple(stats))


def verify(folder: str | Path) -> ArtifactMeta:
    """Read the metadata and refuse an artifact whose metadata or files changed since export. Hashed once per
    process while no file of the artifact changes."""
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        stamp = _stamp(folder, meta)
    except (OSError, ValueError):   # a missing or escaping file: the full check below says which
        stamp = None
    if stamp is not None and stamp in _VERIFIED:
        return copy.deepcopy(_VERIFIED[stamp])
    _check_files(folder, meta)
    if stamp is not None:
        _VERIFIED[stamp] = copy.deepcopy(meta)
    return meta


def _check_files(folder: Path, meta: ArtifactMeta) -> None:
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


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def foreign_files(folder: Path) -> list[str]:
    """Files under an artifact folder that its metadata does not list (a user's notes, a checkpoint, app
    samples): what replacing the folder would delete."""
    try:
        listed = json.loads((folder / METADATA_FILE).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    owned = set(listed) if isinstance(listed, dict) else set()
    owned |= {METADATA_FILE, PARITY_FILE}
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.relative_to(folder).as_posix() not in owned)


def check_destination(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, a destination we must not or cannot write: only a trm-edge artifact
    folder that holds nothing but its own files and none of this export's `inputs` is ever replaced, and
    the parent must be a writable folder."""
    final = Path(final).absolute()
    if Path.cwd().is_relative_to(final.resolve()):
        raise FileExistsError(f"{final} is the working directory or holds it: export into a folder of its own")
    if final.exists() or final.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{final} already exists (pass --overwrite to replace it)")
        if final.is_symlink() or not final.is_dir() or not is_artifact(final):
            raise FileExistsError(f"{final} exists and is not a trm-edge artifact folder: --overwrite only replaces "
                                  "folders that trm-edge export wrote; choose another --out")
        for source in inputs:
            if Path(source).resolve().is_relative_to(final.resolve()):
                raise FileExistsError(f"{source} is inside {final}: replacing the folder would delete this export's "
                                      "own input; move it or choose another --out")
        extra = foreign_files(final)
        if extra:
            shown = ", ".join(extra[:4]) + (f" and {len(extra) - 4} more" if len(extra) > 4 else "")
            raise FileExistsError(f"{final} holds files that are not part of the artifact ({shown}): --overwrite "
                                  "would delete them; move them or choose another --out")
    check_writable_file(final.parent / f".{final.name}.partial")


def _complete(folder: Path) -> bool:
    """A sealed artifact with its parity report: what a finished export leaves."""
    try:
        verify(folder)
    except (OSError, ValueError):
        return False
    return (folder / PARITY_FILE).is_file()


def recover_interrupted(final: Path) -> Path | None:
    """When a kill came between an export's two renames, `final` is missing and the old artifact (or the
    finished new one) waits beside it: put the newest complete one back as `final`; returns where it was."""
    if final.exists() or final.is_symlink():
        return None
    candidates = [d / final.name for d in final.parent.glob(f".{final.name}.old-*")]
    candidates += list(final.parent.glob(f".{final.name}.partial-*"))
    complete = [c for c in candidates if c.is_dir() and not c.is_symlink() and _complete(c)]
    if not complete:
        return None
    newest = max(complete, key=lambda c: (c / METADATA_FILE).stat().st_mtime)
    os.replace(newest, final)
    if newest.parent != final.parent:
        newest.parent.rmdir()   # the emptied .old- folder
    return newest


def _clean_leftovers(final: Path) -> None:
    """Staging and replaced folders of earlier exports to `final` that a kill left behind (once `final`
    holds a complete artifact, nothing in them is newer)."""
    for pattern in (f".{final.name}.partial-*", f".{final.name}.old-*"):
        for stale in final.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged_folder(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = (),
                  log: Callable[[str], None] = print) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; it becomes `final` only if the block succeeds, so a failed
    export leaves nothing half-written. An old artifact is renamed aside, the new one renamed in, and only
    then is the old one removed. `inputs` (the checkpoint, data) may not live inside `final`."""
    final = Path(final).absolute()   # "." has no parent to stage beside
    recovered = recover_interrupted(final) if final.parent.is_dir() else None
    if recovered:
        log(f"restored {final} from {recovered.parent if recovered.parent != final.parent else recovered}, "
            "left by an export that was killed while replacing it")
    check_destination(final, overwrite, inputs)
    final.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(final)   # what is left is older than `final`, or incomplete
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)   # a normal folder once renamed in, not mkdtemp's private 0700
    try:
        yield tmp
        check_destination(final, overwrite, inputs)   # the destination may have changed during the export
        swap_in_folder(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def folder_size(folder: str | Path, model_file: str) -> int:
    """Bytes of the model file, or of the whole package when it is a directory (.mlpackage)."""
    p = Path(folder) / model_file
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size
