"""PatentsView bulk-download tables (TSV) as raw batches.

A PatentsView source is a folder holding any subset of the tables below. Each file
is recognised by its header, never by its name, so ``data.txt`` holding the
``g_patent`` columns is read as ``g_patent``. Unrecognised files are ignored.

============================  ==================================================
table                         taken into
============================  ==================================================
``g_patent``                  patents (one record per data row)
``g_application``             patents.app_raw / app_date
``g_patent_abstract``         patents.abstract
``g_brf_sum_text``            patents.abstract, only where no abstract is given
``g_assignee_disambiguated``  parties, role ``assignee``
``g_inventor_disambiguated``  parties, role ``inventor``
``g_location_disambiguated``  country / province (state) / city of parties
``g_cpc_current``             classifications, scheme ``CPC``
``g_ipc_at_issue``            classifications, scheme ``IPC``
``g_us_patent_citation``      citations
============================  ==================================================

Records are the ``g_patent`` rows; the other tables attach to them by
``patent_id``. Without ``g_patent`` nothing can be attached: the folder yields no
records and one file-level reject per table saying so. A table may come in several
files (PatentsView splits its text tables by year); ``g_patent`` may not.

A row is one line, split on tabs, as in every PatentsView release; CSV quoting is
then undone field by field (PatentsView quotes its text fields; the shared sample
quotes some titles), so a stray quote cannot swallow the lines after it. A line
whose field count differs from its header's is a malformed row; blank lines are
skipped; bytes that are not UTF-8 become U+FFFD. ``row`` in patents and rejects is
the 0-based data line: line ``row + 2`` of the file. A reject's ``field`` names
table and column, ``"g_assignee_disambiguated.patent_id"``, with the file name
added when the file is not ``<table>.tsv``: ``"g_patent[data.txt].patent_id"``.

What the adapter decides, and why:

* a ``g_patent`` row is rejected when it has no ``patent_id``, repeats an earlier
  row's ``patent_id`` (the first is kept), or is withdrawn (``withdrawn`` = 1);
* ``patent_type`` and ``wipo_kind`` are checked against the patent number (``D``
  design, ``PP`` plant, ``RE`` reissue, ``H`` statutory invention registration,
  ``T`` defensive publication, digits only utility) and, for utility patents, the
  grant date (kind ``A`` before 2001-01-02, ``B1``/``B2`` from then on; no ``B``
  kind before that date at all). A value that does not fit is dropped with a
  field-level reject and the type is taken from the number (also where
  ``patent_type`` is empty): the shared sample calls every patent "utility" of
  kind "B2";
* a party listed again for the same patent (same name, id and place) is collapsed
  into its first listing, with a field-level reject: the shared sample repeats every
  assignee once per inventor and every inventor once per assignee;
* ``seq`` is the 0-based rank in the source's sequence order after that collapse
  (PatentsView numbers from 0, the shared sample from 1);
* ``assignee_type`` (PatentsView data dictionary): 1 unassigned, 2/3 US/foreign
  company or corporation, 4/5 US/foreign individual, 6 US federal, 7 foreign,
  8 US county, 9 US state government; a leading 1 marks a part interest (``12``
  is 2). 4/5 give the hint ``individual``, 6-9 ``government``, and 2/3
  ``organisation``: PatentsView files universities, institutes and hospitals as
  corporations too, so the name rules of :func:`pipeline.ingest.normalize.party_types`
  decide and only an otherwise unknown organisation becomes an enterprise;
* the main classification is a patent's first ``inventional`` CPC row (its first
  row when ``cpc_type`` is absent) and its IPC row at symbol position ``F``;
* child rows of a rejected patent go with it unreported; child rows of a patent
  absent from ``g_patent``, without ``patent_id``, or malformed are record-level
  rejects and come in the last batch.

Memory follows ``Limits.join_records``, not the input. PatentsView does not promise its
child tables in patent order, so each file is first parsed in blocks of 4 MiB (larger
only for a longer line) into an Arrow file on disk; the records are cut into parts of
whole batches (``join_records`` records); every child row is written, block by block, to
the Arrow stream of its patent's part, and the parts are joined one at a time, vectorised
(Arrow compute and NumPy). Held whole: an index of the g_patent ids (about 50 bytes per
patent, measured) and the locations table. The batches are the same whatever the part
and block sizes.
"""

from __future__ import annotations

import codecs
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import InputError, UnreadableInputError
from ..config import Limits
from .base import HEAD_BYTES, RAW_COLUMNS, RawBatch

__all__ = ["PatentsViewAdapter", "sniff_table", "is_patentsview_dir", "REQUIRED_COLUMNS"]

# A header holding all of a table's required columns is that table; the longest match
# wins (an old g_patent with patent_abstract is g_patent, not g_patent_abstract).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "g_patent": ("patent_id", "patent_type", "patent_date", "patent_title"),
    "g_application": ("patent_id", "application_id", "filing_date"),
    "g_patent_abstract": ("patent_id", "patent_abstract"),
    "g_brf_sum_text": ("patent_id", "summary_text"),
    "g_assignee_disambiguated": (
        "patent_id", "assignee_sequence", "assignee_id", "disambig_assignee_organization",
    ),
    "g_inventor_disambiguated": (
        "patent_id", "inventor_sequence", "inventor_id", "disambig_inventor_name_last",
    ),
    "g_location_disambiguated": ("location_id", "disambig_country"),
    "g_cpc_current": ("patent_id", "cpc_sequence", "cpc_subclass"),
    "g_ipc_at_issue": ("patent_id", "ipc_sequence", "section", "ipc_class", "subclass"),
    "g_us_patent_citation": ("patent_id", "citation_sequence", "citation_patent_id"),
}

