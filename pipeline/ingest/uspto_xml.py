"""Adapter for USPTO red-book XML v4.x: grants (2005 on) and pre-grant applications.

A USPTO weekly file is many XML documents written one after another, each beginning
with its own ``<?xml`` declaration. The file is read in binary chunks and cut at those
declarations, so only the current document and the rows of the current batch are held
in memory whatever the file's size. Each document is parsed on its own with a parser
that never loads a DTD, never touches the network and never expands entities: an
``&xxe;`` reference stays the literal text ``&xxe;``, and an entity bomb is refused by
libxml2 and becomes a reject row.

To parse a large file in several processes, :meth:`UsptoXmlAdapter.plan` cuts it the same
way but keeps only where each batch's documents lie (:class:`DocBatch`), and
:meth:`UsptoXmlAdapter.read_batch` reads one planned batch: the batches are those of
:meth:`UsptoXmlAdapter.read`, row numbers and offsets included.

The adapter only takes values out of the XML structure; numbers, dates and
classification symbols are normalised later by :mod:`pipeline.ingest.canonical`. The
one exception is USPTO's fixed-width IPC edition-7 field (``"F25D 2312"``), whose
meaning depends on column positions that only this format knows
(:func:`pipeline.ingest.normalize.uspto_ipc7_symbol`).

Versions handled: grants v4.0 (2005) to v4.5 (2014, with CPC), applications v4.0 on.
Differences between versions are handled by looking for either element name
(``parties`` / ``us-parties``, ``references-cited`` / ``us-references-cited``, …), not
by branching on the DTD version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from ..errors import UnreadableInputError
from ..config import Limits
from .base import RAW_COLUMNS, RawBatch, raw_frame
from .normalize import show_controls, uspto_ipc7_symbol

__all__ = ["UsptoXmlAdapter", "DocBatch", "sniff"]

_DECL_LEN = 6  # len(b"<?xml ") - a declaration split across two chunks is found again
_DECL_SPACE = frozenset(b" \t\n\r\x0b\x0c")  # what regex \s matches in bytes
_DOC_NUMBER = re.compile(rb"<doc-number>\s*([^<\s]{1,40})\s*</doc-number>")
_ROOT = re.compile(rb"<(us-patent-grant|us-patent-application|sequence-cwu)(\s[^>]*)?>")
_DTD_VERSION = re.compile(rb'dtd-version\s*=\s*"([^"]*)"')
_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"\s+")

_PATENT_ROOTS = {
    "us-patent-grant": "us-bibliographic-data-grant",
    "us-patent-application": "us-bibliographic-data-application",
}
_TYPE_HINTS = {"design": "design", "plant": "plant", "utility": "invention", "reissue": "invention"}
_CHILD_TABLES = ("priorities", "parties", "classifications", "citations", "npl")
# libxml2 refuses a longer text node unless told XML_PARSE_HUGE, which would also lift
# its other guards: longer nodes are cut before parsing instead.
_LXML_TEXT_MAX = 10_000_000
# Control characters XML 1.0 forbids, as bytes or as character references: one makes the
# whole document unparseable. Tab, line feed and carriage return are allowed.
# (Two patterns: each is searched in C by its first byte or literal prefix.)
_BAD_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The same bytes for bytes.translate, which tells whether a document holds any several
# times faster than the regex scans it (almost none does).
_BAD_BYTE_SET = bytes(b for b in range(0x20) if b not in b"\t\n\r")
_BAD_REFS = re.compile(rb"&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01])|[xX]0*(?:[0-8bcefBCEF]|1[\da-fA-F]));")
_SPACE_LIKE = frozenset(b"\x0b\x0c\x1c\x1d\x1e\x1f")  # whitespace to Python: a space, not glued words
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>")


def sniff(head: bytes) -> str | None:
    """Recognise a USPTO v4.x red-book XML file from its first bytes.

    Parameters
    ----------
    head : bytes
        The first ~64 KB of the file.

    Returns
    -------
    str or None
        ``"uspto_xml"`` when the first document is a ``us-patent-grant`` or
        ``us-patent-application`` of DTD version 4.x, or a ``sequence-cwu``
        (sequence listings ship in the same weekly files); otherwise ``None``.

    Examples
    --------
    >>> sniff(b'<?xml version="1.0"?><us-patent-grant lang="EN" dtd-version="v4.2 2006-08-23">')
    'uspto_xml'
    >>> sniff(b'<?xml version="1.0"?><patent-application-publication>') is None
    True
    """
    text = head[3:] if head.startswith(_BOM) else head
    if not text.lstrip().startswith(b"<"):
        return None
    m = _ROOT.search(text)
    if not m:
        return None
    version = _DTD_VERSION.search(m.group(2) or b"")
    if version and not version.group(1).startswith(b"v4"):
        return None
    return "uspto_xml"


class UsptoXmlAdapter:
    """Read USPTO red-book XML v4.x files (see the module docstring).

    Parameters
    ----------
    max_doc_bytes : int
        A document larger than this is rejected unread and skipped, so a file without
        document boundaries cannot fill the memory. Real grants stay far below the
        default (256 MB).
    chunk_bytes : int
        Size of each binary read.
    limits : Limits
        ``limits.field``: a text node longer than libxml2 takes (10,000,000 bytes) is cut
        to this many characters, with a field-level reject, and its record kept.
    """

    name = "uspto_xml"

    def __init__(self, *, max_doc_bytes: int = 256 << 20, chunk_bytes: int = 1 << 20, limits: Limits = Limits()):
        self.max_doc_bytes = max_doc_bytes
        self.chunk_bytes = chunk_bytes
        self.limits = limits

    def read(self, path: Path, *, batch_size: int = 2000) -> Iterator[RawBatch]:
        """Yield a :class:`RawBatch` for every ``batch_size`` documents of ``path``.

        Every document is accounted for: a patent becomes a ``patents`` row (``rec``
        and ``row`` are its 0-based index in the file, ``offset`` the byte offset of
        its ``<?xml`` declaration); anything else becomes a record-level reject
        (malformed XML, sequence listing, unsupported document type, oversized).
        Control characters XML forbids are removed and over-long text nodes cut
        before parsing, each with a field-level reject naming the element, so that
        neither costs the record.

        Raises
        ------
        UnreadableInputError
            The file cannot be opened, or holds no document at all (empty or
            whitespace only).
        """
        parser = _parser()
        rows = _Rows()
        n_docs = 0
        for offset, data, oversize in self._documents(Path(path)):
            self._add(rows, n_docs, offset, data, oversize, parser)
            n_docs += 1
            if rows.n_records >= batch_size:
                yield rows.flush()
        if n_docs == 0:
            raise UnreadableInputError(path, "empty file: no XML document found")
        if rows.n_records:
            yield rows.flush()

    def plan(self, path: Path, *, batch_size: int = 2000) -> Iterator[DocBatch]:
        """Yield where the documents of each batch of :meth:`read` lie, without parsing them.

        The file is cut exactly as :meth:`read` cuts it, so :meth:`read_batch` of the
        plans, in order, gives the batches :meth:`read` gives: other processes can parse
        the batches while this one finds the next (only offsets are held).

        Raises
        ------
        UnreadableInputError
            As :meth:`read`.
        """
        docs: list[tuple[int, int, bool]] = []
        n_docs = index = 0
        for offset, data, oversize in self._documents(Path(path)):
            docs.append((offset, len(data), oversize))
            n_docs += 1
            if len(docs) >= batch_size:
                yield DocBatch(index, n_docs - len(docs), tuple(docs))
                docs, index = [], index + 1
        if n_docs == 0:
            raise UnreadableInputError(path, "empty file: no XML document found")
        if docs:
            yield DocBatch(index, n_docs - len(docs), tuple(docs))

    def read_batch(self, path: Path, batch: DocBatch) -> RawBatch:
        """The :class:`RawBatch` of one batch planned by :meth:`plan`."""
        parser = _parser()
        rows = _Rows()
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise UnreadableInputError(path, exc.strerror or str(exc)) from None
        with fh:
            for i, (offset, length, oversize) in enumerate(batch.docs):
                fh.seek(offset)
                self._add(rows, batch.first + i, offset, fh.read(length), oversize, parser)
        return rows.flush()

    def _add(self, rows: "_Rows", row: int, offset: int, data: bytes, oversize: bool, parser) -> None:
        """One document's rows (or its reject) added to ``rows``."""
        rows.n_records += 1
        if oversize:
            rows.reject(row, offset, data, f"document larger than {self.max_doc_bytes} bytes")
        else:
            data = _sanitize(data, row, offset, rows, self.limits.field)
            _read_document(data, row, offset, parser, rows)

    def _documents(self, path: Path) -> Iterator[tuple[int, bytes, bool]]:
        """Cut the file at ``<?xml`` declarations: yield (offset, bytes, oversize).

        Text before the first declaration counts as a document when it is not blank
        (so a file without declarations is still read, and rejected if it is not a
        patent). A declaration inside a comment or CDATA section of the current
        document is no boundary (see :func:`_quoted`). An oversize document yields only
        its first bytes, with ``oversize=True``; the rest of it is read and dropped.
        """
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise UnreadableInputError(path, exc.strerror or str(exc)) from None
        with fh:
            buf = bytearray()
            base = 0  # file offset of buf[0]
            scan = 1  # where to look for the next declaration (0 is the current one)
            skipping = False  # inside an oversize document
            while True:
                chunk = fh.read(self.chunk_bytes)
                buf += chunk
                waiting = False
                while (at := _decl(buf, scan)) != -1:
                    quoted = False if skipping else _quoted(buf, at, at_end=not chunk)
                    if quoted is None:  # cannot tell before more of the file is read
                        scan, waiting = at, True
                        break
                    if quoted:
                        scan = at + _DECL_LEN
                        continue
                    if not skipping and _not_blank(buf[:at]):
                        yield base, bytes(buf[:at]), False
                    del buf[:at]
                    base += at
                    scan, skipping = 1, False
                if not chunk:
                    break
                if not waiting:
                    scan = max(scan, len(buf) - _DECL_LEN)
                if not skipping and len(buf) > self.max_doc_bytes:
                    yield base, bytes(buf[:4096]), True
                    skipping = True
                if skipping:  # keep only what may hold the start of a declaration
                    drop = max(0, len(buf) - _DECL_LEN)
                    del buf[:drop]
                    base += drop
                    scan = 0
            if not skipping and _not_blank(buf):
                yield base, bytes(buf), False


