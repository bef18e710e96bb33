"""``guard patch`` as users run it: dry run, review, apply, re-run, re-scan — on real files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.config import load_config
from guard.patch.sql_files import FALLBACK_SQL
from guard.scan.engine import scan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"


def guard_patch(*args: str) -> Result:
    return CliRunner().invoke(cli, ["patch", *args])


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def titan(tmp_path: Path) -> Path:
    root = tmp_path / "titan"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A small repo: one guarded table, a patchable write and a constant shared with an unpatchable use."""
    root = tmp_path / "mini"
    (root / "schema").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "schema" / "001.sql").write_text(
        "CREATE TABLE jobs (id bigint PRIMARY KEY, name text, created_at timestamptz NOT NULL DEFAULT now());\n"
    )
    (root / "guard.toml").write_text('[tables."public.jobs"]\nsource_field = "createdOn"\n')
    (root / "app" / "ok.py").write_text(
        "def save(cur, job):\n"
        '    cur.execute("INSERT INTO jobs (id, name) VALUES (%s, %s)", (job["id"], job["name"]))\n'
    )
    (root / "app" / "shared.py").write_text(
        'INSERT_JOB = "INSERT INTO jobs (id, name) VALUES (%s, %s)"\n\n\n'
        'def save_job(cur, job):\n    cur.execute(INSERT_JOB, (job["id"], job["name"]))\n\n\n'
        "def save_prepared(cur, row):\n    cur.execute(INSERT_JOB, row)\n"
    )
    return root


def test_dry_run_prints_a_diff_and_a_summary_and_writes_nothing(titan: Path) -> None:
    before = snapshot(titan)
    result = guard_patch(str(titan))
    assert result.exit_code == 1  # legacy/old_sync_py2.py does not parse: unfixable
    assert snapshot(titan) == before
    assert "diff --git a/titan/nexus_titan_migration.py b/titan/nexus_titan_migration.py" in result.stdout
    assert '+                    job.get("createdOn"),' in result.stdout
    assert "legacy/old_sync_py2.py: 0 fixed, 1 unfixable" in result.stderr
    assert "fallback, no source time known — review" in result.stderr
    assert "guard patch:" in result.stderr and "guard patch:" not in result.stdout
    assert guard_patch(str(titan), "--dry-run").stdout == result.stdout


def test_dry_run_diff_applies_with_git_and_matches_apply(titan: Path, tmp_path: Path) -> None:
    diff = guard_patch(str(titan)).stdout
    reviewed = tmp_path / "reviewed"
    shutil.copytree(titan, reviewed)
    subprocess.run(["git", "init", "-q", str(reviewed)], check=True)
    (tmp_path / "patch.diff").write_text(diff)
    subprocess.run(["git", "-C", str(reviewed), "apply", "--check", str(tmp_path / "patch.diff")], check=True)
    subprocess.run(["git", "-C", str(reviewed), "apply", str(tmp_path / "patch.diff")], check=True)

    applied = guard_patch(str(titan), "--apply", "--backup-dir", str(tmp_path / "backup"))
    assert applied.exit_code == 1
    for relpath, data in snapshot(titan).items():
        assert (reviewed / relpath).read_bytes() == data, relpath


def test_apply_backs_up_then_second_run_and_rescan_are_clean(titan: Path) -> None:
    before = snapshot(titan)
    result = guard_patch(str(titan), "--apply")
    assert "wrote 12 file(s)" in result.stderr  # every file with a GRD001 site but the legacy one (JS included)
    [backup_root] = [p for p in (titan / ".guard-backup").iterdir() if p.is_dir()]
    assert (titan / ".guard-backup" / ".gitignore").read_text().strip().endswith("*")
    backups = snapshot(backup_root)
    assert backups and all(before[relpath] == data for relpath, data in backups.items())
    assert all(snapshot(titan)[relpath] != data for relpath, data in backups.items())

    again = guard_patch(str(titan), "--apply")
    assert again.stdout == ""
    assert "0 fixed" in again.stderr and again.exit_code == 1  # only the unparseable legacy file remains

    shutil.rmtree(titan / ".guard-backup")
    findings = scan(titan, load_config(titan)).findings
    assert [(f.relpath, f.rule) for f in findings if f.rule == "GRD001"] == [("legacy/old_sync_py2.py", "GRD001")]


def test_select_limits_the_patch_to_one_site(titan: Path) -> None:
    result = guard_patch(str(titan), "--select", "titan/api/sms.py:5", "--select", "titan/api/sms.py:99")
    assert result.exit_code == 0
    assert result.stdout.count("diff --git") == 1 and "titan/api/sms.py" in result.stdout
    assert "1 site(s) in 1 file(s)" in result.stderr
    assert "warning: no GRD001/GRD007 finding at titan/api/sms.py:99" in result.stderr


def test_constant_shared_with_an_unpatchable_use_is_left_alone(mini: Path) -> None:
    result = guard_patch(str(mini), "--apply")
    assert result.exit_code == 1
    assert "a/app/ok.py" in result.stdout and "shared.py" not in result.stdout
    assert "the call at line 9 cannot be patched" in result.stderr
    assert 'job.get("createdOn")' in (mini / "app" / "ok.py").read_text()
    assert "created_at" not in (mini / "app" / "shared.py").read_text()


