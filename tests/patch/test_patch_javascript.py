"""``guard patch`` on JavaScript/TypeScript: plain-SQL forms are fixed, builder/ORM forms explained."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli
from guard.config import load_config
from guard.patch.javascript import js_parse_problem, patch_javascript
from guard.patch.site import PatchSite, ValueSource
from guard.scan.engine import scan

SOURCE = ValueSource(source_field="createdOn")


def _site(line: int, values: ValueSource = SOURCE) -> PatchSite:
    return PatchSite("a.ts", line, "titan.jobs", "created_at", values=values)


def test_node_postgres_call_config_object_and_constant() -> None:
    text = """\
const INSERT = `INSERT INTO titan.jobs (id, name)
  VALUES ($1, $2)`;
export async function load(client: Client, job: Job) {
  await client.query(INSERT, [job.id, job.name]);
  await client.query('INSERT INTO titan.jobs (id) VALUES ($1)', [job.id]);
  await pool.query({ text: 'INSERT INTO titan.jobs (id) VALUES ($1) RETURNING id', values: [job.id] });
}
"""
    patched, results = patch_javascript(text, "a.ts", [_site(1), _site(5), _site(6)])
    assert [r.fixed for r in results] == [True, True, True]
    assert "INSERT INTO titan.jobs (id, name, created_at)\n  VALUES ($1, $2, $3)`" in patched
    assert "await client.query(INSERT, [job.id, job.name, job.createdOn]);" in patched
    assert "'INSERT INTO titan.jobs (id, created_at) VALUES ($1, $2)', [job.id, job.createdOn]" in patched
    assert "VALUES ($1, $2) RETURNING id', values: [job.id, job.createdOn] }" in patched
    assert js_parse_problem(text, patched, "a.ts") is None


def test_tagged_template_gets_a_substitution_and_fallback_is_flagged() -> None:
    text = "await sql`insert into titan.jobs (id, name) values (${job.id}, ${job.name})`;\n"
    patched, [result] = patch_javascript(text, "a.ts", [_site(1, ValueSource())])
    assert patched == (
        "await sql`insert into titan.jobs (id, name, created_at) values (${job.id}, ${job.name}, ${new Date()})`;\n"
    )
    assert result.fixed and result.fallback and "source_field" in result.reason


def test_builders_orms_and_risky_literals_are_unfixable_with_the_reason() -> None:
    text = """\
await knex('titan.jobs').insert(rows);
await client.query('INSERT INTO titan.jobs (id) VALUES ($1)', params);
await client.query('INSERT INTO titan.jobs\\n (id) VALUES ($1)', [job.id]);
await client.query("INSERT INTO titan.jobs (id) VALUES (1)");
"""
    patched, results = patch_javascript(text, "a.js", [_site(1), _site(2), _site(3), _site(4)])
    assert patched == text
    reasons = [r.reason for r in results]
    assert "query-builder/ORM write" in reasons[0] and "created_at" in reasons[0]
    assert "not an array literal" in reasons[1]
    assert "escape sequences" in reasons[2]
    assert "no parameters" in reasons[3]


def test_exported_or_shared_constant_is_left_alone() -> None:
    text = """\
export const INSERT = 'INSERT INTO titan.jobs (id) VALUES ($1)';
const OTHER = 'INSERT INTO titan.jobs (name) VALUES ($1)';
await a.query(OTHER, [job.name]);
await b.query(OTHER, [job.name]);
"""
    _patched, results = patch_javascript(text, "a.js", [_site(1), _site(2)])
    assert "exported" in results[0].reason and "2 calls" in results[1].reason


def test_guard_patch_apply_on_a_node_repo_then_rescan_is_clean(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE titan.jobs (id bigint, name text, created_at timestamptz NOT NULL DEFAULT now());\n"
    )
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nsource_field = "createdOn"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "load.ts").write_text(
        "export async function load(client: Client, job: Job): Promise<void> {\n"
        "  await client.query('INSERT INTO titan.jobs (id, name) VALUES ($1, $2)', [job.id, job.name]);\n"
        "}\n"
    )
    result = CliRunner().invoke(cli, ["patch", str(tmp_path), "--apply"])
    assert result.exit_code == 0, result.output
    assert "[job.id, job.name, job.createdOn]" in (tmp_path / "src" / "load.ts").read_text()
    assert [f.rule for f in scan(tmp_path, load_config(tmp_path)).findings if f.rule == "GRD001"] == []