def _decl(buf: bytes | bytearray, pos: int) -> int:
    """Start of the first ``<?xml`` declaration (``<?xml`` and a space) at or after ``pos``; -1 for none.

    A substring search rather than a regular expression: a regex stops at every ``<``
    of the markup, this scans the file several times faster.
    """
    n = len(buf)
    while (i := buf.find(b"<?xml", pos)) != -1:
        if i + 5 < n and buf[i + 5] in _DECL_SPACE:
            return i
        pos = i + 1
    return -1


@dataclass(frozen=True)
class DocBatch:
    """Where the documents of one batch lie in a file, so another process can read them.

    Attributes
    ----------
    index : int
        The batch's number in the file (0-based).
    first : int
        The file index of its first document.
    docs : tuple of (offset, length, oversize)
        Each document's bytes; an oversize document's first bytes only.
    """

    index: int
    first: int
    docs: tuple[tuple[int, int, bool], ...]


def _element_path(data: bytes, pos: int) -> str:
    """Path of the elements open at byte ``pos`` below the root (``abstract/p``), for rejects."""
    stack: list[bytes] = []
    for m in _TAG.finditer(data, 0, pos):
        closing, name, empty = m.groups()
        if closing:
            while stack and stack.pop() != name:
                pass
        elif not empty:
            stack.append(name)
    return "/".join(n.decode("utf-8", "replace") for n in stack[1:]) or "document"


