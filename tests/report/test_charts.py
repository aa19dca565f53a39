"""Report charts: render in both languages, integer years, CJK text, no global side effects."""

import re
import struct
import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pipeline.errors import ChartInputError, PatNavError
from pipeline.report import charts
from pipeline.report.charts import save, shorten_label
from pipeline.lifecycle import fit_lifecycle, logistic, phase_table

YEARS = np.arange(2005, 2024)
COUNTS = np.round(np.diff(logistic(YEARS, 3000.0, 0.45, 2016.0), prepend=0.0))


def _trend():
    return pd.DataFrame({
        "year": np.r_[YEARS, YEARS],
        "count": np.r_[COUNTS, COUNTS // 3],
        "series": ["全球"] * len(YEARS) + ["中国"] * len(YEARS),
    })


def _stack():
    rows = [(y, c, (y * (i + 1)) % 17) for y in range(2014, 2024)
            for i, c in enumerate(["电池", "电机", "电控", "充电"])]
    return pd.DataFrame(rows, columns=["year", "category", "count"])


def _network_nodes():
    return pd.DataFrame({
        "node": list("abcde"),
        "label": ["一种电池管理系统及其控制方法", "热管理", "电机控制器", "Battery pack", "充电桩"],
        "year": [2010, 2012, 2012, 2015, 2018],
    })


def _network_edges():
    return pd.DataFrame({"src": list("bcdee"), "dst": list("aabdc"), "weight": [1, 2, 3, 1, 2]})


def _heat():
    return pd.DataFrame(
        [[1.5, 0.5, 2.3], [0.8, 1.2, np.nan], [1.0, 3.1, 0.4]],
        index=["重庆市江北区", "上海", "深圳"],
        columns=["电池", "电机", "电控"],
    )


PHASE = phase_table(YEARS, COUNTS, np.round(np.sqrt(COUNTS) + 1))

#: name -> (builder(lang), a Chinese string the zh SVG must contain)
CHARTS = {
    "trend": (lambda lang: charts.trend_chart(_trend(), lang=lang), "全球"),
    "lifecycle": (lambda lang: charts.lifecycle_chart(fit_lifecycle(YEARS, COUNTS), YEARS, COUNTS, lang=lang),
                  "累计申请量"),
    "phase": (lambda lang: charts.phase_chart(PHASE, lang=lang), "申请人数量"),
    "bar": (lambda lang: charts.bar_chart(
        pd.DataFrame({"label": ["比亚迪股份有限公司", "重庆大学", "Robert Bosch GmbH"], "value": [30, 12, 8]}),
        lang=lang), "比亚迪股份有限公司"),
    "stacked": (lambda lang: charts.stacked_bar(_stack(), lang=lang), "电池"),
    "heatmap": (lambda lang: charts.heatmap(_heat(), lang=lang), "重庆市江北区"),
    "network": (lambda lang: charts.network_chart(_network_nodes(), _network_edges(), lang=lang), "热管理"),
}

#: name -> builder(lang) of the chart on empty input
EMPTY = {
    "trend": lambda lang: charts.trend_chart(pd.DataFrame(columns=["year", "count"]), lang=lang),
    "lifecycle": lambda lang: charts.lifecycle_chart(fit_lifecycle([], []), lang=lang),
    "phase": lambda lang: charts.phase_chart(phase_table([], [], []), lang=lang),
    "bar": lambda lang: charts.bar_chart(pd.DataFrame(columns=["label", "value"]), lang=lang),
    "stacked": lambda lang: charts.stacked_bar(pd.DataFrame(columns=["year", "category", "count"]), lang=lang),
    "heatmap": lambda lang: charts.heatmap(pd.DataFrame(), lang=lang),
    "network": lambda lang: charts.network_chart(pd.DataFrame(columns=["node"]),
                                                 pd.DataFrame(columns=["src", "dst"]), lang=lang),
}


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_renders_to_png_and_svg(name, lang, tmp_path):
    build, chinese = CHARTS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Glyph … missing from font"
        fig = build(lang)
        assert isinstance(fig, Figure)
        paths = save(fig, tmp_path / "sub" / f"{name}_{lang}")
    assert set(paths) == {"png", "svg"}
    assert paths["png"].name == f"{name}_{lang}.png" and paths["svg"].suffix == ".svg"
    width, height = _png_size(paths["png"])
    assert 400 <= width <= 4000 and 300 <= height <= 4000
    svg = paths["svg"].read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "<dc:date>" not in svg
    if lang == "zh":
        # svg.fonttype "none": text stays text, so Chinese labels are searchable
        assert chinese in svg
        assert "WenQuanYi Micro Hei" in svg


def _year_tick_texts(fig, axis="x"):
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks if t.get_text()]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.trend_chart(_trend()),
        lambda: charts.trend_chart(pd.DataFrame({"year": [2019, 2020, 2021], "count": [1, 4, 2]})),
        lambda: charts.stacked_bar(_stack()),
        lambda: charts.lifecycle_chart(fit_lifecycle(YEARS, COUNTS)),
        lambda: charts.network_chart(_network_nodes(), _network_edges()),
    ],
    ids=["trend", "trend-3-years", "stacked", "lifecycle", "network-time-layout"],
)
def test_year_axis_ticks_are_plain_integers(build):
    texts = _year_tick_texts(build())
    assert len(texts) >= 2
    assert all(re.fullmatch(r"\d{4}", t) for t in texts), texts


