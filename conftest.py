"""With guard installed non-editable, the tests run against the installed package, also under ``python -m pytest``.

``python -m pytest`` puts the current directory first on ``sys.path``; from the repository root, ``import guard``
would then find the source tree's ``guard/``, which is not the package that gets installed: ``codemods/``,
``migrations/`` and ``triggers/`` live at the top level and become ``guard.codemods``, ``guard.migrations`` and
``guard.triggers`` only in the installed package (pyproject's ``package-dir``), so the source tree cannot import
them. When an installed ``guard`` is found elsewhere on the path, the repository root is dropped from
``sys.path`` before anything imports guard. An editable install (``scripts/bootstrap.sh``) is not found that way
(it is served by its own import hook, which maps those folders) and is left alone.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _elsewhere(entry: str) -> bool:
    try:
        return Path(entry or ".").resolve() != ROOT
    except OSError:
        return True


_OTHERS = [entry for entry in sys.path if _elsewhere(entry)]
if "guard" not in sys.modules and PathFinder.find_spec("guard", _OTHERS) is not None:
    sys.path[:] = _OTHERS