def _sanitize(data: bytes, row: int, offset: int, rows: "_Rows", max_chars: int) -> bytes:
    """``data`` without the characters XML forbids and with no text node too long to parse.

    Each change is a field-level reject on ``rows`` naming the element where it was made.
    """
    has_bytes = len(data.translate(None, _BAD_BYTE_SET)) != len(data)
    found = [m for m in (_BAD_BYTES.search(data) if has_bytes else None,
                         _BAD_REFS.search(data) if b"&#" in data else None) if m]
    if found:
        first = min(found, key=lambda m: m.start())
        field = _element_path(data, first.start())
        around = data[max(0, first.start() - 60): first.end() + 60].decode("utf-8", "replace")
        data = _BAD_BYTES.sub(lambda m: b" " if m.group()[0] in _SPACE_LIKE else b"", data)
        data = _BAD_REFS.sub(b"", data)
        rows.field_reject(row, offset, data, field, show_controls(around), "control characters removed")
    if len(data) <= _LXML_TEXT_MAX:
        return data
    # Text runs are the gaps between markup: found on the bytes in C, cut from the last.
    lt = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("<"))
    bounds = np.concatenate(([-1], lt, [len(data)]))
    long = np.flatnonzero(np.diff(bounds) - 1 > _LXML_TEXT_MAX)
    for k in long[::-1]:
        start, end = int(bounds[k]) + 1, int(bounds[k + 1])
        gt = data.find(b">", start, end)  # the text begins after the tag that opens the gap
        if gt == -1 or end - gt - 1 <= _LXML_TEXT_MAX:
            continue  # a huge tag, not text: the parser rejects the record, as before
        start = gt + 1
        text = data[start:end].decode("utf-8", "replace")[:max_chars]
        amp = text.rfind("&", max(0, len(text) - 12))
        if amp >= 0 and ";" not in text[amp:]:
            text = text[:amp]  # no entity reference cut in half
        cut = text.encode("utf-8")[:_LXML_TEXT_MAX].decode("utf-8", "ignore").encode("utf-8")
        rows.field_reject(row, offset, data, _element_path(data, start), text[:200],
                          f"text of {end - start:,} bytes, over what the XML parser takes; cut to "
                          f"{len(cut.decode('utf-8')):,} characters (ingest.limits.field)")
        data = data[:start] + cut + data[end:]
    return data