def test_three_year_axis_has_no_half_years():
    fig = charts.trend_chart(pd.DataFrame({"year": [2019, 2020, 2021], "count": [1, 4, 2]}))
    fig.canvas.draw()
    locs = fig.axes[0].xaxis.get_majorticklocs()
    assert np.all(locs == np.round(locs))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_input_gives_a_no_data_figure(name, lang):
    fig = EMPTY[name](lang)
    assert isinstance(fig, Figure)
    assert ("无数据" if lang == "zh" else "No data") in _texts(fig)


def test_axis_labels_follow_lang():
    zh = charts.trend_chart(_trend(), lang="zh").axes[0]
    en = charts.trend_chart(_trend(), lang="en").axes[0]
    assert (zh.get_xlabel(), zh.get_ylabel()) == ("年份", "申请量（件）")
    assert (en.get_xlabel(), en.get_ylabel()) == ("Year", "Filings")


def test_global_rcparams_unchanged(tmp_path):
    keys = list(charts.STYLE) + ["font.sans-serif", "axes.prop_cycle"]
    before = {k: mpl.rcParams[k] for k in keys}
    for build, _ in CHARTS.values():
        fig = build("zh")
    save(fig, tmp_path / "net")
    after = {k: mpl.rcParams[k] for k in keys}
    assert after == before
    assert mpl.rcParams["font.family"] != charts.STYLE["font.family"]


def test_png_and_svg_are_deterministic(tmp_path):
    first = save(charts.trend_chart(_trend()), tmp_path / "a")
    second = save(charts.trend_chart(_trend()), tmp_path / "b")
    assert first["png"].read_bytes() == second["png"].read_bytes()
    assert first["svg"].read_bytes() == second["svg"].read_bytes()
    net_a = save(charts.network_chart(_network_nodes().drop(columns="year"), _network_edges()), tmp_path / "c")
    net_b = save(charts.network_chart(_network_nodes().drop(columns="year"), _network_edges()), tmp_path / "d")
    assert net_a["png"].read_bytes() == net_b["png"].read_bytes()


def test_bar_chart_ranks_keeps_top_and_truncates_long_labels():
    df = pd.DataFrame({"label": ["宁德时代新能源科技股份有限公司", "乙", "丙", "丁"], "value": [9, 3, 7, 1]})
    fig = charts.bar_chart(df, top=3, max_label=12)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["宁德时代新…", "丙", "乙"]
    assert list(fig.axes[0].containers[0].datavalues) == [9, 7, 3]


def test_shorten_label_counts_cjk_double():
    assert shorten_label("重庆长安汽车股份有限公司", 10) == "重庆长安…"
    assert shorten_label("abcdefghijkl", 6) == "abcde…"
    assert shorten_label("短", 6) == "短"
    assert shorten_label(None) == ""


def test_heatmap_is_centred_at_one_and_annotated():
    fig = charts.heatmap(_heat())
    norm = fig.axes[0].images[0].norm
    assert norm.vcenter == 1.0
    texts = _texts(fig)
    assert "3.10" in texts and len(texts) == 8  # the NaN cell stays blank
    sequential = charts.heatmap(_heat(), center=None)
    assert not hasattr(sequential.axes[0].images[0].norm, "vcenter")


def test_lifecycle_chart_annotates_the_stage():
    fit = fit_lifecycle(YEARS, COUNTS)
    text = "\n".join(_texts(charts.lifecycle_chart(fit)))
    assert f"阶段：{fit.stage_zh}" in text
    text_en = "\n".join(_texts(charts.lifecycle_chart(fit, lang="en")))
    assert f"Stage: {fit.stage_en}" in text_en
    undetermined = "\n".join(_texts(charts.lifecycle_chart(fit_lifecycle([2020, 2021, 2022], [1, 2, 3]))))
    assert "无法判定" in undetermined and "too few years" in undetermined


def test_phase_chart_draws_an_arrow_per_step_and_year_labels():
    fig = charts.phase_chart(PHASE)
    ax = fig.axes[0]
    arrows = [t for t in ax.texts if t.get_text() == "" and t.arrow_patch is not None]
    assert len(arrows) == len(PHASE) - 1
    assert "2005" in _texts(fig) and "2023" in _texts(fig)


