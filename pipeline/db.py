"""The industry patent database: an embedded DuckDB file built from the canonical tables.

Analysts query it with ``patnav sql "SELECT …"`` or from Python::

    import pipeline.db
    con = pipeline.db.connect()          # read-only
    con.sql("SELECT * FROM yearly_counts").df()

Tables are the canonical tables of :mod:`pipeline.schema` (copied from Parquet);
views join them into the shapes analysts ask for most (see :data:`VIEWS`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from . import schema
from .errors import PatNavError, QueryRefusedError

__all__ = ["build", "connect", "sandbox", "query", "VIEWS", "default_path"]


def default_path() -> Path:
    """The database of the current project (``database.path`` in its params.yaml)."""
    from .config import find_root, load_params

    root = find_root()
    return root / load_params(root / "params.yaml")["database"].path

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
               year(coalesce(p.earliest_priority_date, p.app_date, p.pub_date)) AS filing_year,
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

    The file is written next to its final place and moved over it, so a reader never
    sees a half-built database.

    Returns
    -------
    dict
        Row count per table.
    """
    canonical_dir, db_path = Path(canonical_dir), Path(db_path)
    missing = [t for t in schema.TABLES if not (canonical_dir / f"{t}.parquet").exists()]
    if missing:
        raise PatNavError(f"{canonical_dir}: canonical table(s) missing: {', '.join(missing)}; run `patnav ingest` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    counts = {}
    with duckdb.connect(str(tmp)) as con:
        for t in schema.TABLES:
            src = (canonical_dir / f"{t}.parquet").as_posix().replace("'", "''")
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{src}')")
            counts[t] = con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for name, src in (extra or {}).items():
            src = Path(src).as_posix().replace("'", "''")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{src}')")
            counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        for name, sql in VIEWS.items():
            if name in EXTRA_VIEWS and EXTRA_VIEWS[name] not in (extra or {}):
                continue
            con.execute(f"CREATE VIEW {name} AS {sql}")
    tmp.replace(db_path)
    return counts


def connect(db_path: str | Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the industry patent database (read-only by default).

    ``db_path`` defaults to the current project's database (:func:`default_path`).

    Raises
    ------
    PatNavError
        If the database has not been built yet.
    """
    db_path = Path(db_path) if db_path else default_path()
    if not db_path.exists():
        raise PatNavError(f"{db_path}: no database yet; run `dvc repro` (or `patnav db build`)")
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
    PatNavError
        If the database has not been built yet.
    """
    db_path = Path(db_path) if db_path else default_path()
    if not db_path.exists():
        raise PatNavError(f"{db_path}: no database yet; run `dvc repro` (or `patnav db build`)")
    name = db_path.stem if db_path.stem.lower() not in _RESERVED_CATALOGS else "patnav"
    con = duckdb.connect(":memory:", config=_SANDBOX_START)
    try:
        con.execute(f"ATTACH {_literal(db_path)} AS {_ident(name)} (READ_ONLY)")
        con.execute(f"USE {_ident(name)}")
        for statement in _SANDBOX_LOCK:
            con.execute(statement)
    except duckdb.Error as exc:
        con.close()
        raise PatNavError(f"{db_path}: cannot open the database: {exc}") from None
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
    PatNavError
        With DuckDB's message when the query fails otherwise.
    """
    with sandbox(db_path) as con:
        try:
            rel = con.sql(sql)
            return rel.df() if rel is not None else pd.DataFrame()
        except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
            if isinstance(exc, duckdb.InvalidInputException) and "configuration has been locked" not in str(exc):
                raise PatNavError(f"query failed: {exc}") from None
            raise QueryRefusedError(
                f"query refused: {exc} — `patnav sql` reads the database only (no files, extensions or "
                "settings); write a result with --csv / --xlsx") from None
        except duckdb.Error as exc:
            raise PatNavError(f"query failed: {exc}") from None
