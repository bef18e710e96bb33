"""Run the guard lineage (and a project's ``guard protect`` revisions) with Alembic, programmatically.

``script_location`` is the packaged ``guard.migrations``; the project's migrations directory is added as
an extra version location, so one ``upgrade(dsn)`` installs the schema and then applies every pending
``op.guard_table`` revision, recording progress in ``guard.alembic_version``.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError

from guard.db.connect import connect, engine
from guard.db.ddl import STATE_SQL, GuardState, state_from_row
from guard.db.locks import LockPolicy
from guard.db.operations import KNOWN_STATES
from guard.db.validation import pending_tables
from guard.errors import GuardError


def guard_versions_dir() -> Path:
    """Directory of the packaged guard revisions (works from a wheel: it is a real package directory)."""
    return Path(str(resources.files("guard.migrations").joinpath("versions")))


def alembic_config(
    dsn: str | None = None,
    migrations_dir: str | os.PathLike[str] | None = None,
    lock_policy: LockPolicy | None = None,
    output: io.StringIO | None = None,
) -> Config:
    """An Alembic :class:`Config` for guard's lineage plus ``migrations_dir`` (if it exists)."""
    config = Config(output_buffer=output) if output is not None else Config()
    config.set_main_option("script_location", str(resources.files("guard.migrations")))
    config.set_main_option("path_separator", "os")
    locations = [str(guard_versions_dir())]
    if migrations_dir is not None:
        user_dir = Path(migrations_dir)
        if user_dir.is_dir():
            locations.append(str(user_dir.resolve()))
        elif user_dir.exists():
            raise GuardError(f"{user_dir} is not a directory; set migrations_dir to a directory of revisions")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    if dsn:
        config.attributes["dsn"] = dsn
    policy = lock_policy or LockPolicy()
    config.attributes["guard_lock_timeout"] = policy.timeout_seconds
    config.attributes["guard_lock_tries"] = policy.tries
    config.attributes["guard_lock_backoff"] = policy.backoff_seconds
    return config


def upgrade(
    dsn: str, revision: str = "heads", migrations_dir: str | None = None, lock_policy: LockPolicy | None = None
) -> None:
    """Apply pending revisions up to ``revision`` (default: every head).

    For every head, guard's own lineage is brought up to date first. A project's revision written under an older
    schema follows that schema's revision, so it is a sibling of the newer schema revisions and Alembic may run
    it before them; its guard operations render the newest schema's triggers, whose functions must exist by then.
    """
    config = alembic_config(dsn, migrations_dir, lock_policy)
    with _translated_errors():
        if revision == "heads":
            for head in sorted(guard_heads()):
                command.upgrade(config, head)
        command.upgrade(config, revision)


def downgrade(
    dsn: str, revision: str, migrations_dir: str | None = None, lock_policy: LockPolicy | None = None
) -> None:
    """Revert applied revisions down to ``revision`` (``base`` removes guard entirely)."""
    with _translated_errors():
        command.downgrade(alembic_config(dsn, migrations_dir, lock_policy), revision)


def offline_sql(
    revision: str = "heads",
    migrations_dir: str | None = None,
    downgrade_from: str | None = None,
    start: str | None = None,
    states: dict[str, GuardState] | None = None,
) -> str:
    """The SQL of an upgrade to ``revision`` (or of a downgrade ``downgrade_from:revision``), not executed.

    ``start``: the revision the database is at (``guard migrate --sql --dsn``), so only what it still needs is
    printed; None prints everything from the beginning, as for a new database. ``states``: the database's
    guarded tables (:func:`guarded_states`), so a mode change or unguard of a table guarded earlier is written
    out in full.
    """
    buffer = io.StringIO()
    config = alembic_config(None, migrations_dir, output=buffer)
    config.attributes[KNOWN_STATES] = dict(states or {})
    with _translated_errors():
        if downgrade_from is not None:
            command.downgrade(config, f"{downgrade_from}:{revision}", sql=True)
        else:
            for step in _guard_lineage_first(config, start, revision):
                command.upgrade(config, step, sql=True)
    return buffer.getvalue()