# Further columns read when the header has them.
_OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "g_patent": ("wipo_kind", "num_claims", "withdrawn", "patent_abstract"),
    "g_assignee_disambiguated": (
        "disambig_assignee_individual_name_first", "disambig_assignee_individual_name_last",
        "assignee_type", "location_id",
    ),
    "g_inventor_disambiguated": ("disambig_inventor_name_first", "location_id"),
    "g_location_disambiguated": ("disambig_city", "disambig_state"),
    "g_cpc_current": ("cpc_group", "cpc_type"),
    "g_ipc_at_issue": ("main_group", "subgroup", "symbol_position"),
    "g_us_patent_citation": ("citation_date", "wipo_kind", "citation_category"),
}

# patent_type as PatentsView spells it -> canonical patent type.
_TYPE_HINT = {
    "utility": "invention",
    "reissue": "invention",
    "design": "design",
    "plant": "plant",
    "defensive publication": "other",
    "statutory invention registration": "other",
}
# The patent_type a number prefix implies, and the first letter of the kinds that fit.
_PREFIX_TYPE = {
    "": "utility",
    "D": "design",
    "PP": "plant",
    "RE": "reissue",
    "H": "statutory invention registration",
    "T": "defensive publication",
}
_PREFIX_KIND = {"D": "S", "PP": "P", "RE": "E", "H": "H"}
# role -> (table, id column, sequence column)
_PARTY_TABLES = {
    "assignee": ("g_assignee_disambiguated", "assignee_id", "assignee_sequence"),
    "inventor": ("g_inventor_disambiguated", "inventor_id", "inventor_sequence"),
}
_ASSIGNEE_TYPE_HINT = {
    "4": "individual", "5": "individual",
    "6": "government", "7": "government", "8": "government", "9": "government",
    "2": "organisation", "3": "organisation",
}

_STR = pd.StringDtype("pyarrow")


# --------------------------------------------------------------------------- detection
def _header_columns(header_line: str) -> list[str]:
    """Column names of a header line: BOM, line break and quotes removed, lower case."""
    text = header_line.lstrip("\ufeff").rstrip("\r\n")
    return [c.strip().strip('"').strip().lower() for c in text.split("\t")]


def sniff_table(header_line: str) -> str | None:
    """The PatentsView table a TSV header belongs to.

    Parameters
    ----------
    header_line : str
        The first line of the file.

    Returns
    -------
    str or None
        ``"g_patent"``, ``"g_cpc_current"`` … or None when the header is not one of
        the tables in :data:`REQUIRED_COLUMNS`.

    Examples
    --------
    >>> sniff_table('"patent_id"\\t"patent_type"\\t"patent_date"\\t"patent_title"\\t"wipo_kind"')
    'g_patent'
    >>> sniff_table("id\\tname") is None
    True
    """
    if "\t" not in header_line:
        return None
    cols = set(_header_columns(header_line))
    matches = [t for t, req in REQUIRED_COLUMNS.items() if cols.issuperset(req)]
    return max(matches, key=lambda t: len(REQUIRED_COLUMNS[t])) if matches else None


def _first_line(path: Path) -> str:
    with open(path, "rb") as fh:
        return fh.readline(HEAD_BYTES).decode("utf-8-sig", errors="replace")


def _files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))


def is_patentsview_dir(path) -> bool:
    """Whether ``path`` is a folder holding at least one PatentsView table."""
    path = Path(path)
    return path.is_dir() and any(sniff_table(_first_line(f)) for f in _files(path))


# --------------------------------------------------------------------------- reading
@dataclass
class _Table:
    """The well-formed rows of one table file (or of one part of it), and its malformed lines."""

    label: str  # the table as named in reject fields
    path: Path
    df: pd.DataFrame  # the columns read, plus _row (0-based data line)
    bad: pd.DataFrame  # _row, text


@dataclass
class _Spill:
    """One table file parsed to an Arrow file on disk: the columns taken, and ``_wf``.

    ``_wf`` numbers the well-formed lines (blank ones included, though not kept); a
    line's data line follows from it and the malformed lines (:meth:`rows`).
    """

    name: str  # the table
    label: str  # the table as named in reject fields
    path: Path
    spill: Path
    bad: pd.DataFrame  # _row, text

    def rows(self, wf: np.ndarray) -> np.ndarray:
        """The 0-based data line of each well-formed line ``wf``."""
        bad = self.bad["_row"].to_numpy()
        # The i-th well-formed line comes after every malformed line b with b - (its rank) <= i.
        return wf + np.searchsorted(bad - np.arange(len(bad)), wf, side="right")

    def batches(self) -> Iterator[pa.RecordBatch]:
        with pa.OSFile(str(self.spill)) as src:
            reader = pa.ipc.open_file(src)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

    def frame(self, table: pa.Table | None = None) -> pd.DataFrame:
        """``table`` (default: the whole spill) as pandas, ``_wf`` replaced by ``_row``."""
        if table is None:
            with pa.memory_map(str(self.spill)) as src:
                table = pa.ipc.open_file(src).read_all()
        table = table.sort_by("_wf")
        wf = table["_wf"].to_numpy()
        table = table.drop_columns([c for c in table.column_names if c.startswith("_")])
        df = table.to_pandas(types_mapper=_pandas_type)
        df["_row"] = self.rows(wf)
        return df


