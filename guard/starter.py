"""A first ``guard.toml`` written from what a scan already read (``guard init``).

Without config every guarded table is the same to guard, and the user would have to hand-write
``business_column`` and ``source_field`` for each one before ``guard patch`` can pass the source system's
time. Most of that is visible in the code: the date-like columns writers fill from records are the
business dates, and the payload key that holds the creation time is either used by another writer of the
tree or follows the naming pattern of its siblings (``scheduledOn`` -> ``createdOn``). Every guess that is
not read directly from the code is marked ``check``; the ``why`` lines are left for the table's owner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from guard.config import Config, toml_value
from guard.model import ResolvedWrite, ScanResult, Severity
from guard.naming import snake_case
from guard.scan import evidence


@dataclass
class TableProposal:
    """What ``guard init`` proposes for one guarded table, with why each value was chosen."""

    name: str
    severity: Severity
    default: str | None
    writers: int
    findings: int
    evidence: list[str] = field(default_factory=list)
    business_column: str | None = None
    business_note: str = ""
    source_field: str | None = None
    source_note: str = ""


def propose(result: ScanResult, config: Config) -> list[TableProposal]:
    """One proposal per guarded table that code writes to or that has findings, most severe first."""
    by_table: dict[str, list[ResolvedWrite]] = {}
    for resolved in result.writes:
        if resolved.table:
            by_table.setdefault(resolved.table, []).append(resolved)
    tree_keys = _creation_keys(result.writes, config.creation_columns)
    proposals = []
    for summary in result.tables:
        if not summary.guarded:
            continue
        findings = [f for f in result.findings if f.table == summary.name]
        writes = by_table.get(summary.name, [])
        if not writes and not findings:
            continue
        severity = max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.MEDIUM)
        kinds = Counter(e.kind for f in findings for e in f.evidence)
        proposal = TableProposal(
            name=summary.name,
            severity=severity,
            default=summary.default,
            writers=summary.writers,
            findings=len(findings),
            evidence=[f"{kind.replace('-', ' ')} x{count}" for kind, count in kinds.most_common()],
        )
        column = config.timestamp_column_for(summary.name)
        _propose_business(proposal, writes, result, column)
        _propose_source(proposal, writes, tree_keys, column)
        proposals.append(proposal)
    proposals.sort(key=lambda p: (-p.severity.rank, -p.findings, p.name))
    return proposals


def _propose_business(proposal: TableProposal, writes: Sequence[ResolvedWrite], result: ScanResult, ts: str) -> None:
    """The date-like column writers set from records; else the table's only date-like column (check)."""
    from_records: Counter[str] = Counter()
    set_at_all: Counter[str] = Counter()
    for resolved in writes:
        keys = dict(resolved.write.record_keys)
        for column in evidence.business_date_columns(resolved.write.columns or (), ts):
            set_at_all[column] += 1
            if column in keys:
                from_records[column] += 1
    if from_records:
        proposal.business_column = from_records.most_common(1)[0][0]
        proposal.business_note = "writers set it from source records"
        return
    if set_at_all:
        proposal.business_column = set_at_all.most_common(1)[0][0]
        proposal.business_note = "check: writers set it, but not visibly from a record"
        return
    info = next((t for t in result.catalog if t.name == proposal.name), None)
    dates = evidence.business_date_columns(info.columns if info else (), ts)
    if len(dates) == 1:
        proposal.business_column = dates[0]
        proposal.business_note = "check: the table's only date-like column; no writer sets it"


def _creation_keys(writes: Iterable[ResolvedWrite], creation_columns: Sequence[str]) -> Counter[str]:
    """Record keys that writers anywhere in the tree put into a creation column: the tree's own spelling."""
    creation = {c.lower() for c in creation_columns}
    keys: Counter[str] = Counter()
    for resolved in writes:
        for column, key in resolved.write.record_keys:
            if column == resolved.timestamp_column or column.lower() in creation:
                keys[key] += 1
    return keys


