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


def write_export(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a query result as CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix.

    Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)
    are neutralised with a leading ``'``.
    """
    from .ingest.normalize import neutralize_formula

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = neutralize_formula(safe[col].astype("string"))
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
    "metrics": "metrics.json",
}


def write_project_outputs(result: dict, out_dir: str | Path) -> list[Path]:
    """Write a project's landscape outputs under ``out_dir`` (names in :data:`PROJECT_FILES`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, name in PROJECT_FILES.items():
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