def _guard_lineage_first(config: Config, start: str | None, revision: str) -> list[str]:
    """The ranges to print, guard's own lineage up to its head first (as :func:`upgrade` runs them online).

    A project revision written under an older schema follows that schema's revision, so it is a sibling of the
    newer schema revisions and Alembic may order it first; its guard statements need the newest schema's
    functions. So, when the script starts at the beginning or inside guard's lineage: up to guard's head, then
    from there to every head.
    """
    whole = f"{start}:{revision}" if start is not None else revision
    heads = guard_heads()
    if revision != "heads" or len(heads) != 1:
        return [whole]
    [head] = heads
    if start == head or (start is not None and start not in guard_revisions()):
        return [whole]
    first = f"{start}:{head}" if start is not None else head
    if set(ScriptDirectory.from_config(config).get_heads()) == {head}:
        return [first]
    return [first, f"{head}:heads"]


def guarded_states(dsn: str) -> dict[str, GuardState]:
    """Each guarded table's registry row in the database (none when guard is not installed there)."""
    with connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('guard.protected_tables')").fetchone() == (None,):
            return {}
        return dict(state_from_row(tuple(row)) for row in conn.execute(STATE_SQL))


def guard_heads() -> set[str]:
    """The head(s) of guard's own lineage."""
    return set(ScriptDirectory.from_config(alembic_config(None, None)).get_heads())


def guard_revisions() -> set[str]:
    """Every revision of guard's own lineage (install and schema upgrades)."""
    script = ScriptDirectory.from_config(alembic_config(None, None))
    return {rev.revision for rev in script.walk_revisions()}


def managing_environment(dsn: str) -> tuple[str, list[str]] | None:
    """The project's own Alembic version table when it, not ``guard.alembic_version``, records guard's lineage.

    ``alembic upgrade heads`` in a project that added guard (``guard.alembic.setup``) records guard's revisions
    in the project's version table. ``guard migrate`` must then report, not install guard a second time
    (which failed with "relation protected_tables already exists"). Returns (table, guard revisions recorded).
    """
    if current_revisions(dsn):
        return None
    ours = guard_revisions()
    with connect(dsn, autocommit=True) as conn:
        tables = conn.execute(
            """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class AS c
              JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
              JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'version_num' AND a.attnum > 0
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('guard', 'pg_catalog', 'information_schema')
               AND has_table_privilege(c.oid, 'SELECT')
             ORDER BY 1
            """
        ).fetchall()
        for (table,) in tables:
            recorded = [row[0] for row in conn.execute(f"SELECT version_num FROM {table}")]
            guard_rows = sorted(set(recorded) & ours)
            if guard_rows:
                return table, guard_rows
    return None


def pending_start(dsn: str, migrations_dir: str | None) -> tuple[str | None, bool]:
    """(the revision the database is at, whether anything is pending) for ``--sql --dsn``.

    Alembic prints an offline upgrade from one starting revision; a database on several branches at once is
    refused with a clear message rather than printed from the wrong place.
    """
    current = current_revisions(dsn)
    if len(current) > 1:
        raise GuardError(
            f"the database is at several revisions ({', '.join(current)}); print the SQL per branch with "
            "--revision, or merge the branches (alembic merge)"
        )
    script = ScriptDirectory.from_config(alembic_config(None, migrations_dir))
    heads = set(script.get_heads())
    return (current[0] if current else None), not (current and set(current) == heads)


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn Alembic and database errors into :class:`GuardError` with the server's message and hint."""
    try:
        yield
    except CommandError as exc:
        raise GuardError(f"migration failed: {exc}") from None
    except DBAPIError as exc:
        raise GuardError(f"migration failed: {describe_database_error(exc.orig)}") from None


def describe_database_error(error: BaseException | None) -> str:
    """First line of the server message, plus its HINT when there is one."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(error).strip().splitlines()[0]
    hint = getattr(diag, "message_hint", None)
    return f"{primary} (hint: {hint})" if hint else primary


def current_revisions(dsn: str) -> list[str]:
    """Revisions recorded in ``guard.alembic_version`` (empty when nothing is applied)."""
    with connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('guard.alembic_version')").fetchone() == (None,):
            return []
        return [row[0] for row in conn.execute("SELECT version_num FROM guard.alembic_version ORDER BY 1")]


def state_summary(dsn: str) -> str:
    """Where an interrupted run left the database, in words: its revision and the checks still pending."""
    revisions = ", ".join(current_revisions(dsn)) or "base (guard not installed)"
    database = engine(dsn, "guard migrate")
    try:
        with database.connect() as connection:
            pending = [table for table, _, _ in pending_tables(connection)]
    finally:
        database.dispose()
    unchecked = f"; guarded, stored rows not checked yet: {', '.join(pending)}" if pending else "; no check pending"
    return f"the database is at revision {revisions}{unchecked}"
