"""Per-project landscape: the project's patent set, filing trend, leaders and regional position.

Pure functions over DataFrames read from the industry database (the
``patent_overview`` view and the ``parties`` table), so the numbers here are the
numbers an analyst gets from ``patnav sql``. The project's industry scope is applied by
the classification stage when it runs before this one; until then the scope is the
project's filing-year window over the whole database (``scope_note`` says which).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from .config import LandscapeParams
from .errors import ConfigError
from .frames import mode_by
from .ingest.normalize import normalize_names
from .growth import growth_rate, windows
from .places import Region, in_region
from .project import ProjectConfig

__all__ = ["doubtful", "scope", "filing_trend", "top_parties", "region_mask", "region_table", "landscape",
           "run_stage"]

_REGION_COLS = {"country": "applicant_country", "province": "applicant_province",
                "city": "applicant_city", "district": "applicant_district"}


def doubtful(industries: pd.DataFrame) -> pd.Series:
    """Labels the text contradicts: the text model strongly disagrees with the codes (flag
    ``text_disagrees``), the concordance row requires keywords the text lacks
    (``keyword_missing``), or the text names what the industry leaves out (``off_scope``).

    Examples
    --------
    >>> doubtful(pd.DataFrame({"flag": [None, "text_disagrees", "keyword_missing", "subclass_only",
    ...                                 "subclass_only;off_scope"]})).tolist()
    [False, True, True, False, True]
    """
    if "flag" not in industries:
        return pd.Series(False, index=industries.index)
    return (industries["flag"].astype("string").str.contains("text_disagrees|keyword_missing|off_scope")
            .fillna(False).astype(bool))


def scope(overview: pd.DataFrame, project: ProjectConfig, industries: pd.DataFrame | None = None,
          min_confidence: float = 0.5, in_set: pd.Series | None = None, *,
          exclude_doubtful: bool = False) -> pd.DataFrame:
    """Publications of the project, filed (earliest priority) within ``years``.

    The set is the project's search result when it has a search strategy (``in_set``),
    else the publications labelled with its industry or branch (``industries``: the
    ``patent_industries`` view) at ``min_confidence`` or above, else — before any
    classification ran — every publication of the window. ``exclude_doubtful`` leaves out
    labels the text contradicts (:func:`doubtful`): kept in the database, not counted.
    """
    first, last = project.years
    pats = overview[overview["filing_year"].between(first, last)]
    if in_set is not None:
        pats = pats[pats["pub_id"].isin(in_set)]
    elif industries is not None:
        lab = industries[industries["confidence"] >= min_confidence]
        if exclude_doubtful:
            lab = lab[~doubtful(lab)]
        key = "branch" if "." in project.industry else "industry"
        pats = pats[pats["pub_id"].isin(lab.loc[lab[key] == project.industry, "pub_id"])]
    return pats.sort_values("pub_id", kind="stable").reset_index(drop=True)


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
    key = p["name_norm"]
    out = pd.DataFrame({
        "name": mode_by(key, p["name_raw"]),
        "party_type": mode_by(key, p["party_type"]),
        "publications": p.groupby("name_norm")["pub_id"].nunique(),
        "region": mode_by(key, p["region"]),
    }).rename_axis("name_norm").reset_index()
    return out.sort_values(["publications", "name_norm"], ascending=[False, True]).head(n).reset_index(drop=True)


def region_mask(patents: pd.DataFrame, region: Region) -> pd.Series:
    """Publications whose first applicant is located in ``region`` (:func:`pipeline.places.in_region`)."""
    return in_region(patents, region, _REGION_COLS)


def _growth(years: pd.Series, last_year: int, window: int) -> float:
    recent, before = windows(years, last_year, window)
    return growth_rate(int(recent.sum()), int(before.sum()))


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
    >>> from pipeline.places import parse_region
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
              params: LandscapeParams = LandscapeParams(), industries: pd.DataFrame | None = None,
              search_tables: dict | None = None) -> dict:
    """All landscape outputs of one project.

    Parameters
    ----------
    industries : DataFrame, optional
        The ``patent_industries`` view; without it the scope is the filing window only.
    search_tables : dict, optional
        Canonical ``patents``, ``classifications``, ``citations``: needed when the
        project has a search strategy (landscape expansion, :mod:`pipeline.classify.expand`).

    Returns
    -------
    dict
        ``scope`` (publications of the project), ``trend``, ``top_applicants``,
        ``top_inventors`` (in the project's region), ``regions`` (the project region,
        then its comparison regions), ``search`` (the expansion, empty without a search
        strategy) and ``metrics`` (a small dict for DVC, with the search's estimated
        precision and recall when there is one).
    """
    from .classify.expand import landscape_set, precision_recall

    metrics: dict = {}
    expansion = pd.DataFrame(columns=["pub_id", "level", "via", "p", "in_set"])
    in_set = None
    if project.search and search_tables is not None:
        expansion = landscape_set(search_tables["patents"], search_tables["classifications"],
                                  search_tables["citations"], project.search, params.expand)
        in_set = expansion.loc[expansion["in_set"], "pub_id"]
        metrics["search"] = _search_quality(overview, project, industries, in_set, params)
    pats = scope(overview, project, industries, params.min_confidence, in_set,
                 exclude_doubtful=params.exclude_doubtful)
    if industries is not None and in_set is None and params.exclude_doubtful:
        # How many the doubtful labels took out: the report's method section says it.
        with_doubtful = scope(overview, project, industries, params.min_confidence)
        metrics["doubtful_excluded"] = int(len(with_doubtful) - len(pats))
    last_year = int(min(project.years[1], pats["filing_year"].max())) if len(pats) else project.years[1]
    regions = region_table(pats, [project.region, *project.compare], last_year, params.growth_window)
    local = pats[region_mask(pats, project.region)]
    out = {
        "scope": pats[["pub_id", "filing_year", "country", "patent_type", "family_id"]],
        "trend": filing_trend(pats),
        "top_applicants": top_parties(parties, pats["pub_id"], ("applicant", "assignee"), params.top_n),
        "top_inventors": top_parties(parties, local["pub_id"], ("inventor",), params.top_n),
        "regions": regions,
        "search": expansion,
    }
    metrics.update({
        "publications": len(pats),
        "families": int(pats["family_id"].nunique()),
        "region_publications": int(regions["publications"].iloc[0]),
        "region_share": float(regions["share"].iloc[0]) if len(pats) else 0.0,
        "scope": "search" if in_set is not None else ("industry labels" if industries is not None else "filing window"),
    })
    if project.enterprise:
        key = normalize_names(pd.Series([project.enterprise]))[0]
        own = parties[(parties["name_norm"] == key) & parties["role"].isin(["applicant", "assignee"])]
        metrics["enterprise_publications"] = int(own.loc[own["pub_id"].isin(pats["pub_id"]), "pub_id"].nunique())
    out["metrics"] = metrics
    return out


def _search_quality(overview, project, industries, in_set, params) -> dict:
    """Precision and recall of the search on a seeded random sample of the window.

    No hand-judged sample ships with a project, so the code-derived industry labels
    stand in for relevance (``judged_by``); an analyst's own judgement replaces them by
    passing a sample with a ``relevant`` column to
    :func:`pipeline.classify.expand.precision_recall`.
    """
    from .classify.expand import precision_recall

    first, last = project.years
    window = overview.loc[overview["filing_year"].between(first, last), "pub_id"]
    if industries is None or window.empty:
        return {"judged_by": "none (no labels)"}
    key = "branch" if "." in project.industry else "industry"
    rel = industries.loc[(industries[key] == project.industry) & (industries["source"] != "text"), "pub_id"]
    # Stratified: half from the set, half from the rest, so both figures rest on enough cases.
    inside = window[window.isin(in_set)]
    outside = window[~window.isin(in_set)]
    half = params.pr_sample // 2
    sample = pd.concat([inside.sample(min(half, len(inside)), random_state=params.random_state),
                        outside.sample(min(half, len(outside)), random_state=params.random_state)])
    judged = pd.DataFrame({"pub_id": sample.values, "relevant": sample.isin(rel).astype(int).values})
    pr = precision_recall(in_set, judged)
    # Re-weight recall for the stratification: relevant outside the set are under-sampled.
    w_in = len(inside) / max(min(half, len(inside)), 1)
    w_out = len(outside) / max(min(half, len(outside)), 1)
    tp = pr["true_positives"] * w_in
    fn = (pr["relevant"] - pr["true_positives"]) * w_out
    pr["recall"] = round(tp / (tp + fn), 4) if (tp + fn) else float("nan")
    pr["judged_by"] = "code-derived industry labels (rule), stratified sample"
    return pr


def _read_database(con, project: ProjectConfig) -> dict:
    """What a project's landscape reads from the industry database (see :func:`run_stage`)."""
    from . import db

    overview = db.frame(con, "SELECT * FROM patent_overview")
    parties = db.frame(con, "SELECT * FROM parties")
    has_labels = con.execute("SELECT count(*) FROM information_schema.tables "
                             "WHERE table_name = 'patent_industries'").fetchall()[0][0] > 0
    industries = db.frame(con, "SELECT * FROM patent_industries") if has_labels else None
    search = None
    if project.search:  # the landscape expansion needs texts, codes and citations
        search = {t: db.frame(con, f"SELECT * FROM {t}") for t in ("patents", "classifications", "citations")}
    tables = {t[0] for t in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    # The project's own citations, for its region's dependence on outside technology.
    net_edges = db.frame(con, "SELECT citing, cited FROM network_edges ORDER BY src, dst") \
        if "network_edges" in tables else None
    scored = None
    if {"score_patents", "score_inventors", "labels"} <= tables:
        scored = {
            "scores": {"patents": db.frame(con, "SELECT pub_id, high_value FROM score_patents"),
                       "inventors": db.frame(con, "SELECT * FROM score_inventors")},
            # positioning needs each publication's filing year: the overview has it
            "tables": {"patents": overview[["pub_id", "filing_year"]], "parties": parties},
            "labels": db.frame(con, "SELECT * FROM labels"),
        }
    return {"overview": overview, "parties": parties, "industries": industries, "search": search,
            "net_edges": net_edges, "scored": scored}


def run_stage(params: dict, root, name: str) -> list:
    """One project's landscape stage as ``dvc repro landscape@NAME`` runs it (``patnav project
    run NAME``): the project's part of the industry database (``database.path``) through
    :func:`landscape`, with the score stage's regional positioning and talent candidates
    (:func:`pipeline.score.run.project_views`) and the region's dependence on outside
    technology (:func:`pipeline.network.run.project_dependence`) when those stages' tables
    are in the database; written under ``data/processed/NAME/``.

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.
    name : str
        A project of ``projects`` (else :class:`~pipeline.errors.ConfigError`).

    Returns
    -------
    list of Path
        The files written.
    """
    from . import db, io
    from .config import project_dir

    if name not in params["projects"]:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(params['projects'])}")
    project = params["projects"][name]
    with db.connect(root / params["database"].path) as con:
        d = _read_database(con, project)
    result = landscape(d["overview"], d["parties"], project, params["landscape"], industries=d["industries"],
                       search_tables=d["search"])
    if d["scored"] is not None:
        from .score.run import project_views

        scored = d["scored"]
        result.update(project_views(project, scored["scores"], scored["tables"], scored["labels"], params["score"]))
    if d["net_edges"] is not None:
        from .network.run import project_dependence

        result["metrics"]["knowledge_dependence"] = project_dependence(
            d["net_edges"], d["parties"], d["overview"]["pub_id"], result["scope"]["pub_id"], project.region)
    return io.write_project_outputs(result, project_dir(name, root))
