"""Regional positioning: counts per region × branch × year, RTA, concentration, position.

A patent is located at its **first applicant** (role ``applicant`` with the lowest
``seq``; the first assignee when it has no applicant) and counted once for that region —
whole counting on the first applicant, the usual choice of CNIPA regional statistics.
A patent with several branches counts once in each (full counting over branches), so a
region's total ``Σ_j P_rj`` is a count of (patent, branch) pairs.

Revealed technological advantage (DOMAIN.md §1)::

    RTA(r, j) = (P_rj / Σ_j P_rj) / (Σ_r P_rj / Σ_r Σ_j P_rj)

RTA > 1: region ``r`` is specialised in branch ``j`` relative to the reference.
Concentration per branch (or region): CR4 / CR8 = share of the 4 / 8 largest applicants;
HHI = Σ s_i² with shares in [0, 1] (``hhi_10000`` = the same × 10,000, the antitrust
convention where > 2,500 is "highly concentrated").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

import numpy as np
import pandas as pd

from ..errors import RegionInputError, RegionNameError
from ..growth import growth_rate, windows
from ..places import Region, in_region, parse_region
from ..schema import filing_year, require_columns

__all__ = [
    "LEVELS",
    "first_applicant_locations",
    "nationality",
    "region_table",
    "counts_matrix",
    "rta",
    "shares",
    "growth",
    "applicant_counts",
    "concentration",
    "position",
]

LEVELS = ("country", "province", "city", "district")


_require = partial(require_columns, error=RegionInputError)


#: Offices of more than one country: their code says nothing of the applicant's nationality.
REGIONAL_OFFICES = frozenset({"WO", "EP", "EA", "AP", "OA", "GC", "EM", "XN", "XV"})


def nationality(df: pd.DataFrame) -> pd.DataFrame:
    """The applicant's country of each patent, from every field that tells it, and how.

    Routes, first that answers (``nationality_by``):

    1. ``applicant`` — the country of the first applicant's address (``applicant_country``);
    2. ``inventor`` — the first inventor's country (``inventor_country``; OECD counts
       inventive activity by inventor country, and applicant and first inventor share a
       country in the great majority of filings);
    3. ``priority`` — the office of the first priority application (``priority_numbers``,
       ``;``-separated), when it is a national office (a first filing lists itself).

    Otherwise both columns are null: the share unknown is for the report to state. The
    publishing office alone is never used: exports without priority fields (incoPat) cannot
    tell a national first filing from a foreign applicant's later filing there.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "applicant_country": ["JP", None, None, None, None],
    ...     "inventor_country": [None, "US", None, None, None],
    ...     "priority_numbers": [None, None, "KR20190012345A;US62/1", "WO2019EP1234W", None],
    ...     "country": ["US", "US", "CN", "EP", "CN"]})
    >>> nationality(df).values.tolist()
    [['JP', 'applicant'], ['US', 'inventor'], ['KR', 'priority'], [None, None], [None, None]]
    """
    n = len(df)

    def codes(values: pd.Series) -> pd.Series:  # two-letter codes only ("中国", "" -> null)
        values = values.astype("string").str.strip().str.upper()
        return values.where(values.str.fullmatch(r"[A-Z]{2}").fillna(False))

    def col(name):
        return codes(df[name]) if name in df else pd.Series(pd.NA, index=df.index, dtype="string")

    national = lambda s: s.where(~s.isin(REGIONAL_OFFICES))  # noqa: E731
    first_priority = col("priority_numbers") if "priority_numbers" not in df else \
        codes(df["priority_numbers"].astype("string").str.split(";").str[0].str.strip().str[:2])
    prio = national(first_priority)
    country = pd.Series([None] * n, index=df.index, dtype=object)
    route = pd.Series([None] * n, index=df.index, dtype=object)
    for name, values in (("applicant", col("applicant_country")), ("inventor", col("inventor_country")),
                         ("priority", prio)):
        take = country.isna() & values.notna().to_numpy(dtype=bool)
        country[take] = values[take].astype(object)
        route[take] = name
    return pd.DataFrame({"nationality": country, "nationality_by": route})


def _check_level(level: str) -> list[str]:
    if level not in LEVELS:
        raise RegionInputError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    return list(LEVELS[: LEVELS.index(level) + 1])


def first_applicant_locations(parties: pd.DataFrame) -> pd.DataFrame:
    """Location of every patent's first applicant (first assignee if no applicant).

    Returns
    -------
    DataFrame
        ``pub_id``, ``country``, ``province``, ``city``, ``district`` (strings, NA when unknown).

    Examples
    --------
    >>> parties = pd.DataFrame({"pub_id": ["a", "a", "b"], "role": ["applicant", "applicant", "assignee"],
    ...     "seq": [1, 0, 0], "country": ["CN", "CN", "US"], "province": ["四川省", "重庆市", None],
    ...     "city": ["成都市", "重庆市", None], "district": [None, "江北区", None]})
    >>> first_applicant_locations(parties).values.tolist()
    [['a', 'CN', '重庆市', '重庆市', '江北区'], ['b', 'US', <NA>, <NA>, <NA>]]
    """
    _require(parties, ["pub_id", "role", "seq", *LEVELS], "parties")
    p = parties[parties["role"].isin(("applicant", "assignee"))]
    p = p.assign(_r=(p["role"] != "applicant").astype(int)).sort_values(["pub_id", "_r", "seq"])
    p = p.drop_duplicates("pub_id")[["pub_id", *LEVELS]].astype("string")
    for c in LEVELS:
        p[c] = p[c].str.strip().replace("", pd.NA)
    return p.reset_index(drop=True)


def _labelled(patents: pd.DataFrame, labels: pd.DataFrame, years) -> pd.DataFrame:
    """(pub_id, branch, year) of labelled patents within ``years``."""
    _require(patents, ["pub_id"], "patents")
    _require(labels, ["pub_id", "branch"], "labels")
    y = pd.DataFrame({"pub_id": patents["pub_id"].astype("string"), "year": filing_year(patents)})
    y = y.drop_duplicates("pub_id")
    if years is not None:
        if not (isinstance(years, Sequence) and len(years) == 2 and years[0] <= years[1]):
            raise RegionInputError(f"years must be (first, last) with first ≤ last, got {years!r}")
        y = y[y["year"].between(years[0], years[1]).fillna(False).astype(bool)]
    lab = labels[["pub_id", "branch"]].astype("string").dropna().drop_duplicates()
    return lab.merge(y, on="pub_id")


def region_table(patents: pd.DataFrame, parties: pd.DataFrame, labels: pd.DataFrame, *,
                 level: str = "province", years: tuple[int, int] | None = None,
                 locations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Patent counts per region × branch × filing year.

    Regions are identified by their path down to ``level`` (``CN/重庆市/重庆市/江北区``),
    as place names repeat; the location columns down to ``level`` are kept beside it.
    Patents without a location at ``level`` are left out; their number is in
    ``attrs["unlocated"]``.

    Parameters
    ----------
    years : (first, last), optional
        Inclusive filing-year window (filing year = earliest priority, else application).
    locations : DataFrame, optional
        :func:`first_applicant_locations` of ``parties``, when already computed (the
        score stage reads all four levels from one).

    Examples
    --------
    >>> pats = pd.DataFrame({"pub_id": ["a", "b", "c"], "filing_year": [2020, 2020, 2021]})
    >>> parties = pd.DataFrame({"pub_id": ["a", "b", "c"], "role": ["applicant"] * 3, "seq": [0] * 3,
    ...     "country": ["CN", "CN", "CN"], "province": ["重庆市", "重庆市", None],
    ...     "city": [None] * 3, "district": [None] * 3})
    >>> labels = pd.DataFrame({"pub_id": ["a", "a", "b", "c"], "branch": ["x", "y", "x", "x"]})
    >>> t = region_table(pats, parties, labels)
    >>> t[["region", "branch", "year", "count"]].values.tolist()
    [['CN/重庆市', 'x', 2020, 2], ['CN/重庆市', 'y', 2020, 1]]
    >>> t.attrs["unlocated"]
    1
    """
    cols = _check_level(level)
    lab = _labelled(patents, labels, years)
    loc = first_applicant_locations(parties) if locations is None else locations
    t = lab.merge(loc, on="pub_id", how="left")
    located = t[level].notna()
    unlocated = int(t.loc[~located, "pub_id"].nunique())
    t = t[located]
    path = t[cols[0]].fillna("?")
    for c in cols[1:]:
        path = path + "/" + t[c].fillna("?")
    t = t.assign(region=path)
    out_cols = ["region", *cols, "branch", "year", "count"]
    if t.empty:
        out = pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("year", "count") else "string") for c in out_cols})
    else:
        out = (t.groupby(["region", *cols, "branch", "year"], dropna=False)["pub_id"].nunique()
               .rename("count").reset_index())
        out["count"] = out["count"].astype("Int64")
        out = out[out_cols].sort_values(["region", "branch", "year"]).reset_index(drop=True)
    out.attrs["unlocated"] = unlocated
    return out


