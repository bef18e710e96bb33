"""``guard rollout``: per table of the blast radius, is it ready for enforce, and if not, what blocks it.

Exit codes: 0 every table is ready for enforce or enforced, 1 some table is not (or not protected), 2 error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from guard import options
from guard.commands import time_options
from guard.config import Config
from guard.db.history import planned_modes
from guard.db.revision import write_revision
from guard.db.session import transaction
from guard.envelope import emit_json
from guard.errors import EXIT_FINDINGS, EXIT_OK, cli_errors
from guard.rollout.blast import blast_radius
from guard.rollout.inputs import blast_options, command_config
from guard.rollout.plan import SET_MODE, SKIP, Step, render_steps, summary_message
from guard.rollout.verdict import ENFORCED, READY, Row, rollout_rows
from guard.watch.output import console

_STYLE = {READY: "green", ENFORCED: "green", "not ready": "bold red", "not protected": "yellow"}


@click.command()
@cli_errors
@options.dsn_option()
@options.config_option()
@options.format_option(("table", "json", "html"))
@options.output_option
@options.fail_on_option(["not-ready"], default="not-ready", help="Exit 1 when a table is not ready for enforce.")
@time_options.statement_timeout_option
@blast_options("A `guard scan --format json` report: the blast radius.")
@click.option("--window", type=time_options.DURATION, default="7d", show_default=True,
              help="Violations, quarantined rows and bursts are counted over this window.")  # fmt: skip
@click.option("--apply-ready", is_flag=True, help="Write the revision moving every ready table to enforce.")
@click.option(
    "--migrations-dir", type=click.Path(file_okay=False), help="Where --apply-ready writes (default: config)."
)
def rollout(
    dsn: str,
    config_path: Path | None,
    output_format: str,
    fail_on: str,
    statement_timeout: float,
    scan_report: Path | None,
    repo: Path | None,
    window: float,
    apply_ready: bool,
    migrations_dir: str | None,
) -> None:
    """One row per table in the blast radius: mode, writers in code, writers still unfixed, violations and
    quarantined rows in the window, bursts, and the verdict (ready for enforce, or what blocks it)."""
    cfg = command_config(repo, config_path)
    blast = blast_radius(scan_report, repo, cfg)
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        since = now - dt.timedelta(seconds=window)
        rows = rollout_rows(conn, blast, cfg, since)
    written = _apply_ready(rows, cfg, migrations_dir) if apply_ready else None
    if output_format == "json":
        emit_json("rollout", rollout_payload(rows, since, window, written))
    elif output_format == "html":
        from guard.report.html_rollout import rollout_page

        click.echo(rollout_page(rows, since, written), nl=False)
    else:
        render_rollout(rows, since, written)
    ready = all(r.verdict in (READY, ENFORCED) for r in rows)
    raise SystemExit(EXIT_OK if ready or fail_on == options.NEVER else EXIT_FINDINGS)


def _apply_ready(rows: list[Row], cfg: Config, migrations_dir: str | None) -> dict[str, Any]:
    """Write one revision moving every ready table to enforce; a table a pending revision already moves is skipped."""
    directory = Path(migrations_dir) if migrations_dir else cfg.migrations_path()
    planned = planned_modes(directory)
    steps = []
    for row in rows:
        if not row.ready or row.mode is None:
            continue
        pending = planned.get(row.table)
        if pending is not None and pending != row.mode:
            reason = f"a revision not yet applied moves it to {pending}; run guard migrate first"
            steps.append(Step(row.table, SKIP, "enforce", row.mode, reason))
        else:
            steps.append(Step(row.table, SET_MODE, "enforce", row.mode))
    result: dict[str, Any] = {"path": None, "tables": [s.table for s in steps if s.action != SKIP],
                              "skipped": {s.table: s.reason for s in steps if s.action == SKIP}}  # fmt: skip
    if result["tables"]:
        upgrade, downgrade = render_steps(steps)
        message = summary_message(steps, "rollout: ready for enforce")
        result["path"] = str(write_revision(directory, message, upgrade, downgrade))
    return result


def rollout_payload(rows: list[Row], since: dt.datetime, window: float, written: dict[str, Any] | None) -> dict:
    return {
        "window_seconds": window,
        "since": since,
        "ready": [r.table for r in rows if r.ready],
        "tables": [r.as_dict() for r in rows],
        "apply_ready": written,
    }


def render_rollout(rows: list[Row], since: dt.datetime, written: dict[str, Any] | None) -> None:
    from rich.table import Table as RichTable

    out = console()
    if not rows:
        out.print("No table in the blast radius and none guarded in this database.")
    else:
        table = RichTable(title=f"Rollout: audit -> enforce (window since {since:%Y-%m-%d %H:%M} UTC)",
                          title_justify="left")  # fmt: skip
        for header, justify in (("table", "left"), ("mode", "left"), ("writers", "right"), ("unfixed", "right"),
                                ("violations", "right"), ("quarantined", "right"), ("bursts", "right"),
                                ("verdict", "left")):  # fmt: skip
            table.add_column(header, justify=justify)  # type: ignore[arg-type]
        for r in rows:
            style = _STYLE.get(r.verdict, "")
            verdict = f"[{style}]{r.verdict}[/{style}]"
            if r.blockers:
                verdict += "".join(f"\n- {blocker}" for blocker in r.blockers)
            table.add_row(
                r.table, r.mode or "-", str(len({w.location for w in r.writers})),
                str(len({u.location for u in r.unfixed})), f"{r.activity.violations:,}",
                f"{r.activity.quarantined:,}", "?" if r.bursts is None else str(r.bursts), verdict,
            )  # fmt: skip
        out.print(table)
        for r in rows:
            if r.note:
                out.print(f"[yellow]note:[/yellow] {r.table}: {r.note}", soft_wrap=True)
        ready = [r.table for r in rows if r.ready]
        enforced = sum(r.verdict == ENFORCED for r in rows)
        hint = " (guard rollout --apply-ready writes the revision)" if ready and written is None else ""
        out.print(
            f"{len(rows)} table(s): {len(ready)} ready for enforce{hint}, {enforced} enforced, "
            f"{len(rows) - len(ready) - enforced} not yet"
        )
    if written is not None:
        for table, reason in written["skipped"].items():
            out.print(f"skipped {table}: {reason}")
        if written["path"]:
            out.print(f"wrote {written['path']} ({', '.join(written['tables'])} -> enforce)", soft_wrap=True)
            out.print("review it, commit it, then apply it: guard migrate --dsn DSN")
        else:
            out.print("no table ready for enforce: no revision written")
