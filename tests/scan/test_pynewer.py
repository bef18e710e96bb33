"""Python newer than the interpreter: PEP 701 f-strings are rewritten for the running grammar, lines kept."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from guard.scan.frontends.python.newer import UNKNOWN_FIELD, downgrade_source

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "python" / "newer" / "pep701_loader.py"
OLD_GRAMMAR = sys.version_info < (3, 12)


@pytest.mark.skipif(not OLD_GRAMMAR, reason="this interpreter reads PEP 701 f-strings itself (3.12+)")
def test_pep701_file_is_rewritten_for_the_old_grammar_with_lines_kept() -> None:
    text = FIXTURE.read_text()
    with pytest.raises(SyntaxError):
        ast.parse(text)
    rewritten = downgrade_source(text)
    assert rewritten is not None
    ast.parse(rewritten)
    assert rewritten.count("\n") == text.count("\n")
    lines = rewritten.splitlines()
    # a field reusing the outer quote keeps its value: only the outer quotes change
    assert 'f"""INSERT INTO {cfg["schema"]}.{TABLE} SELECT' in lines[9]
    assert '{f"{TABLE}_tags"}' in lines[14]
    # a field with a backslash cannot be written before 3.12: it becomes an unknown value (a hole)
    assert "{" + UNKNOWN_FIELD + "}" in lines[18] and "{" + UNKNOWN_FIELD + "}" in lines[22]


def test_files_that_parse_or_are_not_python_3_are_left_alone() -> None:
    assert downgrade_source("x = f'{a}'\n") is None  # nothing to rewrite
    assert downgrade_source('print "python 2"\n') is None  # libcst cannot read it either
    assert downgrade_source("def broken(:\n") is None
