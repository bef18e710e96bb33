"""``guard docs [TOPIC]`` and ``guard rule [CODE]``: the documentation that ships in the package, like ``ruff rule``."""

from __future__ import annotations

import click

from guard import docs_pages
from guard.errors import cli_errors


@click.command()
@cli_errors
@click.argument("topic", required=False)
def docs(topic: str | None) -> None:
    """Print a documentation page (scan, patch, database, recover, cli, ...); without TOPIC, list them."""
    if topic is None:
        click.echo("Topics (guard docs TOPIC):")
        for name in docs_pages.topics():
            click.echo(f"  {name}")
        click.echo("Rules: guard rule CODE (guard rule lists them)")
        return
    click.echo(docs_pages.topic_page(topic), nl=False)


@click.command()
@cli_errors
@click.argument("code", required=False)
def rule(code: str | None) -> None:
    """Print a rule's documentation page (e.g. guard rule GRD001); without CODE, list the rules."""
    from guard.scan.rules import RULES

    if code is None:
        for listed in RULES:
            click.echo(f"{listed.code}  {listed.name:<34} {listed.severity.value}")
        return
    click.echo(docs_pages.rule_page(code), nl=False)
