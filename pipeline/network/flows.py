"""Knowledge flows between applicants and regions, and technology convergence.

A citation from patent ``u`` to document ``v`` is a flow of knowledge from ``v``'s owner
to ``u``'s owner. :func:`knowledge_flows` aggregates the citation graph (int64 arrays
``src`` → ``dst``, citing → cited) to pairs of groups — applicants, regions, clusters —
and flags self-citations; :func:`region_flows` does it for one level of the regional
hierarchy and :func:`dependence` reads a region's reliance on outside technology off the
result. :func:`ipc_cooccurrence` counts IPC codes assigned together, period by period,
the usual measure of technology convergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import FlowInputError, SchemaError
from ..places import LEVELS as REGION_LEVELS
from .clusters import check_edges

__all__ = [
    "Dependence",
    "knowledge_flows",
    "region_flows",
    "region_keys",
    "dependence",
    "ipc_cooccurrence",
]

# The columns of :func:`ipc_cooccurrence`'s table (also when there is nothing to count).
COOCCURRENCE_COLUMNS = ["period", "period_start", "period_end", "a", "b", "count", "n_a", "n_b", "n_patents",
                        "association", "jaccard"]


def knowledge_flows(src, dst, owner_of_node, self_flag: bool = True, *, weights=None, unknown=None) -> pd.DataFrame:
    """Citations aggregated to (citing group, cited group).

    Parameters
    ----------
    src, dst : array-like of int
        Edges citing → cited, node ids indexing ``owner_of_node``.
    owner_of_node : array-like
        One group per node (for a patent e.g. its normalised first applicant, a region,
        a cluster …); NaN/None when unknown.
    self_flag : bool
        Add a boolean column ``self``: citing and cited group are the same
        (self-citation).
    weights : array-like of float, optional
        Weight of every edge (default 1), e.g. for fractional counting.
    unknown : str, optional
        Group given to nodes without one. Default ``None`` drops citations with an
        unknown end, so the shares are over citations between known groups. A citation
        between two unknown owners is never flagged ``self``.

    Returns
    -------
    DataFrame
        ``citing_group``, ``cited_group``, ``citations`` (count, or sum of weights),
        ``share`` (of the citing group's citations in this table) and ``self``;
        sorted by decreasing ``citations``, then the groups.

    Examples
    --------
    Node 3's owner is unknown, so the citation 2 → 3 is dropped.

    >>> owner = ["BYD", "BYD", "CATL", None]
    >>> knowledge_flows([0, 0, 1, 2], [1, 2, 2, 3], owner)
      citing_group cited_group  citations     share   self
    0          BYD        CATL          2  0.666667  False
    1          BYD         BYD          1  0.333333   True
    """
    owners = pd.Series(owner_of_node, dtype=object)
    n = len(owners)
    src, dst = check_edges(n, src, dst, FlowInputError)
    if weights is None:
        w = np.ones(len(src), dtype=np.int64)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != src.shape:
            raise FlowInputError(f"weights has {w.size} entries for {src.size} edges")
    known = owners.where(owners.notna(), unknown).to_numpy(object)
    out = _count_pairs(known, src, dst) if weights is None else None  # rows in the table's order
    if out is None:
        frame = pd.DataFrame({"citing_group": known[src], "cited_group": known[dst], "citations": w})
        frame = frame.dropna(subset=["citing_group", "cited_group"])
        out = frame.groupby(["citing_group", "cited_group"], sort=False)["citations"].sum().reset_index()
        out["share"] = out["citations"] / out.groupby("citing_group")["citations"].transform("sum")
        out = out.sort_values(["citations", "citing_group", "cited_group"], ascending=[False, True, True],
                              kind="stable")
    out = out.reset_index(drop=True)
    if self_flag:
        same = out["citing_group"] == out["cited_group"]
        if unknown is not None:  # two unknown owners are not known to be the same
            same &= out["citing_group"] != unknown
        out["self"] = same.astype(bool)
    return out


def _count_pairs(groups: np.ndarray, src: np.ndarray, dst: np.ndarray) -> pd.DataFrame | None:
    """Citations per (citing group, cited group) counted on integer codes of the groups.

    Grouping millions of edges by two string columns was most of the flows' time; the
    groups are coded once per node instead and the pairs counted with ``bincount``.
    Counts are integers, so sums and shares are exactly those of a string ``groupby``.
    Rows come in the table's order — most citations first, then citing and cited group —
    sorted on the codes: the groups are coded in sorted order, so codes order like the
    names and no text column is sorted (seconds at 1M patents). ``None`` when no edge
    joins two known groups.

    >>> _count_pairs(np.array(["b", "a", None, "b"], dtype=object), np.array([0, 0, 1, 3]), np.array([1, 3, 2, 1]))
      citing_group cited_group  citations     share
    0            b           a          2  0.666667
    1            b           b          1  0.333333
    """
    codes, uniques = pd.factorize(groups, sort=True)  # unknown (None / NaN) -> -1
    cs, cd = codes[src], codes[dst]
    ok = (cs >= 0) & (cd >= 0)
    if not ok.any():
        return None
    g = np.int64(len(uniques))
    pair, inverse = np.unique(cs[ok].astype(np.int64) * g + cd[ok], return_inverse=True)
    count = np.bincount(inverse.ravel(), minlength=len(pair))
    # pairs come from np.unique sorted by (citing, cited): a stable sort by count finishes
    order = np.argsort(-count, kind="stable")
    pair, count = pair[order], count[order]
    citing, cited = pair // g, pair % g
    total = np.bincount(citing, weights=count, minlength=len(uniques)).astype(np.int64)
    values = np.asarray(uniques, dtype=object)
    return pd.DataFrame({"citing_group": values[citing], "cited_group": values[cited], "citations": count,
                         "share": count / total[citing]})


def region_keys(node_regions: pd.DataFrame, level: str = "province") -> pd.Series:
    """Region of every node at ``level``, as a path ``country/province/…``.

    Place names repeat (朝阳区 is in Beijing and in Changchun), so a region is identified
    by its path down to ``level``; a node without a value at ``level`` has none
    (``<NA>``). A missing value above ``level`` is written ``?``.

    Examples
    --------
    >>> r = pd.DataFrame({"country": ["CN", "CN", "US"], "province": ["北京市", "吉林省", None],
    ...                   "city": ["北京市", "长春市", None], "district": ["朝阳区", "朝阳区", None]})
    >>> region_keys(r, "district").tolist()
    ['CN/北京市/北京市/朝阳区', 'CN/吉林省/长春市/朝阳区', <NA>]
    """
    if level not in REGION_LEVELS:
        raise FlowInputError(f"level must be one of {REGION_LEVELS}, not {level!r}")
    cols = list(REGION_LEVELS[: REGION_LEVELS.index(level) + 1])
    missing = [c for c in cols if c not in node_regions.columns]
    if missing:
        raise SchemaError(f"node_regions lacks column(s): {', '.join(missing)}")
    parts = node_regions[cols].astype("string").apply(lambda s: s.str.strip()).replace("", pd.NA)
    path = parts[cols[0]].fillna("?")
    for c in cols[1:]:
        path = path + "/" + parts[c].fillna("?")
    return path.where(parts[level].notna()).astype("string").reset_index(drop=True)


def region_flows(graph_src, graph_dst, node_regions: pd.DataFrame, level: str = "province", *,
                 self_flag: bool = True, unknown=None) -> pd.DataFrame:
    """Knowledge flows between regions at one level of the hierarchy.

    ``node_regions`` has a row per node (row ``i`` = node ``i``) with columns
    ``country``, ``province``, ``city``, ``district`` (those down to ``level``); for a
    patent, its (first) applicant's location from the ``parties`` table. Groups are the
    paths of :func:`region_keys`; the result is :func:`knowledge_flows` plus a column
    ``level``.

    Examples
    --------
    >>> r = pd.DataFrame({"country": ["CN", "CN", "CN"], "province": ["江苏省", "江苏省", "广东省"]})
    >>> region_flows([0, 0, 1], [1, 2, 2], r, "province")[["citing_group", "cited_group", "citations", "self"]]
      citing_group cited_group  citations   self
    0       CN/江苏省      CN/广东省          2  False
    1       CN/江苏省      CN/江苏省          1   True
    """
    keys = region_keys(node_regions, level)
    out = knowledge_flows(graph_src, graph_dst, keys.astype(object).where(keys.notna(), None),
                          self_flag=self_flag, unknown=unknown)
    out.insert(0, "level", level)
    return out


@dataclass(frozen=True)
class Dependence:
    """A group's reliance on outside technology (see :func:`dependence`)."""

    region: str
    citations: float
    inside: float
    outside: float
    outside_share: float
    top_sources: pd.DataFrame


def _match_group(groups: pd.Series, region: str) -> str | None:
    if (groups == region).any():
        return region
    if "/" in region:
        return None
    hits = groups[groups.str.endswith("/" + region)].unique()
    if len(hits) > 1:
        raise FlowInputError(f"region {region!r} is ambiguous: {', '.join(sorted(hits)[:5])}; give its path")
    return hits[0] if len(hits) else None


def dependence(flows: pd.DataFrame, region: str, top: int = 5) -> Dependence:
    """How much of a region's citing goes to technology from outside it.

    Parameters
    ----------
    flows : DataFrame
        :func:`knowledge_flows` / :func:`region_flows` output.
    region : str
        The citing group: a path (``CN/江苏省/南京市/浦口区``) or, if unambiguous, its
        last part (``浦口区``).
    top : int
        How many outside sources to list.

    Returns
    -------
    Dependence
        ``citations`` made by the region, ``inside`` (to itself), ``outside`` (to other
        groups), ``outside_share`` = outside / citations (NaN without citations) and
        ``top_sources`` (``cited_group``, ``citations``, ``share`` of the region's
        citations). A region that made no citation gets zeros, not an error.

    Notes
    -----
    Only the citations in ``flows`` count: by default :func:`region_flows` leaves out
    citations of documents whose location is unknown (most foreign prior art below
    country level). Build the flows with ``unknown="(unknown)"`` to count those as
    outside.

    Examples
    --------
    >>> f = pd.DataFrame({"citing_group": ["CN/江苏省", "CN/江苏省", "CN/江苏省"],
    ...                   "cited_group": ["CN/广东省", "CN/江苏省", "US/?"], "citations": [3, 1, 1]})
    >>> d = dependence(f, "江苏省")
    >>> d.region, d.outside, d.outside_share
    ('CN/江苏省', 4, 0.8)
    >>> d.top_sources["cited_group"].tolist()
    ['CN/广东省', 'US/?']
    """
    missing = [c for c in ("citing_group", "cited_group", "citations") if c not in flows.columns]
    if missing:
        raise SchemaError(f"flows lacks column(s): {', '.join(missing)}")
    citing = flows["citing_group"].astype("string")
    name = _match_group(citing.dropna(), region) or region
    mine = flows[(citing == name).fillna(False).to_numpy()]
    inside_mask = (mine["cited_group"].astype("string") == name).fillna(False).to_numpy()
    total = mine["citations"].sum()
    inside = mine.loc[inside_mask, "citations"].sum()
    outside = total - inside
    src = mine.loc[~inside_mask, ["cited_group", "citations"]].groupby("cited_group", sort=False)["citations"].sum()
    src = src.reset_index().sort_values(["citations", "cited_group"], ascending=[False, True], kind="stable")
    src = src.head(top).reset_index(drop=True)
    src["share"] = src["citations"] / total if total else np.nan
    share = float(outside / total) if total else float("nan")
    return Dependence(name, _py(total), _py(inside), _py(outside), share, src)


def _py(x):
    """A numpy scalar as the Python number it holds."""
    return x.item() if isinstance(x, np.generic) else x


def ipc_cooccurrence(
    classifications: pd.DataFrame,
    patents: pd.DataFrame,
    level: str = "subclass",
    period_years: int = 5,
    *,
    start_year: int | None = None,
    scheme: str | None = "IPC",
) -> pd.DataFrame:
    """Pairs of IPC codes assigned to the same patents, per period of filing years.

    Parameters
    ----------
    classifications : DataFrame
        Canonical ``classifications`` (``pub_id`` and the ``level`` column; ``scheme``).
    patents : DataFrame
        ``pub_id`` and dates (earliest priority, else application, else publication
        date) or a ``filing_year`` column; patents without a year are left out.
    level : {"subclass", "main_group"}
        Code granularity.
    period_years : int
        Length of a period; periods start at ``start_year`` (default: the first year).
    scheme : str or None
        Classification scheme kept; ``None`` keeps all rows.

    Returns
    -------
    DataFrame
        ``period`` (``"2015-2019"``), ``period_start``, ``period_end``, ``a``, ``b``
        (``a < b``), ``count`` (patents carrying both), ``n_a``, ``n_b`` (patents
        carrying each), ``n_patents`` (classified patents of the period),
        ``association`` = ``count × n_patents / (n_a × n_b)``: observed over expected
        co-occurrence if the codes were independent (association strength, van Eck &
        Waltman 2009, scaled so 1 = chance) and ``jaccard`` =
        ``count / (n_a + n_b − count)``. Sorted by period, then decreasing count.

    Notes
    -----
    One sparse incidence matrix ``B`` (patents × (period, code)) puts each patent's
    codes in its period's block; ``Bᵀ·B`` is then block-diagonal and its upper triangle
    holds every period's pairs at once.

    Examples
    --------
    >>> cls = pd.DataFrame({"pub_id": ["p1", "p1", "p2", "p2", "p3"],
    ...                     "subclass": ["H01M", "B60L", "H01M", "B60L", "H01M"]})
    >>> pats = pd.DataFrame({"pub_id": ["p1", "p2", "p3"], "filing_year": [2020, 2021, 2021]})
    >>> ipc_cooccurrence(cls, pats, scheme=None)[["period", "a", "b", "count", "association", "jaccard"]]
          period     a     b  count  association   jaccard
    0  2020-2024  B60L  H01M      2          1.0  0.666667

    H01M is on every patent, so its pairing with B60L is exactly what chance gives (1.0).
    """
    from .clusters import _filing_year

    if level not in ("subclass", "main_group"):
        raise FlowInputError(f"level must be 'subclass' or 'main_group', not {level!r}")
    if int(period_years) != period_years or period_years < 1:
        raise FlowInputError(f"period_years must be a positive integer, not {period_years!r}")
    required = (("classifications", classifications, ["pub_id", level]), ("patents", patents, ["pub_id"]))
    for name, frame, cols in required:
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} lacks column(s): {', '.join(missing)}")
    columns = COOCCURRENCE_COLUMNS

    cls = classifications
    if scheme is not None and "scheme" in cls.columns:
        cls = cls[cls["scheme"] == scheme]
    years = pd.DataFrame({"pub_id": patents["pub_id"].astype("string"), "year": _filing_year(patents)})
    years = years.dropna().drop_duplicates("pub_id")
    inc = pd.DataFrame({"pub_id": cls["pub_id"].astype("string"), "code": cls[level].astype("string")}).dropna()
    inc = inc.drop_duplicates().merge(years, on="pub_id", how="inner")
    if inc.empty:
        return _empty_pairs(columns)
    first = int(inc["year"].min()) if start_year is None else int(start_year)
    inc = inc[inc["year"] >= first]
    if inc.empty:
        return _empty_pairs(columns)
    inc["period_start"] = first + (inc["year"].astype("int64") - first) // period_years * period_years

    pat_idx, pat_ids = pd.factorize(inc["pub_id"])
    # Columns sorted by (period, code): within a period the upper triangle has a < b.
    col_idx, col_keys = pd.factorize(pd.MultiIndex.from_frame(inc[["period_start", "code"]]), sort=True)
    b = sp.csr_matrix((np.ones(len(inc), dtype=np.int64), (pat_idx, col_idx)), shape=(len(pat_ids), len(col_keys)))
    c = sp.triu(b.T @ b, k=1).tocoo()
    n_code = np.asarray(b.sum(axis=0)).ravel()
    col_period = col_keys.get_level_values(0).to_numpy(np.int64)
    col_code = col_keys.get_level_values(1).to_numpy(object)
    n_pat = inc.drop_duplicates("pub_id").groupby("period_start").size()

    out = pd.DataFrame({
        "period_start": col_period[c.row],
        "a": col_code[c.row],
        "b": col_code[c.col],
        "count": c.data.astype(np.int64),
        "n_a": n_code[c.row].astype(np.int64),
        "n_b": n_code[c.col].astype(np.int64),
    })
    if out.empty:
        return _empty_pairs(columns)
    out["period_end"] = out["period_start"] + period_years - 1
    out["period"] = out["period_start"].astype(str) + "-" + out["period_end"].astype(str)
    out["n_patents"] = out["period_start"].map(n_pat).astype(np.int64)
    out["association"] = out["count"] * out["n_patents"] / (out["n_a"] * out["n_b"])
    out["jaccard"] = out["count"] / (out["n_a"] + out["n_b"] - out["count"])
    out = out.sort_values(["period_start", "count", "a", "b"], ascending=[True, False, True, True], kind="stable")
    return out[columns].reset_index(drop=True)


def _empty_pairs(columns: list[str]) -> pd.DataFrame:
    types = {"period": object, "a": object, "b": object, "association": "float64", "jaccard": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "int64")) for c in columns})
