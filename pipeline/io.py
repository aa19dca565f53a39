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
