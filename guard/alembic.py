"""guard inside the user's own Alembic environment: one line in ``env.py``.

```python
# env.py, after ``from alembic import context``
import guard.alembic; guard.alembic.setup(context)
```

What the line does, each for a failure the plain set-up had:

- **Guard's lineage joins this run only.** Its version location is added to the run's script directory when
  ``env.py`` runs (``alembic upgrade heads``, ``alembic revision --autogenerate``), never in ``alembic.ini``:
  a plain ``alembic revision`` then sees only the project's revisions and writes into the project's
  ``versions/``. Written into ``alembic.ini``, guard's head was the only head of a new project, so
  ``alembic revision`` put the user's file into ``site-packages/guard/migrations/versions`` on guard's branch.
- **New revisions go on the project's branch.** With guard's branch present, ``--autogenerate`` sees two heads;
  the new revision is based on the project's head (or starts the project's branch) and written into the
  project's versions directory, unless ``--head`` / ``--version-path`` were given.
- **Autogenerate ignores what guard owns.** Objects in schema ``guard``, the ingestion column guard adds
  (``warehouse_ingested_at``) and the ``'-infinity'`` sentinel default guard puts in place of ``now()`` are
  not differences: with ``compare_server_default=True`` an autogenerate after ``guard protect`` is empty.
  The user's own ``include_object``, ``compare_server_default`` and ``process_revision_directives`` still run.
- **``guard migrate`` and ``guard status`` agree.** ``guard migrate`` sees that this environment's version table
  records guard's revisions and reports instead of installing guard a second time.

``guard protect`` writes into the project's ``versions/`` when ``migrations_dir`` points there; its revisions
depend on guard's lineage, so ``alembic upgrade heads`` installs guard first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from guard.config import load_config
from guard.db.migrate import guard_versions_dir
from guard.watch.catalog import GUARD_SCHEMA

#: marks a run whose ``env.py`` called :func:`setup` (the configure wrapper does nothing in other runs)
ACTIVE = "guard_user_environment"
SENTINEL = "-infinity"
#: the revision that installs the guard schema (guard's lineage is versioned; this id never changes)
GUARD_FIRST_REVISION = "guard_0001"


def setup(context: Any, *, ingested_column: str | None = None) -> None:
    """Add guard to this Alembic run (call it at the top of ``env.py`` with ``alembic.context``).

    ``ingested_column``: the column guard adds to guarded tables (default: the project config's
    ``ingested_column``, ``warehouse_ingested_at``).
    """
    column = ingested_column or load_config(Path.cwd()).ingested_column
    script = context.script
    guard_dir = str(guard_versions_dir())
    locations = _locations(script)
    project_dirs = [location for location in locations if Path(location).resolve() != Path(guard_dir).resolve()]
    if len(project_dirs) == len(locations):
        _set_locations(script, [*project_dirs, guard_dir])
    context.config.attributes[ACTIVE] = {"ingested_column": column, "project_dirs": project_dirs}
    if not getattr(context.configure, "_guard_wrapper", False):
        context.configure = _configure_wrapper(context, context.configure)


def _locations(script: Any) -> list[str]:
    """The configured version locations; none configured means ``<script_location>/versions``."""
    configured = script.version_locations or [os.path.join(script.dir, "versions")]
    return [os.fspath(location) for location in configured]


def _set_locations(script: Any, locations: list[str]) -> None:
    """Replace the locations, dropping what the script directory derived from the old ones (lazily computed)."""
    from alembic.script.revision import RevisionMap

    script.version_locations = locations
    for derived in ("_version_locations", "versions"):
        script.__dict__.pop(derived, None)
    guard_dir = Path(guard_versions_dir()).resolve()

    def load() -> Iterator[Any]:
        for revision in script._load_revisions():
            yield _after_guard(revision, guard_dir)

    script.revision_map = RevisionMap(load)


def _after_guard(revision: Any, guard_dir: Path) -> Any:
    """A root of the project's branch runs after guard's first revision (in this run only, files untouched).

    ``alembic upgrade heads`` orders independent branches arbitrarily; ``op.guard_table`` needs the guard
    schema, so the project's branch is made to depend on guard's lineage in memory — the project's files never
    name a guard revision, so a plain ``alembic revision`` (which does not load guard) keeps working.
    """
    own = not Path(revision.path).resolve().is_relative_to(guard_dir)
    if own and revision.down_revision is None and not revision.dependencies:
        revision.dependencies = GUARD_FIRST_REVISION
    return revision


def _configure_wrapper(context: Any, configure: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = context.config.attributes.get(ACTIVE)
        if state is not None:
            kwargs = configure_options(kwargs, state["ingested_column"], context.script, state["project_dirs"])
        return configure(*args, **kwargs)

    wrapper._guard_wrapper = True  # type: ignore[attr-defined]
    return wrapper


def configure_options(
    options: dict[str, Any], ingested_column: str, script: Any, project_dirs: Sequence[str]
) -> dict[str, Any]:
    """``context.configure`` keyword arguments with guard's hooks composed over the user's own."""
    return {
        **options,
        "include_object": _include_object(options.get("include_object"), ingested_column),
        "compare_server_default": _compare_server_default(options.get("compare_server_default", False)),
        "process_revision_directives": _revision_directives(
            options.get("process_revision_directives"), script, project_dirs
        ),
    }


def _include_object(user: Callable[..., bool] | None, ingested_column: str) -> Callable[..., bool]:
    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if is_guard_object(obj, name, type_, ingested_column):
            return False
        return user(obj, name, type_, reflected, compare_to) if user is not None else True

    return include_object


def is_guard_object(obj: Any, name: str | None, type_: str, ingested_column: str) -> bool:
    """Objects guard owns: anything in schema ``guard``, and the ingestion column it adds to guarded tables."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if getattr(table, "schema", None) == GUARD_SCHEMA:
        return True
    return type_ == "column" and name == ingested_column


def _compare_server_default(user: Any) -> Callable[..., bool | None]:
    """Guard's sentinel in the database stands for the model's ``now()``: not a difference."""

    def compare(
        context: Any,
        inspected_column: Any,
        metadata_column: Any,
        inspected_default: str | None,
        metadata_default: Any,
        rendered_metadata_default: str | None,
    ) -> bool | None:
        if inspected_default is not None and SENTINEL in inspected_default:
            return False
        if callable(user):
            return user(
                context, inspected_column, metadata_column, inspected_default, metadata_default,
                rendered_metadata_default,
            )  # fmt: skip
        return None if user else False

    return compare


def _revision_directives(user: Callable[..., None] | None, script: Any, project_dirs: Sequence[str]) -> Callable:
    """New revisions go on the project's branch, into the project's versions directory."""

    def process(context: Any, revision: Any, directives: list[Any]) -> None:
        guard_dir = Path(guard_versions_dir()).resolve()
        own_heads = [
            rev.revision
            for rev in script.get_revisions("heads")
            if rev is not None and not Path(rev.path).resolve().is_relative_to(guard_dir)
        ]
        for directive in directives:
            if not hasattr(directive, "head"):
                continue
            if directive.head in (None, "head"):
                directive.head = own_heads[0] if len(own_heads) == 1 else "base" if not own_heads else directive.head
            if directive.version_path is None and project_dirs:
                directive.version_path = project_dirs[0]
        if user is not None:
            user(context, revision, directives)

    return process
