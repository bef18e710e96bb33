"""The model catalog reader and the whole-tree entity resolution (inheritance, naming, schemas, defaults)."""

from __future__ import annotations

import ast
import textwrap

from guard.config import Config
from guard.scan.catalog import Catalog
from guard.scan.frontends.python.drivers import DRIVERS
from guard.scan.frontends.python.orm import extract_orm


def facts(source: str, relpath: str = "app/models.py"):
    text = textwrap.dedent(source)
    return extract_orm(ast.parse(text), text, relpath, DRIVERS.row_writers()).facts


def catalog(files: dict[str, str]) -> Catalog:
    found = [fact for relpath, source in files.items() for fact in facts(source, relpath)]
    return Catalog.build(found, search_path=Config().search_path)


def test_declarative_1x_column_with_attribute_name_and_python_default() -> None:
    [fact] = [f for f in facts(
        """
        from datetime import datetime
        from sqlalchemy import Column, DateTime, Integer
        from sqlalchemy.orm import declarative_base
        Base = declarative_base()
        class Note(Base):
            __tablename__ = "notes"
            __table_args__ = {"schema": "crm"}
            id = Column(Integer, primary_key=True)
            created = Column("created_at", DateTime, default=datetime.utcnow)
        """
    ) if f.entity.endswith("Note")]
    assert fact.table == "crm.notes"
    assert fact.columns == ("id", "created_at")
    assert fact.attributes == (("created", "created_at"),)
    assert dict(fact.default_kinds) == {"created_at": "orm"} and fact.defaults == ()
    assert fact.app_defaults == (("created_at", "datetime.utcnow"),)


def test_python_default_and_server_default_together() -> None:
    """SQLAlchemy fills ``default=`` itself (writes through the model get it); the table keeps ``now()``."""
    cat = catalog(
        {
            "app/models.py": """
                from datetime import datetime
                from sqlalchemy import Column, DateTime, Integer, func
                from app.db import Base
                class TimestampMixin:
                    created_at = Column(DateTime, default=datetime.utcnow, server_default=func.now())
                class Job(TimestampMixin, Base):
                    __tablename__ = "jobs"
                    id = Column(Integer, primary_key=True)
            """
        }
    )
    job = cat.entity("sqlalchemy:app.models.Job")
    assert job is not None and job.kinds == {"created_at": "orm"}
    assert job.app_defaults == {"created_at": "datetime.utcnow"}
    table = cat.lookup("jobs")
    assert table is not None and table.defaults == {"created_at": "now()"}
    assert table.default_kinds == {"created_at": "orm"}


def test_mapped_column_server_defaults_in_every_spelling() -> None:
    found = facts(
        """
        import sqlalchemy as sa
        from typing import Annotated
        from datetime import datetime
        from sqlalchemy import func, text
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        stamp = Annotated[datetime, mapped_column(server_default=func.CURRENT_TIMESTAMP())]
        class Base(DeclarativeBase):
            pass
        class A(Base):
            __tablename__ = "a"
            x: Mapped[datetime] = mapped_column(server_default=func.now())
            y: Mapped[datetime] = mapped_column(server_default=text("now()"))
            z: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))
            w: Mapped[stamp]
            v: Mapped[datetime] = mapped_column(default=lambda: datetime.now(tz=None))
            u: Mapped[datetime] = mapped_column(insert_default=func.now())
        """
    )
    [a] = [f for f in found if f.entity.endswith(".A")]
    assert dict(a.defaults) == {"x": "now()", "y": "now()", "z": "CURRENT_TIMESTAMP", "w": "CURRENT_TIMESTAMP"}
    assert dict(a.app_defaults) == {"v": "lambda: datetime.now(tz=None)", "u": "func.now()"}
    assert dict(a.default_kinds) == {"x": "database", "y": "database", "z": "database", "w": "database",
                                     "v": "orm", "u": "orm"}


def test_mixin_from_another_module_and_metadata_schema_of_the_base() -> None:
    cat = catalog(
        {
            "app/db.py": """
                from sqlalchemy import MetaData
                from sqlalchemy.orm import DeclarativeBase
                class Base(DeclarativeBase):
                    metadata = MetaData(schema="titan")
            """,
            "app/mixins.py": """
                from sqlalchemy import Column, DateTime, func
                class TimestampMixin:
                    created_at = Column(DateTime, server_default=func.now())
            """,
            "app/models.py": """
                from sqlalchemy import Column, Integer
                from app.db import Base
                from app.mixins import TimestampMixin
                class Job(TimestampMixin, Base):
                    __tablename__ = "jobs"
                    id = Column(Integer, primary_key=True)
            """,
        }
    )
    job = cat.entity("sqlalchemy:app.models.Job")
    assert job is not None and job.table == "titan.jobs"
    info = cat.lookup("titan.jobs")
    assert info is not None and info.defaults == {"created_at": "now()"} and info.columns == ["id", "created_at"]


def test_declared_attr_tablename_flask_and_sqlmodel_naming() -> None:
    cat = catalog(
        {
            "app/models.py": """
                from datetime import datetime
                from sqlalchemy import Column, Integer
                from sqlalchemy.orm import declared_attr, DeclarativeBase
                from sqlmodel import Field, SQLModel
                from app.ext import db
                class Base(DeclarativeBase):
                    @declared_attr.directive
                    def __tablename__(cls) -> str:
                        return cls.__name__.lower()
                class JobRun(Base):
                    id = Column(Integer, primary_key=True)
                class UserAccount(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
                    created_at: datetime = Field(default_factory=datetime.utcnow)
            """,
        }
    )
    assert cat.entity("sqlalchemy:app.models.JobRun").table == "jobrun"  # type: ignore[union-attr]
    assert cat.entity("sqlalchemy:app.models.UserAccount").table == "user_account"  # type: ignore[union-attr]
    hero = cat.entity("sqlalchemy:app.models.Hero")
    assert hero is not None and hero.table == "hero" and hero.kinds == {"created_at": "orm"}


