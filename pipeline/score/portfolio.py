"""Applicant portfolios per industry or branch: size, quality, Patent Asset Index, position.

Applicants are first merged into groups (:func:`applicant_groups`, with the user-edited
alias file ``pipeline/data/applicant_aliases.yaml``); :func:`portfolios` then describes every
(group × industry) or (group × branch) cell, and :func:`high_value_portfolios` checks the
district plan's test for a high-value portfolio (≥ 100 invention patents and ≥ 30 PCT
applications by default).

Patent Asset Index (Ernst & Omland 2011), per patent and industry label:

* Technology Relevance ``TR = forward_5y / mean(forward_5y of the same filing year and
  industry)`` — the cohort is every labelled patent of the input, not only the group's.
  When the cohort mean is 0 (nobody cited) every member is exactly average: ``TR = 1``.
* Market Coverage ``MC = Σ GNI(c) / GNI(US)`` over the distinct countries ``c`` where the
  family has members (Ernst uses where it is *in force*; members is what the data gives).
  ``EP`` counts as DE + FR + GB, ``WO`` is no market, unknown codes count 0
  (see ``pipeline/data/gni_by_country.csv``).
* Competitive Impact ``CI = TR × MC``; ``PAI = Σ CI`` over live patents (``alive`` is
  True), each family counted once (its best live member), as the PAI is a family measure.

Relative Patent Position (Ernst): ``RPP = own strength / strongest competitor's strength``
in the same industry or branch; for the leader the competitor is the second strongest, so
the leader has ``RPP ≥ 1`` and every follower ``RPP ≤ 1`` (ties give 1.0 to both).
Strength is the PAI by default, or ``families × mean value_index`` (Ernst's count ×
quality) with ``strength="count_quality"``.

A metric whose input column is absent is NaN, and the ``flags`` column (and
``DataFrame.attrs["flags"]``) names the missing input and the metrics it blanks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import AliasFileError, PortfolioInputError
from ..frames import isin, join_by, sorted_codes
from ..growth import growth_rate, windows
from ..schema import filing_year, require_columns

__all__ = [
    "ALIASES_PATH",
    "GNI_PATH",
    "REGIONAL_OFFICES",
    "NON_MARKETS",
    "PORTFOLIO_COLUMNS",
    "load_aliases",
    "applicant_groups",
    "load_gni",
    "market_coverage",
    "patent_asset_index",
    "relative_position",
    "portfolios",
    "high_value_portfolios",
]

_DATA = Path(__file__).resolve().parents[1] / "data"
ALIASES_PATH = _DATA / "applicant_aliases.yaml"
GNI_PATH = _DATA / "gni_by_country.csv"
# Offices that are not one country's market: EP as its three main validation states, WO none.
REGIONAL_OFFICES = {"EP": ("DE", "FR", "GB")}
NON_MARKETS = frozenset({"WO"})
_GRANT_KINDS_CN = {"C", "U", "Y", "S"}
_GRANT_KINDS_US = {"S", "E", "P"}


# ----------------------------------------------------------------------------- helpers

_require = partial(require_columns, error=PortfolioInputError)


def _key(s: pd.Series) -> pd.Series:
    """Case-folded, whitespace-collapsed matching key.

    Computed once per distinct name (applicant names repeat across a million patents)
    and taken back by integer code.

    Examples
    --------
    >>> _key(pd.Series([" ACME  Corp ", None, "acme corp"])).tolist()
    ['acme corp', <NA>, 'acme corp']
    """
    s = s.astype("string")
    codes, uniq = pd.factorize(s)
    keys = pd.Series(uniq, dtype="string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    return pd.Series(keys.array.take(codes, allow_fill=True), index=s.index, dtype="string")


def _year_of(as_of) -> int:
    if isinstance(as_of, int | np.integer):
        return int(as_of)
    try:
        return int(pd.Timestamp(as_of).year)
    except (TypeError, ValueError):
        raise PortfolioInputError(f"as_of must be a year or a date, got {as_of!r}") from None


# ----------------------------------------------------------------------------- aliases

def load_aliases(path: str | Path | None = None) -> dict[str, list[str]]:
    """Read an alias file: ``groups: {GROUP NAME: [alias, …]}``.

    Parameters
    ----------
    path : path, optional
        Default ``pipeline/data/applicant_aliases.yaml``.

    Returns
    -------
    dict
        Group name → list of aliases (an empty file or ``groups: {}`` gives ``{}``).

    Raises
    ------
    AliasFileError
        The file is missing, not YAML, or an entry is not a name → list of names.

    Examples
    --------
    >>> load_aliases()["上汽通用五菱汽车股份有限公司"]  # the bundled file
    ['上汽通用五菱汽车', 'SAIC-GM-WULING AUTOMOBILE CO LTD']
    """
    path = Path(path) if path is not None else ALIASES_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise AliasFileError(f"{path}: cannot read alias file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise AliasFileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or set(doc) - {"groups"}:
        raise AliasFileError(f"{path}: expected a single top-level key 'groups'")
    groups = doc.get("groups") or {}
    if not isinstance(groups, dict):
        raise AliasFileError(f"{path}: groups: must be a mapping GROUP NAME -> [alias, ...]")
    out = {}
    for name, aliases in groups.items():
        aliases = aliases or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise AliasFileError(f"{path}: groups.{name}: must be a list of non-empty names")
        out[str(name)] = aliases
    return out


def _alias_table(aliases: Mapping[str, list[str]]) -> pd.DataFrame:
    """Matching key → group; each alias both as written and normalised like ``name_norm``."""
    from ..ingest.normalize import normalize_names

    names = [(g, a) for g, al in aliases.items() for a in [g, *al]]
    if not names:
        return pd.DataFrame({"key": pd.Series(dtype="string"), "group": pd.Series(dtype="string")})
    t = pd.DataFrame(names, columns=["group", "alias"])
    both = pd.concat([
        t.assign(key=_key(t["alias"])),
        t.assign(key=_key(normalize_names(t["alias"]).set_axis(t.index))),
    ]).dropna(subset=["key"])
    both = both[both["key"] != ""].drop_duplicates(["key", "group"])
    clash = both[both.duplicated("key", keep=False)]
    if len(clash):
        k = clash["key"].iloc[0]
        groups = sorted(clash.loc[clash["key"] == k, "group"])
        raise AliasFileError(f"alias {k!r} belongs to more than one group: {', '.join(groups)}")
    return both[["key", "group"]].astype("string").reset_index(drop=True)


def applicant_groups(parties: pd.DataFrame, aliases: Mapping[str, list[str]] | str | Path | None = None,
                     *, roles: tuple[str, ...] = ("applicant", "assignee")) -> pd.DataFrame:
    """One row per (patent, applicant group).

    A party's group is the alias group its name belongs to, else its group key
    (:func:`pipeline.locate.group_keys`: the vendor's standardised name where the export
    gives one, else ``name_norm``), the same key the ingest stage locates applicants by.
    Applicants and assignees (current owners) both count, so a transferred patent
    belongs to the old and the new owner.

    Parameters
    ----------
    parties : DataFrame
        Canonical ``parties`` (``pub_id``, ``role``, ``name_raw``, ``name_norm``).
    aliases : dict, path or None
        Group → aliases, or an alias file for :func:`load_aliases`; None: no aliases.

    Returns
    -------
    DataFrame
        ``pub_id``, ``group``, ``aliased`` (the group came from the alias list).

    Examples
    --------
    >>> parties = pd.DataFrame({"pub_id": ["A", "A", "B", "C"],
    ...     "role": ["applicant", "assignee", "applicant", "inventor"],
    ...     "name_raw": ["比亚迪股份有限公司", "BYD CO LTD", "Tesla Inc", "WANG"],
    ...     "name_norm": ["比亚迪", "BYD", "TESLA", "WANG"]})
    >>> applicant_groups(parties, {"比亚迪股份有限公司": ["BYD CO LTD"]}).values.tolist()
    [['A', '比亚迪股份有限公司', True], ['B', 'TESLA', False]]
    """
    _require(parties, ["pub_id", "role", "name_raw", "name_norm"], "parties")
    if aliases is None:
        aliases = {}
    elif isinstance(aliases, str | Path):
        aliases = load_aliases(aliases)
    table = _alias_table(aliases)
    from ..locate import group_keys

    p = parties.loc[parties["role"].isin(roles)]
    name = group_keys(p)
    if aliases:  # an alias may be listed under the party's own normalised name
        own = _key(p["name_norm"].astype("string").fillna(p["name_raw"].astype("string")))
        name = name.where(~own.isin(table["key"]), p["name_norm"].astype("string"))
    p = pd.DataFrame({"pub_id": p["pub_id"].astype("string"), "name": name, "key": _key(name)})
    p = p[p["name"].notna() & (p["name"].str.strip() != "")]
    p = p.merge(table, on="key", how="left")
    out = pd.DataFrame({
        "pub_id": p["pub_id"],
        "group": p["group"].fillna(p["name"]).astype("string"),
        "aliased": p["group"].notna().astype(bool),
    })
    # Sorted by integer codes ranked as the strings sort (no string sort of every row);
    # an aliased row first, so that it is the one kept.
    pc, _ = sorted_codes(out["pub_id"])
    gc, _ = sorted_codes(out["group"])
    order = np.lexsort((~out["aliased"].to_numpy(bool), gc, pc))
    keep = ~pd.Series(pc[order] * (int(gc.max(initial=0)) + 1) + gc[order]).duplicated().to_numpy()
    return out.iloc[order[keep]].reset_index(drop=True)


# ----------------------------------------------------------------------------- GNI / PAI

def load_gni(path: str | Path | None = None) -> pd.Series:
    """GNI in current US$ by ISO2 country code (``pipeline/data/gni_by_country.csv``).

    The bundled values are approximate (see the file header): refresh them from the World
    Bank (NY.GNP.MKTP.CD) before delivering a report.

    Examples
    --------
    >>> gni = load_gni()
    >>> bool(gni["US"] > gni["CN"] > gni["DE"])
    True
    """
    path = Path(path) if path is not None else GNI_PATH
    t = pd.read_csv(path, comment="#", dtype={"country": str})
    _require(t, ["country", "gni_usd"], str(path))
    return t.set_index("country")["gni_usd"].astype(float)


def _gni_series(gni) -> pd.Series:
    if gni is None:
        s = load_gni()
    elif isinstance(gni, pd.DataFrame):
        _require(gni, ["country", "gni_usd"], "gni")
        s = gni.set_index("country")["gni_usd"]
    else:
        s = pd.Series(gni, dtype=float)
    s = s.astype(float)
    if "US" not in s.index or not s["US"] > 0:
        raise PortfolioInputError("gni needs a positive value for US (Market Coverage is relative to the US)")
    return s


def market_coverage(family_countries: pd.Series, gni=None) -> pd.Series:
    """Σ GNI of the family's countries ÷ GNI(US), per row.

    ``family_countries`` holds lists of ISO2 codes or strings separated by ``;``, ``,``,
    ``|`` or spaces. ``EP`` counts as DE + FR + GB, ``WO`` as nothing; every country is
    counted once. NaN where the countries are unknown (NA).

    Examples
    --------
    >>> gni = {"US": 20.0, "CN": 10.0, "DE": 4.0, "FR": 3.0, "GB": 3.0}
    >>> market_coverage(pd.Series([["US", "CN"], "CN;EP;DE;WO", None]), gni).tolist()
    [1.5, 1.0, nan]
    """
    gni = _gni_series(gni)
    s = pd.Series(family_countries).reset_index(drop=True)
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        known, as_text = s.notna(), s  # text already: no per-row Python calls
    else:
        known = s.map(lambda v: isinstance(v, list | tuple | set | np.ndarray) or (isinstance(v, str)))
        as_text = s.where(known).map(
            lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray) else v)
    codes = as_text.astype("string").str.upper().str.split(r"[;,|\s]+", regex=True).explode()
    codes = codes[codes.notna() & (codes != "")]
    offices = {c: REGIONAL_OFFICES.get(c, (c,)) for c in codes.unique()}  # once per distinct code
    expanded = codes.map(offices).explode()
    expanded = expanded[~expanded.isin(NON_MARKETS)]
    pairs = expanded.rename("c").reset_index().drop_duplicates()
    pairs["gni"] = pairs["c"].map(gni).fillna(0.0)
    total = pairs.groupby("index")["gni"].sum().reindex(s.index, fill_value=0.0)
    return (total / gni["US"]).where(known).astype(float)


def _with_family_countries(scores: pd.DataFrame, family_countries: pd.DataFrame | None) -> pd.DataFrame:
    """Replace ``scores.family_countries`` by the long table (pub_id, country), joined by ';'."""
    if family_countries is None:
        return scores
    _require(family_countries, ["pub_id", "country"], "family_countries")
    fc = family_countries[["pub_id", "country"]].astype("string").dropna().drop_duplicates()
    joined = join_by(fc["pub_id"], fc["country"], ";")
    out = scores.drop(columns="family_countries", errors="ignore")
    out = out.assign(family_countries=out["pub_id"].astype("string").map(joined).fillna(""))
    return out


def patent_asset_index(patents: pd.DataFrame, labels: pd.DataFrame, scores: pd.DataFrame, gni=None, *,
                       family_countries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Technology Relevance, Market Coverage and Competitive Impact per (patent, industry).

    TR's cohort is filing year × industry over all labelled patents given; TR = 1 in a
    cohort where nobody is cited. Missing ``forward_5y`` → TR NaN; missing
    ``family_countries`` → MC NaN; CI is NaN when either is. The patent's own office
    (``patents.country``, when given) is always one of its family's countries.
    ``family_countries`` may also come as a long table (``pub_id``, ``country``, as
    :func:`pipeline.score.value.cnipa_high_value` takes it); a patent without rows there
    has only its own office.

    Returns
    -------
    DataFrame
        ``pub_id``, ``industry``, ``filing_year``, ``tr``, ``mc``, ``ci``.

    Examples
    --------
    Three patents of one industry and year, cited 0, 2 and 4 times (mean 2):

    >>> pats = pd.DataFrame({"pub_id": ["a", "b", "c"], "filing_year": [2020] * 3})
    >>> labels = pd.DataFrame({"pub_id": ["a", "b", "c"], "industry": ["nev"] * 3})
    >>> scores = pd.DataFrame({"pub_id": ["a", "b", "c"], "forward_5y": [0, 2, 4],
    ...                        "family_countries": ["US", "US;CN", "CN;DE"]})
    >>> gni = {"US": 20.0, "CN": 10.0, "DE": 5.0}
    >>> patent_asset_index(pats, labels, scores, gni)[["pub_id", "tr", "mc", "ci"]].values.tolist()
    [['a', 0.0, 1.0, 0.0], ['b', 1.0, 1.5, 1.5], ['c', 2.0, 0.75, 1.5]]
    """
    _require(patents, ["pub_id"], "patents")
    _require(labels, ["pub_id", "industry"], "labels")
    _require(scores, ["pub_id"], "scores")
    years = pd.DataFrame({"pub_id": patents["pub_id"].astype("string"), "filing_year": filing_year(patents)})
    lab = labels[["pub_id", "industry"]].astype("string").drop_duplicates()
    sc = _with_family_countries(scores, family_countries)
    sc = sc.drop_duplicates("pub_id").assign(pub_id=lambda d: d["pub_id"].astype("string"))
    if "family_countries" in sc.columns and "country" in patents.columns:
        office = patents[["pub_id", "country"]].astype("string").drop_duplicates("pub_id").set_index("pub_id")
        own = sc["pub_id"].map(office["country"])
        fc = sc["family_countries"]
        if pd.api.types.is_string_dtype(fc.dtype) and fc.dtype != object:
            listed, known = fc, fc.notna()  # text already: no per-row Python calls
        else:
            listed = fc.map(lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray) else v)
            known = listed.map(lambda v: isinstance(v, str))
        sc = sc.assign(family_countries=(listed.astype("string") + ";" + own.fillna("")).where(known))
    t = lab.merge(years, on="pub_id", how="inner")
    if "forward_5y" in sc.columns:
        t = t.merge(sc[["pub_id", "forward_5y"]], on="pub_id", how="left")
        fwd = pd.to_numeric(t["forward_5y"], errors="coerce").astype(float)
        mean = fwd.groupby([t["filing_year"], t["industry"]], dropna=False).transform("mean")
        t["tr"] = np.where(mean == 0, np.where(fwd.notna(), 1.0, np.nan), fwd / mean.where(mean != 0))
    else:
        t["tr"] = np.nan
    if "family_countries" in sc.columns:
        sc = sc[isin(sc["pub_id"], t["pub_id"])]  # market coverage of the labelled patents only
        mc = market_coverage(sc["family_countries"], gni).set_axis(sc.index)
        t["mc"] = t["pub_id"].map(pd.Series(mc.values, index=sc["pub_id"].values))
    else:
        t["mc"] = np.nan
    t["tr"] = t["tr"].astype(float)
    t["mc"] = t["mc"].astype(float)
    t["ci"] = t["tr"] * t["mc"]
    return t[["pub_id", "industry", "filing_year", "tr", "mc", "ci"]].sort_values(["pub_id", "industry"]).reset_index(drop=True)


