"""Table exports: Lens.org CSV and Chinese database exports (CNIPA / incoPat / PatSnap).

One adapter reads CSV (UTF-8 or GB18030/GBK) and XLSX files whose columns are named in
any of the spellings listed in ``headers.yaml``. A *profile* (``lens``,
``lens_cleaned``, ``cn_export``) groups the aliases, the multi-value separators and a
few conventions of one family of exports; it is chosen from the header row, which may
sit below title rows ("检索结果导出 2024-05-01", an incoPat banner).

Values are taken as written. Splitting multi-valued cells, splitting a date off a
priority number and mapping a stated patent type are the only interpretation done
here; numbers, dates, symbols and names are normalised later by
:func:`pipeline.ingest.canonical.canonicalize`.

Examples
--------
>>> from pipeline.ingest.tabular import TabularAdapter, sniff
>>> sniff("drones.csv")  # doctest: +SKIP
'lens'
>>> for batch in TabularAdapter().read("drones.csv"):  # doctest: +SKIP
...     batch.get("parties")
"""

from __future__ import annotations

import codecs
import csv

import gc
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ..errors import ConfigError, UnreadableInputError, UnsupportedFormatError
from ..frames import isin
from ..config import Limits
from .base import HEAD_BYTES, RAW_COLUMNS, RawBatch, raw_frame
from .normalize import map_unique, province_from_code
from .sheets import Sheet, container_of, read_sheets, unwrap_hyperlink, xlsx_head_rows

__all__ = ["TabularAdapter", "sniff", "load_profiles", "header_key", "Profile", "HEADERS_YAML"]

HEADERS_YAML = Path(__file__).with_name("headers.yaml")
ENCODINGS = ("utf-8-sig", "gb18030")  # GBK is a subset of GB18030; UTF-16 by its BOM
HEADER_SCAN_ROWS = 10
MIN_HEADER_MATCHES = 3
_DELIMITERS = (",", "\t")
_STRING = pd.StringDtype("pyarrow")

_PATENT_FIELDS = [c for c in RAW_COLUMNS["patents"] if c not in ("rec", "row", "offset", "patent_type_hint")]
_OTHER_FIELDS = {
    "applicants", "assignees", "inventors", "applicants_std", "assignees_std", "applicant_address",
    "applicant_province", "applicant_province_code", "applicant_city", "applicant_district", "ipc_main",
    "ipc", "cpc", "priorities", "priority_dates", "family_members", "cited", "citing", "npl",
    "patent_type", "publication_type", "validity", "legal_history",
}
_EVENT_COLUMNS = ("party_from", "party_to", "event_date", "amount", "detail")
_PATENT_TYPES = {"invention", "utility_model", "design", "plant", "other"}

# A date written after (or before) a priority number: 20100311, 2019-09-10, 2019.9.10.
_DATE = r"(?:1[89]|20)\d{2}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|[-./]\d{1,2}[-./]\d{1,2})"
_NUMBER_THEN_DATE = rf"^(?P<num>.*\d.*?)[\s,]+(?P<date>{_DATE})$"
_DATE_THEN_NUMBER = rf"^(?P<date>{_DATE})[\s,]+(?P<num>.*\d.*)$"


def header_key(text) -> str:
    """The matching key of a header cell or alias: NFKC, no whitespace, case-folded.

    Examples
    --------
    >>> header_key("公开（公告）号") == header_key(" 公开(公告) 号")
    True
    """
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", text).casefold()


# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class Profile:
    """Header aliases and conventions of one family of table exports.

    Attributes
    ----------
    name : str
        Adapter name written to the ingest report.
    separators : tuple of str
        Multi-value separators within a cell.
    first_is_main : bool
        Whether the first listed IPC/CPC symbol is the main one.
    repair_mojibake : bool
        Undo UTF-8 text once mis-decoded as Windows-1252 (``GerÃ¤t`` → ``Gerät``).
    requires_any : frozenset of str
        Header keys of which one must be present for the profile to be chosen.
    aliases : dict
        Header key → ``("field", name)`` or ``("event", type, column)``.
    type_hints : dict
        Key of a patent-type value → canonical patent type.
    document_types : dict
        Key of a document-type value (公开类型: 发明授权 …) → ``{"type", "kind", "granted"}``.
    null_values : frozenset of str
        Whole-cell values that mean "nothing" (PatSnap writes ``-``).
    field_null_values : dict
        Field → more such values for that field only (Patentics writes ``0`` for an
        empty citation list, where ``0`` is a real value of a count).
    field_separators : dict
        Field → separators replacing :attr:`separators` for that field.
    labels : dict
        Header key → scheme of a vendor's own classification (source labels).
    """

    name: str
    separators: tuple[str, ...]
    first_is_main: bool
    repair_mojibake: bool
    requires_any: frozenset[str]
    aliases: dict[str, tuple]
    type_hints: dict[str, str]
    document_types: dict = field(default_factory=dict)
    null_values: frozenset = frozenset()
    field_separators: dict = field(default_factory=dict)
    field_null_values: dict = field(default_factory=dict)

    def pattern_of(self, field_name: str | None = None) -> str:
        """Regular expression of a field's separators, longest first (``;;`` before ``;``)."""
        seps = self.field_separators.get(field_name) or self.separators
        return "|".join(re.escape(s) for s in sorted(seps, key=len, reverse=True))

    def score(self, keys: list[str]) -> int:
        """Number of distinct known aliases among header keys; 0 if a requirement fails."""
        if self.requires_any and not self.requires_any.intersection(keys):
            return 0
        return len({k for k in keys if k in self.aliases})


