"""``guard scan --diff-base REF``: only findings introduced since the merge base with REF.

The way teams adopt a scanner on an old code base is "do not make it worse": a pull request fails on the
findings it adds, not on the 29 that were already there (semgrep's ``--baseline-commit``). The base findings
are computed by scanning the same path in the merge base's tree — exported with ``git archive`` into a
temporary directory, so the user's checkout, index and worktree list are never touched — and compared by
guard's line-independent fingerprints, the keys ``--baseline`` files use. Moving a known site around, or
editing lines above it, therefore does not make it "new"; copying it into a new statement does.

The temporary tree is removed however the scan ends: normally, on an error, on Ctrl-C, or on SIGTERM (a CI
job being cancelled), which is turned into an exception so the clean-up runs.
"""

from __future__ import annotations

import signal
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from guard.errors import GuardError


def git(cwd: Path, *args: str) -> str:
    """Run git and return its stdout; a failure becomes a :class:`GuardError` carrying git's own message."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GuardError("--diff-base needs git on PATH; install git or drop --diff-base") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise GuardError(f"git {' '.join(args)} failed: {message[-1] if message else 'no output'}")
    return done.stdout.strip()


def merge_base(repository: Path, ref: str) -> str:
    """The commit where HEAD left ``ref``, with a hint for the usual CI cause (a shallow clone)."""
    try:
        git(repository, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GuardError:
        raise GuardError(
            f"--diff-base {ref}: no such commit or branch in {repository}; fetch it first "
            "(in GitHub Actions: actions/checkout with fetch-depth: 0)"
        ) from None
    try:
        return git(repository, "merge-base", "HEAD", ref)
    except GuardError:
        raise GuardError(
            f"--diff-base {ref}: HEAD and {ref} have no common ancestor here (a shallow clone?); "
            "fetch the full history (fetch-depth: 0) or pass a commit that HEAD descends from"
        ) from None


def repository_of(path: Path) -> Path:
    start = path if path.is_dir() else path.parent
    try:
        return Path(git(start, "rev-parse", "--show-toplevel")).resolve()
    except GuardError:
        raise GuardError(f"--diff-base: {path} is not inside a git repository; use --baseline FILE instead") from None


@contextmanager
def base_tree(path: Path, ref: str) -> Iterator[Path | None]:
    """``path`` as it was at the merge base of HEAD and ``ref``, in a temporary directory removed on exit.

    Yields None when ``path`` did not exist at the merge base (then every finding is new).
    """
    target = path.resolve()
    repository = repository_of(target)
    base = merge_base(repository, ref)
    inside = target.relative_to(repository).as_posix()
    with _cleanup_on_sigterm(), tempfile.TemporaryDirectory(prefix="guard-diff-base-") as temp:
        tree = Path(temp)
        spec = [] if inside == "." else ["--", inside]
        if spec and not git(repository, "ls-tree", "--name-only", base, inside):
            yield None
            return
        _export(repository, base, spec, tree)
        yield tree if inside == "." else tree / inside


def _export(repository: Path, commit: str, spec: list[str], destination: Path) -> None:
    """Stream ``git archive`` into ``destination`` (never through a file of the user's)."""
    command = ["git", "archive", "--format=tar", commit, *spec]
    with subprocess.Popen(command, cwd=repository, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            if hasattr(tarfile, "data_filter"):  # refuses absolute paths, links out of the tree, device files
                archive.extractall(destination, filter="data")
            else:  # pragma: no cover - Python 3.10 before 3.10.12
                archive.extractall(destination)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise GuardError(f"git archive {commit} failed: {stderr.strip() or 'no output'}")


@contextmanager
def _cleanup_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit(143) so ``finally`` blocks (the temp tree's removal) run."""
    try:
        previous: Callable[[int, FrameType | None], object] | int | None = signal.getsignal(signal.SIGTERM)
    except ValueError:  # pragma: no cover - not the main thread: leave signals alone
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # pragma: no cover - not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
