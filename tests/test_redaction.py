"""No password in any output: every database command, run with a password DSN that fails in each way we can
produce (malformed, unreachable, refused, rejected by the server) and with one that works, through --dsn and
GUARD_DSN; all of stdout, stderr and any exception text is searched for the password."""

from __future__ import annotations

import traceback
import urllib.parse
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.redaction import forget_all, redact, remember_dsn
from guard.testing import PostgresServer

PASSWORD = "S3cr3tPW"

#: every command that talks to a database, with the arguments it needs to get as far as connecting
DATABASE_COMMANDS: dict[str, list[str]] = {
    "migrate": ["migrate"],
    "status": ["status"],
    "detect": ["detect", "--table", "titan.jobs"],
    "quarantine": ["quarantine", "--table", "titan.jobs", "--where", "id = 1", "--reason", "test"],
    "release": ["release", "--list"],
    "freshness": ["freshness"],
    "coverage": ["coverage", "--table", "titan.jobs", "--column", "amount"],
    "doctor": ["doctor"],
    "bounds": ["bounds"],
    "rollout": ["rollout"],
    "scan": ["scan", "."],
}


def failing_dsns(server: PostgresServer) -> dict[str, str]:
    """name -> a DSN holding PASSWORD that fails (the last two reach a real server)."""
    parts = urllib.parse.urlsplit(server.dsn_for("guard_no_such_db")) if "://" in server.dsn else None
    host = parts.hostname if parts else "localhost"
    port = parts.port if parts else 5432
    return {
        "bad percent-encoding": f"postgresql://u:{PASSWORD}%zz@localhost/db",
        "malformed URI": f"postgresql://u:{PASSWORD}@[bad/db",
        "invalid port": f"postgresql://u:{PASSWORD}@localhost:99999/db",
        "unknown URI parameter": f"postgresql://u:{PASSWORD}@localhost/db?bogus=1",
        "bad sslmode": f"postgresql://u:{PASSWORD}@localhost/db?sslmode=bogus",
        "unknown keyword": f"host=localhost password={PASSWORD} bogus=1",
        "unterminated quote": f"host=localhost password='{PASSWORD}",
        "refused": f"postgresql://u:{PASSWORD}@127.0.0.1:1/db",
        "unresolvable host": f"host=no-such-host.invalid password={PASSWORD} connect_timeout=2",
        "missing socket": f"host=/nonexistent/{PASSWORD}dir password={PASSWORD}",
        "unknown role": f"postgresql://no_such_role:{PASSWORD}@{host}:{port}/postgres",
        "unknown database": f"postgresql://guard_pw_user:{PASSWORD}@{host}:{port}/guard_no_such_db",
    }


def everything_printed(args: list[str], env: dict[str, str]) -> tuple[str, int]:
    forget_all()
    result = CliRunner().invoke(cli, args, env=env)
    text = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += "".join(traceback.format_exception(result.exception))
    return text, result.exit_code


@pytest.fixture
def password_role(postgres_server: PostgresServer) -> str:
    with psycopg.connect(postgres_server.dsn, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS guard_pw_user; CREATE ROLE guard_pw_user LOGIN PASSWORD '{PASSWORD}'")
    return "guard_pw_user"


@pytest.mark.parametrize("command", sorted(DATABASE_COMMANDS))
def test_no_command_prints_the_password(
    command: str, postgres_server: PostgresServer, password_role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    leaks = []
    for name, dsn in failing_dsns(postgres_server).items():
        for how, args, env in (
            ("--dsn", [*DATABASE_COMMANDS[command], "--dsn", dsn], {"GUARD_DSN": ""}),
            ("GUARD_DSN", DATABASE_COMMANDS[command], {"GUARD_DSN": dsn}),
        ):
            text, code = everything_printed(args, env)
            if PASSWORD.lower() in text.lower():
                leaks.append(f"{name} via {how}: {text}")
            assert code == 2, f"{command} with {name} via {how} exited {code}: {text}"
    assert leaks == []


def test_redact_masks_remembered_and_shaped_passwords() -> None:
    forget_all()
    remember_dsn("postgresql://u:p%40ss!word@h/db")
    assert redact('bad token: "p%40ss!word" and decoded p@ss!word') == 'bad token: "***" and decoded ***'
    forget_all()
    assert redact("uri postgresql://user:hunter22@host/db") == "uri postgresql://user:***@host/db"
    assert redact("dsn host=h password='a b c' user=u") == "dsn host=h password=*** user=u"
    remember_dsn("host=h password=ab")
    assert redact("role ab failed; table tab") == "role *** failed; table tab"
