"""The score stage: patent value, portfolios, regions and inventors, as tables.

:func:`score` is pure: canonical tables, industry labels and the network stage's node
table in, a dict of DataFrames out; :func:`run_stage` (the DVC stage, ``patnav score``)
writes them as Parquet and the database stage loads them (``score_<name>``). :func:`project_views` cuts the project-specific
parts (regional positioning, talent candidates) for one navigation project.

Tables
------
``patents``
    Per publication: the indicators (with ``<name>_missing`` flags), the cohort each was
    normalised in, the normalised values, ``value_index`` with one ``contrib_<name>``
    per component and an ``explanation``, and the CNIPA high-value flags with reasons.
``portfolios_industry`` / ``portfolios_branch``
    Applicant group × industry (branch): size, shares, PCT, high-value count, mean
    value index, breadth, age, growth, PAI, Relative Patent Position, and whether the
    portfolio passes the plan's high-value test (and how far it is).
``regions``
    Counts per region × branch × filing year at every level (country … district).
``concentration``
    CR4, CR8 and HHI of applicant groups per branch.
``inventors``
    Disambiguated inventors with productivity, high-value patents, citation impact,
    co-inventor centrality, branches, mobility and region.
``inventor_mentions``
    Every inventor mention with the inventor it was assigned to and the linking rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from . import TABLES
from . import indicators as ind
from . import portfolio as pf
from . import regions as rg
from . import talent as tl
from . import value as val
from ..ingest.merge import primary_source
from ..config import ScoreParams

__all__ = ["read_references", "read_score_tables", "score", "primary_labels",
           "family_countries", "project_views", "explain", "summary",
           "run_stage", "TABLES"]

LEVELS = ("country", "province", "city", "district")


def primary_labels(labels: pd.DataFrame, min_confidence: float = 0.5) -> pd.DataFrame:
    """Counted labels (confidence ≥ ``min_confidence``, not contradicted by the codes), and
    one primary (industry, branch) per publication for its cohort: the most confident
    label, a labelled branch before an industry-only one, then by name.

    Returns
    -------
    (DataFrame, DataFrame)
        All counted labels; the primary label per ``pub_id``.
    """
    ok = labels[(labels["confidence"].astype(float) >= min_confidence)
                & (labels["flag"].fillna("") != "codes_disagree")].copy()
    ok["pub_id"] = ok["pub_id"].astype(str)
    ranked = ok.assign(_nobranch=ok["branch"].isna()).sort_values(
        ["pub_id", "confidence", "_nobranch", "industry", "branch"], ascending=[True, False, True, True, True],
        kind="stable", na_position="last")
    primary = ranked.drop_duplicates("pub_id")[["pub_id", "industry", "branch"]].reset_index(drop=True)
    return ok.reset_index(drop=True), primary


def read_references(params: ScoreParams, root: Path) -> dict:
    """The reference files the score params name, read: ``aliases`` (applicant aliases and
    groups), ``gni`` (GNI by country), ``pledge`` and ``award`` (publication lists); None
    where params name no file. Paths are relative to ``root``.
    """
    root = Path(root)
    return {
        "aliases": pf.load_aliases(root / params.aliases) if params.aliases else None,
        "gni": pf.load_gni(root / params.gni) if params.gni else None,
        "pledge": val.read_id_list(root / params.pledge_list) if params.pledge_list else None,
        "award": val.read_id_list(root / params.award_list) if params.award_list else None,
    }


def score(tables: dict[str, pd.DataFrame], labels: pd.DataFrame, params: ScoreParams = ScoreParams(), *,
          forward: pd.DataFrame | None = None, references: dict | None = None) -> dict[str, pd.DataFrame]:
    """Score every publication, portfolio, region and inventor.

    Parameters
    ----------
    tables : dict of DataFrame
        Canonical tables (patents, parties, classifications, citations, npl, events).
    labels : DataFrame
        The classify stage's labels.
    params : ScoreParams
    forward : DataFrame, optional
        The network stage's node table (``node``, ``forward``, ``forward_window``), for
        forward citations counted once for the whole pipeline.
    references : dict, optional
        :func:`read_references` of ``params``: aliases, GNI, pledge and award lists
        (without it: no aliases, no GNI weighting, no lists).

    Returns
    -------
    dict of DataFrame
        Keys :data:`TABLES`.
    """
    ref = {"aliases": None, "gni": None, "pledge": None, "award": None, **(references or {})}
    patents = tables["patents"].copy()
    patents["pub_id"] = patents["pub_id"].astype(str)
    counted, primary = primary_labels(labels, params.min_confidence)
    as_of = params.as_of_date

    # --- per-patent value
    indicators = ind.patent_indicators(patents, tables["classifications"], tables["citations"], tables.get("npl"),
                                       tables.get("events"), forward=forward, as_of=as_of,
                                       window_years=params.window_years)
    indicators["pub_id"] = indicators["pub_id"].astype(str)
    values = indicators.merge(primary, on="pub_id", how="left")
    names = [k for k in params.weights if k in values]
    missing = set(params.weights) - set(names)
    if missing:
        raise ConfigError(f"score.weights name unknown indicator(s): {', '.join(sorted(missing))}; "
                          f"known: {', '.join(c for c in indicators.columns if c + '_missing' in indicators)}")
    numeric = values[names].apply(pd.to_numeric, errors="coerce").astype(float)
    norm = val.cohort_normalise(values[["pub_id", "year", "industry", "branch"]].join(numeric), names,
                                min_cohort=params.min_cohort, trim=params.trim)
    comp = val.composite_index(norm, {k: params.weights[k] for k in names})
    pledge, award = ref["pledge"], ref["award"]
    fam = family_countries(patents, tables.get("family_members"))
    hv = val.cnipa_high_value(patents, counted, fam, as_of=as_of, events=tables.get("events"), pledge_list=pledge,
                              award_list=award, pledge_min_amount=params.pledge_min_amount)
    hv["pub_id"] = hv["pub_id"].astype(str)
    scored = values.merge(norm[["pub_id", "cohort_level", "cohort", "cohort_size", *names]]
                          .rename(columns={k: f"norm_{k}" for k in names}), on="pub_id", how="left")
    scored = scored.merge(comp.drop(columns=[c for c in comp if c in scored and c != "pub_id"]), on="pub_id",
                          how="left")
    scored = scored.merge(hv.drop(columns=[c for c in hv if c in scored and c != "pub_id"]), on="pub_id", how="left")
    # Where a figure rests on a generated fixture (file names say "synthetic"), say so.
    prov = patents.set_index("pub_id")
    scored["source"] = scored["pub_id"].map(primary_source(prov["sources"]))
    scored["synthetic"] = scored["pub_id"].map(
        prov["provenance"].astype("string").str.contains("synthetic", case=False)).fillna(False).astype(bool)
    # The per-patent frames live on in ``scored``; freed before portfolios and inventors add theirs.
    del indicators, values, numeric, norm, comp, hv, prov

    # --- portfolios
    groups = pf.applicant_groups(tables["parties"], ref["aliases"])
    gni = ref["gni"]
    # Portfolios count live patents. US sources carry no legal status: a patent whose status
    # is unknown is presumed in force while inside its statutory term (``alive_presumed``);
    # the CNIPA flags above still demand a known valid status.
    life = pd.to_numeric(scored["remaining_life_years"], errors="coerce")
    presumed = scored["alive"].isna() & (life > 0).fillna(False)
    scored["alive_presumed"] = presumed
    hv_scores = scored[["pub_id", *[c for c in ("value_index", "high_value", "pct", "forward_5y") if c in scored]]]
    hv_scores = hv_scores.assign(alive=scored["alive"].astype("boolean").mask(presumed, True))
    out = {"patents": scored}
    for by in ("industry", "branch"):
        lab = counted.dropna(subset=[by]) if by == "branch" else counted.drop_duplicates(["pub_id", "industry"])
        port = pf.portfolios(patents, groups, lab, hv_scores, by=by, as_of=as_of.year,
                             growth_window=params.growth_window, gni=gni,
                             hv_thresholds=params.high_value_portfolio, strength=params.strength,
                             family_countries=fam)
        # Share of the portfolio resting on generated fixture records (0 on real data).
        syn = groups[["pub_id", "group"]].astype({"pub_id": str}).merge(lab[["pub_id", by]], on="pub_id").merge(
            scored[["pub_id", "synthetic"]], on="pub_id").groupby(["group", by])["synthetic"].mean()
        port = port.join(syn.rename("synthetic_share"), on=["group", by])
        out[f"portfolios_{by}"] = port  # carries the high-value test: hv_pass, missing_inventions, missing_pct

    # --- regions
    branch_labels = counted.dropna(subset=["branch"])
    parts = []
    located = rg.first_applicant_locations(tables["parties"])  # one pass for the four levels
    for level in LEVELS:
        t = rg.region_table(patents, tables["parties"], branch_labels, level=level, locations=located)
        parts.append(t.assign(level=level)[["level", "region", "branch", "year", "count"]])
    out["regions"] = pd.concat(parts, ignore_index=True)
    out["concentration"] = rg.concentration(rg.applicant_counts(groups, branch_labels, by="branch"), by="branch")

    # The portfolio and region intermediates go before the inventors add theirs (the peak).
    del groups, fam, hv_scores, located, branch_labels, parts, lab, port, syn, life, presumed

    # --- inventors
    mentions = tl.disambiguate_inventors(tables["parties"], patents)
    inv_scores = scored[["pub_id", "high_value", "forward_5y"]] if "forward_5y" in scored else None
    out["inventors"] = tl.inventor_metrics(mentions, patents, scores=inv_scores, labels=counted,
                                           parties=tables["parties"], as_of=as_of.year)
    out["inventor_mentions"] = mentions
    return {k: _plain(out[k]) for k in TABLES}


def family_countries(patents: pd.DataFrame, listed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table ``pub_id``, ``country``: the offices of every publication's family as far
    as the data shows them: its own office, those of the publications sharing its
    ``family_id`` and, given canonical ``family_members``, those of the members any
    publication of the family lists (incoPat 简单同族 names members outside the data).

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": ["CN1A", "US2B", "JP3A", "CN4B"], "family_id": ["f", "f", None, "g"],
    ...                   "country": ["CN", "US", "JP", "CN"]})
    >>> family_countries(p).values.tolist()
    [['CN1A', 'CN'], ['CN1A', 'US'], ['CN4B', 'CN'], ['JP3A', 'JP'], ['US2B', 'CN'], ['US2B', 'US']]
    >>> m = pd.DataFrame({"pub_id": ["CN4B"], "member_country": ["EP"]})
    >>> family_countries(p, m).query("pub_id == 'CN4B'").values.tolist()
    [['CN4B', 'CN'], ['CN4B', 'EP']]
    """
    p = patents[["pub_id", "family_id", "country"]].astype("string")
    own = p[["pub_id", "country"]]
    fam = p.assign(family_id=p["family_id"].fillna(p["pub_id"]))
    by_family = [fam[["family_id", "country"]]]
    if listed is not None and len(listed):
        lf = pd.DataFrame({"pub_id": listed["pub_id"].astype("string"),
                           "country": listed["member_country"].astype("string")})
        lf = lf.merge(fam[["pub_id", "family_id"]], on="pub_id")[["family_id", "country"]]
        by_family.append(lf)
    countries = pd.concat(by_family, ignore_index=True).dropna().drop_duplicates()
    members = fam[["pub_id", "family_id"]].merge(countries, on="family_id")[["pub_id", "country"]]
    out = pd.concat([own, members], ignore_index=True).dropna().drop_duplicates()
    return out.sort_values(["pub_id", "country"], kind="stable").reset_index(drop=True)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet- and DuckDB-friendly: object columns of lists/dicts become text."""
    df = df.reset_index(drop=True).copy()
    df.attrs = {}
    for c in df.columns:
        if df[c].dtype == object:
            sample = df[c].dropna()
            if len(sample) and isinstance(sample.iloc[0], list | tuple | set | dict):
                df[c] = df[c].map(lambda v: None if v is None else "; ".join(map(str, v))
                                  if not isinstance(v, dict) else str(v))
    return df


def project_views(project, scores: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame],
                  labels: pd.DataFrame, params: ScoreParams = ScoreParams()) -> dict[str, pd.DataFrame]:
    """The project-specific parts: its region against the comparison regions per branch,
    and talent candidates — strong inventors outside the region in the branches of the
    project's industry where the region is weak (RTA < 1 or no patents).

    Returns ``{"positioning": …, "talent_candidates": …}``.
    """
    counted, _ = primary_labels(labels, params.min_confidence)
    industry = project.industry.split(".")[0]
    lab = counted[(counted["industry"] == industry) & counted["branch"].notna()]
    if "." in project.industry:
        lab = lab[lab["branch"] == project.industry]
    years = tuple(project.years) if getattr(project, "years", None) else None
    pos = rg.position(project.region, list(project.compare or ()), patents=tables["patents"],
                      parties=tables["parties"], labels=lab, scores=scores["patents"][["pub_id", "high_value"]],
                      years=years, window=params.growth_window)
    own = pos[pos["region"] == pos["region"].iloc[0]] if len(pos) else pos
    weak = own.loc[own["rta"].fillna(0) < 1, "branch"].tolist()
    cands = tl.talent_candidates(scores["inventors"], project.region, weak, top=params.talent_top) \
        if len(scores["inventors"]) else scores["inventors"].head(0)
    return {"positioning": _plain(pos), "talent_candidates": _plain(cands)}


def explain(scores: dict[str, pd.DataFrame], top: int = 10) -> dict[str, pd.DataFrame]:
    """The top patents (by value index) and portfolios (by PAI, then size), with the
    columns a reader needs to see why."""
    p = scores["patents"]
    top_patents = p.sort_values(["value_index", "pub_id"], ascending=[False, True], kind="stable", na_position="last")
    top_patents = top_patents.head(top)[[c for c in ("pub_id", "synthetic", "industry", "branch", "cohort",
                                                     "value_index", "explanation", "high_value", "hv_reasons")
                                         if c in p]]
    port = scores["portfolios_industry"]
    key = [c for c in ("pai", "publications") if c in port]
    top_port = port.sort_values(key + ["group"], ascending=[False] * len(key) + [True], kind="stable",
                                na_position="last").head(top)
    cols = [c for c in ("group", "synthetic_share", "industry", "publications", "inventions", "pct", "high_value", "mean_value_index",
                        "pai", "rpp", "growth", "hv_pass", "missing_inventions", "missing_pct") if c in port]
    return {"patents": top_patents.reset_index(drop=True), "portfolios": top_port[cols].reset_index(drop=True)}


def summary(scores: dict[str, pd.DataFrame]) -> dict:
    """The stage's figures (DVC metrics)."""
    p = scores["patents"]
    port = scores["portfolios_industry"]
    passes = port["hv_pass"] if "hv_pass" in port else pd.Series(dtype=bool)
    return {
        "patents_scored": int(p["value_index"].notna().sum()),
        "patents": int(len(p)),
        "high_value": int(p["high_value"].fillna(False).astype(bool).sum()) if "high_value" in p else 0,
        "cohort_levels": p["cohort_level"].value_counts().sort_index().astype(int).to_dict(),
        "portfolios": int(len(port)),
        "high_value_portfolios": int(passes.fillna(False).astype(bool).sum()),
        "inventors": int(len(scores["inventors"])),
        "inventor_mentions": int(len(scores["inventor_mentions"])),
        "mean_value_index": round(float(np.nanmean(p["value_index"].astype(float))), 4) if len(p) else None,
    }


