"""The ownership rule for every folder trm-edge writes (artifacts, web sites, helper environments, and the
staging and replaced-aside folders of their swaps).

trm-edge writes a marker file (`.trm-edge.json`) into each folder it creates, and replaces or removes only
folders that carry it: anything else at a destination is refused by name. A folder is built beside its final
place (`.NAME.partial-*`), sealed (the marker lists every file it wrote), and swapped in with two renames (the old
one goes aside into `.NAME.old-*` first); a kill between them is recovered by the next command writing NAME. A
folder a user made with the same name pattern, without the marker, is never touched.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable, Iterator, Optional

from .files import check_writable_file, refuse_odd_path
from .progress import silent

MARKER = ".trm-edge.json"
SCHEMA = "trm-edge-folder/1"


class FolderKind(str, Enum):
    ARTIFACT = "artifact"
    SITE = "site"
    ENV = "env"
    STAGING = "staging"     # .NAME.partial-*: being filled
    REPLACED = "replaced"   # .NAME.old-*: holds the folder being replaced, for the length of one rename


@dataclass(frozen=True)
class Marker:
    """What a folder's marker says: its kind and, once sealed, the files trm-edge wrote into it."""
    kind: FolderKind
    files: Optional[tuple[str, ...]] = None

    @property
    def sealed(self) -> bool:
        return self.files is not None

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "kind": self.kind.value, "files": None if self.files is None else list(self.files)}

    @classmethod
    def from_dict(cls, raw: object) -> Optional["Marker"]:
        """None for anything that is not our marker (a user's file of the same name)."""
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
            return None
        try:
            kind = FolderKind(raw.get("kind"))
        except ValueError:
            return None
        files = raw.get("files")
        if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
            return None
        return cls(kind, None if files is None else tuple(files))


def read_marker(folder: Path) -> Optional[Marker]:
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return Marker.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def write_marker(folder: Path, marker: Marker) -> None:
    (Path(folder) / MARKER).write_text(json.dumps(marker.to_dict(), indent=1) + "\n")


def files_under(folder: Path) -> list[str]:
    """Every file and link under `folder` (relative, '/'-separated), the marker aside."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.name != MARKER)


def seal(folder: Path, kind: FolderKind, list_files: bool = True) -> None:
    """Mark a finished folder as `kind`, listing what it holds: written last, so a sealed marker means complete."""
    write_marker(folder, Marker(kind, tuple(files_under(folder)) if list_files else ()))


def foreign_files(folder: Path, owned: set[str]) -> list[str]:
    """Files under `folder` that trm-edge did not write (not in `owned`): what replacing it would delete."""
    return [f for f in files_under(folder) if f not in owned]


def shown(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass
class Destination:
    """A folder a command builds beside its final place and moves in whole.

    `owned(folder)` says which files of an existing folder trm-edge wrote (None: not a folder of this kind that
    trm-edge made); `complete(folder)` whether a leftover from a killed swap is worth putting back.
    """
    final: Path
    kind: FolderKind
    overwrite: bool = False
    inputs: tuple[Path, ...] = ()
    owned: Callable[[Path], Optional[set[str]]] = field(default=None)   # type: ignore[assignment]
    complete: Callable[[Path], bool] = field(default=None)             # type: ignore[assignment]
    name: str = "folder"   # what the command calls it in messages ("artifact", "site", ...)
    cache: bool = False   # a cache (a helper environment): all it holds is trm-edge's; the marker lists no files

    def __post_init__(self) -> None:
        self.final = Path(self.final).absolute()
        if self.owned is None:
            self.owned = lambda folder: marked_files(folder, self.kind)
        if self.complete is None:
            self.complete = lambda folder: sealed_and_present(folder, self.kind)


def marked_files(folder: Path, kind: FolderKind) -> Optional[set[str]]:
    """The files a sealed marker of `kind` lists, or None when the folder has no such marker."""
    marker = read_marker(folder)
    if marker is None or marker.kind != kind or not marker.sealed:
        return None
    return set(marker.files or ())


def sealed_and_present(folder: Path, kind: FolderKind) -> bool:
    files = marked_files(folder, kind)
    return files is not None and all((folder / f).exists() or (folder / f).is_symlink() for f in files)


def check_destination(dest: Destination) -> None:
    """Refuse, before any work, a destination trm-edge must not replace: a link or device, the working directory
    or a folder holding it, a folder of another kind or owner, one holding files trm-edge did not write, one
    holding this command's own input; then the parent must be writable."""
    final = dest.final
    refuse_odd_path(final)
    if Path.cwd().resolve().is_relative_to(final.resolve()):
        raise FileExistsError(f"{final} is the working directory or holds it: write into a folder of its own")
    if final.exists():
        owned = dest.owned(final) if final.is_dir() else None
        if owned is None:
            raise FileExistsError(f"{final} exists and is not a trm-edge {dest.name} folder: trm-edge only replaces "
                                  f"folders it wrote; choose another --out")
        if not dest.overwrite:
            raise FileExistsError(f"{final} already exists (pass --overwrite to replace it)")
        for source in dest.inputs:
            if Path(source).resolve().is_relative_to(final.resolve()):
                raise FileExistsError(f"{source} is inside {final}: replacing the folder would delete this command's "
                                      "own input; move it or choose another --out")
        extra = [] if dest.cache else foreign_files(final, owned)
        if extra:
            raise FileExistsError(f"{final} holds files that are not part of the {dest.name} ({shown(extra)}): "
                                  "--overwrite would delete them; move them or choose another --out")
    check_writable_file(final.parent / f".{final.name}.partial")


