"""Python source as every stage of the Python front-end reads it: decoded, newlines normalised, parsed.

This module is a leaf (it imports nothing of guard's but the model) so that the extractor, the reader of other
modules' constants and the tree's module index can all share one decoding and one parse without importing each
other: the decode/normalise/parse rules are the one thing they must agree on, or positions drift apart.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings

from guard.model import Diagnostic
from guard.scan.frontends.python.newer import downgrade_source


def decode_source(data: bytes, relpath: str) -> tuple[str, list[Diagnostic]]:
    """Decode Python source like the interpreter does (BOM, PEP 263 cookie, UTF-8); never raises.

    Undecodable bytes fall back to Latin-1 (every byte decodes, positions stay right) with a diagnostic.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return data.decode("latin-1"), [Diagnostic(relpath, 1, "decode-error", f"{exc}; read as Latin-1")]
    try:
        return data.decode(encoding), []
    except (UnicodeDecodeError, LookupError) as exc:
        line = data.count(b"\n", 0, exc.start) + 1 if isinstance(exc, UnicodeDecodeError) else 1
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else f"unknown encoding {encoding!r}"
        message = f"not valid {encoding} ({reason}); read as Latin-1, text may be off"
        return data.decode("latin-1"), [Diagnostic(relpath, line, "decode-error", message)]


def normalize_newlines(text: str) -> str:
    """``ast`` positions count ``\\r\\n`` and ``\\r`` as one line break; so must every offset computed here."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_source(text: str, relpath: str) -> ast.Module | BaseException:
    """``ast.parse`` of already normalised text, without its warnings (invalid escapes are the user's business)
    and without raising: the exception is returned, so callers can report why and fall back."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=relpath)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return exc


def parse_newest(text: str, relpath: str) -> tuple[str, ast.Module | BaseException]:
    """Parse already normalised text; a file written for a newer Python than this one (PEP 701 f-strings on
    3.10/3.11) is rewritten for this interpreter's grammar first (:mod:`.newer`), lines kept. Returns the text
    that was parsed (positions refer to it) and the tree or the original exception."""
    tree = parse_source(text, relpath)
    if isinstance(tree, SyntaxError):
        rewritten = downgrade_source(text)
        if rewritten is not None:
            newer = parse_source(rewritten, relpath)
            if isinstance(newer, ast.Module):
                return rewritten, newer
    return text, tree


def parse_module(text: str, relpath: str) -> ast.Module | None:
    """The module's AST, or None when it does not parse (for readers that only want what parses)."""
    tree = parse_newest(normalize_newlines(text), relpath)[1]
    return tree if isinstance(tree, ast.Module) else None


def error_line(exc: BaseException) -> int:
    """The line a parse failure points at (1 when it does not say)."""
    return getattr(exc, "lineno", None) or 1


def describe_error(exc: BaseException) -> str:
    """A parse failure in words, with its line for syntax errors."""
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} (line {exc.lineno})"
    return str(exc) or type(exc).__name__
