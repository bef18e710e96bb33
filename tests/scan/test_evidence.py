"""The ranking table of docs/rules/ranking.md, and the name heuristics it rests on."""

from __future__ import annotations

import pytest

from guard.model import Evidence, Severity
from guard.scan import evidence as ev
from guard.starter import _rename_stem


def _e(*kinds: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(kind, "") for kind in kinds)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ((ev.HISTORY_COPIED,), Severity.CRITICAL),
        ((ev.HISTORY_COPIED, ev.REQUEST_HANDLER), Severity.CRITICAL),
        ((ev.BULK, ev.EXTERNAL_RECORDS, ev.BUSINESS_DATE), Severity.CRITICAL),
        ((ev.BATCH_CONTEXT, ev.EXTERNAL_RECORDS, ev.BUSINESS_DATE), Severity.CRITICAL),
        ((ev.BULK, ev.EXTERNAL_RECORDS), Severity.HIGH),
        ((ev.EXTERNAL_RECORDS, ev.BUSINESS_DATE), Severity.HIGH),
        ((ev.BULK,), Severity.HIGH),
        ((ev.BATCH_CONTEXT,), Severity.HIGH),
        ((ev.REQUEST_HANDLER, ev.EXTERNAL_RECORDS, ev.BUSINESS_DATE), Severity.LOW),
        ((ev.REQUEST_HANDLER, ev.BULK, ev.EXTERNAL_RECORDS), Severity.HIGH),
        ((ev.SINGLE_ROW,), Severity.LOW),
        ((), Severity.MEDIUM),
        ((ev.BUSINESS_DATE,), Severity.MEDIUM),
    ],
)
def test_rank_follows_the_documented_table(kinds: tuple[str, ...], expected: Severity) -> None:
    assert ev.rank(_e(*kinds)) == expected


def test_more_signals_sort_first_inside_one_severity() -> None:
    assert ev.score(_e(ev.BULK, ev.EXTERNAL_RECORDS, ev.BATCH_CONTEXT)) > ev.score(_e(ev.BULK))
    assert ev.score(_e(ev.SINGLE_ROW)) < ev.score(())


def test_business_date_columns_leave_out_bookkeeping() -> None:
    columns = [
        "id",
        "st_id",
        "scheduled_at",
        "sold_on",
        "invoice_date",
        "start_time",
        "occurredAt",
        "created_at",
        "updated_at",
        "warehouse_ingested_at",
        "date_created",
        "deleted_at",
        "status",
    ]
    assert ev.business_date_columns(columns, "created_at") == [
        "scheduled_at",
        "sold_on",
        "invoice_date",
        "start_time",
        "occurredAt",
    ]
    assert ev.business_date_columns(["inserted_at", "event_ts"], "inserted_at") == ["event_ts"]


@pytest.mark.parametrize(
    ("name", "batch"),
    [
        ("migrate_jobs", True),
        ("nexus_titan_migration", True),
        ("backfill_estimates", True),
        ("etl/jobs", True),
        ("titan_sync_daemon", True),
        ("seed", True),
        ("loader", True),
        ("create_user", False),
        ("download", False),
        ("reports", False),
        ("payload", False),
        ("api/portal", False),
    ],
)
def test_batch_names(name: str, batch: bool) -> None:
    assert ev.is_batch_name(name) is batch


@pytest.mark.parametrize(
    ("key", "derived"),
    [
        ("scheduledOn", "createdOn"),
        ("scheduled_at", "created_at"),
        ("ScheduledDate", "CreatedDate"),
        ("startedAt", "createdAt"),
        ("id", None),
    ],
)
def test_sibling_key_naming(key: str, derived: str | None) -> None:
    assert _rename_stem(key, "created") == derived


def test_raise_one_stops_at_critical() -> None:
    assert ev.raise_one(Severity.LOW) == Severity.MEDIUM
    assert ev.raise_one(Severity.HIGH) == Severity.CRITICAL
    assert ev.raise_one(Severity.CRITICAL) == Severity.CRITICAL
