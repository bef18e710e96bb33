"""``guard patch`` on ORM and query-builder writes: input tree -> expected files, unfixable reasons, idempotence.

tests/fixtures/patch/orm/tree holds one writer per style (SQLAlchemy ORM constructors, Core ``.values``/rows,
Django manager calls); tests/fixtures/patch/orm/expected holds the patched files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "patch" / "orm"
WRITERS = ("app/orm_writes.py", "app/core_writes.py", "shop/views.py")


def _package(tmp_path: Path, name: str, models: str) -> Path:
    """A tree holding one package ``name`` with the given ``models.py``."""
    root = tmp_path / "tree"
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "models.py").write_text(models)
    return root


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURE / "tree", root)
    return root


def test_dry_run_shows_the_diff_and_changes_nothing(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = CliRunner().invoke(cli, ["patch", str(root)])
    assert result.exit_code == 1, result.output  # 1: unfixable sites remain (auto_now_add, update_or_create)
    assert '+    session.add(Job(status=job["status"], created_at=job.get("createdOn")))' in result.output
    for relpath in WRITERS:
        assert (root / relpath).read_text() == (FIXTURE / "tree" / relpath).read_text()


def test_apply_gives_the_expected_files_and_a_second_run_finds_nothing(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert result.exit_code == 1, result.output  # 1: unfixable sites remain (auto_now_add, update_or_create)
    for relpath in WRITERS:
        assert (root / relpath).read_text() == (FIXTURE / "expected" / relpath).read_text(), relpath
    again = CliRunner().invoke(cli, ["patch", str(root)])
    assert "0 fixed" in again.output and "+" not in "".join(
        line for line in again.output.splitlines() if line.startswith("+")
    )


def test_model_attribute_name_is_used_not_the_column(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert 'Note(body=n["text"], created=n.get("createdOn"))' in (root / "app/orm_writes.py").read_text()


def test_auto_now_add_and_update_or_create_are_unfixable_with_what_to_change(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = CliRunner().invoke(cli, ["patch", str(root)])
    assert "Order.created_at has auto_now_add=True" in result.output
    assert "shop.models.Order" in result.output and "makemigrations" in result.output
    assert "create_defaults" in result.output


def test_stale_file_is_refused(tmp_path: Path) -> None:
    from guard.codemods.patchers import PATCHERS
    from guard.config import load_config
    from guard.patch.apply import apply_patches
    from guard.patch.planner import SiteSelection, plan, sites_from_scan
    from guard.patch.scanning import scan_for_patch

    root = _copy(tmp_path)
    config = load_config(root)
    scanned = scan_for_patch(root, config, jobs=1)
    sites, _ = sites_from_scan(scanned.result, config, SiteSelection())
    patches = plan(root, sites, PATCHERS, jobs=1)
    target = root / "app/orm_writes.py"
    target.write_text(target.read_text() + "\n# edited meanwhile\n")
    outcomes = {o.relpath: o for o in apply_patches(root, patches, tmp_path / "backup")}
    assert "changed since it was scanned" in outcomes["app/orm_writes.py"].error
    assert target.read_text().endswith("# edited meanwhile\n")


def test_routed_manager_and_the_django_timezone_fallback(tmp_path: Path) -> None:
    """The create call around ``.using(...)`` gets the keyword; in a module that imports Django's ``timezone`` the
    flagged fallback is ``timezone.now()`` (importing ``datetime.timezone`` would shadow it)."""
    root = _package(
        tmp_path,
        "shop",
        "from django.db import models\nfrom django.utils import timezone\n\n\n"
        "class Visit(models.Model):\n    path = models.CharField(max_length=200)\n"
        "    created_at = models.DateTimeField(default=timezone.now)\n",
    )
    views = root / "shop" / "views.py"
    views.write_text(
        "from django.utils import timezone\n\nfrom .models import Visit\n\n\n"
        "def record(payload):\n    Visit.objects.using(\"replica\").create(path=payload[\"path\"])\n"
    )
    result = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert result.exit_code == 0, result.output
    text = views.read_text()
    assert 'Visit.objects.using("replica").create(path=payload["path"], created_at=timezone.now())' in text
    assert "from datetime" not in text


def test_rows_from_schemas_factories_and_forms_are_patched_where_the_row_is_or_explained(tmp_path: Path) -> None:
    """SQLModel ``model_validate``: the key goes into ``update=``; a ``from_*`` factory and a form / serializer
    build the row elsewhere, so no keyword is added to their call (it would not be accepted): unfixable, with
    what to change."""
    root = _package(
        tmp_path,
        "app",
        "from datetime import datetime\n"
        "from django import forms\n"
        "from django.db import models\n"
        "from django.utils import timezone\n"
        "from sqlmodel import Field, SQLModel\n\n"
        "class HeroCreate(SQLModel):\n    name: str\n\n"
        "class Hero(SQLModel, table=True):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
        "    name: str\n"
        "    created_at: datetime = Field(default_factory=datetime.utcnow)\n\n"
        "    @classmethod\n    def from_name(cls, name):\n        return cls(name=name)\n\n"
        "class Note(models.Model):\n"
        "    text = models.TextField()\n"
        "    created_at = models.DateTimeField(default=timezone.now)\n\n"
        "class NoteForm(forms.ModelForm):\n    class Meta:\n        model = Note\n        fields = ['text']\n",
    )
    writer = root / "app" / "writes.py"
    writer.write_text(
        "from django.shortcuts import redirect\n"
        "from app.models import Hero, HeroCreate, NoteForm\n\n"
        "def create_hero(session, hero_in: HeroCreate):\n"
        "    session.add(Hero.model_validate(hero_in))\n\n"
        "def named(session, name):\n"
        "    session.add(Hero.from_name(name))\n\n"
        "def note(request):\n"
        "    form = NoteForm(request.POST)\n"
        "    form.save()\n"
        "    return redirect('notes')\n"
    )
    result = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert result.exit_code == 1, result.output  # 1: the factory and the form remain
    patched = writer.read_text()
    assert "Hero.model_validate(hero_in, update={\"created_at\": " in patched
    assert "session.add(Hero.from_name(name))\n" in patched and "NoteForm(request.POST)\n" in patched
    assert "Hero.from_name() builds the row in the model's factory" in result.output
    assert "NoteForm saves a row of its Meta.model: set created_at on the instance" in result.output
