"""psql scripts: what ``psql -f script.sql`` would send to the server, as text Postgres' parser can read.

``.sql`` files in real repositories are psql scripts far more often than pure SQL. psql reads backslash
meta-commands anywhere outside literals, and several of them *end* the statement in the query buffer
without a ``;`` (``SELECT format(...) \\gexec``). Blanking them out would glue the next statement onto the
one before and lose it, so each meta-command becomes what it means for the server:

* ``\\g``, ``\\gx``, ``\\gexec``, ``\\gset``, ``\\gdesc``, ``\\crosstabview``, ``\\watch``, ``\\;`` send the
  buffer: a ``;`` at the backslash;
* ``\\copy t (cols) FROM 'file.csv' ...`` (the way operators backfill) is a client-side ``COPY ... FROM
  STDIN``: it becomes ``COPY t (cols) FROM STDIN;``, and its inline data rows (up to ``\\.``) are blanked;
* ``\\if``/``\\elif``/``\\else``/``\\endif`` keep every branch (any of them may run), ``\\set``
  records a variable, ``\\i``/``\\ir`` name an included file (returned, for the caller to follow), anything
  else (``\\connect``, ``\\echo``, ``\\pset``...) is blanked;
* variables ``:name``, ``:'name'``, ``:"name"`` take the value a ``\\set`` earlier in the script gave them
  (as is, as a literal, as an identifier), else they become holes (see :data:`guard.model.HOLE_PREFIX`), so
  a write into ``:"schema".jobs`` is dynamic SQL rather than a write to a table called ``schema``.

Lexing is Postgres' own scanner (``pglast.parser.scan`` through :class:`SqlText`), which already knows
quotes, dollar quotes, ``E''`` strings and comments, so a backslash or colon inside a literal is left alone
exactly as psql leaves it. The data rows of ``COPY ... FROM stdin;`` (pg_dump) and ``\\copy ... from stdin``
are found line by line first, since they are not SQL and would derail the scanner.

Replacements that change the length of the text are recorded as ``line_starts`` entries
(:class:`guard.model.SqlCandidate`), so every reported line and column is the one in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guard.model import HOLE_PREFIX
from guard.scan.sql.text import SqlText

#: Meta-commands that send the query buffer to the server: the statement ends where they start.
SENDS_BUFFER = frozenset({"g", "gx", "gexec", "gset", "gdesc", "crosstabview", "watch", ";"})
#: Meta-commands that read another script into this one.
INCLUDES = frozenset({"i", "ir", "include", "include_relative"})
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_BACKSLASH = "ASCII_92"
_COLON = "ASCII_58"
_SEMICOLON = "ASCII_59"
_OPEN_SQUARE = "ASCII_91"
_CLOSE_SQUARE = "ASCII_93"


@dataclass(frozen=True)
class Include:
    """A ``\\i``/``\\ir`` of another script: the path as written and whether it is relative to this file."""

    path: str
    relative_to_script: bool
    line: int


@dataclass
class PsqlScript:
    """A psql script as server SQL. ``line_starts`` maps offsets of ``text`` to file positions (empty when
    every offset is where it was); ``gexec`` holds ``(start, stop)`` of each query whose result rows psql
    runs as statements (``\\gexec``)."""

    text: str
    line_starts: tuple[tuple[int, int, int], ...] = ()
    includes: list[Include] = field(default_factory=list)
    gexec: list[tuple[int, int]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def may_be_psql(text: str) -> bool:
    """Cheap test: psql syntax needs a backslash or a ``:`` (``::`` casts aside) somewhere."""
    if "\\" in text:
        return True
    position = text.find(":")
    while position >= 0:
        following = text[position + 1 : position + 2]
        starts_name = bool(following) and (following in "'\"" or following in _WORD_CHARS)
        if starts_name and (position == 0 or text[position - 1] != ":"):
            return True
        position = text.find(":", position + 1)
    return False


def read_psql(text: str) -> PsqlScript:
    """The server SQL of psql script ``text`` (see the module docstring). Never raises."""
    if not may_be_psql(text):
        return PsqlScript(text)
    edits = _Edits(text)
    _blank_copy_data(text, edits)
    blanked = edits.apply_same_length()
    return _Reader(blanked, edits).read()


class _Edits:
    """Replacements ``(start, stop, new text)`` over the original text, applied in one pass at the end."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[tuple[int, int, str]] = []

    def replace(self, start: int, stop: int, new: str) -> None:
        self.items.append((start, stop, new))

    def blank(self, start: int, stop: int) -> None:
        """Spaces for ``[start, stop)``, newlines kept (line numbers stay)."""
        chunk = self.text[start:stop]
        self.replace(start, stop, "".join(ch if ch in "\r\n" else " " for ch in chunk))

    def apply_same_length(self) -> str:
        """The text with the (same-length) edits so far applied; they stay recorded for :meth:`render`."""
        return self._splice(sorted(self.items))[0] if self.items else self.text

    def render(self) -> tuple[str, tuple[tuple[int, int, int], ...]]:
        return self._splice(sorted(self.items))

    def _splice(self, items: list[tuple[int, int, str]]) -> tuple[str, tuple[tuple[int, int, int], ...]]:
        text = self.text
        pieces: list[str] = []
        entries: list[tuple[int, int, int]] = []
        shifted = False
        cursor = 0
        out = 0
        line, column = 1, 1
        for start, stop, new in items:
            if start < cursor:  # overlapping edits cannot happen by construction; never corrupt the text
                continue
            unchanged = text[cursor:start]
            pieces.append(unchanged)
            out += len(unchanged)
            line, column = _advance(unchanged, line, column)
            if len(new) != stop - start:
                shifted = True
            if shifted:
                entries.append((out, line, column))
            pieces.append(new)
            out += len(new)
            line, column = _advance(text[start:stop], line, column)
            if shifted:
                entries.append((out, line, column))
            cursor = stop
        pieces.append(text[cursor:])
        starts = tuple([(0, 1, 1), *entries]) if shifted else ()
        return "".join(pieces), starts