class _Utf8Replacing(io.RawIOBase):
    """A file's bytes with every sequence that is not UTF-8 made U+FFFD, decoded as read."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf, self._at = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self._at == len(self._buf):
            chunk = self._file.read(1 << 22)
            self._buf, self._at = self._decoder.decode(chunk, final=not chunk).encode(), 0
            if not chunk:
                break
        n = min(len(b), len(self._buf) - self._at)
        b[:n] = self._buf[self._at:self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def _unquote(col: pa.Array) -> pa.Array:
    """Undo CSV quoting of whole fields: outer quotes off, doubled quotes single, ``""`` null."""
    starts = pc.starts_with(col, '"')
    if not pc.any(starts).as_py():
        return col
    quoted = pc.and_(pc.and_(starts, pc.ends_with(col, '"')), pc.greater_equal(pc.utf8_length(col), 2))
    inner = pc.replace_substring(pc.utf8_slice_codeunits(col, 1, -1), '""', '"')
    inner = pc.if_else(pc.equal(inner, ""), pa.scalar(None, col.type), inner)
    return pc.if_else(quoted, inner, col)


# Bytes parsed at once: small blocks keep memory flat; a line longer than a block (full-text
# tables carry multi-MB fields) makes the parser retry with the next size.
_BLOCK_SIZES = (1 << 22, 1 << 26, 1 << 30)


def _parse(source, names: list[str], wanted: tuple[str, ...], dest: Path,
           block_size: int = _BLOCK_SIZES[0]) -> list[tuple[int, str]]:
    """Parse ``source`` block by block into the Arrow file ``dest`` (the ``wanted`` columns,
    unquoted, and ``_wf``; blank lines left out); return the (line number, text) of lines
    with a wrong field count."""
    bad: list[tuple[int, str]] = []

    def invalid(row) -> str:
        bad.append((row.number, row.text))
        return "skip"

    reader = pcsv.open_csv(
        source,
        # Threads would leave the line numbers of malformed rows unknown.
        read_options=pcsv.ReadOptions(use_threads=False, block_size=block_size, column_names=names, skip_rows=1),
        # A row is one line: quotes are undone per field afterwards, so a stray quote
        # cannot swallow the lines after it. Blank lines come back as empty rows.
        parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False,
                                        invalid_row_handler=invalid),
        convert_options=pcsv.ConvertOptions(column_types={c: pa.large_string() for c in names},
                                            strings_can_be_null=True, null_values=[""]),
    )
    schema = pa.schema([(c, pa.large_string()) for c in wanted] + [("_wf", pa.int64())])
    wf = 0
    with pa.OSFile(str(dest), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for block in reader:
            n = block.num_rows
            blank = np.ones(n, bool)
            for col in block.columns:
                blank &= pc.is_null(col).to_numpy(zero_copy_only=False)
            cols = [_unquote(block.column(c)) for c in wanted] + [pa.array(np.arange(wf, wf + n))]
            writer.write_batch(pa.record_batch(cols, schema=schema).filter(pa.array(~blank)))
            wf += n
    return bad


def _spill_table(path: Path, name: str, dest: Path) -> _Spill:
    """Parse one table file to ``dest``, streaming (see :class:`_Spill`)."""
    header = _header_columns(_first_line(path))
    # Column names must be unique for the parser; a repeated name keeps its first column.
    names = [c if c not in header[:i] else f"{c}#{i}" for i, c in enumerate(header)]
    wanted = REQUIRED_COLUMNS[name] + tuple(c for c in _OPTIONAL_COLUMNS.get(name, ()) if c in header)

    def parse(opener) -> list[tuple[int, str]]:
        for size in _BLOCK_SIZES:
            try:
                with opener() as src:
                    return _parse(src, names, wanted, dest, size)
            except pa.ArrowInvalid as exc:
                if "block" not in str(exc):
                    raise
                if size == _BLOCK_SIZES[-1]:  # a line longer than the largest block
                    raise UnreadableInputError(path, f"a line is longer than {size:,} bytes, the most "
                                                     "the reader takes at once") from None

    try:
        # A plain file, not a memory map: mapped pages would count as the process's memory.
        bad = parse(lambda: pa.OSFile(str(path)))
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc):
            raise UnreadableInputError(path, str(exc)) from None
        bad = parse(lambda: io.BufferedReader(_Utf8Replacing(path), 1 << 22))
    # Line numbers count the header as line 1.
    bad_df = pd.DataFrame({"_row": np.array([n - 2 for n, _ in bad], np.int64),
                           "text": pd.array([t for _, t in bad], dtype=_STR)})
    label = name if path.name == f"{name}.tsv" else f"{name}[{path.name}]"
    return _Spill(name, label, path, dest, bad_df)


def _pandas_type(t: pa.DataType):
    return _STR if pa.types.is_large_string(t) or pa.types.is_string(t) else None


# --------------------------------------------------------------------------- helpers
def _join(*cols: pd.Series, sep: str) -> pd.Series:
    """Join the non-null values of each row with ``sep`` (null when all are null)."""
    out = pd.Series(pd.NA, index=cols[0].index, dtype=_STR)
    for c in cols:
        c = c.astype(_STR)
        out = (out + sep + c).fillna(out).fillna(c)
    return out


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column, or nulls when the file lacks it."""
    return df[name] if name in df else pd.Series(pd.NA, index=df.index, dtype=_STR)