def relative_position(table: pd.DataFrame, strength: str = "pai", *, by: str = "industry",
                      group: str = "group") -> pd.Series:
    """Relative Patent Position per row: own strength ÷ strongest competitor's in ``by``.

    The leader is divided by the second strongest (RPP ≥ 1); a lone group or a competitor
    of strength 0 or NaN gives NaN.

    Examples
    --------
    >>> t = pd.DataFrame({"industry": ["x", "x", "x", "y"], "group": ["A", "B", "C", "A"],
    ...                   "pai": [8.0, 4.0, 2.0, 5.0]})
    >>> relative_position(t).tolist()
    [2.0, 0.5, 0.25, nan]
    """
    _require(table, [by, group, strength], "table")
    s = table[strength].astype(float)
    valid = s.notna()
    ranked = s[valid].groupby(table.loc[valid, by]).rank(method="first", ascending=False)
    top1 = s[valid].where(ranked == 1).groupby(table.loc[valid, by]).transform("max")
    top2 = s[valid].where(ranked == 2).groupby(table.loc[valid, by]).transform("max")
    competitor = pd.Series(np.where(ranked == 1, top2, top1), index=ranked.index)
    competitor = competitor.where(competitor > 0)
    return (s[valid] / competitor).reindex(table.index).astype(float)