def _leftovers(final: Path) -> tuple[list[Path], list[Path]]:
    """Our staging folders and replaced-aside wrappers beside `final` (a user's look-alikes without the marker
    are not ours)."""
    def ours(pattern: str, kinds: set[FolderKind]) -> list[Path]:
        found = []
        for p in final.parent.glob(pattern):
            marker = read_marker(p) if p.is_dir() and not p.is_symlink() else None
            if marker is not None and marker.kind in kinds:
                found.append(p)
        return found
    partial_kinds = set(FolderKind) - {FolderKind.REPLACED}
    return ours(f".{final.name}.partial-*", partial_kinds), ours(f".{final.name}.old-*", {FolderKind.REPLACED})


def recover_interrupted(dest: Destination) -> Optional[Path]:
    """When a kill came between a swap's two renames, `final` is missing and the old folder (or the finished new
    one) waits beside it: put the newest complete one back; returns where it was."""
    final = dest.final
    if final.exists() or final.is_symlink() or not final.parent.is_dir():
        return None
    partial, replaced = _leftovers(final)
    candidates = [w / final.name for w in replaced] + partial
    complete = [c for c in candidates if c.is_dir() and not c.is_symlink() and dest.complete(c)]
    if not complete:
        return None
    newest = max(complete, key=lambda c: (c / MARKER).stat().st_mtime if (c / MARKER).exists() else c.stat().st_mtime)
    os.replace(newest, final)
    if newest.parent != final.parent:
        shutil.rmtree(newest.parent, ignore_errors=True)   # the emptied .old- wrapper
    return newest


def clean_leftovers(final: Path) -> None:
    """Staging and replaced folders of earlier writes of `final` that a kill left behind, ours only."""
    partial, replaced = _leftovers(Path(final).absolute())
    for stale in partial + replaced:
        shutil.rmtree(stale, ignore_errors=True)


def swap_in(new: Path, final: Path) -> None:
    """Make `new` (a finished folder beside `final`) be `final`: the old one is renamed aside into a marked
    wrapper, the new one renamed in, and only then is the old one deleted, so a kill leaves one complete folder
    that `recover_interrupted` finds."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        write_marker(old, Marker(FolderKind.REPLACED))
        os.replace(final, old / final.name)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def restore_note(final: Path, recovered: Path) -> str:
    where = recovered.parent if recovered.parent != final.parent else recovered
    return f"restored {final} from {where}, left by a command that was killed while replacing it"


@contextmanager
def staged(dest: Destination, log: Callable[[str], None] = silent) -> Iterator[Path]:
    """Yield a marked staging folder beside `dest.final`; it is sealed and swapped in only if the block
    succeeds, so a failure leaves nothing half-written and the old folder whole."""
    final = dest.final
    recovered = recover_interrupted(dest)
    if recovered:
        log(restore_note(final, recovered))
    check_destination(dest)
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(final)   # what is left is older than `final`, or incomplete
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    write_marker(tmp, Marker(FolderKind.STAGING))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)   # a normal folder once renamed in, not mkdtemp's private 0700
    try:
        yield tmp
        seal(tmp, dest.kind, list_files=not dest.cache)
        check_destination(dest)   # the destination may have changed during the work
        swap_in(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
