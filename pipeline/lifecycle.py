"""Technology life cycle: S-curve fit of cumulative filings and the phase diagram.

Two views of the same question — where in its life is a technology? (DOMAIN.md §3)

1. :func:`fit_lifecycle` fits the **cumulative** number of filings per year with a
   logistic or a Gompertz curve and reads the stage off the share of the fitted
   saturation level ``K`` reached so far.
2. :func:`phase_table` builds the data of the **applicants-vs-applications phase
   diagram** (专利申请量—申请人数量 技术生命周期图) and classifies the direction of
   movement from one year (or period) to the next.

Curves
------
Logistic (Pearl–Verhulst)::

    N(t) = K / (1 + exp(-r (t - t0)))          inflection at t0, N(t0) = K / 2

Gompertz::

    N(t) = K exp(-b exp(-c t))                  inflection at ln(b) / c, N = K / e

``t`` is counted in years; for the logistic ``t0`` is reported as a calendar year, for
the Gompertz ``t`` is measured from ``params["origin"]`` (the first year of the data),
because ``b`` for calendar-year ``t`` would be astronomically large. The Gompertz curve
is fitted in the better-conditioned form ``K exp(-exp(-c (t - tm)))`` (``b = exp(c tm)``).

Stage cut points
----------------
The stage is read from the saturation share ``s = cumulative filings so far / K``:

=========================  ==============  =======================
``s``                      stage           阶段
=========================  ==============  =======================
``s < 0.10``               emerging        萌芽期
``0.10 <= s < 0.50``       growth          成长期
``0.50 <= s < 0.90``       maturity        成熟期
``s >= 0.90``              saturation/     饱和/衰退期
                           decline
=========================  ==============  =======================

These are conventional cut points, not a standard: the 10 % and 90 % marks delimit the
"characteristic duration" Δt of a logistic pulse (Meyer, Yung & Ausubel 1999, *A primer
on logistic growth and substitution*, TFSC 61(3)), and four-phase S-curve readings of
patent counts with emerging / growth / maturity / saturation stages at 10 / 50 / 90 % of
the saturation level are common in the patent-analysis literature (e.g. Chen, Chen & Lee
2011, hydrogen energy and fuel cells, IJHE 36(12); Gao et al. 2013, TFSC 80(3), use the
same four phases with a different, indicator-based classifier). For the logistic the
50 % mark is the inflection; for the Gompertz the inflection comes earlier, at
``K / e`` ≈ 37 %, so it falls inside "growth". The cut points are
:data:`STAGE_CUTS`.

Caveats a reader of the report should hear
------------------------------------------
* Pass only **complete** years: CN applications are published ~18 months after filing,
  so the last one or two filing years are undercounted and pull ``K`` down.
* Early in the curve the two models disagree: before the inflection the data hardly
  constrain ``K`` (the Gompertz fit to early logistic data runs to its ``K`` bound).
  Fit both and report the stage only where they agree, or say that they do not.
* R² on a cumulative curve is always high (the series is monotone); it says little about
  the quality of the extrapolated ``K``. When ``K`` sits at its upper bound the series
  is still accelerating and ``K`` is not identified — the result says so in ``notes``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from .errors import LifecycleInputError

__all__ = [
    "LifecycleFit",
    "MODELS",
    "STAGES",
    "STAGE_CUTS",
    "PHASES",
    "MIN_YEARS",
    "logistic",
    "gompertz",
    "stage_from_share",
    "fit_lifecycle",
    "phase_table",
]

#: Fewer years than this (after filling gaps) cannot support a three-parameter fit.
MIN_YEARS = 5

#: Share-of-K cut points between emerging | growth | maturity | saturation/decline.
STAGE_CUTS = (0.10, 0.50, 0.90)

#: Stage key → (English, Chinese) name.
STAGES = {
    "emerging": ("emerging", "萌芽期"),
    "growth": ("growth", "成长期"),
    "maturity": ("maturity", "成熟期"),
    "saturation/decline": ("saturation/decline", "饱和/衰退期"),
    "undetermined": ("undetermined", "无法判定"),
}

#: Phase key of :func:`phase_table` → (English, Chinese) name.
PHASES = {
    "start": ("start", "起点"),
    "emerging": ("emerging", "萌芽期"),
    "growth": ("growth", "成长期"),
    "maturity": ("maturity/concentration", "成熟期"),
    "decline": ("decline", "衰退期"),
    "recovery": ("recovery/renewal", "复苏期"),
    "stable": ("stable", "平稳期"),
}

#: ``K`` may range from the filings so far up to this multiple of them.
_K_MAX_FACTOR = 100.0


def logistic(t, k, r, t0):
    """Logistic curve ``k / (1 + exp(-r (t - t0)))``.

    Examples
    --------
    >>> float(logistic(2010, 100.0, 0.5, 2010))
    50.0
    """
    z = np.clip(-r * (np.asarray(t, dtype=float) - t0), -700.0, 700.0)
    return k / (1.0 + np.exp(z))


def gompertz(t, k, b, c):
    """Gompertz curve ``k exp(-b exp(-c t))``.

    Examples
    --------
    >>> round(float(gompertz(0.0, 100.0, 1.0, 0.3)), 4)  # k / e at t = ln(b) / c = 0
    36.7879
    """
    z = np.clip(-c * np.asarray(t, dtype=float), -700.0, 700.0)
    return k * np.exp(-b * np.exp(z))


def _gompertz_tm(t, k, c, tm):
    """Gompertz in the fitted form ``k exp(-exp(-c (t - tm)))``."""
    z = np.clip(-c * (np.asarray(t, dtype=float) - tm), -700.0, 700.0)
    return k * np.exp(-np.exp(z))


MODELS = ("logistic", "gompertz")


@dataclass(frozen=True)
class LifecycleFit:
    """Result of :func:`fit_lifecycle`.

    Attributes
    ----------
    model : str
        ``"logistic"`` or ``"gompertz"``.
    stage, stage_zh : str
        Stage key (see :data:`STAGES`) and its Chinese name; ``"undetermined"`` when the
        fit failed or the data are too few.
    reason : str
        Why the stage is undetermined; empty otherwise.
    years, cumulative : tuple
        The years (gaps filled) and the observed cumulative filings that were fitted.
    params, param_se : dict
        Fitted parameters (logistic ``K, r, t0``; Gompertz ``K, b, c, origin``) and their
        standard errors (NaN when not estimable); empty when undetermined.
    fitted : tuple
        Fitted cumulative values at ``years``; empty when undetermined.
    r2 : float or None
        Coefficient of determination on the cumulative series.
    saturation : float or None
        Observed cumulative filings of the last year ÷ ``K``.
    inflection_year : float or None
        Calendar year of the inflection (peak of annual filings).
    notes : tuple of str
        Warnings for the reader (``K`` not identified, inflection far ahead …).
    """

    model: str
    stage: str
    stage_zh: str
    reason: str = ""
    years: tuple = ()
    cumulative: tuple = ()
    params: dict = field(default_factory=dict)
    param_se: dict = field(default_factory=dict)
    fitted: tuple = ()
    r2: float | None = None
    saturation: float | None = None
    inflection_year: float | None = None
    notes: tuple = ()

    @property
    def determined(self) -> bool:
        """True when a curve was fitted and a stage read from it."""
        return self.stage != "undetermined"

    @property
    def stage_en(self) -> str:
        """English name of the stage."""
        return STAGES[self.stage][0]

    def predict(self, years) -> np.ndarray:
        """Fitted cumulative filings at ``years`` (calendar years); NaN when undetermined."""
        t = np.asarray(years, dtype=float)
        if not self.determined:
            return np.full(t.shape, np.nan)
        p = self.params
        if self.model == "logistic":
            return logistic(t, p["K"], p["r"], p["t0"])
        return gompertz(t - p["origin"], p["K"], p["b"], p["c"])

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (for a metrics file)."""
        return {
            "model": self.model,
            "stage": self.stage,
            "stage_zh": self.stage_zh,
            "reason": self.reason,
            "params": {k: float(v) for k, v in self.params.items()},
            "param_se": {k: float(v) for k, v in self.param_se.items()},
            "r2": self.r2,
            "saturation": self.saturation,
            "inflection_year": self.inflection_year,
            "notes": list(self.notes),
            "years": [int(y) for y in self.years],
            "cumulative": [float(c) for c in self.cumulative],
        }