def _advance(chunk: str, line: int, column: int) -> tuple[int, int]:
    newlines = chunk.count("\n")
    if newlines:
        return line + newlines, len(chunk) - chunk.rfind("\n")
    return line, column + len(chunk)


def _blank_copy_data(text: str, edits: _Edits) -> None:
    """Blank the inline data of ``COPY ... FROM stdin;`` and ``\\copy ... from stdin`` up to the ``\\.`` line."""
    lowered = text.lower()
    if "stdin" not in lowered:
        return
    position = 0
    length = len(text)
    while position < length:
        end = text.find("\n", position)
        end = length if end < 0 else end
        line = text[position:end]
        position = end + 1
        if "stdin" in line.lower() and _starts_copy_data(line):
            data_end = _data_end(text, position)
            edits.blank(position, data_end)
            position = data_end


def _starts_copy_data(line: str) -> bool:
    """``COPY t FROM stdin;`` (pg_dump) or ``\\copy t FROM stdin``, read with Postgres' scanner."""
    stripped = line.strip()
    meta = stripped.startswith("\\")
    tokens = SqlText(stripped[1:] if meta else stripped).tokens
    names = [token.name for token in tokens]
    if not names or names[0] != "COPY" or "FROM" not in names:
        return False
    after_from = names[names.index("FROM") + 1 : names.index("FROM") + 2]
    if after_from != ["STDIN"] and not (meta and after_from == ["IDENT"]):
        return False
    if meta:
        word = stripped[1:][tokens[names.index("FROM") + 1].start :].split()[0].lower()
        return word in ("stdin", "pstdin") if after_from == ["IDENT"] else True
    return names[-1] == _SEMICOLON


def _data_end(text: str, position: int) -> int:
    """Offset just past the ``\\.`` line ending COPY data that starts at ``position`` (end of text if none)."""
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        if text[position:end].rstrip("\r") == "\\.":
            return end
        position = end + 1
    return len(text)


