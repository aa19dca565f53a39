"""Spreadsheet containers: XLSX / XLSM / XLSB / ODS, legacy BIFF ``.xls``, HTML tables.

Chinese patent databases export workbooks of every kind: XLSX (some written by
streaming ZIP writers that a look at the first bytes calls a plain ZIP archive),
Excel 97-2003 BIFF files, and HTML tables saved under an ``.xls`` name. The kind is
decided from the content (:func:`container`), never from the file name, and every
kind is read into the same thing: sheets of rows of cell values.

Workbooks are read by `python-calamine` (a maintained Rust reader of xlsx / xls / xlsb /
ods). A formula cell gives its cached value and is never evaluated. Hyperlinks (a
``=HYPERLINK(url, "CN115438209A")`` formula or a cell hyperlink, as incoPat and
Patentics write them) are collected per row from the sheet's XML by
:func:`xlsx_links`, so that the record keeps its link. HTML tables are parsed by
lxml's HTML parser, which fetches nothing.

Examples
--------
>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("xl/workbook.xml", "<workbook/>")
>>> container(buf.getvalue()[:16], is_zip_with=lambda name: name == "xl/workbook.xml")
'xlsx'
>>> container(b"<html><body><table>", is_zip_with=lambda name: False)
'html'
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

from ..errors import InputLimitError, UnreadableInputError
from ..config import Limits

__all__ = ["Sheet", "container", "container_of", "read_sheets", "xlsx_links", "unwrap_hyperlink", "OLE2_MAGIC",
           "check_archive", "export_date"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|table|head|meta|body)\b", re.I | re.S)
_HYPERLINK = re.compile(r'^\s*=?\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*(?:[,;]\s*"((?:[^"]|"")*)"\s*)?\)\s*$', re.I)
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Members smaller than this are not held to the ratio limit: styles and empty sheets
# compress a hundredfold and more, and cannot expand to much anyway.
_RATIO_FLOOR = 1 << 20


@dataclass
class Sheet:
    """One sheet of a workbook.

    Attributes
    ----------
    name : str
    rows : iterator of (int, list)
        ``(row number as the spreadsheet shows it (1-based), cell values)``; cells are
        str, or ``datetime.date`` / ``datetime.datetime`` for date cells.
    links : dict of int to str
        Row number → the first hyperlink target in that row.

    Notes
    -----
    A formula cell reads as its cached value. Where a workbook holds no cached value
    (written by a library, never opened in Excel), a ``HYPERLINK`` formula reads as
    its shown text and any other formula as its text (``=1+1``): never evaluated.
    """

    name: str
    rows: Iterator[tuple[int, list]]
    links: dict[int, str] = field(default_factory=dict)


def container(head: bytes, is_zip_with: Callable[[str], bool]) -> str | None:
    """The spreadsheet kind of a file from its first bytes, or None (a text file).

    Parameters
    ----------
    head : bytes
        The file's first bytes.
    is_zip_with : callable(str) -> bool
        Whether the file is a ZIP archive holding a member of that name.

    Returns
    -------
    {"xlsx", "ods", "xls", "html"} or None
    """
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if head.startswith(b"PK"):
        if is_zip_with("xl/workbook.xml") or is_zip_with("xl/workbook.bin"):
            return "xlsx"
        if is_zip_with("content.xml") and is_zip_with("mimetype"):
            return "ods"
        return None
    text = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(text[:4096]):
        return "html"
    return None


def _zip_names(path: Path) -> set[str]:
    # zipfile reads the central directory at the end: streamed archives (sizes after
    # each member's data) are recognised as well as ordinary ones.
    try:
        with zipfile.ZipFile(path) as zf:
            return set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return set()


def container_of(path: Path, head: bytes) -> str | None:
    """:func:`container` of a file on disk."""
    names: set[str] | None = None

    def has(name: str) -> bool:
        nonlocal names
        if names is None:
            names = _zip_names(path)
        return name in names

    return container(head, has)


def check_archive(path: Path, limits: Limits = Limits()) -> None:
    """Refuse a ZIP workbook (XLSX, ODS) that would expand beyond ``limits``.

    The sizes come from the archive's central directory, without decompressing
    anything; both readers (zipfile, and calamine's zip crate) stop with an error where a
    member holds more than its declared size, so the sizes cannot be understated.

    Raises
    ------
    pipeline.errors.InputLimitError
        All members together over ``limits.workbook_mb`` MiB, or one member (over 1 MiB)
        over ``limits.workbook_ratio`` times its compressed size.
    pipeline.errors.UnreadableInputError
        Not a readable ZIP archive.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableInputError(path, f"cannot open as a workbook (ZIP archive): {exc}") from None
    total = sum(i.file_size for i in infos)
    if total > limits.workbook_mb << 20:
        raise InputLimitError(path, f"workbook expands to {total / 2**20:,.0f} MiB uncompressed", "workbook_mb",
                              limits.workbook_mb)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.workbook_ratio:
            raise InputLimitError(path, f"member {info.filename} expands {ratio:,.0f}-fold ({info.compress_size:,} "
                                        f"to {info.file_size:,} bytes), as a ZIP bomb does", "workbook_ratio",
                                  limits.workbook_ratio)


_CREATED = re.compile(rb"<dcterms:created\b[^>]*>\s*(\d{4}-\d{2}-\d{2})|<meta:creation-date>\s*(\d{4}-\d{2}-\d{2})")


def export_date(path: Path) -> str | None:
    """The day a workbook was written, from its own document properties, or None.

    Database exports are written by the vendor's server at export time (incoPat and
    PatSnap: Apache POI), so the creation date (``docProps/core.xml``; ODS ``meta.xml``)
    dates the export; the modification date may be a later edit by hand. CSV files and
    workbooks without the property give None.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            for name in ("docProps/core.xml", "meta.xml"):
                try:
                    info = zf.getinfo(name)
                except KeyError:
                    continue
                if info.file_size > 1 << 20:  # a property file is a few hundred bytes
                    return None
                m = _CREATED.search(zf.read(name))
                if m:
                    return (m.group(1) or m.group(2)).decode()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    return None


def check_extent(path: Path, sheet: str, rows: int, cols: int, limits: Limits) -> None:
    """Refuse a sheet of more than ``limits.sheet_rows`` rows or ``limits.sheet_cells`` cells.

    Raises
    ------
    pipeline.errors.InputLimitError
    """
    if rows > limits.sheet_rows:
        raise InputLimitError(path, f"sheet {sheet!r} has {rows:,} rows or more", "sheet_rows", limits.sheet_rows)
    if rows * cols > limits.sheet_cells:
        raise InputLimitError(path, f"sheet {sheet!r} spans {rows:,} rows × {cols:,} columns = {rows * cols:,} cells",
                              "sheet_cells", limits.sheet_cells)


# --------------------------------------------------------------------------- cells
def _cell(v):
    """A cell value as text (dates stay date objects; 5.0 typed as 5 reads '5')."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (dt.date, dt.time, dt.timedelta)):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def unwrap_hyperlink(text: str) -> tuple[str, str] | None:
    """``(url, shown text)`` of a ``HYPERLINK`` formula written as text, else None.

    Examples
    --------
    >>> unwrap_hyperlink('=HYPERLINK("https://x.example/?a=1","CN115438209A")')
    ('https://x.example/?a=1', 'CN115438209A')
    >>> unwrap_hyperlink("=1+1") is None
    True
    """
    m = _HYPERLINK.match(text)
    if not m:
        return None
    url = m.group(1).replace('""', '"')
    shown = (m.group(2) if m.group(2) is not None else m.group(1)).replace('""', '"')
    return url, shown


# --------------------------------------------------------------------------- links
_CELL_FORMULA = re.compile(rb'<c\s+r="([A-Z]+)(\d+)"[^>]*>\s*<f(?:\s[^>]*)?>([^<]+)</f>')
_HYPERLINK_EL = re.compile(rb"<(?:\w+:)?hyperlink\s([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<Relationship\s([^>]*)/?>")


def _sheet_members(zf: zipfile.ZipFile) -> list[str]:
    """Worksheet member paths in workbook order (``xl/worksheets/sheet1.xml`` …)."""
    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return []
    targets = {}
    for m in _REL.finditer(rels):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid, target = attrs.get(b"Id"), attrs.get(b"Target", b"").decode("utf-8", "replace")
        if rid:
            targets[rid] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    out = []
    for m in re.finditer(rb"<(?:\w+:)?sheet\s([^>]*)/?>", book):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid = attrs.get(b"r:id") or next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        out.append(targets.get(rid, ""))
    return out


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')
_ROW_START = re.compile(rb"<row[\s>/]")
_CELL_COLUMN = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,3})\d')


