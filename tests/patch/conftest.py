"""Fixtures shared by the --apply tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_patch_apply import SOURCE


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root holding app.py with one INSERT that leaves created_at to its default."""
    base = tmp_path / "repo"
    base.mkdir()
    (base / "app.py").write_text(SOURCE)
    return base
