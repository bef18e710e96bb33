"""DB-API 2.0 cursors (psycopg 2 and 3, sqlite3-style drivers): ``cursor.execute(sql, row)`` and
``cursor.executemany(sql, rows)``. Nothing to synthesise: the SQL is in the source, and the extractor reports any
string that looks like a write; the patcher needs to know these calls to extend their parameters."""

from __future__ import annotations

from guard.scan.frontends.python.drivers.base import Driver

DRIVER = Driver(
    name="dbapi",
    run_one=frozenset({"execute", "fetchone", "fetchall", "mogrify"}),
    run_many=frozenset({"executemany"}),
    param_keywords=("params", "parameters", "vars", "args"),
)
