"""The scan pipeline: discover -> (per file, in worker processes) extract + parse -> catalog -> resolve ->
rules -> suppressions -> :class:`ScanResult`.

Per-file work is independent and dominates the cost, so it runs in a process pool over batches of files
once the tree is big enough to pay for the pool's start-up. Everything that needs the whole tree (the
catalog built from every file's DDL, the rules, fingerprints, table summaries) runs afterwards in the main
process, so the result does not depend on how the files were split between workers.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from guard.config import Config
from guard.errors import GuardError
from guard.model import (
    Diagnostic,
    Finding,
    ResolvedWrite,
    ScanResult,
    SchemaFact,
    Severity,
    SourceFile,
    TableInfo,
    TableSummary,
    WriteStatement,
)
from guard.parallel import worker_count
from guard.scan import evidence
from guard.scan.baseline import assign_fingerprints
from guard.scan.catalog import Catalog
from guard.scan.discover import discover
from guard.scan.frontends import FRONTENDS, FileReader
from guard.scan.reading import Unreadable, as_utf8, read_source
from guard.scan.resolve import Resolver, not_a_model
from guard.scan.rules import RuleContext, check_write
from guard.scan.sql.parse import parse_candidate
from guard.scan.suppress import Suppression, apply_suppressions, find_suppressions

#: Below either size a single process is faster than starting a pool.
PARALLEL_MIN_FILES = 150
PARALLEL_MIN_BYTES = 3_000_000
#: Batches per worker: enough to balance uneven files, few enough to keep pickling cheap; big trees are cut
#: into batches of at most ~FILES_PER_BATCH files so the progress bar moves and stragglers stay small.
BATCHES_PER_WORKER = 6
FILES_PER_BATCH = 250

Progress = Callable[[int, int], None]


@dataclass
class FileScan:
    """What one file contributed; built in a worker process, so it only holds picklable model types."""

    relpath: str
    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    statements: int = 0


def scan(
    root: str | Path,
    config: Config,
    *,
    jobs: int | None = None,
    dsn: str | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan a directory (or one file) and judge every write it contains.

    ``jobs``: worker processes (None = one per core when the tree is big enough, 1 = no pool).
    ``dsn``: also read table definitions from this live database (read-only catalog queries).
    ``progress(done, total)`` is called as files finish.
    """
    started = time.perf_counter()
    live = _live_tables(dsn) if dsn else []  # first: a bad DSN fails before minutes of scanning
    found = discover(root, config.include, config.exclude, config.max_file_size)
    files = scan_files(found.root, found.files, jobs=jobs, progress=progress)
    result = judge_tree(str(found.root), files, config, live=live)
    result.files_scanned = len(found.files)
    result.sources = found.files
    result.diagnostics = sorted(found.diagnostics + result.diagnostics, key=lambda d: (d.path, d.line, d.kind))
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def judge_tree(root: str, files: Sequence[FileScan], config: Config, live: Sequence[TableInfo] = ()) -> ScanResult:
    """The whole-tree half of the pipeline: catalog, resolution, rules, suppressions, table summaries."""
    facts = [fact for f in files for fact in f.facts]
    catalog = Catalog.build(facts, live=live, search_path=tuple(config.search_path))
    resolver = Resolver(catalog, config)
    writes = sorted((w for f in files for w in f.writes), key=lambda w: (w.relpath, w.line, w.column))
    variants = [r for r in map(resolver.resolve, writes) if not not_a_model(r)]
    resolved = _distinct_writes(variants)  # the inventory: one write per site; the rules judge every variant

    outcome = apply_suppressions(_judge_writes(variants, config, resolver), {f.relpath: f.suppressions for f in files})
    problems = assign_fingerprints([(p, p.message) for p in outcome.problems])
    findings = sorted(outcome.kept + problems, key=evidence.finding_order)
    return ScanResult(
        root=root,
        findings=findings,
        writes=resolved,
        diagnostics=[d for f in files for d in f.diagnostics],
        tables=summarize_tables(resolver, resolved, findings),
        files_with_sql=sum(1 for f in files if f.statements),
        statements=sum(f.statements for f in files),
        statements_by_file={f.relpath: f.statements for f in files if f.statements},
        suppressed=outcome.suppressed,
        catalog=catalog.tables(),
    )


def _judge_writes(resolved: Iterable[ResolvedWrite], config: Config, resolver: Resolver) -> list[Finding]:
    """Every rule's verdict on every PostgreSQL write (another database's writes are listed, never judged)."""
    ctx = RuleContext(config=config, guarded_matches=resolver.guarded_matches)
    postgres = [write for write in resolved if write.write.dialect is None]
    verdicts = [(found, write.write.sql) for write in postgres for found in check_write(write, ctx)]
    return _one_per_site(assign_fingerprints(verdicts))


