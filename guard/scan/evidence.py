"""Evidence of history: why one omission is a phantom-maker and another is harmless.

A live single-row create (a user signs up now) may rightly be stamped with ``now()``; a writer that copies
history (an ``INSERT ... SELECT`` from another table, a loop over an API payload, a backfill script) stamps
years of rows with one load minute — the incident. The scanner cannot see intent, but it can see the
signals people used to rank the incident's writers by hand: bulk execution, rows read from external records,
a business date carried next to the creation time, batch-job names, request handlers.

Every write carries a tuple of :class:`~guard.model.Evidence`; :func:`rank` turns them into a default
severity with one small table (``docs/rules/ranking.md``), so the ranking can be explained in a sentence.
A table's ``severity`` in ``guard.toml`` always wins over this default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from guard.model import Evidence, Finding, Severity
from guard.naming import snake_case

#: The write copies rows from a relation that has its own creation/business time, which it drops.
HISTORY_COPIED = "history-copied"
#: Many rows in one call: executemany, execute_values/execute_batch, COPY, bulk_*/add_all, multi-row VALUES,
#: an execute inside a loop over a collection, insert().values(list).
BULK = "bulk"
#: Row values come from payloads/mappings (``job["id"]``, ``job.get("scheduledOn")``, json.loads, camelCase
#: keys) rather than from the function's own scalar arguments.
EXTERNAL_RECORDS = "external-records"
#: The table has a business-date column and the write sets it: business time exists, so ingestion time in
#: the creation column is a lie.
BUSINESS_DATE = "business-date"
#: The file, function or entry point reads as a batch job (migrate, backfill, sync, import, etl, ingest,
#: load, seed) or a ``__main__`` script.
BATCH_CONTEXT = "batch-context"
#: A web request handler (Flask/FastAPI/Django route, view): one row created now, by a user.
REQUEST_HANDLER = "request-handler"
#: One row from the function's scalar arguments, no loop, no payload.
SINGLE_ROW = "single-row"
#: The table is stale in the live database: a re-sync (a backfill) is coming.
STALE_TABLE = "stale-table"

KINDS = (
    HISTORY_COPIED,
    BULK,
    EXTERNAL_RECORDS,
    BUSINESS_DATE,
    BATCH_CONTEXT,
    REQUEST_HANDLER,
    SINGLE_ROW,
    STALE_TABLE,
)

#: Words in file and function names that mark batch jobs (matched on word parts, so ``migrate_jobs`` and
#: ``nexus_titan_migration`` count, ``download`` does not).
_BATCH_WORDS = re.compile(
    r"(?:^|[_\W\d])(migrat\w*|backfill\w*|sync\w*|import\w*|etl|ingest\w*|load(?:er|ers|s|ing)?|seed\w*|"
    r"replay\w*|resync\w*|bulk\w*|batch\w*|copy_\w*)(?:$|[_\W\d])",
    re.IGNORECASE,
)

#: Column names that hold a business date/time: when something happened in the source system.
_DATE_SUFFIXES = ("_at", "_on", "_date", "_time", "_ts", "_day", "_timestamp", "_datetime")
_DATE_PREFIXES = ("date_", "dt_")
_CAMEL_DATE = re.compile(r"[a-z0-9](At|On|Date|Time|Timestamp)$")
#: Bookkeeping timestamps: about the row, not about the business event.
_BOOKKEEPING = re.compile(
    r"^(created|inserted|ingested|warehouse_ingested|loaded|synced|updated|modified|deleted|changed|"
    r"last_modified|last_updated|last_seen|imported|processed|etl|dw|record)(?:_|$)|"
    r"^(date_created|date_modified|date_updated|date_deleted)$",
    re.IGNORECASE,
)


def business_date_columns(columns: Iterable[str], timestamp_column: str) -> list[str]:
    """Columns of a table that look like business dates (``scheduled_at``, ``sold_on``, ``invoice_date``),
    leaving out the creation column and bookkeeping stamps (``updated_at``, ``warehouse_ingested_at``)."""
    found = []
    for name in columns:
        if name == timestamp_column or name.startswith("#") or _BOOKKEEPING.match(snake_case(name)):
            continue
        lower = name.lower()
        if lower.endswith(_DATE_SUFFIXES) or lower.startswith(_DATE_PREFIXES) or _CAMEL_DATE.search(name):
            found.append(name)
    return found


def is_batch_name(name: str) -> bool:
    """A file or function name that reads as a batch job (``migrate_jobs``, ``backfill.py``, ``etl/``)."""
    return bool(_BATCH_WORDS.search(name))


def batch_path(relpath: str) -> str | None:
    """The innermost part of a file's path that reads as a batch job (``etl/load_jobs.py`` -> ``load_jobs``)."""
    parts = relpath.rsplit(".", 1)[0].split("/")
    return next((part for part in reversed(parts) if is_batch_name(part)), None)