def counts_matrix(table: pd.DataFrame, *, index: str = "region", columns: str = "branch",
                  value: str = "count") -> pd.DataFrame:
    """Wide region × branch matrix (years summed) from a long table such as :func:`region_table`.

    Examples
    --------
    >>> t = pd.DataFrame({"region": ["r", "r", "s"], "branch": ["x", "x", "y"], "count": [1, 2, 4]})
    >>> counts_matrix(t).values.tolist()
    [[3.0, 0.0], [0.0, 4.0]]
    """
    _require(table, [index, columns, value], "table")
    if table.empty:
        return pd.DataFrame(dtype=float)
    m = table.pivot_table(index=index, columns=columns, values=value, aggfunc="sum", fill_value=0)
    m.columns.name = columns
    return m.astype(float)


def rta(counts: pd.DataFrame, reference: pd.Series | None = None) -> pd.DataFrame:
    """Revealed technological advantage of every region (row) in every branch (column).

    ``RTA(r, j) = (P_rj / Σ_j P_rj) / (R_j / Σ_j R_j)`` where the reference ``R_j`` is by
    default the column total ``Σ_r P_rj``. NaN where undefined: a region without
    patents, a branch without patents in the reference.

    Parameters
    ----------
    counts : DataFrame
        Region × branch counts (:func:`counts_matrix`).
    reference : Series, optional
        Branch → count of the reference ("world"), e.g. all patents of the landscape when
        ``counts`` holds only a few regions that may overlap.

    Examples
    --------
    Region A has 10 patents in x and 30 in y, B has 30 and 30; x is 40 of 100 patents:
    RTA(A, x) = (10/40) / (40/100) = 0.625, RTA(B, x) = (30/60) / 0.4 = 1.25.

    >>> c = pd.DataFrame({"x": [10, 30], "y": [30, 30]}, index=["A", "B"])
    >>> rta(c).round(4).values.tolist()
    [[0.625, 1.25], [1.25, 0.8333]]
    """
    c = counts.astype(float)
    if reference is None:
        ref = c.sum(axis=0)
    else:
        ref = pd.Series(reference, dtype=float).reindex(c.columns).fillna(0.0)
    total = ref.sum()
    ref_share = (ref / total) if total > 0 else ref * np.nan
    row = c.sum(axis=1)
    own = c.div(row.where(row > 0), axis=0)
    return own.div(ref_share.where(ref_share > 0), axis=1)


