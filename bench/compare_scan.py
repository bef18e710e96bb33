"""Before/after for the scanner in one run: two guard installations on the same trees, runs interleaved.

A change to the scan pipeline is judged against the code it replaces, measured in the same run on the same
machine state: ``--baseline`` names the Python interpreter of another install (e.g. a venv of ``main``), this
interpreter's guard is the candidate. Runs alternate (baseline, candidate, baseline, ...), so load from other
work hits both alike; the medians, their ratio and the CPU time over all processes are printed
(``bench/scan_speed.py``'s section 5 does the same on its default trees and adds the ORM-heavy figure).

Trees: a generated repository (``bench/scan_speed.py``'s generator) and any ROOTs given (e.g. the standard
library). Usage::

    python bench/compare_scan.py --baseline ../main/.venv/bin/python [ROOT ...] [--rounds 5] [--jobs N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_speed import before_after, generate_repo, guard_of  # a sibling benchmark module (bench/ is not a package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", type=Path, help="more trees to scan")
    parser.add_argument("--baseline", required=True, help="the Python interpreter of the baseline install")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--synthetic-lines", type=int, default=250_000)
    parser.add_argument("--synthetic-writes", type=int, default=200)
    args = parser.parse_args()
    baseline = guard_of(args.baseline)
    with tempfile.TemporaryDirectory(prefix="guard-compare-") as tmp:
        files, lines = generate_repo(Path(tmp), args.synthetic_lines, args.synthetic_writes)
        name = f"generated repository: {files} files, {lines:,} lines"
        before_after(name, Path(tmp), baseline, args.rounds, args.jobs)
    for root in args.roots:
        before_after(str(root), root, baseline, args.rounds, args.jobs)


if __name__ == "__main__":
    main()
