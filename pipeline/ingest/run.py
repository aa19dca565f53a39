"""The ingest stage: sources in, canonical tables and an ingest report out.

:func:`ingest` finds the sources under the given paths, reads each with its adapter
in batches, canonicalises, merges, and reconciles the counts per source file:

    input records = accepted + merged duplicates + rejected

With several workers, sources are read and canonicalised in a process pool: a USPTO
XML file by batches of documents (its batches planned here, parsed there), a table
export (CSV, workbook) by batches parsed here and canonicalised there, any other source
whole. Results are taken in input order, and a batch is what it would be read
in one process, so the tables are the same bytes whatever the number of workers.
The stage (:func:`run_stage`) also reads its registers in a process of their own
while the sources are read, and locates the applicant groups in parts, one per
worker (:func:`locate_part_of`: a group lies whole in one part).
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

import numpy as np
import pandas as pd
import pyarrow as pa

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
           "run_and_write", "IngestRun", "METRICS", "resolve_workers", "locate_applicants", "locate_part_of"]

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
        _raise(out)
    return out


def _raise(failure: _Failure):
    """Raise, here, the exception a worker returned as a value."""
    exc = failure.kind.__new__(failure.kind)
    exc.args = failure.args
    vars(exc).update(failure.attrs)
    raise exc


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
    pending: deque[tuple[int, Future]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=_fork_context()) as pool:
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
    registers = [root / r for r in params.registers]
    n_workers = resolve_workers(params.workers)
    with _RegisterLoader(registers, n_workers) as loader:
        # The registers load in a process of their own while the sources are read (a
        # fixed few seconds that would otherwise wait for the merge).
        result = ingest([root / p for p in params.input], limits=params.limits, batch_size=params.batch_size,
                        table_batch_size=params.table_batch_size, workers=params.workers,
                        relative_to=root, on_batch=on_batch, skip=params.skip)
        if registers:
            locate_applicants(result, registers, labels=list(params.registers), workers=n_workers,
                              loaded=loader.results(), **params.locate)
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
                      accept: Iterable[str] = (), labels: list[str] | None = None, workers: int | str = 1,
                      loaded: list[pd.DataFrame] | None = None) -> IngestResult:
    """Locate the applicants of ``result`` through ``registers`` (in place; see :func:`run_stage`).

    ``labels`` name the registers in the report (default: their paths). With several
    ``workers`` the applicant groups are located in parts, one per process
    (:func:`_locate_parts`: the same rows and groups as in one). ``loaded``: the
    registers already read by :func:`pipeline.locate.load_register`, in order.
    """
    registers = list(registers)
    from .. import locate

    regs = loaded if loaded is not None else [locate.load_register(p) for p in registers]
    parties, groups = _locate_parts(result.tables["parties"], regs, resolve_workers(workers),
                                    accept=list(accept), fuzzy_min=fuzzy_min)
    result.tables["parties"] = schema.validate(schema.conform(parties, "parties"), "parties")
    result.tables["locations"] = schema.validate(schema.conform(groups.reset_index(drop=True), "locations"), "locations")
    by_route = groups["located_by"].fillna("unlocated").value_counts().sort_index()
    result.report["located"] = {
        "registers": labels or [str(p) for p in registers],
        "groups": int(len(groups)),
        "by_route": {str(k): int(v) for k, v in by_route.items()},
    }
    return result


# ---------------------------------------------------------------- locating in parts
#: Fewest applicant and assignee rows worth splitting over processes (a fork and the
#: pickled parts cost about a second).
_LOCATE_SPLIT_ROWS = 100_000
_LOCATE_ROLES = ("applicant", "assignee")  # the roles pipeline.locate.locate places by default
# What forked workers inherit instead of receiving a pickled copy (set only while a pool runs).
_FORKED: dict = {}


def _fork_context():
    """A fork start method where the platform has one (no re-import, inherited memory), else the default."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)


def locate_part_of(parties: pd.DataFrame, n_parts: int) -> np.ndarray:
    """The part (0 … ``n_parts`` − 1) each row of ``parties`` is located in.

    An applicant group (:func:`pipeline.locate.group_keys`) lies whole in one part, by a
    fixed hash of its key, so each part locates its groups as the whole table would:
    :func:`pipeline.locate.locate` decides per group. Rows it does not place (other
    roles, no name) are in part 0.

    Examples
    --------
    >>> p = pd.DataFrame({"role": ["applicant", "inventor", "applicant"], "name_raw": ["甲公司", "乙", "甲公司"],
    ...                   "name_norm": ["甲", None, "甲"]})
    >>> part = locate_part_of(p, 2)
    >>> bool(part[0] == part[2]) and int(part[1]) == 0
    True
    """
    from .. import locate

    part = np.zeros(len(parties), dtype=np.int64)
    sel = (parties["role"].isin(_LOCATE_ROLES).fillna(False).astype(bool)
           & pd.Series(parties["name_raw"], dtype="string").notna()).to_numpy()
    if n_parts > 1 and sel.any():
        keys = locate.group_keys(parties[sel]).fillna("")
        part[sel] = pd.util.hash_pandas_object(keys, index=False).to_numpy() % np.uint64(n_parts)
    return part