# ----------------------------------------------------------------------------- portfolios

PORTFOLIO_COLUMNS = [
    "group", "key", "publications", "families", "inventions", "share_invention", "share_granted",
    "share_alive", "pct", "high_value", "mean_value_index", "breadth", "median_age", "share_recent",
    "recent", "before", "growth", "pai", "strength", "rpp", "hv_pass", "missing_inventions",
    "missing_pct", "flags",
]


def _granted(patents: pd.DataFrame) -> pd.Series:
    granted = pd.Series(False, index=patents.index)
    if "grant_date" in patents.columns:
        granted |= patents["grant_date"].notna()
    if "kind" in patents.columns:
        kind = patents["kind"].astype("string").str.upper()
        country = patents["country"].astype("string") if "country" in patents.columns else pd.Series(pd.NA, index=patents.index, dtype="string")
        granted |= kind.str.startswith("B").fillna(False)
        granted |= (country.eq("CN") & kind.isin(_GRANT_KINDS_CN)).fillna(False)
        granted |= (country.eq("US") & kind.isin(_GRANT_KINDS_US)).fillna(False)
    return granted.astype(bool)


def _bool(s: pd.Series) -> pd.Series:
    """Nullable boolean from bools / 0-1 / NA."""
    return s.astype("boolean")


