"""One JavaScript/TypeScript file: its bytes, its tree-sitter tree and the way back to line/column.

tree-sitter parses the four dialects guard reads: JavaScript (which includes JSX) for ``.js .mjs .cjs .jsx``,
TypeScript for ``.ts .mts .cts`` and TSX for ``.tsx`` (TypeScript's ``<T>x`` casts and JSX cannot share one
grammar). Grammars are loaded on first use and kept per process, so a tree without JS/TS files never loads
them.

tree-sitter speaks bytes and byte columns; guard reports 1-based lines and *character* columns like every
other front-end, so :class:`JsSource` converts, cheaply for the usual pure-ASCII file.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Tree

#: File suffix -> tree-sitter grammar name.
DIALECTS: dict[str, str] = {
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}
#: Directories that hold build output or installed dependencies in JS projects, never source worth reading.
BUILD_DIRS = frozenset({"node_modules", "dist", "build", ".next", ".nuxt", ".svelte-kit", ".output", "out", "coverage"})
#: A line longer than this in a file whose average line is also long marks a minified bundle.
MINIFIED_LINE = 1_000


def dialect_of(relpath: str) -> str | None:
    dot = relpath.rfind(".")
    return DIALECTS.get(relpath[dot:].lower()) if dot >= 0 else None


@functools.cache
def language(dialect: str) -> Language:
    """The grammar for ``dialect``. Imported here, not at module level, purely so that scanning a tree
    without JS/TS files never pays for loading the grammar libraries."""
    from tree_sitter import Language

    if dialect == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    raw = tree_sitter_typescript.language_tsx() if dialect == "tsx" else tree_sitter_typescript.language_typescript()
    return Language(raw)


@functools.cache
def _parser(dialect: str) -> Any:
    from tree_sitter import Parser  # see language(): grammar code loads only when JS/TS is scanned

    return Parser(language(dialect))


#: Node kinds the extractor and drivers look at; one query per file captures them all in one C-side pass
#: (a query per driver costs a tree walk each, and compiling many queries costs more than parsing a file).
INDEXED_KINDS = (
    "string",
    "template_string",
    "call_expression",
    "variable_declarator",
    "class_declaration",
    "function_declaration",
    "return_statement",
    "assignment_expression",
    "augmented_assignment_expression",
    "member_expression",
    "public_field_definition",
    "field_definition",
    "required_parameter",
    "optional_parameter",
)


@functools.cache
def _index_query(dialect: str) -> Any:
    from tree_sitter import Query  # see language()

    grammar = language(dialect)
    kinds = [kind for kind in INDEXED_KINDS if grammar.id_for_node_kind(kind, True)]
    return Query(grammar, " ".join(f"({kind}) @{kind}" for kind in kinds))


def _document_order(node: Node) -> tuple[int, int]:
    return node.start_byte, -node.end_byte


def is_minified(data: bytes) -> bool:
    """A bundle or minified file: long lines on average (source written by people has short ones)."""
    if len(data) < 4 * MINIFIED_LINE:
        return False
    lines = data.count(b"\n") + 1
    return len(data) / lines > MINIFIED_LINE / 2 and max(len(line) for line in data.split(b"\n")) > MINIFIED_LINE


@dataclass
class JsSource:
    """A parsed file. ``text(node)`` decodes a node's source; ``position(byte)`` gives ``(line, column)``."""

    relpath: str
    data: bytes
    dialect: str
    tree: Tree
    _line_starts: list[int] = field(default_factory=list)
    _ascii: bool = True
    _index: dict[str, list[Node]] | None = None
    _starts: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes, relpath: str, dialect: str | None = None) -> JsSource:
        dialect = dialect or dialect_of(relpath) or "javascript"
        tree = _parser(dialect).parse(data)
        starts = [0]
        index = data.find(b"\n")
        while index >= 0:
            starts.append(index + 1)
            index = data.find(b"\n", index + 1)
        return cls(relpath, data, dialect, tree, starts, data.isascii())

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def position(self, byte: int) -> tuple[int, int]:
        """1-based line and character column of a byte offset."""
        index = bisect.bisect_right(self._line_starts, byte) - 1
        start = self._line_starts[index]
        if self._ascii:
            return index + 1, byte - start + 1
        return index + 1, len(self.data[start:byte].decode("utf-8", "replace")) + 1

    def line_of(self, node: Node) -> int:
        return node.start_point[0] + 1

    def end_line_of(self, node: Node) -> int:
        return node.end_point[0] + 1

    def nodes(self, kind: str, within: Node | None = None) -> list[Node]:
        """Every node of ``kind`` (one of :data:`INDEXED_KINDS`) in document order, or those inside ``within``."""
        if self._index is None:
            from tree_sitter import QueryCursor  # see language(): grammar code loads only when JS/TS is scanned

            found = QueryCursor(_index_query(self.dialect)).captures(self.root)
            self._index = {name: sorted(nodes, key=_document_order) for name, nodes in found.items()}
            self._starts = {name: [n.start_byte for n in nodes] for name, nodes in self._index.items()}
        nodes = self._index.get(kind, [])
        if within is None:
            return nodes
        starts = self._starts[kind] if nodes else []
        first = bisect.bisect_left(starts, within.start_byte)
        last = bisect.bisect_left(starts, within.end_byte)
        return [n for n in nodes[first:last] if n.end_byte <= within.end_byte]

    def method_calls(self, names: frozenset[str] | set[str], within: Node | None = None) -> list[Node]:
        """Calls ``<expr>.<name>(...)`` for a name in ``names``."""
        found = []
        for call in self.nodes("call_expression", within):
            function = call.child_by_field_name("function")
            if function is not None and function.type == "member_expression":
                prop = function.child_by_field_name("property")
                if prop is not None and prop.text is not None and prop.text.decode() in names:
                    found.append(call)
        return found

    def parse_errors(self) -> list[int]:
        """Lines of the first few syntax errors (tree-sitter recovers; the rest of the file is still read)."""
        if not self.root.has_error:
            return []
        lines: list[int] = []
        stack = [self.root]
        while stack and len(lines) < 3:
            node = stack.pop()
            if not node.has_error:
                continue
            if node.is_error or node.is_missing:
                lines.append(node.start_point[0] + 1)
                continue
            stack.extend(reversed(node.children))
        return sorted(lines)