def xlsx_links(path: Path, sheet_index: int, chunk: int = 1 << 22, limits: Limits | None = None,
               sheet_name: str = "") -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """Hyperlinks and formulas of one sheet of an XLSX, from a streamed pass over its XML.

    With ``limits``, the same pass measures the rows and columns the sheet spans (row
    numbers, column letters and counts of rows) and stops as soon as they exceed them,
    before the workbook reader allocates the sheet.

    Raises
    ------
    pipeline.errors.InputLimitError
        The sheet spans more than ``limits.sheet_rows`` rows or ``limits.sheet_cells`` cells.
    pipeline.errors.UnreadableInputError
        The sheet's XML cannot be decompressed.

    Returns
    -------
    links : dict
        Row number → first hyperlink target of the row: a ``HYPERLINK`` formula's URL
        or a ``<hyperlink>`` element's target (from the sheet's relationships).
    formulas : dict
        (row number, 0-based column) → formula text, without ``=``; nothing is
        evaluated. Both are empty for a sheet without them.
    """
    links: dict[int, str] = {}
    formulas: dict[tuple[int, int], str] = {}
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return links, formulas
    with zf:
        members = _sheet_members(zf)
        names = set(zf.namelist())
        if sheet_index >= len(members) or members[sheet_index] not in names:
            return links, formulas
        member = members[sheet_index]
        folder, base = member.rsplit("/", 1)
        rels_name = f"{folder}/_rels/{base}.rels"
        targets = {}
        if rels_name in names:
            for m in _REL.finditer(zf.read(rels_name)):
                attrs = dict(_ATTR.findall(m.group(1)))
                if attrs.get(b"Id"):
                    targets[attrs[b"Id"]] = _xml_text(attrs.get(b"Target", b""))
        elements: dict[int, str] = {}
        max_row = n_rows = max_col = 0
        try:
            fh = zf.open(member)
        except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
            raise UnreadableInputError(path, f"cannot read sheet {sheet_index + 1}: {exc}") from None
        with fh:
            tail = b""
            while True:
                try:
                    block = fh.read(chunk)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                    raise UnreadableInputError(path, f"cannot read sheet {sheet_index + 1}: {exc}") from None
                data = tail + block
                # Scan up to the last complete row; the rest waits for the next block.
                cut = len(data) if not block else data.rfind(b"</row>") + 6
                if cut < 6 and block:
                    cut = max(0, len(data) - 65_536)
                head, tail = data[:cut], data[cut:]
                if limits is not None:
                    # Rows count by number where they carry one, else by position; columns by letter.
                    numbers = _ROW_NUMBER.findall(head)
                    n_rows += len(_ROW_START.findall(head))
                    max_row = max(max_row, n_rows, *map(int, numbers))
                    letters = set(_CELL_COLUMN.findall(head))
                    if letters:
                        max_col = max(max_col, max(_col_index(c) + 1 for c in letters))
                    check_extent(path, sheet_name or f"sheet {sheet_index + 1}", max_row, max(max_col, 1), limits)
                # Most sheets hold neither formulas nor links: a byte search (C speed)
                # spares the regular expressions a pass over every cell.
                for m in _CELL_FORMULA.finditer(head) if b"<f" in head else ():
                    row, text = int(m.group(2)), _xml_text(m.group(3))
                    formulas[(row, _col_index(m.group(1)))] = text
                    found = unwrap_hyperlink(text)
                    if found and row not in links:
                        links[row] = found[0]
                for m in _HYPERLINK_EL.finditer(head) if b"yperlink" in head else ():
                    attrs = dict(_ATTR.findall(m.group(1)))
                    ref = re.match(rb"[A-Z]+(\d+)", attrs.get(b"ref", b""))
                    rid = attrs.get(b"r:id") or next((v for k, v in attrs.items() if k.endswith(b":id")), None)
                    if ref and rid in targets:
                        elements.setdefault(int(ref.group(1)), targets[rid])
                if not block:
                    break
        for row, url in elements.items():
            links.setdefault(row, url)
    return links, formulas


