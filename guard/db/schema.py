"""The packaged SQL of the guard schema, and running it inside an Alembic migration.

The SQL ships in the ``guard.triggers`` package and is read with :mod:`importlib.resources`, so it is
found the same way from a checkout, an editable install or a wheel.
"""

from __future__ import annotations

from importlib import resources

from alembic import op
from pglast import ast, parse_sql

from guard.db.locks import LockPolicy, retry_on_lock_timeout

#: Version of the SQL installed by the newest revision of the guard lineage.
SCHEMA_VERSION = "1.3"
#: Version of the SQL the first revision installs (later versions are upgrade scripts on top of it).
BASE_VERSION = "1.0"
#: Every version, oldest first; each after the first is ``guard--<previous>--<version>.sql`` applied on top.
VERSIONS = ("1.0", "1.1", "1.2", "1.3")


def install_sql(version: str = BASE_VERSION) -> str:
    """Text of ``triggers/guard--<version>.sql``."""
    return _read(f"guard--{version}.sql")


def uninstall_sql(version: str = BASE_VERSION) -> str:
    """Text of ``triggers/uninstall--<version>.sql``."""
    return _read(f"uninstall--{version}.sql")


def upgrade_sql(old: str, new: str) -> str:
    """Text of ``triggers/guard--<old>--<new>.sql``: run on a database at ``old``, leaves it at ``new``."""
    return _read(f"guard--{old}--{new}.sql")


def downgrade_sql(new: str, old: str) -> str:
    """Back from ``new`` to ``old``: ``old``'s own definitions of what the upgrade replaced, then its removals.

    Each replaced function is taken from the newest script of ``old``'s chain that defines it (found by name
    with the PostgreSQL parser), so each version's text exists once; ``guard--<new>--<old>.sql`` then drops
    what the upgrade added.
    """
    replaced = _function_names(upgrade_sql(old, new))
    restored = []
    for script in _definition_scripts(old):
        defined = _function_names(script) & replaced
        for statement, node in _statements(script):
            if isinstance(node, ast.CreateFunctionStmt):
                if _function_name(node) in defined:
                    restored.append(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
            elif isinstance(node, (ast.AlterOwnerStmt, ast.GrantStmt)) and any(
                f"guard.{name}(" in statement for name in defined
            ):
                restored.append(statement)  # owner and grants of a restored function (these have no body)
        replaced -= defined
    return ";\n\n".join(restored) + ";\n\n" + _read(f"guard--{new}--{old}.sql")


def function_definition(version: str, name: str) -> str:
    """The ``CREATE FUNCTION guard.<name>`` statement that defines ``name`` at ``version`` (for comparisons)."""
    for script in _definition_scripts(version):
        for statement, node in _statements(script):
            if isinstance(node, ast.CreateFunctionStmt) and _function_name(node) == name:
                return statement
    raise LookupError(f"guard {version} defines no function guard.{name}")


def _definition_scripts(version: str) -> list[str]:
    """The scripts that make up ``version``, newest first: its upgrade scripts back to the base install."""
    index = VERSIONS.index(version)
    upgrades = [upgrade_sql(VERSIONS[i - 1], VERSIONS[i]) for i in range(index, 0, -1)]
    return [*upgrades, install_sql(BASE_VERSION)]


def _statements(script: str) -> list[tuple[str, ast.Node]]:
    """(text as written, parse tree) of each statement of ``script``, split by the PostgreSQL parser."""
    encoded = script.encode("utf-8")
    statements = []
    for raw in parse_sql(script):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(encoded)  # 0: the statement runs to the end
        if raw.stmt is not None:
            statements.append((encoded[start:end].decode("utf-8").strip(), raw.stmt))
    return statements


def _function_name(node: ast.CreateFunctionStmt) -> str | None:
    """``name`` of a ``CREATE FUNCTION guard.name(...)``; None for a function outside schema guard."""
    *schema, name = (part.sval for part in node.funcname or ())
    return name if schema == ["guard"] else None


def _function_names(script: str) -> set[str]:
    """Names of the functions ``script`` creates or replaces in schema guard."""
    return {
        name
        for _, node in _statements(script)
        if isinstance(node, ast.CreateFunctionStmt) and (name := _function_name(node)) is not None
    }


def _read(name: str) -> str:
    return resources.files("guard.triggers").joinpath(name).read_text(encoding="utf-8")


def run_script(script: str) -> None:
    """Run a multi-statement SQL script as is: executed online, printed verbatim with ``--sql``.

    Bypasses SQLAlchemy's ``text()`` on purpose: the script holds ``:=`` and ``%`` (plpgsql, ``format``)
    that bind-parameter processing would mangle, and several statements that only the simple query
    protocol (no parameters) accepts in one call. Upgrades re-create the triggers of guarded tables, so the
    script runs under the lock policy of ``guard migrate`` (``--lock-timeout``, ``--lock-tries``), as a whole:
    a try that times out waiting for a table is undone entirely before the next. Offline the ``SET LOCAL
    lock_timeout`` is printed first.
    """
    context = op.get_context()
    policy = LockPolicy.from_options(context.opts)
    if context.as_sql:
        context.impl.static_output(f"{policy.set_timeout_sql()};\n{script.strip()}\n")
        return
    retry_on_lock_timeout(
        op.get_bind(),
        policy,
        "a guarded table (guard's schema upgrade re-creates its triggers)",
        lambda connection: connection.exec_driver_sql(script, execution_options={"no_parameters": True}),
    )
