"""A non-editable install (``pip install .``) is what the tests exercise, even under ``python -m pytest`` from the
repository root, where the source tree's ``guard/`` (without ``guard.codemods``) would otherwise shadow it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_python_m_pytest_from_the_root_collects_the_codemod_tests_with_a_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO_ROOT), "-w", str(wheels)]
    subprocess.run(build, check=True, capture_output=True)
    [wheel] = wheels.glob("pg_schema_guard-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    # this environment's dependencies (pytest, libcst...) as a plain path entry: its editable hook is not run
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    collect = [str(python), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    collect += ["tests/patch/test_patch_python.py", "tests/architecture/test_toy_driver.py"]
    result = subprocess.run(collect, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "test_patch_python.py::" in result.stdout and "error" not in result.stdout.lower()
    where = subprocess.run(
        [str(python), "-c", "import guard.codemods.add_timestamp as m; print(m.__file__)"],
        cwd=tmp_path, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert where.startswith(purelib)