def _xml_text(raw: bytes) -> str:
    return unescape(raw.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})


def _with_formulas(rows: Iterator[tuple[int, list]], formulas: dict) -> Iterator[tuple[int, list]]:
    """Fill empty cells that hold a formula without a cached value (see :class:`Sheet`)."""
    by_row: dict[int, list] = {}
    for (row, col), text in formulas.items():
        by_row.setdefault(row, []).append((col, text))
    for n, cells in rows:
        for col, text in by_row.get(n, ()):
            if col < len(cells) and cells[col] == "":
                found = unwrap_hyperlink(text)
                cells[col] = found[1] if found else "=" + text
        yield n, cells


# --------------------------------------------------------------------------- readers
def _calamine_sheets(path: Path, kind: str, limits: Limits) -> Iterator[Sheet]:
    from python_calamine import CalamineWorkbook

    if kind in ("xlsx", "ods"):
        check_archive(path, limits)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise UnreadableInputError(path, f"cannot open as a {kind.upper()} workbook: {exc}") from None
    for index, name in enumerate(book.sheet_names):
        # XLSX: the extent is measured on the sheet's XML before calamine allocates it.
        links, formulas = xlsx_links(path, index, limits=limits, sheet_name=name) if kind == "xlsx" else ({}, {})
        try:
            sheet = book.get_sheet_by_index(index)
        except Exception as exc:
            raise UnreadableInputError(path, f"cannot read sheet {name!r}: {exc}") from None
        # Other kinds (and an XLSX the scan misjudged): before a row is read, at least.
        check_extent(path, name, sheet.height, sheet.width, limits)
        first = sheet.start[0] + 1 if sheet.start else 1
        # calamine's rows start at the sheet's first used cell: pad to column A.
        pad = [""] * (sheet.start[1] if sheet.start else 0)
        rows = ((first + i, [*pad, *(v if type(v) is str else _cell(v) for v in row)])
                for i, row in enumerate(sheet.iter_rows()))
        if formulas:
            rows = _with_formulas(rows, formulas)
        yield Sheet(name=name, rows=rows, links=links)


