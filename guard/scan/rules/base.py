"""What every rule shares: the :class:`Rule` protocol, the context a rule is judged in, and how a verdict becomes a
:class:`Finding`.

A rule is one module exporting ``RULE``, an object satisfying :class:`Rule` (guard's rules use
:class:`RuleModule`): a stable ``code``, a ``name``, a one-line ``message`` template, a default ``severity``,
whether ``guard patch`` can fix its findings (``fixable``, which is what drives the patcher), and, for rules about
writes, ``check(resolved, ctx) -> Finding | None``. The module docstring is the rule's long description (it feeds
SARIF ``help`` and mirrors ``docs/rules/<CODE>.md``). Rules register in one list, ``guard.scan.rules.RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from guard.config import Config
from guard.model import Evidence, Finding, ResolvedWrite, Severity, WriteStatement
from guard.scan.resolve import table_severity

#: The project's home page (SARIF ``informationUri``) and where the per-rule pages live (SARIF ``helpUri``).
PROJECT_URL = "https://github.com/pg-schema-guard/pg-schema-guard"
RULE_DOCS_BASE = f"{PROJECT_URL}/blob/main/docs/rules/"

#: Why an omitted timestamp matters, when the table's config gives no reason of its own.
GENERIC_WHY = "rows get the load time instead of the business time; history written here looks created at once"

_KIND_LABEL = {"insert": "INSERT", "insert-select": "INSERT ... SELECT", "copy": "COPY", "upsert": "upsert"}
#: ``WriteStatement.parser`` of writes that have no SQL text (ORM calls, query builders).
ORM_PARSERS = frozenset({"orm", "builder"})


@dataclass(frozen=True)
class RuleContext:
    """What a rule may consult besides the write itself."""

    config: Config
    #: name with unresolved parts -> guarded tables it may denote, most severe first (for dynamic SQL)
    guarded_matches: Callable[[str], list[str]] = lambda _name: []

    def severity_for(self, table: str | None, found: Sequence[Evidence] = ()) -> Severity:
        """Config severity for the table, else the rank of the write's evidence."""
        return table_severity(self.config, table, found)

    def why_for(self, table: str | None, fallback: str = GENERIC_WHY) -> str:
        table_cfg = self.config.table(table) if table else None
        return table_cfg.why if table_cfg and table_cfg.why else fallback

    def table_finding(self, code: str, resolved: ResolvedWrite, message: str, fixable: bool) -> Finding:
        """A finding about the write's own table, ranked by that table: its configured severity and reason, else
        the rank of the write's evidence. One place, so every rule that judges a known table ranks it the same."""
        return finding(
            code,
            resolved,
            severity=self.severity_for(resolved.table, resolved.evidence),
            message=message,
            why=self.why_for(resolved.table),
            fixable=fixable,
        )


class Rule(Protocol):
    """What the engine, the reports, the suppressions and the patcher know about a rule."""

    @property
    def code(self) -> str: ...  # stable: GRD001

    @property
    def name(self) -> str: ...  # kebab-case: timestamp-left-to-default

    @property
    def message(self) -> str: ...  # one-line template

    @property
    def severity(self) -> Severity: ...  # the default severity (config and evidence may change a finding's)

    @property
    def fixable(self) -> bool: ...  # guard patch can fix its findings

    @property
    def judges_writes(self) -> bool: ...  # check() judges writes (False: raised by the suppression machinery)

    @property
    def summary(self) -> str: ...  # one line

    @property
    def description(self) -> str: ...  # the long description (the rule module's docstring)

    def check(self, resolved: ResolvedWrite, ctx: RuleContext) -> Finding | None: ...


Check = Callable[[ResolvedWrite, "RuleContext"], "Finding | None"]


@dataclass(frozen=True)
class RuleModule:
    """A :class:`Rule` written as a module: its docstring, its constants and its ``check`` function."""

    code: str
    name: str
    message: str
    severity: Severity
    fixable: bool
    description: str
    judge: Check | None = None

    @property
    def judges_writes(self) -> bool:
        return self.judge is not None

    @property
    def summary(self) -> str:
        return self.description.strip().partition("\n")[0]

    def check(self, resolved: ResolvedWrite, ctx: RuleContext) -> Finding | None:
        return self.judge(resolved, ctx) if self.judge is not None else None


def kind_label(write: WriteStatement) -> str:
    return _KIND_LABEL.get(write.kind, write.kind.upper())


def is_orm_write(write: WriteStatement) -> bool:
    return write.parser in ORM_PARSERS


def statement_label(write: WriteStatement) -> str:
    """How a message names the write: the call as written for ORM writes (``session.add(Job(...))``)."""
    return write.context if is_orm_write(write) and write.context else kind_label(write)


def timestamp_name(resolved: ResolvedWrite) -> str:
    """``Job.created`` (model attribute, and its column when they differ) or just the column."""
    column = resolved.timestamp_column
    if not resolved.model:
        return column
    attribute = resolved.attribute or column
    mapped = f" (column {column})" if attribute != column else ""
    return f"{resolved.model}.{attribute}{mapped}"


def describe_default(resolved: ResolvedWrite) -> str:
    """``DEFAULT now()``, or the column's default in words when its expression is not known."""
    return f"DEFAULT {resolved.default}" if resolved.default else f"the default of {resolved.timestamp_column}"


def describe_omission(resolved: ResolvedWrite) -> str:
    """How the statement fails to set the timestamp column, in the user's terms."""
    write, column = resolved.write, resolved.timestamp_column
    if is_orm_write(write):
        if resolved.default_kind in ("auto_now_add", "auto_now") and write.columns and column in write.columns:
            return f"{statement_label(write)} passes {timestamp_name(resolved)}, but the model discards it"
        if write.columns is None:
            return f"{statement_label(write)} writes rows whose columns guard cannot see"
        return f"{statement_label(write)} does not set {timestamp_name(resolved)}"
    label = kind_label(write)
    if column in write.default_columns:
        return f"{label} sets {column} to DEFAULT"
    if write.columns is None:
        if write.values_width is not None and write.default_columns:
            # positional DEFAULT keys are "#n": the row either stops short or gives the column DEFAULT
            return f"positional {label} gives {column} no value of its own (DEFAULT, or too few values)"
        if write.values_width is not None:
            return f"positional {label} supplies {write.values_width} value(s) and stops before {column}"
        return f"positional {label} (no column list) into a table whose column order is unknown"
    if write.kind == "upsert" or write.on_conflict:
        return f"{label} (ON CONFLICT) omits {column} from its column list"
    return f"{label} omits {column} from its column list"


def finding(code: str, resolved: ResolvedWrite, severity: Severity, message: str, why: str, fixable: bool) -> Finding:
    """A finding located at the statement; the engine fills in the fingerprint."""
    write = resolved.write
    if write.best_effort:
        message += " (best effort: found by the textual pass, the file does not parse)"
    return Finding(
        rule=code,
        severity=severity,
        relpath=write.relpath,
        line=write.line,
        column=write.column,
        table=resolved.table,
        message=message,
        why=why,
        fixable=fixable,
        fingerprint="",
        end_line=write.end_line or write.line,
        evidence=resolved.evidence,
    )
