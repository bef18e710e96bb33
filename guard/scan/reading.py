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

#: read size once a file turned out bigger than ``fstat`` said
_CHUNK = 1 << 16

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
    try:
        info = os.fstat(descriptor)
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise Unreadable("skipped-special", f"is a {kind}, not a regular file; not read")
        data = _read_upto(descriptor, info.st_size, None if max_size is None else max_size + 1)
    except OSError as exc:
        raise Unreadable("io-error", f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    if max_size is not None and len(data) > max_size:
        raise Unreadable(
            "skipped-large",
            f"grew past max_file_size ({max_size} bytes) after discovery; not scanned (re-run, or raise max_file_size)",
        )
    return data


def _read_upto(descriptor: int, size: int, limit: int | None) -> bytes:
    """Up to ``limit`` bytes (all if None) of an open file whose ``fstat`` said ``size``, until end of file.

    Plain ``os.read`` sized from ``fstat`` instead of a buffered ``read(limit)``: that one allocates the whole
    limit (``max_file_size`` + 1, megabytes) for every file before shrinking it, which cost more than the read
    itself on a tree of small modules. A file that grew or shrank since ``fstat`` is still read to its end."""
    chunks: list[bytes] = []
    total = 0
    want = size + 1  # one byte more than expected: a file that grew shows it without another round trip
    while limit is None or total < limit:
        chunk = os.read(descriptor, want if limit is None else min(want, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = _CHUNK
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
