"""escape_at reads every kind of escape exactly as Python does (guard patch maps its edits through it)."""

from __future__ import annotations

import ast
import warnings

import pytest

from guard.scan.frontends.python.strings import escape_at


@pytest.mark.parametrize(
    "body",
    [
        r"\n",
        r"\t",
        r"\\",
        r"\'",
        r"\"",
        r"\x41",
        r"\u00e9",
        r"\U0001F600",
        r"\101",
        r"\7",
        r"\N{BULLET}",
        r"\q",
        "\\\n",
    ],
)
def test_escape_at_matches_python(body: str) -> None:
    source = body + "tail"
    value, width = escape_at(source, 0)
    assert source[width:] == "tail"
    with warnings.catch_warnings():  # Python warns about "\q" itself: unknown escapes keep their backslash
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        expected = ast.literal_eval('"' + body + '"')
    assert value == expected


def test_crlf_line_continuation_and_trailing_backslash() -> None:
    assert escape_at("\\\r\nrest", 0) == ("", 3)
    assert escape_at("abc\\", 3) == ("\\", 1)
