"""``guard config [PATH]``: the configuration a command run at PATH would use, and where it came from.

Every command finds its configuration the same way (``--config``, else upward from the scanned path or the
current directory to the repository root); this command shows the result, so "why is my setting ignored?"
has an answer without reading the search rules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from guard import options
from guard.config import Config, TableConfig, load_config, toml_value
from guard.durations import format_duration
from guard.envelope import emit_json
from guard.errors import cli_errors
from guard.model import Severity

_DURATION_KEYS = {"warn_after", "error_after", "burst_window", "burst_min_span"}
_INTERNAL = {"source", "root", "origin", "tables"}


@click.command(name="config")
@cli_errors
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@options.config_option()
@options.format_option()
@options.output_option
def config_command(path: Path, config_path: Path | None, output_format: str) -> None:
    """Print the resolved configuration for PATH (default: .) and the file it came from."""
    config = load_config(path, config_path)
    if output_format == "json":
        emit_json("config", config_payload(config))
        return
    click.echo(f"# source: {config.source or 'built-in defaults'} ({config.origin})")
    click.echo(f"# project root: {config.root if config.root is not None else '(none: the scanned path)'}")
    click.echo(render_toml(config), nl=False)


def _value(key: str, value: Any) -> Any:
    if isinstance(value, Severity):
        return value.value
    if key in _DURATION_KEYS and isinstance(value, float):
        return format_duration(value)
    return value


def _table_dict(table: TableConfig) -> dict[str, Any]:
    return {
        f.name: _value(f.name, getattr(table, f.name))
        for f in dataclasses.fields(table)
        if getattr(table, f.name) not in (None, [], "")
    }


def config_payload(config: Config) -> dict[str, Any]:
    settings = {
        f.name: _value(f.name, getattr(config, f.name)) for f in dataclasses.fields(config) if f.name not in _INTERNAL
    }
    return {
        "source": config.source,
        "origin": config.origin,
        "project_root": str(config.root) if config.root is not None else None,
        "settings": settings,
        "tables": {name: _table_dict(table) for name, table in sorted(config.tables.items())},
    }


#: Config attribute -> (TOML table, key) for the settings that live in a sub-table of guard.toml
_NESTED = {
    "freshness_columns": ("freshness", "columns"),
    "warn_after": ("freshness", "warn_after"),
    "error_after": ("freshness", "error_after"),
    "burst_min_rows": ("burst", "min_rows"),
    "burst_window": ("burst", "window"),
    "burst_min_span": ("burst", "min_span"),
}


def render_toml(config: Config) -> str:
    """The effective settings in guard.toml syntax (a file you could save and load back)."""
    settings = config_payload(config)["settings"]
    # a None setting is one left unset (default_severity: rank by evidence): TOML has no null, leave it out
    top = [f"{key} = {toml_value(v)}" for key, v in settings.items() if key not in _NESTED and v is not None]
    sections: dict[str, list[str]] = {}
    for attribute, (section, key) in _NESTED.items():
        sections.setdefault(section, []).append(f"{key} = {toml_value(settings[attribute])}")
    lines = [*top]
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    for name, table in sorted(config.tables.items()):
        lines += ["", f'[tables."{name}"]', *(f"{k} = {toml_value(v)}" for k, v in _table_dict(table).items())]
    return "\n".join(lines) + "\n"
