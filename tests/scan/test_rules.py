"""Rules GRD001-GRD005: fixture repositories (verdicts marked inline) and hand-made writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from scan_expectations import actual_findings, expected_findings, scan_fixture

from guard.config import Config, TableConfig
from guard.model import ResolvedWrite, Severity, TableInfo, WriteStatement
from guard.scan.catalog import Catalog
from guard.scan.resolve import Resolver
from guard.scan.rules import RULES, WRITE_RULES, Rule, RuleContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


@pytest.mark.parametrize("case", CASES)
def test_fixture_verdicts(case: str) -> None:
    root = FIXTURES / case
    expected = expected_findings(root)
    assert expected, f"fixture {case} marks no expected finding"
    result = scan_fixture(root)
    assert sorted(actual_findings(result, expected)) == sorted(expected)


def test_every_write_is_in_the_inventory_guarded_or_not() -> None:
    result = scan_fixture(FIXTURES / "grd001_sql")
    tables = [r.table for r in result.writes if r.write.relpath == "writes.sql"]
    assert tables.count("titan.notes") == 2 and tables.count("titan.plain") == 1
    assert tables.count("titan.jobs") == 15  # 10 positives + 5 writes that set created_at (COPY TO is a read)
    summary = {t.name: t for t in result.tables}
    assert summary["titan.jobs"].guarded and summary["titan.jobs"].default == "now()"
    assert not summary["titan.notes"].guarded and not summary["titan.plain"].guarded
    assert summary["public.events"].guarded


# --- hand-made writes ---------------------------------------------------------------------------------

JOBS = TableInfo(
    name="titan.jobs",
    columns=["id", "st_id", "scheduled_at", "total", "created_at"],
    defaults={"id": "nextval('titan.jobs_id_seq'::regclass)", "created_at": "now()"},
    complete=True,
    sources=["database"],
)
NOTES = TableInfo(name="titan.notes", columns=["id", "body"], complete=True, sources=["database"])


def _write(table: str | None, columns: tuple[str, ...] | None, **kwargs: object) -> WriteStatement:
    kwargs = {"kind": "insert", "sql": "INSERT ...", **kwargs}
    return WriteStatement(relpath="app.py", line=3, column=5, table=table, columns=columns, **kwargs)  # type: ignore[arg-type]


def _verdicts(write: WriteStatement, config: Config | None = None) -> list[tuple[str, Severity]]:
    config = config or Config(search_path=["titan", "public"])
    resolver = Resolver(Catalog.build([], live=[JOBS, NOTES], search_path=tuple(config.search_path)), config)
    resolved = resolver.resolve(write)
    ctx = RuleContext(config, resolver.guarded_matches)
    return [(f.rule, f.severity) for rule in WRITE_RULES if (f := rule.check(resolved, ctx))]


def test_omitted_column_through_search_path() -> None:
    assert _verdicts(_write("jobs", ("st_id", "total"))) == [("GRD001", Severity.MEDIUM)]


def test_positional_width_decides() -> None:
    assert _verdicts(_write("titan.jobs", None, values_width=4)) == [("GRD001", Severity.MEDIUM)]
    assert _verdicts(_write("titan.jobs", None, values_width=5)) == []
    assert _verdicts(_write("titan.jobs", None)) == [("GRD005", Severity.MEDIUM)]  # SELECT *: width unknown


def test_config_severity_and_opt_out() -> None:
    critical = Config(search_path=["titan"], tables={"titan.jobs": TableConfig(severity=Severity.CRITICAL)})
    assert _verdicts(_write("jobs", ("st_id",)), critical) == [("GRD001", Severity.CRITICAL)]
    opted_out = Config(search_path=["titan"], tables={"titan.jobs": TableConfig(guarded=False)})
    assert _verdicts(_write("jobs", ("st_id",)), opted_out) == []


def test_table_config_timestamp_column() -> None:
    config = Config(search_path=["titan"], tables={"titan.notes": TableConfig(timestamp_column="body")})
    # notes.body has no now() default, but config lists the table: guarded on the configured column
    assert _verdicts(_write("titan.notes", ("id",)), config) == [("GRD001", Severity.MEDIUM)]
    assert _verdicts(_write("titan.notes", ("id", "body")), config) == []


def test_table_known_to_lack_the_column_is_never_a_finding() -> None:
    assert _verdicts(_write("titan.notes", ("body",))) == []
    assert _verdicts(_write("titan.notes", None, values_width=1)) == []


def test_unknown_table_is_schema_unknown_low() -> None:
    assert _verdicts(_write("warehouse.facts", ("a",))) == [("GRD003", Severity.LOW)]
    assert _verdicts(_write("warehouse.facts", ("a", "created_at"))) == []


def test_dynamic_names() -> None:
    hole = "guard_hole_0"
    assert _verdicts(_write(f"{hole}.jobs", ("st_id",), dynamic=True)) == [("GRD004", Severity.MEDIUM)]
    assert _verdicts(_write(hole, ("st_id",), dynamic=True)) == [("GRD004", Severity.LOW)]
    assert _verdicts(_write("titan.jobs", (hole,), dynamic=True)) == [("GRD004", Severity.MEDIUM)]
    assert _verdicts(_write("titan.jobs", (hole, "created_at"), dynamic=True)) == []
    assert _verdicts(_write("titan.notes", (hole,), dynamic=True)) == []  # known to lack the column


def test_fixable_only_when_static() -> None:
    config = Config(search_path=["titan"])
    resolver = Resolver(Catalog.build([], live=[JOBS], search_path=("titan",)), config)
    ctx = RuleContext(config, resolver.guarded_matches)
    static = WRITE_RULES[0].check(resolver.resolve(_write("jobs", ("st_id",))), ctx)
    textual = WRITE_RULES[0].check(resolver.resolve(_write("jobs", ("st_id",), best_effort=True)), ctx)
    assert static is not None and static.fixable
    assert textual is not None and not textual.fixable


def test_resolved_write_fields() -> None:
    config = Config(search_path=["titan"])
    resolver = Resolver(Catalog.build([], live=[JOBS], search_path=("titan",)), config)
    resolved = resolver.resolve(_write("jobs", ("st_id", "created_at"), column_values=(("created_at", "now()"),)))
    assert resolved == ResolvedWrite(
        write=resolved.write,
        table="titan.jobs",
        timestamp_column="created_at",
        sets_timestamp=True,
        timestamp_value="now()",
        guarded=True,
        table_known=True,
        default="now()",
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_is_documented(rule: Rule) -> None:
    code = rule.code
    page = DOCS / f"{code}.md"
    assert page.is_file(), f"missing docs page {page}"
    text = page.read_text()
    assert text.startswith(f"# {code}") and rule.name in text
    assert rule.description and rule.message and isinstance(rule.severity, Severity)


def test_dynamic_name_matching_several_guarded_tables() -> None:
    estimates = TableInfo("titan.estimates", ["id", "created_at"], {"created_at": "now()"}, complete=True)
    config = Config(search_path=["titan"], tables={"titan.estimates": TableConfig(severity=Severity.CRITICAL)})
    resolver = Resolver(Catalog.build([], live=[JOBS, NOTES, estimates], search_path=("titan",)), config)
    ctx = RuleContext(config, resolver.guarded_matches)
    assert resolver.guarded_matches("titan.guard_hole_0") == ["titan.estimates", "titan.jobs"]
    assert resolver.guarded_matches("guard_hole_0") == []
    found = WRITE_RULES[3].check(resolver.resolve(_write("titan.guard_hole_0", ("st_id",), dynamic=True)), ctx)
    assert found is not None and found.rule == "GRD004" and found.severity == Severity.CRITICAL
    assert found.table is None
    assert "may be one of 2 guarded tables: titan.estimates, titan.jobs" in found.message


def test_variants_of_one_site_are_one_finding_and_one_write() -> None:
    from guard.scan.engine import FileScan, judge_tree

    hole = "guard_hole_0"
    variants = [
        _write(hole, ("a",), dynamic=True, sql=f"INSERT INTO {hole} (a) VALUES (1)"),
        _write(hole, ("a",), dynamic=True, sql=f"INSERT INTO {hole} (a) VALUES (2)"),
        _write(hole, ("a",), dynamic=True, kind="insert-select", sql=f"INSERT INTO {hole} (a) SELECT 1"),
        _write("titan.jobs", ("st_id",), sql="INSERT INTO titan.jobs (st_id) VALUES (1)"),
    ]
    result = judge_tree(
        "/repo", [FileScan("app.py", writes=variants, statements=4)], Config(search_path=["titan"]), [JOBS]
    )
    assert sorted((f.rule, f.line) for f in result.findings) == [("GRD001", 3), ("GRD004", 3)]
    # one write per site and kind; the other targets the branches may produce are listed with it
    assert [(r.write.kind, r.table, r.alternatives) for r in result.writes] == [
        ("insert", "titan.jobs", ("(dynamic)",)),
        ("insert-select", None, ()),
    ]