class _Reader:
    """Walks the scanner tokens of the (data-blanked) text and records what each psql construct becomes."""

    def __init__(self, text: str, edits: _Edits) -> None:
        self.text = text
        self.sql = SqlText(text)
        self.edits = edits
        self.script = PsqlScript(text)
        self.statement_start: int | None = None

    def read(self) -> PsqlScript:
        tokens = self.sql.tokens
        index = 0
        square = 0
        while index < len(tokens):
            token = tokens[index]
            name = token.name
            if name == _BACKSLASH:
                index = self._meta_command(index)
                continue
            if self.statement_start is None:
                self.statement_start = token.start
            if name == _SEMICOLON:
                self.statement_start = None
            elif name == _OPEN_SQUARE:
                square += 1
            elif name == _CLOSE_SQUARE:
                square = max(square - 1, 0)
            elif name == _COLON:
                index = self._variable(index, square)
                continue
            index += 1
        text, starts = self.edits.render()
        self.script.text = text
        self.script.line_starts = starts
        if starts:
            self.script.gexec = [(self._out(start), self._out(stop)) for start, stop in self.script.gexec]
        return self.script

    def _out(self, offset: int) -> int:
        """Offset in the rendered text of an offset in the original text (outside any replacement)."""
        shift = 0
        for start, stop, new in sorted(self.edits.items):
            if stop > offset:
                break
            shift += len(new) - (stop - start)
        return offset + shift

    # -- meta-commands ------------------------------------------------------------------------------------

    def _meta_command(self, index: int) -> int:
        """Handle the meta-command whose backslash is token ``index``; returns the first token after its line."""
        tokens = self.sql.tokens
        backslash = tokens[index]
        line_end = self.text.find("\n", backslash.start)
        line_end = len(self.text) if line_end < 0 else line_end
        if self.text[line_end - 1 : line_end] == "\r":
            line_end -= 1
        command, argument_start = self._command_name(backslash.start + 1, line_end)
        arguments = self.text[argument_start:line_end]
        after = self.sql.index_at(line_end)
        if command in SENDS_BUFFER:
            if self.statement_start is not None and command == "gexec":
                self.script.gexec.append((self.statement_start, backslash.start))
            self.edits.replace(backslash.start, backslash.start + 1, ";")
            self.edits.blank(backslash.start + 1, line_end)
            self.statement_start = None
            return after
        if command == "copy":
            self._copy(backslash.start, argument_start, line_end)
            self.statement_start = None
            return after
        if command == "set":
            self._set(arguments)
        elif command in INCLUDES:
            path = _first_argument(arguments)
            if path:
                line = self.text.count("\n", 0, backslash.start) + 1
                self.script.includes.append(Include(path, command in ("ir", "include_relative"), line))
        self.edits.blank(backslash.start, line_end)
        return after

    def _command_name(self, start: int, line_end: int) -> tuple[str, int]:
        """``gexec`` of ``\\gexec``: letters/digits/underscores right after the backslash (``\\;`` is ``;``)."""
        if self.text[start : start + 1] in (";", "\\"):
            return self.text[start], start + 1
        stop = start
        while stop < line_end and self.text[stop] in _WORD_CHARS:
            stop += 1
        return self.text[start:stop].lower(), stop

    def _set(self, arguments: str) -> None:
        """``\\set name value``: the value psql stores (quoted parts unquoted, pieces concatenated)."""
        parts = arguments.split(None, 1)
        if not parts:
            return
        name, rest = parts[0], parts[1] if len(parts) > 1 else ""
        value = _psql_value(rest.strip())
        if value is None:
            self.script.variables.pop(name, None)
        else:
            self.script.variables[name] = value

    def _copy(self, backslash: int, argument_start: int, line_end: int) -> None:
        """``\\copy target FROM source [options]`` -> ``COPY target FROM STDIN;`` (``TO`` -> ``TO STDOUT``)."""
        arguments = self.text[argument_start:line_end]
        direction = _copy_direction(arguments)
        if direction is None:
            self.edits.blank(backslash, line_end)
            return
        keyword, offset = direction
        keyword_stop = argument_start + offset + len(keyword)
        self.edits.replace(backslash, argument_start, "COPY")
        stream = " STDIN;" if keyword.upper() == "FROM" else " STDOUT;"
        self.edits.replace(keyword_stop, line_end, stream)
        self._variables_in(argument_start, keyword_stop)

    def _variables_in(self, start: int, stop: int) -> None:
        index = self.sql.index_at(start)
        while index < len(self.sql.tokens) and self.sql.tokens[index].start < stop:
            if self.sql.tokens[index].name == _COLON:
                index = self._variable(index, 0)
            else:
                index += 1

    # -- variables -------------------------------------------------------------------------------------------

    def _variable(self, index: int, square: int) -> int:
        """``:name`` / ``:'name'`` / ``:"name"`` at token ``index``: its value, or a hole. Returns the next index."""
        tokens = self.sql.tokens
        colon = tokens[index]
        if index + 1 >= len(tokens) or tokens[index + 1].start != colon.end + 1:
            return index + 1
        following = tokens[index + 1]
        word = self.text[following.start : following.end + 1]
        if following.name == "SCONST" and word.startswith("'"):
            name, style = word[1:-1], "literal"
        elif following.name == "IDENT" and word.startswith('"'):
            name, style = word[1:-1], "identifier"
        elif word[:1].isalpha() or word[:1] == "_":
            name, style = word, "value"
        else:
            return index + 1
        if not all(ch in _WORD_CHARS for ch in name) or not name:
            return index + 1
        value = self.script.variables.get(name)
        if value is None and square:
            return index + 2  # ``arr[lo:hi]`` is a slice unless ``hi`` is a psql variable
        self.edits.replace(colon.start, following.end + 1, _substitute(name, value, style))
        return index + 2


