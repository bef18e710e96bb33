"""One name, one meaning: a public top-level class or function name is defined in one module of guard/ and
codemods/ only.

The criterion is deliberately syntactic (the same top-level name defined in two modules), with two principled
exceptions, both cases where the name *is* the shared meaning:

* plug-in roles: modules of one plug-in package implement the same interface under the same name (every rule
  module's ``check``, every report format's ``render``, every JavaScript driver's ``extract``, every front-end's
  byte prefilter ``may_contain_sql``). A role name is allowed only inside its package;
* click commands: a function decorated as a command is named after the command it implements (``guard scan``'s
  ``scan`` calls the engine's ``scan``), a name the CLI fixes, not the code.

Private names (leading underscore) are module-local by convention and not checked.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("guard", "codemods")
#: role name -> the package (path prefix, relative to the repository) its plug-in modules live in.
ROLES = {
    "check": "guard/scan/rules/",
    "render": "guard/report/",
    "extract": "guard/scan/frontends/javascript/drivers/",
    "may_contain_sql": "guard/scan/frontends/",
}


def _is_command(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("command", "group"):
            return True
    return False


def public_definitions(repo: Path = REPO) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for folder in ROOTS:
        for path in sorted((repo / folder).rglob("*.py")):
            relpath = path.relative_to(repo).as_posix()
            for node in ast.parse(path.read_text(encoding="utf-8"), relpath).body:
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                if node.name.startswith("_") or _is_command(node):
                    continue
                role = ROLES.get(node.name)
                if role is not None and relpath.startswith(role):
                    continue
                found[node.name].append(relpath)
    return found


def test_every_public_name_has_one_definition() -> None:
    definitions = public_definitions()
    assert len(definitions) > 200  # the walk found the package
    twice = {name: paths for name, paths in definitions.items() if len(paths) > 1}
    assert not twice, "names defined in several modules (rename one, or share one definition):\n" + "\n".join(
        f"  {name}: {', '.join(paths)}" for name, paths in sorted(twice.items())
    )


def test_roles_and_commands_are_the_only_exceptions(tmp_path: Path) -> None:
    """The checker itself, on a small tree."""
    files = {
        "guard/report/terminal.py": "def render(result): ...\n",
        "guard/report/sarif.py": "def render(result): ...\n",
        "guard/scan/frontends/x/values.py": "def render(value): ...\n",  # a role name outside its package
        "guard/commands/scan.py": "@click.command()\ndef scan(path): ...\n",
        "guard/scan/engine.py": "def scan(root): ...\n",
        "codemods/strings.py": "class SqlText: ...\ndef _helper(): ...\n",
        "guard/scan/sql/text.py": "class SqlText: ...\ndef _helper(): ...\n",
    }
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    twice = {name: paths for name, paths in public_definitions(tmp_path).items() if len(paths) > 1}
    assert twice == {"SqlText": ["guard/scan/sql/text.py", "codemods/strings.py"]}
    assert public_definitions(tmp_path)["render"] == ["guard/scan/frontends/x/values.py"]