def _profile(name: str, spec: dict, source: Path) -> Profile:
    def fail(msg):
        raise ConfigError(f"{source}: profile {name!r}: {msg}")

    if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
        fail("needs a 'fields' mapping")
    aliases: dict[str, tuple] = {}

    def add(alias_list, target):
        if not isinstance(alias_list, list):
            fail(f"aliases of {target[1:]} must be a list")
        for alias in alias_list:
            key = header_key(alias)
            if key in aliases and aliases[key] != target:
                fail(f"alias {alias!r} is given for both {aliases[key][1:]} and {target[1:]}")
            aliases[key] = target

    for field_name, alias_list in spec["fields"].items():
        if field_name not in _PATENT_FIELDS and field_name not in _OTHER_FIELDS:
            fail(f"unknown field {field_name!r}")
        add(alias_list, ("field", field_name))
    for scheme, alias_list in (spec.get("labels") or {}).items():
        add(alias_list, ("label", str(scheme)))
    for event_type, cols in (spec.get("events") or {}).items():
        if not isinstance(cols, dict):
            fail(f"event {event_type!r} needs a mapping of columns")
        for col, alias_list in cols.items():
            if col not in _EVENT_COLUMNS:
                fail(f"event {event_type!r}: unknown column {col!r} (one of {', '.join(_EVENT_COLUMNS)})")
            add(alias_list, ("event", str(event_type), col))
    separators = tuple(spec.get("separators") or ())
    if not separators:
        fail("needs 'separators'")
    type_hints = {header_key(k): v for k, v in (spec.get("type_hints") or {}).items()}
    if unknown := set(type_hints.values()) - _PATENT_TYPES:
        fail(f"type_hints: unknown patent type(s) {sorted(unknown)} (one of {', '.join(sorted(_PATENT_TYPES))})")
    document_types = {}
    for value, spec_dt in (spec.get("document_types") or {}).items():
        if not isinstance(spec_dt, dict) or spec_dt.get("type") not in _PATENT_TYPES | {None}:
            fail(f"document_types: {value!r} needs a 'type' (one of {', '.join(sorted(_PATENT_TYPES))}) or none")
        document_types[header_key(value)] = {"type": spec_dt.get("type"), "kind": spec_dt.get("kind"),
                                             "granted": bool(spec_dt.get("granted", False))}
    field_separators = {}
    for field_name, seps in (spec.get("field_separators") or {}).items():
        if not isinstance(seps, list) or not seps:
            fail(f"field_separators: {field_name!r} needs a list of separators")
        field_separators[field_name] = tuple(seps)
    return Profile(
        name=name,
        separators=separators,
        first_is_main=bool(spec.get("first_is_main", True)),
        repair_mojibake=bool(spec.get("repair_mojibake", False)),
        requires_any=frozenset(header_key(a) for a in spec.get("requires_any") or ()),
        aliases=aliases,
        type_hints=type_hints,
        document_types=document_types,
        null_values=frozenset(str(v) for v in spec.get("null_values") or ()),
        field_separators=field_separators,
        field_null_values={str(k): frozenset(str(x) for x in v) for k, v in (spec.get("field_null_values") or {}).items()},
    )


@lru_cache(maxsize=8)
def _load_profiles(path: str, mtime_ns: int) -> dict[str, Profile]:
    source = Path(path)
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source}: cannot read header aliases: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), dict) or not doc["profiles"]:
        raise ConfigError(f"{source}: needs a 'profiles' mapping")
    return {name: _profile(name, spec, source) for name, spec in doc["profiles"].items()}


def load_profiles(aliases_path: str | Path | None = None) -> dict[str, Profile]:
    """Profiles from ``headers.yaml`` or a user's copy of it (which replaces it whole).

    Raises
    ------
    pipeline.errors.ConfigError
        When the file is missing, not YAML, or names an unknown field.
    """
    path = Path(aliases_path or HEADERS_YAML).resolve()
    try:
        mtime_ns = path.stat().st_mtime_ns  # an edited file is read again
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read header aliases: {exc.strerror}") from None
    return _load_profiles(str(path), mtime_ns)


def _find_header(rows: list[list], profiles: list[Profile]) -> tuple[int, Profile] | None:
    """Index of the first of ``rows`` with ≥ 3 known aliases, and the best profile for it.

    A profile with a satisfied ``requires_any`` wins a tie: a Lens export also matches
    the English aliases of ``cn_export``.
    """
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = [header_key(c) for c in row if isinstance(c, str) and c.strip()]
        score, _, _, best = max(
            ((p.score(keys), bool(p.requires_any), -n, p) for n, p in enumerate(profiles)), key=lambda t: t[:3]
        )
        if score >= MIN_HEADER_MATCHES:
            return i, best
    return None


# --------------------------------------------------------------------------- containers
def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableInputError(path, exc.strerror or str(exc)) from None