def stage_from_share(share: float) -> str:
    """Stage key for a saturation share (cumulative so far ÷ K), by :data:`STAGE_CUTS`.

    Examples
    --------
    >>> [stage_from_share(s) for s in (0.05, 0.10, 0.49, 0.5, 0.89, 0.9, 1.0)]
    ['emerging', 'growth', 'growth', 'maturity', 'maturity', 'saturation/decline', 'saturation/decline']
    >>> stage_from_share(float("nan"))
    'undetermined'
    """
    if share is None or not math.isfinite(share) or share < 0:
        return "undetermined"
    emerging, growth, maturity = STAGE_CUTS
    if share < emerging:
        return "emerging"
    if share < growth:
        return "growth"
    if share < maturity:
        return "maturity"
    return "saturation/decline"


def _annual_series(years, values, *, names=("years", "counts")) -> pd.DataFrame:
    """Validate ``years``/``values`` and return them on a gap-free year range.

    Years missing inside the range get 0 (no filings that year).
    """
    years = np.asarray(list(years) if not isinstance(years, np.ndarray) else years)
    values = [np.asarray(list(v) if not isinstance(v, np.ndarray) else v, dtype=float) for v in values]
    for name, v in zip(names[1:], values):
        if len(v) != len(years):
            raise LifecycleInputError(
                f"{names[0]} and {name} differ in length ({len(years)} vs {len(v)})"
            )
    if len(years) == 0:
        return pd.DataFrame({n: pd.Series(dtype="int64" if i == 0 else float) for i, n in enumerate(names)})
    try:
        yf = years.astype(float)
    except (TypeError, ValueError) as exc:
        raise LifecycleInputError(f"{names[0]} must be numeric years, got {years[:5].tolist()}") from exc
    if not np.all(np.isfinite(yf)) or not np.all(yf == np.round(yf)):
        bad = years[~(np.isfinite(yf) & (yf == np.round(np.nan_to_num(yf))))][:5].tolist()
        raise LifecycleInputError(f"{names[0]} must be whole years, got {bad}")
    yi = yf.astype(int)
    dup = pd.Series(yi)[pd.Series(yi).duplicated()].unique().tolist()
    if dup:
        raise LifecycleInputError(f"{names[0]} holds duplicated years {dup[:5]}: aggregate first")
    for name, v in zip(names[1:], values):
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            bad = v[~np.isfinite(v) | (np.nan_to_num(v, nan=-1) < 0)][:5].tolist()
            raise LifecycleInputError(f"{name} must be finite and non-negative, got {bad}")
    frame = pd.DataFrame({names[0]: yi, **{n: v for n, v in zip(names[1:], values)}})
    full = np.arange(yi.min(), yi.max() + 1)
    return frame.set_index(names[0]).reindex(full, fill_value=0.0).rename_axis(names[0]).reset_index()


