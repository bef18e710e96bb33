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
        for allowed in ("lower(a) = 'x'", "created_at > now() - interval '1 day'", "random() < 0.5", "pure(id) > 1"):
            validate_predicate(conn, allowed)
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