def test_network_spring_layout_is_seeded_and_edges_add_missing_nodes():
    nodes = _network_nodes().drop(columns="year").iloc[:3]
    fig = charts.network_chart(nodes, _network_edges())
    texts = _texts(fig)
    assert {"d", "e"} <= set(texts)  # nodes named only in edges keep their id
    assert "一种电池管理…" in texts  # 14 columns: 6 CJK characters + "…"


def test_bad_input_raises_named_errors():
    with pytest.raises(ChartInputError, match="lacks column"):
        charts.trend_chart(pd.DataFrame({"yr": [2020], "count": [1]}))
    with pytest.raises(ChartInputError, match="lang"):
        charts.bar_chart(pd.DataFrame({"label": ["a"], "value": [1]}), lang="fr")
    with pytest.raises(ChartInputError, match="wide DataFrame"):
        charts.heatmap([[1, 2]])
    assert issubclass(ChartInputError, PatNavError)


def test_missing_cjk_font_falls_back_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(charts, "CJK_FONT_PATH", tmp_path / "absent.ttc")
    charts._font_family.cache_clear()
    try:
        with pytest.warns(UserWarning, match="CJK font not found"):
            fig = charts.trend_chart(_trend().assign(series="World"), lang="en")
        assert isinstance(fig, Figure)
    finally:
        charts._font_family.cache_clear()


@pytest.mark.parametrize("values", [[[1.0, 1.0]], [[1.5, 2.0]], [[0.2, 0.5]]])
def test_heatmap_centred_on_one_side_or_on_the_centre(values):
    # Regression: all RTA values ≥ 1 (or all = 1) made TwoSlopeNorm refuse its limits.
    fig = charts.heatmap(pd.DataFrame(values, index=["CN"], columns=["a", "b"]))
    assert len(fig.axes[0].texts) == 2


def test_rta_heatmap_scale_starts_at_zero_and_is_white_at_one():
    import pandas as pd

    from pipeline.report import charts

    fig = charts.heatmap(pd.DataFrame({"a": [0.0, 4.2], "b": [1.0, 0.5]}, index=["x", "y"]), center=1.0)
    image = fig.axes[0].images[0]
    assert image.norm.vmin == 0.0 and image.norm.vmax == pytest.approx(4.2) and image.norm.vcenter == 1.0
    assert image.norm(1.0) == pytest.approx(0.5)  # the neutral point is the middle colour
    ticks = [float(t) for t in fig.axes[1].get_yticks() if fig.axes[1].get_ylim()[0] <= t <= fig.axes[1].get_ylim()[1]]
    assert min(ticks) >= 0


def test_trend_chart_shades_the_years_not_yet_all_published():
    import pandas as pd

    from pipeline.report import charts

    df = pd.DataFrame({"year": [2019, 2020, 2021, 2022], "count": [3, 5, 8, 2]})
    ax = charts.trend_chart(df, lang="en", complete_through=2020).axes[0]
    spans = [p for p in ax.patches if p.get_label() == "not all published yet"]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert (x0, x1) == (2020.5, 2022.5)
    assert not [p for p in charts.trend_chart(df, complete_through=2022).axes[0].patches if p.get_label()]


def test_short_branch_names_tell_the_branches_apart():
    import yaml

    from pipeline.classify.rules import TAXONOMY_PATH
    from pipeline.report.content import branch_names

    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    for lang in ("zh", "en"):
        short = branch_names(tax, lang, short=True)
        for ind in tax["industries"]:
            names = [v for k, v in short.items() if k.startswith(f"{ind}.")]
            # distinct even when cut to a chart label's 8 characters
            assert len({n[:8] for n in names}) == len(names), (lang, ind, names)
    assert branch_names(tax, "zh", short=True)["nev.components"] == "装置与配件"
    assert branch_names(tax, "zh")["nev.components"] == "新能源汽车装置、配件制造"


def test_charts_are_written_by_the_stage_not_while_the_document_is_built(tmp_path):
    from matplotlib.figure import Figure as MplFigure

    from pipeline.report.charts import save_charts
    from pipeline.report.pdf import Figure, Heading, Report

    fig = MplFigure(figsize=(3, 2))
    fig.add_subplot().plot([1, 2, 3])
    on_disk = tmp_path / "kept.png"
    on_disk.write_bytes(b"png")
    doc = Report("t", blocks=[Heading("A"), Figure("01_trend_zh", "cap", chart=fig), Figure(on_disk, "kept")])
    assert not any(tmp_path.glob("charts*"))  # a built document holds its charts, unwritten
    saved = save_charts(doc, tmp_path / "charts")
    assert saved.blocks[1].path == tmp_path / "charts" / "01_trend_zh.png" and saved.blocks[1].chart is None
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["01_trend_zh.png", "01_trend_zh.svg"]
    assert saved.blocks[0] == doc.blocks[0] and saved.blocks[2] == doc.blocks[2]
    assert doc.blocks[1].path == "01_trend_zh"  # the built document is left as it was