def _bom_encoding(head: bytes) -> str | None:
    """UTF-16 (what Excel's "Unicode text" writes) is only taken with its byte-order mark."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _decode_head(head: bytes, complete: bool) -> str:
    """The start of a text file, as far as it decodes.

    A file whose header decodes but which breaks further on is still recognised, so
    that reading it fails with the precise "cannot decode" error.
    """
    prefixes = []
    for enc in ([_bom_encoding(head)] if _bom_encoding(head) else ENCODINGS):
        try:
            # final=False: the head may end inside a multi-byte character.
            return codecs.getincrementaldecoder(enc)().decode(head, final=complete)
        except UnicodeDecodeError as exc:
            prefixes.append(head[: exc.start].decode(enc, errors="ignore"))
    return max(prefixes, key=len)


def _file_encoding(path: Path, head: bytes = b"") -> str:
    """The first of :data:`ENCODINGS` that decodes the whole file (UTF-16 by its BOM).

    Short files fool statistical charset detection, so each candidate is tried in full
    (streamed, about 1 GB/s for UTF-8).
    """
    candidates = [_bom_encoding(head)] if _bom_encoding(head) else ENCODINGS
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while block := fh.read(1 << 20):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    names = {"utf-8-sig": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}
    raise UnreadableInputError(path, f"cannot decode as {' or '.join(names[c] for c in candidates)}")


def _csv_header(text: str, profiles: list[Profile]) -> tuple[str, int, Profile] | None:
    """(delimiter, header row index, profile) found in the start of a CSV text."""
    for delim in _DELIMITERS:
        # newline="": line ends reach the csv module untranslated, as from a file.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        try:
            rows = list(itertools.islice(reader, HEADER_SCAN_ROWS))
        except csv.Error:  # not CSV at all (binary content decoded as far as it goes)
            return None
        found = _find_header(rows, profiles)
        if found:
            return (delim, *found)
    return None


@dataclass
class _Table:
    """One table of a file: a CSV, or one sheet of a workbook."""

    profile: Profile
    header: list
    rows: Iterator[tuple[int, list]]  # (line / spreadsheet row number, cells)
    ncols: int
    strict_width: bool  # CSV: a row with another number of cells is malformed
    sheet: str | None = None
    header_row: int = 1  # 1-based, as an editor shows it
    links: dict = field(default_factory=dict)
    delimiter: str | None = None  # CSV


def _no_header(path: Path) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        path,
        f"no header row with at least {MIN_HEADER_MATCHES} known column names in the first "
        f"{HEADER_SCAN_ROWS} rows (add your headers to pipeline/ingest/headers.yaml)",
    )


def _sheet_table(sheet: Sheet, profiles: list[Profile]) -> _Table | None:
    first = list(itertools.islice(sheet.rows, HEADER_SCAN_ROWS))
    found = _find_header([cells for _, cells in first], profiles)
    if not found:
        return None
    i, profile = found
    header = first[i][1]
    filled = [j for j, c in enumerate(header) if isinstance(c, str) and c.strip()]
    ncols = filled[-1] + 1
    data = itertools.chain(first[i + 1:], sheet.rows)
    # Rows of a sheet differ in length only by trailing empty cells; cells to the
    # right of the header are not part of the table.
    data = ((n, [*r[:ncols], *[""] * (ncols - len(r))]) for n, r in data)
    return _Table(profile, header[:ncols], data, ncols, strict_width=False, sheet=sheet.name,
                  header_row=first[i][0], links=sheet.links)


def _open_tables(path: Path, profiles: list[Profile], stack: ExitStack, *, sniffing: bool = False,
                 limits: Limits = Limits()) -> tuple[list[_Table], list[str]]:
    """The tables of a CSV file or a workbook, and the names of sheets without a header.

    Every sheet with a recognised header row is a table (a workbook may hold several
    exports, or a search-strategy sheet beside the records); at least one must be.
    """
    head = _read_head(path)
    if not head.strip():
        raise UnreadableInputError(path, "empty file")
    kind = container_of(path, head)
    if kind == "xlsx" and sniffing:
        # The header rows only, streamed: a workbook is parsed whole once, when read.
        heads = xlsx_head_rows(path, HEADER_SCAN_ROWS, limits)
        for rows in heads:
            found = _find_header(rows, profiles)
            if found:
                return [_Table(found[1], [], iter(()), 0, strict_width=False)], []
        if any(heads):
            raise _no_header(path)
        # no row seen (another XML dialect, e.g. strict OOXML): the full reader decides
    if kind is not None:
        encoding = "utf-8"
        if kind == "html":
            encoding = _bom_encoding(head) or ("utf-8-sig" if sniffing else _file_encoding(path, head))
        tables, skipped = [], []
        for sheet in read_sheets(path, kind, encoding=encoding.replace("-sig", ""), limits=limits):
            table = _sheet_table(sheet, profiles)
            if table is None:
                skipped.append(sheet.name)
            else:
                tables.append(table)
        if not tables:
            raise _no_header(path)
        return tables, skipped
    if head.startswith(b"PK\x03\x04"):
        raise UnsupportedFormatError(path, "unsupported format: ZIP archive; unpack it and ingest its files")
    # Sniffing looks at the head only: a file whose header decodes but which breaks
    # further on is recognised, so that reading it fails with the precise error.
    encoding = None if sniffing else _file_encoding(path, head)
    found = _csv_header(_decode_head(head, complete=len(head) < HEAD_BYTES), profiles)
    if not found:
        raise _no_header(path)
    if sniffing:
        return [_Table(found[2], [], iter(()), 0, strict_width=True)], []
    delim, i, profile = found
    # Absurdly long cells must not stop the read; canonicalize clips them.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    fh = stack.enter_context(open(path, encoding=encoding, newline=""))
    reader = csv.reader(fh, delimiter=delim)
    header = next(itertools.islice(reader, i, None))
    # Physical line numbers would need the csv module's line_num per row (multi-line
    # cells): records are numbered from 0 below the header instead, as everywhere.
    rows = ((0, r) for r in reader)
    return [_Table(profile, header, rows, len(header), strict_width=True, header_row=i + 1, delimiter=delim)], []


def sniff(path: str | Path, aliases_path: str | Path | None = None, limits: Limits = Limits()) -> str | None:
    """The profile of a table export, decided from the file's content.

    Parameters
    ----------
    path : path-like
        A CSV (UTF-8, GB18030 or UTF-16 with BOM), an XLSX / XLS / ODS workbook or an
        HTML table saved as ``.xls``.
    aliases_path : path-like, optional
        A copy of ``headers.yaml`` to use instead of the bundled one.
    limits : Limits
        A workbook beyond them is refused before its XML is read.

    Returns
    -------
    str or None
        ``"lens"``, ``"lens_cleaned"``, ``"cn_export"`` (or a profile of the user's
        file) of the first table with a header of ≥ 3 known aliases in its first 10
        rows; None when there is none (binary content never shows one).

    Raises
    ------
    pipeline.errors.InputLimitError
        A workbook beyond ``limits``.
    pipeline.errors.UnreadableInputError
        An XLSX or ODS workbook that is damaged.
    """
    path = Path(path)
    profiles = list(load_profiles(aliases_path).values())
    with ExitStack() as stack:
        try:
            tables, _ = _open_tables(path, profiles, stack, sniffing=True, limits=limits)
        except UnsupportedFormatError:
            return None
        except UnreadableInputError:
            # A workbook that cannot be read is damaged, not of another format: say so.
            with open(path, "rb") as fh:
                if container_of(path, fh.read(8)) in ("xlsx", "ods"):  # OLE2 may be a Word file
                    raise
            return None
        return tables[0].profile.name


def _joined_rows(chunk: list[list], delimiter: str | None, ncols: int) -> np.ndarray:
    """Rows holding other rows: a quote left open makes the csv module join every line up
    to the next quote into one cell, so a line inside a cell with (nearly) a whole row's
    delimiters was a row of its own. Those records are rejected, the reason says why, and
    the joined rows are in the reject's raw value, not silently inside a title.

    Examples
    --------
    >>> _joined_rows([["a", "b\\nx,y,z", "c"], ["a", "b\\nc", "d"]], ",", 3).tolist()
    [True, False]
    """
    out = np.zeros(len(chunk), dtype=bool)
    if not delimiter or ncols < 3:
        return out
    for k, row in enumerate(chunk):
        if "\n" not in "".join(row):  # one C-level scan: most rows hold no line break
            continue
        for cell in row:
            if "\n" in cell and any(line.count(delimiter) >= ncols - 1 for line in cell.split("\n")[1:]):
                out[k] = True
                break
    return out


# --------------------------------------------------------------------------- values
def _cp1252_byte_map() -> dict[str, int]:
    table = {}
    for b in range(256):
        try:
            table[bytes([b]).decode("cp1252")] = b
        except UnicodeDecodeError:
            table[chr(b)] = b  # the five bytes cp1252 leaves undefined pass through as-is
    return table


_CP1252_BYTE = _cp1252_byte_map()
_CONTINUATION = "".join(re.escape(c) for c, b in _CP1252_BYTE.items() if 0x80 <= b <= 0xBF)
# A UTF-8 lead byte (0xC2–0xF4) read as Windows-1252, followed by a continuation byte.
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]")


def _unmojibake_one(text: str) -> str:
    try:
        return bytes(_CP1252_BYTE[c] for c in text).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return text  # a character outside Windows-1252, or not UTF-8 after all


def _repair_mojibake(s: pd.Series) -> pd.Series:
    """Undo UTF-8 → Windows-1252 mis-decoding where a value shows its pattern."""
    text = s.astype("string")
    suspect = text.str.contains(_MOJIBAKE.pattern, regex=True).fillna(False).astype(bool)
    if not suspect.any():
        return s
    out = s.copy()
    out[suspect] = map_unique(text[suspect], _unmojibake_one)
    return out


def _text_array(values: np.ndarray) -> pa.Array | None:
    """Arrow strings of an object array that holds only str (CSV cells); else None."""
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        return None  # XLSX dates, times
    return pa.array(values, type=pa.string())


def _column(values: np.ndarray, index: np.ndarray) -> pd.Series:
    """A cell column with empty or whitespace-only cells as null.

    Text columns come back as Arrow-backed strings, on which the string work below
    runs in C; columns holding datetimes (XLSX) stay object, the dates untouched.
    """
    arr = _text_array(values)
    if arr is None:
        text = pd.Series(values, dtype=object).astype("string")
        blank = text.str.strip().eq("").fillna(True).to_numpy(dtype=bool)
        return pd.Series(np.where(blank, None, values), index=index, dtype=object)
    blank = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))  # no copy of the text
    if pc.any(blank).as_py():
        arr = pc.if_else(blank, pa.scalar(None, pa.string()), arr)
    return pd.Series(pd.array(arr, dtype=_STRING), index=index)


class _Cells:
    """The mapped columns of one batch of data rows, indexed by ``rec``."""

    def __init__(self, rows: list[list], recs: np.ndarray, header: list, profile: Profile):
        self.rows = rows
        self.recs = recs
        self.profile = profile
        self._values: dict[tuple, pd.Series] = {}
        self.links: dict[int, str] = {}  # rec -> URL of a HYPERLINK formula cell
        self.columns: dict[tuple, int] = {}
        for j, cell in enumerate(header):
            target = profile.aliases.get(header_key(cell)) if isinstance(cell, str) else None
            if target and target not in self.columns:  # the first of two same-field columns wins
                self.columns[target] = j

    def has(self, *target) -> bool:
        return target in self.columns

    def get(self, *target) -> pd.Series:
        """Values of a field (``get("field", "title")``); all null when not in the file."""
        if target not in self._values:
            j = self.columns.get(target)
            if j is None:
                s = pd.Series(None, index=self.recs, dtype=object)
            else:
                values = np.empty(len(self.rows), dtype=object)
                values[:] = [r[j] for r in self.rows]
                s = _column(values, self.recs)
                nulls = self.profile.null_values | self.profile.field_null_values.get(target[1], frozenset())
                if nulls:
                    s = s.where(~s.isin(nulls).fillna(False).astype(bool), None)
                if target in (("field", "pub_raw"), ("field", "link")):
                    s = self._unwrap_formulas(s)
                if self.profile.repair_mojibake:
                    s = _repair_mojibake(s)
            self._values[target] = s
        return self._values[target]

    def _unwrap_formulas(self, s: pd.Series) -> pd.Series:
        """``=HYPERLINK(url, "CN…")`` written as text in a number or link column (CSV
        exports): the shown value is the cell's value and the URL the record's link.
        Any other formula, and formulas in other columns, stay text (never evaluated)."""
        if s.dtype != _STRING:
            return s
        found = s.str.contains("HYPERLINK(", case=False, regex=False).fillna(False).astype(bool)
        if not found.any():
            return s
        out = s.copy()
        for rec, text in zip(s.index[found], s[found]):
            hit = unwrap_hyperlink(text)
            if hit:
                out[rec] = hit[1]
                self.links.setdefault(rec, hit[0])
        return out

    def multi(self, field_name: str, value: str = "value", kind: str = "field") -> pd.DataFrame:
        """A multi-valued field exploded: columns ``rec``, ``seq``, ``value``."""
        return _explode(self.get(kind, field_name), self.profile, value, field_name)


def _explode(s: pd.Series, profile: Profile, value: str = "value", field_name: str | None = None) -> pd.DataFrame:
    """Cells split at the profile's separators, pieces trimmed, empty pieces dropped.

    ``seq`` is the 0-based order of a piece within its cell. Non-text cells (XLSX
    dates) are one piece each.
    """
    s = s.dropna()
    if s.dtype == _STRING:
        arr = pa.chunked_array(pa.array(s.array))  # the Arrow data itself, no copy
    else:
        arr = _text_array(s.to_numpy(dtype=object))
    if arr is None:
        text = s.map(lambda v: isinstance(v, str)).astype(bool)
        other = s[~text]
        parts = [_explode(s[text].astype("string"), profile, value, field_name),
                 pd.DataFrame({"rec": other.index.to_numpy(dtype="int64"), "seq": 0, value: other.to_numpy()})]
        return pd.concat(parts, ignore_index=True).sort_values(["rec", "seq"], kind="stable", ignore_index=True)
    seps = profile.field_separators.get(field_name) or profile.separators
    if len(seps) == 1:
        lists = pc.split_pattern(arr, pattern=seps[0])
    else:
        lists = pc.split_pattern_regex(arr, pattern=profile.pattern_of(field_name))
    parent = pc.list_parent_indices(lists).to_numpy()
    pieces = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.not_equal(pieces, "").to_numpy(zero_copy_only=False)
    pieces, parent = pieces.filter(pa.array(keep)), parent[keep]
    # Position within the cell: index minus the index where its cell's pieces start.
    pos = np.arange(len(parent))
    first = np.ones(len(parent), dtype=bool)
    first[1:] = parent[1:] != parent[:-1]
    seq = pos - np.maximum.accumulate(np.where(first, pos, 0))
    return pd.DataFrame({
        "rec": s.index.to_numpy(dtype="int64")[parent],
        "seq": seq.astype("int64"),
        value: pd.array(pieces, dtype=_STRING),
    })


# --------------------------------------------------------------------------- tables
def _patents(cells: _Cells, row_links: pd.Series) -> pd.DataFrame:
    recs = cells.recs
    profile = cells.profile
    out = pd.DataFrame({"rec": recs, "row": recs}, index=recs)
    for f in _PATENT_FIELDS:
        out[f] = cells.get("field", f)
    # The stated patent type (专利类型) and document type (公开类型: 发明授权, 实用新型 …).
    stated = cells.get("field", "patent_type")
    doc = cells.get("field", "publication_type")
    hints = {v: profile.type_hints.get(header_key(v)) for v in stated.dropna().unique()}
    out["patent_type_hint"] = stated.map(hints).astype(object)
    doc_types = {v: profile.document_types.get(header_key(v)) for v in doc.dropna().unique()}
    if any(doc_types.values()):
        spec = doc.map(doc_types)
        spec = spec.where(spec.notna(), None)
        typ = spec.map(lambda d: d["type"] if d else None)
        out["patent_type_hint"] = out["patent_type_hint"].where(out["patent_type_hint"].notna(), typ)
        # A kind letter only where the number has none and is Chinese (the types are CNIPA's).
        cn = out["pub_raw"].astype("string").str.upper().str.startswith("CN").fillna(False).astype(bool) | \
            out["country"].astype("string").isin(["CN", "中国"]).fillna(False).astype(bool)
        kind = spec.map(lambda d: d["kind"] if d else None)
        out["kind"] = out["kind"].where(out["kind"].notna() | ~cn, kind)
        # A granted document type dates the grant on its publication where no grant date is given.
        granted = spec.map(lambda d: bool(d and d["granted"])).astype(bool)
        out["grant_date"] = out["grant_date"].where(out["grant_date"].notna() | ~granted, out["pub_date"])
    if not cells.has("field", "cited_by_count") and cells.has("field", "citing"):
        counts = cells.multi("citing").groupby("rec").size()
        out["cited_by_count"] = pd.Series(recs, index=recs).map(counts).fillna(0).astype("int64")
    # The record's page at the vendor: a hyperlink in its row, a HYPERLINK formula, or a
    # link column holding a URL (incoPat's 链接到incoPat cell shows text, links elsewhere).
    stated_link = out["link"].astype("string")
    stated_link = stated_link.where(stated_link.str.match(r"^https?://", case=False).fillna(False).astype(bool))
    formula = pd.Series(cells.links, dtype="string").reindex(recs)
    out["link"] = stated_link.fillna(row_links.reindex(recs).astype("string")).fillna(formula).astype(object)
    return out.reset_index(drop=True)


def _std_names(cells: _Cells, field_name: str, names: pd.DataFrame) -> pd.Series:
    """A vendor's standardised names (``[建设银行-C; 建信金融科技有限责任公司]``) aligned
    with the listed names by position, for the records that list as many of each."""
    s = cells.get("field", field_name)
    if s.isna().all():
        return pd.Series(None, index=names.index, dtype=object)
    s = s.astype("string").str.replace(r"^\s*\[(.*)\]\s*$", r"\1", regex=True)
    std = _explode(s, cells.profile, "name_std", field_name)
    n_std, n_names = std.groupby("rec").size(), names.groupby("rec").size()
    same = n_std.index[n_std.eq(n_names.reindex(n_std.index))]
    std = std.loc[isin(std["rec"], same), ["rec", "seq", "name_std"]]
    found = names[["rec", "seq"]].merge(std, on=["rec", "seq"], how="left")["name_std"]  # keeps names' order
    return pd.Series(found.astype(object).to_numpy(), index=names.index)


def _parties(cells: _Cells) -> pd.DataFrame:
    parts = []
    for role, field_name in (("applicant", "applicants"), ("assignee", "assignees"), ("inventor", "inventors")):
        m = cells.multi(field_name, "name_raw")
        std_field = f"{field_name}_std"
        if std_field in _OTHER_FIELDS and cells.has("field", std_field):
            if m.empty and not cells.has("field", field_name):
                # Only the standardised column was exported (PatSnap [标]…): it is the name.
                m = cells.multi(std_field, "name_raw")
                m["name_raw"] = m["name_raw"].str.replace(r"^\[|\]$", "", regex=True)
            else:
                m["name_std"] = _std_names(cells, std_field, m)
        m["role"] = role
        if role == "applicant":
            # Exports give one address / province / city per record: the first applicant's.
            first = m["seq"].to_numpy() == 0
            for col, src in (("address_raw", "applicant_address"), ("province", "applicant_province"),
                             ("city", "applicant_city"), ("district", "applicant_district")):
                if cells.has("field", src):
                    values = cells.get("field", src).reindex(m["rec"].to_numpy())
                    m[col] = values.where(first).to_numpy()
            if cells.has("field", "applicant_province_code"):
                codes = cells.get("field", "applicant_province_code").reindex(m["rec"].to_numpy())
                prov = province_from_code(codes.astype("string"))
                have = m["province"].notna() if "province" in m else pd.Series(False, index=m.index)
                m["province"] = pd.Series(np.where(have, m.get("province"), prov.where(first).to_numpy()),
                                          index=m.index).astype(object)
        parts.append(m)
    return pd.concat(parts, ignore_index=True).reindex(columns=RAW_COLUMNS["parties"])


def _source_labels(cells: _Cells) -> pd.DataFrame:
    """A vendor's own classification columns (incoPat 新兴产业分类 …), one row per label."""
    parts = []
    for target in cells.columns:
        if target[0] != "label":
            continue
        m = cells.multi(target[1], "label", kind="label")
        parts.append(m.assign(scheme=target[1]))
    if not parts:
        return raw_frame("source_labels")
    return pd.concat(parts, ignore_index=True)


