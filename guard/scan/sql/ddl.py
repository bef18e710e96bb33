"""Schema facts from DDL: which tables exist, their column order, and each column's default.

The catalog replays these facts in file order, so only what a statement *says* is recorded here; merging
(an ``ADD COLUMN`` seen before its ``CREATE TABLE``, renames, drops) is the catalog's job.
Default expressions are quoted as written (``now() AT TIME ZONE 'utc'``), read from the tokens after the
``DEFAULT`` keyword.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from guard.model import SchemaFact
from guard.scan.sql.text import SqlText, Statement, min_location, relation_name, string_values

#: Keywords that end a column's DEFAULT expression inside CREATE TABLE / ALTER TABLE.
_DEFAULT_STOPS = frozenset(
    {
        "NOT",
        "NULL_P",
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "CHECK",
        "REFERENCES",
        "GENERATED",
        "COLLATE",
        "DEFERRABLE",
        "INITIALLY",
        "DEFAULT",
        "ADD_P",
        "ALTER",
        "DROP",
    }
)


def facts_in_statement(statement: Statement) -> list[SchemaFact]:
    """The schema facts a top-level DDL statement establishes (empty for anything else)."""
    handler = _HANDLERS.get(statement.kind)
    return list(handler(statement, statement.node)) if handler else []


def _fact(statement: Statement, table: str, action: str, **fields: Any) -> SchemaFact:
    return SchemaFact(
        table=table,
        action=action,
        relpath=statement.unit.candidate.relpath,
        line=statement.line(),
        origin="ddl",
        **fields,
    )


def _create(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    table = relation_name(node.get("relation", {}))
    parents = [relation_name(parent.get("RangeVar", {})) for parent in node.get("inhRelations", [])]
    if node.get("partbound") and parents:
        # PARTITION OF: the partition has exactly its parent's columns.
        yield _fact(statement, table, "partition_of", new_name=parents[0])
        return
    columns: list[str] = []
    defaults: list[tuple[str, str]] = []
    partial = bool(parents) or node.get("ofTypename") is not None
    boundaries = _element_locations(node)
    for element in node.get("tableElts", []):
        if "TableLikeClause" in element:
            partial = True  # LIKE other_table: its columns are not spelled out here
        column = element.get("ColumnDef")
        if column:
            columns.append(column.get("colname", ""))
            default = _column_default(statement, column, boundaries)
            if default is not None:
                defaults.append((columns[-1], default))
    # With LIKE/INHERITS the listed columns are only part of the table (and not its first ones).
    action = "add_column" if partial else "create_if_missing" if node.get("if_not_exists") else "create"
    yield _fact(statement, table, action, columns=tuple(columns), defaults=tuple(defaults))


def _create_table_as(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    if node.get("objtype") != "OBJECT_TABLE":
        return  # materialized views are not written to
    into = node.get("into", {})
    into = into.get("IntoClause", into)  # the JSON inlines this node
    table = relation_name(into.get("rel", {}))
    names = string_values(into.get("colNames"))
    if not names:
        select = node.get("query", {}).get("SelectStmt", {})
        names = [_output_name(target.get("ResTarget", {})) for target in select.get("targetList", [])]
    if names and all(names):
        yield _fact(statement, table, "create", columns=tuple(names))


def _output_name(target: dict[str, Any]) -> str:
    """The column name a SELECT list item produces, when it can be told without a database ('' if not)."""
    if target.get("name"):
        return str(target["name"])
    fields = target.get("val", {}).get("ColumnRef", {}).get("fields", [])
    if fields and "String" in fields[-1]:
        return str(fields[-1]["String"].get("sval", ""))
    return ""


def _alter(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE":
        return
    table = relation_name(node.get("relation", {}))
    for wrapper in node.get("cmds", []):
        command = wrapper.get("AlterTableCmd", {})
        subtype = command.get("subtype")
        if subtype == "AT_AddColumn":
            column = command.get("def", {}).get("ColumnDef", {})
            name = column.get("colname", "")
            default = _column_default(statement, column, [])
            yield _fact(
                statement,
                table,
                "add_column",
                columns=(name,),
                defaults=((name, default),) if default is not None else (),
            )
        elif subtype == "AT_ColumnDefault":
            name = command.get("name", "")
            expression = command.get("def")
            if expression is None:
                yield _fact(statement, table, "drop_default", columns=(name,))
            else:
                text = _default_text(statement, expression)
                yield _fact(statement, table, "set_default", columns=(name,), defaults=((name, text),))
        elif subtype == "AT_DropColumn":
            yield _fact(statement, table, "drop_column", columns=(command.get("name", ""),))


def _rename(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    table = relation_name(node.get("relation", {}))
    rename_type = node.get("renameType")
    if rename_type == "OBJECT_TABLE":
        yield _fact(statement, table, "rename_table", new_name=node.get("newname", ""))
    elif rename_type == "OBJECT_COLUMN" and node.get("relationType") == "OBJECT_TABLE":
        yield _fact(
            statement, table, "rename_column", columns=(node.get("subname", ""),), new_name=node.get("newname", "")
        )


def _set_schema(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    if node.get("objectType") == "OBJECT_TABLE":
        relation = node.get("relation", {})
        new_name = f"{node.get('newschema', '')}.{relation.get('relname', '')}"
        yield _fact(statement, relation_name(relation), "rename_table", new_name=new_name)


def _drop(statement: Statement, node: dict[str, Any]) -> Iterator[SchemaFact]:
    if node.get("removeType") != "OBJECT_TABLE":
        return
    for name in node.get("objects", []):
        parts = string_values(name.get("List", {}).get("items"))
        if parts:
            yield _fact(statement, ".".join(parts[-2:]), "drop_table")


def _element_locations(node: dict[str, Any]) -> list[int]:
    """Where each column and table constraint of a CREATE TABLE starts."""
    return [next(iter(element.values())).get("location", -1) for element in node.get("tableElts", [])]


def _column_default(statement: Statement, column: dict[str, Any], boundaries: list[int]) -> str | None:
    """The DEFAULT of a column definition, as written.

    Only the text from ``DEFAULT`` to the next constraint, column or table constraint (``boundaries``) is
    scanned, not the whole CREATE TABLE: schema dumps are mostly column lists.
    """
    constraints = [wrapper.get("Constraint", {}) for wrapper in column.get("constraints", [])]
    for constraint in constraints:
        if constraint.get("contype") != "CONSTR_DEFAULT" or "raw_expr" not in constraint:
            continue
        keyword = constraint.get("location", -1)
        if keyword < 0:
            return _default_text(statement, constraint["raw_expr"])
        following = [other.get("location", -1) for other in constraints] + boundaries
        bound = min((location for location in following if location > keyword), default=None)
        start = statement.char(keyword)
        stop = statement.char(bound) if bound is not None else statement.stop
        window = SqlText(statement.unit.sql.text[start:stop])  # "DEFAULT expr" or "CONSTRAINT name DEFAULT expr"
        first = next((index + 1 for index, token in enumerate(window.tokens) if token.name == "DEFAULT"), None)
        if first is None or first >= len(window.tokens):
            return ""
        end = window.expression_end(first, _DEFAULT_STOPS)
        return statement.unit.source(start + window.tokens[first].start, start + window.tokens[end].end + 1)
    return None


def _default_text(statement: Statement, expression: dict[str, Any]) -> str:
    """The default expression as written: the tokens after ``DEFAULT`` up to the next constraint or comma."""
    sql = statement.unit.sql
    start = min_location(expression)
    keyword = sql.last_named("DEFAULT", statement.char(start) + 1 if start is not None else 0, statement.first)
    if keyword is None or keyword + 1 > statement.last:
        return ""
    end = sql.expression_end(keyword + 1, _DEFAULT_STOPS, limit=statement.last)
    return statement.unit.source_tokens(keyword + 1, end)


_HANDLERS = {
    "CreateStmt": _create,
    "CreateTableAsStmt": _create_table_as,
    "AlterTableStmt": _alter,
    "RenameStmt": _rename,
    "AlterObjectSchemaStmt": _set_schema,
    "DropStmt": _drop,
}
