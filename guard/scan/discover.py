"""Stage 1: choose the files to scan.

In a git work tree the answer is what git would ship: tracked files plus untracked, not-ignored ones
(``git ls-files -co --exclude-standard``), so generated and vendored trees the project already ignores cost
nothing. Elsewhere the tree is walked, skipping the usual non-source directories. Either way, config
``include``/``exclude`` globs apply, symlinks are followed only while they stay inside the root (and never
twice into the same directory), and oversized files are reported as diagnostics instead of being read. Nothing
is skipped silently: a dangling link, a symlink loop, a link out of the root, a FIFO or socket, or a path that
cannot be read each gets a diagnostic (ignored and dependency directories aside).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from guard.errors import GuardError
from guard.model import Diagnostic, SourceFile
from guard.scan.frontends import FRONTENDS, language_of
from guard.scan.reading import special_kind

#: Directory names never worth walking outside git (build output, caches, dependency trees, guard patch backups).
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "build", "dist", "__pycache__", ".tox", ".nox", ".guard-backup"}
)
#: In a git work tree, ``build``/``dist`` may be real tracked source; dependency trees, caches and backups never are.
GIT_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", ".tox", ".nox", ".guard-backup"})


@dataclass
class Discovery:
    """The files chosen for scanning and what was skipped on the way, with the reason."""

    root: Path
    files: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def discover(
    root: str | Path,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_file_size: int = 2_000_000,
) -> Discovery:
    """Files under ``root`` (a directory, or a single file) that guard knows how to read.

    Raises ``FileNotFoundError`` when ``root`` does not exist; everything else becomes a diagnostic.
    """
    start = Path(root)
    if not start.exists():
        raise FileNotFoundError(str(root))
    if start.is_file():
        return _single_file(start, max_file_size)
    base = start.resolve()
    selector = GlobFilter(include, exclude)
    candidates = _git_files(base)
    found = Discovery(root=base)
    if candidates is None:
        relpaths = _walk(base, selector, found.diagnostics)
    else:
        relpaths = _inside_root(base, [p for p in candidates if language_of(p) is not None], found.diagnostics)
    for relpath in sorted(set(relpaths)):
        language = language_of(relpath)
        if language is None or not selector.wants_file(relpath):
            continue
        _add(found, base, relpath, language, max_file_size)
    return found


def _single_file(path: Path, max_file_size: int) -> Discovery:
    resolved = path.resolve()
    found = Discovery(root=resolved.parent)
    language = language_of(resolved.name)
    if language is None:
        known = FRONTENDS.describe_suffixes()
        message = f"guard reads {known} files, not this one; nothing to scan"
        found.diagnostics.append(Diagnostic(resolved.name, 0, "skipped-language", message))
    else:
        _add(found, resolved.parent, resolved.name, language, max_file_size)
    return found


def _add(found: Discovery, base: Path, relpath: str, language: str, max_file_size: int) -> None:
    full = base / relpath
    try:
        info = full.stat()
    except OSError as exc:
        found.diagnostics.append(Diagnostic(relpath, 0, "io-error", f"cannot read: {exc.strerror or exc}"))
        return
    kind = special_kind(info.st_mode)
    if kind is not None:
        message = f"is a {kind}, not a regular file; not read"
        found.diagnostics.append(Diagnostic(relpath, 0, "skipped-special", message))
        return
    if info.st_size > max_file_size:
        found.diagnostics.append(
            Diagnostic(
                relpath,
                0,
                "skipped-large",
                f"{info.st_size} bytes is over max_file_size ({max_file_size}); raise max_file_size in guard.toml "
                "to scan it",
            )
        )
        return
    found.files.append(
        SourceFile(path=str(full), relpath=relpath, language=language, size=info.st_size, max_size=max_file_size)
    )


def _link_problem(base: Path, path: str) -> Diagnostic | None:
    """Why the symlink at ``path`` is not followed (dangling, a loop, out of the root), or None to follow it."""
    relpath = path[len(str(base)) + 1 :].replace(os.sep, "/")
    try:
        target = Path(path).resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return Diagnostic(relpath, 0, "skipped-link", "symlink loop; not followed")
    except FileNotFoundError:
        return Diagnostic(relpath, 0, "skipped-link", "dangling symlink (its target does not exist); not scanned")
    except OSError as exc:
        reason = "symlink loop" if exc.errno == errno.ELOOP else f"cannot follow the symlink: {exc.strerror or exc}"
        return Diagnostic(relpath, 0, "skipped-link", f"{reason}; not followed")
    if not _within(base, target):
        return Diagnostic(relpath, 0, "skipped-link", f"symlink to {target}, outside the scanned tree; not followed")
    return None


def _git_files(base: Path) -> list[str] | None:
    """Paths git would ship, relative to ``base``; None when ``base`` is not in a git work tree, or is a
    directory the enclosing repository ignores (a virtualenv, an interpreter under ~/.pyenv): scanning it
    was asked for explicitly, so it is walked instead."""
    git = shutil.which("git")
    if git is None:
        return None
    ignored = _git(git, base, "check-ignore", "-q", ".")
    if ignored is None or ignored.returncode == 0:
        return None
    listing = _git(git, base, "ls-files", "-co", "--exclude-standard", "-z")
    if listing is None or listing.returncode != 0:
        return None
    return [os.fsdecode(p) for p in listing.stdout.split(b"\0") if p]


def _git(git: str, base: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run([git, "-C", str(base), *args], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _inside_root(base: Path, relpaths: list[str], problems: list[Diagnostic]) -> Iterator[str]:
    """Drop paths that are not regular files, whose symlinks lead outside the root, or that sit in a
    virtualenv or dependency tree nobody told git to ignore. Every drop but the last kind is reported."""
    virtualenv = _VirtualenvCheck(base)
    for relpath in relpaths:
        directories = relpath.split("/")[:-1]
        if GIT_SKIPPED_DIRS.intersection(directories) or virtualenv.contains(directories):
            continue
        full = base / relpath
        try:
            mode = full.lstat().st_mode
        except FileNotFoundError:
            continue  # tracked by git but deleted from the work tree: nothing to scan
        except OSError as exc:
            problems.append(Diagnostic(relpath, 0, "io-error", f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISLNK(mode):
            problem = _link_problem(base, str(full))
            if problem is not None:
                problems.append(problem)
                continue
        elif stat.S_ISDIR(mode):
            continue  # a submodule: its own repository
        yield relpath


class _VirtualenvCheck:
    """Answers "is this path inside a virtualenv?" with one ``stat`` per directory."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.known: dict[str, bool] = {}

    def contains(self, directories: list[str]) -> bool:
        for depth in range(1, len(directories) + 1):
            reldir = "/".join(directories[:depth])
            if reldir not in self.known:
                # os.path.isfile: an unreadable directory answers False instead of raising PermissionError
                self.known[reldir] = os.path.isfile(self.base / reldir / "pyvenv.cfg")
            if self.known[reldir]:
                return True
        return False


