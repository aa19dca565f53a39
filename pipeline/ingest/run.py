"""The ingest stage: sources in, canonical tables and an ingest report out.

:func:`ingest` finds the sources under the given paths, reads each with its adapter
in batches, canonicalises, merges, and reconciles the counts per source file:

    input records = accepted + merged duplicates + rejected

With several workers, sources are read and canonicalised in a process pool: a USPTO
XML file by batches of documents (its batches planned here, parsed there), a table
export (CSV, workbook) by batches parsed here and canonicalised there, any other source
whole. Results are taken in input order, and a batch is what it would be read
in one process, so the tables are the same bytes whatever the number of workers.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import schema
from ..errors import InputError
from ..config import Limits
from .canonical import canonicalize
from .detect import detect, not_regular
from .sheets import export_date
from .merge import merge_sources
from .tabular import TabularAdapter
from .uspto_xml import DocBatch, UsptoXmlAdapter

__all__ = ["ingest", "IngestResult", "find_sources", "order_sources", "FORMAT_PRECEDENCE", "run_stage",
           "run_and_write", "IngestRun", "METRICS", "resolve_workers"]

# Richer sources first: their values win when the same publication appears twice.
FORMAT_PRECEDENCE = ("uspto_xml", "patentsview", "cn_export", "lens", "lens_cleaned")
_NOT_DATA = ("readme", "license", "licence", ".gitkeep", ".ds_store")


@dataclass
class IngestResult:
    """Canonical tables plus the per-source report."""

    tables: dict[str, pd.DataFrame]
    report: dict = field(default_factory=dict)


def _skip_reason(path: Path, skip: Mapping[str, str]) -> str | None:
    """The reason given for skipping ``path`` on purpose, or None.

    A pattern matches the path's last components (``uspto-xml/xml__basic.xml``, or just
    a file name; glob characters allowed), so the same params work wherever the data
    folder sits.
    """
    parts = path.parts
    for pattern, reason in skip.items():
        pat = [p for p in Path(pattern).parts if p not in (".", "..")]
        if pat and len(pat) <= len(parts) and all(
                fnmatch.fnmatchcase(a, b) for a, b in zip(parts[-len(pat):], pat)):
            return f"skipped on purpose: {reason}"
    return None


def find_sources(paths: Iterable[str | Path], skip: Mapping[str, str] | None = None, limits: Limits = Limits()
                 ) -> tuple[list[tuple[Path, object]], list[dict], list[dict]]:
    """Resolve input paths to (source, adapter) pairs.

    Files named on the command line must be readable (else :class:`InputError`).
    Files found by walking a folder that are not patent data by their name (README,
    LICENSE, ``.md``) are passed over; those listed in ``skip`` (glob → reason) are
    listed as skipped with that reason, and so are named pipes, sockets and devices,
    which are never opened (a pipe would block the run). Any other file of a folder
    that cannot be read is a failure (a file of unknown format in the input is a
    mistake to report, not to pass over). A folder holding PatentsView tables is one
    source. ``limits`` go to the adapters (:func:`pipeline.ingest.detect.detect`).

    Returns
    -------
    sources, skipped, failures
    """
    skip = dict(skip or {})
    sources, skipped, failures = [], [], []
    seen = set()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            if reason := _skip_reason(path, skip):
                skipped.append({"file": str(path), "reason": reason})
                continue
            sources.append((path, detect(path, limits)))
            continue
        inside = []
        for p in sorted(path.rglob("*")):
            if p.is_symlink():
                # A link inside an input folder may point anywhere (../../etc): not followed.
                skipped.append({"file": str(p), "reason": "symbolic link not followed"})
            elif _via_symlink(p, path):
                continue
            elif what := not_regular(p):
                skipped.append({"file": str(p), "reason": f"not a regular file but a {what}; not read"})
            else:
                inside.append(p)
        for sub in sorted([path, *[p for p in inside if p.is_dir()]]):
            try:
                adapter = detect(sub, limits)
            except InputError:
                continue
            sources.append((sub, adapter))
            seen.update(f for f in sub.iterdir() if f.is_file())
        for f in (p for p in inside if p.is_file()):
            if f in seen or any(part.startswith(".") for part in f.relative_to(path).parts):
                continue
            if f.name.lower().startswith(_NOT_DATA) or f.suffix.lower() in (".md", ".py"):
                continue
            if reason := _skip_reason(f, skip):
                skipped.append({"file": str(f), "reason": reason})
                continue
            try:
                sources.append((f, detect(f, limits)))
            except InputError as exc:
                failures.append({"file": str(f), "reason": exc.cause})
    return sources, skipped, failures


def _via_symlink(p: Path, root: Path) -> bool:
    """True if ``p`` or a folder between ``root`` and ``p`` is a symbolic link."""
    while p != root:
        if p.is_symlink():
            return True
        p = p.parent
    return False


def _format_rank(adapter) -> int:
    name = getattr(adapter, "name", "")
    return FORMAT_PRECEDENCE.index(name) if name in FORMAT_PRECEDENCE else len(FORMAT_PRECEDENCE)


def order_sources(sources: list[tuple[Path, object]]) -> list[tuple[Path, object, str | None]]:
    """Sources in precedence order, each with its export date (or None).

    The order decides which value a repeated publication keeps (:mod:`pipeline.ingest.merge`):
    the richer format first (:data:`FORMAT_PRECEDENCE`), then the newer export of the
    same format (a workbook's creation date, :func:`pipeline.ingest.sheets.export_date`;
    undated files after dated ones), then the file path.
    """
    dated = [(path, adapter, export_date(path) if isinstance(adapter, TabularAdapter) and path.is_file() else None)
             for path, adapter in sources]
    dated.sort(key=lambda t: str(t[0]))
    dated.sort(key=lambda t: t[2] or "", reverse=True)  # stable: newest first, undated ("") last
    dated.sort(key=lambda t: _format_rank(t[1]))
    return dated


def _concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return schema.empty(table) if table in schema.TABLES else pd.DataFrame(columns=["pub_id", "key"])
    return pd.concat(frames, ignore_index=True)


def resolve_workers(workers: int | str) -> int:
    """Worker processes for ``ingest.workers``: ``"auto"`` is the cores this process may use.

    Examples
    --------
    >>> resolve_workers(3)
    3
    >>> resolve_workers("auto") >= 1
    True
    """
    if workers == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # no affinity outside Linux
            return max(1, os.cpu_count() or 1)
    return int(workers)


# ---------------------------------------------------------------- reading, in this or a worker process
def _canonical_batch(batch, k: int, label: str, fmt: str, limits: Limits) -> dict[str, pd.DataFrame]:
    """The canonical tables of batch ``k`` of a source (``_batch`` marks repeats within a file)."""
    out = {}
    for name, df in canonicalize(batch, label, fmt, limits).items():
        out[name] = df if name in ("rejects", "links") else df.assign(_batch=k)
    return out


@dataclass
class _Read:
    """What one unit of work gives back: canonical frames per table and the records read."""

    tables: dict[str, list[pd.DataFrame]]
    batch_records: list[int]
    sheets: list = field(default_factory=list)
    skipped_sheets: list = field(default_factory=list)


def _read_source(path: Path, adapter, label: str, size: int, limits: Limits,
                 on_batch: Callable[[str, int], None] | None = None) -> _Read:
    """A whole source read and canonicalised, batch by batch (``on_batch`` after each)."""
    out = _Read({}, [])
    for k, batch in enumerate(adapter.read(path, batch_size=size)):
        out.batch_records.append(batch.n_records)
        for name, df in _canonical_batch(batch, k, label, adapter.name, limits).items():
            out.tables.setdefault(name, []).append(df)
        if on_batch:
            on_batch(label, batch.n_records)
    out.sheets = list(getattr(adapter, "sheets", []) or [])
    out.skipped_sheets = list(getattr(adapter, "skipped_sheets", []) or [])
    return out


def _read_xml_batch(path: Path, adapter: UsptoXmlAdapter, plan: DocBatch, label: str, limits: Limits) -> _Read:
    """One planned batch of documents of a USPTO XML file, canonicalised."""
    batch = adapter.read_batch(path, plan)
    tables = _canonical_batch(batch, plan.index, label, adapter.name, limits)
    return _Read({name: [df] for name, df in tables.items()}, [batch.n_records])


def _read_table_batch(batch, k: int, label: str, fmt: str, limits: Limits) -> _Read:
    """Batch ``k`` of a table export (parsed in the parent), canonicalised."""
    return _Read({name: [df] for name, df in _canonical_batch(batch, k, label, fmt, limits).items()}, [batch.n_records])


def _sheets_read(sheets: list, skipped: list) -> _Read:
    """The end of a table export: the sheets its reader took and skipped."""
    return _Read({}, [], sheets, skipped)


def _in_worker(fn, *args):
    """Run ``fn`` in a worker; an exception comes back as a value (named errors take
    arguments of their own, so they cannot always be pickled as exceptions)."""
    try:
        return fn(*args)
    except Exception as exc:  # re-raised as such in the parent (_result)
        return _Failure(type(exc), exc.args, dict(vars(exc)))


@dataclass
class _Failure:
    kind: type
    args: tuple
    attrs: dict


def _result(future: Future) -> _Read:
    out = future.result()
    if isinstance(out, _Failure):
        exc = out.kind.__new__(out.kind)
        exc.args = out.args
        vars(exc).update(out.attrs)
        raise exc
    return out


def _units(sources, relative_to, batch_size, table_batch_size, limits) -> Iterator[tuple]:
    """(source index, function, arguments) of each unit of work, in input order.

    A USPTO XML file gives a unit per planned batch, found as the units are taken (so
    no more of the plan than the units in flight is held); a table export (CSV, workbook)
    a unit per batch, parsed here and canonicalised by a worker — canonicalisation is
    most of the cost —, then one carrying its sheets; any other source one unit.
    """
    for i, (path, adapter, _) in enumerate(sources):
        label = _label(path, relative_to)
        if isinstance(adapter, UsptoXmlAdapter):
            for plan in adapter.plan(path, batch_size=batch_size):
                yield i, _read_xml_batch, (path, adapter, plan, label, limits)
        elif isinstance(adapter, TabularAdapter):
            size = _size(adapter, batch_size, table_batch_size)
            for k, batch in enumerate(adapter.read(path, batch_size=size)):
                yield i, _read_table_batch, (batch, k, label, adapter.name, limits)
            yield i, _sheets_read, (list(getattr(adapter, "sheets", []) or []),
                                    list(getattr(adapter, "skipped_sheets", []) or []))
        else:
            yield i, _read_source, (path, adapter, label, _size(adapter, batch_size, table_batch_size), limits)


def _parallel_reads(units: Iterator[tuple], workers: int) -> Iterator[tuple[int, _Read]]:
    """Results of ``units`` in their order, computed by ``workers`` processes.

    At most two units per worker are in flight, so memory follows the batch, not the
    input. Workers are forked where the platform allows (no re-import of the package).
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    pending: deque[tuple[int, Future]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for i, fn, args in units:
            pending.append((i, pool.submit(_in_worker, fn, *args)))
            if len(pending) >= 2 * workers:
                j, fut = pending.popleft()
                yield j, _result(fut)
        while pending:
            j, fut = pending.popleft()
            yield j, _result(fut)


def _serial_reads(sources, relative_to, batch_size, table_batch_size, limits, on_batch) -> Iterator[tuple[int, _Read]]:
    """Each source read in this process, progress reported batch by batch."""
    for i, (path, adapter, _) in enumerate(sources):
        yield i, _read_source(path, adapter, _label(path, relative_to), _size(adapter, batch_size, table_batch_size),
                              limits, on_batch)


def _size(adapter, batch_size: int, table_batch_size: int | None) -> int:
    """Records per batch: table exports may take larger batches (:func:`ingest`)."""
    return table_batch_size if table_batch_size and isinstance(adapter, TabularAdapter) else batch_size


def ingest(
    paths: Iterable[str | Path],
    *,
    limits: Limits = Limits(),
    batch_size: int = 2000,
    table_batch_size: int | None = None,
    relative_to: Path | None = None,
    on_batch: Callable[[str, int], None] | None = None,
    skip: Mapping[str, str] | None = None,
    workers: int | str = 1,
) -> IngestResult:
    """Ingest patent sources into canonical tables.

    Parameters
    ----------
    paths : iterable of path-like
        Files and folders; formats are detected from content.
    limits : Limits
        Longest accepted text per field, and bounds on workbooks and sheets.
    batch_size : int
        Records per batch read from streaming sources.
    table_batch_size : int, optional
        Records per batch of table exports (CSV, workbooks), when larger batches pay:
        a workbook is held whole by its reader anyway, and each batch has a fixed cost.
    relative_to : Path, optional
        Source paths are written relative to this folder (stable provenance).
    on_batch : callable(source, n_records), optional
        Progress callback, called after each batch.
    skip : mapping of str to str, optional
        Files not to read, on purpose: path glob → reason (reported as skipped).
    workers : int or "auto"
        Processes reading and canonicalising (``"auto"``: one per core); the tables and
        the report are the same whatever the number.

    Returns
    -------
    IngestResult
        ``report["failures"]`` lists the files that yielded no record (all rejected, or
        none at all) and the unreadable files found in input folders, each with the
        reason; the caller decides whether that fails the run.
    """
    sources, skipped, failures = find_sources(paths, skip, limits)
    for entry in (*skipped, *failures):  # named as the sources are: the report is the same wherever the checkout is
        entry["file"] = _label(Path(entry["file"]), relative_to)
    ordered = order_sources(sources)
    n_workers = resolve_workers(workers)
    if n_workers > 1:
        reads = _parallel_reads(_units(ordered, relative_to, batch_size, table_batch_size, limits), n_workers)
    else:
        reads = _serial_reads(ordered, relative_to, batch_size, table_batch_size, limits, on_batch)
    parts, file_reports = [], []
    labels = [_label(p, relative_to) for p, _, _ in ordered] if n_workers > 1 else None
    for i, read in _by_source(reads, on_batch, labels):
        path, adapter, exported = ordered[i]
        label = _label(path, relative_to)
        n_records = sum(read.batch_records)
        # locations (per applicant group) and conflicts (between records) come after merging.
        part = {name: _concat(read.tables.get(name, []), name) for name in [*schema.TABLES, "links"]
                if name not in ("locations", "conflicts")}
        sheets, skipped_sheets = read.sheets, read.skipped_sheets
        del read  # the per-batch frames, now concatenated
        parts.append(part)
        rej = part["rejects"]
        rec_rej = rej[rej["level"] == "record"]
        file_reports.append(
            {
                "file": label,
                "format": adapter.name,
                "records": n_records,
                "rejected": int(len(rec_rej)),
                "field_rejects": int((rej["level"] == "field").sum()),
                "top_reject_reasons": rej["reason"].value_counts().head(5).to_dict(),
                **({"exported": exported} if exported else {}),
                **({"sheets": sheets} if len(sheets) > 1 or (sheets and sheets[0]["sheet"]) else {}),
                **({"sheets_without_header": skipped_sheets} if skipped_sheets else {}),
            }
        )
    tables, counts = merge_sources(parts)
    for rank, rep in enumerate(file_reports):
        rep["accepted"] = int(counts["accepted"].get(rank, 0))
        rep["merged_duplicates"] = int(counts["merged"].get(rank, 0))
        rep["conflicts"] = int(counts["conflicts"].get(rank, 0))  # its values not kept (table conflicts)
        rep["reconciles"] = rep["records"] == rep["accepted"] + rep["merged_duplicates"] + rep["rejected"]
        if rep["accepted"] + rep["merged_duplicates"] == 0:
            top = next(iter(rep["top_reject_reasons"]), None)
            why = (f"all {rep['records']} records rejected (top reason: {top})" if rep["records"]
                   else "no records found")
            failures.append({"file": rep["file"], "reason": why})
    report = _report(tables, file_reports, skipped)
    report["failures"] = failures
    return IngestResult(tables=tables, report=report)


def _by_source(reads: Iterator[tuple[int, _Read]], on_batch, labels: list[str] | None
               ) -> Iterator[tuple[int, _Read]]:
    """Units' results joined per source, in source order (``labels``: report progress per unit)."""
    current, acc = None, None
    for i, read in reads:
        if labels and on_batch:
            for n in read.batch_records:
                on_batch(labels[i], n)
        if i != current:
            if acc is not None:
                yield current, acc
            current, acc = i, read
            continue
        acc.batch_records += read.batch_records
        acc.sheets += read.sheets
        acc.skipped_sheets += read.skipped_sheets
        for name, frames in read.tables.items():
            acc.tables.setdefault(name, []).extend(frames)
    if acc is not None:
        yield current, acc


def _label(path: Path, relative_to: Path | None) -> str:
    """How the report names an input file: relative to ``relative_to`` when inside it."""
    return str(path.relative_to(relative_to)) if relative_to and path.is_relative_to(relative_to) else str(path)


def _report(tables: dict[str, pd.DataFrame], files: list[dict], skipped: list[dict]) -> dict:
    pats, parties, cits = tables["patents"], tables["parties"], tables["citations"]
    grants = pats[pats["grant_date"].notna()]
    return {
        "files": files,
        "skipped": skipped,
        "reconciles": all(f["reconciles"] for f in files),
        "totals": {
            "records": sum(f["records"] for f in files),
            "patents": len(pats),
            "merged_duplicates": sum(f["merged_duplicates"] for f in files),
            "rejected_records": sum(f["rejected"] for f in files),
            "families": int(pats["family_id"].nunique()),
            "by_type": pats["patent_type"].value_counts().sort_index().to_dict(),
            "by_country": pats["country"].value_counts().sort_index().to_dict(),
            "utility_grants": int(((grants["patent_type"] == "invention") & (grants["country"] == "US")).sum()),
            "design_grants": int((grants["patent_type"] == "design").sum()),
            "citations": len(cits),
            "citations_resolved": int(cits["resolved_pub_id"].notna().sum()),
            "npl": len(tables["npl"]),
            "inventors": int((parties["role"] == "inventor").sum()),
            "assignees": int((parties["role"] == "assignee").sum()),
            "applicants": int((parties["role"] == "applicant").sum()),
            "classifications": len(tables["classifications"]),
            "events": len(tables["events"]),
            "events_by_type": tables["events"]["event_type"].value_counts().sort_index().to_dict(),
            "forward_citations": len(tables["forward_citations"]),
            "source_labels": len(tables["source_labels"]),
            "status": pats["status"].value_counts().sort_index().to_dict(),
            "rejects": len(tables["rejects"]),
            "conflicts": len(tables["conflicts"]),
        },
    }


def run_stage(params, root: Path, on_batch: Callable[[str, int], None] | None = None) -> IngestResult:
    """The ingest stage as ``dvc repro`` runs it: the inputs, skips and registers of params.

    Parameters
    ----------
    params : pipeline.config.IngestParams
    root : Path
        The project folder; relative paths of params are taken from it.
    on_batch : callable, optional
        Progress callback.

    Returns
    -------
    IngestResult
        As :func:`ingest`, with the applicants and assignees that the sources left
        without a place located by :func:`pipeline.locate.locate` (routes in
        ``parties.located_by``), ``tables["locations"]`` (one row per applicant group)
        and ``report["located"]`` (groups per route).
    """
    result = ingest([root / p for p in params.input], limits=params.limits, batch_size=params.batch_size,
                    table_batch_size=params.table_batch_size, workers=params.workers,
                    relative_to=root, on_batch=on_batch, skip=params.skip)
    if params.registers:
        locate_applicants(result, [root / r for r in params.registers], labels=list(params.registers), **params.locate)
    return result


#: The report totals the stage writes as its DVC metrics (``ingest.metrics``).
METRICS = ("records", "patents", "merged_duplicates", "rejected_records", "rejects", "families", "citations",
           "inventors", "assignees")


@dataclass
class IngestRun:
    """What :func:`run_and_write` read and wrote (the CLI prints it)."""

    result: IngestResult
    written: dict[str, Path]
    report_path: Path
    metrics_path: Path | None = None


def run_and_write(params, root: Path, *, paths: Iterable[str | Path] | None = None, out: Path | None = None,
                  report: Path | None = None, on_batch: Callable[[str, int], None] | None = None) -> IngestRun:
    """The ``patnav ingest`` command: ingest, then write the canonical tables and the report.

    Without ``paths`` and ``out`` it is the DVC stage: the sources of params
    (:func:`run_stage`, registers included), the tables to ``ingest.out``, the report to
    ``ingest.report`` and the metrics (:data:`METRICS`) to ``ingest.metrics``. Files named
    in ``paths`` are ingested without the registers; with ``out`` the tables go there and
    the report (unless ``report`` names it) to ``OUT/ingest_report.json``, and no metrics
    are written.

    Parameters
    ----------
    params : pipeline.config.IngestParams
    root : Path
        The project folder; relative paths of params are taken from it.
    """
    from .. import io

    default_run = not paths and out is None
    report_path = report or (root / params.report if out is None else out / "ingest_report.json")
    out = out or root / params.out
    if paths:  # files named on the command line: no registers unless the stage runs
        result = ingest(paths, limits=params.limits, batch_size=params.batch_size, relative_to=root,
                        table_batch_size=params.table_batch_size, on_batch=on_batch, skip=params.skip,
                        workers=params.workers)
    else:
        result = run_stage(params, root, on_batch=on_batch)
    written = io.write_tables(result.tables, out)
    io.write_json(result.report, report_path)
    metrics_path = None
    if default_run:  # the DVC stage: metrics for `dvc metrics show`
        totals = result.report["totals"]
        metrics_path = io.write_json({k: totals[k] for k in METRICS}, root / params.metrics)
    return IngestRun(result=result, written=written, report_path=report_path, metrics_path=metrics_path)


def locate_applicants(result: IngestResult, registers: Iterable[Path], *, fuzzy_min: float = 90,
                      accept: Iterable[str] = (), labels: list[str] | None = None) -> IngestResult:
    """Locate the applicants of ``result`` through ``registers`` (in place; see :func:`run_stage`).

    ``labels`` name the registers in the report (default: their paths).
    """
    registers = list(registers)
    from .. import locate

    regs = [locate.load_register(p) for p in registers]
    parties, groups = locate.locate(result.tables["parties"], regs, accept=list(accept), fuzzy_min=fuzzy_min)
    result.tables["parties"] = schema.validate(schema.conform(parties, "parties"), "parties")
    result.tables["locations"] = schema.validate(schema.conform(groups.reset_index(drop=True), "locations"), "locations")
    by_route = groups["located_by"].fillna("unlocated").value_counts().sort_index()
    result.report["located"] = {
        "registers": labels or [str(p) for p in registers],
        "groups": int(len(groups)),
        "by_route": {str(k): int(v) for k, v in by_route.items()},
    }
    return result
