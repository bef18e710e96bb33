"""Turn scan findings into per-file patches: pair findings with writes, patch files in parallel.

Only files with fixable sites are read and parsed (libcst is the expensive part), and each file is
independent, so files are spread over worker processes when there are enough of them. Every patch
records the SHA-256 of the text it was computed from, so ``--apply`` can refuse a file that changed
in between, and whether the result still parses, so a broken edit is never written.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from guard.config import Config
from guard.model import Finding, ResolvedWrite, ScanResult
from guard.parallel import worker_count
from guard.patch.javascript import js_parse_problem
from guard.patch.site import PatchSite, SiteResult, TableColumns, ValueSource
from guard.patch.sql_files import parses
from guard.scan.frontends import language_of
from guard.scan.reading import Unreadable, read_source
from guard.scan.rules import fixable_rules
from guard.scan.rules.base import ORM_PARSERS
from guard.scan.rules.grd007_source_timestamp_dropped import copied_history

#: ``guard patch --apply`` keeps originals here (under the root); they are never patch targets.
BACKUP_DIR_NAME = ".guard-backup"
#: Python identifiers, to tell whether a module mentions a constant's name (never used on SQL).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 24
#: Patches one file's text: ``(text, relpath, sites) -> (patched text, one result per site)``.
Patcher = Callable[[str, str, list[PatchSite]], tuple[str, list[SiteResult]]]
#: Language (a front-end's name) -> its patcher. The planner is given this table (``guard.codemods.patchers``
#: builds guard's): the transforms import the patch helpers, never the other way round.
Patchers = Mapping[str, Patcher]


@dataclass
class FilePatch:
    """The planned change to one file. ``error`` set means the file is refused (nothing is written)."""

    relpath: str
    language: str
    original: str = ""
    patched: str = ""
    digest: str = ""
    results: list[SiteResult] = field(default_factory=list)
    error: str = ""

    @property
    def changed(self) -> bool:
        return not self.error and self.patched != self.original

    def unchanged(self) -> FilePatch:
        """This file with no edit and no results (its sites are re-reported by the caller)."""
        return FilePatch(self.relpath, self.language, self.original, self.original, self.digest)


def _fixable_codes() -> frozenset[str]:
    return frozenset(rule.code for rule in fixable_rules())


@dataclass
class SiteSelection:
    """Which findings to patch: ``rules`` (by default every rule whose ``fixable`` is set) and optional
    ``FILE:LINE`` selectors (FILE relative to the root)."""

    rules: frozenset[str] = field(default_factory=_fixable_codes)
    locations: tuple[tuple[str, int | None], ...] = ()

    @property
    def label(self) -> str:
        """The selected rule codes, for messages (``GRD001``)."""
        return "/".join(sorted(self.rules))

    def wants(self, finding: Finding) -> bool:
        if finding.rule not in self.rules:
            return False
        if not self.locations:
            return True
        return any(finding.relpath == path and line in (None, finding.line) for path, line in self.locations)


def parse_selector(text: str) -> tuple[str, int | None]:
    """``path/to/file.py:12`` -> (path, 12); ``path/to/file.py`` -> (path, None)."""
    path, sep, line = text.rpartition(":")
    if sep and line.isdigit():
        return path.replace(os.sep, "/").removeprefix("./"), int(line)
    return text.replace(os.sep, "/").removeprefix("./"), None


def sites_from_scan(
    result: ScanResult,
    config: Config,
    selection: SiteSelection,
    relations: TableColumns = (),
    complete: frozenset[str] = frozenset(),
) -> tuple[list[PatchSite], list[SiteResult]]:
    """Fixable findings paired with their writes, and the unfixable ones (with the reason) as results.

    ``relations`` (the catalog's tables and columns) go with ``INSERT ... SELECT`` sites, whose value may be
    a creation-time column of the selected table, and give a positional INSERT into a table in ``complete``
    (full column order known) its column list.
    """
    writes = {(w.write.relpath, w.write.line): w for w in result.writes}
    sites: list[PatchSite] = []
    unfixable: list[SiteResult] = []
    for finding in result.findings:
        if not selection.wants(finding):  # backups under .guard-backup/ are never scanned (discovery skips them)
            continue
        write = writes.get((finding.relpath, finding.line))
        site = _site(finding, write, config, relations, complete)
        if write is None or not finding.fixable:
            reason = _unfixable_reason(finding, write)
            unfixable.append(SiteResult(site, reason=reason))
        else:
            sites.append(site)
    return sites, unfixable


def _site(
    finding: Finding,
    write: ResolvedWrite | None,
    config: Config,
    relations: TableColumns,
    complete: frozenset[str],
) -> PatchSite:
    table = (write.table if write else None) or finding.table
    table_config = config.table(table) if table else None
    copied = copied_history(write) if write else None  # GRD007: the source's own column is the value
    configured = table_config.source_column if table_config else None
    values = ValueSource(
        source_field=table_config.source_field if table_config else None,
        source_expression=table_config.source_expression if table_config else None,
        source_column=configured or (copied[1] if copied else None),
        source_relation=copied[0] if copied and not configured else None,
    )
    return PatchSite(
        relpath=finding.relpath,
        line=finding.line,
        table=table,
        column=write.timestamp_column if write else config.timestamp_column_for(table),
        kind=write.write.kind if write else "insert",
        values=values,
        rule=finding.rule,
        source_relations=relations if write and write.write.kind == "insert-select" else (),
        table_columns=dict(relations).get(table or "")
        if write and write.write.columns is None and table in complete
        else None,
        origin=write.write.origin if write and write.write.parser in ORM_PARSERS else "",
        offset=write.write.column if write else 0,
        attribute=write.attribute if write else None,
    )


def _unfixable_reason(finding: Finding, write: ResolvedWrite | None) -> str:
    if write is None:
        return "the scanner reported no write statement at this line"
    if write.write.best_effort:
        return "found by the textual fallback in a file that does not parse: fix it by hand"
    if write.default_kind in ("auto_now_add", "auto_now"):
        model = (write.write.entity or "").split(":", 1)[-1] or write.model
        field = f"{write.model}.{write.attribute or write.timestamp_column}"
        return (
            f"{field} has {write.default_kind}=True, which overwrites any value passed on create: the fix is in the "
            f"model, not this call - in {model}, change the field to models.DateTimeField(default=timezone.now), "
            "run `python manage.py makemigrations` and migrate, then pass the source time here"
        )
    if write.write.dynamic:
        return "the table or column list is built at runtime"
    if write.write.columns is None:
        return "positional INSERT without a column list: name the columns first"
    return f"the scanner marks it not fixable: {finding.message}"


def plan(
    root: str | Path,
    sites: Sequence[PatchSite],
    patchers: Patchers,
    *,
    jobs: int | None = None,
    python_files: Sequence[str] = (),
) -> list[FilePatch]:
    """Patch every file that has sites; one :class:`FilePatch` per file, in path order.

    ``patchers`` says which function edits which language. ``python_files`` (relative paths) are the other
    modules of the tree: a module-level SQL constant is only edited when none of them mentions its name (they
    may import it and pass other parameters).
    """
    patches = _plan_all(root, sites, jobs, patchers)
    refused = _constants_used_elsewhere(root, patches, python_files)
    if not refused:
        return patches
    touched = {site.relpath for site in refused}
    kept = [site for site in sites if site.relpath in touched and site not in refused]
    replanned = {patch.relpath: patch for patch in _plan_all(root, kept, jobs, patchers)}
    out = []
    for patch in patches:
        if patch.relpath in touched:
            patch = replanned.get(patch.relpath) or patch.unchanged()
            patch.results += [SiteResult(s, reason=why) for s, why in refused.items() if s.relpath == patch.relpath]
            patch.results.sort(key=lambda r: r.site.line)
        out.append(patch)
    return out


def _constants_used_elsewhere(
    root: str | Path, patches: list[FilePatch], python_files: Sequence[str]
) -> dict[PatchSite, str]:
    """Sites whose edited module-level constant is named in another module, with the reason."""
    edited = [(patch.relpath, r) for patch in patches for r in patch.results if r.fixed and r.module_constant]
    if not edited:
        return {}
    names = {r.module_constant for _, r in edited if r.module_constant}
    refused: dict[PatchSite, str] = {}
    for relpath in python_files:
        try:  # never block on a FIFO swapped in for a module
            text = read_source(str(Path(root) / relpath)).decode("utf-8", errors="replace")
        except Unreadable:
            continue
        present = names & set(_IDENTIFIER.findall(text))
        for owner, result in edited:
            if result.module_constant in present and owner != relpath and result.site not in refused:
                refused[result.site] = (
                    f"{result.module_constant} is also named in {relpath}, which may run it with other "
                    "parameters: patch by hand"
                )
    return refused


def _plan_all(root: str | Path, sites: Sequence[PatchSite], jobs: int | None, patchers: Patchers) -> list[FilePatch]:
    by_file: dict[str, list[PatchSite]] = {}
    for site in sites:
        by_file.setdefault(site.relpath, []).append(site)
    table = dict(patchers)  # functions travel to the workers by reference (module and name)
    work = [(str(root), relpath, tuple(group), table) for relpath, group in sorted(by_file.items())]
    workers = worker_count(len(work), jobs, worth_a_pool=len(work) >= PARALLEL_MIN_FILES, tasks_per_worker=4)
    if workers <= 1:
        return [plan_file(*item) for item in work]
    chunk = max(1, len(work) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_plan_file_star, work, chunksize=chunk))


def _plan_file_star(item: tuple[str, str, tuple[PatchSite, ...], dict[str, Patcher]]) -> FilePatch:
    return plan_file(*item)


def plan_file(root: str, relpath: str, sites: Iterable[PatchSite], patchers: Patchers) -> FilePatch:
    """Read, patch and re-parse one file (runs in a worker process)."""
    language = language_of(relpath) or "unknown"
    patch = FilePatch(relpath, language)
    site_list = list(sites)
    try:
        data = read_source(str(Path(root) / relpath))
        patch.original = data.decode("utf-8")
    except (Unreadable, UnicodeDecodeError) as exc:
        return _refused(patch, site_list, f"cannot read the file as UTF-8 ({exc})")
    patch.digest = digest_of(data)
    try:
        patch.patched, patch.results = patch_text(patchers, language, patch.original, relpath, site_list)
    except Exception as exc:  # libcst parse errors and friends: refuse the file, keep going
        return _refused(patch, site_list, f"cannot patch the file ({type(exc).__name__}: {exc})")
    if patch.patched != patch.original:
        problem = parse_problem(language, patch.original, patch.patched, relpath)
        if problem:
            return _refused(patch, site_list, f"the patched file would not parse ({problem}); nothing written")
    return patch


def patch_text(
    patchers: Patchers, language: str, text: str, relpath: str, sites: list[PatchSite]
) -> tuple[str, list[SiteResult]]:
    """One file's text patched by its language's patcher; a language without one leaves every site unfixed."""
    patcher = patchers.get(language)
    if patcher is None:
        return text, [SiteResult(site, reason=f"guard patch cannot edit {language} files yet") for site in sites]
    return patcher(text, relpath, sites)


def parse_problem(language: str, before: str, after: str, relpath: str = "") -> str | None:
    """Why ``after`` does not parse (None if it does). SQL that did not parse before is not held against it."""
    if language == "python":
        try:
            compile(after, "<patched>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        return None
    if language == "javascript":
        return js_parse_problem(before, after, relpath)
    if parses(before) is not None:
        return None
    return parses(after)


def _refused(patch: FilePatch, sites: list[PatchSite], reason: str) -> FilePatch:
    patch.error = reason
    patch.patched = patch.original
    patch.results = [SiteResult(site, reason=reason) for site in sites]
    return patch


def digest_of(data: bytes) -> str:
    """The fingerprint a patch is planned against; ``--apply`` compares it to the file's current one."""
    return hashlib.sha256(data).hexdigest()
