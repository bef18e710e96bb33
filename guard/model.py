"""Plain data classes passed between the scanner's stages.

The pipeline is: discover files -> extract SQL -> parse -> resolve against the catalog -> rules -> report.
Each stage takes and returns the types below and nothing else, so a stage can be tested (and replaced) on
its own, and so the scanner can ship work to worker processes (everything here pickles).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    """Ranked severity; comparisons follow the rank, not the alphabet."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass(frozen=True)
class SourceFile:
    """A file chosen by discovery. ``relpath`` uses ``/`` separators and is relative to the scan root."""

    path: str
    relpath: str
    language: str  # "python" | "sql"
    size: int
    max_size: int | None = None  # most bytes the scan may read (max_file_size): the file may grow meanwhile


@dataclass(frozen=True)
class SqlCandidate:
    """A piece of text that may be SQL, with where it was written.

    ``line``/``column`` (1-based) locate the first character of ``text`` in the file. ``line_starts`` maps
    offsets in ``text`` back to file lines when the text is not a verbatim copy of one source span (implicit
    concatenation, constants joined together): entry ``(offset, line, column)`` says text from ``offset``
    onward started at that file position. For a verbatim span it holds one entry ``(0, line, column)``.

    ``holes`` are the offsets of placeholders that stand for values the extractor could not know
    (f-string interpolations, ``{}`` of ``.format``, ``sql.Identifier``): the text holds a parseable marker
    there (see :data:`HOLE_PREFIX`).
    """

    relpath: str
    line: int
    column: int
    text: str
    origin: str  # "literal" | "fstring" | "format" | "concat" | "constant" | "sql-file" | "plpgsql" | "textual"
    line_starts: tuple[tuple[int, int, int], ...] = ()
    dynamic: bool = False  # built from values the extractor could not resolve
    best_effort: bool = False  # found by the textual pass on a file that does not parse
    context: str = ""  # e.g. "execute", "text()", "sql.SQL", "function body of titan.f()"
    #: (line, 0-based column) of the calls that run this text, when a front-end knows them: where the
    #: evidence of history (bulk call, loop, payload rows) is read, which is not where a constant is defined
    sites: tuple[tuple[int, int], ...] = ()
    #: the database the text is sent to when the code shows it is not PostgreSQL (``sqlite``, ``clickhouse``,
    #: ``snowflake``, ``bigquery``, ``mysql``: the client's module or URL); None = PostgreSQL
    dialect: str | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """File (line, column) of ``offset`` within ``text``."""
        starts = self.line_starts or ((0, self.line, self.column),)
        base_off, line, col = starts[0]
        for entry in starts:
            if entry[0] <= offset:
                base_off, line, col = entry
            else:
                break
        chunk = self.text[base_off:offset]
        newlines = chunk.count("\n")
        if newlines:
            return line + newlines, offset - base_off - chunk.rfind("\n")
        return line, col + (offset - base_off)


#: Identifier prefix the extractor writes where an unknown value was interpolated; it parses as a name.
HOLE_PREFIX = "guard_hole_"


@dataclass(frozen=True)
class Diagnostic:
    """Something the user should know that is not a finding: a file that did not parse, SQL we could not read."""

    path: str
    line: int
    kind: str  # "parse-error" | "decode-error" | "unparsed-sql" | "skipped-large" | "skipped-link" | ... (docs/scan.md)
    message: str
    #: short reason shared by diagnostics that say the same thing (``CREATE statement``), for grouped counts
    reason: str = ""
    #: the text looked like a write (INSERT/COPY/MERGE): a write may be lost here, so it is always shown
    may_hide_write: bool = False


