"""The blast-radius inputs of every command that joins code with the database: one spelling, one config rule.

``--scan REPORT.json`` (``--from-scan`` for ``guard protect``) or ``--repo PATH``; with ``--repo`` the
repository's own guard.toml applies, as for ``guard scan PATH``, unless ``--config`` names one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from guard import options
from guard.config import Config, load_config
from guard.rollout.blast import BlastRadius, blast_radius

F = TypeVar("F", bound=Callable[..., Any])


def blast_options(scan_help: str, scan_flag: str = "--scan") -> Callable[[F], F]:
    """``scan_flag REPORT.json`` and ``--repo PATH``, passed to the command as ``scan_report`` and ``repo``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--repo", type=click.Path(file_okay=False, path_type=Path), help=f"Like {scan_flag}, scanning PATH now."
        )(func)
        return click.option(scan_flag, "scan_report", type=click.Path(dir_okay=False, path_type=Path), help=scan_help)(
            func
        )

    return decorate


def command_config(repo: Path | None, config_path: Path | None) -> Config:
    """``--config``; else the repository's config with ``--repo``; else the one found from the current directory."""
    return load_config(repo, config_path) if repo is not None else options.database_config(config_path)


def optional_blast(scan_report: Path | None, repo: Path | None, cfg: Config) -> BlastRadius | None:
    """The blast radius when one was given (doctor and freshness work without it)."""
    return blast_radius(scan_report, repo, cfg) if scan_report is not None or repo is not None else None
