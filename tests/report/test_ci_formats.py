"""CI formats: GitHub workflow commands, GitLab Code Quality, the concise one-line format and its default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.report import github

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"
#: the installed console script, run as a user runs it (a pipe is not a terminal; `script` gives it one)
GUARD = str(Path(sys.executable).parent / "guard")


def _scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--no-progress"])
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def titan_json() -> dict:
    return json.loads(_scan(str(EXAMPLE), "--format", "json")[1])


def _unescape_data(text: str) -> str:
    """What the Actions runner does to a command's message (the inverse of escape_data)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    assert line.startswith("::")
    head, message = line[2:].split("::", 1)
    level, _, props = head.partition(" ")
    properties = dict(pair.split("=", 1) for pair in props.split(",")) if props else {}
    return level, {k: _unescape_property(v) for k, v in properties.items()}, _unescape_data(message)


def test_github_escaping_round_trips() -> None:
    nasty = "100% sure:\r\nline two, with comma"
    line = github.command("error", nasty, file="a,b:c.py", line=3, title="x%y\nz")
    assert "\n" not in line and "\r" not in line
    level, props, message = _parse(line)
    assert (level, message) == ("error", nasty)
    assert props == {"file": "a,b:c.py", "line": "3", "title": "x%y\nz"}


def test_github_annotations_match_the_findings(titan_json: dict) -> None:
    code, out = _scan(str(EXAMPLE), "--format", "github")
    assert code == 1
    commands = [_parse(line) for line in out.splitlines() if line.startswith("::")]
    annotations = [c for c in commands if not c[1]["title"].startswith("guard ")]
    assert len(annotations) == len(titan_json["findings"])
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}
    for (level, props, message), finding in zip(annotations, titan_json["findings"], strict=True):
        assert level == levels[finding["severity"]]
        # paths from the repository root (this checkout), as the annotations API wants them
        assert props["file"] == f"examples/titan/{finding['path']}"
        assert props["line"] == str(finding["line"]) and props["title"].startswith(finding["rule"])
        assert message.startswith(finding["message"])
    diagnostics = [c for c in commands if c[1]["title"].startswith("guard ")]
    assert len(diagnostics) == len(titan_json["diagnostics"])
    assert out.splitlines()[-1].startswith(f"guard: {len(titan_json['findings'])} findings")


def test_gitlab_code_quality(titan_json: dict) -> None:
    code, out = _scan(str(EXAMPLE), "--format", "gitlab")
    assert code == 1
    issues = json.loads(out)
    assert [i["fingerprint"] for i in issues] == [f["fingerprint"] for f in titan_json["findings"]]
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for issue, finding in zip(issues, titan_json["findings"], strict=True):
        assert issue["check_name"] == finding["rule"]
        assert issue["location"]["path"] == f"examples/titan/{finding['path']}"
        assert issue["location"]["lines"]["begin"] == finding["line"]
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["description"] and issue["type"] == "issue"


def test_gitlab_fingerprints_are_the_baseline_keys(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    _scan(str(EXAMPLE), "--baseline", str(baseline), "--write-baseline")
    recorded = {entry["fingerprint"] for entry in json.loads(baseline.read_text())["findings"]}
    assert {i["fingerprint"] for i in json.loads(_scan(str(EXAMPLE), "--format", "gitlab")[1])} == recorded


def test_concise_one_line_per_finding(titan_json: dict) -> None:
    code, out = _scan(str(EXAMPLE), "--format", "concise")
    lines = out.splitlines()
    assert code == 1 and len(lines) == len(titan_json["findings"]) + 1
    first = titan_json["findings"][0]
    prefix = str(EXAMPLE.relative_to(Path.cwd())) + "/" if EXAMPLE.is_relative_to(Path.cwd()) else str(EXAMPLE) + "/"
    assert lines[0].startswith(f"{prefix}{first['path']}:{first['line']}:{first['column']}: {first['rule']} ")
    assert lines[-1].startswith(f"{len(titan_json['findings'])} findings")
    quiet = _scan(str(EXAMPLE), "--format", "concise", "--quiet")[1].splitlines()
    assert quiet == lines[:-1]


def test_concise_is_the_default_when_piped_table_on_a_terminal(tmp_path: Path) -> None:
    piped = subprocess.run([GUARD, "scan", str(EXAMPLE)], capture_output=True, text=True, check=False)
    assert piped.returncode == 1
    assert "GRD001 [critical] titan.jobs:" in piped.stdout and "┃" not in piped.stdout
    tty = subprocess.run(
        ["script", "-qec", f"{GUARD} scan {EXAMPLE} --no-progress", "/dev/null"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160", "TERM": "xterm"},
    )
    assert "Blast radius" in tty.stdout and "┃" in tty.stdout


def test_no_color_and_color(tmp_path: Path) -> None:
    table = [GUARD, "scan", str(EXAMPLE), "--format", "table"]
    forced = subprocess.run([*table, "--color"], capture_output=True, text=True, check=False)
    assert "\x1b[" in forced.stdout
    plain = subprocess.run([*table, "--no-color"], capture_output=True, text=True, check=False)
    assert "\x1b[" not in plain.stdout and "CRITICAL" in plain.stdout
    tty = subprocess.run(
        ["script", "-qec", f"{GUARD} scan {EXAMPLE} --no-progress", "/dev/null"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160", "TERM": "xterm", "NO_COLOR": "1"},
    )
    assert "CRITICAL" in tty.stdout and "\x1b[1;31m" not in tty.stdout


def test_verbose_lists_every_diagnostic(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"bad{i}.py").write_text(f"print 'python 2'\ncur.execute('INSERT INTO t{i} (a) VALUES (1)')\n")
    default = _scan(str(tmp_path), "--format", "table")[1]
    assert "and 2 more (--verbose" in default
    verbose = _scan(str(tmp_path), "--format", "table", "-v")[1]
    assert "more (--verbose" not in verbose and all(f"bad{i}.py" in verbose for i in range(12))
    quiet = _scan(str(tmp_path), "--format", "table", "-q")[1]
    assert "Diagnostics" not in quiet and "findings" not in quiet
