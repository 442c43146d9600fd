"""File-system guards shared by every command that writes: check before work, hash what was written."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    """Where trm-edge keeps what it builds once (generated datasets, the ARM64 environment): TRM_EDGE_CACHE.
    An empty value is refused: it would mean the working directory, whose files a rebuild must never touch."""
    value = os.environ.get("TRM_EDGE_CACHE")
    if value is None:
        return Path.home() / ".cache" / "trm-edge"
    if not value.strip():
        raise ValueError("TRM_EDGE_CACHE is set but empty: unset it (default ~/.cache/trm-edge) or name a folder")
    return Path(value).absolute()


def stage_history() -> Path:
    """How long each long single call (a conversion, an environment build) took on this machine: the ETA the
    next one shows (progress.stage)."""
    return cache_dir() / "stage-times.json"


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def refuse_odd_path(path: Path, what: str = "--out") -> None:
    """Symlinks and device nodes are never destinations: writing would go through the link, or replace the
    device with a regular file."""
    path = Path(path)
    if path.is_symlink():
        raise FileExistsError(f"{what} {path} is a symbolic link: trm-edge does not write through links; give the "
                              "real path or another name")
    if path.exists() and not (path.is_dir() or path.is_file()):
        raise FileExistsError(f"{what} {path} is a device, pipe or socket, not a file or folder: choose another name")


def check_writable_file(path: str | Path) -> None:
    """Refuse, before any work, an output whose folder cannot be made or written (a parent that is a file,
    a read-only folder), so that a long job does not fail at its very end."""
    path = Path(path)
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:   # metadata, JSON and the exporters' own libraries all need text names
        raise ValueError(f"{ascii(str(path))}: not a UTF-8 path name; choose another name") from None
    refuse_odd_path(path, "cannot write")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder")
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise NotADirectoryError(f"cannot write {path}: {ancestor} is a file, not a folder")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise PermissionError(f"cannot write {path}: {ancestor} is not writable")
            return


def check_writable_dir(folder: str | Path) -> None:
    """Like `check_writable_file`, for a folder that will hold outputs."""
    folder = Path(folder)
    refuse_odd_path(folder, "cannot write into")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot write into {folder}: it is a file, not a folder")
    check_writable_file(folder / ".probe")


def replace_file(path: str | Path, write: Callable[[Path], object]) -> None:
    """Write `path` whole or not at all: `write(tmp)` fills a temporary file beside it, which then replaces
    `path` in one rename, so a full disk or a kill leaves the old file rather than a truncated one. A link or
    a device is refused: renaming over it would replace it."""
    path = Path(path)
    refuse_odd_path(path, "cannot write")
    remove_dead_temps(path.parent, f".{path.name}.", ".tmp")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_dead_temps(folder: Path, prefix: str, suffix: str) -> None:
    """Temp files `<prefix><pid><suffix>` that a killed writer left (its process is gone): never a file a live
    writer is filling, never a name without a process id in it."""
    for stale in Path(folder).glob(f"{prefix}*{suffix}"):
        pid = stale.name[len(prefix):len(stale.name) - len(suffix)]
        if pid.isdigit() and not _alive(int(pid)) and stale.is_file() and not stale.is_symlink():
            stale.unlink(missing_ok=True)
