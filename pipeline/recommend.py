"""Recommendation rules of the navigation reports: who and what is recommended, on what evidence.

A district IP office reads every recommendation as a claim it may have to defend, so each
rule states its minimums (``params.yaml`` ``report.recommend``) and every function returns
the rows that pass together with the reason when none does. The rules:

* **branches to strengthen** — the region is weak (RTA < 1) in a branch the field is not
  leaving. An RTA is interpreted only when the region holds ``min_region_patents`` in the
  project's set; a growth rate only when the base window holds ``min_growth_base`` patents
  and the windows end at the last complete filing year (publication lag; see
  :func:`last_complete_year`).
* **firms to attract** — enterprises outside the region with ``min_firm_patents`` in a
  branch to strengthen, active (a filing) within ``active_years`` of the project's end.
* **firms to cultivate** — enterprises of the region with ``min_firm_patents`` in the set;
  hospitals, universities, institutes, government bodies and individuals are not firms.
* **talent** — inventors with ``min_inventor_patents`` patent families, active within
  ``active_years``; co-inventors of one patent are not talent pools.
* **technology to license** — alive patents of universities and research institutes
  outside the region, in the project's years, whose label is not doubtful and whose value
  index is in the top ``license_top_share`` of the project's set.
* **portfolios near the high-value test** — organisations (not individuals) of the region
  with ``min_firm_patents`` in the industry.
* **competitors** (enterprise reports) — enterprises with ``min_firm_patents`` in the
  enterprise's branches within the project's set (so its years), ranked by overlap of
  branches × size; **risk patents** — their alive patents that cite or are cited by the
  enterprise's patents or share a main IPC group with them.

All functions are pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Rules
from .errors import ProjectDataError

__all__ = [
    "check_enterprise",
    "competitors",
    "branch_position",
    "risk_patents",
    "Picked",
    "last_complete_year",
    "data_cutoff",
    "judge",
    "group_types",
    "branches_to_strengthen",
    "strengths",
    "firms_to_attract",
    "firms_to_cultivate",
    "talent_to_recruit",
    "license_candidates",
    "one_per_family",
    "portfolios_near_test",
]

#: Applicant types that are firms (the others cannot be "grown" or "attracted" as firms).
FIRM_TYPES = frozenset({"enterprise"})
#: Holders whose technology is offered for licence (technology transfer offices).
LICENSOR_TYPES = frozenset({"university", "research_institute"})


@dataclass
class Picked:
    """Rows a rule recommends, and why the table is empty when it is."""

    rows: pd.DataFrame
    reason: str | None = None  # a key of the report texts (``why.*``) when ``rows`` is empty
    values: dict | None = None  # the numbers the reason quotes

    def __bool__(self) -> bool:
        return len(self.rows) > 0


def _pick(rows: pd.DataFrame, reason: str, **values) -> Picked:
    return Picked(rows.reset_index(drop=True), None if len(rows) else reason, values)


def last_complete_year(latest_publication, lag_months: int = 18) -> int | None:
    """The last filing year whose applications are all published by ``latest_publication``.

    Applications publish up to ~18 months after filing, so a year is complete only when
    its last day lies ``lag_months`` before the latest publication in the data.

    Examples
    --------
    >>> last_complete_year("2024-06-30")   # 18 months back: 2022-12-30 — 2022 not yet whole
    2021
    >>> last_complete_year("2024-07-01")   # 2023-01-01: 2022 complete
    2022
    """
    if latest_publication is None or pd.isna(latest_publication):
        return None
    cut = pd.Timestamp(latest_publication) - pd.DateOffset(months=lag_months)
    return cut.year - 1 if (cut.month, cut.day) != (12, 31) else cut.year


def data_cutoff(shares: pd.Series, latest: pd.Series, min_share: float = 0.3):
    """A patent set's data cut-off: the earliest last publication among its main sources.

    Each export ends on its own date (a 2016 Lens export, a 2024 incoPat one). The trend
    of a set is carried by its main sources, those holding ``min_share`` of it (else its
    largest): the set is complete up to the earliest end among them. A minor source that
    ended earlier thins the last years a little; the report names the cut-off it used.

    Parameters
    ----------
    shares : Series
        Share of the set per source.
    latest : Series
        Latest publication date per source (of the whole database: the export's end).

    Examples
    --------
    >>> latest = pd.to_datetime(pd.Series({"lens": "2016-12-31", "cn_export": "2024-03-28", "uspto_xml": "2013-04-16"}))
    >>> data_cutoff(pd.Series({"lens": 0.85, "cn_export": 0.12, "uspto_xml": 0.03}), latest)
    Timestamp('2016-12-31 00:00:00')
    >>> data_cutoff(pd.Series({"cn_export": 0.7, "lens": 0.2, "uspto_xml": 0.1}), latest)
    Timestamp('2024-03-28 00:00:00')
    >>> data_cutoff(pd.Series({"cn_export": 0.25, "lens": 0.2}), latest, min_share=0.3)  # the largest
    Timestamp('2024-03-28 00:00:00')
    """
    main = shares[shares >= min_share].index
    if not len(main) and len(shares):
        main = shares.sort_values(ascending=False, kind="stable").index[:1]  # no main source: the largest
    dates = pd.to_datetime(latest.reindex(main)).dropna()
    return dates.min() if len(dates) else None


def judge(n, minimum: int) -> bool:
    """Whether a figure resting on ``n`` patents may be interpreted (``n ≥ minimum``)."""
    return bool(pd.notna(n) and n >= minimum)


def group_types(patents: pd.DataFrame) -> pd.Series:
    """Applicant type per first applicant: the type it carries most often (ties: alphabetical).

    Examples
    --------
    >>> p = pd.DataFrame({"first_applicant": ["A", "A", "A", "B"],
    ...                   "first_applicant_type": ["enterprise", "enterprise", "unknown", "hospital"]})
    >>> group_types(p).to_dict()
    {'A': 'enterprise', 'B': 'hospital'}
    """
    df = patents[["first_applicant", "first_applicant_type"]].dropna()
    if df.empty:
        return pd.Series(dtype=object)
    counts = df.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["first_applicant", "n", "first_applicant_type"], ascending=[True, False, True],
                                kind="stable")
    return counts.drop_duplicates("first_applicant").set_index("first_applicant")["first_applicant_type"].rename(None)


def branches_to_strengthen(own: pd.DataFrame, field: pd.DataFrame, rules: Rules) -> Picked:
    """Branches where the region is weak and the field is not shrinking.

    Parameters
    ----------
    own : DataFrame
        The region's rows of the positioning table: ``branch``, ``count``, ``rta``.
    field : DataFrame
        The project set per branch: ``branch``, ``count``, ``before`` (patents of the
        earlier growth window), ``growth``.

    Returns
    -------
    Picked
        Columns ``branch, count, rta, field_count, field_before, field_growth,
        growth_judged``, weakest-but-growing first. A growth on fewer than
        ``min_growth_base`` patents is kept as a number but not used to rank (``growth_judged``
        false) and is never the reason a branch is picked.
    """
    cols = ["branch", "count", "rta", "field_count", "field_before", "field_growth", "growth_judged"]
    if own is None or not len(own):
        return _pick(pd.DataFrame(columns=cols), "why.no_positioning")
    f = field.rename(columns={"count": "field_count", "before": "field_before", "growth": "field_growth"})
    df = own[["branch", "count", "rta"]].merge(f[["branch", "field_count", "field_before", "field_growth"]],
                                               on="branch", how="left")
    region_total = int(df["count"].sum())
    if region_total < rules.min_region_patents:
        return _pick(pd.DataFrame(columns=cols), "why.region_too_small", n=region_total, min=rules.min_region_patents)
    df["growth_judged"] = df["field_before"].fillna(0) >= rules.min_growth_base
    judged_growth = df["field_growth"].where(df["growth_judged"])
    weak = df["rta"].fillna(0) < 1
    not_leaving = ~(judged_growth < 0)
    df = df[weak & not_leaving].assign(_g=judged_growth[weak & not_leaving])
    df = df.sort_values(["_g", "field_count", "branch"], ascending=[False, False, True], kind="stable",
                        na_position="last")
    return _pick(df[cols].head(rules.top), "why.no_weak_branch")


def strengths(own: pd.DataFrame, rules: Rules) -> dict[str, list[str]]:
    """The region's branches as strong, weak or too few to judge.

    Strong: RTA ≥ 1 on at least ``min_region_patents`` of the region's patents in the
    branch. Weak: RTA < 1 while the region holds ``min_region_patents`` in the field (a
    zero where the region is active elsewhere is a finding). Every other branch is
    "too few": its RTA is printed, not interpreted.

    Examples
    --------
    >>> own = pd.DataFrame({"branch": ["a", "b", "c"], "count": [6, 3, 0], "rta": [1.75, 1.2, 0.0]})
    >>> strengths(own, Rules(min_region_patents=5))
    {'strong': ['a'], 'weak': ['c'], 'too_few': ['b']}
    """
    out = {"strong": [], "weak": [], "too_few": []}
    if own is None or not len(own):
        return out
    total = own["count"].sum()
    for _, r in own.iterrows():
        if pd.notna(r["rta"]) and r["rta"] >= 1 and r["count"] >= rules.min_region_patents:
            out["strong"].append(r["branch"])
        elif pd.notna(r["rta"]) and r["rta"] < 1 and total >= rules.min_region_patents:
            out["weak"].append(r["branch"])
        else:
            out["too_few"].append(r["branch"])
    return out


def _alive(patents: pd.DataFrame) -> pd.Series:
    """In force: the legal status says so, else presumed from the statutory term (US data)."""
    presumed = patents["alive_presumed"].astype("boolean") if "alive_presumed" in patents else False
    return patents["alive"].astype("boolean").fillna(presumed).fillna(False).astype(bool)


def one_per_family(ranked: pd.DataFrame) -> pd.DataFrame:
    """The first row of each patent family in an already ranked frame (an application and
    its grant are one invention, listed once); without ``family_id``, rows stay as they are.

    Examples
    --------
    >>> f = pd.DataFrame({"pub_id": ["CN1A", "CN1B", "CN2A"], "family_id": ["CN1", "CN1", None]})
    >>> one_per_family(f)["pub_id"].tolist()
    ['CN1A', 'CN2A']
    """
    if "family_id" not in ranked:
        return ranked
    key = ranked["family_id"].astype("string").fillna(ranked["pub_id"].astype("string"))
    return ranked[~key.duplicated()]


def _granted_first(p: pd.DataFrame) -> pd.Series:
    """0 for a grant publication (kind B or C), 1 otherwise: within equal values the grant leads."""
    return (~p["pub_id"].astype(str).str.contains(r"[BC]\d?$", regex=True)).astype(int)


def _active(last_year: pd.Series, project_end: int, rules: Rules) -> pd.Series:
    return last_year.fillna(-1) >= project_end - rules.active_years + 1


def firms_to_attract(portfolios: pd.DataFrame, patents: pd.DataFrame, branches, local_groups, types: pd.Series,
                     project_end: int, rules: Rules) -> Picked:
    """Enterprises outside the region strong in the branches to strengthen (each firm once).

    ``portfolios`` is the portfolio table per group and branch (``group, branch,
    publications, high_value, mean_value_index``); ``patents`` the project set (for each
    group's last filing year).
    """
    cols = ["group", "branch", "publications", "high_value", "mean_value_index", "last_year"]
    branches = list(branches)
    if not branches:
        return _pick(pd.DataFrame(columns=cols), "why.no_weak_branch")
    last = patents.groupby("first_applicant")["filing_year"].max()
    port = portfolios[portfolios["branch"].isin(branches) & ~portfolios["group"].isin(set(local_groups))].copy()
    port["type"] = port["group"].map(types)
    port["last_year"] = port["group"].map(last)
    ok = (port["type"].isin(FIRM_TYPES) & (port["publications"] >= rules.min_firm_patents)
          & _active(port["last_year"], project_end, rules))
    port = port[ok].sort_values(["publications", "mean_value_index", "group"], ascending=[False, False, True],
                                kind="stable", na_position="last")
    port = port.drop_duplicates("group")  # a firm once, with its strongest branch to strengthen
    return _pick(port[cols].head(rules.top), "why.no_firm_to_attract", min=rules.min_firm_patents,
                 years=rules.active_years)


def firms_to_cultivate(patents: pd.DataFrame, local_mask: pd.Series, types: pd.Series, project_end: int,
                       rules: Rules) -> Picked:
    """Enterprises of the region with enough patents in the project set."""
    cols = ["group", "count", "high_value", "value", "first_year", "last_year"]
    local = patents[np.asarray(local_mask, dtype=bool)]
    if local.empty:
        return _pick(pd.DataFrame(columns=cols), "why.no_local_patents")
    g = local.groupby("first_applicant").agg(
        count=("pub_id", "nunique"), high_value=("high_value", lambda s: int(s.fillna(False).astype(bool).sum())),
        value=("value_index", "mean"), first_year=("filing_year", "min"), last_year=("filing_year", "max"))
    g = g.rename_axis("group").reset_index()
    g["type"] = g["group"].map(types)
    ok = (g["type"].isin(FIRM_TYPES) & (g["count"] >= rules.min_firm_patents)
          & _active(g["last_year"], project_end, rules))
    g = g[ok].sort_values(["count", "value", "group"], ascending=[False, False, True], kind="stable",
                          na_position="last")
    return _pick(g[cols].head(rules.top), "why.no_local_firm", min=rules.min_firm_patents)


def talent_to_recruit(candidates: pd.DataFrame, project_end: int, rules: Rules) -> Picked:
    """Inventors with a record of their own: ``min_inventor_patents`` families, recently active."""
    if candidates is None or not len(candidates):
        return _pick(pd.DataFrame(columns=["name", "families", "patents", "last_year"]), "why.no_talent_data")
    c = candidates.copy()
    n = c["families"] if "families" in c else c["patents"]
    ok = (n.fillna(0) >= rules.min_inventor_patents) & _active(c["last_year"], project_end, rules)
    return _pick(c[ok].head(rules.top), "why.no_talent", min=rules.min_inventor_patents, years=rules.active_years)


def license_candidates(patents: pd.DataFrame, local_mask: pd.Series, years: tuple[int, int], rules: Rules,
                       doubtful: pd.Series | None = None) -> Picked:
    """Alive, valuable patents of universities and institutes outside the region.

    ``doubtful`` (bool per row of ``patents``) marks patents whose industry label the text
    contradicts; they are never offered as the industry's technology.
    """
    cols = ["pub_id", "title", "title_en", "first_applicant", "filing_year", "value_index"]
    p = patents if "title_en" in patents else patents.assign(title_en=None)
    if p.empty or p["value_index"].notna().sum() == 0:
        return _pick(pd.DataFrame(columns=cols), "why.no_value")
    cut = p["value_index"].quantile(1 - rules.license_top_share)
    ok = (_alive(p) & p["first_applicant_type"].isin(LICENSOR_TYPES) & ~np.asarray(local_mask, dtype=bool)
          & p["filing_year"].between(*years) & (p["value_index"] >= cut))
    if doubtful is not None:
        ok &= ~np.asarray(doubtful, dtype=bool)
    lic = p[ok].assign(_grant=_granted_first(p[ok]))
    lic = one_per_family(lic.sort_values(["value_index", "_grant", "pub_id"], ascending=[False, True, True],
                                         kind="stable"))
    return _pick(lic[cols].head(rules.top), "why.no_licensor", share=rules.license_top_share)


def portfolios_near_test(portfolios: pd.DataFrame, local_groups, types: pd.Series, rules: Rules) -> Picked:
    """The region's organisations closest to the high-value-portfolio test (individuals left out)."""
    cols = ["group", "inventions", "pct", "missing_inventions", "missing_pct"]
    pi = portfolios[portfolios["group"].isin(set(local_groups))].copy()
    pi["type"] = pi["group"].map(types)
    ok = pi["type"].notna() & ~pi["type"].isin({"individual", "unknown"}) & (pi["inventions"] >= rules.min_firm_patents)
    pi = pi[ok].sort_values(["missing_inventions", "missing_pct", "group"], kind="stable")
    return _pick(pi[cols].head(rules.top), "why.no_local_portfolio", min=rules.min_firm_patents)


def check_enterprise(enterprise: str, n_patents: int, rules: Rules) -> None:
    """Refuse an enterprise report on too few of the enterprise's patents.

    Raises
    ------
    pipeline.errors.ProjectDataError
        With the count found and what to try (an alias, wider years, more exports).

    Examples
    --------
    >>> check_enterprise("某公司", 7, Rules(min_enterprise_patents=5))
    """
    if n_patents < rules.min_enterprise_patents:
        raise ProjectDataError(
            f"enterprise {enterprise!r}: {n_patents} of its patents are in the project's set, fewer than "
            f"report.recommend.min_enterprise_patents = {rules.min_enterprise_patents}; an enterprise report "
            "on so few would not be defensible. Add the names it files under to pipeline/data/applicant_aliases.yaml, "
            "widen the project's years or industry, or ingest an export of its patents.")


def _branch_counts(labels: pd.DataFrame, patents: pd.DataFrame) -> pd.DataFrame:
    """(pub_id, branch, first_applicant) once each, for the patents of the set."""
    lab = labels[["pub_id", "branch"]].dropna().drop_duplicates()
    return lab.merge(patents[["pub_id", "first_applicant"]], on="pub_id")


def competitors(patents: pd.DataFrame, labels: pd.DataFrame, own_ids, types: pd.Series, rules: Rules) -> Picked:
    """Enterprises filing in the enterprise's branches, by overlap of branches and size.

    ``overlap`` is the cosine of the two branch-count vectors (1: the same mix of branches);
    ``patents`` counts the competitor's patents in the enterprise's branches; the ranking
    score is their product.

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": list("abcdefg"), "first_applicant": list("OOXXXYZ")})
    >>> lab = pd.DataFrame({"pub_id": list("abcdefg"), "branch": ["b1", "b2", "b1", "b2", "b1", "b1", "b1"]})
    >>> types = pd.Series({"O": "enterprise", "X": "enterprise", "Y": "enterprise", "Z": "individual"})
    >>> got = competitors(p, lab, ["a", "b"], types, Rules(min_firm_patents=1)).rows
    >>> got[["group", "patents", "overlap"]].round(3).values.tolist()
    [['X', 3, 0.949], ['Y', 1, 0.707]]
    """
    cols = ["group", "patents", "branches", "overlap", "score"]
    lab = _branch_counts(labels, patents)
    own_ids = set(own_ids)
    own = lab[lab["pub_id"].isin(own_ids)]
    if own.empty:
        return _pick(pd.DataFrame(columns=cols), "why.no_own_branches")
    mine = own.groupby("branch")["pub_id"].nunique()
    others = lab[~lab["pub_id"].isin(own_ids) & lab["branch"].isin(mine.index)]
    others = others[others["first_applicant"].map(types).isin(FIRM_TYPES)]
    if others.empty:
        return _pick(pd.DataFrame(columns=cols), "why.no_competitor", min=rules.min_firm_patents)
    per = others.groupby(["first_applicant", "branch"])["pub_id"].nunique().unstack(fill_value=0)
    v = mine.reindex(per.columns, fill_value=0).to_numpy(dtype=float)
    m = per.to_numpy(dtype=float)
    overlap = (m @ v) / (np.linalg.norm(m, axis=1) * np.linalg.norm(v))
    out = pd.DataFrame({"group": per.index, "patents": others.groupby("first_applicant")["pub_id"].nunique()
                        .reindex(per.index).to_numpy(), "branches": (m > 0).sum(axis=1), "overlap": overlap})
    out["score"] = out["overlap"] * out["patents"]
    out = out[out["patents"] >= rules.min_firm_patents].sort_values(["score", "group"], ascending=[False, True],
                                                                     kind="stable")
    return _pick(out[cols].head(rules.top), "why.no_competitor", min=rules.min_firm_patents)


def branch_position(patents: pd.DataFrame, labels: pd.DataFrame, own_ids, rivals) -> pd.DataFrame:
    """Per branch of the set: the enterprise's patents, its share, the strongest rival and RPP.

    ``rpp`` = the enterprise's patents / the strongest rival's in the branch (Ernst's
    relative patent position on counts): ≥ 1 leads, < 1 follows; null where no rival files.

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": list("abcde"), "first_applicant": list("OOOXY")})
    >>> lab = pd.DataFrame({"pub_id": list("abcde"), "branch": ["b1", "b1", "b2", "b1", "b2"]})
    >>> branch_position(p, lab, ["a", "b", "c"], ["X", "Y"]).values.tolist()
    [['b1', 2, 3, 0.6667, 'X', 1, 2.0], ['b2', 1, 2, 0.5, 'Y', 1, 1.0]]
    """
    lab = _branch_counts(labels, patents)
    own_ids, rivals = set(own_ids), set(rivals)
    total = lab.groupby("branch")["pub_id"].nunique()
    own = lab[lab["pub_id"].isin(own_ids)].groupby("branch")["pub_id"].nunique()
    riv = lab[lab["first_applicant"].isin(rivals) & ~lab["pub_id"].isin(own_ids)]
    riv = riv.groupby(["branch", "first_applicant"])["pub_id"].nunique().rename("n").reset_index()
    riv = riv.sort_values(["branch", "n", "first_applicant"], ascending=[True, False, True], kind="stable")
    top = riv.drop_duplicates("branch").set_index("branch")
    out = pd.DataFrame({"branch": total.index, "own": own.reindex(total.index, fill_value=0).to_numpy(),
                        "total": total.to_numpy()})
    out["share"] = (out["own"] / out["total"]).round(4)
    out["rival"] = out["branch"].map(top["first_applicant"])
    out["rival_count"] = out["branch"].map(top["n"]).astype("Int64")
    out["rpp"] = (out["own"] / out["rival_count"].astype(float)).round(4)
    return out[(out["own"] > 0) | out["rival"].notna()].reset_index(drop=True)


def _main_group(symbol: pd.Series) -> pd.Series:
    return symbol.astype("string").str.extract(r"^([A-HY]\d{2}[A-Z]\d{1,4})", expand=False)


def risk_patents(patents: pd.DataFrame, own_ids, rivals, citations: pd.DataFrame, rules: Rules) -> Picked:
    """Alive patents of competitors linked to the enterprise's patents.

    Linked: it cites or is cited by one of the enterprise's patents (``citations``:
    ``citing``, ``cited``), or shares a main IPC group (``main_ipc``) with them.
    ``link`` says which, citations first.
    """
    cols = ["pub_id", "title", "title_en", "first_applicant", "filing_year", "value_index", "link"]
    own_ids, rivals = set(own_ids), set(rivals)
    if not rivals:
        return _pick(pd.DataFrame(columns=cols), "why.no_competitor", min=rules.min_firm_patents)
    p = patents[patents["first_applicant"].isin(rivals) & ~patents["pub_id"].isin(own_ids)].copy()
    if "title_en" not in p:
        p["title_en"] = None
    p = p[_alive(p)]
    cited_by_own = set(citations.loc[citations["citing"].isin(own_ids), "cited"])
    citing_own = set(citations.loc[citations["cited"].isin(own_ids), "citing"])
    groups = set(_main_group(patents.loc[patents["pub_id"].isin(own_ids), "main_ipc"]).dropna())
    link = np.where(p["pub_id"].isin(cited_by_own), "cited_by_own",
                    np.where(p["pub_id"].isin(citing_own), "cites_own",
                             np.where(_main_group(p["main_ipc"]).isin(groups).fillna(False), "same_group", "")))
    p["link"] = link
    p = p[p["link"] != ""]
    p["_rank"] = p["link"].map({"cited_by_own": 0, "cites_own": 1, "same_group": 2})
    p["_grant"] = _granted_first(p)
    p = one_per_family(p.sort_values(["_rank", "value_index", "_grant", "pub_id"], ascending=[True, False, True, True],
                                     kind="stable", na_position="last"))
    return _pick(p[cols].head(rules.top), "why.no_risk")
