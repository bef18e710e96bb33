"""SQL span edits: placeholder styles, $n renumbering, what is left untouched, and what is refused."""

from __future__ import annotations

import libcst as cst
import pytest

from guard.codemods.python_strings import apply_leaf_edits, sql_text
from guard.patch.params import ParamStyle
from guard.patch.site import PatchSite
from guard.patch.sql_edit import Slot, Unfixable, apply_edits, plan_timestamp_edit, quote_identifier
from guard.patch.sql_files import FALLBACK_SQL, patch_sql


def patched(sql: str, table: str = "jobs", **kwargs: object) -> tuple[str, list[Slot]]:
    plan = plan_timestamp_edit(sql, table, "created_at", **kwargs)  # type: ignore[arg-type]
    return apply_edits(sql, plan.edits), plan.slots


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO jobs (a, b) VALUES (%s, %s)", "INSERT INTO jobs (a, b, created_at) VALUES (%s, %s, %s)"),
        ("INSERT INTO jobs (a) VALUES (%(a)s)", "INSERT INTO jobs (a, created_at) VALUES (%(a)s, %(created_at)s)"),
        ("INSERT INTO jobs (a) VALUES (:a)", "INSERT INTO jobs (a, created_at) VALUES (:a, :created_at)"),
        ("INSERT INTO jobs (a) VALUES (?)", "INSERT INTO jobs (a, created_at) VALUES (?, ?)"),
        ("INSERT INTO jobs (a) VALUES ($1)", "INSERT INTO jobs (a, created_at) VALUES ($1, $2)"),
        ("COPY jobs (a, b) FROM STDIN", "COPY jobs (a, b, created_at) FROM STDIN"),
        ("INSERT INTO jobs (a) VALUES %s", "INSERT INTO jobs (a, created_at) VALUES %s"),
    ],
)
def test_each_placeholder_style_gets_its_own_placeholder(sql: str, expected: str) -> None:
    assert patched(sql)[0] == expected


def test_numeric_placeholders_after_the_new_one_are_renumbered() -> None:
    sql = "INSERT INTO jobs (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT (a) DO UPDATE SET b = $5"
    text, slots = patched(sql)
    assert text == (
        "INSERT INTO jobs (a, b, created_at) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT (a) DO UPDATE SET b = $7"
    )
    assert [s.arg_index for s in slots] == [2, 4]  # new args go after $2 and after $4 of the old list


def test_array_slices_and_jsonb_operators_are_not_placeholders() -> None:
    # the scanner's placeholder reader decides: a[1:n] is a slice, ? after a value is the jsonb operator
    text, _ = patched("INSERT INTO jobs (a, tags, ok) VALUES (:a, (ARRAY[1, 2, 3])[1:n], '{}'::jsonb ? 'k')")
    assert text == (
        "INSERT INTO jobs (a, tags, ok, created_at) VALUES (:a, (ARRAY[1, 2, 3])[1:n], '{}'::jsonb ? 'k', :created_at)"
    )


def test_multi_row_named_parameters_get_one_name_per_row() -> None:
    text, slots = patched("INSERT INTO jobs (a) VALUES (:a1), (:a2)")
    assert text == "INSERT INTO jobs (a, created_at) VALUES (:a1, :created_at_1), (:a2, :created_at_2)"
    assert [s.name for s in slots] == ["created_at_1", "created_at_2"]


def test_text_inside_quotes_and_comments_is_not_a_placeholder() -> None:
    text, slots = patched("INSERT INTO jobs (a, b) VALUES ('50%s off', %s) -- %s")
    assert text == "INSERT INTO jobs (a, b, created_at) VALUES ('50%s off', %s, %s) -- %s"
    assert [s.arg_index for s in slots] == [1]


def test_layout_of_a_multi_line_list_is_copied() -> None:
    sql = "INSERT INTO jobs (\n    a,\n    b\n) VALUES (\n    %s,\n    %s\n)"
    assert (
        patched(sql)[0] == "INSERT INTO jobs (\n    a,\n    b,\n    created_at\n) VALUES (\n    %s,\n    %s,\n    %s\n)"
    )


def test_select_branches_get_the_sql_value() -> None:
    sql = "INSERT INTO jobs (a) SELECT a FROM s1 AS x UNION ALL SELECT a FROM s2"
    seen = []

    def value(relations: object) -> str:
        seen.append(relations)
        return "now()"

    assert patched(sql, sql_value=value)[0] == (
        "INSERT INTO jobs (a, created_at) SELECT a, now() FROM s1 AS x UNION ALL SELECT a, now() FROM s2"
    )
    assert seen == [[("s1", "x")], [("s2", None)]]


def test_column_needing_quotes_is_quoted() -> None:
    assert quote_identifier("created_at") == "created_at"
    assert quote_identifier("CreatedAt") == '"CreatedAt"'
    assert quote_identifier("order") == '"order"'


