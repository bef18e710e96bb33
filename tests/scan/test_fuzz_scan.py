"""Property test: whatever bytes are in the tree, the scanner finishes and reports, never crashes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.config import Config
from guard.report import json_report, sarif
from guard.scan.engine import scan

SQL_WORDS = [
    "INSERT", "INTO", "titan.jobs", "VALUES", "(", ")", ",", "%s", "$1", ":name", "?", "'", '"', "$$", "DEFAULT",
    "COPY", "FROM", "STDIN", "WITH", "AS", "SELECT", "ON CONFLICT", "DO", "UPDATE", "SET", "created_at", "now()",
    "CREATE TABLE", "ALTER TABLE", "ADD COLUMN", "--", "/*", "*/", ";", "\n", "f\"", "{x}", "%", "\\", "BEGIN", "END",
]  # fmt: skip

sqlish = st.lists(st.sampled_from(SQL_WORDS), max_size=40).map(" ".join)
python_wrapped = sqlish.map(lambda sql: f"def f(cur, x):\n    cur.execute({sql!r})\n    cur.execute(f'{sql}')\n")
contents = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400),
    sqlish,
    python_wrapped,
    st.text(max_size=200).map(lambda t: ("INSERT INTO t (a) VALUES ('" + t).encode("utf-8", "surrogatepass")),
)
names = st.sampled_from(["a.py", "b.sql", "pkg/c.py", "d.pgsql", "e.pyw", "f.txt", "deep/er/g.sql"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.dictionaries(names, contents, min_size=1, max_size=5))
def test_random_trees_never_crash(files: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_bytes(content.encode("utf-8", "surrogatepass"))
            else:
                path.write_bytes(content)
        result = scan(root, Config(), jobs=1)
        assert not [d for d in result.diagnostics if d.kind == "internal-error"], result.diagnostics
        assert result.files_scanned == sum(1 for n in files if not n.endswith(".txt"))
        json_report.render(result)
        sarif.render(result)


def test_a_crash_in_the_parse_stage_fails_the_fuzz_property(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above can fail: a KeyError injected where writes are read out is reported as internal-error."""
    from guard.scan.sql import parse as parse_module

    def broken(*_: object) -> list[object]:
        raise KeyError("injected")

    monkeypatch.setattr(parse_module, "writes_in_statement", broken)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "load.sql").write_text("INSERT INTO titan.jobs (id) VALUES (1);\n")
        result = scan(tmp, Config(), jobs=1)
    assert [d.kind for d in result.diagnostics] == ["internal-error"]
