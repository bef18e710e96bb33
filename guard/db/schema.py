"""The packaged SQL of the guard schema, and running it inside an Alembic migration.

The SQL ships in the ``guard.triggers`` package and is read with :mod:`importlib.resources`, so it is
found the same way from a checkout, an editable install or a wheel.
"""

from __future__ import annotations

from importlib import resources

from alembic import op

#: Version of the SQL installed by the newest revision of the guard lineage.
SCHEMA_VERSION = "1.0"


def install_sql(version: str = SCHEMA_VERSION) -> str:
    """Text of ``triggers/guard--<version>.sql``."""
    return _read(f"guard--{version}.sql")


def uninstall_sql(version: str = SCHEMA_VERSION) -> str:
    """Text of ``triggers/uninstall--<version>.sql``."""
    return _read(f"uninstall--{version}.sql")


def _read(name: str) -> str:
    return resources.files("guard.triggers").joinpath(name).read_text(encoding="utf-8")


def run_script(script: str) -> None:
    """Run a multi-statement SQL script as is: executed online, printed verbatim with ``--sql``.

    Bypasses SQLAlchemy's ``text()`` on purpose: the script holds ``:=`` and ``%`` (plpgsql, ``format``)
    that bind-parameter processing would mangle, and several statements that only the simple query
    protocol (no parameters) accepts in one call.
    """
    context = op.get_context()
    if context.as_sql:
        context.impl.static_output(script.strip() + "\n")
        return
    op.get_bind().exec_driver_sql(script, execution_options={"no_parameters": True})