def _distinct_writes(resolved: Iterable[ResolvedWrite]) -> list[ResolvedWrite]:
    """One write per site: a string built in branches yields one candidate per combination
    (``f"INSERT INTO {schema}jobs"`` as ``dbos.jobs`` and ``public.jobs``), which is one write with
    alternatives. The variant kept is the one that says the least about the timestamp (omits it, then cannot
    tell, then sets it; a known table before a dynamic one), so the inventory never looks safer than the rules
    judged it."""
    by_site: dict[tuple[object, ...], list[ResolvedWrite]] = {}
    for r in resolved:
        w = r.write
        by_site.setdefault((w.relpath, w.line, w.column, w.kind), []).append(r)
    distinct = []
    for variants in by_site.values():
        primary = min(variants, key=lambda r: (_TIMESTAMP_RANK[r.sets_timestamp], r.table is None))
        others = {r.table or "(dynamic)" for r in variants} - {primary.table or "(dynamic)"}
        distinct.append(replace(primary, alternatives=tuple(sorted(others))) if others else primary)
    return distinct


#: Which variant of a site the inventory shows: the one that omits the timestamp first.
_TIMESTAMP_RANK = {False: 0, None: 1, True: 2}


def _one_per_site(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and statement site: the most severe variant (ties: the first found)."""
    best: dict[tuple[str, str, int, int], Finding] = {}
    for found in findings:
        key = (found.rule, found.relpath, found.line, found.column)
        if key not in best or found.severity.rank > best[key].severity.rank:
            best[key] = found
    return list(best.values())


def summarize_tables(
    resolver: Resolver, resolved: Iterable[ResolvedWrite], findings: Sequence[Finding] = ()
) -> list[TableSummary]:
    """Every table written to, plus every guarded table (with zero writers if nothing writes it).

    A table's severity is its configured one, else that of its worst finding (findings are ranked by
    evidence), else the default for a guarded table nobody writes wrongly."""
    writers = Counter(
        table
        for r in resolved
        if r.write.dialect is None
        for table in (r.table, *r.alternatives)
        if table and table != "(dynamic)"
    )
    guarded = dict(resolver.guarded_tables())
    worst: dict[str, Severity] = {}
    for found in findings:
        if found.table and (found.table not in worst or found.severity.rank > worst[found.table].rank):
            worst[found.table] = found.severity
    for name in guarded:
        table_cfg = resolver.config.table(name)
        if name in worst and not (table_cfg and table_cfg.severity) and resolver.config.default_severity is None:
            guarded[name] = worst[name]
    summaries = []
    for name in sorted(set(writers) | set(guarded)):
        info = resolver.catalog.lookup(name)
        column = resolver.timestamp_column(name, info)
        summaries.append(
            TableSummary(
                name=name,
                guarded=name in guarded,
                default=info.defaults.get(column) if info else None,
                writers=writers[name],
                severity=guarded.get(name),
            )
        )
    return summaries


def _live_tables(dsn: str) -> list[TableInfo]:
    from guard.scan.live_catalog import load_live_catalog  # psycopg only when --dsn is given

    return load_live_catalog(dsn)


# ---------------------------------------------------------------------------------------------------------
# per-file work


def scan_files(
    root: Path, files: Sequence[SourceFile], jobs: int | None = None, progress: Progress | None = None
) -> list[FileScan]:
    """Extract and parse every file, in a process pool when that pays off. Results follow ``files``' order."""
    by_language: dict[str, list[str]] = {}
    for source in files:
        by_language.setdefault(source.language, []).append(source.relpath)
    workers = _worker_count(files, jobs)
    if workers <= 1:
        _init_worker(str(root), by_language)
        results = []
        gc.freeze()
        try:
            for done, source in enumerate(files, start=1):
                results.append(scan_file(source))
                if progress:
                    progress(done, len(files))
        finally:
            gc.unfreeze()  # what was alive before the scan is collectable again (a library caller's garbage)
        return results
    by_path: dict[str, FileScan] = {}
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_pool_worker, initargs=(str(root), by_language)
    ) as pool:
        count = max(workers * BATCHES_PER_WORKER, len(files) // FILES_PER_BATCH)
        futures = [pool.submit(_scan_batch, batch) for batch in _batches(files, count)]
        try:
            for future in as_completed(futures):
                for file_scan in future.result():
                    by_path[file_scan.relpath] = file_scan
                if progress:
                    progress(len(by_path), len(files))
        except BrokenProcessPool:
            raise GuardError(
                "a scanner worker process died (out of memory, or a parser crash on one file); "
                "rerun with --jobs 1 to see which file, and exclude it in guard.toml"
            ) from None
    return [by_path[f.relpath] for f in files]


def _worker_count(files: Sequence[SourceFile], jobs: int | None) -> int:
    big = len(files) >= PARALLEL_MIN_FILES or sum(f.size for f in files) >= PARALLEL_MIN_BYTES
    return worker_count(len(files), jobs, worth_a_pool=big)


def _batches(files: Sequence[SourceFile], count: int) -> list[list[SourceFile]]:
    """Cut the files, in path order, into ``count`` runs of about equal weight.

    Contiguous runs keep a package's modules together, so the per-worker cache of modules parsed for
    cross-module constants is reused instead of every worker parsing the same imports again.
    """
    ordered = sorted(files, key=lambda f: f.relpath)
    weights = [f.size + 2_000 for f in ordered]  # per-file overhead counts too
    target = sum(weights) / max(1, count)
    batches: list[list[SourceFile]] = [[]]
    load = 0
    for source, weight in zip(ordered, weights, strict=True):
        if load >= target and len(batches) < count:
            batches.append([])
            load = 0
        batches[-1].append(source)
        load += weight
    return [b for b in batches if b]


#: Per process: each front-end bound to the tree (the Python one keeps the tree's module map, for constants
#: imported across modules).
_READERS: dict[str, FileReader] = {}


def _init_worker(root: str, relpaths_by_language: dict[str, list[str]]) -> None:
    _READERS.clear()
    for frontend in FRONTENDS:
        _READERS[frontend.name] = frontend.reader(root, relpaths_by_language.get(frontend.name, []))


def _init_pool_worker(root: str, relpaths_by_language: dict[str, list[str]]) -> None:
    """A pool worker's set-up; then everything alive so far is frozen out of the garbage collector for good.

    Parsing builds millions of short-lived AST nodes, so the collector runs thousands of times per worker, and
    each full collection used to traverse every object inherited from the parent (imported modules, the
    config) and the front-ends' module maps, none of which can become garbage before the worker exits. Freezing
    them (``gc.freeze``, as the docs advise after a fork) cut ~6% of the CPU of a scan of small modules; it
    changes nothing in what is found. The in-process path (``jobs=1``) freezes only for the scan's duration."""
    _init_worker(root, relpaths_by_language)
    gc.freeze()


def _scan_batch(batch: list[SourceFile]) -> list[FileScan]:
    return [scan_file(source) for source in batch]


def scan_file(source: SourceFile) -> FileScan:
    """Extract, parse and collect one file. Never raises: failures become diagnostics."""
    result = FileScan(source.relpath)
    try:
        data = as_utf8(read_source(source.path, source.max_size))
    except Unreadable as exc:
        result.diagnostics.append(Diagnostic(source.relpath, 0, exc.kind, str(exc)))
        return result
    if b"\0" in data:
        result.diagnostics.append(
            Diagnostic(source.relpath, 0, "skipped-binary", "contains NUL bytes; not a text file, not scanned")
        )
        return result
    try:
        with warnings.catch_warnings():  # compiling user code warns about *their* escapes; not guard's output
            warnings.simplefilter("ignore")
            _scan_text(source, data, result)
    except Exception as exc:  # an extractor bug must cost one file, not the scan
        result.diagnostics.append(
            Diagnostic(source.relpath, 0, "internal-error", f"guard failed on this file ({type(exc).__name__}: {exc})")
        )
    return result


def _scan_text(source: SourceFile, data: bytes, result: FileScan) -> None:
    reader = _READERS.get(source.language)
    frontend = FRONTENDS.get(source.language)
    if reader is None or frontend is None:
        message = f"no front-end reads {source.language!r} files; not scanned"
        result.diagnostics.append(Diagnostic(source.relpath, 0, "skipped-language", message))
        return
    extraction = reader.extract(source.relpath, data)
    result.diagnostics.extend(extraction.diagnostics)
    result.facts.extend(extraction.facts)
    annotate = extraction.annotate or _path_evidence
    result.writes.extend(annotate(w, ((w.line, w.column - 1),)) for w in extraction.writes)
    result.statements += len(extraction.writes)
    for candidate in extraction.candidates:
        parsed = parse_candidate(candidate)
        result.writes.extend(annotate(w, candidate.sites) for w in parsed.writes)
        if not extraction.reverts_schema(candidate):  # DDL in an Alembic downgrade() undoes the upgrade
            # ... and so does a down section inside one .sql candidate (``-- migrate:down``, ``-- +goose Down``)
            own = source.relpath
            result.facts.extend(f for f in parsed.facts if f.relpath != own or not extraction.reverts_line(f.line))
        result.diagnostics.extend(parsed.diagnostics)
        result.statements += parsed.statements
    if extraction.text is not None:
        result.suppressions.extend(find_suppressions(extraction.text, source.relpath, frontend.comment_markers))


def _path_evidence(write: WriteStatement, _sites: Sequence[tuple[int, int]]) -> WriteStatement:
    """For front-ends that do not look around a write: its file's path still says whether it is a batch job."""
    found = evidence.path_evidence(write.relpath)
    return replace(write, evidence=evidence.merge(write.evidence, found)) if found else write
