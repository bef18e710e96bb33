"""Hostile trees: every odd file becomes a diagnostic (or is scanned), never a traceback, a hang or a silent skip."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.scan.discover import discover
from guard.scan.engine import scan_file

WRITE = "INSERT INTO titan.jobs (id, job_status) VALUES (1, 'x');\n"


def scan_json(root: Path) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["scan", str(root), "--format", "json", "--jobs", "1"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def diagnostics(report: dict[str, object]) -> dict[str, tuple[str, str]]:
    """path -> (kind, message)."""
    return {d["path"]: (d["kind"], d["message"]) for d in report["diagnostics"]}  # type: ignore[attr-defined]


def test_links_that_are_not_followed_are_each_reported(tmp_path: Path) -> None:
    """Outside a git work tree: a symlink loop (it used to crash the scan), a dangling link, a link out of the root."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.sql").write_text(WRITE)
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "dangling.sql").symlink_to(root / "nowhere.sql")
    outside = tmp_path / "outside.sql"
    outside.write_text(WRITE)
    (root / "escape.sql").symlink_to(outside)
    report = scan_json(root)
    found = diagnostics(report)
    assert found["loop_a"] == ("skipped-link", "symlink loop; not followed")
    assert found["loop_b"] == ("skipped-link", "symlink loop; not followed")
    assert found["dangling.sql"][0] == "skipped-link" and "dangling symlink" in found["dangling.sql"][1]
    assert found["escape.sql"][0] == "skipped-link" and "outside the scanned tree" in found["escape.sql"][1]
    assert [w["path"] for w in report["writes"]] == ["ok.sql"]  # type: ignore[index]


def test_links_in_a_git_work_tree_are_reported_too(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ok.sql").write_text(WRITE)
    (root / "dangling.sql").symlink_to(root / "nowhere.sql")
    outside = tmp_path / "outside.sql"
    outside.write_text(WRITE)
    (root / "escape.sql").symlink_to(outside)
    found = diagnostics(scan_json(root))
    assert found["dangling.sql"][0] == "skipped-link" and "escape.sql" in found


def test_a_fifo_is_reported_and_never_opened_for_a_blocking_read(tmp_path: Path) -> None:
    (tmp_path / "ok.sql").write_text(WRITE)
    os.mkfifo(tmp_path / "pipe.sql")
    found = diagnostics(scan_json(tmp_path))
    assert found["pipe.sql"] == ("skipped-special", "is a FIFO (named pipe), not a regular file; not read")


def test_a_fifo_swapped_in_after_discovery_does_not_hang_the_scan(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(WRITE)
    [source] = discover(tmp_path).files
    (tmp_path / "a.sql").unlink()
    os.mkfifo(tmp_path / "a.sql")
    result = scan_file(source)  # a blocking open() would wait forever for a writer
    assert [(d.kind, d.message) for d in result.diagnostics] == [
        ("skipped-special", "is a FIFO (named pipe), not a regular file; not read")
    ]


def test_a_file_that_grew_past_max_file_size_after_discovery_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(WRITE)
    [source] = discover(tmp_path, max_file_size=1000).files
    (tmp_path / "a.sql").write_text(WRITE * 100)
    result = scan_file(source)
    assert [d.kind for d in result.diagnostics] == ["skipped-large"]
    assert "grew past max_file_size (1000 bytes) after discovery" in result.diagnostics[0].message
    assert result.writes == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_text_with_a_byte_order_mark_is_scanned(tmp_path: Path, codec: str) -> None:
    marks = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
             "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}  # fmt: skip
    (tmp_path / "load.sql").write_bytes(marks[codec] + ("-- é\n" + WRITE).encode(codec))
    (tmp_path / "job.py").write_bytes(marks[codec] + f'cur.execute("""{WRITE}""")\n'.encode(codec))
    report = scan_json(tmp_path)
    assert report["diagnostics"] == []
    assert sorted((w["path"], w["line"]) for w in report["writes"]) == [("job.py", 1), ("load.sql", 2)]  # type: ignore[index]


def test_a_500_deep_subselect_is_a_diagnostic_not_a_recursion_crash(tmp_path: Path) -> None:
    query = "SELECT 1"
    for depth in range(500):
        query = f"SELECT * FROM ({query}) AS t{depth}"
    (tmp_path / "deep.sql").write_text(f"INSERT INTO titan.jobs (id) {query};\n")
    [(kind, message)] = diagnostics(scan_json(tmp_path)).values()
    assert kind == "unparsed-sql" and "nested too deeply for guard to analyse" in message
    assert "recursion depth exceeded" not in message


def _without_root_file_access() -> list[str]:
    """A command prefix that drops the capabilities letting root read mode-000 directories (none needed if not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root needs setpriv (util-linux) to test permission errors; apt-get install util-linux")
    return [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_an_unreadable_directory_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    """In and out of a git work tree, a mode-000 directory is reported (it used to be a PermissionError)."""
    for use_git in (False, True):
        root = tmp_path / f"repo_git_{use_git}"
        (root / "locked").mkdir(parents=True)
        (root / "ok.sql").write_text(WRITE)
        (root / "locked" / "hidden.sql").write_text(WRITE)
        if use_git:
            subprocess.run(["git", "init", "-q", str(root)], check=True)
            subprocess.run(["git", "-C", str(root), "add", "."], check=True)
        os.chmod(root / "locked", 0)
        try:
            result = subprocess.run(
                [*_without_root_file_access(), sys.executable, "-c", "from guard.cli import main; main()",
                 "scan", str(root), "--format", "json"],
                capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
            )  # fmt: skip
        finally:
            os.chmod(root / "locked", 0o755)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1), result.stderr
        report = json.loads(result.stdout)
        kinds = {d["path"]: d["kind"] for d in report["diagnostics"]}
        assert "io-error" in (kinds.get("locked"), kinds.get("locked/hidden.sql")), (use_git, report["diagnostics"])
        assert [w["path"] for w in report["writes"]] == ["ok.sql"]
