"""The industry patent database: an embedded DuckDB file built from the canonical tables.

Analysts query it with ``patnav sql "SELECT …"`` or from Python::

    import pipeline.db
    con = pipeline.db.connect()          # read-only
    con.sql("SELECT * FROM yearly_counts").df()

Tables are the canonical tables of :mod:`pipeline.schema` (copied from Parquet);
views join them into the shapes analysts ask for most (see :data:`VIEWS`).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from . import schema
from .errors import DatabaseError, QueryError, QueryRefusedError

__all__ = ["build", "connect", "sandbox", "query", "frame", "fingerprint", "manifest_path", "VIEWS", "default_path", "run_stage"]


def default_path() -> Path:
    """The database of the current project (``database.path`` in its params.yaml)."""
    from .config import find_root, load_params

    root = find_root()
    return root / load_params(root / "params.yaml")["database"].path

def frame(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> pd.DataFrame:
    """The result of ``sql`` as DuckDB's ``.df()`` gives it, fetched through Arrow.

    ``.df()`` makes a Python object of every string and pandas then turns them into Arrow
    strings again: 3–10× slower on the string-heavy tables (parties, overview) of a large
    database. This keeps the columns in Arrow and gives them ``.df()``'s dtypes: text
    ``str`` (``object`` of None when it holds no value), whole numbers and booleans
    nullable only when they hold a null, dates and timestamps ``datetime64[us]``. A
    result with another type (lists, structs, …) comes from ``.df()`` itself.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> df = frame(con, "SELECT ?::BIGINT AS n, NULL::VARCHAR AS s, DATE '2020-01-02' AS d", [7])
    >>> df.dtypes.astype(str).tolist(), df["s"].tolist()
    (['int64', 'object', 'datetime64[us]'], [None])
    """
    table = con.sql(sql, params=params).to_arrow_table()
    known = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_boolean,
             pa.types.is_date, pa.types.is_timestamp, pa.types.is_floating)
    if not all(any(is_(t) for is_ in known) for t in table.schema.types):
        return con.execute(sql, params or []).df()
    columns = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        t, nulls = col.type, col.null_count
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            columns[name] = (pd.Series([None] * len(col), dtype=object) if nulls == len(col)
                             else col.to_pandas())
        elif pa.types.is_integer(t) or pa.types.is_boolean(t):
            columns[name] = col.to_pandas(types_mapper={t: pd.api.types.pandas_dtype(
                ("boolean" if pa.types.is_boolean(t) else str(t).replace("int", "Int").replace("uInt", "UInt")))}.get) \
                if nulls else col.to_pandas()
        elif pa.types.is_date(t) or pa.types.is_timestamp(t):
            columns[name] = col.cast(pa.timestamp("us")).to_pandas().astype("datetime64[us]")
        else:  # floating
            columns[name] = col.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table)), columns=table.column_names)


VIEWS: dict[str, str] = {
    # One row per publication with its first applicant, all applicants, main IPC,
    # IPC list, backward citations and forward citations inside the database.
    "patent_overview": """
        WITH roles AS (
            -- applicants where the source names them, else current assignees (PatentsView)
            SELECT pub_id, CASE WHEN bool_or(role = 'applicant') THEN 'applicant' ELSE 'assignee' END AS use_role
            FROM parties WHERE role IN ('applicant', 'assignee') GROUP BY pub_id
        ),
        appl AS (
            SELECT pt.pub_id,
                   string_agg(name_raw, '; ' ORDER BY seq) AS applicants,
                   arg_min(name_raw, seq) AS first_applicant,
                   arg_min(party_type, seq) AS first_applicant_type,
                   arg_min(country, seq) AS applicant_country,
                   arg_min(province, seq) AS applicant_province,
                   arg_min(city, seq) AS applicant_city,
                   arg_min(district, seq) AS applicant_district
            FROM parties pt JOIN roles r ON pt.pub_id = r.pub_id AND pt.role = r.use_role
            GROUP BY pt.pub_id
        ),
        cls AS (
            SELECT pub_id,
                   string_agg(symbol, '; ' ORDER BY is_main DESC, seq) AS ipc,
                   arg_min(symbol, CASE WHEN is_main THEN 0 ELSE 1 END * 100000 + seq) AS main_ipc
            FROM classifications WHERE scheme = 'IPC' GROUP BY pub_id
        ),
        back AS (SELECT pub_id, count(*) AS backward_citations FROM citations GROUP BY pub_id),
        fwd AS (
            SELECT resolved_pub_id AS pub_id, count(*) AS forward_citations_in_db
            FROM citations WHERE resolved_pub_id IS NOT NULL GROUP BY resolved_pub_id
        )
        SELECT p.pub_id, p.country, p.kind, p.patent_type, p.app_id, p.app_date, p.pub_date,
               p.grant_date, p.earliest_priority_date,
               year(""" + schema.FILING_DATE_SQL + """) AS filing_year,
               p.title, p.family_id, p.legal_status, p.cited_by_count,
               appl.applicants, appl.first_applicant, appl.first_applicant_type,
               appl.applicant_country, appl.applicant_province, appl.applicant_city,
               appl.applicant_district,
               cls.main_ipc, cls.ipc,
               coalesce(back.backward_citations, 0) AS backward_citations,
               coalesce(fwd.forward_citations_in_db, 0) AS forward_citations_in_db
        FROM patents p
        LEFT JOIN appl USING (pub_id)
        LEFT JOIN cls USING (pub_id)
        LEFT JOIN back USING (pub_id)
        LEFT JOIN fwd USING (pub_id)
    """,
    # Publications per filing year (earliest priority), office and patent type.
    "yearly_counts": """
        SELECT filing_year, country, patent_type, count(*) AS publications,
               count(DISTINCT family_id) AS families
        FROM patent_overview WHERE filing_year IS NOT NULL
        GROUP BY ALL ORDER BY filing_year, country, patent_type
    """,
    # Publications per applicant region (first applicant) and filing year.
    "region_counts": """
        SELECT applicant_country AS country, applicant_province AS province,
               applicant_city AS city, applicant_district AS district, filing_year,
               count(*) AS publications, count(DISTINCT family_id) AS families
        FROM patent_overview
        GROUP BY ALL ORDER BY country, province, city, district, filing_year
    """,
    # Industry / branch of each publication, as counted (text labels contradicted by
    # the publication's own codes are kept in `labels` for review but not counted).
    "patent_industries": """
        SELECT pub_id, industry, branch, source, confidence, flag, rule_id, explanation
        FROM labels WHERE coalesce(flag, '') <> 'codes_disagree'
    """,
    # Applicants ranked by publications (normalised names group spellings).
    "top_applicants": """
        SELECT name_norm, any_value(name_raw) AS example_name, party_type,
               count(DISTINCT pub_id) AS publications
        FROM parties WHERE role IN ('applicant', 'assignee') AND name_norm IS NOT NULL
        GROUP BY name_norm, party_type ORDER BY publications DESC, name_norm
    """,
}


# Views that need a stage output table (view -> table).
EXTRA_VIEWS = {"patent_industries": "labels"}


def build(canonical_dir: str | Path, db_path: str | Path, extra: dict[str, str | Path] | None = None) -> dict[str, int]:
    """(Re)build the database file from the canonical Parquet tables.

    ``extra`` adds stage outputs as tables (name → Parquet file), e.g. ``labels`` from
    the classify stage; the ``patent_industries`` view needs it.

    Readers never miss the database: the new file is built beside the old one
    (``<name>.building-<pid>``) and moved over it with :func:`os.replace`; what a killed
    build left behind (its file and WAL) is removed first. When the new database holds
    exactly what the old one holds (:func:`fingerprint`), the old file is kept, bytes
    and all. Either way :func:`manifest_path` receives the content fingerprint: DuckDB
    writes a random database id into every new file, so downstream stages depend on the
    fingerprint, not on the file's bytes.

    Returns
    -------
    dict
        Row count per table.

    Raises
    ------
    DatabaseError
        A canonical table is missing from ``canonical_dir`` (run ``patnav ingest``).
    """
    canonical_dir, db_path = Path(canonical_dir), Path(db_path)
    missing = [t for t in schema.TABLES if not (canonical_dir / f"{t}.parquet").exists()]
    if missing:
        raise DatabaseError(f"{canonical_dir}: canonical table(s) missing: {', '.join(missing)}; run `patnav ingest` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(db_path)
    tmp = db_path.with_name(f"{db_path.name}{_BUILDING}{os.getpid()}")
    try:
        with duckdb.connect(str(tmp)) as con:
            counts = _fill(con, canonical_dir, extra or {})
            content = fingerprint(con)
        if content != _fingerprint_of(db_path):
            os.replace(tmp, db_path)
    finally:
        for leftover in (tmp, _wal(tmp)):
            leftover.unlink(missing_ok=True)
    from .io import write_bytes_atomic

    text = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(text.encode("utf-8"), manifest_path(db_path))
    return counts




def run_stage(params: dict, root: Path) -> dict:
    """The database stage as ``dvc repro`` runs it (``patnav db build``): :func:`build` from
    the canonical tables (``ingest.out``) plus the stage outputs that exist — the labels
    (``classify.out``), the network tables (``network_<name>``, :data:`pipeline.network.TABLES`)
    and the score tables (``score_<name>``, :data:`pipeline.score.TABLES`); the row counts
    written to ``database.metrics``.

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.

    Returns
    -------
    dict
        ``counts`` (rows per table) and the paths ``path`` (the database), ``contents``
        (its fingerprint) and ``metrics_path``.
    """
    from .io import write_json
    from .network import TABLES as NETWORK_TABLES
    from .score import TABLES as SCORE_TABLES

    extra = {"labels": root / params["classify"].out}
    net_dir = root / params["network"].out
    extra.update({f"network_{t}": net_dir / f"{t}.parquet" for t in NETWORK_TABLES})
    score_dir = root / params["score"].out
    extra.update({f"score_{t}": score_dir / f"{t}.parquet" for t in SCORE_TABLES})
    path = root / params["database"].path
    counts = build(root / params["ingest"].out, path, extra={k: v for k, v in extra.items() if v.exists()})
    mpath = write_json({"rows": counts}, root / params["database"].metrics)
    return {"counts": counts, "path": path, "contents": manifest_path(path), "metrics_path": mpath}


# A build's file is <database>.building-<pid>; older versions used <stem>.building.
_BUILDING = ".building-"


def manifest_path(db_path: str | Path) -> Path:
    """Where :func:`build` writes the database's content fingerprint (``<file>.contents.json``)."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".contents.json")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_leftovers(db_path: Path) -> None:
    """Delete the files of builds of ``db_path`` that were killed (their process is gone)."""
    old = db_path.with_suffix(".building")
    for path in (old, _wal(old)):
        path.unlink(missing_ok=True)
    for path in db_path.parent.glob(f"{glob.escape(db_path.name)}{_BUILDING}*"):
        pid = path.name[len(db_path.name) + len(_BUILDING):].removesuffix(".wal")
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _fill(con: duckdb.DuckDBPyConnection, canonical_dir: Path, extra: dict) -> dict[str, int]:
    """Create the tables and views in ``con``; row count per table."""
    counts = {}
    sources = {t: canonical_dir / f"{t}.parquet" for t in schema.TABLES} | {k: Path(v) for k, v in extra.items()}
    for name, src in sources.items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({_literal(src.as_posix())})")
        counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    for name, sql in VIEWS.items():
        if name in EXTRA_VIEWS and EXTRA_VIEWS[name] not in extra:
            continue
        con.execute(f"CREATE VIEW {name} AS {sql}")
    return counts


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict:
    """What a database holds, independent of how its file is laid out.

    Per table its columns (name, type), row count and the sum of its rows' DuckDB hashes
    (order-free; stable for the same DuckDB version); per view the SHA-256 of its SQL;
    ``sha256`` over all of it.
    """
    tables, views = {}, {}
    names = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'main' ORDER BY table_name").fetchall()
    for (name,) in names:
        cols = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
                           "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [name]).fetchall()
        rows, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {_ident(name)} AS t").fetchall()[0]
        tables[name] = {"columns": [f"{c} {t}" for c, t in cols], "rows": int(rows), "hash": format(int(total) % 2**64, "016x")}
    for name, sql in con.execute("SELECT view_name, sql FROM duckdb_views() WHERE database_name = current_database() "
                                 "AND schema_name = 'main' AND NOT internal ORDER BY view_name").fetchall():
        views[name] = hashlib.sha256(sql.encode("utf-8")).hexdigest()
    body = {"tables": tables, "views": views}
    return {**body, "sha256": hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()}


