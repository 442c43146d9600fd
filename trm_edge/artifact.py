"""The artifact format: a folder with the model file(s), `metadata.json`, `init_state.f32` and a parity report.

It sits below both its writer (export) and its readers (runtime, bench, solve) and imports neither torch
nor any exporter, so the torch-free runtime can read and verify artifacts.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .files import sha256_of
from .ownership import MARKER, Destination, FolderKind, marked_files, staged
from .ownership import check_destination as check_ownership
from .ownership import foreign_files as ownership_foreign
from .ownership import recover_interrupted as ownership_recover
from .limits import CONFIG_LIMITS, MAX_SUPERVISION_STEPS, check_count
from .progress import silent

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
    """SHA-256 of every file under `folder` except the metadata, the parity report (written after) and the
    ownership marker (sealed last)."""
    return {p.relative_to(folder).as_posix(): sha256_of(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in (METADATA_FILE, PARITY_FILE, MARKER)}


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


def source_path(folder: Path, meta: ArtifactMeta) -> Path:
    """Where an artifact's checkpoint is. Export records it relative to the artifact folder, so commands run from
    any directory find it and no home path ships in the metadata; artifacts from before that recorded it
    relative to the directory export ran in, which is tried when nothing is beside the folder."""
    recorded = Path(meta.source_checkpoint)
    beside = Path(os.path.abspath(Path(folder) / recorded))   # artifacts/x/../../m.pt said as /abs/m.pt
    return beside if recorded.is_absolute() or beside.is_file() else recorded


def recorded_source(checkpoint: Path, folder: Path) -> str:
    """The checkpoint's path as an artifact in `folder` records it (see source_path)."""
    return os.path.relpath(Path(checkpoint).resolve(), Path(folder).resolve())


def verified_source(folder: Path, meta: ArtifactMeta) -> Path | None:
    """The checkpoint an artifact was exported from, only when the file at that path is byte for byte the one
    exported (its SHA-256 is in the metadata): a swapped file must not feed PyTorch rows or sample puzzles."""
    src = source_path(folder, meta)
    if not src.is_file() or not meta.source_sha256 or sha256_of(src) != meta.source_sha256:
        return None
    return src


def owned_files(folder: Path) -> set[str] | None:
    """The files trm-edge wrote into an artifact folder (None: not an artifact folder trm-edge wrote). Folders
    exported before the ownership marker are recognised by their sealed metadata."""
    marked = marked_files(folder, FolderKind.ARTIFACT)
    if marked is not None:
        return marked
    if not is_artifact(folder):
        return None
    try:
        listed = json.loads((folder / METADATA_FILE).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    return (set(listed) if isinstance(listed, dict) else set()) | {METADATA_FILE, PARITY_FILE}


def foreign_files(folder: Path) -> list[str]:
    """Files under an artifact folder that trm-edge did not write (a user's notes, a checkpoint, app samples):
    what replacing the folder would delete."""
    return ownership_foreign(folder, owned_files(folder) or set())


def _complete(folder: Path) -> bool:
    """A sealed artifact with its parity report: what a finished export leaves."""
    try:
        verify(folder)
    except (OSError, ValueError):
        return False
    return (folder / PARITY_FILE).is_file()


def destination(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Destination:
    """An export's destination under the ownership rule: only an artifact folder trm-edge wrote, holding nothing
    but its own files and none of this export's `inputs`, is ever replaced."""
    return Destination(Path(final), FolderKind.ARTIFACT, overwrite, tuple(inputs), owned=owned_files,
                       complete=_complete, name="artifact")


def check_destination(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, a destination an export must not or cannot write."""
    check_ownership(destination(final, overwrite, inputs))


def recover_interrupted(final: Path) -> Path | None:
    """Put back the artifact a kill left beside `final` between an export's two renames; where it was."""
    return ownership_recover(destination(final))


@contextmanager
def staged_folder(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = (),
                  log: Callable[[str], None] = silent) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; it becomes `final` only if the block succeeds (the ownership
    rule's staged swap). `inputs` (the checkpoint, data) may not live inside `final`."""
    with staged(destination(final, overwrite, inputs), log) as tmp:
        yield tmp


def folder_size(folder: str | Path, model_file: str) -> int:
    """Bytes of the model: the model file; a package directory (.mlpackage) whole; a model in a subfolder of its
    own (a QNN SoC's EPContext model beside the context binary it loads) with everything in that subfolder."""
    p = Path(folder) / model_file
    if p.is_file() and p.parent.resolve() != Path(folder).resolve():
        p = p.parent
    if p.is_dir():
        return shipped_size(p)
    return p.stat().st_size


def shipped_size(folder: str | Path) -> int:
    """Bytes of every file under `folder`: what copying the artifact (or a package inside it) ships."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
