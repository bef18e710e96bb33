"""The CLI entry point: every subcommand resolves, and listing help imports none of them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from guard import __version__
from guard.cli import COMMANDS, cli


def test_every_registered_subcommand_imports_and_has_help() -> None:
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_top_level_help_is_lazy() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from guard.cli import cli; "
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('pglast', 'libcst', 'alembic', 'psycopg', 'sqlglot') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert __version__ in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["scna"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["migrate", "--sql", "--lock-timeout", "5"],
        ["detect", "--dsn", "postgresql://nowhere/x", "--table", "t", "--window", "24"],
        ["detect", "--dsn", "postgresql://nowhere/x", "--table", "t", "--since", "48"],
        ["doctor", "--dsn", "postgresql://nowhere/x", "--window", "7"],
        ["freshness", "--dsn", "postgresql://nowhere/x", "--statement-timeout", "30"],
    ],
)
def test_every_duration_option_refuses_a_bare_number(args: list[str]) -> None:
    """One parser, one rule: a duration without a unit is a usage error asking for one, before any work starts."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "has no unit; write a number and a unit, such as 90s, 15m, 2h or 7d" in result.output


def test_an_internal_error_exits_2_not_the_findings_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CI reads exit 1 as "findings": a crash must say it is a crash (exit 2) and keep the traceback."""
    import guard.cli

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'jinja2'")

    monkeypatch.setattr(guard.cli.cli, "main", broken)
    with pytest.raises(SystemExit) as exited:
        guard.cli.main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "guard: internal error: ModuleNotFoundError" in err
