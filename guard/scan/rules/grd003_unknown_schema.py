"""A write omits the timestamp column into a table whose schema guard does not know.

guard found no DDL, migration or live-catalog entry telling whether the table has the timestamp column
(or whether its default is ``now()``). The write may be harmless or may be the phantom-timestamp bug; it is
reported at low severity so a repository with no DDL still gets its blast radius on the first run.

A write through an ORM model (``session.add(Job(...))``, ``Order.objects.create(...)``) whose model guard
cannot map to a table — the class is imported from outside the scanned tree, or built in a way guard cannot
read — is reported here too: guard never guesses a model's table.

Fix: let guard see the schema — keep the DDL or migrations in the scanned tree, pass ``--dsn`` to read the
live catalog, or list the table in ``guard.toml`` (``guarded = false`` to silence a table that is fine).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.resolve import column_list_is_dynamic
from guard.scan.rules import base

CODE = "GRD003"
NAME = "schema-unknown"
MESSAGE = "{statement}; guard does not know this table's schema, so cannot tell whether {column} defaults to now()"
DEFAULT_SEVERITY = Severity.LOW
FIXABLE = False


MODEL_MESSAGE = (
    "{statement}: guard cannot map the model {model} to a table (it is not defined in the scanned tree, or "
    "defined in a way guard cannot read), so cannot tell whether {column} defaults to now()"
)


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    if resolved.write.entity and resolved.table is None:
        return _unknown_model(resolved)
    if resolved.table is None or resolved.table_known or resolved.guarded or resolved.sets_timestamp is True:
        return None
    if column_list_is_dynamic(resolved.write):
        return None  # GRD004 reports it
    message = MESSAGE.format(
        statement=base.describe_omission(resolved),
        column=resolved.timestamp_column,
    )
    return base.finding(
        CODE,
        resolved,
        severity=DEFAULT_SEVERITY,
        message=message,
        why="schema unknown: add DDL to the tree, pass --dsn, or list the table in guard.toml",
        fixable=FIXABLE,
    )


def _unknown_model(resolved: ResolvedWrite) -> Finding | None:
    """A write through a model the catalog cannot resolve: reported, never guessed."""
    if resolved.sets_timestamp is True or resolved.table_known:
        return None
    write = resolved.write
    message = MODEL_MESSAGE.format(
        statement=base.statement_label(write),
        model=(write.entity or "").split(":", 1)[-1],
        column=resolved.timestamp_column,
    )
    return base.finding(
        CODE,
        resolved,
        severity=DEFAULT_SEVERITY,
        message=message,
        why="model unknown: keep the model definitions in the scanned tree, or pass --dsn and list the table",
        fixable=FIXABLE,
    )


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=check,
)
