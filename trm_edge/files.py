"""File-system guards shared by every command that writes: check before work, hash what was written."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    """Where trm-edge keeps what it builds once (generated datasets, the ARM64 environment): TRM_EDGE_CACHE."""
    return Path(os.environ.get("TRM_EDGE_CACHE", Path.home() / ".cache" / "trm-edge"))


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_writable_file(path: str | Path) -> None:
    """Refuse, before any work, an output whose folder cannot be made or written (a parent that is a file,
    a read-only folder), so that a long job does not fail at its very end."""
    path = Path(path)
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:   # metadata, JSON and the exporters' own libraries all need text names
        raise ValueError(f"{ascii(str(path))}: not a UTF-8 path name; choose another name") from None
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
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot write into {folder}: it is a file, not a folder")
    check_writable_file(folder / ".probe")


def swap_in_folder(new: Path, final: Path) -> None:
    """Make `new` (a finished folder beside `final`) be `final`: the old one is renamed aside, the new one renamed
    in, and only then is the old one deleted, so a failure leaves one complete folder (see artifact's recovery)."""
    import shutil
    import tempfile

    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        os.replace(final, old / final.name)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def replace_file(path: str | Path, write: Callable[[Path], object]) -> None:
    """Write `path` whole or not at all: `write(tmp)` fills a temporary file beside it, which then replaces
    `path` in one rename, so a full disk or a kill leaves the old file rather than a truncated one. A path
    that is not a regular file (a device, a pipe) is written in place: renaming over it would replace it."""
    path = Path(path)
    if path.exists() and not path.is_file():
        write(path)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