def test_already_named_column_is_a_no_op() -> None:
    plan = plan_timestamp_edit("INSERT INTO jobs (a, created_at) VALUES (%s, now())", "jobs", "created_at")
    assert plan.already_named and not plan.edits


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("INSERT INTO jobs VALUES (%s)", "without a column list"),
        ("INSERT INTO jobs (a) VALUES (%s, :b)", "mixes placeholder styles"),
        ("INSERT INTO jobs (a) VALUES (%s, %s)", "do not match"),
        ("INSERT INTO jobs DEFAULT VALUES", "DEFAULT VALUES"),
        ("INSERT INTO jobs VALUES (%s)", "column order is unknown"),
        ("INSERT INTO other (a) VALUES (%s)", "no INSERT or COPY into jobs"),
        ("INSERT INTO jobs (a) VALUES (1)", "no SQL value"),
        ("INSERT INTO jobs (a VALUES", "does not parse"),
        ("COPY jobs FROM STDIN", "without a column list"),
    ],
)
def test_refusals_say_why(sql: str, reason: str) -> None:
    with pytest.raises(Unfixable, match=reason):
        plan_timestamp_edit(sql, "jobs", "created_at")


def test_style_detection() -> None:
    plan = plan_timestamp_edit("INSERT INTO {} (a) VALUES (%s)", "jobs", "created_at")
    assert plan.style is ParamStyle.FORMAT  # {} identifier fields do not decide the value style


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ('"INSERT INTO jobs (a) VALUES (%s)"', '"INSERT INTO jobs (a, created_at) VALUES (%s, %s)"'),
        ("'INSERT INTO jobs (\\n  a\\n) VALUES (%s)'", "'INSERT INTO jobs (\\n  a, created_at\\n) VALUES (%s, %s)'"),
        ('r"INSERT INTO jobs (a) VALUES (%s)"', 'r"INSERT INTO jobs (a, created_at) VALUES (%s, %s)"'),
        ('"INSERT INTO jobs (\\"A\\") VALUES (%s)"', '"INSERT INTO jobs (\\"A\\", created_at) VALUES (%s, %s)"'),
        ("f'INSERT INTO {t} (a) VALUES (%s) -- {{x}}'", "f'INSERT INTO {t} (a, created_at) VALUES (%s, %s) -- {{x}}'"),
        ('"INSERT INTO jobs (a) " "VALUES (%s)"', '"INSERT INTO jobs (a, created_at) " "VALUES (%s, %s)"'),
    ],
)
def test_edits_respect_the_literal_quoting_and_escapes(literal: str, expected: str) -> None:
    node = cst.parse_expression(literal)
    text = sql_text(node)
    plan = plan_timestamp_edit(text.text, "jobs", "created_at")
    per_leaf = text.leaf_edits(plan.edits)

    class Edit(cst.CSTTransformer):
        def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
            return apply_leaf_edits(updated, per_leaf[original]) if original in per_leaf else updated  # type: ignore[arg-type]

    assert cst.Module([]).code_for_node(node.visit(Edit())) == expected


def test_sql_files_report_lines_and_text_they_cannot_read() -> None:
    text = "INSERT INTO jobs (a) VALUES (1);\nSELECT 'unterminated;\n"
    patched, results = patch_sql(text, [PatchSite("x.sql", 9, "jobs", "created_at")])
    assert patched == text and "has no line 9" in results[0].reason
    patched, results = patch_sql(text, [PatchSite("x.sql", 1, "jobs", "created_at")])
    assert patched == text and "does not lex as SQL" in results[0].reason


def test_a_default_given_to_the_column_becomes_a_value() -> None:
    sql = "INSERT INTO jobs (a, created_at) VALUES ($1, DEFAULT) ON CONFLICT (a) DO UPDATE SET a = $2"
    text, slots = patched(sql)
    assert text == "INSERT INTO jobs (a, created_at) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET a = $3"
    assert [s.arg_index for s in slots] == [1]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO jobs VALUES (%s, %s)", "INSERT INTO jobs (id, name, created_at) VALUES (%s, %s, %s)"),
        (
            "INSERT INTO public.jobs AS j VALUES (%s) ON CONFLICT DO NOTHING",
            "INSERT INTO public.jobs AS j (id, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        ),
    ],
)
def test_positional_insert_gets_the_column_list_the_catalog_knows(sql: str, expected: str) -> None:
    assert patched(sql, table_columns=["id", "name", "created_at", "note"])[0] == expected


def test_a_seed_file_with_many_sites_patches_each_statement_once() -> None:
    """Every site of a long file, top level and in a function body, found from one lexing of the file."""
    rows = [f"INSERT INTO jobs (id, name) VALUES ({i}, 'n{i}');\n" for i in range(300)]
    body = (
        "CREATE FUNCTION f() RETURNS void AS $$\nBEGIN\n  INSERT INTO jobs (id) VALUES (0);\nEND $$ LANGUAGE plpgsql;\n"
    )
    text = "".join(rows) + body
    sites = [PatchSite("seed.sql", line, "jobs", "created_at") for line in [*range(1, 301), 303, 999]]
    patched, results = patch_sql(text, sites)
    assert [r.fixed for r in results] == [True] * 301 + [False]
    assert results[-1].reason == "the file has no line 999 (did it change since the scan?)"
    assert patched.splitlines()[299] == f"INSERT INTO jobs (id, name, created_at) VALUES (299, 'n299', {FALLBACK_SQL});"
    assert f"  INSERT INTO jobs (id, created_at) VALUES (0, {FALLBACK_SQL});" in patched
    assert patched.count("created_at") == 301 and patched.count("guard: review") == 301
