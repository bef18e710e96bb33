"""Before/after for the scanner in one run: two guard installations on the same trees, runs interleaved.

A change to the scan pipeline is judged against the code it replaces, measured in the same run on the same
machine state: ``--baseline`` names the Python interpreter of another install (e.g. a venv of ``main``), this
interpreter's guard is the candidate. Runs alternate (baseline, candidate, baseline, ...), so load from other
work hits both alike; the medians, their ratio and the CPU time over all processes are printed.

Trees: a generated repository (``bench/scan_speed.py``'s generator) and any ROOTs given (e.g. the standard
library). Usage::

    python bench/compare_scan.py --baseline ../main/.venv/bin/python [ROOT ...] [--rounds 5] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_speed import generate_repo  # a sibling benchmark module (bench/ is not a package)


def guard_of(python: str) -> list[str]:
    """The console script next to ``python``, else its entry point through ``-c``."""
    script = Path(python).with_name("guard")
    return [str(script)] if script.is_file() else [python, "-c", "from guard.cli import main; main()"]


def one_run(command: list[str], root: Path, jobs: int | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the children, findings) of one ``guard scan ROOT --format json``."""
    args = [*command, "scan", str(root), "--format", "json", "--fail-on", "never", "--no-progress"]
    if jobs:
        args += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(json.loads(done.stdout)["findings"])


def compare(name: str, root: Path, baseline: list[str], candidate: list[str], rounds: int, jobs: int | None) -> None:
    runs: dict[str, list[tuple[float, float, int]]] = {"baseline": [], "candidate": []}
    one_run(candidate, root, jobs)  # warm the page cache for both
    for _ in range(rounds):
        runs["baseline"].append(one_run(baseline, root, jobs))
        runs["candidate"].append(one_run(candidate, root, jobs))
    medians = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in runs.items()}
    findings = {k: v[0][2] for k, v in runs.items()}
    print(f"== {name}")
    for key in ("baseline", "candidate"):
        walls = ", ".join(f"{r[0]:.2f}" for r in runs[key])
        print(
            f"  {key:9}: median {medians[key][0]:.2f} s wall, {medians[key][1]:.2f} s CPU; runs {walls}; "
            f"{findings[key]} findings"
        )
    print(
        f"  candidate/baseline: {medians['candidate'][0] / medians['baseline'][0]:.2f}x wall, "
        f"{medians['candidate'][1] / medians['baseline'][1]:.2f}x CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", type=Path, help="more trees to scan")
    parser.add_argument("--baseline", required=True, help="the Python interpreter of the baseline install")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--synthetic-lines", type=int, default=250_000)
    parser.add_argument("--synthetic-writes", type=int, default=200)
    args = parser.parse_args()
    baseline, candidate = guard_of(args.baseline), guard_of(sys.executable)
    with tempfile.TemporaryDirectory(prefix="guard-compare-") as tmp:
        files, lines = generate_repo(Path(tmp), args.synthetic_lines, args.synthetic_writes)
        compare(
            f"generated repository: {files} files, {lines:,} lines",
            Path(tmp),
            baseline,
            candidate,
            args.rounds,
            args.jobs,
        )
    for root in args.roots:
        compare(str(root), root, baseline, candidate, args.rounds, args.jobs)


if __name__ == "__main__":
    main()
