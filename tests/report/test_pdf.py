"""PDF report renderer: checked with the real poppler tools on small zh and en reports."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PatNavError, ReportRenderError
from pipeline.report.pdf import (
    DEFAULT_FONT_PATH,
    Figure,
    Heading,
    KeyFigures,
    PageBreak,
    Paragraph,
    Report,
    Table,
    format_number,
    render_pdf,
)

pytestmark = pytest.mark.skipif(
    not DEFAULT_FONT_PATH.is_file(),
    reason=f"CJK font {DEFAULT_FONT_PATH} not installed (apt-get install fonts-wqy-microhei)",
)

HOSTILE = 'hostile <b>not bold</b> &amp; =HYPERLINK("http://x")'
N_ROWS = 150

HEADINGS = {
    "zh": [("总体概况", 1), ("申请趋势", 2), ("主要申请人", 2), ("结论与建议", 1), ("技术布局", 2)],
    "en": [("Overview", 1), ("Filing trend", 2), ("Top applicants", 2), ("Conclusions", 1),
           ("Technology mix", 2)],
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([_tool(args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def _pages(pdf: Path) -> int:
    info = _run("pdfinfo", str(pdf)).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _make_png(path: Path) -> Path:
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.font_manager import FontProperties

    cjk = FontProperties(fname=str(DEFAULT_FONT_PATH))
    fig = MplFigure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.bar(["华为", "宁德时代", "比亚迪"], [120, 95, 60], color="#2E75B6")
    for label in ax.get_xticklabels():
        label.set_fontproperties(cjk)
    ax.set_ylabel("patents")
    fig.savefig(path, dpi=80, metadata={"Software": None})
    return path


def _long_frame() -> pd.DataFrame:
    i = np.arange(N_ROWS)
    return pd.DataFrame({
        "编号 ID": [f"CN{k:04d}" for k in i],
        "申请人 Applicant": [f"第{k}号新能源汽车动力电池科技股份有限公司 Battery Co." for k in i],
        "专利数": i * 1000 + 7,
        "占比": (i + 1) / 1000,
        "被引": [np.nan if k % 3 == 0 else float(k) for k in i],
    })


def _report(lang: str, png: Path) -> Report:
    h = HEADINGS[lang]
    zh = lang == "zh"
    blocks = [
        KeyFigures([("专利总数" if zh else "Patents", 123456), ("申请人" if zh else "Applicants", 789),
                    ("年均增长" if zh else "Growth", 0.1234)]),
        Heading(*h[0]),
        Paragraph("本报告分析 **新能源汽车** 产业的专利布局，覆盖 Huawei、比亚迪等主要申请人。" * 3),
        Paragraph("English text with 中文名称 mixed in."),
        Paragraph(HOSTILE),
        Paragraph("要点一：申请量持续增长" if zh else "Point one: filings grow", bullet=True),
        Heading(*h[1]),
        Figure(png, "主要申请人专利数量" if zh else "Patents of the top applicants",
               source="CNIPA"),
        Heading(*h[2]),
        Table(_long_frame(), "申请人排名" if zh else "Applicant ranking", source="PatNav"),
        PageBreak(),
        Heading(*h[3]),
        Paragraph("结论。" if zh else "Conclusions."),
        Heading(*h[4]),
        Table(pd.DataFrame({"name": ["<i>x</i> & y"], "v": [1.5]}), "小表" if zh else "Small"),
    ]
    meta = {"project": "NEV", "organisation": "某某知识产权中心", "date": "2024-06-01",
            "version": "1.0"}
    return Report("新能源汽车产业专利导航报告" if zh else "NEV patent navigation report",
                  "Patent navigation" if zh else "专利导航分析", lang, meta, blocks)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pdf")
    png = _make_png(tmp / "applicants.png")
    return {lang: render_pdf(_report(lang, png), tmp / f"report_{lang}.pdf")
            for lang in ("zh", "en")}


@pytest.fixture(scope="module")
def texts(rendered) -> dict[str, str]:
    return {lang: _run("pdftotext", "-layout", str(pdf), "-").stdout
            for lang, pdf in rendered.items()}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_font_is_embedded(rendered, lang):
    out = _run("pdffonts", str(rendered[lang])).stdout.splitlines()
    rows = out[2:]  # after the header and the dashes
    assert rows, "no fonts at all: text would not be text"
    for row in rows:
        assert "Type 3" not in row, row
        # columns: name type encoding emb sub uni object ID; emb is the 5th field from the end
        assert row.split()[-5] == "yes", f"font not embedded: {row}"
        assert "Helvetica" not in row and "Times" not in row, row


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_headings_captions_and_cells(texts, lang):
    text = texts[lang]
    flat = re.sub(r"\s+", "", text)
    for heading, _ in HEADINGS[lang]:
        assert heading.replace(" ", "") in flat
    # automatic numbering: "1 …", "1.2 …", "2.1 …"
    assert re.search(r"1\.2\s+" + re.escape(HEADINGS[lang][2][0]), text)
    assert re.search(r"2\.1\s+" + re.escape(HEADINGS[lang][4][0]), text)
    # contents page
    assert ("目录" if lang == "zh" else "Contents") in text
    if lang == "zh":
        assert "图1主要申请人专利数量" in flat
        assert "表1申请人排名" in flat and "表2小表" in flat
        assert "数据来源：CNIPA" in flat
        assert "（续表）" in text
        assert re.search(r"第\s*3\s*页", text)
        assert "关键数据" in text
    else:
        assert "Figure 1" in text and "Table 1" in text and "Table 2" in text
        assert "Source: CNIPA" in text
        assert "(continued)" in text
        assert re.search(r"Page\s+3", text)
        assert "Key figures" in text
    # the last rows of the long table made it, formatted
    assert "CN0149" in text and "149,007" in text
    assert "0.1500" in text or "0.150" in text
    assert "123,456" in text  # key figure with thousands separator
    # hostile text printed literally, markup emphasis removed
    assert HOSTILE in text
    assert "<i>x</i> & y" in text
    assert "**" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cover_has_no_page_number_and_body_pages_do(texts, lang):
    pages = texts[lang].split("\f")
    number = r"第\s*\d+\s*页" if lang == "zh" else r"Page\s+\d+"
    assert not re.search(number, pages[0])
    assert "2024-06-01" in pages[0]
    assert all(re.search(number, p) for p in pages[1:] if p.strip())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_long_table_spans_pages_and_every_page_renders(rendered, tmp_path, lang):
    pdf = rendered[lang]
    pages = _pages(pdf)
    assert pages >= 4
    _run("pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page"))
    assert len(list(tmp_path.glob("page*.png"))) == pages


def test_toc_page_numbers_match_the_body(texts):
    pages = texts["zh"].split("\f")
    toc = pages[1]
    heading = HEADINGS["zh"][3][0]
    listed = int(re.search(re.escape(heading) + r"[ .]*(\d+)", toc).group(1))
    found = next(n for n, p in enumerate(pages, 1) if n > 2 and heading in p)
    assert listed == found


def test_same_report_gives_the_same_bytes(tmp_path):
    png = _make_png(tmp_path / "fig.png")
    report = _report("zh", png)
    first = render_pdf(report, tmp_path / "a.pdf").read_bytes()
    second = render_pdf(report, tmp_path / "b.pdf").read_bytes()
    assert first == second


def test_missing_figure_names_the_path(tmp_path):
    missing = tmp_path / "nope" / "fig.png"
    report = Report("t", "", "en", {}, [Heading("A"), Figure(missing, "cap")])
    with pytest.raises(ReportRenderError, match=re.escape(str(missing))) as err:
        render_pdf(report, tmp_path / "x.pdf")
    assert isinstance(err.value, PatNavError)


@pytest.mark.parametrize(
    ("blocks", "lang", "message"),
    [
        (["just a string"], "en", "unknown block type"),
        ([Heading("deep", level=4)], "en", "level"),
        ([Table([[1, 2]], "not a frame")], "en", "DataFrame"),
        ([Table(pd.DataFrame({"a": [1]}), "c", col_widths=[1, 2])], "en", "col_widths"),
        ([], "fr", "lang"),
    ],
)
def test_bad_input_raises_named_error(tmp_path, blocks, lang, message):
    with pytest.raises(ReportRenderError, match=message):
        render_pdf(Report("t", "", lang, {}, blocks), tmp_path / "x.pdf")


def test_unreadable_png_is_a_named_error(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    with pytest.raises(ReportRenderError, match="fake.png"):
        render_pdf(Report("t", "", "en", {}, [Figure(fake, "c")]), tmp_path / "x.pdf")


def test_empty_report_is_a_cover_only(tmp_path):
    pdf = render_pdf(Report("空报告", lang="zh"), tmp_path / "sub" / "empty.pdf")
    assert _pages(pdf) == 1
    assert "空报告" in _run("pdftotext", str(pdf), "-").stdout


def test_table_options_and_empty_frame(tmp_path):
    frame = pd.DataFrame({"name": ["a", "b", "c"], "share": [0.5, 0.25, np.nan], "n": [1, 2, 3]})
    report = Report("t", "", "en", {}, [
        Table(frame, "formatted", max_rows=2, number_format={"share": ".1%"}, col_widths=[4, 3, 3]),
        Table(frame.iloc[0:0], "empty"),
    ])
    text = _run("pdftotext", "-layout", str(render_pdf(report, tmp_path / "t.pdf")), "-").stdout
    assert "50.0%" in text and "25.0%" in text
    assert "first 2 of 3 rows shown" in text
    assert "Table 2 empty" in text


def test_svg_figure_when_svglib_is_installed(tmp_path):
    pytest.importorskip("svglib", reason="svglib not installed: SVG figures are optional")
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(4, 3))
    fig.subplots().plot([1, 2, 3], [3, 1, 2])
    svg = tmp_path / "line.svg"
    fig.savefig(svg)
    pdf = render_pdf(Report("t", "", "en", {}, [Figure(svg, "svg")]), tmp_path / "s.pdf")
    fonts = _run("pdffonts", str(pdf)).stdout.splitlines()[2:]
    assert all(row.split()[-5] == "yes" for row in fonts)
    assert "Figure 1" in _run("pdftotext", str(pdf), "-").stdout


def test_format_number():
    assert format_number(1234567) == "1,234,567"
    assert format_number(np.int64(1000)) == "1,000"
    assert format_number(2.5) == "2.50"
    assert format_number(0.001234) == "0.0012"
    assert format_number(np.nan) == "–"
    assert format_number(None) == "–"
    assert format_number(pd.NA) == "–"
    assert format_number("<b>") == "<b>"


def test_no_chinese_line_starts_with_closing_punctuation():
    from reportlab.platypus import Paragraph as RLParagraph

    from pipeline.report import pdf

    font = pdf.register_cjk_font(pdf.DEFAULT_FONT_PATH)
    style = pdf._styles(font, "zh")["body"]
    texts = ["累计申请曲线拟合显示该领域处于萌芽期（拟合 R² = 0.991）。但申请量仍在加速、饱和规模无法识别，该阶段判断仅供参考。",
             "强化或进入新能源汽车整车制造（本区相对短板、全领域未萎缩）：本区 0 件，RTA 0；全领域截至 2021 年增长 166.9%。"]
    starts = []
    for text in texts:
        for width in range(200, 480, 3):  # every break position the text can meet
            para = RLParagraph(text, style)
            para.wrap(width, 10_000)
            starts += [line[1][0][:1] for line in para.blPara.lines[1:]]
    assert starts and not [c for c in starts if c in pdf.CANNOT_START_LINE_ZH + "。、"]