def _html_sheets(path: Path, encoding: str, limits: Limits) -> Iterator[Sheet]:
    import lxml.html

    parser = lxml.html.HTMLParser(encoding=encoding, no_network=True, remove_comments=True)
    try:
        doc = lxml.html.parse(str(path), parser=parser)
    except (OSError, ValueError) as exc:
        raise UnreadableInputError(path, f"cannot parse HTML table: {exc}") from None
    for k, table in enumerate(doc.getroot().iter("table") if doc.getroot() is not None else []):
        if any(a.tag == "table" for a in table.iterancestors()):
            continue  # nested tables are part of their outer table's cells
        body, links = [], {}
        for n, tr in enumerate(table.iter("tr"), start=1):
            if n > limits.sheet_rows:
                check_extent(path, f"table {k + 1}", n, 1, limits)
            cells = []
            for td in tr:
                if td.tag not in ("td", "th"):
                    continue
                cells.append(td.text_content().strip())
                span = str(td.get("colspan", "1")).strip()
                cells.extend([""] * (min(int(span), 256) - 1 if span.isdigit() and int(span) > 1 else 0))
                href = next((a.get("href") for a in td.iter("a") if a.get("href")), None)
                if href and n not in links:
                    links[n] = href
            body.append((n, cells))
        yield Sheet(name=f"table {k + 1}", rows=iter(body), links=links)


