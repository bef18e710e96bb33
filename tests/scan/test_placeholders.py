"""Placeholder rewriting: every driver style becomes $n; literals, comments, casts and slices stay as written."""

from __future__ import annotations

import pytest

from guard.scan.sql.placeholders import rewrite_placeholders


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO t (a, b) VALUES (%s, %s)", "INSERT INTO t (a, b) VALUES ($1, $2)"),
        ("INSERT INTO t (a) VALUES (%(name)s)", "INSERT INTO t (a) VALUES ($1)"),
        ("INSERT INTO t (a, b) VALUES (%b, %t)", "INSERT INTO t (a, b) VALUES ($1, $2)"),
        ("INSERT INTO t (a) VALUES (:name)", "INSERT INTO t (a) VALUES ($1)"),
        ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)"),
        ("SELECT * FROM t WHERE a=? AND b<>?", "SELECT * FROM t WHERE a=$1 AND b<>$2"),
        ("SELECT * FROM t WHERE a=%s", "SELECT * FROM t WHERE a=$1"),
        ("INSERT INTO t (a) VALUES ($1)", "INSERT INTO t (a) VALUES ($1)"),
        ("INSERT INTO guard_hole_0 (a) VALUES (1)", "INSERT INTO guard_hole_0 (a) VALUES (1)"),
        ("SELECT a %% 2 FROM t WHERE b = %s", "SELECT a % 2 FROM t WHERE b = $2"),
        ("SELECT :'var', :\"ident\"", "SELECT $1, $2"),
    ],
)
def test_each_style_becomes_a_postgres_parameter(sql: str, expected: str) -> None:
    assert rewrite_placeholders(sql).text == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'a %s b', 'c :name', 'what?' FROM t",
        "SELECT 1 -- %s :name ?\n",
        "SELECT 1 /* %(x)s */",
        "SELECT $$ :name %s ? $$, $tag$ %(y)s $tag$",
        "SELECT a::int, b::text[] FROM t",
        "SELECT arr[1:n], arr[lo:hi] FROM t",
        "SELECT data ? 'key', data ?| array['a'] FROM t",
        "DO $$ BEGIN x := 1; END $$",
        'SELECT "col:name", "%s" FROM t',
    ],
)
def test_literals_comments_casts_slices_and_jsonb_operators_are_left_alone(sql: str) -> None:
    rewritten = rewrite_placeholders(sql)
    assert rewritten.text == sql
    assert rewritten.placeholders == 0


def test_offsets_map_back_to_the_original_text() -> None:
    sql = "INSERT INTO t (a, b, c) VALUES (%(first)s, :second, ?) -- done"
    rewritten = rewrite_placeholders(sql)
    assert rewritten.text == "INSERT INTO t (a, b, c) VALUES ($1, $2, $3) -- done"
    assert rewritten.placeholders == 3
    for number, original in ((1, "%(first)s"), (2, ":second"), (3, "?")):
        new_offset = rewritten.text.index(f"${number}")
        assert rewritten.offsets.to_old(new_offset) == sql.index(original)
        end = new_offset + 2
        assert rewritten.offsets.to_old(end) == sql.index(original) + len(original)
    tail = rewritten.text.index("-- done")
    assert rewritten.offsets.to_old(tail) == sql.index("-- done")


def test_text_the_scanner_rejects_is_returned_unchanged() -> None:
    sql = "INSERT INTO t VALUES ('unterminated %s"
    rewritten = rewrite_placeholders(sql)
    assert rewritten.text == sql
    assert rewritten.placeholders == 0


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t (a, b, c) VALUES (%s, %(x)s, :y) -- %s",
        "SELECT * FROM t WHERE a = ? AND b IN (?, ?) AND c = 'x' /* ? */",
        "SELECT * FROM t WHERE a=? AND b=%s",  # operators glued to placeholders: rescanned instead
        "SELECT a %% 2, :'v' FROM t",
        "INSERT INTO t VALUES (%s, 'é€', $$ %s $$, %s)",
    ],
)
def test_derived_tokens_match_a_fresh_scan(sql: str) -> None:
    from guard.scan.sql.text import SqlText

    original = SqlText(sql)
    rewritten = rewrite_placeholders(sql, original.tokens)
    if rewritten.tokens is not None:
        assert rewritten.tokens == SqlText(rewritten.text).tokens
