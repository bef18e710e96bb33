"""The libcst transform behind ``guard patch`` for Python files.

For every site (a write found by the scanner at a given line) it finds the string holding the SQL,
follows it to the call(s) that execute it — directly, through ``text()`` / ``sql.SQL().format()``, or
through a module or local constant — and plans two coordinated edits per call:

* the SQL: the timestamp column appended to the column list and a value to every VALUES row /
  SELECT branch / COPY column list, as span edits inside the string literal(s) as written;
* the parameters: the new value added to the row tuple / dict / comprehension row / ``write_row``
  call / asyncpg argument list, at the position the placeholder numbering demands.

A site is patched only if every use of its SQL can be patched; otherwise it is reported with the
reason and nothing changes. Everything else in the file is left byte-for-byte as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from guard.codemods.module_index import ModuleIndex
from guard.codemods.orm_timestamp import ORM_ORIGINS, OrmSitePatcher
from guard.codemods.python_strings import LiteralSql, StringLeaf, apply_leaf_edits, sql_text
from guard.codemods.sequences import NodeEdit, add_keys, add_keywords, insert_args, insert_elements
from guard.codemods.values import fallback_code, infer_value
from guard.patch.params import ParamStyle
from guard.patch.site import PatchSite, SiteResult
from guard.patch.sql_edit import Relations, SqlPatch, Unfixable, apply_edits, plan_timestamp_edit
from guard.patch.sql_files import FALLBACK_SQL, fallback_reason, source_value
from guard.scan.frontends.python.drivers import DRIVERS


@dataclass
class _Use:
    """One call executing the SQL; ``sql_arg`` is the argument that carries it."""

    call: cst.Call
    sql_arg: cst.BaseExpression
    format_call: cst.Call | None = None


@dataclass
class _Row:
    """An expression holding one row of parameters and how to extend it."""

    node: cst.CSTNode
    shape: str  # "sequence" (tuple/list) | "dict" | "kwargs" (dict(...)) | "call" (asyncpg positional args)
    values: list[cst.BaseExpression]
    first_arg: int = 0  # "call": index in call.args of the first parameter


@dataclass
class _Plan:
    """Node edits for one site (committed only if the whole site succeeds), or for the whole file."""

    edits: dict[cst.CSTNode, list[NodeEdit]] = field(default_factory=dict)
    leaf_spans: dict[cst.CSTNode, list[tuple[int, int]]] = field(default_factory=dict)
    needs_datetime: bool = False

    def add(self, node: cst.CSTNode, edit: NodeEdit) -> None:
        self.edits.setdefault(node, []).append(edit)

    def add_leaf(self, leaf: StringLeaf, edits: list[tuple[int, int, str]]) -> None:
        self.add(leaf, _leaf_edit(edits))
        self.leaf_spans.setdefault(leaf, []).extend((start, end) for start, end, _ in edits)

    def conflict(self, other: _Plan) -> bool:
        """Whether ``other`` edits a node this plan edits (string literals: at the same place)."""
        for node in other.edits.keys() & self.edits.keys():
            if node not in self.leaf_spans:
                return True
            for start, end in other.leaf_spans[node]:
                if any(start <= b and a <= end for a, b in self.leaf_spans[node]):
                    return True
        return False

    def merge(self, other: _Plan) -> None:
        for node, edits in other.edits.items():
            self.edits.setdefault(node, []).extend(edits)
        for leaf, spans in other.leaf_spans.items():
            self.leaf_spans.setdefault(leaf, []).extend(spans)
        self.needs_datetime |= other.needs_datetime


def _method_call(node: cst.CSTNode, receiver: str) -> str | None:
    """The method name when ``node`` is a call ``receiver.method(...)``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        target = node.func.value
        if isinstance(target, cst.Name) and target.value == receiver:
            return node.func.attr.value
    return None


