"""Per-project landscape: the project's patent set, filing trend, leaders and regional position.

Pure functions over DataFrames read from the industry database (the
``patent_overview`` view and the ``parties`` table), so the numbers here are the
numbers an analyst gets from ``patnav sql``. The project's industry scope is applied by
the classification stage when it runs before this one; until then the scope is the
project's filing-year window over the whole database (``scope_note`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ingest.normalize import normalize_names
from .project import ProjectConfig, Region

__all__ = ["LandscapeParams", "scope", "filing_trend", "top_parties", "region_mask", "region_table", "landscape"]

_REGION_COLS = {"country": "applicant_country", "province": "applicant_province",
                "city": "applicant_city", "district": "applicant_district"}


@dataclass(frozen=True)
class LandscapeParams:
    """Tunables of the landscape stage (``params.yaml``, section ``landscape``)."""

    top_n: int = 20
    growth_window: int = 3


def scope(overview: pd.DataFrame, project: ProjectConfig) -> pd.DataFrame:
    """Publications of the project: filing year (earliest priority) within ``years``."""
    first, last = project.years
    year = overview["filing_year"]
    return overview[year.between(first, last)].sort_values("pub_id", kind="stable").reset_index(drop=True)


def filing_trend(patents: pd.DataFrame) -> pd.DataFrame:
    """Publications and families per filing year, with the split by patent type.

    Examples
    --------
    >>> df = pd.DataFrame({"filing_year": [2020, 2020, 2021], "family_id": ["a", "a", "b"],
    ...                    "patent_type": ["invention", "invention", "utility_model"]})
    >>> filing_trend(df).to_dict("records")[0]
    {'filing_year': 2020, 'publications': 2, 'families': 1, 'invention': 2, 'utility_model': 0, 'design': 0}
    """
    cols = ["filing_year", "publications", "families", "invention", "utility_model", "design"]
    if patents.empty:
        return pd.DataFrame(columns=cols)
    g = patents.groupby("filing_year")
    out = pd.DataFrame({"publications": g.size(), "families": g["family_id"].nunique()})
    types = pd.crosstab(patents["filing_year"], patents["patent_type"])
    for t in ("invention", "utility_model", "design"):
        out[t] = types[t] if t in types else 0
    out = out.reset_index().astype({"filing_year": int})
    return out[cols].sort_values("filing_year").reset_index(drop=True)


def top_parties(parties: pd.DataFrame, pub_ids: pd.Series, roles: tuple[str, ...], n: int) -> pd.DataFrame:
    """The ``n`` parties (grouped by normalised name) with most publications in the set.

    Ties are broken by name so the order is stable.
    """
    p = parties[parties["role"].isin(roles) & parties["pub_id"].isin(pub_ids) & parties["name_norm"].notna()]
    if p.empty:
        return pd.DataFrame(columns=["name_norm", "name", "party_type", "publications", "region"])
    region = p["district"].fillna(p["city"]).fillna(p["province"]).fillna(p["country"])
    p = p.assign(region=region)
    g = p.groupby("name_norm")
    out = pd.DataFrame({
        "name": g["name_raw"].agg(lambda s: s.value_counts().index[0]),
        "party_type": g["party_type"].agg(lambda s: s.value_counts().index[0]),
        "publications": g["pub_id"].nunique(),
        "region": g["region"].agg(lambda s: s.value_counts().index[0] if s.notna().any() else None),
    }).reset_index()
    return out.sort_values(["publications", "name_norm"], ascending=[False, True]).head(n).reset_index(drop=True)


def region_mask(patents: pd.DataFrame, region: Region) -> pd.Series:
    """Publications whose first applicant is located in ``region``."""
    mask = pd.Series(True, index=patents.index)
    mask &= patents[_REGION_COLS["country"]].eq(region.country).fillna(False)
    for level in ("province", "city", "district"):
        value = getattr(region, level)
        if value:
            mask &= patents[_REGION_COLS[level]].eq(value).fillna(False)
    return mask.astype(bool)


def _growth(years: pd.Series, last_year: int, window: int) -> float:
    recent = years.between(last_year - window + 1, last_year).sum()
    before = years.between(last_year - 2 * window + 1, last_year - window).sum()
    return float((recent - before) / before) if before else np.nan


def region_table(patents: pd.DataFrame, regions: list[Region], last_year: int, window: int) -> pd.DataFrame:
    """Counts, share of the project's set, families, active years and growth per region.

    Growth compares the last ``window`` filing years of the project window with the
    ``window`` years before (``(recent − before) / before``; empty when ``before`` is 0).
    In the example, 江北区 has 1 filing in 2021–22 against 2 in 2019–20: (1 − 2) / 2 = −0.5.

    Examples
    --------
    >>> pats = pd.DataFrame({"filing_year": [2019, 2020, 2021, 2022], "family_id": list("abcd"),
    ...     "applicant_country": ["CN"] * 4, "applicant_province": ["重庆市"] * 4,
    ...     "applicant_city": ["重庆市"] * 4, "applicant_district": ["江北区", "江北区", "江北区", "渝北区"]})
    >>> from pipeline.project import parse_region
    >>> t = region_table(pats, [parse_region("重庆市江北区"), parse_region("重庆市")], 2022, 2)
    >>> t[["region", "publications", "share", "growth"]].values.tolist()
    [['重庆市江北区', 3, 0.75, -0.5], ['重庆市', 4, 1.0, 0.0]]
    """
    rows = []
    total = len(patents)
    for r in regions:
        sub = patents[region_mask(patents, r)]
        years = sub["filing_year"]
        rows.append({
            "region": r.label, "level": r.level, "publications": len(sub),
            "share": round(len(sub) / total, 6) if total else np.nan,
            "families": sub["family_id"].nunique(),
            "first_year": int(years.min()) if len(sub) else None,
            "last_year": int(years.max()) if len(sub) else None,
            "growth": _growth(years, last_year, window),
        })
    return pd.DataFrame(rows)


def landscape(overview: pd.DataFrame, parties: pd.DataFrame, project: ProjectConfig,
              params: LandscapeParams = LandscapeParams()) -> dict:
    """All landscape outputs of one project.

    Returns
    -------
    dict
        ``scope`` (publications of the project), ``trend``, ``top_applicants``,
        ``top_inventors`` (in the project's region), ``regions`` (the project region,
        then its comparison regions) and ``metrics`` (a small dict for DVC).
    """
    pats = scope(overview, project)
    last_year = int(min(project.years[1], pats["filing_year"].max())) if len(pats) else project.years[1]
    regions = region_table(pats, [project.region, *project.compare], last_year, params.growth_window)
    local = pats[region_mask(pats, project.region)]
    out = {
        "scope": pats[["pub_id", "filing_year", "country", "patent_type", "family_id"]],
        "trend": filing_trend(pats),
        "top_applicants": top_parties(parties, pats["pub_id"], ("applicant", "assignee"), params.top_n),
        "top_inventors": top_parties(parties, local["pub_id"], ("inventor",), params.top_n),
        "regions": regions,
    }
    metrics = {
        "publications": len(pats),
        "families": int(pats["family_id"].nunique()),
        "region_publications": int(regions["publications"].iloc[0]),
        "region_share": float(regions["share"].iloc[0]) if len(pats) else 0.0,
    }
    if project.enterprise:
        key = normalize_names(pd.Series([project.enterprise]))[0]
        own = parties[(parties["name_norm"] == key) & parties["role"].isin(["applicant", "assignee"])]
        metrics["enterprise_publications"] = int(own.loc[own["pub_id"].isin(pats["pub_id"]), "pub_id"].nunique())
    out["metrics"] = metrics
    return out