@dataclass(frozen=True)
class Evidence:
    """One signal of how much history a write carries (``docs/rules/ranking.md``): ``kind`` is one of
    :data:`guard.scan.evidence.KINDS`, ``detail`` says what was seen, e.g. ``executemany``, ``job[...]``."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class WriteStatement:
    """One parsed write (INSERT, COPY FROM, upsert, CTE insert) and what it does with the timestamp column.

    ``table`` is schema-qualified only if the SQL qualified it; the resolver adds the schema.
    ``columns`` is None when the statement names no column list (positional). ``values_width`` is the number
    of expressions in the widest VALUES row (or SELECT list) when known, used to decide whether a positional
    insert reaches the timestamp column. ``column_values`` maps each named column to the SQL text of its
    value in the first VALUES row / SELECT list, when that can be read.
    """

    relpath: str
    line: int
    column: int
    kind: str  # "insert" | "insert-select" | "copy" | "upsert"
    table: str | None
    columns: tuple[str, ...] | None
    sql: str  # the statement text as written (holes included)
    values_width: int | None = None
    column_values: tuple[tuple[str, str], ...] = ()
    default_columns: tuple[str, ...] = ()  # columns given the DEFAULT keyword
    on_conflict: str | None = None  # None | "nothing" | "update"
    dynamic: bool = False  # table or column list not statically known
    best_effort: bool = False
    parser: str = "pglast"  # "pglast" | "sqlglot" | "textual"
    origin: str = "literal"
    context: str = ""
    end_line: int = 0  # last line of the statement (for suppressions); 0 = same as line
    #: The ORM model / query-builder entity written, when the table is known only through it (e.g.
    #: ``sqlalchemy:app.models.Job``, ``django:shop.models.Order``): the resolver maps it to a table through the
    #: catalog, and ``columns`` then holds the names the code used (attribute names or keys).
    entity: str | None = None
    #: not PostgreSQL (``sqlite``, ``clickhouse``, ``snowflake``, ``bigquery``, ``mysql``): listed in the
    #: inventory with its dialect, never a finding; None = PostgreSQL
    dialect: str | None = None
    #: relations an INSERT ... SELECT reads rows from (as written), for "history copied" evidence
    sources: tuple[str, ...] = ()
    #: what the front-end saw around the write (bulk call, payload rows, batch-job names...)
    evidence: tuple[Evidence, ...] = ()
    #: column -> the record key its value is read from (``scheduled_at`` <- ``scheduledOn``), when visible
    record_keys: tuple[tuple[str, str], ...] = ()
    #: the write is inferred, not seen: a model instance constructed and handed to a helper or returned (the
    #: session call is elsewhere). It counts only when ``entity`` is a model the catalog knows.
    inferred: bool = False
    #: the entity's class is defined in the scanned tree (not imported from a library): if the catalog has no
    #: model of it, it is a plain class (``seen.add(Point(...))``) and the call is no write
    entity_in_tree: bool = False
    #: rows that also carry every field of another object whose class the front-end could tell
    #: (``Tag(**tag_in.dict(exclude={"project"}))``, ``Hero.model_validate(hero_in)`` with ``tag_in: TagCreate``):
    #: (class path, field names left out, whether only some fields may be passed, e.g. ``exclude_unset=True``).
    #: Set only when those fields are the row's only unknown part (``columns`` then ends in the unknown-columns
    #: hole): the resolver replaces the hole with the class's fields when the catalog knows them.
    fields_of: tuple[tuple[str, tuple[str, ...], bool], ...] = ()

    def value_of(self, column: str) -> str | None:
        for name, value in self.column_values:
            if name == column:
                return value
        return None


#: ``SchemaFact.naming`` of a class that stands for its one base model (a Django ModelForm / REST framework
#: ModelSerializer with ``Meta.model``): it resolves to that model, name and all.
PROXY = "proxy"


@dataclass(frozen=True)
class SchemaFact:
    """A fact about a table's shape found in the scanned tree (SQL DDL, Alembic ops, SQLAlchemy tables).

    ``table`` is folded like Postgres folds identifiers and qualified only if the source qualified it.
    Actions: ``create`` (``columns`` is the full ordered column list), ``add_column``, ``drop_column``,
    ``set_default``, ``drop_default``, ``drop_table``, ``rename_table`` (``new_name`` set).
    ``defaults`` maps column -> default expression text (``now()``, ``CURRENT_TIMESTAMP``, ``func.now()``...).
    """

    table: str
    action: str
    columns: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    new_name: str | None = None
    relpath: str = ""
    line: int = 0
    origin: str = "ddl"  # "ddl" | "alembic" | "sqlalchemy" | "django" | "prisma" | "drizzle" | "typeorm" | "knex"
    #: Model definitions (action ``entity``, or ``mixin`` for abstract bases and mixins that carry columns but
    #: no table of their own): the entity key (``sqlalchemy:app.models.Job``), attribute -> column where they
    #: differ, column -> default kind ("database" | "orm" | "auto_now_add" | "auto_now") for every column in
    #: ``defaults``, the entity paths (``module.Class``) of the bases whose columns it inherits, and how a
    #: mapped subclass without a table name of its own derives one (``naming``: "lower" | "snake" | "", or
    #: :data:`PROXY` for a class that only stands for its one base model: a ModelForm with ``Meta.model``).
    entity: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    default_kinds: tuple[tuple[str, str], ...] = ()
    bases: tuple[str, ...] = ()
    naming: str = ""
    schema: str = ""  # the schema a base's MetaData(schema=...) gives mapped subclasses without one of their own
    #: column -> now()-like default the ORM fills in itself (``default=datetime.utcnow``, Django ``auto_now_add``),
    #: kept apart from ``defaults`` (what the database does) because a model may have both: the ORM's applies to
    #: writes through the model, the database's to every other write. Its kind is in ``default_kinds``.
    app_defaults: tuple[tuple[str, str], ...] = ()
    #: the names a class declares with annotations (``email: str``, ``created_at: datetime | None = None``):
    #: the fields of a pydantic / SQLModel schema, so a row built from one (``**tag_in.dict()``) has known keys
    fields: tuple[str, ...] = ()


@dataclass
class TableInfo:
    """What the catalog knows about one table. ``columns`` is in table order when ``complete``."""

    name: str  # schema.table, folded like Postgres folds it
    columns: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)  # column -> default expression text
    complete: bool = False  # True when ``columns`` is the full, ordered column list
    sources: list[str] = field(default_factory=list)  # "ddl:path:line", "alembic:path:line", "database", "config"
    #: the database guard's mode (enforce | quarantine | audit) when guard.protected_tables lists the table: its
    #: timestamp is required whatever the column's default now says (guard replaced now() with a sentinel)
    guard_mode: str | None = None
    #: column -> kind of its now()-like default when it is not a database default ("orm", "auto_now_add"),
    #: as declared by a model mapped to this table; the database guard cannot see those
    default_kinds: dict[str, str] = field(default_factory=dict)

    def has_column(self, column: str) -> bool:
        return column in self.columns or column in self.defaults


@dataclass(frozen=True)
class ResolvedWrite:
    """A write after the catalog has been consulted: what table it really hits and whether it sets the timestamp.

    ``sets_timestamp`` is None when it cannot be told (dynamic SQL, positional insert into a table whose
    column order is unknown). ``guarded`` means the timestamp column has a now()-like default or the table is
    listed in config. ``table_known`` is False when the catalog has never heard of the table.
    """

    write: WriteStatement
    table: str | None  # schema-qualified after search_path resolution
    timestamp_column: str
    sets_timestamp: bool | None
    timestamp_value: str | None  # SQL text of the value given to the timestamp column, when set
    guarded: bool
    table_known: bool
    default: str | None = None  # the timestamp column's default expression, when known
    #: other targets the same site may write, when the extractor enumerated branches (``{schema}jobs`` as
    #: ``dbos.jobs`` and ``public.jobs``): one site, one write, its alternatives listed
    alternatives: tuple[str, ...] = ()
    #: the write's own evidence plus what the catalog adds (history copied, business date)
    evidence: tuple[Evidence, ...] = ()
    #: what kind of default ``default`` is: "database" | "orm" (Python-side, e.g. ``default=datetime.utcnow``)
    #: | "auto_now_add" / "auto_now" (Django, overwrites any value passed on create); None when unknown
    default_kind: str | None = None
    #: for writes through an ORM model: the model's attribute for the timestamp column (``created``), and the
    #: model's readable name (``Job``, from ``app/models.py``)
    attribute: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one write."""

    rule: str
    severity: Severity
    relpath: str
    line: int
    column: int
    table: str | None
    message: str
    why: str
    fixable: bool
    fingerprint: str
    end_line: int = 0
    evidence: tuple[Evidence, ...] = ()  # why this ranks where it does


@dataclass(frozen=True)
class TableSummary:
    name: str
    guarded: bool
    default: str | None
    writers: int
    severity: Severity | None


@dataclass
class ScanResult:
    """Everything one scan produced; the reporters and ``guard patch`` read this."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    writes: list[ResolvedWrite] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tables: list[TableSummary] = field(default_factory=list)
    files_scanned: int = 0
    files_with_sql: int = 0
    statements: int = 0
    #: SQL statements per file (relpath), so a partial scan can count only the files it reports on
    statements_by_file: dict[str, int] = field(default_factory=dict)
    #: a partial scan's project-wide file count: the files whose DDL and models judged the reported ones
    catalog_files: int = 0
    seconds: float = 0.0
    suppressed: int = 0
    baselined: int = 0
    #: every table the catalog knew (DDL, migrations, live database); ``guard patch`` reads column orders here
    catalog: list[TableInfo] = field(default_factory=list)
    #: the files discovery chose (``guard patch`` checks the tree's other Python modules before editing a constant)
    sources: list[SourceFile] = field(default_factory=list)
