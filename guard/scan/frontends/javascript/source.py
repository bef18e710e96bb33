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


@functools.cache
def _query(dialect: str, pattern: str) -> Any:
    from tree_sitter import Query  # see language()

    return Query(language(dialect), pattern)


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

    def captures(self, pattern: str, node: Node | None = None) -> dict[str, list[Node]]:
        """Nodes matching a tree-sitter query pattern, by capture name (the matching runs in C)."""
        from tree_sitter import QueryCursor  # see language(): grammar code loads only when JS/TS is scanned

        found = QueryCursor(_query(self.dialect, pattern)).captures(node or self.root)
        return {name: sorted(nodes, key=_document_order) for name, nodes in found.items()}

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
