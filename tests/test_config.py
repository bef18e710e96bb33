"""Config loading: the documented schema loads; every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.config import ConfigError, load_config, normalize_table_name, split_table_name
from guard.durations import parse_duration
from guard.model import Severity

EXAMPLE_TOML = """
timestamp_column = "created_at"
search_path = ["titan", "public"]
exclude = ["legacy/**"]
fail_on = "critical"

[freshness]
columns = ["warehouse_ingested_at", "created_at"]
warn_after = "12h"
error_after = "2d"

[burst]
min_rows = 500
window = "1m"
min_span = "90d"

[tables."titan.jobs"]
severity = "critical"
why = "Revenue counts; the April phantom landed here"
business_column = "scheduled_at"
source_field = "createdOn"
signature_columns = ["lead_source"]
warn_after = "6h"

[tables.Invoices]
severity = "high"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_guard_toml_at_root_is_loaded(tmp_path: Path) -> None:
    write(tmp_path, "guard.toml", EXAMPLE_TOML)
    cfg = load_config(tmp_path)
    assert cfg.search_path == ["titan", "public"]
    assert cfg.fail_on is Severity.CRITICAL
    assert cfg.warn_after == 12 * 3600 and cfg.error_after == 2 * 86400
    assert (cfg.burst_min_rows, cfg.burst_window, cfg.burst_min_span) == (500, 60, 90 * 86400)
    jobs = cfg.tables["titan.jobs"]
    assert jobs.severity is Severity.CRITICAL
    assert jobs.business_column == "scheduled_at"
    assert jobs.source_field == "createdOn"  # payload keys keep their case
    assert jobs.warn_after == 6 * 3600
    # unqualified table names land in the first search_path schema, folded like Postgres folds them
    assert "titan.invoices" in cfg.tables
    assert cfg.timestamp_column_for("titan.jobs") == "created_at"


def test_pyproject_tool_guard_section(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.guard]\ntimestamp_column = "inserted_at"\n')
    assert load_config(tmp_path).timestamp_column == "inserted_at"


def test_guard_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.guard]\ntimestamp_column = "inserted_at"\n')
    write(tmp_path, "guard.toml", 'timestamp_column = "made_at"\n')
    assert load_config(tmp_path).timestamp_column == "made_at"


def test_no_config_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.timestamp_column == "created_at" and cfg.fail_on is Severity.HIGH and cfg.tables == {}


def test_creation_columns_default_extend_and_replace(tmp_path: Path) -> None:
    defaults = load_config(tmp_path).creation_columns
    assert {"created", "created_on", "inserted_at", "date_created", "createdAt", "created_at_epoch_ms"} <= set(defaults)
    write(tmp_path, "guard.toml", 'extra_creation_columns = ["recorded_when", "created"]\n')
    extended = load_config(tmp_path).creation_columns
    assert extended == [*defaults, "recorded_when"]
    write(tmp_path, "guard.toml", 'creation_columns = ["made_at"]\nextra_creation_columns = ["born"]\n')
    assert load_config(tmp_path).creation_columns == ["made_at", "born"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('timestmp_column = "x"', "timestmp_column"),
        ("search_path = 3", "search_path"),
        ('fail_on = "urgent"', "fail_on"),
        ('[tables."titan.jobs"]\nseverity = "huge"', 'tables."titan.jobs".severity'),
        ('[tables."titan.jobs"]\nbusines_column = "x"', 'tables."titan.jobs".busines_column'),
        ('[tables."titan.jobs"]\nbusiness_column = "x; drop table y"', 'tables."titan.jobs".business_column'),
        ('[tables."titan.jobs"]\nmode = "strict"', 'tables."titan.jobs".mode'),
        ('[freshness]\nwarn_after = "soon"', "freshness.warn_after"),
        ("[burst]\nmin_rows = 1", "burst.min_rows"),
        ('creation_columns = ["created at"]', "creation_columns"),
        ("extra_creation_columns = [1]", "extra_creation_columns"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, "guard.toml", text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path)
    assert str(path) in str(excinfo.value)
    assert key in str(excinfo.value)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "guard.toml", "timestamp_column = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_explicit_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path, tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("jobs", "public.jobs"), ("Titan.Jobs", "titan.jobs"), ('"Titan"."Jobs"', "Titan.Jobs"), ('"a.b".c', "a.b.c")],
)
def test_table_names_fold_like_postgres(name: str, expected: str) -> None:
    assert normalize_table_name(name) == expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30m", 1800), ("24h", 86400), ("7d", 604800), ("90s", 90), ("500ms", 0.5), ("2 hours", 7200), ("1w", 604800)],
)
def test_durations(value: str, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [2, 2.5, "24", " 90 ", "1.5"])
def test_a_bare_number_is_refused_asking_for_a_unit(value: str | float) -> None:
    """Bare numbers meant hours in some places and seconds in others: now they mean nothing."""
    with pytest.raises(ValueError, match=r"has no unit; write a number and a unit, such as 90s, 15m, 2h or 7d"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["soon", "5 fortnights", "-3h", "", True])
def test_what_is_not_a_duration_says_how_to_write_one(value: str | bool) -> None:
    with pytest.raises(ValueError, match=r"90s, 15m, 2h or 7d"):
        parse_duration(value)


def test_a_bare_number_in_the_config_names_the_key(tmp_path: Path) -> None:
    write(tmp_path, "guard.toml", "[freshness]\nwarn_after = 24\n")
    with pytest.raises(ConfigError, match=r"freshness\.warn_after.*24 has no unit"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("jobs", ["jobs"]),
        ("titan.jobs", ["titan", "jobs"]),
        ('"a.b".c', ['"a.b"', "c"]),
        ('titan."Jobs"', ["titan", '"Jobs"']),
    ],
)
def test_split_table_name_respects_quotes(name: str, parts: list[str]) -> None:
    assert split_table_name(name) == parts


def test_config_that_is_not_utf8_or_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "guard.toml").write_bytes(b'why = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, tmp_path)