def _fingerprint_of(db_path: Path) -> dict | None:
    """:func:`fingerprint` of an existing database file; None if there is none or it is unreadable."""
    if not db_path.exists():
        return None
    try:
        with sandbox(db_path) as con:
            return fingerprint(con)
    except (DatabaseError, duckdb.Error):
        return None


def _built(db_path: str | Path | None) -> Path:
    """``db_path`` (default: :func:`default_path`), which must exist: else DatabaseError."""
    db_path = Path(db_path) if db_path else default_path()
    if not db_path.exists():
        raise DatabaseError(f"{db_path}: no database yet; run `dvc repro` (or `patnav db build`)")
    return db_path


def connect(db_path: str | Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the industry patent database (read-only by default).

    ``db_path`` defaults to the current project's database (:func:`default_path`).

    Raises
    ------
    DatabaseError
        If the database has not been built yet.
    """
    db_path = _built(db_path)
    return duckdb.connect(str(db_path), read_only=read_only)


# Set before the database is attached (they only take effect on a fresh instance) ...
_SANDBOX_START = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                  "allow_community_extensions": False, "allow_unsigned_extensions": False}
# ... and after it, in this order: the last one freezes every setting.
_SANDBOX_LOCK = ("SET enable_external_access = false", "SET lock_configuration = true")
# Catalog names DuckDB keeps for itself.
_RESERVED_CATALOGS = {"memory", "system", "temp", "main"}


def sandbox(db_path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A connection on which untrusted SQL can only read the database.

    An in-memory DuckDB attaches the database file read-only (as its default catalog,
    named after the file), then turns external access off — no file read or written
    (``COPY … TO``, ``read_csv``, ``ATTACH``, ``EXPORT``), no extension installed or
    loaded, no Python variable scanned — and locks the configuration so that no
    statement can turn it back on. Attaching, rather than opening the file with these
    settings, also works while the same process holds an ordinary connection to it.

    Raises
    ------
    DatabaseError
        If the database has not been built yet.
    """
    db_path = _built(db_path)
    name = db_path.stem if db_path.stem.lower() not in _RESERVED_CATALOGS else "patnav"
    con = duckdb.connect(":memory:", config=_SANDBOX_START)
    try:
        con.execute(f"ATTACH {_literal(db_path)} AS {_ident(name)} (READ_ONLY)")
        con.execute(f"USE {_ident(name)}")
        for statement in _SANDBOX_LOCK:
            con.execute(statement)
    except duckdb.Error as exc:
        con.close()
        raise DatabaseError(f"{db_path}: cannot open the database: {exc}") from None
    return con


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def query(sql: str, db_path: str | Path | None = None) -> pd.DataFrame:
    """Run an analyst's SQL on a :func:`sandbox` connection and return a DataFrame.

    The SQL can read every table and view of the database and nothing else; only the
    caller writes files (``patnav sql --csv / --xlsx``).

    Raises
    ------
    QueryRefusedError
        The SQL tried to reach the file system, an extension or a setting.
    QueryError
        With DuckDB's message when the query fails otherwise.
    DatabaseError
        The database file does not exist or cannot be opened.
    """
    with sandbox(db_path) as con:
        try:
            rel = con.sql(sql)
            return rel.df() if rel is not None else pd.DataFrame()
        except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
            if isinstance(exc, duckdb.InvalidInputException) and "configuration has been locked" not in str(exc):
                raise QueryError(f"query failed: {exc}") from None
            raise QueryRefusedError(
                f"query refused: {exc} — `patnav sql` reads the database only (no files, extensions or "
                "settings); write a result with --csv / --xlsx") from None
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {exc}") from None
