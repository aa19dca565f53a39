"""Per-patent quality indicators (OECD patent quality indicators).

:func:`patent_indicators` turns the canonical tables into one row per patent with the
indicators of Squicciarini, Dernis & Criscuolo (2013), *Measuring Patent Quality:
Indicators of Technological and Economic Value*, OECD STI Working Paper 2013/03, plus
legal and transaction facts a navigation report needs (remaining life, legal state,
PCT route, transfers, licences, pledges).

Missing is not zero
-------------------
Every indicator ``x`` comes with a boolean ``x_missing``: True when the input it rests
on is unknown (no IPC codes, no publication date, a source that does not report
citations, no events table …). The value itself is then null (``<NA>``), never 0, so
the cohort normalisation (:mod:`pipeline.score.value`) leaves it out instead of reading
it as "worst".

Citations inside the data
-------------------------
Generality, originality, radicalness and the forward counts can only see the patents of
the data set: a citation counts when ``citations.resolved_pub_id`` points to a patent in
``patents``. Forward counts are therefore lower bounds; compare them within a cohort of
the same data set (which :func:`pipeline.score.value.cohort_normalise` does). Forward
windows of patents published less than ``window_years`` before the data's cut-off are
truncated — again the same for the whole cohort.

Classes
-------
Technology classes are IPC subclasses (4 characters, ``H01M``), as in the OECD
indicators. A patent without IPC codes uses its CPC subclasses (CPC extends IPC, the
subclasses coincide), so PatentsView records (CPC only) still get a scope.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from ..errors import ScoreInputError
from ..frames import sorted_codes
from ..ingest.legal import legal_status as _legal_status
from ..schema import filing_date, require_columns

__all__ = [
    "STATUTORY_YEARS",
    "INDICATORS",
    "legal_state",
    "patent_classes",
    "patent_indicators",
]

#: Statutory terms (years from the filing date) by patent type; CN Patent Law art. 42
#: (2021: design 15 years), US 35 U.S.C. 154 (utility, from filing).
STATUTORY_YEARS = {"invention": 20, "utility_model": 10, "design": 15}

#: Numeric indicators :func:`patent_indicators` writes (``forward_5y`` is named after the
#: window, ``forward_<w>y``).
INDICATORS = (
    "forward_5y",
    "forward_total",
    "family_size",
    "claims",
    "scope",
    "grant_lag_years",
    "backward",
    "npl_refs",
    "generality",
    "originality",
    "radicalness",
    "remaining_life_years",
    "transfers",
    "licences",
    "pledges",
    "pledge_amount",
)

_DAYS_PER_YEAR = 365.25


def _isin(values: pd.Series, universe) -> np.ndarray:
    """``values.isin(universe)`` as a bool array, through object arrays: pandas' isin on
    Arrow-backed strings loops in Python (7 of 15 s at 200k patents)."""
    left = pd.Series(values).to_numpy(dtype=object, na_value=None)
    right = pd.unique(pd.Series(universe).to_numpy(dtype=object, na_value=None))
    return pd.Series(left, dtype=object).isin(pd.Series(right, dtype=object)).to_numpy(bool)


_require = partial(require_columns, error=ScoreInputError)


# ---------------------------------------------------------------------- legal status

def legal_state(status: pd.Series) -> pd.Series:
    """Legal state from the vendor's legal status: ``alive``, ``lapsed``, ``pending`` or null.

    The words are read by :func:`pipeline.ingest.legal.legal_status` (vocabulary in
    ``pipeline/ingest/legal_status.yaml``: incoPat, PatSnap, Patentics, CNIPA, Lens …):
    in force (有效, 授权, valid, active, granted …) is ``alive``; dead (失效, 驳回, 撤回,
    放弃, 未缴年费, 期限届满, 无效, invalid, expired, withdrawn, inactive …) is
    ``lapsed``; pending (审中, 实质审查, 公开, pending …) and PCT applications in the
    international phase are ``pending``. Of several status words in one cell the end of
    life wins (失效;有效 is lapsed). Anything else (unknown words, ``-``, a PCT
    application whose national phases are not known, null) is null: unknown, not guessed.

    Examples
    --------
    >>> legal_state(pd.Series(["有效", "失效", "审中", "Invalid", "Active", None, "?"])).tolist()
    ['alive', 'lapsed', 'pending', 'lapsed', 'alive', <NA>, <NA>]
    """
    read = _legal_status(pd.Series(status))
    st = read["status"].to_numpy(dtype=object, na_value="")
    alive = read["alive"].to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(st), None, dtype=object)
    out[(st == "pending") | (st == "pct_international")] = "pending"
    out[alive == 1] = "alive"
    out[alive == 0] = "lapsed"
    return pd.Series(pd.array(out, dtype="string"), index=read.index)


# --------------------------------------------------------------------------- classes


def patent_classes(classifications: pd.DataFrame, class_weighting: str = "count") -> pd.DataFrame:
    """Distinct technology classes (IPC subclasses) per patent, with a weight.

    IPC rows are used; a patent without any IPC row falls back to its CPC rows.

    Parameters
    ----------
    classifications : DataFrame
        Canonical ``classifications`` (``pub_id``, ``scheme``, ``subclass``).
    class_weighting : {"count", "fractional"}
        ``count`` (OECD): every class of a patent has weight 1; ``fractional``: each of
        a patent's ``k`` classes has weight ``1/k``, so every patent weighs 1 in total.

    Returns
    -------
    DataFrame
        Columns ``pub_id``, ``subclass``, ``w``; one row per (patent, subclass).

    Examples
    --------
    >>> c = pd.DataFrame({"pub_id": ["a", "a", "a", "b"], "scheme": ["IPC", "IPC", "CPC", "CPC"],
    ...                   "subclass": ["H01M", "B60L", "Y02E", "G06F"]})
    >>> patent_classes(c, "fractional").values.tolist()
    [['a', 'B60L', 0.5], ['a', 'H01M', 0.5], ['b', 'G06F', 1.0]]
    """
    if class_weighting not in ("count", "fractional"):
        raise ScoreInputError(f"class_weighting must be 'count' or 'fractional', got {class_weighting!r}")
    _require(classifications, ["pub_id", "scheme", "subclass"], "classifications")
    c = classifications[["pub_id", "scheme", "subclass"]].dropna()
    c = c.astype({"pub_id": "string", "scheme": "string", "subclass": "string"})
    has_ipc = c.loc[c["scheme"] == "IPC", "pub_id"].unique()
    c = c[(c["scheme"] == "IPC").to_numpy(bool) | ~_isin(c["pub_id"], has_ipc)]
    # Deduplicated and sorted on integer codes ranked as the strings sort: hashing and
    # sorting the distinct ids only, not a string sort of every row.
    c = c[["pub_id", "subclass"]]
    pc, _ = sorted_codes(c["pub_id"])
    sc, _ = sorted_codes(c["subclass"])
    pair = pc * (int(sc.max(initial=0)) + 1) + sc
    first = np.flatnonzero(~pd.Series(pair).duplicated().to_numpy())
    rows = first[np.argsort(pair[first], kind="stable")]
    c = c.iloc[rows]
    k = np.bincount(pc[rows])[pc[rows]].astype(float)  # classes per patent
    c["w"] = 1.0 / k if class_weighting == "fractional" else 1.0
    return c.reset_index(drop=True)


def _class_diversity(ci: np.ndarray, cd: np.ndarray, cls: pd.DataFrame, index: pd.Index,
                     bias_correction: bool) -> dict:
    """Generality, originality and radicalness of every patent of ``index`` at once,
    from the citations ``ci`` → ``cd`` (positions in ``index``, one row per pair).

    Computed as sparse
    products: with ``A`` (citing × cited) and ``C`` (patent × class weights),
    ``S = A^T C`` holds per cited patent the class weights of its citing patents
    (generality), ``S = A C`` per citing patent those of its cited ones (originality);
    ``1 − Σ_j S_j² / (Σ_j S_j)²``. Radicalness: ``T = A B`` (``B`` = class incidence)
    counts the cited patents' class entries, ``Σ_j T_j B_pj`` those the patent carries
    itself. Linear in the citations; no string joins.
    """
    import scipy.sparse as sp

    n = len(index)
    obj = lambda s: s.to_numpy(dtype=object, na_value=None)  # noqa: E731 - get_indexer on plain objects is fast
    pc = index.get_indexer(obj(cls["pub_id"]))
    sub, _ = pd.factorize(obj(cls["subclass"]))
    k = int(sub.max()) + 1 if len(sub) else 0
    C = sp.csr_matrix((cls["w"].to_numpy(float), (pc, sub)), shape=(n, k))
    B = sp.csr_matrix((np.ones(len(pc)), (pc, sub)), shape=(n, k))
    has = np.diff(B.indptr) > 0
    A = sp.csr_matrix((np.ones(len(ci)), (ci, cd)), shape=(n, n))
    out = {}
    for name, E in (("generality", A.T.tocsr()), ("originality", A)):
        S = E @ C
        r = np.asarray(S.sum(axis=1)).ravel()
        sq = np.asarray(S.multiply(S).sum(axis=1)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(r > 0, 1.0 - sq / (r * r), np.nan)
            if bias_correction:
                N = E @ has.astype(float)  # citing (cited) patents that have classes
                value = value * np.where(N > 1, N / (N - 1), np.nan)
        out[name] = np.clip(value, 0.0, None)
    T = A @ B
    total = np.asarray(T.sum(axis=1)).ravel()
    own = np.asarray(T.multiply(B).sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["radicalness"] = np.where((total > 0) & has, (total - own) / total, np.nan)
    return out


# ----------------------------------------------------------------------- helpers


def _source_files(provenance: pd.Series) -> pd.DataFrame:
    """(row position, source file) for every ``file#row`` of a merged provenance."""
    parts = provenance.astype("string").fillna("").str.split(" | ", regex=False).explode()
    files = parts.str.replace(r"#[^#]*$", "", regex=True)
    return pd.DataFrame({"pos": parts.index.to_numpy(), "file": files.to_numpy()})