#: Canonical columns :func:`score` never reads: left on disk, since free text and the raw
#: citation strings are most of what a million-patent table holds in memory.
UNUSED_COLUMNS = {
    "patents": ("title", "abstract", "title_en", "abstract_en", "link"),
    "parties": ("address_raw", "located_by", "location_match", "location_score"),
    "citations": ("cited_raw", "cited_pub_id", "cited_doc_key", "cited_country", "cited_kind", "cited_date",
                  "category"),
}

#: The canonical tables :func:`score` reads.
SCORE_INPUTS = ("patents", "parties", "classifications", "citations", "npl", "events", "family_members")


def read_score_tables(in_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The canonical tables :func:`score` reads (:data:`SCORE_INPUTS`), without the
    nullable columns it never reads (:data:`UNUSED_COLUMNS`; those come back all null, so
    every table keeps its canonical columns and types).
    """
    from .. import io, schema

    used = {name: [c for c in schema.TABLES[name] if c not in skip] for name, skip in UNUSED_COLUMNS.items()}
    return io.read_tables(in_dir, names=SCORE_INPUTS, columns=used)


def run_stage(params: dict, root: Path, *, explain_top: int | None = None) -> dict:
    """The score stage as ``dvc repro`` runs it (``patnav score``): the canonical tables,
    the labels (``classify.out``) and the network's forward citations (its ``nodes``
    table, when the network stage has run) scored (:func:`score`); the tables written as
    Parquet to ``score.out`` (``<name>.parquet``, :data:`TABLES`), the figures
    (:func:`summary`) to ``score.metrics``.

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.
    explain_top : int, optional
        Also return the top patents and portfolios with their reasons (:func:`explain`).

    Returns
    -------
    dict
        ``metrics``, ``tables`` (names), the folder ``dest``, ``metrics_path`` and
        ``explained`` (None without ``explain_top``).
    """
    from .. import io

    spar = params["score"]
    tables = read_score_tables(root / params["ingest"].out)
    labels = pd.read_parquet(root / params["classify"].out)
    nodes = root / params["network"].out / "nodes.parquet"
    forward = pd.read_parquet(nodes, columns=["node", "forward", "forward_window"]) if nodes.exists() else None
    result = score(tables, labels, spar, forward=forward, references=read_references(spar, root))
    dest = root / spar.out
    dest.mkdir(parents=True, exist_ok=True)
    for name, df in result.items():
        io.write_frame(df, dest / f"{name}.parquet", f"score.{name}")
    metrics = summary(result)
    mpath = io.write_json(metrics, root / spar.metrics)
    return {"metrics": metrics, "tables": list(result), "dest": dest, "metrics_path": mpath,
            "explained": explain(result, explain_top) if explain_top is not None else None}
