"""Python specifics: finding the string at a line, sites that share code, and what must stay untouched."""

from __future__ import annotations

import libcst as cst
import pytest

from guard.codemods.add_timestamp import patch_python
from guard.codemods.module_index import ModuleIndex
from guard.codemods.sequences import insert_elements
from guard.patch.site import PatchSite, ValueSource

FIELD = ValueSource(source_field="createdOn")


def site(line: int, table: str = "titan.jobs") -> PatchSite:
    return PatchSite("m.py", line, table, "created_at", values=FIELD)


def test_string_lines_follow_source_order_across_decorators_and_conditionals() -> None:
    source = (
        '@route("/a", methods=["POST"])\n'
        "def handler(cur, job):\n"
        '    label = "x" if job else "y"\n'
        '    cur.execute("INSERT INTO titan.jobs (st_id) VALUES (%s)", (job["id"],))\n'
    )
    index = ModuleIndex(source)
    by_line = {}
    for node, (first, _) in index.string_lines.items():
        by_line.setdefault(first, []).append(node.value)  # type: ignore[attr-defined]
    assert by_line == {
        1: ['"/a"', '"POST"'],
        3: ['"x"', '"y"'],
        4: ['"INSERT INTO titan.jobs (st_id) VALUES (%s)"', '"id"'],
    }
    patched, [result] = patch_python(source, [site(4)])
    assert result.fixed
    assert '(job["id"], job.get("createdOn")))' in patched
    assert patched.startswith('@route("/a", methods=["POST"])\n')


def test_two_statements_in_one_string_sharing_parameters() -> None:
    source = (
        "def save(cur, job):\n"
        '    cur.execute("INSERT INTO titan.jobs (st_id) VALUES (%s); '
        'INSERT INTO titan.estimates (st_id) VALUES (%s)", (job["id"], job["id"]))\n'
    )
    patched, (first, second) = patch_python(source, [site(2), site(2, "titan.estimates")])
    assert first.fixed
    assert second.unfixable and "another site in this file" in second.reason
    assert "INSERT INTO titan.jobs (st_id, created_at) VALUES (%s, %s); INSERT INTO titan.estimates (st_id)" in patched
    assert '(job["id"], job.get("createdOn"), job["id"])' in patched  # the new value sits after the first row's


def test_sites_the_file_does_not_hold_are_reported_not_guessed() -> None:
    source = 'QUERY = "SELECT 1"\n'
    patched, [result] = patch_python(source, [site(1)])
    assert patched == source
    assert result.unfixable and "no INSERT or COPY into titan.jobs" in result.reason


def test_untouched_code_keeps_its_bytes() -> None:
    source = (
        "# -*- coding: utf-8 -*-\r\n"
        "def save(cur, job):  # keep   this\r\n"
        "    cur.execute('INSERT INTO titan.jobs (st_id) VALUES (%s)', (job['id'],))\r\n"
        "\r\n"
        "x = {  'odd' :1 }\r\n"
    )
    patched, [result] = patch_python(source, [site(3)])
    assert result.fixed
    assert patched == source.replace("(st_id) VALUES (%s)", "(st_id, created_at) VALUES (%s, %s)").replace(
        "(job['id'],)", "(job['id'], job.get('createdOn'))"
    )


def test_a_broken_source_expression_is_reported_not_replaced_by_the_fallback() -> None:
    source = 'def save(cur, job):\n    cur.execute("INSERT INTO titan.jobs (st_id) VALUES (%s)", (job["id"],))\n'
    broken = PatchSite("m.py", 2, "titan.jobs", "created_at", values=ValueSource(source_expression="parse({payload})"))
    patched, [result] = patch_python(source, [broken])
    assert patched == source
    assert result.unfixable and "source_expression 'parse({payload})' is not a valid template" in result.reason


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("(a, b)", "(a, b, X)"),
        ("(a,)", "(a, X)"),
        ("()", "(X,)"),
        ("(a, b,)", "(a, b, X,)"),
        ("(\n    a,\n    b,\n)", "(\n    a,\n    b,\n    X,\n)"),
        ("[\n    a,\n    b\n]", "[\n    a,\n    b,\n    X\n]"),
    ],
)
def test_appended_parameter_follows_the_sequence_layout(before: str, after: str) -> None:
    node = cst.parse_expression(before)
    assert isinstance(node, cst.Tuple | cst.List)
    edited = insert_elements([(len(node.elements), cst.Name("X"))])(node)
    assert cst.Module([]).code_for_node(edited) == after


def test_parameters_inserted_in_the_middle_keep_their_order() -> None:
    node = cst.parse_expression("(a, b, c)")
    edited = insert_elements([(1, cst.Name("X")), (3, cst.Name("Y"))])(node)
    assert cst.Module([]).code_for_node(edited) == "(a, X, b, c, Y)"


def test_a_parameter_variable_read_elsewhere_is_not_extended() -> None:
    source = (
        "def save(cur, job):\n"
        '    params = (job["id"],)\n'
        '    cur.execute("INSERT INTO titan.jobs (st_id) VALUES (%s)", params)\n'
        '    cur.execute("INSERT INTO titan.audit (st_id) VALUES (%s)", params)\n'
    )
    patched, [result] = patch_python(source, [site(3)])
    assert patched == source
    assert result.unfixable and "'params' is also used at line 4" in result.reason


def test_rows_counted_with_len_and_appended_in_a_loop_are_extended() -> None:
    source = (
        "def save(cur, jobs, log):\n"
        "    rows = []\n"
        "    for job in jobs:\n"
        '        rows.append((job["id"],))\n'
        '    cur.executemany("INSERT INTO titan.jobs (st_id) VALUES (%s)", rows)\n'
        '    log.info("%d rows", len(rows))\n'
    )
    patched, [result] = patch_python(source, [site(5)])
    assert result.fixed, result.reason
    assert 'rows.append((job["id"], job.get("createdOn")))' in patched