def _reported_by_source(patents: pd.DataFrame, files_reporting, sf: pd.DataFrame | None = None) -> np.ndarray:
    """True where one of the patent's input files reports the field for some patent
    (``sf``: :func:`_source_files` of ``patents``, when already split)."""
    if sf is None:
        sf = _source_files(patents["provenance"]) if "provenance" in patents else None
    if sf is None or sf.empty:
        return np.zeros(len(patents), bool)
    hit = sf["file"].isin(set(files_reporting))
    return np.bincount(sf["pos"].to_numpy()[hit.to_numpy()], minlength=len(patents)) > 0


def _years_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days / _DAYS_PER_YEAR


def _to_datetime(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").astype("datetime64[s]")


def _count_by(pub_id: pd.Series, ids: pd.Series | pd.Index) -> np.ndarray:
    """Rows per patent of ``ids`` (an object :class:`pandas.Index` of them is reused:
    hashing Arrow strings anew for every count costs seconds at a million patents)."""
    index = ids if isinstance(ids, pd.Index) else pd.Index(ids)
    codes = index.get_indexer(pd.Series(pub_id).dropna().to_numpy(dtype=object))
    return np.bincount(codes[codes >= 0], minlength=len(index))


# ------------------------------------------------------------------------- main


def patent_indicators(
    patents: pd.DataFrame,
    classifications: pd.DataFrame,
    citations: pd.DataFrame,
    npl: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    forward: pd.DataFrame | None = None,
    *,
    as_of: date,
    window_years: int = 5,
    statutory_years: dict | None = None,
    class_weighting: str = "count",
    bias_correction: bool = False,
) -> pd.DataFrame:
    """OECD patent quality indicators and legal/transaction facts, one row per patent.

    Parameters
    ----------
    patents, classifications, citations : DataFrame
        Canonical tables (:mod:`pipeline.schema`). ``patents`` needs ``pub_id``,
        ``country``, ``patent_type``, ``app_date``, ``pub_date``, ``grant_date``,
        ``claims_count``, ``family_id``, ``family_size``, ``legal_status``; the other
        canonical columns are used when present.
    npl : DataFrame, optional
        Canonical ``npl`` table; without it ``npl_refs`` is missing everywhere.
    events : DataFrame, optional
        Canonical ``events`` table; without it transfers, licences and pledges are
        missing everywhere (with it, a patent without events has 0 of each).
    forward : DataFrame, optional
        The network stage's node table (columns ``node``, ``forward``,
        ``forward_window``) at patent level; when given, forward counts are taken from
        it (its window is the network stage's ``window_years``: pass the same value
        here so the column name is right). Patents absent from it have missing
        forward counts.
    as_of : datetime.date
        Reference date for remaining life and legal-state inference.
    window_years : int
        Forward-citation window, counted from publication (as the network stage does).
    statutory_years : dict, optional
        Term in years from the filing date per ``patent_type``; default
        :data:`STATUTORY_YEARS`. Types not in it have missing remaining life.
    class_weighting : {"count", "fractional"}
        How a patent's several classes enter the generality / originality shares
        (:func:`patent_classes`). ``count`` (default) is the OECD computation.
    bias_correction : bool
        Multiply generality and originality by N/(N−1) (Hall 2002), N = number of
        citing (cited) patents with classes; undefined (missing) for N = 1. With
        ``count`` weighting and multi-class patents the corrected value can exceed 1.

    Returns
    -------
    DataFrame
        In the order of ``patents``: ``pub_id``, ``year`` (filing year,
        :func:`pipeline.schema.filing_date`: earliest priority, else application, else
        publication date), ``year_basis`` (which of the three), ``patent_type``, then for each indicator its value and a boolean
        ``<name>_missing``:

        ``forward_<w>y``
            Citations received from patents of the data published at most ``w`` years
            after the patent's publication (earlier ones included); missing when the
            publication date is unknown. Where the source gives its own count over the
            same window (``patents.cited_by_<w>y``, e.g. PatSnap 5年内被引用次数) and it is
            larger, that vendor count is taken and ``forward_<w>y_vendor`` is true.
        ``forward_total``
            Citations received: the larger of the count inside the data and the source's
            ``cited_by_count`` (both are lower bounds of the truth).
        ``family_size``
            The larger of ``patents.family_size`` and the number of distinct countries
            ("offices") among the publications sharing the patent's ``family_id`` in the
            data. The two measure slightly different things (members vs offices); the
            maximum is the best available lower bound of the family's reach. Missing
            when both ``family_size`` and ``family_id`` are null.
        ``claims``
            ``claims_count``.
        ``scope``
            Number of distinct IPC subclasses (OECD patent scope).
        ``grant_lag_years``
            ``grant_date − app_date`` in years of 365.25 days; missing if not granted,
            either date unknown, or negative (a data error). Lower is better.
        ``backward``, ``npl_refs``
            Rows in ``citations`` / ``npl``. Known when the patent has such rows or when
            one of its input files (``provenance``) reports citations / NPL for some
            patent — a source without a citation field gives missing, not 0.
        ``generality``
            G = 1 − Σ_j s_j², s_j the share of class j among the classes of the patents
            (in the data) citing it; missing without such citing patents.
        ``originality``
            The same over the patents it cites (in the data).
        ``radicalness``
            OECD (Squicciarini et al. 2013, after Shane 2001):
            RADICALNESS_p = Σ_j CT_j / n_p, where the sum runs over the patents j cited
            by p (in the data), CT_j is the number of IPC subclasses of j that p itself
            does not carry, and n_p is the number of (cited patent, subclass) entries.
            Count-based (every entry weighs 1). Missing when p has no classes or cites
            no classified patent of the data.
        ``remaining_life_years``
            ``app_date + term − as_of`` in years, floored at 0 (statutory; a lapse does
            not shorten it — see ``alive``).
        ``transfers``, ``licences``, ``pledges``, ``pledge_amount``
            Events per type; ``pledge_amount`` sums the known pledge amounts (missing
            when pledges exist but none has an amount).

        Plus facts that are not cohort-normalised:

        ``legal_state`` / ``alive`` / ``pending``
            :func:`legal_state` of ``legal_status``; when unknown and the statutory term
            has ended at ``as_of`` the state is ``expired``. ``alive`` is True (alive),
            False (lapsed or expired) or null (pending or unknown); ``pending`` flags
            pending applications; ``alive_missing`` is True when the state is unknown.
        ``pct``
            True when ``pct_app`` or ``wo_pub`` is given, the patent is a WO publication,
            or a publication with the same ``family_id`` is. False otherwise;
            ``pct_missing`` when it is False, the patent's files report no PCT field at
            all and no other family member is in the data.

    Raises
    ------
    ScoreInputError
        If a table lacks required columns, ``pub_id`` repeats, or an argument is bad.

    Examples
    --------
    ``b`` and ``c`` cite ``a``; ``a`` is cited by one H01M and one B60L patent:

    >>> pat = pd.DataFrame({"pub_id": ["a", "b", "c"], "country": "CN",
    ...     "patent_type": "invention", "app_date": pd.to_datetime(["2010-01-01"] * 3),
    ...     "pub_date": pd.to_datetime(["2011-01-01", "2012-01-01", "2020-01-01"]),
    ...     "grant_date": pd.to_datetime(["2013-01-01", None, None]),
    ...     "claims_count": [10, 5, None], "family_id": None, "family_size": [1, 1, 1],
    ...     "legal_status": ["有效", "失效", None]})
    >>> cls = pd.DataFrame({"pub_id": ["a", "b", "c"], "scheme": "IPC",
    ...                     "subclass": ["H01M", "H01M", "B60L"]})
    >>> cit = pd.DataFrame({"pub_id": ["b", "c"], "resolved_pub_id": ["a", "a"]})
    >>> out = patent_indicators(pat, cls, cit, as_of=date(2025, 1, 1))
    >>> print(out[["pub_id", "forward_5y", "forward_total", "generality", "radicalness"]].to_string())
      pub_id  forward_5y  forward_total  generality  radicalness
    0      a           1              2         0.5         <NA>
    1      b           0              0        <NA>          0.0
    2      c           0              0        <NA>          1.0
    >>> out[["claims", "claims_missing", "grant_lag_years", "alive"]].values.tolist()[:2]
    [[10, False, 3.0006844626967832, True], [5, False, <NA>, False]]
    """
    if window_years is None or int(window_years) != window_years or window_years < 0:
        raise ScoreInputError(f"window_years must be a non-negative integer, got {window_years!r}")
    terms = dict(STATUTORY_YEARS if statutory_years is None else statutory_years)
    _require(patents, ["pub_id", "country", "patent_type", "app_date", "pub_date", "grant_date",
                       "claims_count", "family_id", "family_size", "legal_status"], "patents")
    _require(citations, ["pub_id", "resolved_pub_id"], "citations")
    if npl is not None:
        _require(npl, ["pub_id"], "npl")
    if events is not None:
        _require(events, ["pub_id", "event_type"], "events")
    if forward is not None:
        _require(forward, ["node", "forward", "forward_window"], "forward")
    dup = patents["pub_id"][patents["pub_id"].duplicated()]
    if len(dup):
        raise ScoreInputError(f"table 'patents': pub_id repeats ({', '.join(map(str, dup.unique()[:5]))})")
    if patents["pub_id"].isna().any():
        raise ScoreInputError("table 'patents': pub_id is null in some rows")

    p = patents.reset_index(drop=True)
    ids = p["pub_id"].astype("string")
    n = len(p)
    as_of_ts = pd.Timestamp(as_of)
    app = _to_datetime(p["app_date"])
    pub = _to_datetime(p["pub_date"])
    grant = _to_datetime(p["grant_date"])

    out = pd.DataFrame({"pub_id": ids})
    id_index = pd.Index(ids.to_numpy(dtype=object))  # unique: checked above
    filed = filing_date(p)
    out["year"] = filed["date"].dt.year.astype("Int64")
    out["year_basis"] = filed["basis"]
    out["patent_type"] = p["patent_type"].astype("string")

    def put(name, values, missing, dtype):
        missing = np.asarray(missing, bool)
        col = pd.array(values, dtype=dtype)
        col[missing] = pd.NA
        out[name] = col
        out[f"{name}_missing"] = missing

    # ---- citations inside the data: distinct (citing, cited) pairs as patent positions,
    # found by integer codes rather than string joins
    cit = citations[["pub_id", "resolved_pub_id"]].dropna().astype("string")
    ci = id_index.get_indexer(cit["pub_id"].to_numpy(dtype=object))
    cd = id_index.get_indexer(cit["resolved_pub_id"].to_numpy(dtype=object))
    inside = (ci >= 0) & (cd >= 0) & (ci != cd)
    pair = np.unique(ci[inside].astype(np.int64) * n + cd[inside])
    ci, cd = pair // max(n, 1), pair % max(n, 1)

    fcol = f"forward_{int(window_years)}y"
    cited_by = pd.to_numeric(p["cited_by_count"], errors="coerce") if "cited_by_count" in p else pd.Series(np.nan, index=p.index)
    if forward is not None:
        fw = forward[["node", "forward", "forward_window"]].astype({"node": "string"}).drop_duplicates("node")
        fw = fw.set_index("node").reindex(ids)
        in_data = pd.to_numeric(fw["forward"], errors="coerce").to_numpy(float)
        win = pd.to_numeric(fw["forward_window"], errors="coerce").to_numpy(float)
        put(fcol, np.nan_to_num(win), np.isnan(win), "Int64")
    else:
        limit = (pub + pd.DateOffset(years=int(window_years))).to_numpy()
        pub_np = pub.to_numpy()
        ok = ~np.isnat(pub_np[ci]) & ~np.isnat(pub_np[cd]) & (pub_np[ci] <= limit[cd])
        in_data = np.bincount(cd, minlength=n).astype(float)
        put(fcol, np.bincount(cd[ok], minlength=n), pub.isna().to_numpy(), "Int64")
    # The vendor's own windowed count (PatSnap 5年内被引用次数) sees citing documents outside
    # the data: where it is larger, it is the figure, and `<fcol>_vendor` says so.
    vendor_col = f"cited_by_{int(window_years)}y"
    if vendor_col in p:
        vendor = pd.to_numeric(p[vendor_col], errors="coerce").to_numpy(float)
        links = out[fcol].to_numpy(dtype=float, na_value=np.nan)
        use = ~np.isnan(vendor) & (np.isnan(links) | (vendor > np.nan_to_num(links, nan=-1)))
        put(fcol, np.where(use, vendor, np.nan_to_num(links)), np.isnan(links) & ~use, "Int64")
        out[f"{fcol}_vendor"] = use
    else:
        out[f"{fcol}_vendor"] = np.zeros(n, bool)
    total = np.fmax(np.nan_to_num(in_data), cited_by.to_numpy(float))
    put("forward_total", np.nan_to_num(total), np.isnan(in_data) & np.isnan(cited_by.to_numpy(float)), "Int64")

    # ---- family size: max(family_size, offices in the data)
    fam = p["family_id"].astype("string")
    # Families as integer codes (NaN: no family), grouped without hashing strings again.
    fam_code = pd.factorize(fam.to_numpy(dtype=object, na_value=None))[0]
    fam_key = pd.Series(fam_code, index=p.index).where(fam_code >= 0)
    offices = p["country"].astype("string").groupby(fam_key).transform("nunique")
    fs = pd.to_numeric(p["family_size"], errors="coerce").to_numpy(float)
    fam_known = fam.notna().to_numpy()
    best = np.fmax(fs, np.where(fam_known, offices.to_numpy(float), np.nan))
    put("family_size", np.nan_to_num(best), np.isnan(best), "Int64")

    claims = pd.to_numeric(p["claims_count"], errors="coerce").to_numpy(float)
    put("claims", np.nan_to_num(claims), np.isnan(claims), "Int64")

    cls = patent_classes(classifications, class_weighting)
    cls = cls[id_index.get_indexer(cls["pub_id"].to_numpy(dtype=object)) >= 0]
    scope = _count_by(cls["pub_id"], id_index)
    put("scope", scope, scope == 0, "Int64")

    lag = _years_between(grant, app).to_numpy(float)
    put("grant_lag_years", np.nan_to_num(lag), np.isnan(lag) | (lag < 0), "Float64")

    # ---- backward citations and NPL: known when the source reports them
    # The provenance split once: three indicators ask which files report what.
    sf = _source_files(p["provenance"]) if "provenance" in p else None
    back = _count_by(citations["pub_id"].astype("string"), id_index)
    src_cit = citations["source"].dropna().unique() if "source" in citations else []
    put("backward", back, ~((back > 0) | _reported_by_source(p, src_cit, sf)), "Int64")
    if npl is None:
        put("npl_refs", np.zeros(n), np.ones(n, bool), "Int64")
    else:
        nr = _count_by(npl["pub_id"].astype("string"), id_index)
        src_npl = npl["source"].dropna().unique() if "source" in npl else []
        put("npl_refs", nr, ~((nr > 0) | _reported_by_source(p, src_npl, sf)), "Int64")

    # ---- generality, originality, radicalness
    div = _class_diversity(ci, cd, cls, id_index, bias_correction)
    for name in ("generality", "originality", "radicalness"):
        put(name, np.nan_to_num(div[name]), np.isnan(div[name]), "Float64")

    # ---- remaining statutory life (one pass per patent type, not per patent)
    expiry = pd.Series(pd.NaT, index=p.index, dtype="datetime64[s]")
    for ptype, years in terms.items():
        sel = (p["patent_type"] == ptype).fillna(False).to_numpy(bool)
        if sel.any():
            expiry[sel] = (app[sel] + pd.DateOffset(years=int(years))).astype("datetime64[s]")
    life = _years_between(expiry, pd.Series(as_of_ts, index=p.index)).clip(lower=0).to_numpy(float)
    put("remaining_life_years", np.nan_to_num(life), np.isnan(life), "Float64")

    # ---- legal state
    state = legal_state(p["legal_status"])
    expired = state.isna().to_numpy() & (life == 0)
    state = state.mask(expired, "expired")
    out["legal_state"] = state
    alive = pd.array(state.map({"alive": True, "lapsed": False, "expired": False}), dtype="boolean")
    out["alive"] = alive
    out["alive_missing"] = state.isna().to_numpy()
    out["pending"] = (state == "pending").fillna(False).astype(bool).to_numpy()

    # ---- PCT route
    own = p["country"].astype("string").eq("WO").fillna(False).to_numpy(bool)
    fields = [c for c in ("pct_app", "wo_pub") if c in p]
    direct = np.zeros(n, bool)
    for c in fields:
        direct |= p[c].notna().to_numpy()
    pct_evidence = pd.Series(own | direct, index=p.index)
    fam_pct = pct_evidence.groupby(fam_key).transform("any").reindex(p.index).fillna(False).to_numpy(bool)
    pct = own | direct | (fam_known & fam_pct)
    files_pct = set()
    if fields and "provenance" in p:
        with_field = sf[direct[sf["pos"].to_numpy()]] if direct.any() else pd.DataFrame({"file": []})
        files_pct = set(with_field["file"])
    fam_members = np.bincount(fam_code[fam_code >= 0], minlength=n)[np.maximum(fam_code, 0)] * (fam_code >= 0) > 1
    pct_missing = ~pct & ~_reported_by_source(p, files_pct, sf) & ~fam_members
    out["pct"] = pct
    out["pct_missing"] = pct_missing

    # ---- events
    if events is None:
        for name in ("transfers", "licences", "pledges"):
            put(name, np.zeros(n), np.ones(n, bool), "Int64")
        put("pledge_amount", np.zeros(n), np.ones(n, bool), "Float64")
    else:
        ev = events.assign(pub_id=events["pub_id"].astype("string"))
        for name, etype in (("transfers", "transfer"), ("licences", "licence"), ("pledges", "pledge")):
            put(name, _count_by(ev.loc[ev["event_type"] == etype, "pub_id"], id_index), np.zeros(n, bool), "Int64")
        pl = ev[ev["event_type"] == "pledge"]
        amount = pd.to_numeric(pl["amount"], errors="coerce") if "amount" in pl else pd.Series(np.nan, index=pl.index)
        amt = amount.groupby(pl["pub_id"]).sum(min_count=1).reindex(ids).to_numpy(float)
        pledged = out["pledges"].to_numpy(dtype=float, na_value=0) > 0
        put("pledge_amount", np.where(pledged, np.nan_to_num(amt), 0.0), pledged & np.isnan(amt), "Float64")
    return out