def test_nothing_to_do_exits_zero(mini: Path) -> None:
    (mini / "app" / "shared.py").unlink()
    assert guard_patch(str(mini), "--apply").exit_code == 0
    result = guard_patch(str(mini))
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing to do" in result.stderr


def test_contradictory_flags_and_bad_paths_exit_two(mini: Path) -> None:
    assert guard_patch(str(mini), "--apply", "--dry-run").exit_code == 2
    assert guard_patch(str(mini / "missing")).exit_code == 2
    typo = guard_patch(str(mini), "--apply", "--rule", "GDR001")
    assert typo.exit_code == 2 and "--rule GDR001: not a rule about writes; use one of GRD001" in typo.stderr
    assert "created_at" not in (mini / "app" / "ok.py").read_text()


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app/ok.py:abc", "no file app/ok.py:abc in"),
        ("app/ok.py:0", "not a FILE[:LINE] selector"),
        (":2", "not a FILE[:LINE] selector"),
        ("app/missing.py:2", "no file app/missing.py in"),
        ("../outside.py:1", "is outside the project root"),
        ("app", "no file app in"),
    ],
)
def test_bad_select_is_a_usage_error_and_changes_nothing(mini: Path, selector: str, message: str) -> None:
    (mini.parent / "outside.py").write_text("x = 1\n")
    before = snapshot(mini)
    result = guard_patch(str(mini), "--apply", "--select", selector)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"guard: error: --select {selector!r}: ") and message in result.stderr
    assert "use --select FILE[:LINE]" in result.stderr and "Traceback" not in result.output
    assert result.stdout == "" and snapshot(mini) == before


def test_select_accepts_a_path_from_the_current_directory(mini: Path) -> None:
    result = guard_patch(str(mini), "--select", f"{mini / 'app' / 'ok.py'}:2")
    assert result.exit_code == 0
    assert "1 site(s) in 1 file(s)" in result.stderr and "a/app/ok.py" in result.stdout


@pytest.mark.parametrize("where", ["inside", "file"])
def test_unusable_backup_dir_is_refused_before_any_write(mini: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "plain-file").write_text("")
    backup_dir = mini / "backups" if where == "inside" else tmp_path / "plain-file" / "backups"
    message = "is inside the project root" if where == "inside" else "is not a directory; pass another --backup-dir"
    before = snapshot(mini)
    result = guard_patch(str(mini), "--apply", "--backup-dir", str(backup_dir))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert snapshot(mini) == before and not backup_dir.exists()


def test_constant_imported_by_another_module_is_left_alone(mini: Path) -> None:
    (mini / "app" / "shared.py").unlink()
    (mini / "app" / "consts.py").write_text(
        'INSERT_X = "INSERT INTO jobs (id, name) VALUES (%s, %s)"\n\n\n'
        'def save_x(cur, job):\n    cur.execute(INSERT_X, (job["id"], job["name"]))\n'
    )
    (mini / "app" / "other.py").write_text("from app.consts import INSERT_X\n")
    result = guard_patch(str(mini))
    assert result.exit_code == 1
    assert "consts.py" not in result.stdout and "a/app/ok.py" in result.stdout
    assert "INSERT_X is also named in app/other.py" in result.stderr


def test_insert_select_takes_the_creation_column_the_catalog_knows(mini: Path) -> None:
    (mini / "app" / "shared.py").unlink()
    (mini / "schema" / "002.sql").write_text(
        "CREATE TABLE staging_jobs (id bigint, name text, created_on timestamptz);\n"
    )
    (mini / "backfill.sql").write_text(
        "INSERT INTO jobs (id, name)\nSELECT s.id, s.name FROM staging_jobs AS s;\n"
        "INSERT INTO jobs (id, name) SELECT 1, 'x';\n"
    )
    result = guard_patch(str(mini), "--select", "backfill.sql")
    assert result.exit_code == 0
    assert "+SELECT s.id, s.name, s.created_on FROM staging_jobs AS s;" in result.stdout
    assert f"+INSERT INTO jobs (id, name, created_at) SELECT 1, 'x', {FALLBACK_SQL};" in result.stdout
    assert "line 1: public.jobs.created_at = s.created_on\n" in result.stderr
    assert (
        f"line 3: public.jobs.created_at = {FALLBACK_SQL}  "
        "[fallback, no source time known — review: the SELECT reads no table]" in result.stderr
    )


def test_positional_insert_into_a_known_table_is_given_its_column_list(mini: Path) -> None:
    (mini / "app" / "shared.py").unlink()
    (mini / "app" / "ok.py").write_text(
        'def save(cur, job):\n    cur.execute("INSERT INTO jobs VALUES (%s, %s)", (job["id"], job["name"]))\n'
    )
    result = guard_patch(str(mini))
    assert result.exit_code == 0, result.stderr
    assert (
        '+    cur.execute("INSERT INTO jobs (id, name, created_at) VALUES (%s, %s, %s)", '
        '(job["id"], job["name"], job.get("createdOn")))' in result.stdout
    )
