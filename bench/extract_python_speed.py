"""Speed of the Python extraction stage on a large tree (default: the installed standard library).

Prints, for the same files in the same run (baseline and extraction alternate file by file):
  * the byte prefilter over every file (``may_contain_sql``),
  * a baseline: bare ``ast.parse`` of the files that pass the prefilter (the floor any AST-based extractor pays),
  * ``extract_python`` (decode + parse + analysis) on those files, with a cold :class:`ModuleMap` of each tree
    (constants imported across modules resolved, as in ``guard scan``),
and the ratio extraction / baseline, lines per second over the whole tree, the five slowest files (a file far
slower than its parse is a pathology worth a look), and whether anything raised.

Usage: .venv/bin/python bench/extract_python_speed.py [DIR ...]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import sysconfig
import time
import warnings

from guard.scan.frontends.python import module_map
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.prefilter import may_contain_sql
from guard.scan.frontends.python.source import decode_source


def python_files(roots: list[str]) -> list[tuple[str, str, bytes]]:
    """(root, relpath, bytes) of every ``.py`` file under the roots (nested site-packages excluded)."""
    found = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, "rb") as handle:
                        found.append((root, os.path.relpath(path, root).replace(os.sep, "/"), handle.read()))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", help="directories to read (default: the standard library)")
    roots = parser.parse_args().roots or [sysconfig.get_paths()["stdlib"]]
    missing = [root for root in roots if not os.path.isdir(root)]
    if missing:
        parser.error(f"not a directory: {', '.join(missing)}")
    files = python_files(roots)
    total_lines = sum(data.count(b"\n") for _, _, data in files)
    indexes = {root: module_map(root, [rel for r, rel, _ in files if r == root]) for root in roots}

    start = time.perf_counter()
    passed = [(root, rel, data) for root, rel, data in files if may_contain_sql(data, indexes[root])]
    prefilter_s = time.perf_counter() - start

    # Baseline and extraction alternate file by file, so both see the same machine load.
    baseline_s = extract_s = 0.0
    crashes = candidates = diagnostics = 0
    per_file: list[tuple[float, float, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for root, path, data in passed:
            start = time.perf_counter()
            with contextlib.suppress(SyntaxError, ValueError):
                ast.parse(data)
            middle = time.perf_counter()
            try:
                text, problems = decode_source(data, path)
                result = extract_python(text, path, indexes[root])
            except Exception as exc:  # the point of the run: report, never stop
                crashes += 1
                print(f"CRASH {path}: {type(exc).__name__}: {exc}")
                continue
            finally:
                baseline_s += middle - start
                extract_s += time.perf_counter() - middle
                per_file.append((time.perf_counter() - middle, middle - start, path))
            candidates += len(result.candidates)
            diagnostics += len(problems) + len(result.diagnostics)

    passed_lines = sum(data.count(b"\n") for _, _, data in passed)
    wall = prefilter_s + extract_s
    print(f"tree: {len(files)} files, {total_lines:,} lines ({', '.join(roots)})")
    print(f"prefilter: {prefilter_s:.2f} s, {len(passed)} files ({passed_lines:,} lines) may hold SQL")
    print(f"baseline ast.parse of those files: {baseline_s:.2f} s")
    print(f"extract_python of those files:     {extract_s:.2f} s  (ratio to baseline {extract_s / baseline_s:.2f}x)")
    print(f"whole tree, one core: {wall:.2f} s = {total_lines / wall:,.0f} lines/s")
    print(f"candidates: {candidates}, diagnostics: {diagnostics}, crashes: {crashes}")
    print("slowest files (extract_python vs ast.parse):")
    for extract, parse, path in sorted(per_file, reverse=True)[:5]:
        print(f"  {extract * 1000:7.0f} ms vs {parse * 1000:5.0f} ms  {path}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