def path_evidence(relpath: str) -> tuple[Evidence, ...]:
    """What a file's path alone says, for front-ends that cannot see around a write (or files that do not
    parse): a batch job's file or directory name."""
    batch = batch_path(relpath)
    return (Evidence(BATCH_CONTEXT, batch),) if batch else ()


def date_stem(name: str) -> str:
    """The event a date-like name is about: ``scheduled_at``/``scheduledOn``/``ScheduledDate`` -> ``scheduled``."""
    snake = snake_case(name)
    for suffix in sorted(_DATE_SUFFIXES, key=len, reverse=True):
        if snake.endswith(suffix):
            return snake[: -len(suffix)]
    for prefix in _DATE_PREFIXES:
        if snake.startswith(prefix):
            return snake[len(prefix) :]
    return snake


def rank(evidence: Sequence[Evidence]) -> Severity:
    """The default severity of an omission, from its evidence (the table in ``docs/rules/ranking.md``).

    | evidence                                                      | severity |
    |---------------------------------------------------------------|----------|
    | history copied from another relation                          | critical |
    | bulk or batch job, rows from external records, business date | critical |
    | request handler (and neither bulk nor a batch job)            | low      |
    | bulk, external records, or a batch job                        | high     |
    | a single row from scalar arguments                            | low      |
    | anything else                                                 | medium   |

    A stale table (``guard scan --dsn``) is raised one level afterwards by :mod:`guard.rollout.stale`,
    which measures freshness in the database: its re-sync is the next backfill.
    """
    kinds = {e.kind for e in evidence}
    batch_of_records = bool(kinds & {BULK, BATCH_CONTEXT}) and {EXTERNAL_RECORDS, BUSINESS_DATE} <= kinds
    if HISTORY_COPIED in kinds or batch_of_records:
        severity = Severity.CRITICAL
    elif REQUEST_HANDLER in kinds and not kinds & {BULK, BATCH_CONTEXT}:
        severity = Severity.LOW  # a request's payload is the user's input, created now
    elif kinds & {BULK, EXTERNAL_RECORDS, BATCH_CONTEXT}:
        severity = Severity.HIGH
    elif SINGLE_ROW in kinds:
        severity = Severity.LOW
    else:
        severity = Severity.MEDIUM
    return severity


def raise_one(severity: Severity) -> Severity:
    """One level up (critical stays critical)."""
    order = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
    return order[min(order.index(severity) + 1, len(order) - 1)]


def score(evidence: Sequence[Evidence]) -> int:
    """A tie-breaker inside one severity: how many history signals agree (request handlers count against)."""
    weights = {
        HISTORY_COPIED: 8,
        BULK: 3,
        EXTERNAL_RECORDS: 3,
        BUSINESS_DATE: 2,
        BATCH_CONTEXT: 2,
        STALE_TABLE: 2,
        REQUEST_HANDLER: -3,
        SINGLE_ROW: -2,
    }
    return sum(weights.get(e.kind, 0) for e in evidence)


def finding_order(found: Finding) -> tuple[int, int, str, int, int, str]:
    """Most severe first; inside a severity, the write with the most evidence of history (the phantom-makers
    on top), then by location so the order is stable. Every report lists findings in this order."""
    return (-found.severity.rank, -score(found.evidence), found.relpath, found.line, found.column, found.rule)


def summary(evidence: Sequence[Evidence]) -> str:
    """One short line for people: ``bulk (executemany); external records (job[...]); batch job (migrate_jobs)``."""
    return "; ".join(f"{e.kind.replace('-', ' ')} ({e.detail})" if e.detail else e.kind for e in evidence)


def merge(*groups: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Evidence from several stages, in order, each kind once (the first detail wins)."""
    seen: dict[str, Evidence] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item.kind, item)
    return tuple(seen.values())
