"""Write planned patches safely: inside the root only, unchanged since planned, parseable, atomic, backed up.

The file is opened once; its content is checked against the plan, backed up (atomically, read back), and
compared again through the same handle (inode, size, mtime, hash) immediately before the temp file is renamed
over it, so an edit made meanwhile is never overwritten. Temp files carry the writer's pid, so the next run
removes those an interrupted run left behind. Read-only files are refused unless ``--force``.

Each file is checked and written on its own, so one refusal does not stop the others; a refused file is
left exactly as it was. The backup tree mirrors the root's relative paths, so restoring is a copy.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from guard.errors import GuardError
from guard.patch.planner import BACKUP_DIR_NAME, FilePatch, digest_of, parse_problem


@dataclass
class Written:
    """What happened to one file: ``error`` empty means it was written (and backed up to ``backup``)."""

    relpath: str
    backup: str = ""
    error: str = ""


def default_backup_dir(root: Path) -> Path:
    """``ROOT/.guard-backup/<UTC timestamp>`` — never an existing directory, so no backup is overwritten."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = root / BACKUP_DIR_NAME / stamp, 1
    while candidate.exists():
        n += 1
        candidate = root / BACKUP_DIR_NAME / f"{stamp}-{n}"
    return candidate


def check_backup_dir(root: Path, backup_dir: Path) -> None:
    """Raise :class:`GuardError` when ``backup_dir`` cannot hold the backups, before any file is touched.

    A directory inside the root is only accepted under ``.guard-backup/`` (which the scanner skips):
    anywhere else the next ``guard scan``/``guard patch`` would read the backups as source and patch them.
    Nothing is created here; the first backup creates the directory.
    """
    root, backup_dir = root.resolve(), backup_dir.resolve()
    if backup_dir.is_relative_to(root) and BACKUP_DIR_NAME not in backup_dir.relative_to(root).parts:
        raise GuardError(
            f"--backup-dir {backup_dir} is inside the project root, where the next scan would read the backups "
            f"as source: choose a directory outside {root} (or leave --backup-dir out to use {BACKUP_DIR_NAME}/)"
        )
    existing = next(p for p in (backup_dir, *backup_dir.parents) if p.exists())
    if not existing.is_dir():
        raise GuardError(
            f"cannot keep backups in {backup_dir}: {existing} is not a directory; pass another --backup-dir"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GuardError(f"cannot keep backups in {backup_dir}: {existing} is not writable; pass another --backup-dir")


#: temporary files of an atomic write: ``.NAME.guard-<pid>.<random>.guard-tmp`` next to the file
TEMP_SUFFIX = ".guard-tmp"


def apply_patches(root: Path, patches: list[FilePatch], backup_dir: Path, force: bool = False) -> list[Written]:
    """Write every changed, un-refused patch; returns one :class:`Written` per file attempted.

    Read-only files are refused unless ``force``: a 0444 file is usually read-only on purpose (generated,
    vendored, checked out read-only by a tool), and rewriting it would be a surprise.
    """
    root = root.resolve()
    outcomes = []
    for patch in patches:
        if patch.changed:
            outcomes.append(_apply_one(root, patch, backup_dir, force))
    return outcomes


def clean_stale_temp_files(root: Path, relpaths: list[str]) -> list[str]:
    """Remove the temporary files an interrupted earlier run (SIGKILL) left next to these files.

    Only guard's own names are touched, and only when the process that made one is gone; a name without a
    process id (an older guard) is always stale by now. Returns the paths removed, relative to ``root``.
    """
    removed = []
    for directory in sorted({(root / relpath).parent for relpath in relpaths}):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            owner = _temp_owner(entry.name)
            if owner is None or (owner > 0 and _alive(owner)) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(os.path.relpath(entry.path, root))
    return removed


def _temp_owner(name: str) -> int | None:
    """The pid in a guard temp file name; 0 for an older name without one; None if not guard's."""
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    match = re.search(r"\.guard-(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX) + "$", name)
    return int(match.group(1)) if match else 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _apply_one(root: Path, patch: FilePatch, backup_dir: Path, force: bool) -> Written:
    outcome = Written(patch.relpath)
    target = (root / patch.relpath).resolve()
    if not target.is_relative_to(root):
        outcome.error = f"resolves to {target}, outside the root {root}: refused"
        return outcome
    problem = parse_problem(patch.language, patch.original, patch.patched, patch.relpath)
    if problem:
        outcome.error = f"the patched file would not parse ({problem}): refused"
        return outcome
    try:
        # One handle for the whole write: the content checked, backed up and compared again just before the
        # rename is the content of this very file, not of whatever the path names by then.
        with open(target, "rb") as handle:
            current = handle.read()
            if digest_of(current) != patch.digest:
                outcome.error = "changed since it was scanned: refused; run guard patch again"
                return outcome
            info = os.fstat(handle.fileno())
            if not info.st_mode & stat.S_IWUSR and not force:
                outcome.error = (
                    f"is read-only (mode {stat.S_IMODE(info.st_mode):04o}): refused; make it writable or pass --force"
                )
                return outcome
            backup = backup_dir / patch.relpath
            try:
                _backup(backup_dir, backup, current)
            except OSError as exc:
                outcome.error = (
                    f"cannot back up to {backup} ({exc.strerror or exc}): left unchanged; pass another --backup-dir"
                )
                return outcome
            try:
                replaced = _write_atomically(target, patch.patched.encode("utf-8"), handle, info, patch.digest)
            except OSError as exc:
                outcome.error = f"cannot write ({exc.strerror or exc}): left unchanged (a backup is in {backup})"
                return outcome
    except OSError as exc:
        outcome.error = f"cannot read: {exc.strerror or exc}"
        return outcome
    if not replaced:
        outcome.error = (
            "was edited while guard was writing it: left as the other writer saved it (nothing lost); "
            "run guard patch again"
        )
        return outcome
    outcome.backup = str(backup)
    return outcome


def _backup(backup_dir: Path, backup: Path, data: bytes) -> None:
    """Keep ``data`` (the content patched) in ``backup``: written whole or not at all, and read back to check."""
    if backup.exists():  # an explicit --backup-dir used twice: keep the older, truly original copy
        raise FileExistsError(errno.EEXIST, "already exists, an earlier original is kept")
    backup.parent.mkdir(parents=True, exist_ok=True)
    marker = backup_dir.parent / ".gitignore"
    if backup_dir.parent.name == BACKUP_DIR_NAME and not marker.exists():
        marker.write_text("# guard patch backups: never commit them\n*\n", encoding="utf-8")
    temp = _temp_copy(backup, data)
    try:
        if digest_of(Path(temp).read_bytes()) != digest_of(data):
            raise OSError(errno.EIO, "the backup read back differs from the original")
        os.replace(temp, backup)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _temp_copy(beside: Path, data: bytes) -> str:
    """``data`` in a new temp file next to ``beside`` (fsynced), named so a later run can tell when it is stale."""
    fd, temp = tempfile.mkstemp(prefix=f".{beside.name}.guard-{os.getpid()}.", suffix=TEMP_SUFFIX, dir=beside.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def _write_atomically(target: Path, data: bytes, handle: BinaryIO, before: os.stat_result, digest: str) -> bool:
    """Temp file in the same directory, fsync, then compare-and-swap: rename over the target only if it is
    still the file read through ``handle`` (same inode, size, mtime and content). False when it changed."""
    temp = _temp_copy(target, data)
    try:
        os.chmod(temp, before.st_mode & 0o7777)
        if not _unchanged(target, handle, before, digest):
            return False
        os.replace(temp, target)
        return True
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _unchanged(target: Path, handle: BinaryIO, before: os.stat_result, digest: str) -> bool:
    """The path still names the file behind ``handle``, untouched since it was read (checked last thing)."""
    now = os.fstat(handle.fileno())
    try:
        named = os.stat(target)
    except OSError:
        return False
    same_file = (named.st_dev, named.st_ino) == (before.st_dev, before.st_ino)
    same_stamp = (now.st_size, now.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if not (same_file and same_stamp):
        return False
    handle.seek(0)
    return digest_of(handle.read()) == digest
