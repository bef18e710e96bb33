"""Stale tables with their writers: every stale table is a future phantom.

"When someone eventually runs a backfill or a re-sync to fix the staleness, the same created_at = NOW() bug
will re-trigger, compressing months of history into a single minute." ``guard freshness`` knows which
tables are stale, ``guard scan`` knows which code writes them; this module joins the two:

* :func:`stale_writers` gives each stale table its writers, marking those that omit the timestamp;
* :func:`raise_stale_severity` raises the severity of findings on stale tables one level (``guard scan
  --dsn``) and says why in the finding, because the backfill that will fix the staleness is exactly the
  write the finding describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from guard.config import Config
from guard.db.session import transaction
from guard.model import Evidence, Finding
from guard.rollout.blast import BlastRadius, Writer
from guard.scan import evidence
from guard.watch.catalog import GUARD_SCHEMA, list_tables
from guard.watch.freshness import ERROR, WARN, Freshness, measure
from guard.watch.output import hours

if TYPE_CHECKING:
    import psycopg

STALE = (WARN, ERROR)
BACKFILL_WARNING = "a backfill here re-stamps the backlog"


@dataclass(frozen=True)
class StaleTable:
    freshness: Freshness
    writers: tuple[Writer, ...]

    @property
    def omitting(self) -> tuple[Writer, ...]:
        """Writers that leave the timestamp to its default: each one re-stamps the backlog on a backfill."""
        return tuple(w for w in self.writers if w.sets_timestamp is False)


def stale_writers(results: Sequence[Freshness], blast: BlastRadius) -> list[StaleTable]:
    """Each stale table (warn or error) with its writers from the scan, in the freshness order (stalest first)."""
    return [StaleTable(f, tuple(blast.writers_of(f.table))) for f in results if f.status in STALE]


def writer_note(writer: Writer, timestamp_column: str) -> str:
    if writer.sets_timestamp is False:
        return f"omits {timestamp_column}: {BACKFILL_WARNING}"
    if writer.sets_timestamp is None:
        return f"may omit {timestamp_column} (dynamic write): review it before a backfill"
    return f"sets {timestamp_column}"


def stale_reason(f: Freshness) -> str:
    return (
        f"{f.table} is stale ({hours(f.age_seconds)} h since its newest row by {f.column}, "
        f"{f.status} after {f.warn_after / 3600 if f.status == WARN else f.error_after / 3600:g} h): "
        "the backfill or re-sync that fixes the staleness runs this write over the whole backlog, "
        "stamping one ingestion minute on all of it"
    )


def raise_stale_severity(findings: list[Finding], dsn: str, cfg: Config) -> list[Finding]:
    """Findings on stale tables one severity level up, with the reason appended to ``why``; others unchanged.

    The fingerprint is kept, so baselines and suppressions still match the finding.
    """
    tables = {f.table for f in findings if f.table}
    if not tables:
        return findings
    with transaction(dsn) as conn:
        stale = {f.table: f for f in measure_tables(conn, tables, cfg) if f.status in STALE}
    raised = []
    for finding in findings:
        fresh = stale.get(finding.table or "")
        if fresh is None:
            raised.append(finding)
            continue
        why = f"{finding.why}; " if finding.why else ""
        stale_evidence = Evidence(evidence.STALE_TABLE, f"{hours(fresh.age_seconds)} h since its newest row")
        raised.append(
            replace(
                finding,
                severity=evidence.raise_one(finding.severity),
                why=f"{why}severity raised one level: {stale_reason(fresh)}",
                evidence=evidence.merge(finding.evidence, [stale_evidence]),
            )
        )
    return raised


def measure_tables(conn: psycopg.Connection, names: set[str], cfg: Config) -> list[Freshness]:
    """Freshness of the named tables that exist in the database (others are simply not measured)."""
    schemas = sorted({name.split(".", 1)[0] for name in names} - {GUARD_SCHEMA})
    return [measure(conn, table, cfg) for table in list_tables(conn, schemas) if table.qualified in names]