def _is_len_argument(index: ModuleIndex, name: cst.Name) -> bool:
    arg = index.parents.get(name)
    call = index.parents.get(arg) if isinstance(arg, cst.Arg) else None
    return isinstance(call, cst.Call) and _callee(call) == "len"


def _callee(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


class _SitePatcher:
    """Plans the edits for one site; raises :class:`Unfixable` with the reason when it cannot."""

    def __init__(self, index: ModuleIndex, site: PatchSite, plan: _Plan, result: SiteResult) -> None:
        self.index = index
        self.site = site
        self.plan = plan
        self.result = result
        self.fallbacks: list[str] = []
        self.values: list[str] = []

    def run(self) -> None:
        candidates = self.index.strings_at(self.site.line)
        if not candidates:
            raise Unfixable("no string literal holds the SQL at this line")
        problems: list[str] = []
        for node in candidates:
            try:
                text = sql_text(node)
                patch = plan_timestamp_edit(
                    text.text,
                    self.site.table,
                    self.site.column,
                    sql_value=self._sql_value,
                    table_columns=self.site.table_columns,
                )
            except Unfixable as exc:
                problems.append(str(exc))
                continue
            self._patch_string(node, text, patch)
            return
        raise Unfixable(problems[0])

    def _sql_value(self, relations: Relations) -> str:
        """Value for SELECT branches and unparameterized VALUES rows: a column of the source, else the review
        placeholder (never now(): GRD002 would report it)."""
        value = source_value(self.site, relations)
        if value is None:
            self.fallbacks.append(fallback_reason(relations))
            return FALLBACK_SQL
        return value

    def _patch_string(self, node: cst.BaseExpression, text: LiteralSql, patch: SqlPatch) -> None:
        if patch.already_named:
            self.result.already = True
            return
        uses = self._uses(node)
        if patch.slots:
            for use in uses:
                try:
                    self._patch_parameters(use, patch)
                except Unfixable as exc:
                    if len(uses) > 1:
                        raise Unfixable(
                            f"the SQL is shared by {len(uses)} calls; the call at line "
                            f"{self.index.line(use.call)} cannot be patched: {exc}"
                        ) from None
                    raise
        _check_edited_sql(apply_edits(text.text, patch.edits), self.site)
        for leaf, leaf_edits in text.leaf_edits(patch.edits).items():
            self.plan.add_leaf(leaf, leaf_edits)
        self.result.uses = len(uses)
        self.result.fixed = True
        self.result.value = " / ".join(dict.fromkeys(self.values)) or patch.added_value()
        self.result.fallback = bool(self.fallbacks)
        self.result.reason = "; ".join(dict.fromkeys(self.fallbacks))

    # -- from the string to the calls --------------------------------------------------------------

    def _uses(self, node: cst.BaseExpression, depth: int = 0, format_call: cst.Call | None = None) -> list[_Use]:
        expr: cst.CSTNode = node
        while True:
            parent = self.index.parents.get(expr)
            if isinstance(parent, cst.Arg):
                call = self.index.parents.get(parent)
                assert isinstance(call, cst.Call)
                if _callee(call) in DRIVERS.run_calls().wrappers and call.args and call.args[0] is parent:
                    expr = call
                    continue
                return [_Use(call, parent.value, format_call)]
            if isinstance(parent, cst.Attribute) and parent.attr.value == "format":
                call = self.index.parents.get(parent)
                if isinstance(call, cst.Call) and call.func is parent:
                    expr, format_call = call, call
                    continue
            if isinstance(parent, cst.Assign | cst.AnnAssign) and parent.value is expr and depth < 3:
                return self._constant_uses(parent, depth, format_call)
            if isinstance(parent, cst.WithItem):
                raise Unfixable("the SQL is used as a context manager in an unsupported way")
            kind = type(parent).__name__ if parent is not None else "nothing"
            raise Unfixable(f"cannot follow the SQL to the call that runs it (it is used in a {kind})")

    def _constant_uses(
        self, assign: cst.Assign | cst.AnnAssign, depth: int, format_call: cst.Call | None
    ) -> list[_Use]:
        target = assign.targets[0].target if isinstance(assign, cst.Assign) else assign.target
        if not isinstance(target, cst.Name) or (isinstance(assign, cst.Assign) and len(assign.targets) != 1):
            raise Unfixable("the SQL is assigned to something other than a plain name")
        scope = self.index.scope_of(assign)
        if isinstance(scope, cst.Module):
            self.result.module_constant = target.value
        if len(self.index.assignments(scope, target.value)) != 1:
            raise Unfixable(f"{target.value} is assigned more than once")
        names = self.index.name_uses(scope, target.value, target)
        if not names:
            raise Unfixable(f"{target.value} is not run in this file (imported elsewhere?): patch its callers by hand")
        uses: list[_Use] = []
        for name in names:
            try:
                uses.extend(self._uses(name, depth + 1, format_call))
            except Unfixable as exc:
                raise Unfixable(f"{target.value} is also used at line {self.index.line(name)}: {exc}") from None
        return uses

    # -- from the call to the rows -----------------------------------------------------------------

    def _patch_parameters(self, use: _Use, patch: SqlPatch) -> None:
        call = use.call
        callee = _callee(call)
        args = list(call.args)
        sql_position = next((i for i, a in enumerate(args) if a.value is use.sql_arg), None)
        if sql_position is None:
            raise Unfixable("cannot find the SQL among the call's arguments")
        if patch.kind == "copy":
            rows = self._copy_rows(call, callee)
            self._extend_rows(rows, patch, use)
            return
        after = [a for a in args[sql_position + 1 :] if a.keyword is None]
        if any(a.star for a in after):
            raise Unfixable("the parameters are passed with * unpacking")
        runs = DRIVERS.run_calls()  # which calls run SQL, and how, is each driver module's knowledge
        keyword = next((a for a in args if a.keyword is not None and a.keyword.value in runs.param_keywords), None)
        many = callee in runs.many or callee in runs.helpers
        if callee not in runs.one and not many:
            raise Unfixable(f"{callee or 'this call'}() is not a known way to run SQL")
        if patch.rows_template and callee not in runs.fills_values_template:
            raise Unfixable(f"VALUES %s without {' or '.join(sorted(runs.fills_values_template))}")
        if not many and patch.style is ParamStyle.NUMERIC and after:
            # asyncpg: conn.execute(SQL, a, b) - the call's own arguments are the row.
            values = [a.value for a in after]
            self._extend_rows([_Row(call, "call", values, first_arg=sql_position + 1)], patch, use)
            return
        param = after[0].value if after else (keyword.value if keyword else None)
        if param is None:
            raise Unfixable("the call passes no parameters to extend")
        rows = self._rows(param, many or self._is_sequence_of_dicts(param, patch), call)
        self._extend_rows(rows, patch, use)

    @staticmethod
    def _is_sequence_of_dicts(param: cst.BaseExpression, patch: SqlPatch) -> bool:
        """SQLAlchemy ``execute(text(SQL), [{...}, ...])`` runs once per dict."""
        named = patch.style in (ParamStyle.NAMED, ParamStyle.PYFORMAT)
        return named and isinstance(param, cst.List | cst.ListComp | cst.GeneratorExp)

    def _copy_rows(self, call: cst.Call, callee: str) -> list[_Row]:
        if callee not in DRIVERS.run_calls().copy_streams:
            raise Unfixable(f"COPY data is streamed by {callee}(): add the column to the data by hand")
        item = self.index.parents.get(call)
        if not isinstance(item, cst.WithItem) or item.asname is None or not isinstance(item.asname.name, cst.Name):
            raise Unfixable("cur.copy() is not used as `with ... as copy`")
        name = item.asname.name.value
        statement = self.index.parents.get(item)
        assert statement is not None
        rows = []
        for node in self.index.walk(statement):
            if _method_call(node, name) == "write_row" and isinstance(node, cst.Call) and node.args:
                rows.extend(self._rows(node.args[0].value, False, node))
        if not rows:
            raise Unfixable(f"no {name}.write_row(...) call in the with block")
        return rows

    def _rows(self, node: cst.BaseExpression, many: bool, call: cst.CSTNode, depth: int = 0) -> list[_Row]:
        if isinstance(node, cst.Name):
            return self._rows_of_name(node, many, call, depth)
        if many:
            if isinstance(node, cst.List | cst.Tuple):
                return [row for element in node.elements for row in self._rows(element.value, False, call, depth)]
            if isinstance(node, cst.ListComp | cst.GeneratorExp | cst.SetComp):
                return self._rows(node.elt, False, call, depth)
            if isinstance(node, cst.Call) and _callee(node) in ("list", "tuple") and len(node.args) == 1:
                return self._rows(node.args[0].value, True, call, depth)
            raise Unfixable(f"the rows are built by a {type(node).__name__}, not a literal or comprehension")
        if isinstance(node, cst.Tuple | cst.List):
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                raise Unfixable("the row unpacks another sequence with *")
            return [_Row(node, "sequence", [e.value for e in node.elements])]
        if isinstance(node, cst.Dict):
            values = [e.value for e in node.elements if isinstance(e, cst.DictElement)]
            return [_Row(node, "dict", values)]
        if isinstance(node, cst.Call) and _callee(node) == "dict" and all(a.keyword for a in node.args):
            return [_Row(node, "kwargs", [a.value for a in node.args])]
        raise Unfixable(f"the row is a {type(node).__name__}, built where guard cannot extend it")

    def _rows_of_name(self, name: cst.Name, many: bool, call: cst.CSTNode, depth: int) -> list[_Row]:
        scope = self.index.scope_of(call)
        binding = self.index.binds_as_loop_or_parameter(scope, name.value)
        values = self.index.assignments(scope, name.value)
        if binding and not values:
            where = "another function" if binding == "parameter" else f"a {binding}"
            raise Unfixable(f"the parameters come from {where} ({name.value!r}); pass the timestamp there by hand")
        if len(values) != 1 or depth > 3:
            raise Unfixable(f"cannot see where {name.value!r} is built (assigned {len(values)} times here)")
        self._check_single_use(scope, name)
        value = values[0]
        if many and isinstance(value, cst.List) and not value.elements:
            return self._appended_rows(scope, name.value, call)
        return self._rows(value, many, call, depth + 1)

    def _check_single_use(self, scope: cst.CSTNode, name: cst.Name) -> None:
        """Extending a variable's rows is only safe if nothing else reads them (``len()`` and ``.append`` aside)."""
        for use in self.index.name_uses(scope, name.value, name):
            parent = self.index.parents.get(use)
            appended = isinstance(parent, cst.Attribute) and parent.attr.value == "append"
            if not appended and not _is_len_argument(self.index, use):
                raise Unfixable(
                    f"{name.value!r} is also used at line {self.index.line(use)}, which may not expect one "
                    "more value: patch by hand"
                )

    def _appended_rows(self, scope: cst.CSTNode, name: str, call: cst.CSTNode) -> list[_Row]:
        """``rows = []`` then ``rows.append((...))`` in a loop."""
        rows: list[_Row] = []
        for node in self.index.walk(scope):
            method = _method_call(node, name)
            if method == "append" and isinstance(node, cst.Call) and len(node.args) == 1:
                rows.extend(self._rows(node.args[0].value, False, call))
            elif method in ("extend", "insert"):
                raise Unfixable(f"{name}.{method}() adds rows guard cannot see")
        if not rows:
            raise Unfixable(f"{name} starts empty and no {name}.append(row) is visible")
        return rows

    # -- extending the rows ------------------------------------------------------------------------

    def _extend_rows(self, rows: list[_Row], patch: SqlPatch, use: _Use) -> None:
        slots = patch.slots
        format_inserts = self._format_placeholders(use, patch) if patch.style is ParamStyle.BRACE else None
        for row in rows:
            positional = [s for s in slots if s.arg_index is not None]
            if row.shape in ("dict", "kwargs"):
                if positional or any(s.name is None for s in slots):
                    raise Unfixable("a dict of parameters for a positional statement")
            elif any(s.name is not None for s in slots):
                raise Unfixable("positional parameters for a statement with named placeholders")
            expected = patch.positional_params
            if positional and format_inserts is None and len(row.values) != expected:
                raise Unfixable(f"the row has {len(row.values)} values for {expected} placeholders")
            self._extend_row(row, patch, format_inserts)

    def _format_placeholders(self, use: _Use, patch: SqlPatch) -> list[int]:
        """For ``sql.SQL("... VALUES ({}, {})").format(..., sql.Placeholder(), ...)``: add Placeholder() fields.

        Returns, per slot, the index of the new driver parameter (Placeholder fields before it).
        """
        call = use.format_call
        if call is None or any(a.keyword is not None or a.star for a in call.args):
            raise Unfixable("a {} template without a plain .format(...) call")
        fields = list(call.args)
        placeholder_args = [a for a in fields if _code(a.value).endswith("Placeholder()")]
        if not placeholder_args:
            raise Unfixable("the template's {} fields are not filled with sql.Placeholder()")
        func = placeholder_args[0].value
        inserts: list[tuple[int, cst.BaseExpression]] = []
        driver_index: list[int] = []
        for slot in patch.slots:
            index = slot.arg_index or 0
            if index > len(fields):
                raise Unfixable("the template has more {} fields than .format() arguments")
            inserts.append((index, func))
            driver_index.append(sum(1 for a in fields[:index] if a in placeholder_args))
        self.plan.add(call, insert_args(inserts))
        return driver_index

    def _extend_row(self, row: _Row, patch: SqlPatch, driver_indexes: list[int] | None) -> None:
        positional: list[tuple[int, cst.BaseExpression]] = []
        named: list[tuple[str, cst.BaseExpression]] = []
        for k, slot in enumerate(patch.slots):
            value = self._value_for(self._values_of_slot(row, patch, k))
            if slot.name is not None:
                named.append((slot.name, value))
            else:
                position = driver_indexes[k] if driver_indexes is not None else slot.arg_index
                positional.append((len(row.values) if position is None else position, value))
        if row.shape == "sequence":
            self.plan.add(row.node, insert_elements(positional))
        elif row.shape == "call":
            self.plan.add(row.node, insert_args([(row.first_arg + i, value) for i, value in positional]))
        elif row.shape == "dict":
            assert isinstance(row.node, cst.Dict)
            existing = {_code(e.key) for e in row.node.elements if isinstance(e, cst.DictElement)}
            quote = _key_quote(row.node)
            if any(f"{quote}{name}{quote}" in existing for name, _ in named):
                raise Unfixable("the parameters already carry this key")
            self.plan.add(row.node, add_keys(named, quote))
        else:
            self.plan.add(row.node, add_keywords(named))

    @staticmethod
    def _values_of_slot(row: _Row, patch: SqlPatch, k: int) -> list[cst.BaseExpression]:
        """The row values belonging to slot ``k``'s VALUES row (all of them for single-row statements)."""
        slot = patch.slots[k]
        if slot.arg_index is None or len(patch.slots) == 1:
            return row.values
        start = patch.slots[k - 1].arg_index or 0 if k else 0
        return row.values[start : slot.arg_index]

    def _value_for(self, values: Sequence[cst.BaseExpression]) -> cst.BaseExpression:
        inferred = infer_value(values, self.site.values, self.site.column)
        code = inferred.code
        if code is None:
            self.fallbacks.append(inferred.reason)
            self.plan.needs_datetime = True
            code = fallback_code(self.index.imports_datetime_module)
        self.values.append(code)
        return _parse_expression(code)


@functools.lru_cache(maxsize=256)
def _parse_expression(code: str) -> cst.BaseExpression:
    """Parsed once per distinct value: libcst nodes are immutable, so one node can sit in many rows."""
    return cst.parse_expression(code)


def _key_quote(node: cst.Dict) -> str:
    for element in node.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            return element.key.quote[0]
    return '"'


def _check_edited_sql(sql: str, site: PatchSite) -> None:
    """The edited statement must parse and name the column (a second planning pass finds nothing to do)."""
    try:
        again = plan_timestamp_edit(sql, site.table, site.column, sql_value=lambda _relations: FALLBACK_SQL)
    except Unfixable as exc:
        raise Unfixable(f"the edited SQL would be wrong ({exc}): patch by hand") from None
    if not again.already_named:
        raise Unfixable("the edited SQL still does not name the column: patch by hand")


def _leaf_edit(edits: list[tuple[int, int, str]]) -> NodeEdit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.SimpleString | cst.FormattedStringText)
        return apply_leaf_edits(node, edits)

    return edit


