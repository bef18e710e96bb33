"""Random and malformed input never makes the Python extraction stage raise."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.prefilter import may_contain_sql
from guard.scan.frontends.python.source import decode_source
from guard.scan.frontends.python.textual import extract_textual

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "python").glob("*.py"))
SNIPPETS = [path.read_text() for path in FIXTURES]
ALPHABET = st.sampled_from([*list("\"'fFrRbB{}()[]%\\\n #+.,:=$;"), "INSERT INTO t", "VALUES", "COPY", "\t", "é"])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    result = extract_python(text, "fuzz.py")
    for candidate in result.candidates:
        assert candidate.text
        for offset in range(0, len(candidate.text), 7):
            line, column = candidate.position(offset)
            assert line >= 1 and column >= 1


@SETTINGS
@given(st.text())
def test_random_text(text: str) -> None:
    check(text)


@SETTINGS
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_quote_heavy_text(text: str) -> None:
    check(text)
    extract_textual(text, "fuzz.py")


@SETTINGS
@given(st.sampled_from(SNIPPETS), st.integers(min_value=0), st.integers(min_value=0, max_value=40), st.text(max_size=5))
def test_mutated_fixtures(source: str, at: int, cut: int, insert: str) -> None:
    at %= len(source) + 1
    mutated = source[:at] + insert + source[at + cut :]
    check(mutated)
    extract_textual(mutated, "fuzz.py")


@SETTINGS
@given(st.binary())
def test_random_bytes(data: bytes) -> None:
    may_contain_sql(data)
    text, _ = decode_source(data, "fuzz.py")
    check(text)
