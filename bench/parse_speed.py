"""Parse-stage speed: guard's parse_candidate vs. the bare Postgres parser (pglast.parse_sql_json) on the same input.

Run: .venv/bin/python bench/parse_speed.py   (CPU seconds, so other load on the machine matters less)
"""

from __future__ import annotations

import contextlib
import time

from pglast.parser import parse_sql_json

from guard.model import SqlCandidate
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql.parse import parse_candidate


def schema_dump(tables: int) -> str:
    parts = []
    for n in range(tables):
        columns = ",\n".join(f"    col_{i} text" for i in range(8))
        parts.append(
            f"\n-- Name: table_{n}; Type: TABLE\n\n"
            f"CREATE TABLE public.table_{n} (\n    id bigint NOT NULL,\n{columns},\n"
            f"    created_at timestamp with time zone DEFAULT now() NOT NULL\n);\n\n"
            f"ALTER TABLE public.table_{n} OWNER TO app;\n"
            f"CREATE INDEX table_{n}_created ON public.table_{n} (created_at);\n"
            f"INSERT INTO public.table_{n} (id, col_0) VALUES ({n}, 'x') ON CONFLICT DO NOTHING;\n"
        )
    return "".join(parts)


APP_SQL = [
    "INSERT INTO titan.jobs (st_id, scheduled_at, amount, note) VALUES (%s, %s, %s, %s)",
    "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES (:a, :b) ON CONFLICT (st_id) DO UPDATE SET amount = 1",
    "SELECT id, name FROM users WHERE id = %(id)s AND created_at > now() - interval '1 day'",
    "INSERT INTO titan.jobs (st_id) VALUES ($1) RETURNING id",
    "Insert into the queue failed",
]


def cpu(function, repeat: int = 1) -> float:
    start = time.process_time()
    for _ in range(repeat):
        function()
    return time.process_time() - start


def main() -> None:
    text = schema_dump(2000)
    lines = text.count("\n")
    candidates, _ = extract_sql_file(text, "schema.sql")
    guard_seconds = cpu(lambda: [parse_candidate(c) for c in candidates])
    bare_seconds = cpu(lambda: parse_sql_json(text))
    print(f".sql schema dump: {lines} lines")
    print(f"  guard parse_candidate : {guard_seconds:.3f}s CPU  {lines / guard_seconds:>9.0f} lines/s")
    print(f"  bare pglast parse     : {bare_seconds:.3f}s CPU  {lines / bare_seconds:>9.0f} lines/s")
    print(f"  ratio guard/bare      : {guard_seconds / bare_seconds:.1f}x")
    app = [SqlCandidate("app.py", 1, 1, sql, "literal") for sql in APP_SQL]
    repeat = 2000
    guard_app = cpu(lambda: [parse_candidate(c) for c in app], repeat)
    bare_app = cpu(lambda: [_bare(c.text) for c in app], repeat)
    per = len(app) * repeat
    print(f"application strings ({len(app)} kinds x {repeat}):")
    print(f"  guard parse_candidate : {guard_app / per * 1e6:.0f} us/candidate")
    print(f"  bare pglast parse     : {bare_app / per * 1e6:.0f} us/candidate (no placeholder handling)")
    print(f"  ratio guard/bare      : {guard_app / bare_app:.1f}x")


def _bare(text: str) -> None:
    with contextlib.suppress(Exception):  # prose and broken SQL are part of the workload
        parse_sql_json(text)


if __name__ == "__main__":
    main()