def _undetermined(model, reason, years=(), cumulative=()) -> LifecycleFit:
    return LifecycleFit(
        model=model,
        stage="undetermined",
        stage_zh=STAGES["undetermined"][1],
        reason=reason,
        years=tuple(int(y) for y in years),
        cumulative=tuple(float(c) for c in cumulative),
    )


def _fit_best(func, t, y, starts, bounds):
    """Least squares from each start; keep the lowest residual sum (first wins ties)."""
    best = None
    for p0 in starts:
        p0 = np.clip(p0, bounds[0], bounds[1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                popt, pcov = curve_fit(func, t, y, p0=p0, bounds=bounds, method="trf", maxfev=20000)
        except (RuntimeError, ValueError):
            continue
        sse = float(np.sum((func(t, *popt) - y) ** 2))
        if not math.isfinite(sse):
            continue
        if best is None or sse < best[2] - 1e-12 * max(best[2], 1.0):
            best = (popt, pcov, sse)
    return best


def fit_lifecycle(years, counts, model: str = "logistic", *, min_years: int = MIN_YEARS) -> LifecycleFit:
    """Fit an S-curve to the cumulative filings and read the life-cycle stage.

    Parameters
    ----------
    years : sequence of int
        Filing (or priority) years, one per count, no duplicates. Gaps inside the range
        are years without filings (count 0).
    counts : sequence of float
        Filings per year (not cumulative), non-negative.
    model : {"logistic", "gompertz"}
        Curve to fit.
    min_years : int, default 5
        Fewer years (after filling gaps) → stage ``"undetermined"``.

    Returns
    -------
    LifecycleFit
        Never raises for data that are merely too few or do not converge: the stage is
        then ``"undetermined"`` and ``reason`` says why.

    Raises
    ------
    LifecycleInputError
        Unequal lengths, duplicated or non-integer years, negative or missing counts,
        or an unknown model.

    Notes
    -----
    Fitted with :func:`scipy.optimize.curve_fit` (trust-region reflective, bounded) from
    a fixed grid of starting values, keeping the least-squares best — deterministic.
    Bounds: ``K`` in [filings so far, 100 × filings so far]; logistic ``r`` in
    [0.001, 5] per year, ``t0`` within 50 years of the data; Gompertz ``c`` likewise,
    inflection within 50 years of the data.

    Examples
    --------
    >>> yrs = list(range(2000, 2015))
    >>> cum = logistic(np.array(yrs), 1000.0, 0.6, 2012.0)
    >>> counts = np.diff(cum, prepend=0.0)
    >>> fit = fit_lifecycle(yrs, counts)
    >>> round(fit.params["K"]), round(fit.params["t0"], 2), fit.stage, fit.stage_zh
    (1000, 2012.0, 'maturity', '成熟期')
    >>> fit_lifecycle([2019, 2020], [3, 4]).reason
    'too few years: 2 < 5'
    """
    if model not in MODELS:
        raise LifecycleInputError(f"model must be one of {MODELS}, got {model!r}")
    frame = _annual_series(years, [counts])
    yrs = frame["years"].to_numpy()
    cum = np.cumsum(frame["counts"].to_numpy(dtype=float))
    if len(yrs) < min_years:
        return _undetermined(model, f"too few years: {len(yrs)} < {min_years}", yrs, cum)
    total = float(cum[-1])
    if total <= 0:
        return _undetermined(model, "no filings", yrs, cum)
    if np.count_nonzero(np.diff(cum, prepend=0.0)) < 3:
        return _undetermined(model, "filings in fewer than 3 years", yrs, cum)

    origin = int(yrs[0])
    t = (yrs - origin).astype(float)
    span = float(t[-1])
    y = cum
    k_lo, k_hi = total, total * _K_MAX_FACTOR
    # A fixed grid of starts: K a little / well / far above the filings so far, slow and
    # fast growth. The grid (not randomness) makes the fit robust and deterministic.
    k_starts = (1.05 * total, 2.0 * total, 5.0 * total)
    rate_starts = (0.3, 1.0)
    if model == "logistic":
        func = logistic
        bounds = ([k_lo, 1e-3, -50.0], [k_hi, 5.0, span + 50.0])
        starts = []
        for k0 in k_starts:
            # the year the observed curve crosses K0/2 (or the last year if not yet)
            half = int(np.searchsorted(y, k0 / 2.0))
            t0_0 = float(t[min(half, len(t) - 1)]) if half < len(t) else span + 2.0
            starts += [np.array([k0, r0, t0_0]) for r0 in rate_starts]
    else:
        func = _gompertz_tm
        bounds = ([k_lo, 1e-3, -50.0], [k_hi, 5.0, span + 50.0])
        starts = []
        for k0 in k_starts:
            cross = int(np.searchsorted(y, k0 / math.e))
            tm0 = float(t[min(cross, len(t) - 1)]) if cross < len(t) else span + 2.0
            starts += [np.array([k0, c0, tm0]) for c0 in rate_starts]
    best = _fit_best(func, t, y, starts, bounds)
    if best is None:
        return _undetermined(model, "the curve fit did not converge", yrs, cum)
    popt, pcov, sse = best
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(pcov)) if np.all(np.isfinite(pcov)) else np.full(3, np.nan)
    fitted = func(t, *popt)
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else float("nan")

    k = float(popt[0])
    if model == "logistic":
        params = {"K": k, "r": float(popt[1]), "t0": origin + float(popt[2])}
        param_se = {"K": float(se[0]), "r": float(se[1]), "t0": float(se[2])}
        inflection = params["t0"]
    else:
        c, tm = float(popt[1]), float(popt[2])
        params = {"K": k, "b": math.exp(c * tm), "c": c, "origin": float(origin)}
        # delta method: b = exp(c tm) -> se_b ≈ b * sqrt((tm se_c)^2 + (c se_tm)^2) (no covariance)
        se_b = params["b"] * math.sqrt((tm * se[1]) ** 2 + (c * se[2]) ** 2) if np.all(np.isfinite(se)) else float("nan")
        param_se = {"K": float(se[0]), "b": float(se_b), "c": float(se[1]), "origin": 0.0}
        inflection = origin + tm

    notes = []
    if k >= k_hi * 0.99:
        notes.append(
            "K at its upper bound (100 × filings so far): the series is still accelerating "
            "and the saturation level is not identified; the stage rests on the bound "
            "(read it as 'early, K unknown')"
        )
    if k <= k_lo * 1.001:
        notes.append("K equals the filings so far: the fit sees no further growth")
    if inflection > yrs[-1] + 10:
        notes.append(f"inflection {inflection:.0f} lies more than 10 years ahead: an extrapolation")
    if not math.isfinite(r2):
        return _undetermined(model, "cumulative filings are constant", yrs, cum)
    # A steady filing rate gives a straight cumulative line, which an S-curve also fits;
    # the stage then rests on the bounds, not on the data.
    line = np.polyval(np.polyfit(t, y, 1), t)
    r2_line = 1.0 - float(np.sum((y - line) ** 2)) / sst
    if r2_line >= r2 - 1e-3:
        notes.append(
            f"a straight line fits as well (R² {r2_line:.3f} vs {r2:.3f}): a steady filing "
            "rate, the S-curve stage is weakly supported"
        )

    share = total / k
    stage = stage_from_share(share)
    return LifecycleFit(
        model=model,
        stage=stage,
        stage_zh=STAGES[stage][1],
        years=tuple(int(v) for v in yrs),
        cumulative=tuple(float(v) for v in cum),
        params=params,
        param_se=param_se,
        fitted=tuple(float(v) for v in fitted),
        r2=float(r2),
        saturation=float(share),
        inflection_year=float(inflection),
        notes=tuple(notes),
    )


def _direction(prev: float, cur: float, tol: float) -> int:
    """+1 rising, -1 falling, 0 flat (relative change within ``tol``)."""
    change = (cur - prev) / max(prev, 1.0)
    if change > tol:
        return 1
    if change < -tol:
        return -1
    return 0


#: (applications direction, applicants direction) → phase key. Rows: applications
#: +/0/-; columns: applicants +/0/-.
_QUADRANTS = {
    (1, 1): "growth",
    (1, 0): "maturity",
    (1, -1): "maturity",
    (0, 1): "growth",
    (0, 0): "stable",
    (0, -1): "maturity",
    (-1, 1): "recovery",
    (-1, 0): "decline",
    (-1, -1): "decline",
}


def phase_table(
    years: Sequence[int],
    applications: Sequence[float],
    applicants: Sequence[float],
    *,
    period: int | None = None,
    tol: float = 0.05,
    emerging_share: float = 0.10,
) -> pd.DataFrame:
    """Data of the applicants-vs-applications phase diagram, with the phase of each step.

    In Chinese patent-analysis practice (专利分析 技术生命周期图) the number of
    applications is plotted against the number of distinct applicants year by year, and
    the direction in which the point moves tells the phase (技术生命周期):

    ====================  ====================  =========================  ========
    applications          applicants            phase                      阶段
    ====================  ====================  =========================  ========
    small, before take-off                      emerging                   萌芽期
    rising                rising                growth                     成长期
    rising                flat or falling       maturity/concentration     成熟期
    falling               falling or flat       decline                    衰退期
    falling               rising                recovery/renewal           复苏期
    flat                  flat                  stable                     平稳期
    ====================  ====================  =========================  ========

    Flat applications with rising applicants count as growth (entrants arrive), with
    falling applicants as maturity (the field concentrates). The textbook narrative
    (萌芽期 → 成长期 → 成熟期 → 衰退期 → 复苏期) is a sequence; this table only
    classifies each step by quadrant, so a noisy series can jump between phases — read
    runs of steps, not single years.

    Parameters
    ----------
    years : sequence of int
        One entry per year, no duplicates; missing years inside the range count as 0.
    applications, applicants : sequence of float
        Applications filed and distinct applicants active in each year.
    period : int, optional
        Aggregate into periods of this many years, aligned so the last period ends with
        the last year (the first may be shorter). Both variables are then **annual
        means** over the period — distinct applicants over a period cannot be derived
        from yearly counts.
    tol : float, default 0.05
        Relative change (vs the previous value, at least 1) within which a variable is
        "flat".
    emerging_share : float, default 0.10
        Steps before applications first reach this share of their maximum are
        "emerging" whatever their direction (small numbers move at random).

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (last year of the row), ``label`` (the year, or ``"2011–2015"``
        for periods), ``start``, ``end``, ``applications``, ``applicants``,
        ``d_applications``, ``d_applicants`` (change from the previous row), ``phase``
        (key of :data:`PHASES`), ``phase_en``, ``phase_zh``. The first row's phase is
        ``"emerging"`` when small, else ``"start"``.

    Examples
    --------
    >>> t = phase_table([2015, 2016, 2017, 2018], [10, 20, 25, 15], [5, 9, 7, 4])
    >>> t["phase"].tolist()
    ['start', 'growth', 'maturity', 'decline']
    >>> t["phase_zh"].tolist()
    ['起点', '成长期', '成熟期', '衰退期']
    """
    if period is not None and (not isinstance(period, (int, np.integer)) or period < 1):
        raise LifecycleInputError(f"period must be a positive integer, got {period!r}")
    frame = _annual_series(years, [applications, applicants], names=("year", "applications", "applicants"))
    columns = [
        "year", "label", "start", "end", "applications", "applicants",
        "d_applications", "d_applicants", "phase", "phase_en", "phase_zh",
    ]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame["start"] = frame["year"]
    frame["end"] = frame["year"]
    frame["label"] = frame["year"].astype(str)
    if period is not None and period > 1:
        last = int(frame["year"].max())
        frame["bin"] = (last - frame["year"]) // period
        frame = (
            frame.groupby("bin", sort=True)
            .agg(start=("year", "min"), end=("year", "max"),
                 applications=("applications", "mean"), applicants=("applicants", "mean"))
            .sort_values("start")
            .reset_index(drop=True)
        )
        frame["year"] = frame["end"]
        frame["label"] = [f"{s}–{e}" if s != e else str(s) for s, e in zip(frame["start"], frame["end"])]

    apps = frame["applications"].to_numpy(dtype=float)
    appl = frame["applicants"].to_numpy(dtype=float)
    take_off = np.flatnonzero(apps >= emerging_share * apps.max()) if apps.max() > 0 else np.array([len(apps)])
    first_big = int(take_off[0]) if len(take_off) else len(apps)
    phases = []
    for i in range(len(apps)):
        if i < first_big:
            phases.append("emerging")
        elif i == 0:
            phases.append("start")
        else:
            key = (_direction(apps[i - 1], apps[i], tol), _direction(appl[i - 1], appl[i], tol))
            phases.append(_QUADRANTS[key])
    frame["d_applications"] = np.concatenate([[np.nan], np.diff(apps)])
    frame["d_applicants"] = np.concatenate([[np.nan], np.diff(appl)])
    frame["phase"] = phases
    frame["phase_en"] = [PHASES[p][0] for p in phases]
    frame["phase_zh"] = [PHASES[p][1] for p in phases]
    for col in ("year", "start", "end"):
        frame[col] = frame[col].astype("int64")
    return frame[columns].reset_index(drop=True)
