"""Patent value: cohort normalisation, a composite index, CNIPA high-value flags.

* :func:`cohort_normalise` puts every indicator of :mod:`pipeline.score.indicators` on
  a 0–1 scale within its cohort (filing year × technology branch, with fallbacks), as
  the OECD quality indicators are compared (DOMAIN.md §2).
* :func:`composite_index` combines the normalised indicators into one value index whose
  per-indicator contributions add up to it, with a short explanation per patent.
* :func:`cnipa_high_value` flags CNIPA 高价值发明专利 (valid invention patents in a
  strategic emerging industry, with an overseas family member, maintained more than 10
  years, with high pledge financing, or awarded).

Lists (pledges, awards)
-----------------------
Pledge and award lists are user files: a CSV (UTF-8, UTF-8 with BOM or GB18030) with a
header row and a column ``pub_id`` (publication numbers, any common spelling:
``CN105226954B``, ``CN 105226954 A`` — matched without the kind code, so an A
publication matches its B grant) and/or ``app_id`` (application numbers:
``CN201510123456.7``, ``201510123456.7``, ``ZL201510123456.7``). Other columns are
ignored. :func:`read_id_list` reads such a file; the functions take the DataFrame.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UnreadableInputError
from ..frames import join_by
from ..ingest.normalize import normalize_app_numbers, normalize_pub_numbers
from .indicators import STATUTORY_YEARS, ScoreInputError, _require, legal_state

__all__ = [
    "MIN_COHORT",
    "LOWER_IS_BETTER",
    "cohort_normalise",
    "composite_index",
    "cnipa_high_value",
    "read_id_list",
]

#: Default smallest cohort (patents) normalised on its own; a ``score`` section of
#: ``params.yaml`` should pass its own value.
MIN_COHORT = 30

#: Indicators where a smaller raw value is better; they are inverted when normalised.
LOWER_IS_BETTER = ("grant_lag_years",)

_LEVELS = ("year×branch", "year×industry", "year", "all")


# ------------------------------------------------------------------ normalisation


def cohort_normalise(
    values: pd.DataFrame,
    indicators,
    min_cohort: int = MIN_COHORT,
    trim: float = 0.01,
    lower_is_better=LOWER_IS_BETTER,
) -> pd.DataFrame:
    """Normalise indicators to [0, 1] within cohorts of filing year × branch.

    Cohort choice, per row: (``year``, ``branch``) when the branch is known and that
    cohort has at least ``min_cohort`` rows; else (``year``, ``industry``) under the
    same rule; else ``year`` alone (whatever its size); a row without a year is compared
    with the whole table (cohort ``all``). Sizes count rows of ``values`` (patents),
    whether or not a given indicator is known. A cohort is always the whole population
    of its group: a patent that falls back to 2015 × nev is compared with every 2015 nev
    patent, including those scored in their own branch.

    Normalisation of indicator ``x`` within cohort ``c`` (OECD, DOMAIN.md §2):

    1. winsorise: clip ``x`` to the cohort's ``trim`` and ``1 − trim`` quantiles
       (numpy's linear interpolation, over the known values);
    2. divide by the cohort maximum after clipping: ``r = x / max``; a cohort whose
       maximum is 0 (nobody has any) gives ``r = 0``;
    3. indicators in ``lower_is_better`` (grant lag: a quicker grant signals a clearer,
       more valuable invention) become ``1 − r``, so the shortest lag scores highest and
       the longest 0;
    4. values are clipped to [0, 1] (negative raw values are data errors).

    Missing values stay missing (NaN), and a cohort where an indicator is unknown for
    everyone gives NaN for everyone.

    Parameters
    ----------
    values : DataFrame
        Columns ``pub_id``, ``year`` and the ``indicators``; ``branch`` and
        ``industry`` optional (treated as unknown when absent). One row per patent, or
        per patent × branch when a patent is compared in several branches.
    indicators : list of str
        Columns to normalise.
    min_cohort : int
        Smallest branch (industry) cohort used on its own.
    trim : float
        Share winsorised at each end, ``0 <= trim < 0.5``.
    lower_is_better : iterable of str
        Indicators inverted after normalisation.

    Returns
    -------
    DataFrame
        Same index as ``values``: ``pub_id``, ``year``, ``branch``, ``industry``,
        ``cohort_level`` (one of ``year×branch``, ``year×industry``, ``year``,
        ``all``), ``cohort`` (label such as ``2015×nev.components``), ``cohort_size``,
        and the normalised ``indicators`` (float, NaN where missing).

    Raises
    ------
    ScoreInputError
        If columns are missing or ``trim`` / ``min_cohort`` are out of range.

    Examples
    --------
    >>> v = pd.DataFrame({"pub_id": ["a", "b", "c"], "year": 2015, "branch": "nev.battery",
    ...                   "claims": [10, 5, None], "grant_lag_years": [2.0, 4.0, 1.0]})
    >>> out = cohort_normalise(v, ["claims", "grant_lag_years"], min_cohort=2, trim=0)
    >>> out[["cohort", "claims", "grant_lag_years"]].values.tolist()
    [['2015×nev.battery', 1.0, 0.5], ['2015×nev.battery', 0.5, 0.0], ['2015×nev.battery', nan, 0.75]]
    """
    indicators = list(indicators)
    _require(values, ["pub_id", "year", *indicators], "values")
    if not 0 <= trim < 0.5:
        raise ScoreInputError(f"trim must be in [0, 0.5), got {trim!r}")
    if int(min_cohort) != min_cohort or min_cohort < 1:
        raise ScoreInputError(f"min_cohort must be a positive integer, got {min_cohort!r}")

    idx = values.index
    n = len(values)
    year = pd.to_numeric(values["year"], errors="coerce").astype("Int64").astype("string")
    branch = values["branch"].astype("string") if "branch" in values else pd.Series(pd.NA, index=idx, dtype="string")
    industry = values["industry"].astype("string") if "industry" in values else pd.Series(pd.NA, index=idx, dtype="string")

    # Reference populations, one per level: every row whose keys are known belongs to its
    # (year × branch), (year × industry) and (year) group, whichever level it is scored at.
    keys = {
        "year×branch": year + "×" + branch,
        "year×industry": year + "×" + industry,
        "year": year,
        "all": pd.Series("all", index=idx, dtype="string"),
    }
    sizes = {lv: k.map(k.value_counts()).astype("Float64").fillna(0).to_numpy(float) for lv, k in keys.items()}
    has_year = year.notna().to_numpy()
    level = np.select(
        [has_year & (sizes["year×branch"] >= min_cohort), has_year & (sizes["year×industry"] >= min_cohort), has_year],
        list(_LEVELS[:3]),
        default="all",
    )
    cohort = pd.Series(pd.NA, index=idx, dtype="string")
    size = np.zeros(n)
    for lv, k in keys.items():
        sel = level == lv
        cohort[sel] = k[sel]
        size[sel] = sizes[lv][sel]

    out = pd.DataFrame(
        {"pub_id": values["pub_id"], "year": values["year"], "branch": branch, "industry": industry,
         "cohort_level": pd.Series(level, index=idx, dtype="string"), "cohort": cohort,
         "cohort_size": pd.array(size.astype(np.int64), dtype="Int64")},
        index=idx,
    )
    if not indicators:
        return out

    x = values[indicators].apply(pd.to_numeric, errors="coerce").astype(float).set_axis(range(n))
    lo = np.full((n, len(indicators)), np.nan)
    hi = np.full((n, len(indicators)), np.nan)
    for lv, k in keys.items():  # four levels, each one vectorised groupby
        sel = level == lv
        if not sel.any():
            continue
        kk = k.to_numpy(object)
        g = x.groupby(kk)
        lo[sel] = g.quantile(trim).reindex(kk[sel]).to_numpy(float)
        hi[sel] = g.quantile(1 - trim).reindex(kk[sel]).to_numpy(float)
    # after winsorising, the cohort maximum is the upper quantile itself
    clipped = np.clip(x.to_numpy(float), lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(hi > 0, clipped / hi, 0.0)
    r[np.isnan(clipped)] = np.nan
    inv = np.array([c in set(lower_is_better) for c in indicators])
    r[:, inv] = 1.0 - r[:, inv]
    r = np.clip(r, 0.0, 1.0)
    for j, c in enumerate(indicators):
        out[c] = r[:, j]
    return out


# ------------------------------------------------------------------ composite index


def composite_index(normalised: pd.DataFrame, weights: dict, top: int = 3) -> pd.DataFrame:
    """Weighted mean of the available normalised indicators, with contributions.

    For patent ``p`` with known components ``K_p`` (non-missing, weight > 0):

    ``value_index_p = Σ_{i∈K_p} w_i x_ip / Σ_{i∈K_p} w_i``

    i.e. the weights are renormalised over the components the patent has, so a missing
    indicator neither counts as 0 nor drags the index down. ``contrib_i = w_i x_ip /
    Σ_{i∈K_p} w_i`` (NaN for a missing component), and ``value_index`` is computed as
    the sum of the contributions, so they add up to it exactly. A patent with no known
    component has a NaN index.

    Parameters
    ----------
    normalised : DataFrame
        Output of :func:`cohort_normalise` (``pub_id`` and the indicator columns;
        ``cohort`` used in the explanation when present).
    weights : dict
        Indicator → weight (finite, ≥ 0, not all 0). Equal weights give the OECD
        composite (mean of the components).
    top : int
        Contributions listed in ``explanation``.

    Returns
    -------
    DataFrame
        Same index: ``pub_id``, ``value_index``, ``components_used``, one
        ``contrib_<indicator>`` per weight, and ``explanation``: the ``top`` largest
        contributions as ``"forward_5y 0.31 (top of cohort 2015×nev.components),
        family_size 0.12, …"`` — "top of cohort" marks a normalised value of 1.

    Raises
    ------
    ScoreInputError
        If a weighted indicator is not a column, or weights are negative, not finite or
        all zero.

    Examples
    --------
    >>> n = pd.DataFrame({"pub_id": ["a", "b"], "cohort": "2015×nev",
    ...                   "claims": [1.0, 0.5], "scope": [0.5, None]})
    >>> out = composite_index(n, {"claims": 1, "scope": 3})
    >>> out[["value_index", "contrib_claims", "contrib_scope"]].values.tolist()
    [[0.625, 0.25, 0.375], [0.5, 0.5, nan]]
    >>> out["explanation"].tolist()
    ['scope 0.38, claims 0.25 (top of cohort 2015×nev)', 'claims 0.50']
    """
    if not weights:
        raise ScoreInputError("weights is empty: give at least one indicator and its weight")
    names = list(weights)
    _require(normalised, ["pub_id", *names], "normalised")
    w = np.array([weights[k] for k in names], dtype=float)
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ScoreInputError(f"weights must be finite, >= 0 and not all 0, got {weights!r}")
    x = normalised[names].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    used = ~np.isnan(x) & (w > 0)
    denom = (used * w).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(used, w * x / denom[:, None], np.nan)
    ccols = [f"contrib_{k}" for k in names]
    cdf = pd.DataFrame(contrib, columns=ccols, index=normalised.index)
    out = pd.DataFrame({"pub_id": normalised["pub_id"]}, index=normalised.index)
    out["value_index"] = cdf.sum(axis=1, min_count=1)
    out["components_used"] = used.sum(axis=1)
    out = pd.concat([out, cdf], axis=1)

    # explanation: top contributions, built column-wise (a loop over ranks, not patents)
    m = len(out)
    order = np.argsort(-np.where(used, contrib, -np.inf), axis=1, kind="stable")
    rows = np.arange(m)
    cohort = normalised["cohort"].astype("string").fillna("").to_numpy(object) if "cohort" in normalised else None
    label = np.array([f"{k} " for k in names], dtype=object)
    mark = " (top of cohort " + cohort + ")" if cohort is not None else None  # object arrays: + is per element
    text = np.full(m, "", dtype=object)
    for rank in range(min(int(top), len(names))):
        j = order[:, rank] if m else np.zeros(0, int)
        ok = used[rows, j]
        piece = label[j] + _fixed2(np.nan_to_num(contrib[rows, j]))
        if mark is not None:
            top_mark = ok & (x[rows, j] >= 1.0 - 1e-12)
            piece[top_mark] = piece[top_mark] + mark[top_mark]
        sep = np.where(text == "", "", ", ").astype(object)
        text = np.where(ok, text + sep + piece, text)
    out["explanation"] = pd.Series(text, index=out.index, dtype="string")
    return out


def _fixed2(v: np.ndarray) -> np.ndarray:
    """``"%.2f" % x`` of every float, as an object array, without formatting each one.

    Values in [0, 10] whose hundredfold is not within 1e-6 of a rounding tie are looked
    up in a table of the 1,001 possible results (their correctly rounded hundredths are
    unambiguous); the rest (ties, negatives, large or non-finite values) go through
    ``%`` itself, so the text is always exactly ``"%.2f" % x``.

    Examples
    --------
    >>> _fixed2(np.array([0.0, 0.125, 0.994999, 1.0, 0.3149999, -0.0, 12.345])).tolist()
    ['0.00', '0.12', '0.99', '1.00', '0.31', '-0.00', '12.35']
    """
    v = np.asarray(v, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        h = v * 100.0
        q = np.floor(h + 0.5)
        frac = h - np.floor(h)
        fast = np.isfinite(h) & (h >= 0) & (h <= 1000) & ~np.signbit(v) & (np.abs(frac - 0.5) > 1e-6)
    out = _FIXED2[np.where(fast, q, 0).astype(np.int64)]
    for i in np.flatnonzero(~fast):
        out[i] = "%.2f" % v[i]
    return out


#: ``"%.2f"`` text of k / 100 for k = 0 … 1000.
_FIXED2 = np.array([f"{k // 100}.{k % 100:02d}" for k in range(1001)], dtype=object)


# ------------------------------------------------------------------ CNIPA high value


def read_id_list(path) -> pd.DataFrame:
    """Read a pledge or award list (CSV with ``pub_id`` and/or ``app_id``; see module doc).

    Raises
    ------
    UnreadableInputError
        If the file is missing or cannot be decoded.
    ScoreInputError
        If it has neither a ``pub_id`` nor an ``app_id`` column.
    """
    path = Path(path)
    last = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            df = pd.read_csv(path, dtype="string", encoding=enc)
            break
        except UnicodeDecodeError as exc:
            last = exc
        except (OSError, pd.errors.EmptyDataError) as exc:
            raise UnreadableInputError(path, exc) from None
    else:
        raise UnreadableInputError(path, f"not UTF-8 or GB18030 text ({last})")
    df.columns = [str(c).strip() for c in df.columns]
    _list_keys(df, str(path))
    return df


def _list_keys(lst: pd.DataFrame, name: str) -> tuple[set, set]:
    """(doc keys, app ids) of a user list, normalised."""
    if not {"pub_id", "app_id"} & set(lst.columns):
        raise ScoreInputError(f"{name}: needs a column 'pub_id' or 'app_id'; found {', '.join(map(str, lst.columns))}")
    docs, apps = set(), set()
    if "pub_id" in lst:
        docs = set(normalize_pub_numbers(lst["pub_id"].astype("string").str.strip())["doc_key"].dropna())
    if "app_id" in lst:
        apps = set(normalize_app_numbers(lst["app_id"].astype("string").str.strip())["app_id"].dropna())
    return docs, apps


def _on_list(p: pd.DataFrame, lst, name: str) -> np.ndarray:
    if lst is None:
        return np.zeros(len(p), bool)
    docs, apps = _list_keys(lst, name)
    doc_key = p["doc_key"] if "doc_key" in p else normalize_pub_numbers(p["pub_id"])["doc_key"].set_axis(p.index)
    hit = doc_key.astype("string").isin(docs).fillna(False).to_numpy(bool)
    if "app_id" in p and apps:
        hit = hit | p["app_id"].astype("string").isin(apps).fillna(False).to_numpy(bool)
    return hit


def cnipa_high_value(
    patents: pd.DataFrame,
    labels: pd.DataFrame | None,
    family_countries: pd.DataFrame | None = None,
    *,
    as_of: date,
    events: pd.DataFrame | None = None,
    pledge_list: pd.DataFrame | None = None,
    award_list: pd.DataFrame | None = None,
    pledge_min_amount: float | None = None,
) -> pd.DataFrame:
    """CNIPA high-value invention patents (高价值发明专利), with the reasons.

    Eligible: ``patent_type == "invention"``, legal state alive
    (:func:`~pipeline.score.indicators.legal_state` of ``legal_status``: 有效 / valid /
    granted …; unknown status is not eligible) and the 20-year term not ended at
    ``as_of``. An eligible patent is high-value when any flag holds:

    ``hv_sei``
        It has a focus-industry label (a row in ``labels``).
    ``hv_overseas``
        A family member in another country: a row of ``family_countries`` or a
        publication of the data with the same ``family_id``, whose country differs from
        the patent's. WO (an international application, not a patent right anywhere)
        does not count; EP does.
    ``hv_maintained_10y``
        Filed (``app_date``) more than 10 years before ``as_of`` and still alive.
    ``hv_pledge``
        On ``pledge_list``, or pledge events summing to at least
        ``pledge_min_amount`` (events are not used when no threshold is given).
    ``hv_award``
        On ``award_list`` (China Patent Award, national S&T award).

    Every flag is False for a patent that is not eligible.

    Parameters
    ----------
    patents : DataFrame
        Canonical ``patents`` (``pub_id``, ``country``, ``patent_type``,
        ``app_date``, ``legal_status``; ``doc_key``, ``app_id``, ``family_id`` used
        when present).
    labels : DataFrame or None
        Industry labels (``pub_id``, ``industry``), e.g. the classify stage's output.
    family_countries : DataFrame, optional
        ``pub_id``, ``country``: countries where the patent has family members (from a
        source's family field).
    as_of : datetime.date
    events : DataFrame, optional
        Canonical ``events`` (for pledge amounts).
    pledge_list, award_list : DataFrame, optional
        User lists with ``pub_id`` and/or ``app_id`` (module doc, :func:`read_id_list`).
    pledge_min_amount : float, optional
        Pledge amount (sum over the patent's pledge events, in the events' currency)
        from which a pledge counts as high.

    Returns
    -------
    DataFrame
        Index as ``patents``: ``pub_id``, ``eligible``, the five ``hv_*`` flags,
        ``high_value`` and ``hv_reasons`` (text: the flags that hold, or why the patent
        is not eligible).

    Raises
    ------
    ScoreInputError
        If a table lacks columns or a list has neither ``pub_id`` nor ``app_id``.

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": ["CN1B", "CN2U", "CN3B"], "country": "CN",
    ...     "patent_type": ["invention", "utility_model", "invention"],
    ...     "app_date": pd.to_datetime(["2010-05-01", "2010-05-01", "2020-01-01"]),
    ...     "legal_status": ["有效", "有效", "失效"]})
    >>> out = cnipa_high_value(p, None, as_of=date(2024, 1, 1))
    >>> out[["pub_id", "high_value", "hv_reasons"]].values.tolist()
    [['CN1B', True, 'maintained 13.7 years'], ['CN2U', False, 'not eligible: utility_model'], ['CN3B', False, 'not eligible: legal status lapsed']]
    """
    _require(patents, ["pub_id", "country", "patent_type", "app_date", "legal_status"], "patents")
    if labels is not None:
        _require(labels, ["pub_id", "industry"], "labels")
    if family_countries is not None:
        _require(family_countries, ["pub_id", "country"], "family_countries")
    if events is not None and pledge_min_amount is not None:
        _require(events, ["pub_id", "event_type", "amount"], "events")
    if pledge_min_amount is not None and not np.isfinite(float(pledge_min_amount)):
        raise ScoreInputError(f"pledge_min_amount must be a number, got {pledge_min_amount!r}")

    idx = patents.index
    ids = patents["pub_id"].astype("string")
    as_of_ts = pd.Timestamp(as_of)
    app = pd.to_datetime(patents["app_date"], errors="coerce")
    ptype = patents["patent_type"].astype("string")
    state = legal_state(patents["legal_status"])
    expiry = app + pd.DateOffset(years=STATUTORY_YEARS["invention"])
    term_ended = (expiry <= as_of_ts).fillna(False).to_numpy(bool)
    is_inv = (ptype == "invention").fillna(False).to_numpy(bool)
    alive = (state == "alive").fillna(False).to_numpy(bool)
    eligible = is_inv & alive & ~term_ended

    why = np.select(
        [~is_inv, state.isna().to_numpy(), ~alive, term_ended],
        [np.char.add("not eligible: ", ptype.fillna("unknown type").to_numpy(str)),
         "not eligible: legal status unknown",
         np.char.add("not eligible: legal status ", state.fillna("").to_numpy(str)),
         "not eligible: statutory term ended"],
        default="",
    )

    # (1) strategic emerging industry
    if labels is not None and len(labels):
        lab = labels.dropna(subset=["industry"]).astype({"pub_id": "string", "industry": "string"})
        inds = join_by(lab["pub_id"], lab["industry"])
        ind_text = ids.map(inds).astype("string")
    else:
        ind_text = pd.Series(pd.NA, index=idx, dtype="string")
    sei = ind_text.notna().to_numpy(bool)

    # (2) overseas family
    own = pd.DataFrame({"pub_id": ids, "own": patents["country"].astype("string")})
    parts = []
    if family_countries is not None:
        parts.append(family_countries[["pub_id", "country"]].astype("string"))
    if "family_id" in patents:
        fam = pd.DataFrame({"pub_id": ids, "family_id": patents["family_id"].astype("string"),
                            "country": patents["country"].astype("string")}).dropna(subset=["family_id"])
        parts.append(fam[["pub_id", "family_id"]].merge(fam[["family_id", "country"]], on="family_id")[["pub_id", "country"]])
    if parts:
        fc = pd.concat(parts, ignore_index=True).dropna().drop_duplicates().merge(own, on="pub_id")
        fc = fc[(fc["country"] != fc["own"]) & (fc["country"] != "WO")]
        abroad = join_by(fc["pub_id"], fc["country"])
        abroad_text = ids.map(abroad).astype("string")
    else:
        abroad_text = pd.Series(pd.NA, index=idx, dtype="string")
    overseas = abroad_text.notna().to_numpy(bool)

    # (3) maintained more than 10 years
    age = ((as_of_ts - app).dt.days / 365.25).to_numpy(float)
    maintained = (app + pd.DateOffset(years=10) < as_of_ts).fillna(False).to_numpy(bool)

    # (4) pledge, (5) award
    pledge_listed = _on_list(patents, pledge_list, "pledge_list")
    amount = np.full(len(idx), np.nan)
    if events is not None and pledge_min_amount is not None:
        pl = events[events["event_type"] == "pledge"]
        sums = pd.to_numeric(pl["amount"], errors="coerce").groupby(pl["pub_id"].astype("string")).sum(min_count=1)
        amount = ids.map(sums).astype("Float64").to_numpy(float, na_value=np.nan)
    pledge_high = ~np.isnan(amount) & (np.nan_to_num(amount) >= (pledge_min_amount or 0))
    awarded = _on_list(patents, award_list, "award_list")

    out = pd.DataFrame({"pub_id": ids, "eligible": eligible}, index=idx)
    out["hv_sei"] = eligible & sei
    out["hv_overseas"] = eligible & overseas
    out["hv_maintained_10y"] = eligible & maintained
    out["hv_pledge"] = eligible & (pledge_listed | pledge_high)
    out["hv_award"] = eligible & awarded
    flags = ["hv_sei", "hv_overseas", "hv_maintained_10y", "hv_pledge", "hv_award"]
    out["high_value"] = out[flags].any(axis=1)

    texts = [
        (out["hv_sei"], "focus industry " + ind_text.fillna("")),
        (out["hv_overseas"], "overseas family " + abroad_text.fillna("")),
        (out["hv_maintained_10y"], pd.Series(np.char.mod("maintained %.1f years", np.nan_to_num(age)), index=idx)),
        (out["hv_pledge"] & pd.Series(pledge_listed, index=idx), pd.Series("on pledge list", index=idx)),
        (out["hv_pledge"] & pd.Series(pledge_high, index=idx),
         pd.Series(np.char.mod("pledged %.0f", np.nan_to_num(amount)), index=idx)),
        (out["hv_award"], pd.Series("on award list", index=idx)),
    ]
    reasons = pd.Series("", index=idx, dtype="string")
    for flag, text in texts:
        add = flag.to_numpy(bool)
        sep = np.where(reasons == "", "", "; ")
        reasons = reasons.mask(add, reasons + sep + text.astype("string"))
    reasons = reasons.mask(~eligible, pd.Series(why, index=idx, dtype="string"))
    out["hv_reasons"] = reasons
    return out
