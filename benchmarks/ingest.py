"""Ingest throughput and peak memory on ≥ 100k records REPLICATED from the real files.

    python benchmarks/ingest.py [--only all|uspto|weekly|cn] [--xml-docs 100000] [--tsv-patents 120000]
                                [--weekly-docs 7200] [--cn-rows 100000] [--cn-exports incopat patentics patsnap]
                                [--cn-formats xlsx csv] [--batch-size N] [--work-dir DIR] [--keep]

Inputs are built in a temporary folder by repeating real records from ../shared/data
(USPTO weekly XML slices; PatentsView tables with patent ids made unique per copy;
Chinese database exports, below); every figure printed is labelled "replicated". Each
measurement runs in a fresh subprocess pinned to one core (taskset), so that its peak
RSS is its own. Targets (issue 2, one core): XML ≥ 10 MB/s, TSV ≥ 200k records/s, XML
and PatentsView peak memory flat as the input grows 10× (the adapters read with the
stage's ``ingest.batch_size`` and ``ingest.limits``: PatentsView joins its tables
``limits.join_records`` records at a time); Chinese exports through ``pipeline.ingest``
≥ 5,000 records/s from XLSX and ≥ 50,000 records/s from CSV.

USPTO weekly file against patentpy (``--only weekly``)
------------------------------------------------------
One weekly-style file of ``--weekly-docs`` documents (7,200: ~325 MB, the size of a real
weekly grant file) REPLICATED from the real slices is read, in the same run, by

* patentpy 0.1.4's converter of XML v4 files (``patentpy.convert_xml2.xml2_to_df``: nine
  fields, US citations only, written to a CSV that is then read back into a DataFrame, as
  its ``convert_xml2_to_df`` does), pinned to one core;
* ``pipeline.ingest([file], workers=1)`` (the full canonical model, merge and report
  included), pinned to one core;
* ``pipeline.ingest([file], workers=2)`` pinned to two cores (batches of documents parsed
  in two worker processes; the same output bytes).

The ratios printed are patentpy's time / PatNav's time (above 1: PatNav faster). Peak
memory is the parent's peak RSS plus, with workers, the largest worker's. patentpy is run
when it can be imported and skipped with a message otherwise. Its sdist pins pybind11 2.6,
which does not build on Python 3.11; it installs with::

    pip install "pybind11>=2.10" setuptools wheel
    pip install --no-build-isolation patentpy==0.1.4

"records" are patents (XML documents, g_patent rows, export rows); "in rows" counts every
input line (for PatentsView: all tables — each patent brings ~7 assignee/inventor/CPC rows).

Chinese exports (``--only cn``)
-------------------------------
The real rows of ../shared/data/cn-exports — incoPat ``incopat_autonomous_driving_10000.xlsx``
(18 columns), Patentics ``patentics_zhongkechuangda_cn_511.xlsx`` (75 columns: HYPERLINK
formula cells, abstracts, claims and descriptions, citation lists, dated legal histories)
and PatSnap ``patsnap_green_aviation_1999.xlsx`` (33 columns) — are read with
python-calamine and repeated to ``--cn-rows`` rows. Copy 0 is the real rows as they are;
in copy k the last (up to six) digits of the publication and application numbers are
shifted so that every number is unique in the file and still parses as its office's
number (country prefix, leading year / type digits and kind code kept; CN application
check digits recomputed), and 序号 counts the rows. Everything else is repeated verbatim,
so family members, citations and applicants recur once per copy (the copies of a record
meet in one family through the family members they list). Each replicated export is
written twice:

* XLSX, by openpyxl in write-only mode with its standard-library XML writer (UTF-8 text
  as in the real files; its lxml writer spells every non-ASCII character as ``&#NNNNN;``).
  The cells' hyperlinks are kept (incoPat 链接到incoPat, PatSnap 公开(公告)号), and
  Patentics' ``=HYPERLINK(url, "CN…")`` formula cells carry their cached value, as Excel
  saves them. Strings are inline where the real files use a shared-string table.
* CSV, UTF-8 with BOM: the cell values as Excel's "Save as CSV" writes them (a formula
  cell as its value, dates as ISO dates).

The rows repeat every "real rows" rows. Where a batch holds more rows than the real file
(Patentics 511, PatSnap 1,999, at the stage's batch of 2,000 and above), the work done once
per distinct value of a batch (names, dates, IPC symbols, legal histories) covers fewer
values than a real export of that size would bring: those figures are optimistic. incoPat
(10,000 real rows) is unaffected up to a batch of 10,000.

Steps timed per file: ``parse`` — the file parsed by a maintained parser alone, no PatNav
code (CSV: ``pyarrow.csv.read_csv`` on one thread with quoted newlines allowed; XLSX:
python-calamine's whole sheet as Python values): the ceiling any reader of the file has on
one core; ``read`` — ``TabularAdapter().read(path)`` iterated (calamine or
csv parsing, header mapping, multi-valued cells split, legal histories parsed);
``read+canon`` — the same plus :func:`pipeline.ingest.canonical.canonicalize` per batch;
``ingest`` — ``pipeline.ingest([path])`` as the stage runs it (detection, adapter,
canonicalisation, merge, report) with the stage's batch size for table exports
(params.yaml ``ingest.table_batch_size``). The targets apply to ``ingest``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

CN_DIR = SHARED / "cn-exports"
# name -> (real file, label, publication number column, application number column)
CN_EXPORTS = {
    "incopat": ("incopat_autonomous_driving_10000.xlsx", "incoPat", "公开（公告）号", "申请号"),
    "patentics": ("patentics_zhongkechuangda_cn_511.xlsx", "Patentics", "公开号", "申请号"),
    "patsnap": ("patsnap_green_aviation_1999.xlsx", "PatSnap", "公开(公告)号", None),
}
CN_TARGETS = {"xlsx": 5_000, "csv": 50_000}  # records/s through pipeline.ingest, one core (issue)
CN_STEPS = ("parse", "read", "read+canon", "ingest")


def build_xml(out: Path, n_docs: int) -> int:
    """Concatenate real USPTO documents (all weekly slices) until ``n_docs`` documents."""
    docs = []
    for f in sorted((SHARED / "uspto-xml").glob("ipgxml__*.xml")) + [SHARED / "uspto-xml" / "xml__ipg120327.196.xml"]:
        data = f.read_bytes()
        parts = data.split(b"<?xml")[1:]
        docs.extend(b"<?xml" + p for p in parts)
    written = 0
    with open(out, "wb") as fh:
        while written < n_docs:
            for d in docs:
                fh.write(d)
                written += 1
                if written >= n_docs:
                    break
    return written


def build_tsv(out: Path, n_patents: int) -> int:
    """Replicate the PatentsView tables, suffixing patent ids per copy so they stay unique."""
    import pandas as pd

    src = SHARED / "patentsview"
    tables = {f.stem: pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False) for f in src.glob("g_*.tsv")}
    copies = -(-n_patents // len(tables["g_patent"]))
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if "patent_id" not in df.columns:
            df.to_csv(out / f"{name}.tsv", sep="\t", index=False)
            continue
        reps = []
        for i in range(copies):
            d = df.copy()
            # keep the id shape (digits / D-prefix) so normalisation does the real work
            d["patent_id"] = d["patent_id"] + f"{i:03d}"
            reps.append(d)
        pd.concat(reps).to_csv(out / f"{name}.tsv", sep="\t", index=False)
    return copies * len(tables["g_patent"])


# ------------------------------------------------------------------------------ Chinese exports
_CN_APP = re.compile(r"^CN(\d{12}|\d{8})\.[\dX]$")
_NUMBER = re.compile(r"^(?P<head>.*?)(?P<digits>\d+)(?P<end>[A-Z]{1,2}\d?)?$")


class Renumber:
    """Numbers of one column for copy ``k`` of the real rows: unique in the file, same shape.

    The last ``min(6, n)`` digits of a number's last digit run (``n − 3`` for runs
    longer than six: the year / type digits in front stay) are shifted by ``k × 7919``
    modulo 10^w, the next free value taken on a clash. Country prefix and kind code are
    kept; a CN application number gets its check digit recomputed. Copy 0 keeps the real
    numbers; a value of no known shape is blanked.
    """

    def __init__(self, originals):
        self.taken = {v.strip() for v in originals if isinstance(v, str)}
        self.memo: dict[tuple[str, int], str] = {}

    def __call__(self, raw, k: int):
        if k == 0 or not isinstance(raw, str) or not raw.strip():
            return raw
        key = (raw, k)
        if key not in self.memo:
            self.memo[key] = self._new(raw.strip(), k)
        return self.memo[key]

    def _new(self, text: str, k: int) -> str:
        from pipeline.ingest.normalize import cn_check_digit

        cn = _CN_APP.match(text)
        if cn:
            head, digits, end = "CN", cn.group(1), None
        elif m := _NUMBER.match(text):
            head, digits, end = m.group("head"), m.group("digits"), m.group("end") or ""
        else:
            return ""
        w = len(digits) if len(digits) <= 6 else min(6, len(digits) - 3)
        lead, tail, mod = digits[:-w], int(digits[-w:]), 10**w
        for step in range(mod):
            body = lead + f"{(tail + k * 7919 + step) % mod:0{w}d}"
            new = head + body + (f".{cn_check_digit(body)}" if end is None else end)
            if new not in self.taken:
                self.taken.add(new)
                return new
        raise ValueError(f"no free number left for {text!r} in copy {k}")


def _openpyxl():
    """openpyxl with its standard-library XML writer (see the module docstring)."""
    if "openpyxl" not in sys.modules:
        before = os.environ.get("OPENPYXL_LXML")
        os.environ["OPENPYXL_LXML"] = "False"  # read once, when openpyxl is imported
        try:
            import openpyxl
        finally:
            if before is None:
                os.environ.pop("OPENPYXL_LXML")
            else:
                os.environ["OPENPYXL_LXML"] = before
    import openpyxl

    if openpyxl.LXML:
        print("note: openpyxl was imported with its lxml writer: non-ASCII text is written as character references")
    return openpyxl


def _formulas_and_links(path: Path) -> tuple[dict, dict]:
    """Formula text (with ``=``) and hyperlink target per (row, 0-based column) of the first sheet."""
    ws = _openpyxl().load_workbook(path).worksheets[0]  # not read-only: hyperlinks are kept
    formulas, links = {}, {}
    for row in ws.iter_rows():
        for c in row:
            if c.data_type == "f" and isinstance(c.value, str):
                formulas[(c.row, c.column - 1)] = c.value
            if c.hyperlink is not None and c.hyperlink.target:
                links[(c.row, c.column - 1)] = c.hyperlink.target
    return formulas, links


def _csv_text(v) -> str:
    """A cell as Excel's "Save as CSV" writes it (5.0 -> 5, dates ISO)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# openpyxl writes a formula cell without a cached value: <c r="A2"><f>…</f><v /></c>
