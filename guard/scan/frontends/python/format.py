"""Apply Python's ``%`` operator and ``str.format`` (also ``psycopg.sql.SQL.format``) to fragments.

The result keeps the positions of the format string's characters; substituted values bring their own
positions, and anything unknown becomes a hole at the place of its replacement field. ``%s`` placeholders in a
string that is never ``%``-formatted are left alone by the caller: this module only runs when the operator is
really applied, which is also the only time ``%%`` means ``%``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from guard.scan.frontends.python.strings import (
    Fragment,
    Part,
    Where,
    concat,
    hole,
    pinned,
    slice_parts,
    strongest_origin,
)

#: An argument's value: a fragment, or None when it is unknown (it becomes a hole).
Arg = Fragment | None

_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsab%])"
)


class _Builder:
    """Collects the output parts of one formatting operation."""

    def __init__(self, fmt: Fragment) -> None:
        self.fmt = fmt
        self.parts: list[Part] = []
        self.dynamic = fmt.dynamic
        self.origins = [fmt.origin, "format"]
        self.last = 0

    def keep_until(self, offset: int) -> None:
        if offset > self.last:
            self.parts.extend(slice_parts(self.fmt.parts, self.last, offset))
        self.last = offset

    def substitute(self, start: int, end: int, value: Arg, conversion: str = "") -> None:
        self.keep_until(start)
        anchor = slice_parts(self.fmt.parts, start, start + 1)
        where: Where = anchor[0] if anchor else (1, 1)
        if value is not None and conversion == "r" and not value.dynamic:
            value = pinned(repr(value.text), where)
        if value is None:
            value = hole(where)
        self.parts.extend(value.parts)
        self.dynamic = self.dynamic or value.dynamic
        self.origins.append(value.origin)
        self.last = end

    def literal(self, start: int, end: int, keep: int) -> None:
        """Replace ``text[start:end]`` by its first ``keep`` characters (``%%`` -> ``%``, ``{{`` -> ``{``)."""
        self.keep_until(start)
        self.parts.extend(slice_parts(self.fmt.parts, start, start + keep))
        self.last = end

    def result(self) -> Fragment:
        self.keep_until(len(self.fmt.text))
        return Fragment(tuple(self.parts), strongest_origin(self.origins), self.dynamic, context=self.fmt.context)


def percent_format(fmt: Fragment, positional: Sequence[Arg] | None, named: Mapping[str, Arg] | None) -> Fragment:
    """``fmt % args``. ``positional``/``named`` None means the arguments are unknown: every spec is a hole."""
    builder = _Builder(fmt)
    index = 0
    for match in _PERCENT_SPEC.finditer(fmt.text):
        if match.group("conv") == "%":
            builder.literal(match.start(), match.end(), 1)
            continue
        key = match.group("key")
        value: Arg = None
        if key is not None and named is not None:
            value = named.get(key)
        elif key is None and positional is not None and index < len(positional):
            value = positional[index]
        index += 1
        builder.substitute(match.start(), match.end(), value, "r" if match.group("conv") in "ra" else "")
    return builder.result()


def brace_format(fmt: Fragment, positional: Sequence[Arg] | None, named: Mapping[str, Arg] | None) -> Fragment:
    """``fmt.format(*positional, **named)``; unknown or computed fields (``{0.attr}``, ``{x[1]}``) become holes."""
    text = fmt.text
    builder = _Builder(fmt)
    auto = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch not in "{}":
            i += 1
            continue
        if text.startswith(ch * 2, i):
            builder.literal(i, i + 2, 1)
            i += 2
            continue
        if ch == "}":
            i += 1
            continue
        close = _field_end(text, i + 1)
        field = text[i + 1 : close]
        name, conversion, has_spec = _split_field(field)
        value: Arg = None
        if name == "":
            if positional is not None and auto < len(positional):
                value = positional[auto]
            auto += 1
        elif name.isdigit():
            if positional is not None and int(name) < len(positional):
                value = positional[int(name)]
        elif name.isidentifier() and named is not None:
            value = named.get(name)
        if has_spec:
            value = None  # padding or precision: the rendered text cannot be known reliably
        builder.substitute(i, min(close + 1, n), value, conversion)
        i = close + 1
    return builder.result()


def _field_end(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(text)


def _split_field(field: str) -> tuple[str, str, bool]:
    """(field name, conversion, has a format spec) of a replacement field."""
    name = field
    for stop in "!:":
        if stop in name:
            name = name.split(stop, 1)[0]
    rest = field[len(name) :]
    conversion = rest[1:2] if rest.startswith("!") else ""
    spec = rest.split(":", 1)[1] if ":" in rest else ""
    return name, conversion, bool(spec.strip())


def join_items(unknown: bool) -> Callable[[Fragment, Sequence[Arg]], Fragment]:
    def join(separator: Fragment, items: Sequence[Arg]) -> Fragment:
        pieces: list[Fragment] = []
        for index, item in enumerate(items):
            if index:
                pieces.append(separator)
            pieces.append(item if item is not None else hole(separator.parts[0] if separator.parts else (1, 1)))
        if not pieces:
            return Fragment((), "concat", unknown)
        return concat(pieces, "concat")

    return join
