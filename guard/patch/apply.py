"""Write planned patches safely: inside the root only, unchanged since planned, parseable, atomic, backed up.

Each file is checked and written on its own, so one refusal does not stop the others; a refused file is
left exactly as it was. The backup tree mirrors the root's relative paths, so restoring is a copy.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

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


def apply_patches(root: Path, patches: list[FilePatch], backup_dir: Path) -> list[Written]:
    """Write every changed, un-refused patch; returns one :class:`Written` per file attempted."""
    root = root.resolve()
    outcomes = []
    for patch in patches:
        if patch.changed:
            outcomes.append(_apply_one(root, patch, backup_dir))
    return outcomes


def _apply_one(root: Path, patch: FilePatch, backup_dir: Path) -> Written:
    outcome = Written(patch.relpath)
    target = (root / patch.relpath).resolve()
    if not target.is_relative_to(root):
        outcome.error = f"resolves to {target}, outside the root {root}: refused"
        return outcome
    try:
        current = target.read_bytes()
    except OSError as exc:
        outcome.error = f"cannot read: {exc.strerror}"
        return outcome
    if digest_of(current) != patch.digest:
        outcome.error = "changed since it was scanned: refused; run guard patch again"
        return outcome
    problem = parse_problem(patch.language, patch.original, patch.patched, patch.relpath)
    if problem:
        outcome.error = f"the patched file would not parse ({problem}): refused"
        return outcome
    backup = backup_dir / patch.relpath
    try:
        _backup(backup_dir, backup, target)
    except OSError as exc:
        outcome.error = f"cannot back up to {backup} ({exc.strerror or exc}): left unchanged; pass another --backup-dir"
        return outcome
    try:
        _write_atomically(target, patch.patched.encode("utf-8"))
    except OSError as exc:
        outcome.error = f"cannot write ({exc.strerror or exc}): left unchanged (a backup is in {backup})"
        return outcome
    outcome.backup = str(backup)
    return outcome


def _backup(backup_dir: Path, backup: Path, target: Path) -> None:
    if backup.exists():  # an explicit --backup-dir used twice: keep the older, truly original copy
        raise FileExistsError(errno.EEXIST, "already exists, an earlier original is kept")
    backup.parent.mkdir(parents=True, exist_ok=True)
    marker = backup_dir.parent / ".gitignore"
    if backup_dir.parent.name == BACKUP_DIR_NAME and not marker.exists():
        marker.write_text("# guard patch backups: never commit them\n*\n", encoding="utf-8")
    shutil.copy2(target, backup)


def _write_atomically(target: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename over the target (keeps the file's mode)."""
    mode = target.stat().st_mode
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".guard-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