def _substitute(name: str, value: str | None, style: str) -> str:
    if value is None:
        return f"{HOLE_PREFIX}{name}" if style != "literal" else "'" + f"{HOLE_PREFIX}{name}" + "'"
    if style == "literal":
        return "'" + value.replace("'", "''") + "'"
    if style == "identifier":
        return '"' + value.replace('"', '""') + '"'
    return value


def _psql_value(raw: str) -> str | None:
    """What ``\\set`` stores for ``raw``: quoted pieces unquoted, adjacent pieces joined; None for a
    backquoted (shell) value, which guard cannot know."""
    if "`" in raw:
        return None
    value: list[str] = []
    position = 0
    while position < len(raw):
        ch = raw[position]
        if ch == "'":
            close = position + 1
            piece: list[str] = []
            while close < len(raw):
                if raw[close] == "'" and raw[close + 1 : close + 2] == "'":
                    piece.append("'")
                    close += 2
                elif raw[close] == "'":
                    break
                else:
                    piece.append(raw[close])
                    close += 1
            value.append("".join(piece))
            position = close + 1
        elif ch.isspace():
            position += 1
        else:
            stop = position
            while stop < len(raw) and not raw[stop].isspace() and raw[stop] != "'":
                stop += 1
            value.append(raw[position:stop])
            position = stop
    return "".join(value)


def _first_argument(arguments: str) -> str:
    stripped = arguments.strip()
    if stripped[:1] in ("'", '"'):
        close = stripped.find(stripped[0], 1)
        return stripped[1:close] if close > 0 else stripped[1:]
    return stripped.split()[0] if stripped else ""


def _copy_direction(arguments: str) -> tuple[str, int] | None:
    """``("FROM" | "TO", offset)`` of the direction keyword of ``\\copy`` arguments, outside brackets."""
    tokens = SqlText(arguments).tokens
    depth = 0
    for token in tokens:
        if token.name == "ASCII_40":
            depth += 1
        elif token.name == "ASCII_41":
            depth -= 1
        elif depth == 0 and token.name in ("FROM", "TO"):
            return arguments[token.start : token.end + 1], token.start
    return None
