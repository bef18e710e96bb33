"""A write into a guarded table leaves the timestamp column to its default.

The table's timestamp column (``created_at`` unless configured otherwise) has a ``now()``-like default, or
the table is listed in ``guard.toml``. The statement does not give the column a value: it is missing from
the column list, set to ``DEFAULT``, beyond the last value of a positional INSERT, missing from a COPY
column list, or missing from an INSERT ... SELECT or upsert. Postgres then stamps every row with the time
of the load, so historical rows look created in one minute — the phantom-timestamp bug.

Writes through an ORM model (SQLAlchemy ``session.add(Job(...))``, Core ``insert(jobs).values(...)``,
Django ``Order.objects.create(...)``) are judged the same way, and the message says which kind of default
fills the column, because the fix and the protection differ:

* a *database* default (``server_default=func.now()``, ``DEFAULT now()``, Django ``db_default=Now()``): the
  database guard sees the omission;
* an *ORM Python-side* default (``default=datetime.utcnow``, ``default=func.now()``, a ``lambda``, SQLModel
  ``Field(default_factory=...)``, Django ``default=timezone.now``): the ORM fills the value, so the row
  arrives with an explicit ``created_at`` and the database guard cannot see the omission at all;
* Django ``auto_now_add=True`` (or ``auto_now``): Django overwrites the column with the insert time on
  create, even when the write passes a value. The fix is in the model (``default=timezone.now`` instead) and
  a migration, not in the call, so ``guard patch`` reports it as unfixable with what to change.

Fix: name the column and pass the source system's creation time (``guard patch`` does this for you).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.rules import base, grd007_source_timestamp_dropped

CODE = "GRD001"
NAME = "timestamp-left-to-default"
MESSAGE = "{statement}, so Postgres fills {default}"
DEFAULT_SEVERITY = Severity.MEDIUM
FIXABLE = True
#: Default kinds whose fix is in the model, not the call.
OVERWRITES = frozenset({"auto_now_add", "auto_now"})
#: The rest of the message for defaults the ORM fills (the database guard cannot see them).
ORM_MESSAGES = {
    "orm": (
        ", so the ORM fills it with its {side} default {default} (the insert time); "
        "the database guard cannot see this default: the row arrives with an explicit value"
    ),
    "auto_now_add": (
        "; {name} has auto_now_add=True, so Django stamps the insert time on create and overwrites any value "
        "passed; the database guard cannot see this: the row arrives with an explicit value"
    ),
    "auto_now": (
        "; {name} has auto_now=True, so Django stamps the save time on every save and overwrites any value "
        "passed; the database guard cannot see this: the row arrives with an explicit value"
    ),
}


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    if resolved.table is None or not resolved.guarded or resolved.sets_timestamp is not False:
        return None
    if grd007_source_timestamp_dropped.copied_history(resolved):
        return None  # GRD007 says it better: the source's own time was there to copy
    write = resolved.write
    message = MESSAGE.format(
        statement=base.describe_omission(resolved),
        default=base.describe_default(resolved),
    )
    if resolved.default_kind in ORM_MESSAGES:
        side = "Python-side" if write.relpath.endswith((".py", ".pyw")) else "client-side"  # JS/TS ORMs
        message = base.describe_omission(resolved) + ORM_MESSAGES[resolved.default_kind].format(
            default=resolved.default or "?", name=base.timestamp_name(resolved), side=side
        )
    return ctx.table_finding(
        CODE,
        resolved,
        message,
        fixable=FIXABLE and not write.dynamic and not write.best_effort and resolved.default_kind not in OVERWRITES,
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
