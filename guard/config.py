"""Load and validate ``guard.toml`` / ``[tool.guard]``.

One schema for every command, validated up front so a typo fails with the key and the file named
(exit 2) instead of silently turning a guard off.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from guard.durations import parse_duration
from guard.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


#: The database guard's modes (``[tables."t"] mode``, ``guard protect --mode``, the trigger functions' argument).
MODES = ("enforce", "quarantine", "audit")


class ConfigError(Exception):
    """Bad configuration; the message names the file and the key."""


@dataclass
class TableConfig:
    """Per-table settings under ``[tables."schema.table"]``."""

    severity: Severity | None = None
    why: str = ""
    timestamp_column: str | None = None  # overrides the global timestamp_column for this table
    business_column: str | None = None
    source_field: str | None = None
    source_expression: str | None = None
    source_column: str | None = None
    money_column: str | None = None
    signature_columns: list[str] = field(default_factory=list)
    freshness_column: str | None = None
    warn_after: float | None = None  # seconds
    error_after: float | None = None  # seconds
    mode: str | None = None  # enforce | quarantine | audit
    guarded: bool | None = None  # force guarded (True) or not (False) regardless of the catalog


#: Column names that hold a row's creation time in real schemas. When a table has no ``timestamp_column`` of
#: its own, guard watches the first of these (after the global ``timestamp_column``) the table has with a
#: now()-like default. ``creation_columns`` in guard.toml replaces the list, ``extra_creation_columns`` extends it.
DEFAULT_CREATION_COLUMNS = (
    "created_at",
    "created",
    "created_on",
    "created_date",
    "created_time",
    "created_ts",
    "created_at_epoch_ms",
    "created_at_ms",
    "createdAt",
    "createdOn",
    "creation_date",
    "creation_time",
    "create_time",
    "create_date",
    "create_at",  # the common misspelling of created_at (``Column("create_at", server_default=text("now()"))``)
    "date_created",
    "dateCreated",
    "inserted_at",
    "inserted_on",
    "insert_time",
    "insertedAt",
)


@dataclass
class Config:
    timestamp_column: str = "created_at"
    creation_columns: list[str] = field(default_factory=lambda: list(DEFAULT_CREATION_COLUMNS))
    ingested_column: str = "warehouse_ingested_at"
    search_path: list[str] = field(default_factory=lambda: ["public"])
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_file_size: int = 2_000_000
    fail_on: Severity = Severity.HIGH
    #: None: each finding is ranked by its evidence (guard.scan.evidence.rank); set, it flattens every table
    default_severity: Severity | None = None
    migrations_dir: str = "guard_migrations"
    freshness_columns: list[str] = field(default_factory=lambda: ["warehouse_ingested_at", "updated_at", "created_at"])
    warn_after: float = 24 * 3600.0
    error_after: float = 72 * 3600.0
    burst_min_rows: int = 100
    burst_window: float = 60.0  # seconds: rows sharing one created_at window this wide
    burst_min_span: float = 180 * 86400.0  # seconds: business dates spanning more than this
    tables: dict[str, TableConfig] = field(default_factory=dict)
    #: ``[metrics.NAME]`` tables as written; ``guard.bounds.spec`` validates them (it needs the SQL parser)
    metrics: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file this came from, for messages; None for the built-in defaults
    #: the project root: the directory of the config file found, else the repository root, else None.
    #: A partial scan (one file, one subdirectory) reads the DDL/model catalog from here.
    root: Path | None = None
    #: how the config was found, for ``guard config`` and messages ("--config", "found above X", "defaults")
    origin: str = "defaults"

    def table(self, name: str) -> TableConfig | None:
        return self.tables.get(name)

    def migrations_path(self) -> Path:
        """``migrations_dir`` resolved against the project root, so every directory of the project finds it."""
        path = Path(self.migrations_dir)
        return path if path.is_absolute() or self.root is None else self.root / path

    def timestamp_column_for(self, table: str | None) -> str:
        cfg = self.tables.get(table) if table else None
        return (cfg.timestamp_column if cfg and cfg.timestamp_column else None) or self.timestamp_column


_TOP_KEYS: dict[str, type | tuple[type, ...]] = {
    "timestamp_column": str,
    "creation_columns": list,
    "extra_creation_columns": list,
    "ingested_column": str,
    "search_path": list,
    "include": list,
    "exclude": list,
    "max_file_size": int,
    "fail_on": str,
    "default_severity": str,
    "migrations_dir": str,
    "tables": dict,
    "freshness": dict,
    "burst": dict,
    "metrics": dict,
}
_TABLE_KEYS = {f.name for f in fields(TableConfig)}
_FRESHNESS_KEYS = {"columns", "warn_after", "error_after"}
_BURST_KEYS = {"min_rows", "window", "min_span"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _fail(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {problem}")


def _str_list(source: str, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, key, "must be a list of strings")
    return list(value)


def _identifier(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise _fail(source, key, f"must be a plain column name, got {value!r}")
    return value.lower()


def _column_names(source: str, key: str, value: Any) -> list[str]:
    """Column names kept as written (``createdAt`` is a quoted, mixed-case column in real schemas)."""
    names = _str_list(source, key, value)
    for name in names:
        if not _IDENT.match(name):
            raise _fail(source, key, f"must be plain column names, got {name!r}")
    return names


def _duration(source: str, key: str, value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _fail(source, key, str(exc)) from None


def _severity(source: str, key: str, value: Any) -> Severity:
    if not isinstance(value, str):
        raise _fail(source, key, "must be a string")
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise _fail(source, key, str(exc)) from None


def normalize_table_name(name: str, default_schema: str = "public") -> str:
    """Fold a config table name as Postgres would: unquoted parts lower-case, ``"Quoted"`` kept."""
    parts = []
    for raw in split_table_name(name):
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            parts.append(raw[1:-1].replace('""', '"'))
        else:
            parts.append(raw.lower())
    if len(parts) == 1:
        parts.insert(0, default_schema)
    return ".".join(parts[-2:])


def split_table_name(name: str) -> list[str]:
    """Split ``schema.table`` on dots outside double quotes; parts keep their quotes (``'a."b.c"'`` -> 2 parts)."""
    parts, current, quoted = [], "", False
    for ch in name.strip():
        if ch == '"':
            quoted = not quoted
        if ch == "." and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _table_config(source: str, name: str, raw: Any) -> TableConfig:
    prefix = f'tables."{name}"'
    if not isinstance(raw, dict):
        raise _fail(source, prefix, "must be a table of settings")
    unknown = sorted(set(raw) - _TABLE_KEYS)
    if unknown:
        raise _fail(source, f"{prefix}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(_TABLE_KEYS))})")
    cfg = TableConfig()
    for key, value in raw.items():
        full = f"{prefix}.{key}"
        if key == "severity":
            cfg.severity = _severity(source, full, value)
        elif key in ("warn_after", "error_after"):
            setattr(cfg, key, _duration(source, full, value))
        elif key == "signature_columns":
            cfg.signature_columns = [_identifier(source, full, v) for v in _str_list(source, full, value)]
        elif key == "guarded":
            if not isinstance(value, bool):
                raise _fail(source, full, "must be true or false")
            cfg.guarded = value
        elif key == "mode":
            if value not in MODES:
                raise _fail(source, full, f"must be one of {', '.join(MODES)}")
            cfg.mode = value
        elif key in ("why", "source_field", "source_expression"):
            if not isinstance(value, str):
                raise _fail(source, full, "must be a string")
            setattr(cfg, key, value)
        else:  # column names
            setattr(cfg, key, _identifier(source, full, value))
    return cfg


def config_from_mapping(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a parsed TOML mapping into a :class:`Config`; raises :class:`ConfigError`."""
    cfg = Config(source=source)
    for key, value in data.items():
        expected = _TOP_KEYS.get(key)
        if expected is None:
            raise _fail(source, key, f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise _fail(source, key, f"must be a {getattr(expected, '__name__', expected)}")
    if "timestamp_column" in data:
        cfg.timestamp_column = _identifier(source, "timestamp_column", data["timestamp_column"])
    if "creation_columns" in data:
        cfg.creation_columns = _column_names(source, "creation_columns", data["creation_columns"])
    if "extra_creation_columns" in data:
        extra = _column_names(source, "extra_creation_columns", data["extra_creation_columns"])
        cfg.creation_columns += [name for name in extra if name not in cfg.creation_columns]
    if "ingested_column" in data:
        cfg.ingested_column = _identifier(source, "ingested_column", data["ingested_column"])
    if "search_path" in data:
        cfg.search_path = [s.lower() for s in _str_list(source, "search_path", data["search_path"])]
        if not cfg.search_path:
            raise _fail(source, "search_path", "must name at least one schema")
    for key in ("include", "exclude"):
        if key in data:
            setattr(cfg, key, _str_list(source, key, data[key]))
    if "max_file_size" in data:
        if data["max_file_size"] <= 0:
            raise _fail(source, "max_file_size", "must be positive")
        cfg.max_file_size = data["max_file_size"]
    if "fail_on" in data:
        cfg.fail_on = _severity(source, "fail_on", data["fail_on"])
    if "default_severity" in data:
        cfg.default_severity = _severity(source, "default_severity", data["default_severity"])
    if "migrations_dir" in data:
        cfg.migrations_dir = data["migrations_dir"]
    fresh = data.get("freshness", {})
    unknown = sorted(set(fresh) - _FRESHNESS_KEYS)
    if unknown:
        raise _fail(source, f"freshness.{unknown[0]}", f"unknown key (known: {', '.join(sorted(_FRESHNESS_KEYS))})")
    if "columns" in fresh:
        cfg.freshness_columns = [
            _identifier(source, "freshness.columns", c)
            for c in _str_list(source, "freshness.columns", fresh["columns"])
        ]
    for key in ("warn_after", "error_after"):
        if key in fresh:
            setattr(cfg, key, _duration(source, f"freshness.{key}", fresh[key]))
    burst = data.get("burst", {})
    unknown = sorted(set(burst) - _BURST_KEYS)
    if unknown:
        raise _fail(source, f"burst.{unknown[0]}", f"unknown key (known: {', '.join(sorted(_BURST_KEYS))})")
    if "min_rows" in burst:
        if not isinstance(burst["min_rows"], int) or burst["min_rows"] < 2:
            raise _fail(source, "burst.min_rows", "must be an integer >= 2")
        cfg.burst_min_rows = burst["min_rows"]
    if "window" in burst:
        cfg.burst_window = _duration(source, "burst.window", burst["window"])
    if "min_span" in burst:
        cfg.burst_min_span = _duration(source, "burst.min_span", burst["min_span"])
    for name, raw in data.get("tables", {}).items():
        cfg.tables[normalize_table_name(name, cfg.search_path[0])] = _table_config(source, name, raw)
    for name, raw in data.get("metrics", {}).items():
        if not isinstance(raw, dict):
            raise _fail(source, f"metrics.{name}", "must be a table of settings ([metrics.NAME] with sql = ...)")
        cfg.metrics[name] = raw
    return cfg


#: names of the files that hold a configuration, in the order they win within one directory
CONFIG_FILES = ("guard.toml", "pyproject.toml")


def load_config(start: str | Path | None = None, explicit: str | Path | None = None) -> Config:
    """Find and load the configuration, the same way for every command.

    ``explicit`` (``--config FILE``) wins and must exist. Otherwise search upward from ``start`` (the scanned
    path for scan/patch, the current directory for database commands) for ``guard.toml``, then
    ``pyproject.toml`` with a ``[tool.guard]`` table, stopping at the repository root (a directory holding
    ``.git``) so a config above the repository never leaks in. With none, the defaults. Every result records
    where it came from (:attr:`Config.source`, :attr:`Config.origin`) and its project root (:attr:`Config.root`).
    """
    if explicit is not None:
        path = Path(explicit)
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory; --config takes a guard.toml or pyproject.toml file")
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        data = _read_toml(path)
        source = str(path)
        if path.name == "pyproject.toml":
            data = _tool_guard(path, data)
            source = f"{path} [tool.guard]"
        config = config_from_mapping(data, source)
        config.root = path.resolve().parent
        config.origin = "--config"
        return config
    base = Path(start if start is not None else Path.cwd()).absolute()
    if not base.is_dir():
        base = base.parent
    searched = []
    for directory in (base, *base.parents):
        searched.append(directory)
        found = _config_in(directory)
        if found is not None:
            found.origin = "found" if directory == base else f"found above {base}"
            return found
        if is_repository_root(directory):
            config = Config(root=directory)
            config.origin = f"defaults (no config from {base} up to the repository root {directory})"
            return config
    config = Config()
    config.origin = f"defaults (no config from {base} up to {searched[-1]})"
    return config


def is_repository_root(directory: Path) -> bool:
    """A version-control root: ``.git`` (a directory, or a file in a worktree/submodule), ``.hg`` or ``.svn``."""
    return any((directory / marker).exists() for marker in (".git", ".hg", ".svn"))


def _config_in(directory: Path) -> Config | None:
    candidate = directory / "guard.toml"
    if candidate.is_file():
        config = config_from_mapping(_read_toml(candidate), str(candidate))
        config.root = directory
        return config
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject)
        if isinstance(data.get("tool"), dict) and "guard" in data["tool"]:
            config = config_from_mapping(_tool_guard(pyproject, data), f"{pyproject} [tool.guard]")
            config.root = directory
            return config
    return None


def _tool_guard(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    section = data.get("tool", {}).get("guard", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: tool.guard: must be a table")
    return section


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def toml_value(value: Any) -> str:
    """A value in TOML syntax, for files guard writes (``guard config``, ``guard init``). Strings use JSON's
    escaping, which TOML basic strings accept, so quotes, backslashes and control characters survive."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