def _classifications(cells: _Cells) -> pd.DataFrame:
    first_is_main = cells.profile.first_is_main
    main = cells.multi("ipc_main", "symbol_raw").assign(scheme="IPC")
    main["is_main"] = main["seq"] == 0
    # The stated main symbol(s) come first; without one, the first listed is main.
    n_main = main.groupby("rec").size()
    ipc = cells.multi("ipc", "symbol_raw").assign(scheme="IPC")
    ipc_recs = ipc["rec"]
    ipc["is_main"] = first_is_main & (ipc["seq"] == 0) & ~ipc_recs.isin(n_main.index)
    ipc["seq"] += ipc_recs.map(n_main).fillna(0).astype("int64")
    cpc = cells.multi("cpc", "symbol_raw").assign(scheme="CPC")
    cpc["is_main"] = first_is_main & (cpc["seq"] == 0)
    out = pd.concat([main, ipc, cpc], ignore_index=True)
    return out.reindex(columns=RAW_COLUMNS["classifications"])


def _split_dates(items: pd.DataFrame) -> pd.DataFrame:
    """Priority items → number_raw and date_raw (``FR 1051751 A 20100311``)."""
    text = pa.chunked_array(pa.array(items["value"].astype(_STRING).array))
    after = pc.extract_regex(text, _NUMBER_THEN_DATE)
    before = pc.extract_regex(text, _DATE_THEN_NUMBER)
    number = pc.coalesce(pc.struct_field(after, "num"), pc.struct_field(before, "num"), text)
    date = pc.coalesce(pc.struct_field(after, "date"), pc.struct_field(before, "date"))
    return pd.DataFrame({
        "rec": items["rec"].to_numpy(),
        "number_raw": pd.array(number, dtype=_STRING),
        "date_raw": pd.array(date, dtype=_STRING),
    })