class _Apply(cst.CSTTransformer):
    """Run the node edits bottom-up, descending only into subtrees that hold an edited node."""

    def __init__(self, edits: dict[cst.CSTNode, list[NodeEdit]], index: ModuleIndex) -> None:
        super().__init__()
        self.edits = edits
        self.on_path = {a for node in edits for a in index.ancestors(node)} | set(edits)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node in self.on_path

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        for edit in self.edits.get(original_node, ()):
            updated_node = edit(updated_node)
        return updated_node


def patch_python(source: str, sites: Sequence[PatchSite]) -> tuple[str, list[SiteResult]]:
    """Patch every site of one Python file; returns the new source and one result per site."""
    index = ModuleIndex(source)
    merged = _Plan()
    results = []
    for site in sites:
        result = SiteResult(site)
        plan = _Plan()
        try:
            if site.origin in ORM_ORIGINS:
                OrmSitePatcher(index, site, plan, result).run()
            else:
                _SitePatcher(index, site, plan, result).run()
            if merged.conflict(plan):
                raise Unfixable("another site in this file edits the same SQL or parameters: patch by hand")
        except Unfixable as exc:
            result.fixed, result.reason = False, str(exc)
        else:
            merged.merge(plan)
        results.append(result)
    if not merged.edits:
        return source, results
    module = index.module.visit(_Apply(merged.edits, index))
    if merged.needs_datetime and not index.imports_datetime_module:
        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "datetime", "datetime")
        AddImportsVisitor.add_needed_import(context, "datetime", "timezone")
        module = AddImportsVisitor(context).transform_module(module)
    return _splice(source, index.module, module) or module.code, results


def _splice(source: str, before: cst.Module, after: cst.Module) -> str | None:
    """The new source by replacing only the changed top-level statements' text (None: regenerate it all).

    Generating a whole module's code costs as much as parsing it; a file with one site in thousands of
    lines changes one statement. Each changed statement's old code must occur exactly once in the source.
    """
    if len(before.body) != len(after.body) or before.header is not after.header or before.footer is not after.footer:
        return None
    changed = [(old, new) for old, new in zip(before.body, after.body, strict=True) if old is not new]
    if 2 * len(changed) > len(before.body):  # most of the file changed: one full pass is cheaper
        return None
    spans: list[tuple[int, int, str]] = []
    for old, new in changed:
        old_code = before.code_for_node(old)
        start = source.find(old_code)
        if start < 0 or source.find(old_code, start + 1) >= 0:
            return None
        spans.append((start, start + len(old_code), after.code_for_node(new)))
    out, last = [], 0
    for start, end, text in sorted(spans):
        if start < last:
            return None
        out += [source[last:start], text]
        last = end
    return "".join(out) + source[last:]
