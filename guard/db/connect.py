"""Open connections the way every command should: clear errors, a name in pg_stat_activity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.errors import GuardError, db_error_summary
from guard.redaction import redact, remember_dsn

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy


def connect(dsn: str, *, autocommit: bool = False, application_name: str = "guard") -> psycopg.Connection:
    """Connect to ``dsn``; a failure becomes a :class:`GuardError` that says what to check."""
    import psycopg

    remember_dsn(dsn)
    try:
        return psycopg.connect(dsn, autocommit=autocommit, application_name=application_name, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = redact(db_error_summary(exc, whole=True))
        raise GuardError(
            f"cannot connect to the database ({reason}); check --dsn (or GUARD_DSN) and that the server is up"
        ) from None
    except psycopg.ProgrammingError as exc:
        raise GuardError(f"invalid DSN: {redact(db_error_summary(exc, whole=True))}") from None


def engine(dsn: str, application_name: str = "guard") -> sqlalchemy.Engine:
    """A SQLAlchemy engine (for Alembic) whose connections come from :func:`connect`: the same clear errors.

    No pool: a migration uses one connection, and a pooled one would outlive an interrupted run.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(
        "postgresql+psycopg://", creator=lambda: connect(dsn, application_name=application_name), poolclass=NullPool
    )
