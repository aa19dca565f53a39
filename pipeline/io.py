"""Reading and writing canonical tables (Parquet) and reports (JSON).

The only module of the ingest path that touches the disk for outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema

__all__ = ["write_tables", "read_tables", "read_table", "write_json"]


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


def read_table(in_dir: str | Path, name: str) -> pd.DataFrame:
    """Read one canonical table back with its canonical pandas dtypes."""
    df = pq.read_table(Path(in_dir) / f"{name}.parquet").to_pandas()
    return schema.conform(df, name)


def read_tables(in_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every canonical table present in ``in_dir``."""
    return {n: read_table(in_dir, n) for n in schema.TABLES if (Path(in_dir) / f"{n}.parquet").exists()}


def write_json(obj, path: str | Path) -> Path:
    """Write ``obj`` as UTF-8 JSON (Chinese kept readable), keys in a stable order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells a spreadsheet would run as a formula (``=``, ``+``,
    ``-``, ``@``) start with ``'`` instead."""
    from .ingest.normalize import neutralize_formula

    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = neutralize_formula(safe[col].astype("string"))
    return safe


def write_export(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a query result as CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix.

    Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)
    are neutralised with a leading ``'``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise(df)
    if path.suffix.lower() == ".xlsx":
        safe.to_excel(path, index=False, engine="openpyxl")
    else:
        safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


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
            obj.to_parquet(path, index=False)
        elif name.endswith(".csv"):
            obj.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
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
    """A user's text file decoded as UTF-8 (with or without BOM), else GB18030 — the
    encodings Chinese exports come in (a short GBK file fools detection, STACK.md).

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
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnreadableInputError(path, "cannot decode as UTF-8 or GB18030")


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