_FORMULA_NO_VALUE = re.compile(rb'<c r="([A-Z]+\d+)"><f>(HYPERLINK\("[^"<]*","([^"<]*)"\))</f><v ?/></c>')


def _cache_formula_values(path: Path, expected: int) -> None:
    """Give each HYPERLINK formula cell its shown text as cached value (``t="str"``), as Excel does."""
    tmp = path.with_name(path.name + ".part")
    done = 0
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if not info.filename.startswith("xl/worksheets/sheet"):
                zout.writestr(info, zin.read(info))
                continue
            with zin.open(info) as src, zout.open(info.filename, "w", force_zip64=True) as dst:
                tail = b""
                while True:
                    block = src.read(1 << 24)
                    data = tail + block
                    cut = len(data) if not block else data.rfind(b"</row>") + 6
                    if cut < 6:  # no complete row yet
                        tail = data
                        continue
                    out, n = _FORMULA_NO_VALUE.subn(rb'<c r="\1" t="str"><f>\2</f><v>\3</v></c>', data[:cut])
                    dst.write(out)
                    done += n
                    tail = data[cut:]
                    if not block:
                        break
    if done != expected:
        raise RuntimeError(f"{path.name}: cached {done} formula values, expected {expected}")
    tmp.replace(path)


def build_cn(name: str, out_dir: Path, n_rows: int) -> dict:
    """XLSX and CSV of ``n_rows`` rows REPLICATED from one real export (module docstring).

    Files already in ``out_dir`` for the same export and row count are reused.
    """
    file, label, pub_col, app_col = CN_EXPORTS[name]
    src = CN_DIR / file
    paths = {"xlsx": out_dir / f"{name}_{n_rows}_replicated.xlsx", "csv": out_dir / f"{name}_{n_rows}_replicated.csv"}
    meta_path = out_dir / f"{name}_{n_rows}_replicated.json"
    if meta_path.exists() and all(p.exists() for p in paths.values()):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["reused"] = True
        return {**meta, "paths": {k: Path(v) for k, v in meta["paths"].items()}}
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    book = CalamineWorkbook.from_path(str(src))
    sheet = book.get_sheet_by_index(0)
    rows = sheet.to_python()
    if sheet.start and sheet.start[1] != 0:
        raise RuntimeError(f"{file}: the sheet does not start in column A")
    first_row = sheet.start[0] + 1 if sheet.start else 1  # spreadsheet row of rows[0] (the header)
    header, body = rows[0], rows[1:]
    formulas, links = _formulas_and_links(src)
    by_row: dict[int, list] = {}
    for (r, c), text in formulas.items():
        by_row.setdefault(r, []).append(("f", c, text))
    for (r, c), url in links.items():
        by_row.setdefault(r, []).append(("link", c, url))
    pc = header.index(pub_col)
    ac = header.index(app_col) if app_col else None
    sc = header.index("序号") if "序号" in header else None
    pubs = Renumber(r[pc] for r in body)
    apps = Renumber(r[ac] for r in body) if ac is not None else None

    openpyxl = _openpyxl()
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(book.sheet_names[0])
    ws.append(header)
    n_formulas = n_links = 0
    with open(paths["csv"], "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for i in range(n_rows):
            k, j = divmod(i, len(body))
            values = list(body[j])
            old = values[pc]
            values[pc] = pubs(old, k)
            if apps is not None:
                values[ac] = apps(values[ac], k)
            if sc is not None:
                values[sc] = i + 1
            out.writerow([_csv_text(v) for v in values])
            # Excel writes a carriage return as _x000D_ (an XML parser would turn "\r\n" into "\n").
            cells = [None if v == "" else v.replace("\r", "_x000D_") if isinstance(v, str) and "\r" in v else v
                     for v in values]
            for what, c, text in by_row.get(first_row + 1 + j, ()):
                if what == "f":
                    cells[c] = text.replace(old, values[pc]) if c == pc and old else text
                    n_formulas += text.upper().startswith("=HYPERLINK(")
                else:
                    cell = WriteOnlyCell(ws, value=cells[c])
                    cell.hyperlink = text
                    cells[c] = cell
                    n_links += 1
            ws.append(cells)
    wb.save(paths["xlsx"])
    if n_formulas:
        _cache_formula_values(paths["xlsx"], n_formulas)
    meta = {"name": name, "label": label, "source": file, "real_rows": len(body), "columns": len(header),
            "rows": n_rows, "copies": -(-n_rows // len(body)), "formula_cells": n_formulas,
            "hyperlinks": n_links,
            "build_seconds": time.perf_counter() - start, "paths": {k: str(v) for k, v in paths.items()}}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return {**meta, "paths": paths, "reused": False}


# ------------------------------------------------------------------------------ children
def _peak_mib() -> float:
    """This process's peak RSS in MiB.

    VmHWM, not ``getrusage().ru_maxrss``: Linux carries ru_maxrss over an exec, so a
    child started from a parent holding 800 MiB would report at least 800 MiB.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB -> MiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB


def _measure(kind: str, path: str, canonical: bool) -> dict:
    """Run in a child process: read (and optionally canonicalise) one input, streaming."""
    from pipeline.config import Limits
    from pipeline.ingest.canonical import canonicalize
    from pipeline.ingest.patentsview import PatentsViewAdapter
    from pipeline.ingest.uspto_xml import UsptoXmlAdapter

    ing = _stage_params()
    limits = Limits(**(ing.get("limits") or {}))
    adapter = UsptoXmlAdapter(limits=limits) if kind == "xml" else PatentsViewAdapter(limits=limits)
    start = time.perf_counter()
    n = 0
    for batch in adapter.read(Path(path), batch_size=int(ing["batch_size"])):
        n += batch.n_records
        if canonical:
            canonicalize(batch, "bench", adapter.name)
    secs = time.perf_counter() - start
    return {"records": n, "seconds": secs, "peak_rss_mib": _peak_mib()}


def _measure_cn(step: str, path: str, batch_size: int) -> dict:
    """Run in a child process: one step (:data:`CN_STEPS`) on one replicated export."""
    import pipeline
    from pipeline.ingest.canonical import canonicalize
    from pipeline.ingest.tabular import TabularAdapter

    path = Path(path)
    base = _peak_mib()  # interpreter + pandas / pyarrow / pipeline imports
    start, cpu0 = time.perf_counter(), time.process_time()
    out = {}
    if step == "parse":
        if path.suffix == ".csv":
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False),
                                   parse_options=pacsv.ParseOptions(newlines_in_values=True),
                                   convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False))
            n = table.num_rows
        else:
            from python_calamine import CalamineWorkbook

            n = len(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()) - 1  # less the header
        accepted, rejected, out = n, 0, {"format": "parser alone"}
    elif step == "ingest":
        result = pipeline.ingest([path], batch_size=batch_size)
        rep = result.report["files"][0]
        n, accepted, rejected = rep["records"], rep["accepted"], rep["rejected"]
        out = {"merged": rep["merged_duplicates"], "field_rejects": rep["field_rejects"],
               "reconciles": rep["reconciles"], "families": result.report["totals"]["families"],
               "format": rep["format"]}
    else:
        adapter = TabularAdapter()
        n = accepted = rejected = 0
        for batch in adapter.read(path, batch_size=batch_size):
            n += batch.n_records
            if step == "read+canon":
                tables = canonicalize(batch, path.name, adapter.name)
                accepted += len(tables["patents"])
                rejected += int((tables["rejects"]["level"] == "record").sum())
            else:
                rej = batch.get("rejects")
                rejected += int((rej["level"] == "record").sum())
        if step == "read":
            accepted = n - rejected
        out["format"] = adapter.name
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {"records": n, "accepted": accepted, "rejected": rejected, "seconds": secs, "cpu_seconds": cpu,
            "base_rss_mib": base, "peak_rss_mib": _peak_mib(), **out}


def _measure_weekly(tool: str, path: str, workers: int) -> dict:
    """Run in a child process: patentpy's XML v4 converter, or ``pipeline.ingest``, on one file.

    Both readers' imports happen before the clock starts.
    """
    import pandas as pd

    if tool == "patentpy":
        from patentpy.convert_xml2 import xml2_to_df
    else:
        from pipeline.config import Limits
        from pipeline.ingest.run import ingest

        ing = _stage_params()
    start, cpu0 = time.perf_counter(), time.process_time()
    if tool == "patentpy":
        out = Path(tempfile.mkdtemp(prefix="patnav-patentpy-")) / "out.csv"
        xml2_to_df(path, str(out), False, True)
        records = len(pd.read_csv(out))
        out.unlink()
        out.parent.rmdir()
    else:
        result = ingest([path], workers=workers, batch_size=int(ing["batch_size"]),
                        limits=Limits(**(ing.get("limits") or {})))
        records = result.report["files"][0]["records"]
    secs = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker, KiB -> MiB
    return {"records": records, "seconds": secs, "cpu_seconds": time.process_time() - cpu0,
            "peak_rss_mib": _peak_mib(), "worker_peak_mib": children}


def patentpy_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("patentpy") is not None


def bench_weekly(args, tmp: Path) -> None:
    """patentpy against PatNav on one weekly-style file, in the same run (module docstring)."""
    f = tmp / "uspto_weekly.xml"
    docs = build_xml(f, args.weekly_docs)
    mb = f.stat().st_size / 1e6
    print(f"USPTO weekly-style file: {docs:,} documents, {mb:,.0f} MB, REPLICATED from the real slices")
    runs = []
    if patentpy_available():
        runs.append(("patentpy 0.1.4 xml2_to_df", "0", _spawn(f"_measure_weekly('patentpy',{str(f)!r},1)", "0")))
    else:
        print("patentpy is not installed: skipped (install recipe in this script's docstring)")
    for workers, cores in ((1, "0"), (2, "0,1")):
        if workers > 1 and (os.cpu_count() or 1) < 2:
            print("one core only: the two-worker run is skipped")
            continue
        r = _spawn(f"_measure_weekly('patnav',{str(f)!r},{workers})", cores)
        runs.append((f"patnav ingest, workers={workers}", cores, r))
    head = f"{'reader':30} {'cores':>5} {'docs':>7} {'sec':>7} {'MB/s':>6} {'cpu %':>6} {'peak MiB':>9} {'worker MiB':>10}  vs patentpy"
    print(head)
    print("-" * len(head))
    base = runs[0][2]["seconds"] if runs and runs[0][0].startswith("patentpy") else None
    for name, cores, r in runs:
        s = r["seconds"]
        ratio = f"×{base / s:.2f}" if base else "-"
        print(f"{name:30} {cores:>5} {r['records']:>7,} {s:>7.2f} {mb / s:>6.1f} {100 * r['cpu_seconds'] / s:>6.0f}"
              f" {r['peak_rss_mib']:>9.0f} {r['worker_peak_mib']:>10.0f}  {ratio}")
    print("ratio = patentpy's seconds / this reader's (targets, issue 16: ≥ 1 on one core, ≥ 1.8 on two);"
          " cpu % counts the parent only")


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


def _spawn(call: str, cores: str = "0") -> dict:
    """Run ``benchmarks.ingest.<call>`` in a fresh interpreter pinned to ``cores``; its JSON result."""
    code = (f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); import benchmarks.ingest as b; "
            f"print(json.dumps(b.{call}))")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # taskset pins the child to one core: the targets are per core.
    cmd = ["taskset", "-c", cores, sys.executable, "-c", code] if _has_taskset() else [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"{call} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(kind: str, path: Path, canonical: bool) -> dict:
    return _spawn(f"_measure({kind!r},{str(path)!r},{canonical})")


def run_child_cn(step: str, path: Path, batch_size: int) -> dict:
    return _spawn(f"_measure_cn({step!r},{str(path)!r},{batch_size})")


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    mem = float("nan")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        pass
    return (f"machine: {cpu} ({platform.machine()}), {os.cpu_count()} cores, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.platform()}; each measurement pinned to core 0 "
            f"(taskset{'' if _has_taskset() else ' not found: NOT pinned'})")


def load_line(when: str) -> str:
    one, five, _ = os.getloadavg()
    return f"load average {when}: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# ------------------------------------------------------------------------------ parts
def bench_uspto(args, tmp: Path) -> None:
    rows = []
    for label, n in (("1x", args.xml_docs // 10), ("10x", args.xml_docs)):
        f = tmp / f"uspto_{label}.xml"
        docs = build_xml(f, n)
        mb = f.stat().st_size / 1e6
        for canonical in (False, True):
            r = run_child("xml", f, canonical)
            rows.append(("USPTO XML (replicated)", label, "parse+canonical" if canonical else "parse", docs, mb, r))
    for label, n_patents in (("1x", args.tsv_patents // 10), ("10x", args.tsv_patents)):
        d = tmp / f"pv_{label}"
        build_tsv(d, n_patents)
        mb = sum(p.stat().st_size for p in d.glob("*.tsv")) / 1e6
        # every data line of every table (patents, assignees, inventors, CPC, locations)
        n = sum(sum(1 for _ in open(p, "rb")) - 1 for p in d.glob("*.tsv"))
        for canonical in (False, True):
            r = run_child("tsv", d, canonical)
            rows.append(("PatentsView TSV (replicated)", label, "parse+canonical" if canonical else "parse", n, mb, r))

    head = (f"{'input':30} {'size':>4} {'step':16} {'records':>9} {'in rows':>9} {'MB':>8} {'sec':>7} {'MB/s':>7}"
            f" {'rec/s':>9} {'rows/s':>9} {'peak MiB':>9}")
    print(head)
    print("-" * len(head))
    for name, size, step, n, mb, r in rows:
        s = r["seconds"]
        print(f"{name:30} {size:>4} {step:16} {r['records']:>9,} {n:>9,} {mb:>8.1f} {s:>7.1f} {mb / s:>7.1f}"
              f" {r['records'] / s:>9,.0f} {n / s:>9,.0f} {r['peak_rss_mib']:>9.0f}")
    print()
    for kind in ("USPTO XML", "PatentsView TSV"):
        peak = {(size, step): r["peak_rss_mib"] for name, size, step, n, mb, r in rows if name.startswith(kind)}
        for step in ("parse", "parse+canonical"):
            print(f"{kind} peak memory, 10x input vs 1x ({step}): ×{peak[('10x', step)] / peak[('1x', step)]:.2f}"
                  " (flat = close to 1)")


def bench_cn(args, work: Path) -> None:
    batch = args.batch_size or _stage_batch_size()
    print(f"Chinese exports: {args.cn_rows:,} rows each, REPLICATED from the real exports in "
          f"{CN_DIR} (not new data); batch size {batch}")
    built = []
    for name in args.cn_exports:
        b = build_cn(name, work, args.cn_rows)
        sizes = ", ".join(f"{f} {b['paths'][f].stat().st_size / 1e6:,.0f} MB" for f in ("xlsx", "csv"))
        how = "reused" if b["reused"] else f"built in {b['build_seconds']:.0f} s"
        print(f"  {b['label']:9} {b['source']}: {b['real_rows']:,} real rows × {b['columns']} columns, "
              f"{b['copies']} copies; {b['formula_cells']:,} HYPERLINK formula cells, "
              f"{b['hyperlinks']:,} cell hyperlinks; {sizes} ({how})")
        built.append(b)
    print(load_line("before the measurements"))
    print()

    results = []
    for b in built:
        for fmt in args.cn_formats:
            path = b["paths"][fmt]
            mb = path.stat().st_size / 1e6
            for step in args.cn_steps:
                r = run_child_cn(step, path, batch)
                results.append((b, fmt, step, mb, r))
                _print_cn_row(b, fmt, step, mb, r, header=len(results) == 1)
    print(load_line("after the measurements"))

    by = {(b["name"], fmt, step): r for b, fmt, step, mb, r in results}
    ceilings = [(b, fmt, by[(b["name"], fmt, "parse")]) for b in built for fmt in args.cn_formats
                if (b["name"], fmt, "parse") in by]
    below = [(b, fmt, r) for b, fmt, r in ceilings if r["records"] / r["seconds"] < CN_TARGETS[fmt]]
    if below:
        print("\nParsing alone is slower than the target here, so no reader can meet it on one core:")
        for b, fmt, r in below:
            print(f"  {b['label']:9} {fmt:4} parser alone {r['records'] / r['seconds']:,.0f} records/s "
                  f"({b['paths'][fmt].stat().st_size / b['rows'] / 1e3:.1f} kB per row) < {CN_TARGETS[fmt]:,}")
    if set(args.cn_steps) >= set(CN_STEPS[1:]):
        print("\nSplit of the ingest time (replicated from real exports): adapter read | canonicalise | "
              "detect + merge + report (= ingest − read+canon; detecting a workbook parses it once more)")
    for b in built:
        for fmt in args.cn_formats:
            got = {s: by.get((b["name"], fmt, s)) for s in CN_STEPS[1:]}
            if not all(got.values()):
                continue
            read, canon, full = (got[s]["seconds"] for s in CN_STEPS[1:])
            print(f"  {b['label']:9} {fmt:4}  {read:7.1f} s | {canon - read:7.1f} s | {full - canon:7.1f} s"
                  f"   (of {full:.1f} s: {100 * read / full:.0f} % | {100 * (canon - read) / full:.0f} % |"
                  f" {100 * (full - canon) / full:.0f} %)")
    print("\nTargets (issue, one core, pipeline.ingest): XLSX ≥ 5,000 records/s, CSV ≥ 50,000 records/s.")
    print("cpu % = the child's CPU time / wall time: well under 100 means it waited for the core (another job) "
          "or for the disk. base MiB = RSS after imports; peak MiB = the child's maximum RSS.")


def _print_cn_row(b: dict, fmt: str, step: str, mb: float, r: dict, header: bool) -> None:
    head = (f"{'export (replicated)':20} {'fmt':4} {'step':10} {'records':>9} {'accepted':>9} {'rejected':>8}"
            f" {'MB':>7} {'sec':>7} {'cpu %':>5} {'rec/s':>8} {'MB/s':>6} {'base MiB':>8} {'peak MiB':>8}  target")
    if header:
        print(head)
        print("-" * len(head))
    s = r["seconds"]
    rate = r["records"] / s
    target = ""
    if step == "ingest":
        goal = CN_TARGETS[fmt]
        target = f"≥ {goal:,}: {'met' if rate >= goal else 'MISSED'} (×{rate / goal:.2f})"
        if not r.get("reconciles", True):
            target += "; counts do not reconcile"
    print(f"{b['label'] + ' ' + format(b['rows'], ','):20} {fmt:4} {step:10} {r['records']:>9,} {r['accepted']:>9,}"
          f" {r['rejected']:>8,} {mb:>7.0f} {s:>7.1f} {100 * r['cpu_seconds'] / s:>5.0f} {rate:>8,.0f} {mb / s:>6.1f}"
          f" {r['base_rss_mib']:>8.0f} {r['peak_rss_mib']:>8.0f}  {target}", flush=True)


def _stage_params() -> dict:
    """The ingest section of params.yaml: the benchmark reads as the stage does."""
    import yaml

    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["ingest"]


def _stage_batch_size() -> int:
    return int(_stage_params().get("table_batch_size", 20000))


def _check_work_dir(work: Path) -> None:
    """A work folder inside the checkout must be git-ignored: replicated data is never committed."""
    work = work.resolve()
    if not work.is_relative_to(ROOT):
        return
    ignored = subprocess.run(["git", "check-ignore", "-q", str(work / "x.xlsx")], cwd=ROOT).returncode == 0
    if not ignored:
        sys.exit(f"--work-dir {work} is inside the repository and not git-ignored; use a temporary folder")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["all", "uspto", "weekly", "cn"], default="all",
                    help="uspto: USPTO XML and PatentsView TSV; weekly: a weekly USPTO file against patentpy, "
                         "one and two cores; cn: Chinese database exports (XLSX, CSV)")
    ap.add_argument("--weekly-docs", type=int, default=7_200, help="documents of the weekly-style file (~325 MB)")
    ap.add_argument("--xml-docs", type=int, default=100_000, help="documents in the large XML file (small = 1/10)")
    ap.add_argument("--tsv-patents", type=int, default=120_000)
    ap.add_argument("--cn-rows", type=int, default=100_000, help="rows of each replicated Chinese export")
    ap.add_argument("--cn-exports", nargs="+", choices=list(CN_EXPORTS), default=list(CN_EXPORTS))
    ap.add_argument("--cn-formats", nargs="+", choices=list(CN_TARGETS), default=list(CN_TARGETS))
    ap.add_argument("--cn-steps", nargs="+", choices=list(CN_STEPS), default=list(CN_STEPS))
    ap.add_argument("--batch-size", type=int, help="records per batch, Chinese exports (default: the stage's, "
                                                   "params.yaml ingest.batch_size)")
    ap.add_argument("--work-dir", type=Path, help="build the Chinese exports here and reuse them on later runs "
                                                  "(never deleted; outside the repository or git-ignored)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = ap.parse_args()

    print(machine_line())
    print(load_line("at start") + " (another job on the machine shows here; the measured child has core 0)")
    print("inputs: REPLICATED from real files in ../shared/data (not new data)\n")
    if args.work_dir:
        _check_work_dir(args.work_dir)
        args.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="patnav-bench-"))
    try:
        if args.only in ("all", "uspto"):
            bench_uspto(args, tmp)
            print()
        if args.only in ("all", "weekly"):
            bench_weekly(args, tmp)
            print()
        if args.only in ("all", "cn"):
            bench_cn(args, args.work_dir or tmp)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"inputs kept in {tmp}")


if __name__ == "__main__":
    main()
