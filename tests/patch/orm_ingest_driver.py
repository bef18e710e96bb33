"""Run the ORM example's writers (tests/fixtures/orm_e2e, copied to ROOT) against DSN; print what was stored.

A fresh interpreter per run, so the patched modules are the ones imported. Usage: python orm_ingest_driver.py ROOT DSN
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import psycopg
from psycopg.conninfo import conninfo_to_dict


def main(root: str, dsn: str) -> None:
    sys.path.insert(0, root)
    params = conninfo_to_dict(dsn)

    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["shop"],
        USE_TZ=True,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": params.get("dbname", ""),
                "USER": params.get("user", ""),
                "PASSWORD": params.get("password", ""),
                "HOST": params.get("host", ""),
                "PORT": params.get("port", ""),
            }
        },
    )
    django.setup()

    from app.ingest import ingest_calls, ingest_jobs, ingest_notes
    from shop.views import record
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    old = datetime(2020, 2, 27, 9, tzinfo=timezone.utc)
    with Session(engine) as session:
        ingest_jobs(session, [{"id": 1001, "status": "done", "createdOn": old}])
        ingest_notes(session, [{"text": "hello", "createdOn": old}])
    with engine.begin() as conn:
        ingest_calls(conn, [{"phone": "+15550100", "createdOn": old}])
    record({"path": "/pricing", "createdOn": old})

    stored = {}
    with psycopg.connect(dsn) as conn:
        for table in ("titan.jobs", "titan.notes", "titan.call_logs", "public.shop_visit"):
            (value,) = conn.execute(f"SELECT created_at FROM {table}").fetchone()  # type: ignore[misc]
            stored[table] = value.astimezone(timezone.utc).isoformat()
    print(json.dumps(stored))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
