"""Speed of the Python extraction stage on a large tree (default: the installed standard library).

Prints, for the same files in the same run (baseline and extraction alternate file by file):
  * the byte prefilter over every file (``may_contain_sql``),
  * a baseline: bare ``ast.parse`` of the files that pass the prefilter (the floor any AST-based extractor pays),
  * ``extract_python`` (decode + parse + analysis) on those files,
and the ratio extraction / baseline, lines per second over the whole tree, and whether anything raised.

Usage: .venv/bin/python bench/extract_python_speed.py [DIR ...]
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import sysconfig
import time
import warnings

from guard.scan.extract_python import decode_source, extract_python, may_contain_sql


def python_files(roots: list[str]) -> list[tuple[str, bytes]]:
    found = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, "rb") as handle:
                        found.append((path, handle.read()))
    return found


def main() -> int:
    roots = sys.argv[1:] or [sysconfig.get_paths()["stdlib"]]
    files = python_files(roots)
    total_lines = sum(data.count(b"\n") for _, data in files)

    start = time.perf_counter()
    passed = [(path, data) for path, data in files if may_contain_sql(data)]
    prefilter_s = time.perf_counter() - start

    # Baseline and extraction alternate file by file, so both see the same machine load.
    baseline_s = extract_s = 0.0
    crashes = candidates = diagnostics = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path, data in passed:
            start = time.perf_counter()
            with contextlib.suppress(SyntaxError, ValueError):
                ast.parse(data)
            middle = time.perf_counter()
            try:
                text, problems = decode_source(data, path)
                result = extract_python(text, path)
            except Exception as exc:  # the point of the run: report, never stop
                crashes += 1
                print(f"CRASH {path}: {type(exc).__name__}: {exc}")
                continue
            finally:
                baseline_s += middle - start
                extract_s += time.perf_counter() - middle
            candidates += len(result.candidates)
            diagnostics += len(problems) + len(result.diagnostics)

    passed_lines = sum(data.count(b"\n") for _, data in passed)
    wall = prefilter_s + extract_s
    print(f"tree: {len(files)} files, {total_lines:,} lines ({', '.join(roots)})")
    print(f"prefilter: {prefilter_s:.2f} s, {len(passed)} files ({passed_lines:,} lines) may hold SQL")
    print(f"baseline ast.parse of those files: {baseline_s:.2f} s")
    print(f"extract_python of those files:     {extract_s:.2f} s  (ratio to baseline {extract_s / baseline_s:.2f}x)")
    print(f"whole tree, one core: {wall:.2f} s = {total_lines / wall:,.0f} lines/s")
    print(f"candidates: {candidates}, diagnostics: {diagnostics}, crashes: {crashes}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
