"""read_source reads exactly the file's bytes up to the size limit, whatever its size against fstat's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guard.scan import reading
from guard.scan.reading import Unreadable, read_source


@pytest.mark.parametrize("size", [0, 1, 4095, 65_536, 65_537, 300_001])
def test_reads_every_byte(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "f.py").write_bytes(data)
    assert read_source(str(tmp_path / "f.py")) == data
    assert read_source(str(tmp_path / "f.py"), max_size=max(size, 1)) == data


@pytest.mark.parametrize("size", [10, 200_000])
def test_one_byte_over_the_limit_is_refused(tmp_path: Path, size: int) -> None:
    (tmp_path / "f.py").write_bytes(b"x" * (size + 1))
    with pytest.raises(Unreadable) as caught:
        read_source(str(tmp_path / "f.py"), max_size=size)
    assert caught.value.kind == "skipped-large"


def test_file_bigger_than_fstat_said_is_read_to_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grew between fstat and read: the first read is sized from fstat, the rest still comes."""
    data = os.urandom(200_000)
    (tmp_path / "f.py").write_bytes(data)
    real_fstat = os.fstat

    def stale_fstat(descriptor: int) -> os.stat_result:
        info = real_fstat(descriptor)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))  # st_size is field 6

    monkeypatch.setattr(reading.os, "fstat", stale_fstat)
    assert read_source(str(tmp_path / "f.py")) == data
    assert read_source(str(tmp_path / "f.py"), max_size=200_000) == data
    with pytest.raises(Unreadable):
        read_source(str(tmp_path / "f.py"), max_size=199_999)


def test_missing_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(Unreadable) as caught:
        read_source(str(tmp_path / "absent.py"))
    assert caught.value.kind == "io-error"


def test_descriptors_are_closed(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_bytes(b"x = 1\n")
    os.mkfifo(tmp_path / "pipe.py")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        read_source(str(tmp_path / "f.py"))
        with pytest.raises(Unreadable):
            read_source(str(tmp_path / "pipe.py"))
        with pytest.raises(Unreadable):
            read_source(str(tmp_path / "f.py"), max_size=2)
    assert len(os.listdir("/proc/self/fd")) == before