def _priorities(cells: _Cells) -> pd.DataFrame:
    pr = _split_dates(cells.multi("priorities"))
    dates = cells.multi("priority_dates")
    if not dates.empty:
        # A date column beside the numbers is not reliably parallel to them (Lens
        # cleaned files sort both lists apart): a single date belongs to every number;
        # several are kept as dates without a number, which still give the earliest
        # priority date.
        n_dates = dates.groupby("rec")["value"].nunique()
        single = n_dates[n_dates == 1].index
        one_date = dates[dates["rec"].isin(single)].drop_duplicates("rec").set_index("rec")["value"]
        fill = pr["date_raw"].isna() & pr["rec"].isin(single)
        pr.loc[fill, "date_raw"] = pr.loc[fill, "rec"].map(one_date)
        loose = dates[~dates["rec"].isin(single) | ~dates["rec"].isin(pr["rec"])]
        loose = loose.drop_duplicates(["rec", "value"])
        pr = pd.concat([pr, pd.DataFrame({"rec": loose["rec"], "number_raw": None, "date_raw": loose["value"]})],
                       ignore_index=True)
    return pr.reindex(columns=RAW_COLUMNS["priorities"])


def _events(cells: _Cells) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events of a batch, and field-level rejects of legal histories that do not parse.

    Three sources: the transfer / pledge / licence columns (:func:`_column_events`); a
    dated legal history (Patentics 法律描述, PatSnap INPADOC法律状态), parsed by
    :func:`pipeline.ingest.legal.parse_history`; and event words inside a status cell
    (PatSnap ``授权 | 权利转移``), undated, kept where the history gives no event of that
    type for the record.
    """
    from . import legal

    parts = [_column_events(cells)]
    problems = raw_frame("rejects")
    history = cells.get("field", "legal_history")
    if history.notna().any():
        dated, bad = legal.parse_history(history.dropna().astype(str))
        parts.append(dated)
        if not bad.empty:
            problems = pd.DataFrame({"row": bad["rec"].to_numpy(), "field": "legal_history", "level": "field",
                                     "raw_value": bad["raw_value"].astype("string").str.slice(0, 500).to_numpy(),
                                     "reason": bad["reason"].to_numpy()})
    status = cells.get("field", "legal_status")
    if status.notna().any():
        flagged = legal.flag_events(status.dropna().astype(str))
        if not flagged.empty:
            have = pd.concat([p[["rec", "event_type_raw"]] for p in parts if not p.empty] or
                             [pd.DataFrame(columns=["rec", "event_type_raw"])])
            seen = set(zip(have["rec"], have["event_type_raw"].astype(str).str.lower()))
            keep = [(r, t.lower()) not in seen for r, t in zip(flagged["rec"], flagged["event_type_raw"].astype(str))]
            parts.append(flagged[keep])
    parts = [p for p in parts if not p.empty]
    events = pd.concat(parts, ignore_index=True) if parts else raw_frame("events")
    return events.reindex(columns=RAW_COLUMNS["events"]), problems


def _column_events(cells: _Cells) -> pd.DataFrame:
    """One row per event record of the transfer / pledge / licence columns.

    A cell may list several records (``2019-01-02|2021-03-04``); they are taken apart
    only when the date column lists several and every other column the same number,
    since one record may itself name several parties (``甲公司;乙公司``).
    """
    types = dict.fromkeys(t[1] for t in cells.columns if t[0] == "event")
    parts = []
    for event_type in types:
        cols = {c: cells.get("event", event_type, c) for c in _EVENT_COLUMNS}
        frame = pd.DataFrame(cols)
        frame = frame[frame.notna().any(axis=1)]
        if frame.empty:
            continue
        exploded = {c: _explode(frame[c], cells.profile) for c in _EVENT_COLUMNS}
        counts = pd.DataFrame({c: e.groupby("rec").size() for c, e in exploded.items()}).reindex(frame.index)
        n_dates = counts["event_date"]
        same = counts.drop(columns="event_date").apply(lambda c: c.isna() | c.eq(n_dates))
        several = frame.index[(n_dates > 1) & same.all(axis=1)]
        whole = frame.drop(index=several).rename_axis("rec").reset_index()
        pieces = [whole]
        if len(several):
            keyed = [e[e["rec"].isin(several)].set_index(["rec", "seq"])["value"].rename(c)
                     for c, e in exploded.items()]
            pieces.append(pd.concat(keyed, axis=1).reset_index().drop(columns="seq"))
        ev = pd.concat(pieces, ignore_index=True)
        ev["event_type_raw"] = event_type
        parts.append(ev)
    if not parts:
        return raw_frame("events")
    return pd.concat(parts, ignore_index=True)


def _in_record_order(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Rows in record order (stable), so that batch boundaries do not change the output."""
    key = df["row" if table == "rejects" else "rec"]
    if not key.is_monotonic_increasing:
        df = df.iloc[np.argsort(key.to_numpy(), kind="stable")]
    return df.reindex(columns=RAW_COLUMNS[table]).reset_index(drop=True)


