import psycopg


def test_fixture_gives_a_real_writable_postgres(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE t (id int, created_at timestamptz DEFAULT now())")
        conn.execute("INSERT INTO t (id) VALUES (1)")
        row = conn.execute("SELECT count(*), bool_and(created_at IS NOT NULL), version() FROM t").fetchone()
    assert row is not None
    assert row[0] == 1 and row[1] is True
    assert "PostgreSQL" in row[2]


def test_connection_failure_keeps_the_cause_on_one_line() -> None:
    import pytest

    from guard.db.connect import connect
    from guard.errors import GuardError

    with pytest.raises(GuardError) as excinfo:
        connect("postgresql://nobody@127.0.0.1:1/x")
    message = str(excinfo.value)
    assert "Connection refused" in message and "\n" not in message and "\t" not in message