# Sections in which markup is text: a declaration there belongs to the document.
_QUOTES = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"))


def _quoted(buf: bytearray, at: int, at_end: bool) -> bool | None:
    """Whether the declaration at ``at`` sits inside a comment or CDATA section of ``buf``'s document.

    It does when such a section opened before it is still open there and closes after
    it, before the next declaration and before any section opening after it: an
    unclosed ``<!--`` must not swallow the documents after it. None while neither the
    close nor a next declaration has been read yet.
    """
    end = at + _DECL_LEN
    for opener, closer in _QUOTES:
        opened = buf.rfind(opener, 0, at)
        if opened == -1 or opened <= buf.rfind(closer, 0, at):
            continue  # none open here
        close = buf.find(closer, end)
        after = _decl(buf, end)
        if close != -1 and (after == -1 or close < after):
            return buf.find(opener, end, close) == -1  # else the close ends a later section
        if close == -1 and after == -1 and not at_end:
            return None
    return False


def _not_blank(data: bytes | bytearray) -> bool:
    return bool(data.removeprefix(_BOM).strip())


class _Rows:
    """Rows of the batch being built, one list per raw table."""

    def __init__(self):
        self._clear()

    def _clear(self):
        self.n_records = 0
        self.patents: list[dict] = []
        self.rejects: list[dict] = []
        # child rows as tuples in RAW_COLUMNS order: cheaper than dicts for the
        # thousands of citation rows a batch holds
        self.child: dict[str, list[tuple]] = {t: [] for t in _CHILD_TABLES}

    def reject(self, row: int, offset: int, data: bytes, reason: str, record_id: str | None = None):
        if record_id is None:
            m = _DOC_NUMBER.search(data)
            record_id = m.group(1).decode("utf-8", "replace") if m else None
        self.rejects.append(
            {
                "row": row,
                "offset": offset,
                "record_id": record_id,
                "field": None,
                "raw_value": data[:800].decode("utf-8", "replace")[:200],
                "reason": reason,
                "level": "record",
            }
        )

    def field_reject(self, row: int, offset: int, data: bytes, field: str, raw_value: str, reason: str):
        """A value changed or cut on the way in; the record is kept."""
        m = _DOC_NUMBER.search(data)
        self.rejects.append({
            "row": row, "offset": offset, "record_id": m.group(1).decode("utf-8", "replace") if m else None,
            "field": field, "raw_value": raw_value, "reason": reason, "level": "field",
        })

    def flush(self) -> RawBatch:
        tables = {
            "patents": raw_frame("patents", self.patents),
            "rejects": raw_frame("rejects", self.rejects),
        }
        for name, rows in self.child.items():
            # Tuples fill the leading columns; columns added later to RAW_COLUMNS stay null.
            width = len(rows[0]) if rows else len(RAW_COLUMNS[name])
            tables[name] = pd.DataFrame(rows, columns=RAW_COLUMNS[name][:width]).reindex(columns=RAW_COLUMNS[name])
        batch = RawBatch(n_records=self.n_records, tables=tables)
        self._clear()
        return batch