def test_imperative_table_with_metadata_schema() -> None:
    cat = catalog(
        {
            "app/tables.py": """
                from sqlalchemy import Column, DateTime, Integer, MetaData, Table, func
                metadata = MetaData(schema="titan")
                jobs = Table("jobs", metadata, Column("id", Integer), Column("created_at", DateTime,
                             server_default=func.now()))
            """
        }
    )
    jobs = cat.entity("sqlalchemy:app.tables.jobs")
    assert jobs is not None and jobs.table == "titan.jobs" and jobs.defaults == {"created_at": "now()"}


def test_django_models_tables_columns_and_default_kinds() -> None:
    cat = catalog(
        {
            "shop/models.py": """
                from django.db import models
                from django.db.models.functions import Now
                from django.utils import timezone
                class Stamped(models.Model):
                    created_at = models.DateTimeField(auto_now_add=True)
                    class Meta:
                        abstract = True
                class Order(Stamped):
                    customer = models.ForeignKey("Customer", on_delete=models.CASCADE)
                class Visit(models.Model):
                    created = models.DateTimeField(default=timezone.now, db_column="created_at")
                    class Meta:
                        db_table = "analytics_visit"
                class Event(models.Model):
                    created_at = models.DateTimeField(db_default=Now())
            """
        }
    )
    order = cat.entity("django:shop.models.Order")
    assert order is not None and order.table == "shop_order"
    assert order.columns == ["customer_id", "created_at"] and order.kinds == {"created_at": "auto_now_add"}
    assert cat.entity("django:shop.models.Stamped") is None  # abstract: no table
    visit = cat.entity("django:shop.models.Visit")
    assert visit is not None and visit.table == "analytics_visit" and visit.attribute_of("created_at") == "created"
    assert visit.kinds == {"created_at": "orm"}
    event_table = cat.lookup("shop_event")
    assert event_table is not None and event_table.defaults == {"created_at": "now()"}
    # a Python-side default is not a database default: raw SQL into the table does not get it
    visit_table = cat.lookup("analytics_visit")
    assert visit_table is not None and visit_table.defaults == {} and visit_table.default_kinds == {"created_at": "orm"}


def test_models_without_now_defaults_have_none() -> None:
    [fact] = [f for f in facts(
        """
        from datetime import datetime
        from sqlalchemy import Column, DateTime
        from app.db import Base
        class Expiring(Base):
            __tablename__ = "expiring"
            created_at = Column(DateTime, default=datetime(2020, 1, 1))
            known = Column(DateTime, default=lambda: datetime.fromisoformat("2020-01-01"))
        """
    )]
    assert fact.defaults == ()


def test_declarative_base_of_a_custom_class_whose_tablename_rule_calls_a_helper() -> None:
    cat = catalog(
        {
            "app/database.py": """
                import re
                from sqlalchemy.ext.declarative import declarative_base, declared_attr
                def table_for(name):
                    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
                class CustomBase:
                    __repr_attrs__ = []
                    @declared_attr.directive
                    def __tablename__(cls):
                        return table_for(cls.__name__)
                Base = declarative_base(cls=CustomBase, name="Base")
            """,
            "app/models.py": """
                from sqlalchemy import Column, Integer
                from app.database import Base
                class TagType(Base):
                    id = Column(Integer, primary_key=True)
            """,
        }
    )
    assert cat.entity("sqlalchemy:app.models.TagType").table == "tag_type"  # type: ignore[union-attr]
    assert cat.entity("sqlalchemy:app.database.CustomBase") is None  # a base holding a rule, not a table


def test_a_from_factory_that_builds_the_instance_in_one_call_names_its_keys() -> None:
    found = facts(
        """
        from sqlalchemy import Column, Integer, String
        from app.db import Base
        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            body = Column(String)
            @staticmethod
            def from_json(payload):
                if not payload.get("body"):
                    raise ValueError("no body")
                return Post(body=payload["body"])
            @classmethod
            def from_row(cls, row):
                return cls(**row)
        """
    )
    factories = {f.entity: f.fields for f in found if f.entity.endswith(("from_json", "from_row"))}
    assert factories == {"sqlalchemy:app.models.Post.from_json": ("body",)}


def test_a_model_form_stands_for_its_model_and_names_the_fields_it_saves() -> None:
    cat = catalog(
        {
            "shop/models.py": """
                from django.db import models
                class Order(models.Model):
                    reference = models.CharField(max_length=20)
                    created_at = models.DateTimeField(auto_now_add=True)
            """,
            "shop/forms.py": """
                from django import forms
                from shop.models import Order
                class OrderForm(forms.ModelForm):
                    class Meta:
                        model = Order
                        fields = ["reference"]
            """,
        }
    )
    form = cat.entity("django:shop.forms.OrderForm")
    assert form is not None and form.table == "shop_order"
    assert cat.lookup("shop_orderform") is None  # not a table of its own
    assert cat.entities.fields_of("shop.forms.OrderForm.save") == ["reference"]


def test_a_test_factory_naming_a_model_is_neither_the_model_nor_a_table() -> None:
    cat = catalog(
        {
            "shop/models.py": """
                from django.db import models
                class Order(models.Model):
                    created_at = models.DateTimeField(auto_now_add=True)
            """,
            "shop/factories.py": """
                import factory
                from shop.models import Order
                class OrderFactory(factory.django.DjangoModelFactory):
                    class Meta:
                        model = Order
            """,
        }
    )
    assert cat.entity("django:shop.factories.OrderFactory") is None
    assert cat.lookup("shop_orderfactory") is None
