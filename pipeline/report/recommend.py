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

All functions are pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import ConfigError, ProjectDataError

__all__ = [
    "Rules",
    "check_enterprise",
    "Picked",
    "last_complete_year",
    "judge",
    "group_types",
    "branches_to_strengthen",
    "strengths",
    "firms_to_attract",
    "firms_to_cultivate",
    "talent_to_recruit",
    "license_candidates",
    "portfolios_near_test",
]

#: Applicant types that are firms (the others cannot be "grown" or "attracted" as firms).
FIRM_TYPES = frozenset({"enterprise"})
#: Holders whose technology is offered for licence (technology transfer offices).
LICENSOR_TYPES = frozenset({"university", "research_institute"})


@dataclass(frozen=True)
class Rules:
    """Minimums of the recommendation rules (``params.yaml`` ``report.recommend``)."""

    min_region_patents: int = 5       # region's patents in a branch before its RTA is read
    min_growth_base: int = 10         # patents in the earlier window before a growth rate is read
    min_firm_patents: int = 3         # a firm's patents (in the branch / set) before it is named
    min_inventor_patents: int = 3     # an inventor's patent families before they are named
    active_years: int = 5             # a filing within N years of the project's last year
    license_top_share: float = 0.2    # licence candidates: value index in the set's top 20 %
    publication_lag_months: int = 18  # filings this recent are not all published yet
    top: int = 10                     # rows per table
    min_enterprise_patents: int = 5   # an enterprise report needs this many of the firm's patents

    @classmethod
    def from_params(cls, raw: dict | None) -> Rules:
        """Rules from the ``report.recommend`` mapping; unknown keys are refused."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"report.recommend: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        rules = cls(**raw)
        if not 0 < rules.license_top_share <= 1:
            raise ConfigError("report.recommend.license_top_share must be in (0, 1]")
        return rules


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
    cols = ["pub_id", "title", "first_applicant", "filing_year", "value_index"]
    p = patents
    if p.empty or p["value_index"].notna().sum() == 0:
        return _pick(pd.DataFrame(columns=cols), "why.no_value")
    cut = p["value_index"].quantile(1 - rules.license_top_share)
    alive = p["alive"].astype("boolean").fillna(p["alive_presumed"].astype("boolean") if "alive_presumed" in p
                                                else False).fillna(False).astype(bool)
    ok = (alive & p["first_applicant_type"].isin(LICENSOR_TYPES) & ~np.asarray(local_mask, dtype=bool)
          & p["filing_year"].between(*years) & (p["value_index"] >= cut))
    if doubtful is not None:
        ok &= ~np.asarray(doubtful, dtype=bool)
    lic = p[ok].sort_values(["value_index", "pub_id"], ascending=[False, True], kind="stable")
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