def _rename(df: pd.DataFrame, value: str) -> pd.DataFrame:
    return df.rename(columns={"value": value})


# --------------------------------------------------------------------------- adapter
def _take(rows: Iterator[list], n: int) -> list[list]:
    """The next ``n`` rows, read with the cyclic garbage collector paused.

    Parsing allocates a list per row, which triggers collections that re-scan every
    live row (about a third of the read time); the rows hold no reference cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return list(itertools.islice(rows, n))
    finally:
        if enabled:
            gc.enable()


class TabularAdapter:
    """Reads Lens.org and Chinese database exports: CSV, XLSX / XLS / ODS, HTML tables.

    Parameters
    ----------
    profile : str, optional
        Profile of ``headers.yaml`` to read with; by default each file's own profile
        is found from its header row, and :attr:`name` is set to it.
    aliases_path : path-like, optional
        A copy of ``headers.yaml`` (e.g. with the user's own header spellings).
    limits : Limits
        Bounds on workbooks and sheets (see :class:`pipeline.config.Limits`).

    Notes
    -----
    ``rec`` and ``row`` are the 0-based index of a data row below the header (blank
    rows are not data rows), counted on across the sheets of a workbook;
    :attr:`sheets` says where each sheet's records start. A row without a publication
    number, or (CSV) with another number of cells than the header, is rejected as a
    whole.
    """

    def __init__(self, profile: str | None = None, aliases_path: str | Path | None = None, limits: Limits = Limits()):
        self.aliases_path = aliases_path
        self.limits = limits
        profiles = load_profiles(aliases_path)
        if profile is not None and profile not in profiles:
            raise ConfigError(f"unknown table profile {profile!r}; known: {', '.join(profiles)}")
        self.profile = profile
        self.name = profile or "table"
        #: per table read: sheet name, header row (1-based), first record, records
        self.sheets: list[dict] = []
        #: sheets without a recognised header row (a search-strategy sheet …)
        self.skipped_sheets: list[str] = []

    def read(self, path: str | Path, *, batch_size: int = 50_000) -> Iterator[RawBatch]:
        """Yield raw batches of ``batch_size`` data rows.

        Raises
        ------
        pipeline.errors.UnreadableInputError
            Missing, empty or undecodable file (not UTF-8, GB18030 or UTF-16 with BOM),
            damaged workbook.
        pipeline.errors.UnsupportedFormatError
            No known header row in the first 10 rows of any sheet.
        pipeline.errors.InputLimitError
            A workbook or sheet beyond the adapter's limits.
        """
        path = Path(path)
        if not path.is_file():
            raise UnreadableInputError(path, "no such file")
        profiles = load_profiles(self.aliases_path)
        candidates = [profiles[self.profile]] if self.profile else list(profiles.values())
        self.sheets, self.skipped_sheets = [], []
        with ExitStack() as stack:
            tables, self.skipped_sheets = _open_tables(path, candidates, stack, limits=self.limits)
            self.name = tables[0].profile.name
            start = 0
            for table in tables:
                first = start
                # Blank lines (and all-empty spreadsheet rows) are no records.
                rows = (r for r in table.rows if any(r[1]))
                while True:
                    try:
                        chunk = _take(rows, batch_size)
                    except csv.Error as exc:
                        raise UnreadableInputError(path, f"CSV syntax error at or after data row {start}: {exc}") from None
                    if not chunk:
                        break
                    yield self._batch(chunk, start, table)
                    start += len(chunk)
                self.sheets.append({"sheet": table.sheet, "header_row": table.header_row,
                                    "profile": table.profile.name, "first_record": first, "records": start - first})

    def _batch(self, chunk: list[tuple[int, list]], start: int, table: _Table) -> RawBatch:
        n = len(chunk)
        recs = np.arange(start, start + n)
        rownums = pd.Series([r[0] for r in chunk], index=recs)
        chunk = [r[1] for r in chunk]
        rejects = [raw_frame("rejects")]
        if table.strict_width:
            joined = _joined_rows(chunk, table.delimiter, table.ncols)
            ragged = (np.fromiter(map(len, chunk), dtype=np.int64, count=n) != table.ncols) | joined
            if ragged.any():
                bad = np.flatnonzero(ragged)
                rejects.append(pd.DataFrame({
                    "row": recs[bad], "level": "record",
                    "reason": ["malformed row (lines joined: an unclosed quote?)" if joined[k] else "malformed row"
                               for k in bad],
                    "raw_value": [",".join(chunk[k])[:500] for k in bad],
                }))
                chunk = [r for r, b in zip(chunk, ragged) if not b]
                recs = recs[~ragged]
        cells = _Cells(chunk, recs, table.header, table.profile)
        missing = cells.get("field", "pub_raw").isna().to_numpy()
        if missing.any():
            rejects.append(pd.DataFrame({
                "row": recs[missing], "field": "pub_raw", "level": "record", "reason": "missing publication number",
            }))
            chunk = [r for r, m in zip(chunk, missing) if not m]
            cells = _Cells(chunk, recs[~missing], table.header, table.profile)
        # A dict lookup per row: mapping through the whole link table per batch is quadratic.
        row_links = pd.Series([table.links.get(r) for r in rownums] if table.links else None,
                              index=rownums.index, dtype=object)
        events, problems = _events(cells)
        if not problems.empty:
            rejects.append(problems)

        tables = {
            "patents": _patents(cells, row_links),
            "priorities": _priorities(cells),
            "family_links": _rename(cells.multi("family_members"), "member_raw"),
            "parties": _parties(cells),
            "classifications": _classifications(cells),
            "citations": _rename(cells.multi("cited"), "cited_raw"),
            "forward_citations": _rename(cells.multi("citing"), "citing_raw"),
            "npl": _rename(cells.multi("npl"), "text"),
            "events": events,
            "source_labels": _source_labels(cells),
            "rejects": pd.concat(rejects, ignore_index=True),
        }
        return RawBatch(n_records=n, tables={k: _in_record_order(k, v) for k, v in tables.items()})
