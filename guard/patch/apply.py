"""Write planned patches safely: inside the root only, unchanged since planned, parseable, atomic, backed up.

Each file is checked and written on its own, so one refusal does not stop the others; a refused file is
left exactly as it was. The backup tree mirrors the root's relative paths, so restoring is a copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from guard.patch.planner import BACKUP_DIR_NAME, FilePatch, parse_problem


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
    if hashlib.sha256(current).hexdigest() != patch.digest:
        outcome.error = "changed since it was scanned: refused; run guard patch again"
        return outcome
    problem = parse_problem(patch.language, patch.original, patch.patched)
    if problem:
        outcome.error = f"the patched file would not parse ({problem}): refused"
        return outcome
    backup = backup_dir / patch.relpath
    try:
        _backup(backup_dir, backup, target)
        _write_atomically(target, patch.patched.encode("utf-8"))
    except OSError as exc:
        outcome.error = f"cannot write: {exc}"
        return outcome
    outcome.backup = str(backup)
    return outcome


def _backup(backup_dir: Path, backup: Path, target: Path) -> None:
    if backup.exists():  # an explicit --backup-dir used twice: keep the older, truly original copy
        raise FileExistsError(f"{backup} already exists; choose another --backup-dir")
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
