"""Run the Titan example's ingest functions against a database, each in its own transaction.

Used by test_patch_end_to_end.py in a subprocess, so the patched and the original copies of the
``titan`` package never meet in one interpreter. Usage: ``python titan_ingest_driver.py ROOT DSN``;
prints a JSON object {function name: "ok" | error message}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any


def utc(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


JOBS = [
    {
        "id": 1001,
        "customerName": "Ada",
        "jobStatus": "done",
        "leadSource": "google",
        "invoiceTotal": 120,
        "scheduledOn": utc(2020, 3, 2),
        "createdOn": utc(2020, 2, 27),
    },
    {
        "id": 1002,
        "customerName": "Grace",
        "jobStatus": "done",
        "leadSource": None,
        "invoiceTotal": 80,
        "scheduledOn": utc(2021, 6, 1),
        "createdOn": utc(2021, 5, 30),
    },
]
SYNCED_JOB = {
    "id": 1003,
    "customerName": "Linus",
    "jobStatus": "open",
    "invoiceTotal": 0,
    "scheduledOn": utc(2022, 1, 10),
    "createdOn": utc(2022, 1, 3),
}
ESTIMATES = [
    {
        "id": 2001,
        "jobId": 1001,
        "soldById": 7,
        "total": 99,
        "soldOn": utc(2020, 3, 1).date(),
        "createdOn": utc(2020, 2, 28),
    }
]
INVOICE = {"id": 3001, "jobId": 1001, "total": 120, "createdOn": utc(2020, 3, 3)}
MESSAGES = [{"from": "+15550100", "start_time": utc(2019, 11, 5)}]
CALLS = [{"caller": "+15550101", "direction": "inbound", "duration": 42, "start_time": utc(2019, 12, 24)}]
BOOKING = {"id": 1004, "name": "Barbara", "slot": utc(2021, 2, 1), "createdOn": utc(2021, 1, 15)}
VOICE_CALLS = [{"callId": "vapi-1", "phone": "+15550102", "summary": "quote", "startedAt": utc(2022, 8, 8)}]
CAPTURES = [{"gclid": "gclid-1", "jobId": 1001, "captured_at": utc(2020, 2, 20)}]


def run(root: str, dsn: str) -> dict[str, str]:
    sys.path.insert(0, root)
    import psycopg
    import psycopg2
    import sqlalchemy
    from titan import gclid_bridge, nexus_titan_migration, titan_sync_daemon
    from titan.api import estimates, portal, sms, threecx, vapi_voice

    outcomes: dict[str, str] = {}

    def attempt(name: str, call: Callable[[], Any]) -> None:
        try:
            call()
            outcomes[name] = "ok"
        except Exception as exc:  # reported to the test, which asserts on it
            outcomes[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"

    def with_psycopg(body: Callable[[psycopg.Connection], Any]) -> Callable[[], None]:
        def call() -> None:
            with psycopg.connect(dsn) as conn:
                body(conn)
                conn.commit()

        return call

    def with_sqlalchemy() -> None:
        engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as connection:
                portal.book_job(connection, BOOKING)
        finally:
            engine.dispose()

    def with_psycopg2() -> None:
        conn = psycopg2.connect(dsn)
        try:
            gclid_bridge.capture_gclids(conn, CAPTURES)
        finally:
            conn.close()

    async def with_asyncpg() -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            await vapi_voice.store_voice_calls(conn, VOICE_CALLS)
        finally:
            await conn.close()

    attempt("migrate_jobs", with_psycopg(lambda c: nexus_titan_migration.migrate_jobs(c, JOBS)))
    attempt("sync_job", with_psycopg(lambda c: titan_sync_daemon.sync_job(c, SYNCED_JOB)))
    attempt("sync_estimates", with_psycopg(lambda c: titan_sync_daemon.sync_estimates(c, ESTIMATES)))
    attempt("create_invoice", with_psycopg(lambda c: estimates.create_invoice(c, INVOICE)))
    attempt("load_sms_batch", with_psycopg(lambda c: sms.load_sms_batch(c, MESSAGES)))
    attempt("record_calls", with_psycopg(lambda c: threecx.record_calls(c, CALLS)))
    attempt("book_job", with_sqlalchemy)
    attempt("store_voice_calls", lambda: asyncio.run(with_asyncpg()))
    attempt("capture_gclids", with_psycopg2)
    return outcomes


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])))
