"""Read one file for the scanner without trusting it to still be what discovery saw.

Between discovery and reading, a file can be replaced by a FIFO (opening one for reading blocks until a writer
comes: the scan would hang), by a device, or grow past ``max_file_size``. So a file is opened non-blocking, the
*opened* descriptor is checked to be a regular file, and at most ``max_size + 1`` bytes are read. Text stored
as UTF-16 or UTF-32 with a byte-order mark (Windows tools write it) is re-encoded as UTF-8, which every
front-end reads, instead of being mistaken for binary because of its NUL bytes.
"""

from __future__ import annotations

import codecs
import os
import stat

#: byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "directory"),
)


class Unreadable(Exception):
    """The file was not read; ``kind`` is the diagnostic kind and ``str()`` the message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def special_kind(mode: int) -> str | None:
    """What a non-regular file is (``FIFO (named pipe)``, ``socket`` ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "special file")


def read_source(path: str, max_size: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_size`` bytes; else :class:`Unreadable`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise Unreadable("io-error", f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            kind = special_kind(os.fstat(descriptor).st_mode)
            if kind is not None:
                raise Unreadable("skipped-special", f"is a {kind}, not a regular file; not read")
            data = handle.read(-1 if max_size is None else max_size + 1)
        except OSError as exc:
            raise Unreadable("io-error", f"cannot read: {exc.strerror or exc}") from None
    if max_size is not None and len(data) > max_size:
        raise Unreadable(
            "skipped-large",
            f"grew past max_file_size ({max_size} bytes) after discovery; not scanned (re-run, or raise max_file_size)",
        )
    return data


def as_utf8(data: bytes) -> bytes:
    """UTF-16/UTF-32 text with a byte-order mark, re-encoded as UTF-8 (mark dropped); other bytes unchanged."""
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return data.decode(codec).encode("utf-8")
            except UnicodeError as exc:
                raise Unreadable(
                    "decode-error", f"starts with a {codec.upper()} byte-order mark but is not valid {codec} ({exc})"
                ) from None
    return data