def _propose_source(proposal: TableProposal, writes: Sequence[ResolvedWrite], tree: Counter[str], ts: str) -> None:
    """The payload key holding the creation time, in order of trust: a writer of this table passes it into
    the column; the naming pattern of this table's own date keys (``scheduledOn`` -> ``createdOn``); the key
    writers of other tables use, when this table's payloads spell keys the same way (camelCase or not)."""
    own: Counter[str] = Counter()
    siblings: Counter[str] = Counter()
    keys: set[str] = set()
    for resolved in writes:
        for column, key in resolved.write.record_keys:
            keys.add(key)
            if column == ts:
                own[key] += 1
            elif evidence.date_stem(key) != snake_case(key):
                siblings[key] += 1
    if own:
        proposal.source_field = own.most_common(1)[0][0]
        proposal.source_note = f"a writer of this table passes it into {ts}"
        return
    for key, _count in siblings.most_common():
        derived = _rename_stem(key, "created")
        if derived:
            proposal.source_field = derived
            proposal.source_note = f"check: named after the sibling key {key!r}; confirm the payload has it"
            return
    camel = any(_is_camel(k) for k in keys)
    for key, _count in tree.most_common():
        if not keys or _is_camel(key) == camel:
            proposal.source_field = key
            proposal.source_note = "check: writers of other tables pass this key as the creation time"
            return


def _is_camel(key: str) -> bool:
    return snake_case(key) != key.lower()


def _rename_stem(key: str, stem: str) -> str | None:
    """``scheduledOn`` -> ``createdOn``, ``scheduled_at`` -> ``created_at``, ``ScheduledDate`` -> ``CreatedDate``."""
    old = evidence.date_stem(key)
    if not old or old == snake_case(key):
        return None
    if "_" in key or key.islower():
        return stem + key[len(old) :] if key.lower().startswith(old) else None
    camel = "".join(part.capitalize() for part in old.split("_"))
    if key.startswith(camel):
        return stem.capitalize() + key[len(camel) :]
    lower_camel = camel[:1].lower() + camel[1:]
    if key.startswith(lower_camel):
        return stem + key[len(lower_camel) :]
    return None



def render_starter(proposals: Sequence[TableProposal], config: Config, scanned: str) -> str:
    """The starter ``guard.toml``: valid TOML, every value explained by a comment, owners' lines left open."""
    schemas = sorted({p.name.partition(".")[0] for p in proposals if "." in p.name} - {"public"})
    search_path = [*schemas, "public"] if schemas else list(config.search_path)
    lines = [
        "# guard configuration, proposed by `guard init` from a scan of " + scanned + ".",
        "# Every value below was read from the code; lines marked 'check' are guesses to confirm.",
        "# Fill in each table's `why` (what breaks when its created_at is wrong), then commit this file.",
        "# Reference: `guard rule GRD001`, docs/scan.md (configuration) and docs/rules/ranking.md.",
        "",
        f"timestamp_column = {toml_value(config.timestamp_column)}",
        f"search_path = [{', '.join(toml_value(s) for s in search_path)}]",
        "",
    ]
    if not proposals:
        lines.append("# No guarded table has writers in this tree: nothing to configure yet.")
    for p in proposals:
        lines.append(f"[tables.{toml_value(p.name)}]")
        lines.append(
            f"# {p.writers} writer(s), {p.findings} finding(s)"
            + (f", DEFAULT {p.default}" if p.default else "")
            + (f"; evidence: {', '.join(p.evidence)}" if p.evidence else "")
        )
        lines.append(f"severity = {toml_value(p.severity.value)}  # from the evidence; change it as you see fit")
        lines.append('why = ""  # TODO owner: what breaks when this table\'s creation time is wrong')
        if p.business_column:
            lines.append(f"business_column = {toml_value(p.business_column)}  # {p.business_note}")
        else:
            lines.append('# business_column = ""  # no date-like column is set by the writers')
        if p.source_field:
            lines.append(f"source_field = {toml_value(p.source_field)}  # {p.source_note}")
        else:
            lines.append('# source_field = ""  # the payload key holding the source creation time')
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
