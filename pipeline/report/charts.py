"""Report charts: one look for every figure, Chinese or English labels.

Every chart function takes tidy data plus ``lang`` (``"zh"`` or ``"en"``) and returns a
:class:`matplotlib.figure.Figure`; only :func:`save` writes files (PNG for the PDF, SVG
for editing). Nothing here touches the global matplotlib state:

* figures are built with :class:`~matplotlib.figure.Figure` on an Agg canvas, never
  through ``pyplot`` (no global figure registry, no backend switch);
* the house style :data:`STYLE` is applied with :func:`matplotlib.rc_context` inside
  each function and inside :func:`save`, so ``rcParams`` are the same afterwards;
* text carries explicit font families (``WenQuanYi Micro Hei`` then ``DejaVu Sans``),
  so a figure drawn later, outside the context (a notebook), keeps its Chinese glyphs.

Choices
-------
* Palette: Okabe & Ito (2008) eight colours, distinguishable under the common colour
  vision deficiencies; heat maps use ``RdBu_r`` (ColorBrewer, colour-blind safe)
  centred at 1 for RTA, ``cividis`` otherwise.
* Year axes carry whole years only (``MaxNLocator(integer=True)`` and a plain
  ``"%d"`` formatter: no "2,014", no "+2.01e3" offset).
* Titles are optional — the PDF caption carries the title.
* Output is deterministic: fixed SVG hash salt, no date in the SVG metadata, fonts
  kept as text in the SVG (``svg.fonttype = "none"``: Chinese labels stay editable and
  searchable; the viewer needs the font, the PNG is the rendering of record).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..errors import ChartInputError
from ..schema import require_columns
from ..lifecycle import PHASES

__all__ = [
    "CJK_FONT_PATH",
    "CJK_FONT_FAMILY",
    "PALETTE",
    "STYLE",
    "LABELS",
    "label",
    "shorten_label",
    "trend_chart",
    "lifecycle_chart",
    "phase_chart",
    "bar_chart",
    "stacked_bar",
    "heatmap",
    "network_chart",
    "save",
    "save_charts",
]

CJK_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FONT_FAMILY = "WenQuanYi Micro Hei"
_LATIN_FALLBACK = "DejaVu Sans"

#: Okabe & Ito (2008) colour-blind-safe palette (yellow last: weak on white).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

#: The house style, applied through ``rc_context`` (never to the global rcParams).
STYLE = {
    "font.family": [CJK_FONT_FAMILY, _LATIN_FALLBACK],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "axes.unicode_minus": False,
    "axes.formatter.use_locale": False,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.0,
    "image.cmap": "cividis",
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100.0,
    "savefig.dpi": 200.0,
    "svg.fonttype": "none",
    "svg.hashsalt": "patnav",
}

#: Axis and legend texts by language.
LABELS = {
    "zh": {
        "year": "年份",
        "filings": "申请量（件）",
        "cumulative": "累计申请量（件）",
        "applications": "申请量（件）",
        "applicants": "申请人数量（个）",
        "value": "数量",
        "count": "数量（件）",
        "observed": "实际累计值",
        "fitted": "拟合曲线",
        "projection": "外推",
        "k": "饱和值 K",
        "inflection": "拐点",
        "stage": "阶段",
        "saturation": "饱和度",
        "undetermined": "生命周期阶段无法判定",
        "no_data": "无数据",
        "incomplete": "尚未完全公开",
        "other": "其他",
        "logistic": "Logistic",
        "gompertz": "Gompertz",
    },
    "en": {
        "year": "Year",
        "filings": "Filings",
        "incomplete": "not all published yet",
        "cumulative": "Cumulative filings",
        "applications": "Applications",
        "applicants": "Applicants",
        "value": "Value",
        "count": "Count",
        "observed": "Observed (cumulative)",
        "fitted": "Fitted curve",
        "projection": "projection",
        "k": "Saturation level K",
        "inflection": "Inflection",
        "stage": "Stage",
        "saturation": "Saturation",
        "undetermined": "Life-cycle stage undetermined",
        "no_data": "No data",
        "other": "Other",
        "logistic": "logistic",
        "gompertz": "Gompertz",
    },
}

_PHASE_COLOURS = {
    "start": "#999999",
    "emerging": PALETTE[5],
    "growth": PALETTE[2],
    "maturity": PALETTE[0],
    "decline": PALETTE[3],
    "recovery": PALETTE[1],
    "stable": PALETTE[6],
}


def label(key: str, lang: str = "zh") -> str:
    """Axis/legend text for ``key`` in ``lang``.

    Examples
    --------
    >>> label("year"), label("year", "en")
    ('年份', 'Year')
    """
    if lang not in LABELS:
        raise ChartInputError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
    return LABELS[lang][key]


def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def shorten_label(text, width: int = 20) -> str:
    """Cut ``text`` to ``width`` display columns (CJK characters count 2), adding "…".

    Examples
    --------
    >>> shorten_label("重庆长安汽车股份有限公司", 10)
    '重庆长安…'
    >>> shorten_label("BYD Co Ltd", 20)
    'BYD Co Ltd'
    """
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    if sum(_char_width(c) for c in text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + "…"


@functools.cache
def _font_family() -> tuple[str, ...]:
    """Register the CJK font once; fall back (with a warning) when it is missing."""
    if CJK_FONT_PATH.is_file():
        mpl.font_manager.fontManager.addfont(str(CJK_FONT_PATH))
        return (CJK_FONT_FAMILY, _LATIN_FALLBACK)
    warnings.warn(
        f"CJK font not found at {CJK_FONT_PATH}: Chinese labels will not render "
        "(install fonts-wqy-microhei)",
        stacklevel=3,
    )
    return (_LATIN_FALLBACK,)


def _style() -> dict:
    style = dict(STYLE)
    style["font.family"] = list(_font_family())
    return style


def _styled(func: Callable) -> Callable:
    """Run ``func`` inside the house style; check ``lang`` first."""

    @functools.wraps(func)
    def wrapper(*args, lang: str = "zh", **kwargs):
        if lang not in LABELS:
            raise ChartInputError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
        with mpl.rc_context(_style()):
            return func(*args, lang=lang, **kwargs)

    return wrapper


def _figure(figsize=None) -> tuple[Figure, object]:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _no_data(fig_ax=None, *, lang: str, title: str | None = None) -> Figure:
    fig, ax = fig_ax or _figure()
    ax.clear()
    ax.set_axis_off()
    ax.text(0.5, 0.5, label("no_data", lang), ha="center", va="center", fontsize=14,
            color="#666666", transform=ax.transAxes)
    if title:
        ax.set_title(title)
    return fig


_require = functools.partial(require_columns, error=ChartInputError)


_plain_int = FuncFormatter(lambda v, _pos: f"{v:.0f}")


def _year_axis(axis) -> None:
    """Whole years, printed plainly (no thousands separator, no offset)."""
    axis.set_major_locator(MaxNLocator(integer=True, nbins="auto", min_n_ticks=2))
    axis.set_major_formatter(_plain_int)


def _count_axis(axis) -> None:
    axis.set_major_locator(MaxNLocator(integer=True, nbins="auto"))
    axis.set_major_formatter(_plain_int)


def _finish(fig: Figure, ax, title: str | None) -> Figure:
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- charts


@_styled
def trend_chart(
    df: pd.DataFrame,
    *,
    lang: str = "zh",
    x: str = "year",
    y: str = "count",
    series: str = "series",
    ylabel: str | None = None,
    title: str | None = None,
    complete_through: int | None = None,
) -> Figure:
    """Filings per year, one line per series (World / China / region …).

    Parameters
    ----------
    df : DataFrame
        Tidy: columns ``year``, ``count`` and optionally ``series`` (one line if absent).
        A year missing for a series inside the overall range is drawn as 0.
    lang : {"zh", "en"}
    x, y, series : str
        Column names.
    ylabel, title : str, optional
        Override the y label; add a title (the PDF caption usually carries it).
    complete_through : int, optional
        Last complete filing year: later years are shaded and labelled as not yet all
        published (publication lag).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2019, 2020, 2021], "count": [3, 5, 8]})
    >>> trend_chart(df, lang="en").axes[0].get_xlabel()
    'Year'
    """
    _require(df, [x, y], "trend_chart")
    data = df.dropna(subset=[x, y])
    if data.empty:
        return _no_data(lang=lang, title=title)
    data = data.assign(_series=data[series].astype(str) if series in data.columns else "")
    years = np.arange(int(data[x].min()), int(data[x].max()) + 1)
    fig, ax = _figure()
    names = list(dict.fromkeys(data["_series"]))
    for name in names:
        part = data[data["_series"] == name].groupby(data[x].astype(int))[y].sum()
        part = part.reindex(years, fill_value=0)
        ax.plot(part.index, part.to_numpy(), marker="o", label=name or None)
    if complete_through is not None and years[-1] > complete_through:
        ax.axvspan(complete_through + 0.5, years[-1] + 0.5, color="0.88", zorder=0,
                   label=label("incomplete", lang))
        names.append("shaded")
    _year_axis(ax.xaxis)
    _count_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(label("year", lang))
    ax.set_ylabel(ylabel or label("filings", lang))
    if len(names) > 1 or names[0]:
        ax.legend(loc="best")
    return _finish(fig, ax, title)


@_styled
def lifecycle_chart(
    fit,
    years=None,
    counts=None,
    *,
    lang: str = "zh",
    horizon: int = 5,
    title: str | None = None,
) -> Figure:
    """Cumulative filings with the fitted S-curve; stage, K and inflection annotated.

    Parameters
    ----------
    fit : pipeline.lifecycle.LifecycleFit
        Result of :func:`~pipeline.lifecycle.fit_lifecycle`.
    years, counts : sequence, optional
        Annual filings to plot (cumulated here); default: the data the fit was made on.
    horizon : int, default 5
        Years the fitted curve is extended beyond the data (dashed).

    Examples
    --------
    >>> from pipeline.lifecycle import fit_lifecycle
    >>> fig = lifecycle_chart(fit_lifecycle([2020, 2021], [1, 2]), lang="en")
    >>> "undetermined" in " ".join(t.get_text() for t in fig.axes[0].texts)
    True
    """
    if years is None or counts is None:
        yrs = np.asarray(fit.years, dtype=float)
        cum = np.asarray(fit.cumulative, dtype=float)
    else:
        frame = (
            pd.DataFrame({"year": np.asarray(years, dtype=float), "count": np.asarray(counts, dtype=float)})
            .dropna()
            .sort_values("year")
        )
        yrs = frame["year"].to_numpy()
        cum = np.cumsum(frame["count"].to_numpy())
    if len(yrs) == 0:
        return _no_data(lang=lang, title=title)
    fig, ax = _figure()
    ax.plot(yrs, cum, "o", color=PALETTE[0], label=label("observed", lang), zorder=3)
    if fit.determined:
        last = float(yrs.max())
        grid = np.linspace(float(yrs.min()), last, 200)
        ahead = np.linspace(last, last + horizon, 50)
        model_name = label(fit.model, lang)
        ax.plot(grid, fit.predict(grid), "-", color=PALETTE[3],
                label=f"{label('fitted', lang)} ({model_name})")
        if horizon > 0:
            ax.plot(ahead, fit.predict(ahead), "--", color=PALETTE[3],
                    label=f"{label('fitted', lang)} ({label('projection', lang)})")
        k = fit.params["K"]
        ax.axhline(k, color="#666666", linestyle=":", linewidth=1.0)
        x_lo, x_hi = float(yrs.min()), last + horizon
        ax.annotate(f"{label('k', lang)} ≈ {k:.0f}",
                    xy=(x_hi, k), xytext=(0, 3), textcoords="offset points",
                    fontsize=8, color="#444444", ha="right", va="bottom")
        if fit.inflection_year is not None and x_lo <= fit.inflection_year <= x_hi:
            ax.axvline(fit.inflection_year, color="#666666", linestyle="-.", linewidth=0.8)
        sep = "：" if lang == "zh" else ": "
        stage = fit.stage_zh if lang == "zh" else fit.stage_en
        lines = [
            f"{label('stage', lang)}{sep}{stage}",
            f"{label('saturation', lang)}{sep}{fit.saturation:.0%}",
            f"{label('inflection', lang)}{sep}{fit.inflection_year:.1f}",
            f"R² = {fit.r2:.3f}",
        ]
        ax.set_ylim(0, max(k, float(cum.max())) * 1.1)
    else:
        lines = [label("undetermined", lang), fit.reason]
        ax.set_ylim(bottom=0)
    ax.text(0.02, 0.97, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#bbbbbb"})
    _year_axis(ax.xaxis)
    _count_axis(ax.yaxis)
    ax.set_xlabel(label("year", lang))
    ax.set_ylabel(label("cumulative", lang))
    ax.legend(loc="lower right")
    return _finish(fig, ax, title)


def _spaced_labels(x: np.ndarray, y: np.ndarray, max_labels: int, min_gap: float = 0.05) -> list[int]:
    """Points to label so that no two labels overlap: the last and the first point, then
    back in time, each kept only if it lies ``min_gap`` (share of the axis ranges) away
    from every point already labelled; at most ``max_labels``.

    Examples
    --------
    >>> _spaced_labels(np.array([0, 1, 2, 50, 100.0]), np.array([0, 1, 2, 50, 100.0]), 30)
    [0, 3, 4]
    """
    if not len(x):
        return []
    sx = (x - x.min()) / (np.ptp(x) or 1.0)
    sy = (y - y.min()) / (np.ptp(y) or 1.0)
    kept: list[int] = list(dict.fromkeys([len(x) - 1, 0]))[:max_labels]  # the latest and the first year
    for i in range(len(x) - 2, 0, -1):
        if len(kept) >= max_labels:
            break
        if all(max(abs(sx[i] - sx[j]), abs(sy[i] - sy[j])) >= min_gap for j in kept):
            kept.append(i)
    return sorted(kept)


@_styled
def phase_chart(table: pd.DataFrame, *, lang: str = "zh", max_labels: int = 30,
                title: str | None = None) -> Figure:
    """Applicants (y) vs applications (x), one point per year, arrows year to year.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`~pipeline.lifecycle.phase_table` (columns
        ``applications``, ``applicants``, ``label``; ``phase`` colours the arrows).
    max_labels : int, default 30
        At most this many year labels; crowded points are left unlabelled (the latest
        year always has one).

    Examples
    --------
    >>> from pipeline.lifecycle import phase_table
    >>> fig = phase_chart(phase_table([2019, 2020, 2021], [5, 9, 7], [3, 4, 2]))
    >>> fig.axes[0].get_ylabel()
    '申请人数量（个）'
    """
    _require(table, ["applications", "applicants"], "phase_chart")
    data = table.dropna(subset=["applications", "applicants"]).reset_index(drop=True)
    if data.empty:
        return _no_data(lang=lang, title=title)
    labels = data["label"].astype(str) if "label" in data.columns else (
        data["year"].astype(int).astype(str) if "year" in data.columns else pd.Series([""] * len(data)))
    phases = data["phase"].astype(str).tolist() if "phase" in data.columns else ["start"] * len(data)
    x = data["applications"].to_numpy(dtype=float)
    y = data["applicants"].to_numpy(dtype=float)
    fig, ax = _figure(figsize=(6.4, 4.8))
    ax.plot(x, y, "o", color="#444444", zorder=3)
    seen = {}
    for i in range(1, len(x)):
        colour = _PHASE_COLOURS.get(phases[i], "#444444")
        ax.annotate("", xy=(x[i], y[i]), xytext=(x[i - 1], y[i - 1]),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.2,
                                "shrinkA": 3, "shrinkB": 3})
        seen.setdefault(phases[i], colour)
    for i in _spaced_labels(x, y, max_labels):
        ax.annotate(labels.iloc[i], (x[i], y[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    handles = [
        mpl.lines.Line2D([], [], color=colour, lw=1.5,
                         label=PHASES.get(key, (key, key))[1 if lang == "zh" else 0])
        for key, colour in seen.items()
    ]
    if handles:
        ax.legend(handles=handles, loc="best")
    _count_axis(ax.xaxis)
    _count_axis(ax.yaxis)
    ax.margins(0.1)
    ax.set_xlim(left=min(0.0, float(x.min())))
    ax.set_ylim(bottom=min(0.0, float(y.min())))
    ax.set_xlabel(label("applications", lang))
    ax.set_ylabel(label("applicants", lang))
    return _finish(fig, ax, title)


@_styled
def bar_chart(
    df: pd.DataFrame,
    *,
    lang: str = "zh",
    label_col: str = "label",
    value: str = "value",
    horizontal: bool = True,
    top: int | None = 15,
    max_label: int = 24,
    value_label: str | None = None,
    title: str | None = None,
) -> Figure:
    """Ranked bars (top applicants, branches …), largest first, values printed.

    Parameters
    ----------
    df : DataFrame
        Columns ``label`` and ``value`` (names set by ``label_col``/``value``).
    horizontal : bool, default True
        Horizontal bars (largest at the top) — the readable choice for long names.
    top : int or None, default 15
        Keep the ``top`` largest values (ties broken by label, for determinism).
    max_label : int, default 24
        Labels longer than this many display columns (CJK counts 2) end in "…".
    value_label : str, optional
        Axis title of the values (default 数量 / Value).

    Examples
    --------
    >>> df = pd.DataFrame({"label": ["甲公司", "乙大学"], "value": [3, 7]})
    >>> [t.get_text() for t in bar_chart(df).axes[0].get_yticklabels()]
    ['乙大学', '甲公司']
    """
    _require(df, [label_col, value], "bar_chart")
    data = df.dropna(subset=[value])
    if data.empty:
        return _no_data(lang=lang, title=title)
    data = data.assign(_label=data[label_col].astype(str))
    data = data.sort_values([value, "_label"], ascending=[False, True], kind="mergesort")
    if top:
        data = data.head(top)
    names = [shorten_label(s, max_label) for s in data["_label"]]
    values = data[value].to_numpy(dtype=float)
    integral = bool(np.all(values == np.round(values)))
    n = len(values)
    fig, ax = _figure(figsize=(6.4, max(2.0, 0.28 * n + 1.0)) if horizontal else (max(4.0, 0.45 * n + 1.5), 4.0))
    pos = np.arange(n)
    fmt = (lambda v: f"{v:.0f}") if integral else (lambda v: f"{v:.2f}")
    if horizontal:
        bars = ax.barh(pos, values, color=PALETTE[0], height=0.7)
        ax.set_yticks(pos, names)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(value_label or label("value", lang))
        if integral:
            _count_axis(ax.xaxis)
    else:
        bars = ax.bar(pos, values, color=PALETTE[0], width=0.7)
        ax.set_xticks(pos, names, rotation=45, ha="right", rotation_mode="anchor")
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(value_label or label("value", lang))
        if integral:
            _count_axis(ax.yaxis)
    ax.bar_label(bars, labels=[fmt(v) for v in values], padding=2, fontsize=7)
    ax.margins(x=0.08) if horizontal else ax.margins(y=0.08)
    return _finish(fig, ax, title)


@_styled
def stacked_bar(
    df: pd.DataFrame,
    *,
    lang: str = "zh",
    x: str = "year",
    category: str = "category",
    y: str = "count",
    max_categories: int = 8,
    title: str | None = None,
) -> Figure:
    """Composition per year (e.g. filings by technology branch), stacked bars.

    Categories are ordered by their total (largest at the bottom); beyond
    ``max_categories`` the smallest are merged into 其他 / Other. Years missing inside
    the range are drawn empty.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2020, 2020, 2021], "category": ["电池", "电机", "电池"],
    ...                    "count": [4, 1, 6]})
    >>> fig = stacked_bar(df)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]  # top of the stack first
    ['电机', '电池']
    """
    _require(df, [x, category, y], "stacked_bar")
    data = df.dropna(subset=[x, y])
    if data.empty:
        return _no_data(lang=lang, title=title)
    data = data.assign(_cat=data[category].fillna("").astype(str), _x=data[x].astype(int))
    totals = data.groupby("_cat")[y].sum()
    order = sorted(totals.index, key=lambda c: (-totals[c], c))
    if len(order) > max_categories:
        keep = set(order[: max_categories - 1])
        other = label("other", lang)
        data = data.assign(_cat=data["_cat"].where(data["_cat"].isin(keep), other))
        order = order[: max_categories - 1] + [other]
    years = np.arange(int(data["_x"].min()), int(data["_x"].max()) + 1)
    table = data.pivot_table(index="_x", columns="_cat", values=y, aggfunc="sum", fill_value=0)
    table = table.reindex(index=years, columns=order, fill_value=0)
    fig, ax = _figure()
    bottom = np.zeros(len(years))
    colours = list(PALETTE) * (len(order) // len(PALETTE) + 1)
    for cat, colour in zip(order, colours):
        heights = table[cat].to_numpy(dtype=float)
        ax.bar(years, heights, bottom=bottom, width=0.75, color=colour, label=shorten_label(cat, 20))
        bottom += heights
    _year_axis(ax.xaxis)
    _count_axis(ax.yaxis)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(label("year", lang))
    ax.set_ylabel(label("filings", lang))
    # legend top-down in the order of the stack as seen (largest category at the bottom)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _finish(fig, ax, title)


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "black"


@_styled
def heatmap(
    table: pd.DataFrame,
    *,
    lang: str = "zh",
    center: float | None = 1.0,
    cmap: str | None = None,
    fmt: str = "{:.2f}",
    max_label: int = 16,
    colorbar_label: str | None = None,
    title: str | None = None,
) -> Figure:
    """Annotated heat map of a wide table (rows e.g. regions, columns e.g. branches).

    Parameters
    ----------
    table : DataFrame
        Wide: the index labels the rows, the columns label the columns, numeric values
        (e.g. RTA); NaN cells stay blank.
    center : float or None, default 1.0
        Centre of a diverging colour map (1 for RTA: white = no specialisation);
        ``None`` for a sequential map (``cividis``).
    cmap : str, optional
        Override the colour map (default ``RdBu_r`` when centred).
    fmt : str, default "{:.2f}"
        Cell annotation format.

    Examples
    --------
    >>> t = pd.DataFrame({"电池": [1.5, 0.5], "电机": [0.8, 1.2]}, index=["重庆", "上海"])
    >>> fig = heatmap(t)
    >>> sorted(x.get_text() for x in fig.axes[0].texts)
    ['0.50', '0.80', '1.20', '1.50']
    """
    if not isinstance(table, pd.DataFrame):
        raise ChartInputError(f"heatmap: expected a wide DataFrame, got {type(table).__name__}")
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) if table.size else np.empty((0, 0))
    if values.size == 0 or not np.isfinite(values).any():
        return _no_data(lang=lang, title=title)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if center is not None:
        # Symmetric around the centre (RTA 1): equal colour steps for "above" and "below",
        # and a valid norm even when every value lies on one side or equals the centre.
        span = max(abs(hi - center), abs(center - lo), 1e-6 * max(abs(center), 1.0))
        vmin, vmax = center - span, center + span
        if lo >= 0 and center > 0:
            vmin = max(vmin, 0.0)  # a non-negative measure (RTA) gets no negative colours or ticks
        norm = TwoSlopeNorm(vcenter=center, vmin=vmin, vmax=vmax)
        cmap = mpl.colormaps[cmap or "RdBu_r"]
    else:
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        cmap = mpl.colormaps[cmap or "cividis"]
    n_rows, n_cols = values.shape
    fig, ax = _figure(figsize=(max(4.0, 0.7 * n_cols + 2.5), max(2.5, 0.4 * n_rows + 1.5)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                        color=_text_colour(cmap(norm(v))))
    ax.set_xticks(np.arange(n_cols), [shorten_label(c, max_label) for c in table.columns],
                  rotation=45 if n_cols > 4 else 0, ha="right" if n_cols > 4 else "center",
                  rotation_mode="anchor")
    ax.set_yticks(np.arange(n_rows), [shorten_label(r, max_label) for r in table.index])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    if colorbar_label:
        bar.set_label(colorbar_label)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    return _finish(fig, ax, title)


def _time_layout(nodes: pd.DataFrame, node: str, year: str) -> dict:
    """x = year; nodes of one year spread evenly around y = 0, in node order."""
    pos = {}
    for yr, group in nodes.sort_values([year, node], kind="mergesort").groupby(year, sort=True):
        ids = group[node].tolist()
        offsets = np.arange(len(ids)) - (len(ids) - 1) / 2.0
        for nid, off in zip(ids, offsets):
            pos[nid] = (float(yr), float(off))
    return pos


@_styled
def network_chart(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    lang: str = "zh",
    node: str = "node",
    label_col: str = "label",
    year: str = "year",
    src: str = "src",
    dst: str = "dst",
    weight: str = "weight",
    seed: int = 0,
    max_label: int = 14,
    title: str | None = None,
) -> Figure:
    """Small directed network (main path, cluster map) with shortened labels.

    Layout, first that applies: the nodes' ``x``/``y`` columns; a left-to-right time
    layout when every node has a ``year`` (x = year, integer year axis); else
    ``networkx.spring_layout(seed=seed)`` over nodes in sorted order — deterministic.
    Edge width grows with ``weight`` (default 1); nodes named only in ``edges`` are
    drawn with their id as label.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["a", "b"], "label": ["电池管理", "热管理"],
    ...                       "year": [2015, 2018]})
    >>> edges = pd.DataFrame({"src": ["b"], "dst": ["a"], "weight": [2.0]})
    >>> fig = network_chart(nodes, edges)
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['热管理', '电池管理']
    """
    import networkx as nx

    _require(nodes, [node], "network_chart nodes")
    _require(edges, [src, dst], "network_chart edges")
    node_frame = nodes.dropna(subset=[node]).drop_duplicates(subset=[node]).copy()
    edge_frame = edges.dropna(subset=[src, dst])
    extra = sorted(set(edge_frame[src]).union(edge_frame[dst]) - set(node_frame[node]), key=str)
    if extra:
        node_frame = pd.concat([node_frame, pd.DataFrame({node: extra})], ignore_index=True)
    if node_frame.empty:
        return _no_data(lang=lang, title=title)
    labels = {
        n: shorten_label(lbl if isinstance(lbl, str) and lbl else n, max_label)
        for n, lbl in zip(node_frame[node],
                          node_frame[label_col] if label_col in node_frame.columns else node_frame[node])
    }
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(node_frame[node], key=str))
    w = edge_frame[weight].fillna(1.0).astype(float) if weight in edge_frame.columns else pd.Series(1.0, index=edge_frame.index)
    for s, d, wt in sorted(zip(edge_frame[src], edge_frame[dst], w), key=lambda e: (str(e[0]), str(e[1]))):
        graph.add_edge(s, d, weight=float(wt))

    timed = False
    if {"x", "y"} <= set(node_frame.columns) and node_frame[["x", "y"]].notna().all().all():
        pos = {n: (float(a), float(b)) for n, a, b in zip(node_frame[node], node_frame["x"], node_frame["y"])}
    elif year in node_frame.columns and node_frame[year].notna().all():
        pos = _time_layout(node_frame, node, year)
        timed = True
    else:
        pos = nx.spring_layout(graph, seed=seed) if graph.number_of_nodes() > 1 else {
            n: (0.0, 0.0) for n in graph}
        pos = {n: (float(p[0]), float(p[1])) for n, p in pos.items()}

    fig, ax = _figure(figsize=(7.0, 4.5))
    if graph.number_of_edges():
        weights = np.array([d["weight"] for _, _, d in graph.edges(data=True)])
        widths = 0.8 + 2.4 * (weights - weights.min()) / (np.ptp(weights) or 1.0)
        nx.draw_networkx_edges(graph, pos, ax=ax, width=list(widths), edge_color="#777777",
                               arrows=True, arrowstyle="-|>", arrowsize=10, node_size=120)
    xy = np.array([pos[n] for n in graph.nodes])
    ax.scatter(xy[:, 0], xy[:, 1], s=120, color=PALETTE[0], edgecolors="white", linewidths=0.8, zorder=3)
    for n in graph.nodes:
        ax.annotate(labels[n], pos[n], xytext=(0, 7), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    ax.margins(0.12)
    ax.grid(False)
    if timed:
        # networkx's drawing helpers switch the tick labels off; the year axis needs them
        ax.tick_params(axis="x", which="major", bottom=True, labelbottom=True)
        _year_axis(ax.xaxis)
        ax.set_xlabel(label("year", lang))
        ax.yaxis.set_visible(False)
        for side in ("left", "top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.set_axis_off()
    return _finish(fig, ax, title)


# ---------------------------------------------------------------------------- output


def save(fig: Figure, stem: Path | str) -> dict[str, Path]:
    """Write ``fig`` as ``<stem>.png`` (200 dpi) and ``<stem>.svg``; return both paths.

    Byte-identical output for identical figures: Agg PNG, SVG with a fixed hash salt
    and no date, fonts kept as text. The parent folder is created.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {"png": stem.with_name(stem.name + ".png"), "svg": stem.with_name(stem.name + ".svg")}
    with mpl.rc_context(_style()):
        fig.savefig(paths["png"], format="png", dpi=STYLE["savefig.dpi"], bbox_inches="tight",
                    pad_inches=0.05)
        fig.savefig(paths["svg"], format="svg", bbox_inches="tight", pad_inches=0.05,
                    metadata={"Date": None})
    return paths


def save_charts(report, charts_dir: Path | str):
    """``report`` with every chart of its :class:`~pipeline.report.pdf.Figure` blocks
    written to ``charts_dir`` (PNG and SVG, :func:`save`) and the block pointing at its PNG.

    Blocks without a chart are kept as they are.
    """
    from .pdf import Figure as FigureBlock

    blocks = []
    for blk in report.blocks:
        if isinstance(blk, FigureBlock) and blk.chart is not None:
            files = save(blk.chart, Path(charts_dir) / str(blk.path))
            blk = dataclasses.replace(blk, path=files["png"], chart=None)
        blocks.append(blk)
    return dataclasses.replace(report, blocks=blocks)
