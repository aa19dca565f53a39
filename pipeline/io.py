"""Reading and writing canonical tables (Parquet) and reports (JSON).

The only module of the ingest path that touches the disk for outputs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import zipfile
from io import BytesIO
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema

__all__ = ["write_tables", "write_frame", "read_tables", "read_table", "write_json", "write_export", "write_workbook",
           "neutralise", "safe_text", "write_bytes_atomic", "zip_bytes"]


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> dict[str, Path]:
    """Write each canonical table to ``out_dir/<table>.parquet`` with its Arrow schema."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in tables.items():
        if name not in schema.TABLES:
            continue
        table = pa.Table.from_pandas(schema.conform(df, name), schema=schema.arrow_schema(name), preserve_index=False)
        path = out / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        paths[name] = path
    return paths


def write_frame(df: pd.DataFrame, path: str | Path, table: str | None = None) -> Path:
    """Write a stage's output frame to Parquet: the one writer of every stage output.

    Parameters
    ----------
    df : DataFrame
        Written as it is (no index).
    path : path-like
        The file; its folder is made.
    table : str, optional
        Its name in :data:`pipeline.schema.OUTPUTS`: the frame is checked against the
        contract its readers rely on before anything is written.
    """
    if table is not None:
        schema.validate_output(df, table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    return path


def read_table(in_dir: str | Path, name: str) -> pd.DataFrame:
    """Read one canonical table back with its canonical pandas dtypes."""
    df = pq.read_table(Path(in_dir) / f"{name}.parquet").to_pandas()
    return schema.conform(df, name)


def read_tables(in_dir: str | Path, names=None, columns=None) -> dict[str, pd.DataFrame]:
    """Read every canonical table present in ``in_dir`` (or those of ``names`` present).

    Parameters
    ----------
    in_dir : path-like
    names : iterable of str, optional
        The tables to read (default: all).
    columns : dict, optional
        Table name → the nullable columns a stage uses. Only those and the required
        columns are read from disk; the other nullable columns come back all null, so
        every table keeps its canonical columns and types. Abstracts, claims and
        addresses are most of the bytes, and few stages read them. A table absent from
        ``columns`` (or mapped to None) is read whole.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_tables({"patents": pd.DataFrame({"pub_id": ["A1"], "doc_key": ["A"], "country": ["CN"],
    ...     "pub_number": ["1"], "patent_type": ["invention"], "sources": ["x"], "provenance": ["{}"],
    ...     "title": ["电池"], "abstract": ["一种电池"]})}, folder)
    >>> p = read_tables(folder, columns={"patents": ("title",)})["patents"]
    >>> p.loc[0, "title"], p.loc[0, "abstract"] is pd.NA, list(p.columns) == list(schema.TABLES["patents"])
    ('电池', True, True)
    """
    columns = columns or {}
    out = {}
    for name, spec in schema.TABLES.items():
        path = Path(in_dir) / f"{name}.parquet"
        if (names is not None and name not in names) or not path.exists():
            continue
        used = columns.get(name)
        keep = None if used is None else [c for c in pq.read_schema(path).names
                                          if c in spec and (not spec[c].nullable or c in used)]
        out[name] = schema.conform(pq.read_table(path, columns=keep).to_pandas(), name)
    return out


def write_json(obj, path: str | Path) -> Path:
    """Write ``obj`` as UTF-8 JSON (Chinese kept readable), keys in a stable order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- files for people
#
# Every CSV / XLSX the project writes for people goes through write_export / write_workbook:
# a spreadsheet must not run a cell as a formula (OWASP "CSV injection": a leading = + - @,
# tab or CR), openpyxl must not meet a character XML 1.0 forbids (it raises
# IllegalCharacterError half-way through a workbook), a failed write must not leave a
# truncated file, and the same table must give the same bytes on every run.

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 forbids these (openpyxl's ILLEGAL_CHARACTERS_RE plus U+FFFE/U+FFFF); lone
# surrogates cannot be encoded as UTF-8 at all. Each becomes U+FFFD, visibly.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RISKY = re.compile("^[=+\\-@\t\r]|[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# ZIP's earliest date: every entry of a workbook or model file carries it, and the workbook's
# created / modified properties too, so that no clock reaches the bytes.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_INVALID_SHEET = re.compile(r"[\\/*?:\[\]]")


def safe_text(value):
    r"""One cell or header as a spreadsheet may show it: text starting with ``= + - @``,
    tab or CR gets a leading ``'``, characters XML forbids become U+FFFD; anything that is
    not text (numbers, dates, missing values) is returned unchanged.

    Examples
    --------
    >>> safe_text("=1+1"), safe_text("-2"), safe_text(-2), safe_text("a" + chr(0) + "b"), safe_text("ok")
    ("'=1+1", "'-2", -2, 'a�b', 'ok')
    """
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("\ufffd", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are passed through :func:`safe_text`.

    Numeric, boolean and date columns are left as they are (numbers stay numbers).
    """
    safe = df.copy()
    for col in safe.columns:
        s = safe[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        s = s.astype(object)  # Python's re: Arrow's RE2 cannot take a surrogate in the pattern
        try:  # vectorised test first: most cells need nothing
            risky = s.str.contains(_RISKY, regex=True).astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (AttributeError, TypeError):  # an object column without text (lists, bytes …)
            risky = s.map(lambda v: isinstance(v, str) and bool(_RISKY.search(v))).to_numpy(dtype=bool)
        if risky.any():
            s[risky] = s[risky].map(safe_text)
            safe[col] = s
    safe.columns = [safe_text(c) for c in safe.columns]
    return safe


def write_bytes_atomic(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and :func:`os.replace`:
    readers see the old file or the new one, never a part; a failure leaves the old one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies, as for open()
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _remove_stale_temps(path: Path) -> None:
    """Remove the temporary files a killed writer of ``path`` left (its process is gone)."""
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    """``name`` with the characters :meth:`pathlib.Path.glob` treats as a pattern escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def zip_bytes(entries, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP archive of ``(name, bytes)`` entries, in the order given, that depends on
    nothing but them: every entry dated :data:`FIXED_TIME`, Unix permissions 0644."""
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = compression
            info.create_system = 3  # Unix on every machine (ZipInfo defaults to the host's)
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def _stable_xlsx(data: bytes) -> bytes:
    """An openpyxl workbook without its clocks: entries re-dated, core properties'
    created / modified set to :data:`FIXED_TIME`."""
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % FIXED_TIME
    entries = []
    with zipfile.ZipFile(BytesIO(data)) as z:
        for info in z.infolist():
            body = z.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<3>", body)
            entries.append((info.filename, body))
    return zip_bytes(entries)


def _sheet_names(names) -> list[str]:
    """Sheet names Excel accepts: no ``[]:*?/\\``, at most 31 characters, unique."""
    used: list[str] = []
    for name in names:
        sheet = _INVALID_SHEET.sub("_", str(name)).strip("'")[:31] or "sheet"
        while sheet in used:
            sheet = sheet[:29] + f"_{len(used)}"
        used.append(sheet)
    return used


# Excel holds at most 32,767 characters in a cell; a longer one makes it "repair" the file.
XLSX_CELL_MAX = 32_767


def _fit_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells longer than :data:`XLSX_CELL_MAX` cut to it, ending in "…" (visibly cut);
    ``df`` is changed in place (a copy made by :func:`neutralise`)."""
    for col in df.columns:
        s = df[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        s = s.astype(object)
        long = s.map(lambda v: isinstance(v, str) and len(v) > XLSX_CELL_MAX).to_numpy(dtype=bool)
        if long.any():
            df[col] = s.where(~long, s[long].map(lambda v: v[:XLSX_CELL_MAX - 1] + "…"))
    return df


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as one XLSX workbook, a sheet each (names made valid for Excel).

    Cells and headers are neutralised (:func:`neutralise`), the file is byte-identical for
    identical tables (no clock inside) and written atomically (:func:`write_bytes_atomic`).
    """
    safe = {sheet: _fit_cells(neutralise(df))
            for sheet, df in zip(_sheet_names(sheets), sheets.values(), strict=True)}
    buf = BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for sheet, df in safe.items():
            df.to_excel(writer, sheet_name=sheet, index=False)
    return write_bytes_atomic(_stable_xlsx(buf.getvalue()), path)


def write_export(df: pd.DataFrame, path: str | Path, *, bom: bool = True) -> Path:
    """Write a table for people as CSV (UTF-8, with a BOM for Excel unless ``bom=False``;
    CRLF line ends as RFC 4180 has them) or XLSX, by the suffix of ``path``.

    The one writer of such files: text cells and headers a spreadsheet would run as a
    formula are neutralised with a leading ``'``, characters XML forbids become U+FFFD,
    numbers stay numbers; the same table gives the same bytes; a failed write leaves
    any earlier file untouched.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return write_workbook({"Sheet1": df}, path)
    # CRLF, not LF: Python's csv quotes a cell holding a CR only when CR ends its lines;
    # an unquoted CR inside a cell would start a new row in Excel.
    text = neutralise(df).to_csv(index=False, lineterminator="\r\n")
    return write_bytes_atomic(text.encode("utf-8-sig" if bom else "utf-8"), path)


PROJECT_FILES = {
    "scope": "scope.parquet",
    "trend": "filing_trend.csv",
    "top_applicants": "top_applicants.csv",
    "top_inventors": "top_inventors.csv",
    "regions": "regions.csv",
    "search": "search.parquet",
    "positioning": "positioning.csv",
    "talent_candidates": "talent_candidates.csv",
    "metrics": "metrics.json",
}


def write_project_outputs(result: dict, out_dir: str | Path) -> list[Path]:
    """Write a project's landscape outputs under ``out_dir`` (names in :data:`PROJECT_FILES`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, name in PROJECT_FILES.items():
        if key not in result:  # e.g. positioning before the score stage exists
            continue
        path = out / name
        obj = result[key]
        if name.endswith(".parquet"):
            write_frame(obj, path, f"project.{key}")
        elif name.endswith(".csv"):  # no BOM: DVC plots read filing_trend.csv's header
            write_export(obj, path, bom=False)
        else:
            write_json(obj, path)
        written.append(path)
    return written


def read_project_outputs(out_dir: str | Path) -> dict:
    """Read back what :func:`write_project_outputs` wrote."""
    out = Path(out_dir)
    result = {}
    for key, name in PROJECT_FILES.items():
        path = out / name
        if not path.exists():
            continue
        if name.endswith(".parquet"):
            result[key] = pd.read_parquet(path)
        elif name.endswith(".csv"):
            result[key] = pd.read_csv(path)
        else:
            result[key] = json.loads(path.read_text(encoding="utf-8"))
    return result


_LIST_COLUMNS = {
    "title": ("标题", "发明名称", "专利名称", "名称", "题名", "title", "invention title", "patent title"),
    "abstract": ("摘要", "abstract"),
    "ipc": ("ipc", "ipc分类号", "ipc主分类号", "分类号", "ipcr classifications", "ipc_codes", "cpc"),
}


def decode_text(path: str | Path) -> str:
    """A user's text file decoded as UTF-16 when it starts with a UTF-16 BOM, else as UTF-8
    (with or without BOM), else GB18030 — the encodings Chinese exports come in (a short
    GBK file fools detection, STACK.md).

    Raises
    ------
    pipeline.errors.UnreadableInputError
        Unreadable or undecodable file.
    """
    from .errors import UnreadableInputError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInputError(path, exc.strerror or str(exc)) from None
    # The encodings of exports, and UTF-16 by its BOM, as the ingest takes them.
    from .ingest.tabular import ENCODINGS, _bom_encoding

    candidates = [_bom_encoding(data[:2])] if _bom_encoding(data[:2]) else ENCODINGS
    for enc in candidates:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnreadableInputError(path, f"cannot decode as {'UTF-16' if candidates == ['utf-16'] else 'UTF-8 or GB18030'}")


def read_list(path: str | Path) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Read a CSV/XLSX list of patents (UTF-8, UTF-8-BOM or GB18030; title rows tolerated).

    Returns
    -------
    (DataFrame, dict)
        The table (all cells as text) and the columns found for ``title``,
        ``abstract``, ``title_en``, ``abstract_en``, ``ipc_main``, ``ipc`` and ``cpc``
        (None where absent); database headers are recognised through
        :func:`list_column_aliases`.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        Unreadable file, or no title column in the first ten rows.
    """
    from .errors import UnreadableInputError

    path = Path(path)
    try:
        head = path.read_bytes()[:4]
    except OSError as exc:
        raise UnreadableInputError(path, exc.strerror or str(exc)) from None
    if head.startswith(b"PK"):
        raw = pd.read_excel(path, header=None, dtype=str, engine="openpyxl").fillna("")
    else:
        import csv
        import io as _io

        text = decode_text(path)
        head = text[:4096]
        delim = "\t" if head.count("\t") > head.count(",") else ","
        # csv.reader, not read_csv: a title row above the header has fewer cells (ragged).
        # A cell may hold a whole description (over the csv module's 131,072 default).
        csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
        rows = [r for r in csv.reader(_io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
        if not rows:
            raise UnreadableInputError(path, "empty file")
        width = max(len(r) for r in rows)
        raw = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype="string").fillna("")

    roles = list_column_aliases()
    for i in range(min(10, len(raw))):
        cells = [header_key(v) for v in raw.iloc[i]]
        if any(c in roles["title"] or c in roles["title_en"] for c in cells):
            header = [str(v).strip() or f"column{j}" for j, v in enumerate(raw.iloc[i])]
            seen: dict[str, int] = {}
            for j, h in enumerate(header):  # exports repeat headers (Patentics: 地市 …): keep each column
                seen[h] = seen.get(h, 0) + 1
                if seen[h] > 1:
                    header[j] = f"{h} ({seen[h]})"
            df = raw.iloc[i + 1:].reset_index(drop=True)
            df.columns = header
            found = {}
            for role, aliases in roles.items():
                found[role] = next((h for h, c in zip(header, cells, strict=True) if c in aliases), None)
            if found["title"] is None:  # an English-only list
                found["title"], found["title_en"] = found["title_en"], None
            return df, found
    raise UnreadableInputError(path, f"no title column found (looked for: {', '.join(_LIST_COLUMNS['title'])}, "
                                     "or a database's title header listed in pipeline/ingest/headers.yaml)")


_LIST_ROLES = ("title", "abstract", "title_en", "abstract_en", "ipc_main", "ipc", "cpc")


def list_column_aliases() -> dict[str, frozenset]:
    """Header keys of each list column role: the short list above plus every database's
    aliases of the same fields in ``pipeline/ingest/headers.yaml`` (``标题 (中文)``,
    ``摘要(译)(简体中文)``, ``IPC分类号`` …), matched as ingest matches them."""
    from .ingest.tabular import load_profiles

    out = {r: {header_key(a) for a in _LIST_COLUMNS.get(r, ())} for r in _LIST_ROLES}
    out["ipc"] -= {header_key("cpc")}
    out["cpc"].add(header_key("cpc"))
    for profile in load_profiles().values():
        for key, target in profile.aliases.items():
            if target[0] == "field" and target[1] in out:
                out[target[1]].add(key)
    taken = out["ipc_main"] | out["cpc"]
    out["ipc"] -= taken
    return {r: frozenset(v) for r, v in out.items()}


def header_key(text) -> str:
    """How a header cell is matched: NFKC, whitespace removed, case-folded (as ingest does)."""
    import re
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()
