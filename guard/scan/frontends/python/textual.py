"""Best-effort SQL extraction from Python files that do not parse (Python 2 code, syntax errors).

The stdlib tokenizer still reads most such files (``print "x"`` is a NAME then a STRING), so its STRING
tokens, with adjacent ones joined as implicit concatenation, are the candidates. When even the tokenizer gives
up (an unterminated triple quote, inconsistent dedent), quoted regions are found by a plain scan. Candidates
carry ``best_effort=True`` and origin ``textual``; values built at run time cannot be known here.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from collections.abc import Iterator

from guard.model import SqlCandidate
from guard.scan.frontends.python.strings import (
    Fragment,
    Part,
    SourceText,
    TextRun,
    Verbatim,
    concat,
    decode_body,
    decode_fstring_body,
    hole,
    lex_string_tokens,
    render_candidate,
)

#: A write or DDL keyword followed by more text: the cheapest test that a string may be a statement we need.
_SQL_WORD = re.compile(r"\b(?:insert|copy|create|alter|drop|merge|upsert)\s+[\w\"(]", re.IGNORECASE)
#: Text that starts (after blanks and SQL comments) like a statement: used for strings handed to loggers.
_SQL_START = re.compile(
    r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(?\s*(?:insert|copy|create|alter|drop|merge|upsert|with|do)\b",
    re.IGNORECASE | re.DOTALL,
)
_SKIPPED_TOKENS = frozenset({tokenize.NL, tokenize.COMMENT})
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_FSTRING_TOKENS = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, name)
)


def looks_like_sql(text: str) -> bool:
    return _SQL_WORD.search(text) is not None


def starts_like_sql(text: str) -> bool:
    return _SQL_START.match(text) is not None


def extract_textual(text: str, relpath: str) -> list[SqlCandidate]:
    """Candidates from the string literals of a file that ``ast`` cannot parse. Never raises."""
    src = SourceText(text)
    try:
        spans = list(_token_spans(src))
    except (tokenize.TokenError, SyntaxError, ValueError):
        spans = list(_scanned_spans(text))
    candidates: list[SqlCandidate] = []
    for start, end in spans:
        fragment = _decode(src, start, end)
        if fragment is None or not looks_like_sql(fragment.text):
            continue
        candidate = render_candidate(fragment, relpath, "textual", "")
        candidates.append(dataclasses.replace(candidate, best_effort=True))
    return candidates


def _token_spans(src: SourceText) -> Iterator[tuple[int, int]]:
    """Offsets of each run of adjacent string tokens, skipping strings that form a statement on their own.

    Since Python 3.12 an f-string is a sequence of tokens (``FSTRING_START`` ... ``FSTRING_END``, with the
    replacement fields' tokens in between); it is kept whole.
    """
    tokens = tokenize.generate_tokens(io.StringIO(src.text).readline)
    run: tuple[int, int] | None = None
    run_starts_line = False
    previous = tokenize.NEWLINE
    fstring_depth = 0
    for token in tokens:
        kind = token.type
        if kind == _FSTRING_START:
            fstring_depth += 1
        elif kind == _FSTRING_END:
            fstring_depth -= 1
        if kind == tokenize.STRING or kind in _FSTRING_TOKENS or fstring_depth > 0:
            start = src.line_offsets[token.start[0] - 1] + token.start[1]
            end = src.line_offsets[token.end[0] - 1] + token.end[1]
            if run is None:
                run = (start, end)
                run_starts_line = previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL)
            else:
                run = (run[0], end)
            continue
        if kind in _SKIPPED_TOKENS and run is not None:
            continue
        if run is not None:
            bare_statement = run_starts_line and kind in (tokenize.NEWLINE, tokenize.ENDMARKER)
            if not bare_statement:  # docstrings and other no-op strings are not SQL
                yield run
            run = None
        previous = kind
    if run is not None:
        yield run


def _scanned_spans(text: str) -> Iterator[tuple[int, int]]:
    """Quoted regions found without the tokenizer; comments are skipped, unterminated quotes end at EOF."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        if ch not in "'\"":
            i += 1
            continue
        start = i
        while start > 0 and text[start - 1] in "rRbBuUfF" and i - start < 2:
            start -= 1
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start = i  # the letters belong to an identifier, not a prefix
        quote = ch * 3 if text.startswith(ch * 3, i) else ch
        close = _closing(text, i + len(quote), quote)
        end = n if close < 0 else close + len(quote)
        yield start, end
        i = end


def _closing(text: str, pos: int, quote: str) -> int:
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text.startswith(quote, pos):
            return pos
        elif len(quote) == 1 and text[pos] == "\n":
            return -1
        else:
            pos += 1
    return -1


def _decode(src: SourceText, start: int, end: int) -> Fragment | None:
    """The value of the string tokens in ``[start, end)``; f-string fields become holes, bytes are skipped."""
    tokens = lex_string_tokens(src.text, start, end)
    if tokens is None:  # unterminated: take the body as written
        body = src.text[start:end].lstrip("rRbBuUfF")
        quote_length = 3 if body[:3] in ('"""', "'''") else 1
        tokens_text = body[quote_length:]
        positions_start = end - len(tokens_text)
        runs = decode_body(src, positions_start, end, raw=True)
        return _fragment_from_runs([runs])
    pieces: list[Fragment] = []
    for token in tokens:
        if "b" in token.prefix:
            return None
        raw = "r" in token.prefix
        if "f" in token.prefix:
            items = decode_fstring_body(src, token.body_start, token.body_end, raw)
        else:
            items = list(decode_body(src, token.body_start, token.body_end, raw))
        for item in items:
            if item is None:
                pieces.append(hole(src.position(token.body_start)))
            else:
                fragment = _fragment_from_runs([[item]])
                if fragment is not None:
                    pieces.append(fragment)
    return concat(pieces, "textual") if pieces else None


def _fragment_from_runs(groups: list[list[TextRun]]) -> Fragment | None:
    runs = [run for group in groups for run in group]
    if not runs:
        return None
    text = "".join(run.text for run in runs)
    return Fragment((Part(text, Verbatim(lambda: runs)),), "textual")