def _lookup(values: pd.Series, keys: pa.Array) -> np.ndarray:
    """Position of each value in ``keys`` (unique), -1 where absent or null."""
    return pc.fill_null(pc.index_in(pa.array(values, pa.large_string()), value_set=keys), -1).to_numpy()


def _take(values: pd.Series, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values`` at positions ``idx``; null where ``idx`` is -1."""
    taken = pc.take(pa.array(values, pa.large_string()), pa.array(idx, mask=idx < 0))
    return pd.array(taken, dtype=_STR)


def _number(s: pd.Series) -> np.ndarray:
    """Sequence numbers as floats for ordering; NaN (ordered last) where not all digits."""
    arr = pa.array(s, pa.large_string())
    digits = pc.if_else(pc.utf8_is_digit(arr), arr, pa.scalar(None, arr.type))
    return pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False)


def _rank(pk: np.ndarray, *order: np.ndarray) -> np.ndarray:
    """0-based rank of each row within its patent ``pk``, ordered by the ``order`` keys."""
    n = len(pk)
    idx = np.lexsort(tuple(reversed(order)) + (pk,))
    spk = pk[idx]
    start = np.r_[True, spk[1:] != spk[:-1]] if n else np.zeros(0, bool)
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    rank = np.empty(n, np.int64)
    rank[idx] = np.arange(n) - first
    return rank


def _rejects(row, record_id, field, raw_value, reason: str, level: str, batch) -> pd.DataFrame:
    out = pd.DataFrame({
        "row": row, "record_id": record_id, "field": field, "raw_value": raw_value,
        "reason": reason, "level": level, "_batch": batch,
    })
    return out.reindex(columns=RAW_COLUMNS["rejects"] + ["_batch"])


def _malformed(t: _Table, batch) -> pd.DataFrame:
    first = t.bad["text"].str.split("\t").str[0].str.strip('"')
    # Only g_patent rows are records; a bad line of another table is a lost row.
    level = "record" if t.label.startswith("g_patent") else "row"
    return _rejects(t.bad["_row"].to_numpy(), first.to_numpy(), t.label, t.bad["text"].str.slice(0, 500).to_numpy(),
                    "malformed TSV row", level, batch)


# --------------------------------------------------------------------------- patents
def _patents(p: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[tuple]]:
    """Raw patents, and the g_patent rejects as (rows, record ids, field, value, reason, level)."""
    pid = p["patent_id"]
    missing = pid.isna().to_numpy()
    # A part of the file cannot see earlier parts: ``_dup`` says what the whole file does.
    dup = (p["_dup"].to_numpy(bool) if "_dup" in p else pid.duplicated().to_numpy()) & ~missing
    withdrawn = (_number(_col(p, "withdrawn")) == 1) & ~missing & ~dup
    rej = [
        (missing, f"{label}.patent_id", "patent_id", "missing patent_id", "record"),
        (dup, f"{label}.patent_id", "patent_id", "duplicate patent_id in g_patent", "record"),
        (withdrawn, f"{label}.withdrawn", "withdrawn", "withdrawn patent", "record"),
    ]
    out = [(p.loc[m, "_row"].to_numpy(), pid[m].to_numpy(), f, _col(p, c)[m].to_numpy(), r, lv)
           for m, f, c, r, lv in rej]
    p = p[~(missing | dup | withdrawn)].reset_index(drop=True)
    pid = p["patent_id"]

    numbered = pid.str.fullmatch(r"(RE|PP|D|H|T)?\d+").fillna(False).to_numpy(bool)
    prefix = pid.str.replace(r"\d+$", "", regex=True).where(numbered, "")
    implied = prefix.map(_PREFIX_TYPE).astype(_STR)
    ptype = p["patent_type"].str.strip().str.lower().str.replace("_", " ")
    bad_type = numbered & (ptype.notna() & (ptype != implied)).fillna(False).to_numpy(bool)
    # Where patent_type is wrong or missing, the number says what the patent is.
    ptype = ptype.where(~bad_type, implied).fillna(implied.where(numbered))

    kind = _col(p, "wipo_kind")
    date = p["patent_date"].str.replace("-", "").str.slice(0, 8)
    dated = date.str.fullmatch(r"\d{8}").fillna(False).to_numpy(bool)
    utility = pd.Series(np.where((date < "20010102").fillna(False), "A", "B"), dtype=_STR).where(dated)
    letter = prefix.map(_PREFIX_KIND).astype(_STR).fillna(utility.where(prefix == ""))
    # Without a readable date a utility kind can only be said to be A or B.
    undated_utility = (prefix == "") & ~dated
    fits = (
        (kind.str[0] == letter)
        | ((prefix != "") & letter.isna())
        | (undated_utility & kind.str[0].isin(["A", "B"]))
    )
    # B kinds began on 2001-01-02, for every kind of patent.
    fits &= ~((kind.str[0] == "B") & (date < "20010102") & dated)
    bad_kind = numbered & (kind.notna() & ~fits.fillna(False)).fillna(False).to_numpy(bool)
    out += [
        (p.loc[bad_type, "_row"].to_numpy(), pid[bad_type].to_numpy(), f"{label}.patent_type",
         p.loc[bad_type, "patent_type"].to_numpy(),
         "patent_type contradicts the patent number; type taken from the number", "field"),
        (p.loc[bad_kind, "_row"].to_numpy(), pid[bad_kind].to_numpy(), f"{label}.wipo_kind",
         kind[bad_kind].to_numpy(), "wipo_kind does not fit the patent number and grant date", "field"),
    ]
    patents = pd.DataFrame({
        "rec": pid,
        "row": p["_row"],
        "pub_raw": pid,
        "country": "US",
        "kind": kind.where(~bad_kind),
        "pub_date": p["patent_date"],
        "grant_date": p["patent_date"],
        "patent_type_hint": ptype.map(_TYPE_HINT).astype(_STR),
        "title": p["patent_title"],
        "abstract": _col(p, "patent_abstract"),
        "claims_count": _col(p, "num_claims"),
    })
    return patents, out


def _first_per_patent(df: pd.DataFrame, col: str, n: int) -> pd.Series:
    """The first non-null ``col`` of each of ``n`` patents (by ``_pk``), in file order."""
    has = df[col].notna().to_numpy()
    pk, first = np.unique(df["_pk"].to_numpy()[has], return_index=True)
    out = pd.Series(pd.NA, index=range(n), dtype=_STR)
    out.iloc[pk] = df[col].to_numpy()[has][first]
    return out


# --------------------------------------------------------------------------- children
def _parties(df: pd.DataFrame, role: str, loc: pd.DataFrame) -> pd.DataFrame:
    """Raw party rows of one role, indexed like ``df``."""
    if role == "assignee":
        org = df["disambig_assignee_organization"]
        person = _join(_col(df, "disambig_assignee_individual_name_first"),
                       _col(df, "disambig_assignee_individual_name_last"), sep=" ")
        name = org.fillna(person)
        # "2.0" is a float-written code; "12" is code 2 held in part interest.
        code = _col(df, "assignee_type").str.strip().str.replace(r"\.0$", "", regex=True)
        code = code.where(~code.str.fullmatch(r"1\d").fillna(False), code.str.slice(1))
        hint = code.map(_ASSIGNEE_TYPE_HINT).astype(_STR)
        hint = hint.mask(hint.isna() & org.isna() & person.notna(), "individual")
    else:
        name = _join(_col(df, "disambig_inventor_name_first"), df["disambig_inventor_name_last"], sep=" ")
        hint = pd.Series("individual", index=df.index, dtype=_STR)
    at = _lookup(_col(df, "location_id"), pa.array(loc["location_id"], pa.large_string()))
    return pd.DataFrame({
        "rec": df["patent_id"],
        "role": role,
        "name_raw": name,
        "party_type_hint": hint,
        "country": _take(loc["country"], at),
        "province": _take(loc["province"], at),
        "city": _take(loc["city"], at),
        "address_raw": _take(loc["address_raw"], at),
        "source_party_id": df[_PARTY_TABLES[role][1]],
    }, index=df.index)


def _locations(tables: list[_Table]) -> pd.DataFrame:
    loc = _concat(tables)
    if loc.empty:
        return pd.DataFrame({c: pd.Series([], dtype=_STR)
                             for c in ("location_id", "country", "province", "city", "address_raw")})
    loc = loc.dropna(subset=["location_id"]).drop_duplicates("location_id")
    city, state, country = _col(loc, "disambig_city"), _col(loc, "disambig_state"), loc["disambig_country"]
    return pd.DataFrame({
        "location_id": loc["location_id"], "country": country, "province": state, "city": city,
        "address_raw": _join(city, state, country, sep=", "),
    })


def _concat(tables: list[_Table]) -> pd.DataFrame:
    """The rows of all files of one table; ``_file`` numbers the file, ``_label`` names it."""
    frames = [t.df.assign(_file=i, _label=t.label) for i, t in enumerate(tables)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _ipc_symbols(df: pd.DataFrame) -> pd.Series:
    """IPC symbol from its parts (``H`` ``01`` ``L`` ``21`` ``02`` -> ``H01L21/02``)."""
    sec, cls, sub = df["section"].fillna(""), df["ipc_class"].fillna(""), df["subclass"].fillna("")
    # Some releases write the class as "H01" or the subclass as "H01L".
    subclass = sub.where(sub.str.len() == 4, cls.where(cls.str.len() == 3, sec + cls) + sub)
    group = _join(subclass.where(subclass != ""), _col(df, "main_group"), sep="")
    return _join(group, _col(df, "subgroup").where(_col(df, "main_group").notna()), sep="/")


def _classifications(df: pd.DataFrame, scheme: str, symbol: pd.Series, main: np.ndarray, seq_col: str) -> pd.DataFrame:
    """Classification rows; ``is_main`` on the first ``main`` candidate of each patent."""
    pk, order = df["_pk"].to_numpy(), (_number(df[seq_col]), df["_file"].to_numpy(), df["_row"].to_numpy())
    rank = _rank(pk, *order)
    first_main = np.zeros(len(df), bool)
    cand = np.flatnonzero(main)
    first_main[cand[_rank(pk[cand], *(o[cand] for o in order)) == 0]] = True
    return pd.DataFrame({
        "rec": df["patent_id"], "scheme": scheme, "symbol_raw": symbol,
        "is_main": first_main, "seq": rank, "_pk": pk,
    })


# --------------------------------------------------------------------------- adapter
class PatentsViewAdapter:
    """Reads a folder of PatentsView bulk-download TSV tables.

    See the module docstring for the tables taken and the decisions made.

    Parameters
    ----------
    limits : Limits
        ``join_records`` bounds the records joined at once (the adapter's memory).
    """

    name = "patentsview"

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits

    def read(self, path, *, batch_size: int = 2000) -> Iterator[RawBatch]:
        """Yield raw batches of up to ``batch_size`` g_patent records.

        Parameters
        ----------
        path : path-like
            The folder of tables, or any file in it (its folder is read).
        batch_size : int
            g_patent data rows per batch; child rows travel with their patent.

        Raises
        ------
        pipeline.errors.UnreadableInputError
            The path is missing or its folder holds no PatentsView table.
        pipeline.errors.InputError
            Several files hold ``g_patent``: which one is meant cannot be told.
        """
        path = Path(path)
        if not path.exists():
            raise UnreadableInputError(path, "no such file or folder")
        folder = path if path.is_dir() else path.parent
        found: dict[str, list[Path]] = {}
        notes = []
        for f in _files(folder):
            head = _first_line(f)
            if not head.strip():
                notes.append(_rejects([None], None, f.name, None, "empty file", "file", 0))
            elif table := sniff_table(head):
                found.setdefault(table, []).append(f)
        if not found:
            raise UnreadableInputError(folder, "folder holds no PatentsView tables")
        if len(found.get("g_patent", [])) > 1:
            names = ", ".join(f.name for f in found["g_patent"])
            raise InputError(folder, f"several files hold the g_patent table ({names}); keep one")
        with tempfile.TemporaryDirectory(prefix="patnav-patentsview-") as tmp:
            tmp = Path(tmp)
            tables = {name: [_spill_table(f, name, tmp / f"{name}.{i}.arrow") for i, f in enumerate(files)]
                      for name, files in found.items()}
            if "g_patent" not in tables:
                for t in (t for ts in tables.values() for t in ts):
                    notes.append(_rejects([None], None, t.label, t.path.name,
                                          "no g_patent table in the folder: its rows have no patent to attach to",
                                          "file", 0))
                yield from _split({}, np.zeros(1, np.int64), notes, 0)
                return
            per_part = max(1, self.limits.join_records // batch_size)
            yield from _join_in_parts(tables, batch_size, per_part, notes, tmp)


def _join_in_parts(spills: dict[str, list[_Spill]], batch_size: int, per_part: int, notes: list,
                   tmp: Path) -> Iterator[RawBatch]:
    """Cut the records into parts of ``per_part`` batches, send every child row to its
    patent's part on disk, and join one part at a time.

    A child row goes to the part of its ``patent_id``'s first g_patent row; a row without
    ``patent_id``, with an unknown one, or malformed goes to the last part, where the
    join rejects it as before — so the batches are the same whatever the part size.
    """
    gp = spills["g_patent"][0]
    with pa.memory_map(str(gp.spill)) as src:
        ids = pa.ipc.open_file(src).read_all().select(["patent_id", "_wf"])
    pid = ids["patent_id"].to_pandas(types_mapper=_pandas_type)
    rows = gp.rows(ids["_wf"].to_numpy())
    bad_rows = gp.bad["_row"].to_numpy()
    del ids

    # Records are numbered in file order over well-formed and malformed rows alike.
    record_rows = np.sort(np.concatenate([rows, bad_rows]))
    n_batches = max(1, -(-len(record_rows) // batch_size))
    counts = np.bincount(np.arange(len(record_rows)) // batch_size, minlength=n_batches)

    def batch_of_row(r: np.ndarray) -> np.ndarray:
        return np.searchsorted(record_rows, r) // batch_size

    part = batch_of_row(rows) // per_part
    n_parts = -(-n_batches // per_part)
    last_part = n_parts - 1
    dup = (pid.duplicated() & pid.notna()).to_numpy()
    first = pid.notna().to_numpy() & ~dup
    part_of_id = np.append(part[first], last_part)  # position -1 (no such patent): the last part
    # One hash table of the first ids for every block of every child table.
    id_index = pd.Index(pid[first])
    del pid, rows, first

    def route(t: _Spill, tag) -> Path | None:
        """Write ``t``'s rows into one Arrow stream per part, block by block: ``tag(block,
        offset)`` gives the columns to add to a block (``_part`` first), ``offset`` its
        first row in ``t``. Each block is written before the next is read, so memory
        holds one block whatever the table's size."""
        base = tmp / (t.spill.stem + ".parts")
        writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        offset = 0
        try:
            for block in t.batches():
                for name, col in tag(block, offset):
                    block = block.append_column(name, col)
                offset += block.num_rows
                parts = block.column("_part").to_numpy()
                order = np.argsort(parts, kind="stable")
                block = block.take(pa.array(order))
                cuts = np.flatnonzero(np.diff(parts[order])) + 1
                for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(order)]):
                    if lo == hi:
                        continue
                    p = int(parts[order[lo]])
                    if p not in writers:
                        base.mkdir(exist_ok=True)
                        writers[p] = pa.ipc.new_stream(str(base / f"{p}.arrow"), block.schema)
                    writers[p].write_batch(block.slice(lo, hi - lo))
        finally:
            for w in writers.values():
                w.close()
        return base if offset else None

    # g_patent rows carry whether an earlier row has their patent_id (a duplicate).
    gp_parts = route(gp, lambda b, at: [("_part", pa.array(part[at:at + b.num_rows], pa.int32())),
                                        ("_dup", pa.array(dup[at:at + b.num_rows]))])

    def child_part(b, at):
        pos = id_index.get_indexer(b.column("patent_id").to_pandas(types_mapper=_pandas_type))
        return [("_part", pa.array(part_of_id[pos], pa.int32()))]

    children = {name: [(t, route(t, child_part)) for t in ts] for name, ts in spills.items()
                if name not in ("g_patent", "g_location_disambiguated")}
    del id_index
    locs = spills.get("g_location_disambiguated", [])
    loc = _locations([_Table(t.label, t.path, t.frame(), t.bad) for t in locs])
    part_of_bad = batch_of_row(bad_rows) // per_part

    def part_frame(t: _Spill, d: Path | None, p: int) -> pd.DataFrame:
        if d is None or not (d / f"{p}.arrow").exists():  # no row of the table in this part
            with pa.memory_map(str(t.spill)) as src:
                df = t.frame(pa.ipc.open_file(src).schema.empty_table())
            if t is gp:
                df["_dup"] = np.zeros(0, bool)
            return df
        with pa.memory_map(str(d / f"{p}.arrow")) as src:
            table = pa.ipc.open_stream(src).read_all()
        dup_col = table["_dup"].to_numpy(zero_copy_only=False) if "_dup" in table.column_names else None
        df = t.frame(table)
        if dup_col is not None:
            df["_dup"] = dup_col[np.argsort(table["_wf"].to_numpy(), kind="stable")]
        return df

    for p in range(n_parts):
        tables = {"g_patent": [_Table(gp.label, gp.path, part_frame(gp, gp_parts, p), gp.bad[part_of_bad == p])]}
        for name, ts in children.items():
            tables[name] = [_Table(t.label, t.path, part_frame(t, d, p), t.bad if p == last_part else t.bad.iloc[:0])
                            for t, d in ts]
        tables["g_location_disambiguated"] = [_Table(t.label, t.path, pd.DataFrame(),
                                                     t.bad if p == last_part else t.bad.iloc[:0]) for t in locs]
        batches = _split(_assemble(tables, loc, batch_of_row, n_batches - 1), counts, notes if p == 0 else [],
                         p * per_part, min((p + 1) * per_part, n_batches))
        del tables  # one part in memory at a time: nothing of it is left when the next is read
        yield from batches