def _walk(base: Path, selector: GlobFilter, problems: list[Diagnostic]) -> Iterator[str]:
    """Walk without git: prune skipped and excluded directories, follow in-root symlinks once.

    Only files with a scanned suffix are yielded, so trees full of data files cost one ``scandir`` each. A
    directory that cannot be read is reported in ``problems``: its files must not silently drop out of the scan.
    """
    seen: set[tuple[int, int]] = set()
    prefix = len(str(base)) + 1
    stack = [str(base)]
    while stack:
        directory = stack.pop()
        try:
            info = os.stat(directory)
            entries = list(os.scandir(directory))
        except OSError as exc:
            reldir = directory[prefix:].replace(os.sep, "/") or "."
            message = f"cannot read directory: {exc.strerror or exc}; its files were not scanned"
            problems.append(Diagnostic(reldir, 0, "io-error", message))
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        for entry in entries:
            relpath = entry.path[prefix:].replace(os.sep, "/")
            try:
                if entry.is_symlink():
                    problem = _link_problem(base, entry.path)
                    if problem is not None:
                        problems.append(problem)
                        continue
                if entry.is_dir():
                    if not _skip_dir(entry, relpath, selector):
                        stack.append(entry.path)
                elif language_of(entry.name) is not None:
                    yield relpath  # _add() reports what is not a regular file (a FIFO, a socket)
            except OSError as exc:
                problems.append(Diagnostic(relpath, 0, "io-error", f"cannot read: {exc.strerror or exc}"))


def _skip_dir(entry: os.DirEntry[str], relpath: str, selector: GlobFilter) -> bool:
    if entry.name in SKIPPED_DIRS or selector.excludes_dir(relpath):
        return True
    return os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))  # a virtualenv


def _within(base: Path, target: Path) -> bool:
    return target == base or base in target.parents


class GlobFilter:
    """Config ``include``/``exclude`` globs, gitignore-style.

    ``**`` crosses directories, ``*`` and ``?`` do not. A pattern without ``/`` matches a file or directory
    name at any depth (``*.sql``, ``legacy``); a pattern matching a directory covers everything inside it.
    With ``include`` set, only matching files are scanned; ``exclude`` always wins.
    """

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.include = _compile_all("include", include)
        self.exclude = _compile_all("exclude", exclude)

    def wants_file(self, relpath: str) -> bool:
        if any(_matches(p, relpath) for p in self.exclude):
            return False
        return not self.include or any(_matches(p, relpath) for p in self.include)

    def excludes_dir(self, relpath: str) -> bool:
        return any(_matches(p, relpath) for p in self.exclude)


def _matches(pattern: re.Pattern[str], relpath: str) -> bool:
    """True when the pattern matches the path or one of its parent directories."""
    parts = relpath.split("/")
    return any(pattern.fullmatch("/".join(parts[:i])) for i in range(len(parts), 0, -1))


def _compile_all(key: str, globs: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile config globs; one that is not a glob (``[z-a]``) is a config error, not a crash."""
    patterns = []
    for glob in globs:
        try:
            patterns.append(_compile(glob))
        except re.error as exc:
            raise GuardError(
                f"{key}: {glob!r} is not a valid glob ({exc.msg}); fix the pattern in the guard config"
            ) from None
    return patterns


@lru_cache(maxsize=256)
def _compile(glob: str) -> re.Pattern[str]:
    pattern = glob.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.strip("/")
    anchored = "/" in pattern
    regex = _translate(pattern)
    if not anchored:
        regex = f"(?:.*/)?{regex}"
    return re.compile(regex)


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)