def _parser() -> etree.XMLParser:
    """A parser that loads no DTD, touches no network and expands no entity (module docstring)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _read_document(data: bytes, row: int, offset: int, parser, rows: _Rows) -> None:
    """Parse one document and add its rows (or one reject) to ``rows``."""
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        rows.reject(row, offset, data, f"malformed XML: {exc}")
        return
    tag = root.tag
    if tag == "sequence-cwu":
        number = _text(root, "publication-reference/document-id/doc-number")
        rows.reject(row, offset, data, "not a patent record: sequence listing", record_id=number)
        return
    bib = root.find(_PATENT_ROOTS[tag]) if tag in _PATENT_ROOTS else None
    if bib is None:
        rows.reject(row, offset, data, f"unsupported document type {tag}")
        return
    _read_patent(root, bib, row, offset, rows)


def _text(el, path: str) -> str | None:
    """Stripped text of the first element at ``path``; None when absent or blank."""
    if "/" in path:
        t = el.findtext(path)
    else:  # a child: lxml walks children in C, where a path search goes through Python
        c = next(el.iterchildren(path), None)
        t = None if c is None else c.text or ""
    if t is None:
        return None
    return t.strip() or None


def _all_text(el) -> str:
    """All text inside ``el`` (unresolved entities appear as ``&name;``)."""
    return "".join(el.itertext())


def _first(el, *tags):
    """The first child of ``el`` named one of ``tags`` (element versions differ)."""
    for tag in tags:
        found = el.find(tag)
        if found is not None:
            return found
    return None


def _children_text(el, tags: tuple[str, ...]) -> list[str | None]:
    """As ``[_text(el, t) for t in tags]`` for child tags, in one walk over the children.

    The citations of a grant ask this thousands of times: one pass in which each
    child is looked at once costs less than a path search per field.
    """
    found: dict = {}
    for c in el:
        if c.tag not in found:
            found[c.tag] = c.text
    out = []
    for t in tags:
        v = found.get(t)
        out.append(v.strip() or None if v is not None else None)
    return out


_DOC_ID_TAGS = ("country", "doc-number", "kind", "date")


def _doc_id(ref) -> tuple[str | None, str | None, str | None, str | None]:
    """(country, doc-number, kind, date) of a ``*-reference`` element."""
    if ref is None:
        return None, None, None, None
    d = next(ref.iterchildren("document-id"), None)
    if d is None:
        return None, None, None, None
    return tuple(_children_text(d, _DOC_ID_TAGS))


def _prefixed(country: str | None, number: str | None, *prefixes: str) -> str | None:
    """``country + number`` unless the number already carries a prefix.

    USPTO writes PCT numbers with their prefix (``PCT/US98/08015``, ``WO00/29629``)
    but the country apart as well; prefixing again would give ``WOWO…``.
    """
    if number is None:
        return None
    if country is None or number.startswith((country, *prefixes)):
        return number
    return country + number


def _read_patent(root, bib, row: int, offset: int, rows: _Rows) -> None:
    rec = row
    country, pub, kind, pub_date = _doc_id(bib.find("publication-reference"))
    app_ref = bib.find("application-reference")
    _, app, _, app_date = _doc_id(app_ref)
    appl_type = app_ref.get("appl-type") if app_ref is not None else None

    title_el = bib.find("invention-title")
    abstract_el = root.find("abstract")
    abstract = None
    if abstract_el is not None:
        # paragraphs joined by a space so adjacent <p> never glue words together
        parts = [abstract_el.text or ""]
        for c in abstract_el:
            parts += (_all_text(c), c.tail or "")
        abstract = _WS.sub(" ", " ".join(parts)).strip() or None

    n_claims = independent = 0
    claims = root.find("claims")
    if claims is not None:
        for claim in claims.iterchildren("claim"):
            n_claims += 1
            if next(claim.iter("claim-ref"), None) is None:
                independent += 1

    pct_country, pct_number, _, _ = _doc_id(bib.find("pct-or-regional-filing-data"))
    wo_country, wo_number, wo_kind, _ = _doc_id(bib.find("pct-or-regional-publishing-data"))
    wo_pub = _prefixed(wo_country, wo_number)
    if wo_pub is not None and wo_kind:
        wo_pub += wo_kind

    lang = root.get("lang")
    rows.patents.append(
        {
            "rec": rec,
            "row": row,
            "offset": offset,
            "pub_raw": pub,
            "country": country,
            "kind": kind,
            "app_raw": app,
            "app_date": app_date,
            "pub_date": pub_date,
            "grant_date": pub_date if root.tag == "us-patent-grant" else None,
            "patent_type_hint": _TYPE_HINTS.get(appl_type),
            "language": lang.lower() if lang else None,
            "title": _all_text(title_el) if title_el is not None else None,
            "abstract": abstract,
            # applications carry no <number-of-claims>: count the claims instead
            "claims_count": _text(bib, "number-of-claims") or (n_claims if claims is not None else None),
            "independent_claims": independent if claims is not None else None,
            "pct_app": _prefixed(pct_country, pct_number, "PCT"),
            "wo_pub": wo_pub,
        }
    )
    child = rows.child
    priorities = bib.find("priority-claims")
    if priorities is not None:
        for p in priorities.iterchildren("priority-claim"):
            child["priorities"].append((rec, _text(p, "doc-number"), _text(p, "country"), _text(p, "date")))
    child["parties"].extend(_parties(bib, rec))
    child["classifications"].extend(_classifications(bib, rec))
    _citations(bib, rec, child["citations"], child["npl"])


def _party(el, rec: int, role: str, seq: int) -> tuple:
    """One parties row from an applicant / inventor / assignee element."""
    book = el.find("addressbook")
    src = book if book is not None else el  # v4.0 assignees may lack the addressbook
    name = _text(src, "orgname")
    hint = None
    if name is None:
        parts = (_text(src, t) for t in ("first-name", "middle-name", "last-name"))
        name = " ".join(p for p in parts if p) or None
        hint = "individual" if name else None
    city = state = country = None
    address = src.find("address")
    if address is not None:
        city, state, country = _text(address, "city"), _text(address, "state"), _text(address, "country")
    address_raw = ", ".join(p for p in (city, state, country) if p) or None
    province = state if country == "US" else None
    return (rec, role, seq, name, hint, country, province, None, None, address_raw, None)


def _parties(bib, rec: int) -> list[tuple]:
    out = []
    parties = _first(bib, "us-parties", "parties")
    applicants, inventors = [], []
    if parties is not None:
        group = _first(parties, "us-applicants", "applicants")
        if group is not None:
            applicants = [a for a in group if a.tag in ("us-applicant", "applicant")]
        group = parties.find("inventors")
        if group is not None:
            inventors = list(group.iterchildren("inventor"))
        else:  # v4.0-4.2 list inventors only as applicants of type applicant-inventor
            inventors = [a for a in applicants if a.get("app-type") == "applicant-inventor"]
    assignees = bib.find("assignees")
    assignees = list(assignees.iterchildren("assignee")) if assignees is not None else []
    for role, elements in (("applicant", applicants), ("inventor", inventors), ("assignee", assignees)):
        out.extend(_party(el, rec, role, seq) for seq, el in enumerate(elements))
    return out


_SYMBOL_TAGS = ("section", "class", "subclass", "main-group", "subgroup")


def _class_symbol(el) -> str:
    """``"H05K 3/02"`` from the parts of a classification-ipcr / -cpc element."""
    part = [p or "" for p in _children_text(el, _SYMBOL_TAGS)]
    return f"{part[0]}{part[1]}{part[2]} {part[3]}/{part[4]}"


def _classifications(bib, rec: int) -> list[tuple]:
    ipc: list[tuple[str, bool]] = []
    ipcr = bib.find("classifications-ipcr")
    if ipcr is not None:
        entries = list(ipcr.iterchildren("classification-ipcr"))
        positions = [e.findtext("symbol-position") for e in entries]
        has_first = "F" in positions
        for i, (e, pos) in enumerate(zip(entries, positions)):
            ipc.append((_class_symbol(e), pos == "F" if has_first else i == 0))
    ipc7 = bib.find("classification-ipc")  # v4.0: IPC edition 7 in fixed width
    if ipc7 is not None:
        for e in ipc7:
            if e.tag in ("main-classification", "further-classification") and e.text and e.text.strip():
                # a value the converter cannot read passes through as written, so that
                # canonicalize rejects it visibly instead of it vanishing here
                ipc.append((uspto_ipc7_symbol(e.text) or e.text.strip(), e.tag == "main-classification"))
    out = [(rec, "IPC", sym, main, seq) for seq, (sym, main) in enumerate(ipc)]
    cpc = bib.find("classifications-cpc")  # v4.4 on
    if cpc is not None:
        seq = 0
        # only direct entries: combination-set members are parts of a combination
        for group in cpc:
            if group.tag not in ("main-cpc", "further-cpc"):
                continue
            for e in group.iterchildren("classification-cpc"):
                out.append((rec, "CPC", _class_symbol(e), group.tag == "main-cpc", seq))
                seq += 1
    return out


def _citations(bib, rec: int, citations: list[tuple], npl: list[tuple]) -> None:
    refs = _first(bib, "us-references-cited", "references-cited")
    if refs is None:
        return
    seq = 0
    for cit in refs:
        if cit.tag not in ("us-citation", "citation"):
            continue
        kids: dict = {}  # first child of each name, in one walk
        for c in cit:
            kids.setdefault(c.tag, c)
        cat = kids.get("category")
        category = (cat.text or "").strip() or None if cat is not None else None
        pat = kids.get("patcit")
        if pat is not None:
            country, number, kind, date = _doc_id(pat)
            citations.append((rec, seq, number, country, kind, date, category))
        else:
            other = cit.find("nplcit/othercit")
            if other is not None:
                npl.append((rec, seq, _WS.sub(" ", _all_text(other)).strip(), category))
        seq += 1
