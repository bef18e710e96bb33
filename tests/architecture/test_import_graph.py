"""guard/ and codemods/ form an import graph without cycles.

Every ``import`` statement counts, wherever it is: at module level, under ``if TYPE_CHECKING:``, or inside a
function (an import moved into a function still ties the two modules together; it only hides the cycle from
the interpreter). An import of a package's submodule is an edge to that submodule, not to the package's
``__init__`` (the usual convention: a package that imports its own submodules is not a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Top-level folders shipped inside the ``guard`` package (see pyproject's package-dir).
ROOTS = {"guard": REPO / "guard", "guard.codemods": REPO / "codemods"}


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for prefix, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([prefix, *parts])] = path
    return modules


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` (at ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imports_of(name, path, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle_hidden_in_a_function() -> None:
    """The checker itself: a function-level import closing a loop is a cycle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_imports_inside_functions_are_edges(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from guard.scan import engine\n    import guard.model\n")
    assert imports_of("guard.x", module, {"guard.scan.engine", "guard.model", "guard.scan"}) == {
        "guard.scan.engine",
        "guard.model",
    }


def test_guard_and_codemods_have_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_codemods_build_on_the_patch_helpers_never_the_reverse() -> None:
    """guard.patch (planner, SQL editing, sites) is imported by the codemods; the planner is handed the patchers."""
    graph = import_graph()
    reverse = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("guard.patch")
        for target in targets
        if target.startswith("guard.codemods")
    )
    assert not reverse, "\n".join(reverse)
    assert any(t.startswith("guard.patch") for t in graph["guard.codemods.add_timestamp"])
