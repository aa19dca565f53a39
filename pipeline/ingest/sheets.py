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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

from ..errors import UnreadableInputError

__all__ = ["Sheet", "container", "container_of", "read_sheets", "xlsx_links", "unwrap_hyperlink", "OLE2_MAGIC"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|table|head|meta|body)\b", re.I | re.S)
_HYPERLINK = re.compile(r'^\s*=?\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*(?:[,;]\s*"((?:[^"]|"")*)"\s*)?\)\s*$', re.I)
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


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


def xlsx_links(path: Path, sheet_index: int, chunk: int = 1 << 22) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """Hyperlinks and formulas of one sheet of an XLSX, from a streamed pass over its XML.

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
        with zf.open(member) as fh:
            tail = b""
            while True:
                block = fh.read(chunk)
                data = tail + block
                # Scan up to the last complete row; the rest waits for the next block.
                cut = len(data) if not block else data.rfind(b"</row>") + 6
                if cut < 6 and block:
                    cut = max(0, len(data) - 65_536)
                head, tail = data[:cut], data[cut:]
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
def _calamine_sheets(path: Path, kind: str) -> Iterator[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise UnreadableInputError(path, f"cannot open as a {kind.upper()} workbook: {exc}") from None
    for index, name in enumerate(book.sheet_names):
        try:
            sheet = book.get_sheet_by_index(index)
        except Exception as exc:
            raise UnreadableInputError(path, f"cannot read sheet {name!r}: {exc}") from None
        first = sheet.start[0] + 1 if sheet.start else 1
        # calamine's rows start at the sheet's first used cell: pad to column A.
        pad = [""] * (sheet.start[1] if sheet.start else 0)
        rows = ((first + i, [*pad, *(v if type(v) is str else _cell(v) for v in row)])
                for i, row in enumerate(sheet.iter_rows()))
        links, formulas = xlsx_links(path, index) if kind == "xlsx" else ({}, {})
        if formulas:
            rows = _with_formulas(rows, formulas)
        yield Sheet(name=name, rows=rows, links=links)


def _html_sheets(path: Path, encoding: str) -> Iterator[Sheet]:
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


def read_sheets(path: Path, kind: str, encoding: str = "utf-8") -> Iterator[Sheet]:
    """Sheets of a workbook of the given :func:`container` kind.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        A damaged workbook (the message names the reader's complaint).
    """
    if kind == "html":
        yield from _html_sheets(path, encoding)
    else:
        yield from _calamine_sheets(path, kind)


_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_head_rows(path: Path, n: int = 10) -> list[list[list]]:
    """The first ``n`` rows of every sheet of an XLSX, read by streaming its XML.

    Recognising a file needs only its header rows: this reads the start of each sheet
    and as much of the shared-string table as those rows use, not the whole workbook
    (calamine would load every sheet whole). Cells come back as text (numbers and dates
    as written in the XML); the reader of the records is :func:`read_sheets`.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        A damaged archive.
    """
    from lxml import etree

    def text_of(el) -> str:
        return "".join(t.text or "" for t in el.iter(f"{_NS_MAIN}t"))

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableInputError(path, f"cannot open as a XLSX workbook: {exc}") from None
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
    return [[[strings.get(v[1], "") if isinstance(v, tuple) else v for v in r] for r in rows] for rows in sheets]