def shares(counts: pd.DataFrame, of: str = "region") -> pd.DataFrame:
    """Shares of a region × branch matrix.

    ``of="region"``: each branch's share of the region's total (the region's structure);
    ``of="branch"``: each region's share of the branch's total. NaN where the total is 0.

    Examples
    --------
    >>> c = pd.DataFrame({"x": [10, 30], "y": [30, 30]}, index=["A", "B"])
    >>> shares(c)["x"].tolist(), shares(c, of="branch")["x"].tolist()
    ([0.25, 0.5], [0.25, 0.75])
    """
    c = counts.astype(float)
    if of == "region":
        tot = c.sum(axis=1)
        return c.div(tot.where(tot > 0), axis=0)
    if of == "branch":
        tot = c.sum(axis=0)
        return c.div(tot.where(tot > 0), axis=1)
    raise RegionInputError(f"of must be 'region' or 'branch', got {of!r}")


def growth(table: pd.DataFrame, *, last_year: int, window: int = 3,
           by: Sequence[str] = ("region", "branch")) -> pd.DataFrame:
    """Filing growth per group: ``(recent − before) / before``.

    ``recent`` = counts of the ``window`` years up to ``last_year``, ``before`` = the
    ``window`` years before them (as in :mod:`pipeline.landscape`); NaN when ``before`` is 0.

    Examples
    --------
    >>> t = pd.DataFrame({"region": ["r"] * 3 + ["s"], "branch": ["x"] * 4,
    ...                   "year": [2019, 2021, 2022, 2022], "count": [2, 1, 2, 5]})
    >>> growth(t, last_year=2022, window=2).values.tolist()
    [['r', 'x', 3, 2, 0.5], ['s', 'x', 5, 0, nan]]
    """
    by = list(by)
    _require(table, [*by, "year", "count"], "table")
    if not isinstance(window, int | np.integer) or window < 1:
        raise RegionInputError(f"window must be a positive integer, got {window!r}")
    recent, before = windows(table["year"], last_year, window)
    cnt = pd.to_numeric(table["count"], errors="coerce").fillna(0)
    t = table[by].assign(recent=cnt.where(recent, 0), before=cnt.where(before, 0))
    if t.empty:
        return pd.DataFrame(columns=[*by, "recent", "before", "growth"])
    out = t.groupby(by, dropna=False)[["recent", "before"]].sum().reset_index()
    out[["recent", "before"]] = out[["recent", "before"]].astype(int)
    out["growth"] = growth_rate(out["recent"], out["before"])
    return out