def _locate_parts(parties: pd.DataFrame, regs: list[pd.DataFrame], n_workers: int, *, accept: list[str],
                  fuzzy_min: float, min_rows: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`pipeline.locate.locate` over ``n_workers`` processes: the same two tables.

    The rows are split by :func:`locate_part_of`; this process locates part 0 while
    forked workers locate the others. The parts' rows go back to the input's order, and
    the groups to locate's own order (``n_patents`` descending, then the group key,
    unique per group). Fewer than ``min_rows`` rows to place (default
    :data:`_LOCATE_SPLIT_ROWS`), or one worker: one call, here.
    """
    from .. import locate

    min_rows = _LOCATE_SPLIT_ROWS if min_rows is None else min_rows
    part = locate_part_of(parties, n_workers) if n_workers > 1 else np.zeros(len(parties), dtype=np.int64)
    n_sel = int(parties["role"].isin(_LOCATE_ROLES).fillna(False).sum())
    counts = np.bincount(part, minlength=n_workers)
    if n_workers < 2 or n_sel < min_rows or not counts.all():
        return locate.locate(parties, regs, accept=accept, fuzzy_min=fuzzy_min)
    index = parties.index
    rows = parties.reset_index(drop=True)  # positions, to put the parts' rows back in order
    _FORKED["locate"] = (rows, part, regs, accept, fuzzy_min)
    try:
        with ProcessPoolExecutor(max_workers=n_workers - 1, mp_context=_fork_context()) as pool:
            futures = [pool.submit(_in_worker, _locate_part, k) for k in range(1, n_workers)]
            outs = [_locate_part(0), *(_result(f) for f in futures)]
    finally:
        _FORKED.pop("locate", None)
    located = pd.concat([o for o, _ in outs]).sort_index(kind="stable")
    # The columns as one call gives them, down to their Arrow chunks: locate keeps the
    # chunks of its input, and Parquet pages (hence the file's bytes) follow them.
    located = pd.DataFrame({c: _chunked_like(located[c].array, parties[c].array if c in parties else None)
                            for c in located.columns}, index=index)
    groups = [g for _, g in outs if not g.empty] or [outs[0][1]]
    groups = pd.concat(groups, ignore_index=True)
    groups = groups.sort_values(["n_patents", "group"], ascending=[False, True], kind="stable")
    return located, groups.reset_index(drop=True)


def _chunked_like(values, like):
    """``values`` cut into the Arrow chunks of ``like`` when both are Arrow-backed of one kind, else as they are.

    Examples
    --------
    >>> like = pd.concat([pd.Series(["a"], dtype="string"), pd.Series(["b", "c"], dtype="string")]).array
    >>> out = _chunked_like(pd.Series(["x", "y", "z"], dtype="string").array, like)
    >>> [len(c) for c in out.__arrow_array__().chunks], list(out)
    ([1, 2], ['x', 'y', 'z'])
    """
    if like is None or type(values) is not type(like) or not isinstance(like, pd.arrays.ArrowExtensionArray):
        return values
    data, shape = values.__arrow_array__(), [len(c) for c in like.__arrow_array__().chunks]
    if [len(c) for c in data.chunks] == shape or sum(shape) != len(data):
        return values
    starts = np.concatenate([[0], np.cumsum(shape)[:-1]]).astype(int)
    chunks = [data.slice(int(start), n).combine_chunks() for start, n in zip(starts, shape)]
    return type(values)(pa.chunked_array(chunks, type=data.type))


def _locate_part(k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Part ``k`` of the rows :func:`_locate_parts` set aside, located."""
    from .. import locate

    rows, part, regs, accept, fuzzy_min = _FORKED["locate"]
    return locate.locate(rows[part == k], regs, accept=accept, fuzzy_min=fuzzy_min)


class _RegisterLoader:
    """The registers read by :func:`pipeline.locate.load_register` in a process of their own.

    A context manager: reading starts on entry (with one worker, or no register, it is
    done in :meth:`results` instead), :meth:`results` gives the registers in order (a
    register's error raised as reading it here would), and exit ends the process. A
    bare process and pipe, not a pool: no thread runs beside the forks of the reads.
    """

    def __init__(self, registers: list[Path], n_workers: int):
        self.registers = list(registers)
        self.parallel = n_workers > 1 and bool(self.registers)
        self.process = None
        self.conn = None

    def __enter__(self) -> "_RegisterLoader":
        if self.parallel:
            ctx = _fork_context()
            self.conn, child = ctx.Pipe(duplex=False)
            self.process = ctx.Process(target=_load_registers_into, args=(self.registers, child), daemon=True)
            self.process.start()
            child.close()
        return self

    def results(self) -> list[pd.DataFrame]:
        from .. import locate

        if not self.parallel:
            return [locate.load_register(p) for p in self.registers]
        out = []
        for p in self.registers:
            try:
                got = self.conn.recv()
            except EOFError:  # the process died (killed, out of memory): read it here instead
                got = _in_worker(locate.load_register, p)
            if isinstance(got, _Failure):
                _raise(got)
            out.append(got)
        return out

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.conn.close()
            self.process.join(timeout=5)
            if self.process.is_alive():  # still reading: the stage failed before needing it
                self.process.terminate()
                self.process.join()


def _load_registers_into(registers: list[Path], conn) -> None:
    """Read each register and send it (or its error, as a value) down ``conn``, in order."""
    from .. import locate

    try:
        for p in registers:
            got = _in_worker(locate.load_register, p)
            conn.send(got)
            if isinstance(got, _Failure):
                break
    except (BrokenPipeError, EOFError, OSError):  # the stage no longer listens
        pass
    finally:
        conn.close()