def portfolios(patents: pd.DataFrame, groups: pd.DataFrame, labels: pd.DataFrame, scores: pd.DataFrame, *,
               by: str = "industry", as_of, growth_window: int = 3, gni=None,
               hv_thresholds: Mapping[str, int] | None = None, strength: str = "pai",
               family_countries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Describe every (applicant group × industry) or (group × branch) portfolio.

    Parameters
    ----------
    patents : DataFrame
        Canonical ``patents`` (``pub_id``, ``patent_type``; dates, ``family_id``,
        ``app_id``, ``kind``, ``grant_date`` used when present) or with a ``filing_year``.
    groups : DataFrame
        ``pub_id``, ``group`` from :func:`applicant_groups`.
    labels : DataFrame
        ``pub_id``, ``industry``, ``branch`` (one row per label).
    scores : DataFrame
        Per patent: ``pub_id`` and any of ``value_index``, ``high_value``, ``alive``,
        ``pct``, ``forward_5y``, ``family_countries``.
    by : {"industry", "branch"}
    as_of : int or date
        Reference year for ages and growth.
    growth_window : int
        ``growth = (recent − before) / before`` with ``recent`` the filings of the last
        ``growth_window`` years up to ``as_of`` and ``before`` the same number of years
        before them; NaN when ``before`` is 0.
    gni : dict, Series or DataFrame, optional
        GNI by ISO2 country; default :func:`load_gni`.
    hv_thresholds : dict, optional
        ``{"inventions": 100, "pct": 30}``, see :func:`high_value_portfolios`.
    strength : {"pai", "count_quality"}
        What the Relative Patent Position compares: the PAI, or ``families ×
        mean_value_index``.
    family_countries : DataFrame, optional
        Long table ``pub_id``, ``country`` of family members; replaces
        ``scores.family_countries`` (see :func:`patent_asset_index`).

    Returns
    -------
    DataFrame
        One row per cell with :data:`PORTFOLIO_COLUMNS` (``key`` renamed to ``by``):
        ``publications`` (distinct pub_ids), ``families``, ``inventions`` (distinct
        applications of type invention, so a CN A and its B count once),
        ``share_invention`` / ``share_granted`` / ``share_alive`` (of publications;
        alive among those with a known status), ``pct`` (distinct families with a PCT
        filing), ``high_value`` (publications), ``mean_value_index``, ``breadth``
        (distinct taxonomy branches carried by the cell's patents), ``median_age`` and
        ``share_recent`` (age = as_of − filing year < 5), ``recent``, ``before``,
        ``growth``, ``pai``, ``strength``, ``rpp``, the high-value test and ``flags``.

    Examples
    --------
    >>> pats = pd.DataFrame({"pub_id": ["a", "b", "c"], "patent_type": ["invention"] * 3,
    ...                      "filing_year": [2019, 2023, 2024]})
    >>> groups = pd.DataFrame({"pub_id": ["a", "b", "c"], "group": ["A", "A", "B"]})
    >>> labels = pd.DataFrame({"pub_id": ["a", "b", "c"], "industry": ["nev"] * 3,
    ...                        "branch": ["nev.battery"] * 3})
    >>> scores = pd.DataFrame({"pub_id": ["a", "b", "c"], "value_index": [0.2, 0.4, 0.9]})
    >>> t = portfolios(pats, groups, labels, scores, as_of=2024, strength="count_quality")
    >>> t[["group", "industry", "publications", "mean_value_index", "strength", "rpp"]].values.tolist()
    [['A', 'nev', 2, 0.3, 0.6, 0.666667], ['B', 'nev', 1, 0.9, 0.9, 1.5]]
    >>> t["flags"].iloc[0]
    'missing scores.alive: share_alive, pai; missing scores.family_countries: pai; missing scores.forward_5y: pai; missing scores.high_value: high_value; missing scores.pct: pct, hv_pass'
    """
    if by not in ("industry", "branch"):
        raise PortfolioInputError(f"by must be 'industry' or 'branch', got {by!r}")
    if strength not in ("pai", "count_quality"):
        raise PortfolioInputError(f"strength must be 'pai' or 'count_quality', got {strength!r}")
    if not isinstance(growth_window, int | np.integer) or growth_window < 1:
        raise PortfolioInputError(f"growth_window must be a positive integer, got {growth_window!r}")
    year = _year_of(as_of)
    _require(patents, ["pub_id", "patent_type"], "patents")
    _require(groups, ["pub_id", "group"], "groups")
    _require(labels, ["pub_id", "industry", "branch"], "labels")
    _require(scores, ["pub_id"], "scores")
    scores = _with_family_countries(scores, family_countries)

    flags: dict[str, list[str]] = {}
    needs = {"value_index": ["mean_value_index"], "high_value": ["high_value"], "alive": ["share_alive", "pai"],
             "pct": ["pct", "hv_pass"], "forward_5y": ["pai"], "family_countries": ["pai"]}
    for col, metrics in needs.items():
        if col not in scores.columns:
            flags[f"missing scores.{col}"] = metrics
    strength_inputs = ("value_index",) if strength == "count_quality" else ("alive", "forward_5y", "family_countries")
    for col in strength_inputs:
        if col not in scores.columns:
            flags[f"missing scores.{col}"] += ["strength", "rpp"]
    flag_text = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(flags.items()))

    # Per-patent facts (one row per pub_id).
    pid = patents["pub_id"].astype("string")
    fam = patents["family_id"].astype("string") if "family_id" in patents.columns else pd.Series(pd.NA, index=patents.index, dtype="string")
    app = patents["app_id"].astype("string") if "app_id" in patents.columns else pd.Series(pd.NA, index=patents.index, dtype="string")
    facts = pd.DataFrame({
        "pub_id": pid,
        "family": fam.fillna(pid),
        "filing_year": filing_year(patents).astype(float),
        "invention": patents["patent_type"].astype("string").eq("invention").fillna(False).astype(bool),
        "granted": _granted(patents),
    })
    facts["inv_app"] = app.fillna(pid).where(facts["invention"])
    facts = facts.drop_duplicates("pub_id")
    sc = scores.assign(pub_id=scores["pub_id"].astype("string")).drop_duplicates("pub_id")
    keep = [c for c in ("value_index", "high_value", "alive", "pct") if c in sc.columns]
    facts = facts.merge(sc[["pub_id", *keep]], on="pub_id", how="left")

    lab = labels[["pub_id", "industry", "branch"]].astype("string").dropna(subset=[by]).drop_duplicates()
    cell_lab = lab[["pub_id", by]].drop_duplicates()
    if by == "branch":
        cell_lab = cell_lab.merge(lab[["branch", "industry"]].drop_duplicates("branch"), on="branch", how="left")
    grp = groups[["pub_id", "group"]].astype("string").dropna().drop_duplicates()
    base = grp.merge(cell_lab, on="pub_id").merge(facts, on="pub_id")

    cols = ["group", by] + [c for c in PORTFOLIO_COLUMNS if c not in ("group", "key")]
    if base.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object if c in ("group", by, "flags") else float) for c in cols})
        out.attrs["flags"] = flags
        return out

    keys = ["group", by]
    base["age"] = year - base["filing_year"]
    base["is_recent"] = (base["age"] < 5).astype(float).where(base["age"].notna())
    base["in_recent"], base["in_before"] = windows(base["filing_year"], year, growth_window)
    if "pct" in base.columns:
        base["pct_family"] = base["family"].where(_bool(base["pct"]).fillna(False).astype(bool))
    if "alive" in base.columns:
        base["alive_f"] = _bool(base["alive"]).astype("Float64").astype(float)  # NA → NaN, skipped by mean
    if "high_value" in base.columns:
        base["hv_i"] = _bool(base["high_value"]).fillna(False).astype(int)
    if "value_index" in base.columns:
        base["value_index"] = pd.to_numeric(base["value_index"], errors="coerce").astype(float)
    g = base.groupby(keys, sort=True)
    out = pd.DataFrame({
        "publications": g["pub_id"].nunique(),
        "families": g["family"].nunique(),
        "inventions": g["inv_app"].nunique(),
        "share_invention": g["invention"].mean(),
        "share_granted": g["granted"].mean(),
        "median_age": g["age"].median(),
        "share_recent": g["is_recent"].mean(),
        "recent": g["in_recent"].sum(),
        "before": g["in_before"].sum(),
    })
    out["share_alive"] = g["alive_f"].mean() if "alive" in base.columns else np.nan
    out["pct"] = g["pct_family"].nunique() if "pct" in base.columns else np.nan
    out["high_value"] = g["hv_i"].sum() if "high_value" in base.columns else np.nan
    out["mean_value_index"] = g["value_index"].mean() if "value_index" in base.columns else np.nan
    out["growth"] = growth_rate(out["recent"], out["before"])

    # Breadth: distinct branches (of any industry) carried by the cell's patents.
    cell_pubs = base[keys + ["pub_id"]].drop_duplicates()
    pb = cell_pubs.merge(lab[["pub_id", "branch"]].drop_duplicates().rename(columns={"branch": "_b"}), on="pub_id")
    out["breadth"] = pb.groupby(keys)["_b"].nunique().reindex(out.index, fill_value=0)

    # PAI over live patents, one (best) member per family.
    if all(c in scores.columns for c in ("alive", "forward_5y", "family_countries")):
        ci = patent_asset_index(patents, lab, sc, gni)[["pub_id", "industry", "ci"]]
        live = base.loc[_bool(base["alive"]).fillna(False).astype(bool),
                        list(dict.fromkeys([*keys, "pub_id", "family", "industry"]))]
        live = live.merge(ci, on=["pub_id", "industry"], how="left")
        best = live.groupby(keys + ["family"])["ci"].max()
        out["pai"] = best.groupby(level=[0, 1]).sum().reindex(out.index, fill_value=0.0)
    else:
        out["pai"] = np.nan

    out = out.reset_index()
    out["strength"] = out["pai"] if strength == "pai" else out["families"] * out["mean_value_index"]
    out["rpp"] = relative_position(out, "strength", by=by).round(6)
    hv = high_value_portfolios(out, hv_thresholds, by=by)
    out = out.merge(hv[keys + ["hv_pass", "missing_inventions", "missing_pct"]], on=keys, how="left")
    out["flags"] = flag_text
    for c in ("share_invention", "share_granted", "share_alive", "share_recent", "mean_value_index", "growth",
              "pai", "strength"):
        out[c] = out[c].astype(float).round(6)
    out = out[cols].sort_values([by, "group"]).reset_index(drop=True)
    out.attrs["flags"] = flags
    return out


def high_value_portfolios(portfolios: pd.DataFrame, thresholds: Mapping[str, int] | None = None, *,
                          by: str | None = None) -> pd.DataFrame:
    """Which portfolios pass the high-value test, and how far the others are.

    A portfolio passes with ``inventions ≥ thresholds["inventions"]`` and ``pct ≥
    thresholds["pct"]`` (default 100 and 30, the district plan's figures; take them from
    ``params.yaml``). ``missing_*`` is what is lacking (0 when met); with an unknown PCT
    count ``missing_pct`` is NA, and so is ``hv_pass`` unless the inventions already fail.

    Returns
    -------
    DataFrame
        ``group``, the cell key, ``inventions``, ``pct``, ``hv_pass``,
        ``missing_inventions``, ``missing_pct``; passing portfolios first, the others by
        total distance.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["A", "B", "C"], "industry": ["nev"] * 3,
    ...                   "inventions": [120, 90, 100], "pct": [35, 40, 10]})
    >>> high_value_portfolios(t).values.tolist()
    [['A', 'nev', 120, 35, True, 0, 0], ['B', 'nev', 90, 40, False, 10, 0], ['C', 'nev', 100, 10, False, 0, 20]]
    """
    thresholds = dict(thresholds or {"inventions": 100, "pct": 30})
    if set(thresholds) != {"inventions", "pct"} or not all(
            isinstance(v, int | np.integer) and v >= 0 for v in thresholds.values()):
        raise PortfolioInputError(f"thresholds must be {{'inventions': int ≥ 0, 'pct': int ≥ 0}}, got {thresholds!r}")
    by = by or next((c for c in ("industry", "branch", "key") if c in portfolios.columns), None)
    if by is None:
        raise PortfolioInputError("portfolios has no industry or branch column")
    _require(portfolios, ["group", by, "inventions", "pct"], "portfolios")
    inv = pd.to_numeric(portfolios["inventions"], errors="coerce").astype("Float64")
    pct = pd.to_numeric(portfolios["pct"], errors="coerce").astype("Float64")
    miss_inv = (thresholds["inventions"] - inv).clip(lower=0).astype("Int64")
    miss_pct = (thresholds["pct"] - pct).clip(lower=0).astype("Int64")
    out = pd.DataFrame({
        "group": portfolios["group"], by: portfolios[by],
        "inventions": inv.astype("Int64"), "pct": pct.astype("Int64"),
        "hv_pass": ((miss_inv == 0) & (miss_pct == 0)).astype("boolean"),
        "missing_inventions": miss_inv, "missing_pct": miss_pct,
    })
    distance = (miss_inv.fillna(0) + miss_pct.fillna(0)).astype(float)
    order = pd.DataFrame({"p": ~out["hv_pass"].fillna(False).astype(bool), "d": distance,
                          "g": out["group"].astype(str), "k": out[by].astype(str)})
    return out.loc[order.sort_values(["p", "d", "k", "g"]).index].reset_index(drop=True)
