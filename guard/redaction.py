"""Keep passwords out of everything guard prints.

libpq and psycopg echo parts of a bad connection string in their errors (``invalid percent-encoded token:
"S3cr3tPW%zz"``, a malformed URI printed whole), and those errors reach the terminal, CI logs and JSON reports.
So every DSN guard is about to use is remembered here (:func:`remember_dsn`, called by
:func:`guard.db.connect.connect`), and every error path passes its text through :func:`redact`, which removes
the remembered passwords and DSNs and, as a second net, anything shaped like a password in a URI or a
``password=`` keyword. The password is recovered from the DSN without trusting it to be well formed: the broken
ones are exactly those that leak.
"""

from __future__ import annotations

import re
import urllib.parse

MASK = "***"

#: ``scheme://user:password@`` — the password part, up to the last ``@`` before the host
_URI_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s\"']*:)(?P<secret>[^\s\"']*)(?P<at>@)", re.I)
#: ``password=value`` / ``password = 'quoted value'`` in keyword/value connection strings (and URI queries)
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'?|[^\s&'\"]+)", re.I)

_secrets: set[str] = set()
#: secrets shorter than this are masked only where they stand alone
_SHORT = 4


def remember_dsn(dsn: str | None) -> None:
    """Note the password (and the whole DSN, when it holds one) so :func:`redact` removes them from any text."""
    if not dsn:
        return
    found = [match.group("secret") for match in _URI_PASSWORD.finditer(dsn)]
    found += [match.group("secret").strip("'") for match in _KEYWORD_PASSWORD.finditer(dsn)]
    try:
        parsed = urllib.parse.urlsplit(dsn).password
    except ValueError:
        parsed = None
    if parsed:
        found.append(parsed)
    for secret in found:
        if secret:
            _secrets.update({secret, urllib.parse.unquote(secret)})
    if found:
        _secrets.add(dsn)


def redact(text: str) -> str:
    """``text`` without any remembered password or DSN, and with URI/keyword passwords masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if len(secret) >= _SHORT:
            text = text.replace(secret, MASK)
        elif secret:  # a very short password: whole tokens only, or every message would be mangled
            text = re.sub(rf"(?<![\w%]){re.escape(secret)}(?![\w%])", MASK, text)
    text = _URI_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), text)
    return _KEYWORD_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def forget_all() -> None:
    """Drop the remembered secrets (tests run many commands in one process)."""
    _secrets.clear()