def read_sheets(path: Path, kind: str, encoding: str = "utf-8", limits: Limits = Limits()) -> Iterator[Sheet]:
    """Sheets of a workbook of the given :func:`container` kind.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        A damaged workbook (the message names the reader's complaint).
    pipeline.errors.InputLimitError
        A workbook or sheet beyond ``limits`` (see :class:`pipeline.config.Limits`).
    """
    if kind == "html":
        yield from _html_sheets(path, encoding, limits)
    else:
        yield from _calamine_sheets(path, kind, limits)


_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_head_rows(path: Path, n: int = 10, limits: Limits = Limits()) -> list[list[list]]:
    """The first ``n`` rows of every sheet of an XLSX, read by streaming its XML.

    Recognising a file needs only its header rows: this reads the start of each sheet
    and as much of the shared-string table as those rows use, not the whole workbook
    (calamine would load every sheet whole). Cells come back as text (numbers and dates
    as written in the XML); the reader of the records is :func:`read_sheets`.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        A damaged archive.
    pipeline.errors.InputLimitError
        A workbook beyond ``limits`` (:func:`check_archive`): refused before any XML is read.
    """
    from lxml import etree

    def text_of(el) -> str:
        return "".join(t.text or "" for t in el.iter(f"{_NS_MAIN}t"))

    check_archive(path, limits)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableInputError(path, f"cannot open as a XLSX workbook: {exc}") from None
    # A damaged member (a bad CRC, a corrupt deflate stream, a size that lies) surfaces
    # only while it is read: the file is then unreadable, by name.
    try:
        with zf:
            names = set(zf.namelist())
            sheets = []
            for member in _sheet_members(zf):
                if member not in names:
                    continue
                rows: list[list] = []
                with zf.open(member) as fh:
                    for _, row in etree.iterparse(fh, events=("end",), tag=f"{_NS_MAIN}row", resolve_entities=False,
                                                  no_network=True, huge_tree=False):
                        cells = {}
                        for c in row.iter(f"{_NS_MAIN}c"):
                            ref = re.match(r"([A-Z]+)", c.get("r", "")) if c.get("r") else None
                            col = _col_index(ref.group(1).encode()) if ref else len(cells)
                            v = c.find(f"{_NS_MAIN}v")
                            kind = c.get("t")
                            if kind == "s" and v is not None and (v.text or "").isdigit():
                                cells[col] = ("s", int(v.text))
                            elif kind == "inlineStr":
                                cells[col] = text_of(c)
                            else:
                                cells[col] = v.text if v is not None and v.text else ""
                        width = max(cells) + 1 if cells else 0
                        rows.append([cells.get(j, "") for j in range(width)])
                        row.clear()
                        if len(rows) >= n:
                            break
                sheets.append(rows)
            wanted = {v[1] for rows in sheets for r in rows for v in r if isinstance(v, tuple)}
            strings: dict[int, str] = {}
            if wanted and "xl/sharedStrings.xml" in names:
                last = max(wanted)
                with zf.open("xl/sharedStrings.xml") as fh:
                    for k, (_, si) in enumerate(etree.iterparse(fh, events=("end",), tag=f"{_NS_MAIN}si",
                                                                resolve_entities=False, no_network=True)):
                        if k in wanted:
                            strings[k] = text_of(si)
                        si.clear()
                        if k >= last:
                            break
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, etree.XMLSyntaxError) as exc:
        raise UnreadableInputError(path, f"damaged workbook: {exc}") from None
    return [[[strings.get(v[1], "") if isinstance(v, tuple) else v for v in r] for r in rows] for rows in sheets]