def _assemble(tables: dict[str, list[_Table]], loc: pd.DataFrame, batch_of_row,
              last: int) -> dict[str, pd.DataFrame]:
    """The raw tables of one part of the records, each with a ``_batch`` column.

    ``tables`` hold the part's g_patent rows (with ``_dup``) and the child rows routed to
    it; ``loc`` the locations (:func:`_locations`); ``batch_of_row`` gives the batch of a
    g_patent data line; ``last`` is the last batch.
    """
    gp = tables["g_patent"][0]
    patents, patent_rejects = _patents(gp.df, gp.label)
    n = len(patents)
    patents["_batch"] = batch_of_row(patents["row"].to_numpy())
    batch_of_pk = patents["_batch"].to_numpy()
    rej = [_rejects(*r, batch_of_row(r[0])) for r in patent_rejects]
    rej.append(_malformed(gp, batch_of_row(gp.bad["_row"].to_numpy())))
    kept_ids = pa.array(patents["rec"], pa.large_string())
    all_ids = pa.array(gp.df["patent_id"].dropna(), pa.large_string())

    def attach(name: str) -> pd.DataFrame:
        """Rows of a child table that belong to kept patents, with ``_pk``; the others to rejects.

        None when the source has no such table (a part may hold no rows of one it has)."""
        if not tables.get(name):  # the source has no such table
            return None
        rej.extend(_malformed(t, last) for t in tables[name])
        df = _concat(tables[name])
        pid = df["patent_id"]
        missing = pid.isna().to_numpy()
        known = pc.is_in(pa.array(pid, pa.large_string()), value_set=all_ids).to_numpy(zero_copy_only=False)
        orphan = ~missing & ~known
        for mask, reason in ((missing, "missing patent_id"), (orphan, "no such patent in g_patent")):
            sub = df[mask]
            rej.append(_rejects(sub["_row"].to_numpy(), sub["patent_id"].to_numpy(),
                                (sub["_label"] + ".patent_id").to_numpy(), sub["patent_id"].to_numpy(),
                                reason, "row", last))
        pk = _lookup(pid, kept_ids)
        if (pk < 0).any():
            df, pk = df[pk >= 0].reset_index(drop=True), pk[pk >= 0]
        return df.assign(_pk=pk)

    # Abstract: g_patent's own column (older releases), then g_patent_abstract, then the
    # brief summary as a last resort.
    for name, col in (("g_patent_abstract", "patent_abstract"), ("g_brf_sum_text", "summary_text")):
        df = attach(name)
        if df is not None:
            patents["abstract"] = patents["abstract"].fillna(_first_per_patent(df, col, n))
    app = attach("g_application")
    if app is not None:
        patents["app_raw"] = _first_per_patent(app, "application_id", n)
        patents["app_date"] = _first_per_patent(app, "filing_date", n)

    rej.extend(_malformed(t, last) for t in tables.get("g_location_disambiguated", []))
    parties = []
    for role, (name, id_col, seq_col) in _PARTY_TABLES.items():
        df = attach(name)
        if df is None:
            continue
        pk, party = df["_pk"].to_numpy(), _parties(df, role, loc)
        again = party.assign(_pk=pk).duplicated(
            ["_pk", "name_raw", "source_party_id", "country", "province", "city"]).to_numpy()
        d = df.loc[again, ["_row", "patent_id", "_label", id_col, "_pk"]]
        rej.append(_rejects(d["_row"].to_numpy(), d["patent_id"].to_numpy(), (d["_label"] + "." + id_col).to_numpy(),
                            d[id_col].to_numpy(), f"same {role} listed again for this patent; first listing kept",
                            "field", batch_of_pk[d["_pk"].to_numpy()]))
        keep = ~again
        party = party[keep].assign(
            seq=_rank(pk[keep], _number(df[seq_col])[keep], df["_file"].to_numpy()[keep], df["_row"].to_numpy()[keep]),
            _pk=pk[keep],
        )
        parties.append(party)

    classes = []
    cpc = attach("g_cpc_current")
    if cpc is not None:
        main = (_col(cpc, "cpc_type").str.strip().str.lower() == "inventional").fillna("cpc_type" not in cpc)
        classes.append(_classifications(cpc, "CPC", _col(cpc, "cpc_group").fillna(cpc["cpc_subclass"]),
                                        main.to_numpy(bool), "cpc_sequence"))
    ipc = attach("g_ipc_at_issue")
    if ipc is not None:
        main = (_col(ipc, "symbol_position").str.strip().str.upper() == "F").fillna("symbol_position" not in ipc)
        classes.append(_classifications(ipc, "IPC", _ipc_symbols(ipc), main.to_numpy(bool), "ipc_sequence"))

    out = {"patents": patents}
    cit = attach("g_us_patent_citation")
    if cit is not None:
        out["citations"] = pd.DataFrame({
            "rec": cit["patent_id"],
            "seq": _rank(cit["_pk"].to_numpy(), _number(cit["citation_sequence"]), cit["_file"].to_numpy(),
                         cit["_row"].to_numpy()),
            "cited_raw": cit["citation_patent_id"], "cited_country": "US",
            "cited_kind": _col(cit, "wipo_kind"), "cited_date": _col(cit, "citation_date"),
            "category_raw": _col(cit, "citation_category"), "_pk": cit["_pk"],
        })
    if parties:
        out["parties"] = pd.concat(parties, ignore_index=True)
    if classes:
        out["classifications"] = pd.concat(classes, ignore_index=True)
    for name in ("parties", "classifications", "citations"):
        if name in out:
            out[name]["_batch"] = batch_of_pk[out[name]["_pk"].to_numpy()]
    out["rejects"] = pd.concat(rej, ignore_index=True)
    return out


def _split(out: dict[str, pd.DataFrame], counts: np.ndarray, notes: list, lo: int, hi: int | None = None
           ) -> Iterator[RawBatch]:
    """One RawBatch per batch ``lo`` to ``hi`` (default: the last), each table cut by
    ``_batch``; file-level ``notes`` go in the first."""
    hi = len(counts) if hi is None else hi
    if notes:
        out = {**out, "rejects": pd.concat([*notes, out.get("rejects")], ignore_index=True)}
    cuts = {}
    for name, df in out.items():
        if not df["_batch"].is_monotonic_increasing:
            df = df.sort_values("_batch", kind="stable")
        bounds = np.searchsorted(df["_batch"].to_numpy(), np.arange(lo, hi + 1))
        cuts[name] = (df.reindex(columns=RAW_COLUMNS[name]).reset_index(drop=True), bounds)
    out = df = None  # the caller passes the tables on: only the cut copies stay
    for i, n in enumerate(counts[lo:hi]):
        tables = {name: df.iloc[bounds[i]:bounds[i + 1]].reset_index(drop=True) for name, (df, bounds) in cuts.items()}
        yield RawBatch(n_records=int(n), tables=tables)
