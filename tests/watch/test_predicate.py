"""--where validation: the parser decides what the predicate is, the catalog decides what it may call."""

from __future__ import annotations

import psycopg
import pytest

from guard.errors import GuardError
from guard.watch.predicate import parse_predicate, validate_predicate


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("lead_source = 'Imported Default Campaign'", "lead_source = 'Imported Default Campaign'"),
        ("created_at >= '2026-04-03' -- trailing comment", "created_at >= '2026-04-03'"),
        ("id IN (SELECT job_id FROM quarantined_jobs)", "id IN (SELECT job_id FROM quarantined_jobs)"),
        ("extract(year from scheduled_at) < 2021", "EXTRACT(YEAR FROM scheduled_at) < 2021"),
        ("x IN (SELECT 1 UNION SELECT 2)", "x IN (SELECT 1 UNION SELECT 2)"),
        ("a = 1 /* ; DELETE FROM t */ OR b", "a = 1 OR b"),
    ],
)
def test_accepted_predicates_are_regenerated_from_the_parse_tree(text: str, canonical: str) -> None:
    assert parse_predicate(text).canonical == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a = ", "not a valid SQL boolean expression"),
        ("true; DELETE FROM t", "single expression"),
        ("true UNION SELECT 1", "UNION"),
        ("true ORDER BY 1", "ORDER BY"),
        ("true LIMIT 1", "LIMIT"),
        ("true FOR UPDATE", "FOR UPDATE"),
        ("true GROUP BY 1", "GROUP BY"),
        ("id IN (SELECT id FROM t FOR SHARE)", "FOR UPDATE/SHARE"),
        ("id IN (WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d)", "data-modifying WITH"),
        ("id IN (WITH d AS (UPDATE t SET a = 1 RETURNING id) SELECT id FROM d)", "data-modifying WITH"),
        ("id IN (WITH d AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM d)", "data-modifying WITH"),
    ],
)
def test_rejected_predicates(text: str, message: str) -> None:
    with pytest.raises(GuardError, match=message.replace("(", r"\(")):
        parse_predicate(text)


def test_functions_are_checked_against_the_catalog(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE audit (n int);
            CREATE FUNCTION writes() RETURNS int LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n';
            CREATE FUNCTION pure(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
            CREATE FUNCTION logs(a int, b int) RETURNS boolean LANGUAGE sql
                AS 'INSERT INTO audit VALUES (a) RETURNING true';
            CREATE OPERATOR ==> (LEFTARG = int, RIGHTARG = int, FUNCTION = logs);
            """
        )
        for allowed in ("lower(a) = 'x'", "created_at > now() - interval '1 day'", "random() < 0.5"):
            validate_predicate(conn, allowed)
        # a user function may reach side effects even when declared immutable: built-ins only
        with pytest.raises(GuardError, match="pure\\(\\), and a function of that name is user-defined"):
            validate_predicate(conn, "pure(id) > 1")
        for volatile in ("writes() = 1", "pg_sleep(10) IS NULL", "set_config('role', 'x', false) = ''",
                         "pg_catalog.pg_advisory_lock(1) IS NULL"):  # fmt: skip
            with pytest.raises(GuardError, match="volatile function"):
                validate_predicate(conn, volatile)
        with pytest.raises(GuardError, match="operator ==>, which runs a volatile function"):
            validate_predicate(conn, "id ==> 1")
        validate_predicate(conn, "id = 1 AND a <> 'x' AND b BETWEEN 1 AND 2 AND c ~ '^x'")
        with pytest.raises(GuardError, match="does not exist"):
            validate_predicate(conn, "nope.fn(1) = 1")
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)


HOSTILE_SETUP = """
CREATE SCHEMA titan;
CREATE TABLE titan.jobs (id int PRIMARY KEY, created_at timestamptz, note text);
INSERT INTO titan.jobs SELECT g, now(), 'x' FROM generate_series(1, 50) g;
CREATE TABLE side_effects (n int);
CREATE FUNCTION rel_side(titan.jobs) RETURNS boolean LANGUAGE sql VOLATILE
    AS 'INSERT INTO side_effects VALUES (1) RETURNING true';
CREATE FUNCTION stable_writer(int) RETURNS boolean LANGUAGE plpgsql STABLE
    AS 'BEGIN PERFORM nextval(''seq''); RETURN true; END';
CREATE SEQUENCE seq;
CREATE FUNCTION noisy_check(text) RETURNS boolean LANGUAGE sql VOLATILE
    AS 'INSERT INTO side_effects VALUES (2) RETURNING true';
CREATE DOMAIN checked_text AS text CHECK (noisy_check(VALUE));
CREATE TYPE mood AS ENUM ('ok', 'bad');
"""

#: the issue's attacks (and their neighbours), each with the refusal it must get
HOSTILE_PREDICATES = {
    "jobs.rel_side": "function call rel_side\\(jobs\\)",
    "titan.jobs.rel_side": "function call rel_side\\(titan.jobs\\)",
    "rel_side(jobs)": "rel_side\\(\\), a volatile function",
    "stable_writer(id)": "stable_writer\\(\\), and a function of that name is user-defined",
    "note::checked_text IS NOT NULL": "casts to checked_text, which is not a built-in base type",
    "CAST(note AS checked_text) IS NOT NULL": "casts to checked_text",
    "'ok'::mood = 'ok'": "casts to mood",
    "EXISTS (SELECT FROM pg_authid WHERE rolpassword IS NOT NULL)": "reads pg_authid, a system catalog",
    "EXISTS (SELECT FROM pg_catalog.pg_authid)": "a system catalog",
    "EXISTS (SELECT FROM information_schema.tables)": "a system catalog",
    "EXISTS (SELECT FROM side_effects s WHERE s.rel_side)": "function call rel_side\\(s\\)",
}


@pytest.mark.parametrize("text", sorted(HOSTILE_PREDICATES))
def test_where_reaches_no_user_code_and_no_catalog(pg_dsn: str, text: str) -> None:
    from guard.watch.catalog import resolve_table

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(HOSTILE_SETUP)
        table = resolve_table(conn, "titan.jobs", ["public"])
        with pytest.raises(GuardError, match=HOSTILE_PREDICATES[text]):
            validate_predicate(conn, text, table)
        assert conn.execute("SELECT count(*) FROM side_effects").fetchone() == (0,)


def test_ordinary_predicates_still_pass(pg_dsn: str) -> None:
    from guard.watch.catalog import resolve_table

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(HOSTILE_SETUP)
        table = resolve_table(conn, "titan.jobs", ["public"])
        for text in (
            "jobs.id > 3 AND titan.jobs.note = 'x'",
            "note::text = 'x' AND created_at::date < '2030-01-01'::date",
            "id IN (SELECT s.n FROM side_effects s WHERE s.n > 0)",
            "lower(note) LIKE 'x%' AND created_at > now() - interval '1 day'",
        ):
            validate_predicate(conn, text, table)
