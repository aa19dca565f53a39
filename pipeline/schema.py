"""Canonical tables: column names, types and validation.

This module is the one place where the canonical column names live. Stages build
DataFrames with :func:`empty` / :func:`conform`, validate them with :func:`validate`
at their boundaries, and write them with the Arrow schema from :func:`arrow_schema`.
``docs/data-model.md`` describes every column (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
import pyarrow

from .errors import PatNavError, SchemaError

__all__ = [
    "require_columns",
    "TABLES",
    "PATENT_TYPES",
    "PARTY_ROLES",
    "PARTY_TYPES",
    "CITATION_CATEGORIES",
    "EVENT_TYPES",
    "STATUSES",
    "CONFLICT_RULES",
    "empty",
    "conform",
    "validate",
    "arrow_schema",
]


def require_columns(df, columns, what: str, error: type[PatNavError] = SchemaError) -> None:
    """Raise ``error`` unless ``df`` is a DataFrame holding every one of ``columns``.

    The message names ``what`` the table is, the missing columns and the columns it has.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b", "c"], "labels")
    Traceback (most recent call last):
    ...
    pipeline.errors.SchemaError: labels lacks column(s) b, c; it has a
    """
    if df is None:
        raise error(f"{what}: no table given")
    if not isinstance(df, pd.DataFrame):
        raise error(f"{what}: expected a DataFrame, got {type(df).__name__}")
    missing = [str(c) for c in columns if c not in df.columns]
    if missing:
        raise error(f"{what} lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}")

# The filing date of a patent: earliest priority, else application, else publication date
# (the date nearest the invention that the record gives; OECD Patent Statistics Manual, 2.3).
FILING_DATE_ORDER = ("earliest_priority_date", "app_date", "pub_date")
FILING_DATE_SQL = f"coalesce({', '.join(FILING_DATE_ORDER)})"


def filing_date(patents: pd.DataFrame) -> pd.DataFrame:
    """The filing date of each patent and the column it came from.

    Parameters
    ----------
    patents : DataFrame
        Any of the columns of :data:`FILING_DATE_ORDER`; absent ones count as missing.

    Returns
    -------
    DataFrame
        On ``patents``' index: ``date`` (datetime64[s], NaT when no date is known) and
        ``basis`` (string: the column used, null with ``date``).

    Examples
    --------
    >>> d = filing_date(pd.DataFrame({"earliest_priority_date": [None, "2019-05-01", None],
    ...                               "app_date": ["2020-01-02", "2020-03-01", None]}))
    >>> d["date"].dt.year.tolist(), d["basis"].tolist()
    ([2020.0, 2019.0, nan], ['app_date', 'earliest_priority_date', <NA>])
    """
    date = pd.Series(pd.NaT, index=patents.index, dtype="datetime64[s]")
    basis = pd.Series(pd.NA, index=patents.index, dtype="string")
    for col in FILING_DATE_ORDER:
        if col in patents.columns:
            alt = pd.to_datetime(patents[col], errors="coerce").astype("datetime64[s]")
            fill = date.isna() & alt.notna()
            date = date.mask(fill, alt)
            basis = basis.mask(fill, col)
    return pd.DataFrame({"date": date, "basis": basis})


def filing_year(patents: pd.DataFrame) -> pd.Series:
    """The filing year (Int64) of each patent: its ``filing_year`` column when it has one
    (the database's, computed by the same rule), else the year of :func:`filing_date`.

    >>> filing_year(pd.DataFrame({"earliest_priority_date": [None, "2019-05-01"],
    ...                           "app_date": ["2020-01-02", "2020-03-01"]})).tolist()
    [2020, 2019]
    """
    if "filing_year" in patents.columns:
        return pd.to_numeric(patents["filing_year"], errors="coerce").astype("Int64")
    return filing_date(patents)["date"].dt.year.astype("Int64")


PATENT_TYPES = ("invention", "utility_model", "design", "plant", "other")
PARTY_ROLES = ("applicant", "assignee", "inventor")
PARTY_TYPES = (
    "enterprise",
    "university",
    "research_institute",
    "hospital",
    "individual",
    "government",
    "unknown",
)
CITATION_CATEGORIES = ("examiner", "applicant", "third_party", "other")
EVENT_TYPES = (
    "publication", "examination", "grant", "rejection", "withdrawal", "abandonment",
    "reexamination", "invalidation", "transfer", "licence", "pledge", "preservation",
    "change", "lapse", "expiry", "reinstatement", "correction", "other",
)
# Canonical legal status of a publication (the vendor's words stay in ``legal_status``).
STATUSES = (
    "pending", "granted", "rejected", "withdrawn", "abandoned", "lapsed", "expired",
    "invalidated", "pct_international", "pct_expired",
)

# Why a merged publication kept the value it kept (conflicts.rule; pipeline/ingest/merge.py).
CONFLICT_RULES = ("source precedence", "earlier record of the file", "longest text")


@dataclass(frozen=True)
class Col:
    """One column: its pandas dtype and whether it may be null."""

    dtype: str
    nullable: bool = True


S, I, D, B, F = "string", "Int64", "date", "boolean", "Float64"

TABLES: dict[str, dict[str, Col]] = {
    "patents": {
        "pub_id": Col(S, False),
        "doc_key": Col(S, False),
        "country": Col(S, False),
        "pub_number": Col(S, False),
        "kind": Col(S),
        "patent_type": Col(S, False),
        "app_id": Col(S),
        "app_date": Col(D),
        "priority_numbers": Col(S),
        "earliest_priority_date": Col(D),
        "pub_date": Col(D),
        "grant_date": Col(D),
        "title": Col(S),
        "abstract": Col(S),
        "title_en": Col(S),
        "abstract_en": Col(S),
        "claims_count": Col(I),
        "independent_claims": Col(I),
        "language": Col(S),
        "family_id": Col(S),
        "family_size": Col(I),
        "legal_status": Col(S),
        "status": Col(S),
        "alive": Col(B),
        "cited_by_count": Col(I),
        "cited_by_3y": Col(I),
        "cited_by_5y": Col(I),
        "cites_count": Col(I),
        "link": Col(S),
        "pct_app": Col(S),
        "wo_pub": Col(S),
        "sources": Col(S, False),
        "provenance": Col(S, False),
    },
    "parties": {
        "pub_id": Col(S, False),
        "role": Col(S, False),
        "seq": Col(I, False),
        "name_raw": Col(S, False),
        "name_norm": Col(S),
        "name_std": Col(S),
        "party_type": Col(S, False),
        "country": Col(S),
        "province": Col(S),
        "city": Col(S),
        "district": Col(S),
        "address_raw": Col(S),
        "source_party_id": Col(S),
        "located_by": Col(S),
        "location_match": Col(S),
        "location_score": Col(F),
        "source": Col(S, False),
    },
    "classifications": {
        "pub_id": Col(S, False),
        "scheme": Col(S, False),
        "symbol": Col(S, False),
        "subclass": Col(S, False),
        "main_group": Col(S),
        "is_main": Col(B, False),
        "seq": Col(I, False),
        "source": Col(S, False),
    },
    "citations": {
        "pub_id": Col(S, False),
        "seq": Col(I, False),
        "cited_raw": Col(S, False),
        "cited_pub_id": Col(S),
        "cited_doc_key": Col(S),
        "cited_country": Col(S),
        "cited_kind": Col(S),
        "cited_date": Col(D),
        "category": Col(S, False),
        "resolved_pub_id": Col(S),
        "source": Col(S, False),
    },
    "forward_citations": {
        "pub_id": Col(S, False),
        "seq": Col(I, False),
        "citing_raw": Col(S, False),
        "citing_pub_id": Col(S),
        "citing_doc_key": Col(S),
        "resolved_pub_id": Col(S),
        "source": Col(S, False),
    },
    "family_members": {
        "pub_id": Col(S, False),
        "seq": Col(I, False),
        "member_raw": Col(S, False),
        "member_pub_id": Col(S),
        "member_country": Col(S),
        "source": Col(S, False),
    },
    "npl": {
        "pub_id": Col(S, False),
        "seq": Col(I, False),
        "text": Col(S, False),
        "category": Col(S, False),
        "source": Col(S, False),
    },
    "events": {
        "pub_id": Col(S, False),
        "event_type": Col(S, False),
        "event_date": Col(D),
        "party_from": Col(S),
        "party_to": Col(S),
        "amount": Col(F),
        "detail": Col(S),
        "source": Col(S, False),
    },
    "source_labels": {
        "pub_id": Col(S, False),
        "scheme": Col(S, False),
        "seq": Col(I, False),
        "label": Col(S, False),
        "source": Col(S, False),
    },
    "locations": {
        "group": Col(S, False),
        "name": Col(S),
        "role": Col(S),
        "located_by": Col(S),
        "province": Col(S),
        "city": Col(S),
        "district": Col(S),
        "zone": Col(S),
        "location_match": Col(S),
        "location_score": Col(F),
        "candidates": Col(S),
        "note": Col(S),
        "n_patents": Col(I),
    },
    # Values of a repeated publication that differ from the value kept (one row per
    # differing record and field); rule: why the kept one won.
    "conflicts": {
        "pub_id": Col(S, False),
        "field": Col(S, False),
        "kept_value": Col(S),
        "other_value": Col(S),
        "kept_source": Col(S, False),
        "other_source": Col(S, False),
        "rule": Col(S, False),
    },
    "rejects": {
        "source_file": Col(S, False),
        "row": Col(I),
        "offset": Col(I),
        "record_id": Col(S),
        "field": Col(S),
        "raw_value": Col(S),
        "reason": Col(S, False),
        "level": Col(S, False),
    },
}

# Value domains checked on validation (column -> allowed values).
_DOMAINS = {
    ("patents", "patent_type"): PATENT_TYPES,
    ("parties", "role"): PARTY_ROLES,
    ("parties", "party_type"): PARTY_TYPES,
    ("classifications", "scheme"): ("IPC", "CPC"),
    ("citations", "category"): CITATION_CATEGORIES,
    ("npl", "category"): CITATION_CATEGORIES,
    ("events", "event_type"): EVENT_TYPES,
    ("patents", "status"): STATUSES,
    ("rejects", "level"): ("file", "record", "row", "field"),
    ("conflicts", "rule"): CONFLICT_RULES,
}

# Primary keys: validation fails on duplicates.
_KEYS = {
    "patents": ["pub_id"],
    "parties": ["pub_id", "role", "seq"],
    "classifications": ["pub_id", "scheme", "symbol"],
    "citations": ["pub_id", "seq"],
    "npl": ["pub_id", "seq"],
    "forward_citations": ["pub_id", "seq"],
    "family_members": ["pub_id", "seq"],
    "source_labels": ["pub_id", "scheme", "seq"],
    "locations": ["group"],
}

_PANDAS_DTYPES = {S: "string", I: "Int64", B: "boolean", F: "Float64", D: "datetime64[s]"}
_ARROW_TYPES = {
    S: pyarrow.string(),
    I: pyarrow.int64(),
    B: pyarrow.bool_(),
    F: pyarrow.float64(),
    D: pyarrow.date32(),
}


def _columns(table: str) -> dict[str, Col]:
    try:
        return TABLES[table]
    except KeyError:
        raise SchemaError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None


def empty(table: str) -> pd.DataFrame:
    """Return an empty DataFrame with the canonical columns and dtypes of ``table``."""
    cols = _columns(table)
    return pd.DataFrame({c: pd.Series(dtype=_PANDAS_DTYPES[k.dtype]) for c, k in cols.items()})


def conform(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``df`` with exactly the canonical columns of ``table``, in order and typed.

    Missing nullable columns are added as nulls; extra columns are dropped. Dates are
    coerced to day precision.

    Raises
    ------
    SchemaError
        If a non-nullable column is missing.
    """
    cols = _columns(table)
    missing = [c for c, k in cols.items() if c not in df.columns and not k.nullable]
    if missing:
        raise SchemaError(f"table {table!r} lacks required column(s): {', '.join(missing)}")
    out = {}
    n = len(df)
    for c, k in cols.items():
        dtype = _PANDAS_DTYPES[k.dtype]
        if c not in df.columns:
            out[c] = pd.Series([None] * n, index=df.index, dtype=dtype)
        elif k.dtype == D:
            out[c] = pd.to_datetime(df[c], errors="raise").astype("datetime64[s]")
        else:
            out[c] = df[c].astype(dtype)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def _pandera_schema(table: str) -> pa.DataFrameSchema:
    cols = _columns(table)
    columns = {}
    for c, k in cols.items():
        checks = []
        domain = _DOMAINS.get((table, c))
        if domain:
            checks.append(pa.Check.isin(domain))
        columns[c] = pa.Column(_PANDAS_DTYPES[k.dtype], nullable=k.nullable, checks=checks)
    return pa.DataFrameSchema(columns, strict=True, ordered=True, unique=_KEYS.get(table))


def validate(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate ``df`` against the canonical schema of ``table``.

    Raises
    ------
    SchemaError
        Naming the table, the column and a few failing values.
    """
    try:
        return _pandera_schema(table).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(5)
        detail = "; ".join(
            f"column {r.column!r}: {r.check} (value {r.failure_case!r})" for r in cases.itertuples()
        )
        raise SchemaError(f"table {table!r} fails validation: {detail}") from None


def arrow_schema(table: str) -> pyarrow.Schema:
    """Arrow schema used to write ``table`` to Parquet (dates as ``date32``)."""
    cols = _columns(table)
    return pyarrow.schema(
        [pyarrow.field(c, _ARROW_TYPES[k.dtype], nullable=k.nullable) for c, k in cols.items()]
    )


# ---------------------------------------------------------------------------------------
# Stage outputs: the columns their readers rely on (a table may carry more) and the keys.

@dataclass(frozen=True)
class Output:
    """A stage output table: required columns (kind, nullable) and the columns of its key."""

    columns: dict[str, Col]
    key: tuple[str, ...] = ()


OUTPUTS: dict[str, Output] = {
    # classify
    "labels": Output({"pub_id": Col(S, False), "industry": Col(S, False), "branch": Col(S), "source": Col(S, False),
                      "confidence": Col(F, False), "flag": Col(S), "rule_id": Col(S), "explanation": Col(S)},
                     ("pub_id", "industry", "branch")),
    # network
    "network.nodes": Output({"node": Col(S, False), "in_data": Col(B, False), "date": Col(D), "forward": Col(I, False),
                             "backward": Col(I, False), "pagerank": Col(F, False), "on_main_path": Col(B, False),
                             "cluster": Col(I, False)}, ("node",)),
    "network.edges": Output({"src": Col(I, False), "dst": Col(I, False), "citing": Col(S, False),
                             "cited": Col(S, False), "self_citation": Col(B, False)}, ("src", "dst")),
    "network.removed": Output({"src": Col(I, False), "dst": Col(I, False), "citing": Col(S, False),
                               "cited": Col(S, False), "reason": Col(S, False)}),
    "network.main_paths": Output({"path": Col(S, False), "order": Col(I, False), "citing": Col(S, False),
                                  "cited": Col(S, False), "weight": Col(F)}, ("path", "order")),
    # Years, growth and labels only when the patents are known (not on a bare edge list).
    "network.clusters": Output({"cluster": Col(I, False), "size": Col(I, False)}, ("cluster",)),
    "network.flows_applicants": Output({"citing_group": Col(S, False), "cited_group": Col(S, False),
                                        "citations": Col(I, False), "share": Col(F, False), "self": Col(B, False)},
                                       ("citing_group", "cited_group")),
    "network.flows_regions": Output({"level": Col(S, False), "citing_group": Col(S, False),
                                     "cited_group": Col(S, False), "citations": Col(I, False),
                                     "share": Col(F, False), "self": Col(B, False)},
                                    ("level", "citing_group", "cited_group")),
    "network.ipc_cooccurrence": Output({"period": Col(S, False), "a": Col(S, False), "b": Col(S, False),
                                        "count": Col(I, False), "association": Col(F), "jaccard": Col(F)},
                                       ("period", "a", "b")),
    # score
    "score.patents": Output({"pub_id": Col(S, False), "year": Col(I), "year_basis": Col(S), "industry": Col(S),
                             "branch": Col(S), "value_index": Col(F), "high_value": Col(B, False),
                             "hv_reasons": Col(S)}, ("pub_id",)),
    "score.portfolios_branch": Output({"group": Col(S, False), "branch": Col(S, False),
                                       "publications": Col(I, False), "strength": Col(F)}, ("group", "branch")),
    "score.portfolios_industry": Output({"group": Col(S, False), "industry": Col(S, False),
                                         "publications": Col(I, False), "strength": Col(F)},
                                        ("group", "industry")),
    "score.regions": Output({"level": Col(S, False), "region": Col(S, False), "branch": Col(S, False),
                             "year": Col(I, False), "count": Col(I, False)}, ("level", "region", "branch", "year")),
    "score.concentration": Output({"branch": Col(S, False), "applicants": Col(I, False), "cr4": Col(F),
                                   "hhi": Col(F)}, ("branch",)),
    "score.inventors": Output({"inventor_id": Col(S, False), "name": Col(S), "patents": Col(I, False)},
                              ("inventor_id",)),
    "score.inventor_mentions": Output({"pub_id": Col(S, False), "seq": Col(I, False), "inventor_id": Col(S, False)},
                                      ("pub_id", "seq")),
    # a navigation project's landscape
    "project.scope": Output({"pub_id": Col(S, False), "filing_year": Col(I, False), "country": Col(S),
                             "patent_type": Col(S), "family_id": Col(S)}, ("pub_id",)),
    "project.search": Output({"pub_id": Col(S, False), "level": Col(I, False), "via": Col(S, False)}, ("pub_id",)),
}

_KINDS = {
    S: lambda s: pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s),
    I: lambda s: pd.api.types.is_integer_dtype(s),
    F: lambda s: pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s),
    B: lambda s: pd.api.types.is_bool_dtype(s),
    D: lambda s: pd.api.types.is_datetime64_any_dtype(s),
}


def _output_schema(table: str) -> pa.DataFrameSchema:
    try:
        out = OUTPUTS[table]
    except KeyError:
        raise SchemaError(f"unknown output table {table!r}; known: {', '.join(OUTPUTS)}") from None
    columns = {c: pa.Column(None, nullable=k.nullable, checks=[pa.Check(_KINDS[k.dtype], name=f"kind {k.dtype}")])
               for c, k in out.columns.items()}
    return pa.DataFrameSchema(columns, strict=False, unique=list(out.key) or None)


def validate_output(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Check a stage output against :data:`OUTPUTS` before it is written.

    Extra columns are allowed; an empty table passes the column kinds (its dtypes may be
    generic) but must have the columns.

    Raises
    ------
    SchemaError
        Naming the table, the column and the failed check: a stage broke the contract its
        readers rely on (a bug to report, not an input to fix).
    """
    if df.empty:
        missing = [c for c in _output_schema(table).columns if c not in df.columns]
        if missing:
            raise SchemaError(f"output table {table!r} lacks column(s): {', '.join(missing)}")
        return df
    try:
        return _output_schema(table).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(5)
        detail = "; ".join(f"column {r.column!r}: {r.check} (value {r.failure_case!r})" for r in cases.itertuples())
        raise SchemaError(f"output table {table!r} fails validation: {detail}") from None