def applicant_counts(groups: pd.DataFrame, labels: pd.DataFrame, *, by: str = "branch") -> pd.DataFrame:
    """Distinct patents per (``by``, applicant group): the input of :func:`concentration`.

    Examples
    --------
    >>> groups = pd.DataFrame({"pub_id": ["a", "b", "b"], "group": ["A", "A", "B"]})
    >>> labels = pd.DataFrame({"pub_id": ["a", "b"], "branch": ["x", "x"]})
    >>> applicant_counts(groups, labels).values.tolist()
    [['x', 'A', 2], ['x', 'B', 1]]
    """
    _require(groups, ["pub_id", "group"], "groups")
    _require(labels, ["pub_id", by], "labels")
    t = groups[["pub_id", "group"]].astype("string").merge(labels[["pub_id", by]].astype("string"), on="pub_id")
    t = t.dropna()
    if t.empty:
        return pd.DataFrame({by: pd.Series(dtype="string"), "group": pd.Series(dtype="string"),
                             "count": pd.Series(dtype="int64")})
    return t.groupby([by, "group"])["pub_id"].nunique().rename("count").reset_index()


def concentration(counts_by_applicant: pd.DataFrame, *, by: str | None = "branch", applicant: str = "group",
                  count: str = "count") -> pd.DataFrame:
    """CR4, CR8 and HHI of the applicants, per ``by`` (a branch or a region column).

    Shares are each applicant's count over the sum of all applicants' counts in the
    group (with multiple applicants per patent the sum exceeds the patent count; the
    shares are shares of applicant–patent links). With fewer than 4 applicants CR4 = 1.

    Parameters
    ----------
    by : str or None
        Group column; None: one row for the whole input.

    Returns
    -------
    DataFrame
        ``by``, ``applicants``, ``total``, ``cr4``, ``cr8``, ``hhi`` (shares in [0, 1])
        and ``hhi_10000`` (× 10,000).

    Examples
    --------
    Five applicants with 40, 20, 20, 10, 10 of 100: CR4 = 0.9, HHI = 0.16 + 0.04 + 0.04
    + 0.01 + 0.01 = 0.26.

    >>> c = pd.DataFrame({"branch": ["x"] * 5, "group": list("ABCDE"), "count": [40, 20, 20, 10, 10]})
    >>> concentration(c).values.tolist()
    [['x', 5, 100, 0.9, 1.0, 0.26, 2600.0]]
    """
    cols = [by] if by else []
    _require(counts_by_applicant, [*cols, applicant, count], "counts_by_applicant")
    out_cols = [*cols, "applicants", "total", "cr4", "cr8", "hhi", "hhi_10000"]
    t = counts_by_applicant[[*cols, applicant, count]].copy()
    t[count] = pd.to_numeric(t[count], errors="coerce")
    if (t[count] < 0).any():
        raise RegionInputError(f"counts_by_applicant.{count} has negative values")
    t = t[t[count] > 0]
    if t.empty:
        return pd.DataFrame(columns=out_cols)
    key = t[by] if by else pd.Series("all", index=t.index)
    # One row per applicant within the group, largest first.
    t = t.groupby([key.rename("_k"), t[applicant]])[count].sum().reset_index()
    t = t.sort_values(["_k", count], ascending=[True, False])
    tot = t.groupby("_k")[count].transform("sum")
    t["s"] = t[count] / tot
    t["rank"] = t.groupby("_k").cumcount() + 1
    g = t.groupby("_k")
    out = pd.DataFrame({
        "applicants": g[applicant].nunique(),
        "total": g[count].sum(),
        "cr4": t["s"].where(t["rank"] <= 4, 0).groupby(t["_k"]).sum(),
        "cr8": t["s"].where(t["rank"] <= 8, 0).groupby(t["_k"]).sum(),
        "hhi": (t["s"] ** 2).groupby(t["_k"]).sum(),
    })
    for c in ("cr4", "cr8", "hhi"):
        out[c] = out[c].round(6)
    out["hhi_10000"] = (out["hhi"] * 10_000).round(2)
    out = out.reset_index()
    if by:
        out = out.rename(columns={"_k": by})
    else:
        out = out.drop(columns="_k")
    return out[out_cols].reset_index(drop=True)


