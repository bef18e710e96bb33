"""``%`` and ``.format`` applied to SQL text: substitutions, holes and the characters' positions."""

from __future__ import annotations

import pytest

from guard.scan.frontends.python.extract import extract_python


def only(source: str) -> tuple[str, bool]:
    (candidate,) = extract_python(source, "f.py").candidates
    return candidate.text, candidate.dynamic


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"INSERT INTO t (a) VALUES (%r)" % "x"', ("INSERT INTO t (a) VALUES ('x')", False)),
        ('"INSERT INTO t (a) VALUES ({0!r})".format("x")', ("INSERT INTO t (a) VALUES ('x')", False)),
        ('"INSERT INTO t (a) VALUES ({:>4})".format(5)', ("INSERT INTO t (a) VALUES (guard_hole_0)", True)),
        (
            '"INSERT INTO %(t)s (a) VALUES (%(v)s)" % {"t": "jobs"}',
            ("INSERT INTO jobs (a) VALUES (guard_hole_0)", True),
        ),
        ('"INSERT INTO t (a) VALUES (%d, %.2f)" % (1, -2.5)', ("INSERT INTO t (a) VALUES (1, -2.5)", False)),
        ('"INSERT INTO {t.name} (a) VALUES (1)".format(t=obj)', ("INSERT INTO guard_hole_0 (a) VALUES (1)", True)),
        ('"INSERT INTO t (a) VALUES ({})".format(*values)', ("INSERT INTO t (a) VALUES (guard_hole_0)", True)),
        ('"INSERT INTO t (a) VALUES (%s)"', ("INSERT INTO t (a) VALUES (%s)", False)),
        ('"INSERT INTO t (a) VALUES (%s)" % ()', ("INSERT INTO t (a) VALUES (guard_hole_0)", True)),
        ('"INSERT INTO {} (a) VALUES (1)".format("a" if flag else "b")', ("INSERT INTO a (a) VALUES (1)", False)),
    ],
)
def test_formatting(expression: str, expected: tuple[str, bool]) -> None:
    texts = [(c.text, c.dynamic) for c in extract_python(f"cur.execute({expression})\n", "f.py").candidates]
    assert texts[0] == expected


def test_alternative_arguments_give_alternative_statements() -> None:
    source = 'cur.execute("INSERT INTO {} (a) VALUES (1)".format("a" if flag else "b"))\n'
    assert [c.text for c in extract_python(source, "f.py").candidates] == [
        "INSERT INTO a (a) VALUES (1)",
        "INSERT INTO b (a) VALUES (1)",
    ]


def test_substituted_constant_keeps_its_own_position() -> None:
    source = 'TABLE = "titan.jobs"\ncur.execute("INSERT INTO %s (a) VALUES (%%s)" % TABLE)\n'
    (candidate,) = extract_python(source, "f.py").candidates
    assert candidate.position(candidate.text.index("titan")) == (1, 10)  # where the table name is written
    assert candidate.position(candidate.text.index("VALUES")) == (2, 33)


def test_hole_sits_at_its_replacement_field() -> None:
    (candidate,) = extract_python('cur.execute(f"INSERT INTO {table} (a) VALUES (1)")\n', "f.py").candidates
    assert candidate.text.startswith("INSERT INTO guard_hole_0")
    assert candidate.position(len("INSERT INTO ")) == (1, 28)  # the expression inside the braces
