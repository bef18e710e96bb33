"""What ``guard patch`` works on (a site) and what it reports back (a result)."""

from __future__ import annotations

from dataclasses import dataclass

#: How a value that is the ingestion time (not the source's own time) is flagged for the reviewer.
FALLBACK_NOTE = "fallback, no source time known — review"
#: The catalog's tables and their columns, as (schema.table, columns) pairs (picklable, hashable).
TableColumns = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ValueSource:
    """Where the timestamp value comes from, per table (``[tables."x"]`` in the config).

    ``source_field``: field of the payload the other parameters are read from (``job.get("createdOn")``).
    ``source_expression``: a Python expression template; ``{row}`` is the payload variable, ``{field}`` the
    quoted ``source_field``, ``{column}`` the quoted timestamp column (e.g. ``parse_ts({row}["createdOn"])``).
    ``source_column``: for ``INSERT ... SELECT``, the column of the selected relation holding the time.
    ``source_relation``: which selected relation holds it, when the scanner saw history copied from one
    (GRD007); with a join, the value is qualified by that relation's alias.
    """

    source_field: str | None = None
    source_expression: str | None = None
    source_column: str | None = None
    source_relation: str | None = None


@dataclass(frozen=True)
class PatchSite:
    """One write to fix: where its statement starts and what it writes (from the scanner's WriteStatement)."""

    relpath: str
    line: int
    table: str | None
    column: str  # the timestamp column to add
    kind: str = "insert"  # "insert" | "insert-select" | "copy" | "upsert"
    values: ValueSource = ValueSource()
    rule: str = ""  # the finding's rule code
    source_relations: TableColumns = ()  # for INSERT ... SELECT: the tables it may select from
    table_columns: tuple[str, ...] | None = None  # for a positional INSERT: the table's full column order
    #: for ORM / query-builder writes: the driver that found it (``WriteStatement.origin``), the 1-based column
    #: where the call to edit starts, and the model attribute that holds the timestamp column
    origin: str = ""
    offset: int = 0
    attribute: str | None = None


@dataclass
class SiteResult:
    """The outcome for one site. ``fixed`` False with a ``reason`` means unfixable; ``already`` means no-op."""

    site: PatchSite
    fixed: bool = False
    already: bool = False
    value: str = ""  # the code or SQL text used as the value
    fallback: bool = False  # no source time was known (SQL: a NULL placeholder; Python: the ingestion time): review
    reason: str = ""  # why unfixable, or why the fallback was used
    uses: int = 0  # calls patched (a shared constant may have several)
    module_constant: str | None = None  # the module-level constant whose SQL was edited (others may import it)

    @property
    def unfixable(self) -> bool:
        return not self.fixed and not self.already

    def describe(self) -> str:
        where = f"line {self.site.line}"
        if self.already:
            return f"{where}: already names {self.site.column}"
        if not self.fixed:
            return f"{where}: unfixable: {self.reason}"
        text = f"{where}: {self.site.table or '?'}.{self.site.column} = {self.value}"
        if self.uses > 1:
            text += f" ({self.uses} calls)"
        if self.fallback:
            text += f"  [{FALLBACK_NOTE}{': ' + self.reason if self.reason else ''}]"
        return text