def _region(r) -> Region:
    if isinstance(r, Region):
        return r
    try:
        return parse_region(r)
    except RegionNameError as exc:
        raise RegionInputError(str(exc)) from None


def position(region, compare: Sequence = (), *, patents: pd.DataFrame, parties: pd.DataFrame,
             labels: pd.DataFrame, scores: pd.DataFrame | None = None, years: tuple[int, int] | None = None,
             last_year: int | None = None, window: int = 3) -> pd.DataFrame:
    """The project's region against its comparison regions, branch by branch.

    Parameters
    ----------
    region, compare : Region or str
        The project's region and the comparison regions (``"重庆市江北区"``, ``"四川省成都市"``,
        ``"US"`` — parsed by :func:`pipeline.places.parse_region`), matched on the first
        applicant's country / province / city / district.
    scores : DataFrame, optional
        ``pub_id``, ``high_value``: adds high-value counts (NaN without it).
    years : (first, last), optional
        Filing-year window.
    last_year, window : int
        Growth compares the ``window`` years up to ``last_year`` (default: the last filing
        year of the input) with the ``window`` years before.

    Returns
    -------
    DataFrame
        One row per region × branch (every branch of the input, zeros included):
        ``region``, ``level``, ``branch``, ``count``, ``share`` (of the branch's patents
        in the input), ``structure`` (of the region's (patent, branch) total), ``rta``
        (reference: all labelled patents of the input, so overlapping regions such as a
        district and its city are both measured against the same "world"),
        ``high_value``, ``recent``, ``before``, ``growth``.

    Examples
    --------
    >>> pats = pd.DataFrame({"pub_id": list("abcd"), "filing_year": [2021, 2022, 2022, 2022]})
    >>> parties = pd.DataFrame({"pub_id": list("abcd"), "role": ["applicant"] * 4, "seq": [0] * 4,
    ...     "country": ["CN"] * 4, "province": ["重庆市", "重庆市", "四川省", "四川省"],
    ...     "city": ["重庆市", "重庆市", "成都市", "成都市"], "district": ["江北区", "渝北区", None, None]})
    >>> labels = pd.DataFrame({"pub_id": list("abcd"), "branch": ["x", "y", "x", "x"]})
    >>> t = position("重庆市江北区", ["四川省成都市"], patents=pats, parties=parties, labels=labels)
    >>> t[["region", "branch", "count", "share", "rta"]].values.tolist()
    [['重庆市江北区', 'x', 1, 0.333333, 1.333333], ['重庆市江北区', 'y', 0, 0.0, 0.0], ['四川省成都市', 'x', 2, 0.666667, 1.333333], ['四川省成都市', 'y', 0, 0.0, 0.0]]
    """
    regions = [_region(region), *(_region(r) for r in compare)]
    lab = _labelled(patents, labels, years)
    loc = first_applicant_locations(parties)
    t = lab.merge(loc, on="pub_id", how="left")
    branches = sorted(lab["branch"].unique())
    if scores is not None and "high_value" in scores.columns:
        hv = scores.drop_duplicates("pub_id").set_index(scores.drop_duplicates("pub_id")["pub_id"].astype(str))["high_value"]
        t["hv"] = t["pub_id"].astype(str).map(hv).astype("boolean").fillna(False).astype(int)
    else:
        t["hv"] = np.nan
    if last_year is None:
        last_year = int(t["year"].max()) if t["year"].notna().any() else 0
    world = t.groupby("branch")["pub_id"].nunique().reindex(branches, fill_value=0)
    frames = []
    for r in regions:  # a handful of regions, not patents
        sub = t[in_region(t, r)].assign(region=r.label, level=r.level)
        frames.append(sub)
    cols = ["region", "level", "branch", "count", "share", "structure", "rta", "high_value", "recent", "before",
            "growth"]
    if not branches:
        return pd.DataFrame(columns=cols)
    sel = pd.concat(frames, ignore_index=True)
    idx = pd.MultiIndex.from_product([[r.label for r in regions], branches], names=["region", "branch"])
    g = sel.groupby(["region", "branch"])
    out = pd.DataFrame({"count": g["pub_id"].nunique()}).reindex(idx, fill_value=0)
    out["high_value"] = (g["hv"].sum(min_count=1).reindex(idx).fillna(0) if scores is not None
                         and "high_value" in scores.columns else np.nan)
    yr = sel.assign(count=1).groupby(["region", "branch", "year"])["pub_id"].nunique().rename("count").reset_index()
    gr = growth(yr, last_year=last_year, window=window).set_index(["region", "branch"]).reindex(idx)
    out["recent"] = gr["recent"].fillna(0).astype(int)
    out["before"] = gr["before"].fillna(0).astype(int)
    out["growth"] = gr["growth"]
    mat = out["count"].unstack("branch").reindex(columns=branches).astype(float)
    out["share"] = (out["count"] / world.reindex(out.index.get_level_values("branch")).where(
        lambda w: w > 0).values).astype(float).round(6)
    out["structure"] = shares(mat, of="region").stack().reindex(idx).astype(float).round(6)
    out["rta"] = rta(mat, reference=world).stack().reindex(idx).astype(float).round(6)
    out = out.reset_index()
    out["level"] = out["region"].map({r.label: r.level for r in regions})
    order = {r.label: i for i, r in enumerate(regions)}
    out = out.sort_values(["region", "branch"], key=lambda s: s.map(order) if s.name == "region" else s)
    return out[cols].reset_index(drop=True)
