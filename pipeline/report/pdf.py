"""Bilingual (Chinese-first) PDF reports: a small document model and its reportlab renderer.

A report is data, not drawing code. Stages and notebooks describe *what* goes into a report
with a handful of frozen blocks, and :func:`render_pdf` decides *how* it looks:

======================  =====================================================================
Block                   Rendered as
======================  =====================================================================
:class:`Heading`        numbered heading ("1", "1.1", "1.1.1"), listed in the table of
                        contents and in the PDF outline (bookmarks)
:class:`Paragraph`      body text; ``**bold**`` spans are emphasised, ``bullet=True`` gives a
                        bullet item; everything else is literal text (``<``, ``>``, ``&`` are
                        escaped, so user data cannot break the markup)
:class:`Figure`         a PNG (or SVG when ``svglib`` is installed) with a numbered caption
                        "图 1 …" / "Figure 1 …" below and a source line
:class:`Table`          a pandas DataFrame as a long table: numbered caption "表 1 …" /
                        "Table 1 …" above, header repeated on every page with a
                        "（续表）" / "(continued)" mark, zebra rows, numbers right-aligned
                        and formatted, text wrapped inside the cells
:class:`KeyFigures`     a compact highlighted box of (label, value) pairs for the summary
:class:`PageBreak`      a page break
======================  =====================================================================

A :class:`Report` holds the title, subtitle, language (``"zh"`` or ``"en"``: it chooses the
fixed words such as "目录" / "Contents", "第 3 页" / "Page 3", "数据来源：" / "Source: "),
the cover meta data and the blocks. The rendered PDF has a cover page, a table of contents
(page numbers resolved by a multi-pass build) and the body, on A4 portrait with a running
header (short title) and a page number on every page but the cover.

Every glyph is drawn with one embedded CJK TrueType font (WenQuanYi Micro Hei by default),
for both languages, so Chinese names in English reports render too and no unembedded base-14
font (Helvetica) ever enters the file. Bold is simulated by stroking the glyph outlines for
headings, table headers and key figures; inline ``**bold**`` spans use the accent colour
because the font has no bold face. The build is invariant: the same report gives the same
bytes, and no clock is read (the cover shows ``meta["date"]``).
"""

from __future__ import annotations

import math
import re
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import PageBreak as RLPageBreak
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.lib import textsplit as _rl_textsplit
from reportlab.platypus import paragraph as _rl_paragraph
from reportlab.platypus.tableofcontents import TableOfContents

from pipeline.errors import ReportRenderError

__all__ = [
    "Heading",
    "Paragraph",
    "Figure",
    "Table",
    "PageBreak",
    "KeyFigures",
    "Report",
    "Block",
    "render_pdf",
    "register_cjk_font",
    "format_number",
    "DEFAULT_FONT_PATH",
]

#: The CJK font every report is set in (Debian/Ubuntu package ``fonts-wqy-microhei``).
DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


# --------------------------------------------------------------------------- document model


@dataclass(frozen=True)
class Heading:
    """A section heading; numbered automatically and listed in the table of contents.

    Parameters
    ----------
    text : str
        Heading text without a number (the renderer adds "1", "1.1", …).
    level : {1, 2, 3}
        Nesting depth. A level without a parent heading before it is numbered with a
        zero for the missing parent ("0.1").
    """

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """Body text.

    Parameters
    ----------
    text : str
        Plain text. ``**spans**`` are emphasised; newlines become line breaks; any other
        character, including ``<``, ``>`` and ``&``, is printed literally.
    bullet : bool
        Render as a bullet item ("•").
    """

    text: str
    bullet: bool = False


@dataclass(frozen=True)
class Figure:
    """A picture with a numbered caption ("图 1 …" / "Figure 1 …") below it.

    Parameters
    ----------
    path : str or Path
        PNG file (or SVG if ``svglib`` is installed; SVG text should be paths, matplotlib's
        default ``svg.fonttype``). It must exist when the report is rendered.
    caption : str
        Caption without the number.
    source : str, optional
        Data source, printed as "数据来源：…" / "Source: …".
    width_cm : float
        Printed width; reduced if it does not fit the text block.
    chart : matplotlib.figure.Figure, optional
        A chart not yet written: ``path`` is then its file name without suffix, and
        :func:`pipeline.report.charts.save_charts` writes it and sets ``path``.
    """

    path: str | Path
    caption: str
    source: str | None = None
    width_cm: float = 16
    chart: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class Table:
    """A DataFrame printed as a numbered table ("表 1 …" / "Table 1 …") that may span pages.

    Parameters
    ----------
    data : pandas.DataFrame
        The rows to print; column names become the header.
    caption : str
        Caption without the number.
    source : str, optional
        Data source, printed below the table.
    col_widths : sequence of float, optional
        Column widths in centimetres; scaled down to the text block if too wide. By default
        widths follow the content length and fill the text block.
    max_rows : int, optional
        Print only the first ``max_rows`` rows and say so below the table.
    number_format : str or mapping, optional
        A Python format spec (e.g. ``",.1f"``, ``".1%"``) for every numeric column, or a
        mapping column → spec. Other numbers use :func:`format_number`.
    """

    data: pd.DataFrame
    caption: str
    source: str | None = None
    col_widths: Sequence[float] | None = None
    max_rows: int | None = None
    number_format: str | Mapping[str, str] | None = None


@dataclass(frozen=True)
class PageBreak:
    """Start a new page."""


@dataclass(frozen=True)
class KeyFigures:
    """A highlighted box of headline numbers for the one-page summary.

    Parameters
    ----------
    items : sequence of (label, value)
        Value is printed large (numbers via :func:`format_number`), label small below it.
    title : str, optional
        Box title; defaults to "关键数据" / "Key figures".
    """

    items: Sequence[tuple[str, Any]]
    title: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "items", tuple(tuple(item) for item in self.items))


Block = Heading | Paragraph | Figure | Table | PageBreak | KeyFigures


@dataclass(frozen=True)
class Report:
    """A whole report: cover data plus the body blocks in reading order.

    Parameters
    ----------
    title, subtitle : str
        Printed on the cover; the title also heads every page.
    lang : {"zh", "en"}
        Language of the fixed words (captions, page numbers, table of contents).
    meta : mapping
        Cover lines, e.g. ``{"project": …, "organisation": …, "date": …, "version": …}``;
        known keys get translated labels, others are printed as given.
    blocks : sequence of Block
        Body content.
    """

    title: str
    subtitle: str = ""
    lang: Literal["zh", "en"] = "zh"
    meta: Mapping[str, Any] = field(default_factory=dict)
    blocks: Sequence[Block] = ()

    def __post_init__(self):
        object.__setattr__(self, "blocks", tuple(self.blocks))


# --------------------------------------------------------------------------- words per language

_WORDS = {
    "zh": {
        "toc": "目录",
        "figure": "图 {n}",
        "table": "表 {n}",
        "continued": "{label}（续表）",
        "source": "数据来源：{source}",
        "page": "第 {n} 页",
        "truncated": "注：仅列出前 {shown} 行（共 {total} 行）。",
        "key_figures": "关键数据",
        "caption_sep": "  ",
        "meta": {
            "project": "项目",
            "organisation": "编制单位",
            "organization": "编制单位",
            "author": "编制人",
            "date": "日期",
            "version": "版本",
        },
        "meta_sep": "：",
    },
    "en": {
        "toc": "Contents",
        "figure": "Figure {n}",
        "table": "Table {n}",
        "continued": "{label} (continued)",
        "source": "Source: {source}",
        "page": "Page {n}",
        "truncated": "Note: first {shown} of {total} rows shown.",
        "key_figures": "Key figures",
        "caption_sep": "  ",
        "meta": {
            "project": "Project",
            "organisation": "Organisation",
            "organization": "Organisation",
            "author": "Author",
            "date": "Date",
            "version": "Version",
        },
        "meta_sep": ": ",
    },
}

# --------------------------------------------------------------------------- fonts

_REGISTERED: dict[str, str] = {}


def register_cjk_font(font_path: str | Path = DEFAULT_FONT_PATH) -> str:
    """Register a CJK TrueType font with reportlab once and return its reportlab name.

    The font is mapped as its own bold/italic face, so ``<b>`` never falls back to an
    unembedded base-14 font.

    Parameters
    ----------
    font_path : str or Path
        A ``.ttf`` or ``.ttc`` file (the first face of a collection is used).

    Returns
    -------
    str
        The font name to use in styles.

    Raises
    ------
    ReportRenderError
        The font file is missing or not a usable TrueType font.
    """
    key = str(Path(font_path).resolve())
    if key in _REGISTERED:
        return _REGISTERED[key]
    path = Path(font_path)
    if not path.is_file():
        raise ReportRenderError(
            f"{path}: CJK font not found; install it (apt-get install fonts-wqy-microhei) "
            "or pass font_path= to render_pdf"
        )
    name = "PatNav-" + re.sub(r"[^A-Za-z0-9]+", "", path.stem)
    try:
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    except Exception as exc:  # reportlab raises bare TTFError/KeyError for bad fonts
        raise ReportRenderError(f"{path}: not a usable TrueType font ({exc})") from exc
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    _REGISTERED[key] = name
    return name


# --------------------------------------------------------------------------- text helpers

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _markup(text: Any, emphasis: str | None = None) -> str:
    """Escape ``text`` for a reportlab Paragraph; optionally turn ``**x**`` into emphasis."""
    s = escape(_CONTROL.sub("", str(text)))
    if emphasis is not None:
        s = _BOLD.sub(lambda m: f'<b><font color="{emphasis}">{m.group(1)}</font></b>', s)
    return s.replace("\r\n", "\n").replace("\n", "<br/>")


def format_number(value: Any) -> str:
    """Format one table value for print.

    Integers get thousands separators, floats two decimals (up to four for values below
    one), missing values a dash; everything else is ``str(value)``.

    Examples
    --------
    >>> format_number(1234567)
    '1,234,567'
    >>> format_number(3.14159)
    '3.14'
    >>> format_number(0.012345)
    '0.0123'
    >>> format_number(float("nan"))
    '–'
    >>> format_number("华为")
    '华为'
    """
    if value is None or (not isinstance(value, (str, bytes)) and _isna(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if x == 0 or abs(x) >= 1:
            return f"{x:,.2f}"
        decimals = min(4, max(2, 2 - math.floor(math.log10(abs(x)))))
        return f"{x:,.{decimals}f}"
    return str(value)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other non-scalars are not "missing"
        return False


# --------------------------------------------------------------------------- styles

_INK = colors.HexColor("#1F2933")
_NAVY = colors.HexColor("#1F3A5F")
_ACCENT = colors.HexColor("#2E75B6")
_MUTED = colors.HexColor("#6B7785")
_RULE = colors.HexColor("#C5CED8")
_ZEBRA = colors.HexColor("#F2F5F9")
_TINT = colors.HexColor("#EAF2FA")

_PAGE_W, _PAGE_H = A4
_MARGIN_L = _MARGIN_R = 2.2 * cm
_MARGIN_T = 2.6 * cm
_MARGIN_B = 2.3 * cm
_FRAME_W = _PAGE_W - _MARGIN_L - _MARGIN_R
_FRAME_H = _PAGE_H - _MARGIN_T - _MARGIN_B


# Chinese line breaking (GB/T 15834 and common typesetting): no line starts with closing
# punctuation. reportlab's CJK wrap keeps a list of such characters that lacks the
# full-width comma, semicolon, colon, question and exclamation marks and some closing
# brackets; its two wrappers (one-style and mixed-style paragraphs) read the module-level
# names, so both lists are completed here.
CANNOT_START_LINE_ZH = "，；：？！）》」』】〕〗〉…·％"
for _module in (_rl_textsplit, _rl_paragraph):
    _module.ALL_CANNOT_START += "".join(c for c in CANNOT_START_LINE_ZH if c not in _module.ALL_CANNOT_START)
_rl_word_split = _rl_textsplit.wordSplit


def _word_split_zh(word, maxWidths, fontName, fontSize, encoding="utf8"):  # noqa: N803 (reportlab's names)
    """reportlab's one-style CJK wrap, then a second closing mark ("）：", "）。") that would
    start a line hangs at the end of the line before, as the first one already does."""
    lines = _rl_word_split(word, maxWidths, fontName, fontSize, encoding)
    for k in range(1, len(lines)):
        text = lines[k][1]
        lead = len(text) - len(text.lstrip(_rl_textsplit.ALL_CANNOT_START))
        if lead and lead < len(text):
            lines[k - 1][1] += text[:lead]
            lines[k - 1][0] -= pdfmetrics.stringWidth(text[:lead], fontName, fontSize)
            lines[k][1] = text[lead:]
            lines[k][0] += pdfmetrics.stringWidth(text[:lead], fontName, fontSize)
    return lines


_rl_paragraph.wordSplit = _word_split_zh


def _hex(color) -> str:
    return "#" + color.hexval()[2:]


def _styles(font: str, lang: str) -> dict[str, ParagraphStyle]:
    wrap = "CJK" if lang == "zh" else None
    base = ParagraphStyle(
        "base",
        fontName=font,
        bulletFontName=font,
        fontSize=10,
        leading=15.5,
        textColor=_INK,
        wordWrap=wrap,
    )

    def derive(name, **kw):
        return ParagraphStyle(name, parent=base, **kw)

    s = {
        "body": derive(
            "body",
            spaceAfter=6,
            firstLineIndent=20 if lang == "zh" else 0,
            alignment=TA_LEFT,
        ),
        "bullet": derive("bullet", leftIndent=16, bulletIndent=4, spaceAfter=3),
        "h1": derive("h1", fontSize=16, leading=22, textColor=_NAVY, spaceBefore=14,
                     spaceAfter=8, keepWithNext=1),
        "h2": derive("h2", fontSize=13, leading=18, textColor=_NAVY, spaceBefore=10,
                     spaceAfter=6, keepWithNext=1),
        "h3": derive("h3", fontSize=11, leading=16, textColor=_INK, spaceBefore=8,
                     spaceAfter=4, keepWithNext=1),
        "caption": derive("caption", fontSize=9.5, leading=13, alignment=TA_CENTER,
                          textColor=_INK, spaceBefore=4, spaceAfter=2),
        "source": derive("source", fontSize=8, leading=11, textColor=_MUTED, spaceAfter=10),
        "cell": derive("cell", fontSize=8.5, leading=11),
        "cell_num": derive("cell_num", fontSize=8.5, leading=11, alignment=TA_RIGHT),
        "head": derive("head", fontSize=8.5, leading=11, textColor=colors.white),
        "head_num": derive("head_num", fontSize=8.5, leading=11, textColor=colors.white,
                           alignment=TA_RIGHT),
        "kf_title": derive("kf_title", fontSize=10.5, leading=14, textColor=_NAVY),
        "kf_value": derive("kf_value", fontSize=17, leading=21, textColor=_ACCENT),
        "kf_label": derive("kf_label", fontSize=8.5, leading=11, textColor=_MUTED),
        "cover_title": derive("cover_title", fontSize=26, leading=36, textColor=_NAVY),
        "cover_subtitle": derive("cover_subtitle", fontSize=14, leading=20, textColor=_ACCENT,
                                 spaceBefore=8),
        "cover_meta": derive("cover_meta", fontSize=11, leading=18, textColor=_INK),
        "toc_title": derive("toc_title", fontSize=18, leading=24, textColor=_NAVY,
                            spaceAfter=14),
    }
    s["toc"] = [
        derive("toc1", fontSize=11, leading=18, leftIndent=0, firstLineIndent=0,
               spaceBefore=4, textColor=_INK),
        derive("toc2", fontSize=10, leading=15, leftIndent=18, firstLineIndent=0,
               textColor=_INK),
        derive("toc3", fontSize=9.5, leading=14, leftIndent=36, firstLineIndent=0,
               textColor=_MUTED),
    ]
    return s


# --------------------------------------------------------------------------- flowables


class _StrokedParagraph(RLParagraph):
    """A paragraph drawn with fill+stroke (text render mode 2): bold from a regular face."""

    def draw(self):
        canv = self.canv
        canv.saveState()
        canv.setStrokeColor(self.style.textColor)
        canv.setLineWidth(self.style.fontSize * 0.035)
        # Tr is graphics state, so it persists into the paragraph's own BT…ET blocks.
        mode = canv.beginText()
        mode.setTextRenderMode(2)
        canv.drawText(mode)
        super().draw()
        canv.restoreState()


class _HeadingParagraph(_StrokedParagraph):
    """A heading that reports itself to the table of contents and the outline."""

    def __init__(self, markup, style, level, toc_text, outline_text, key):
        super().__init__(markup, style)
        self.level = level
        self.toc_text = toc_text
        self.outline_text = outline_text
        self.key = key


class _ContinuedTable(LongTable):
    """A LongTable whose continuation parts carry a "表 1（续表）" mark above them."""

    continued_mark: str | None = None  # text for continuation parts
    is_continuation: bool = False
    mark_font: str = ""
    _MARK_H = 14

    def _extra(self) -> float:
        return self._MARK_H if self.is_continuation and self.continued_mark else 0

    def wrap(self, availWidth, availHeight):
        w, h = super().wrap(availWidth, availHeight - self._extra())
        return w, h + self._extra()

    def split(self, availWidth, availHeight):
        parts = super().split(availWidth, availHeight - self._extra())
        for i, part in enumerate(parts):
            if isinstance(part, _ContinuedTable):
                part.continued_mark = self.continued_mark
                part.mark_font = self.mark_font
                part.is_continuation = self.is_continuation or i > 0
        return parts

    def draw(self):
        super().draw()
        if self._extra():
            canv = self.canv
            canv.saveState()
            canv.setFont(self.mark_font, 8.5)
            canv.setFillColor(_MUTED)
            canv.drawRightString(self._width, self._height + 4, self.continued_mark)
            canv.restoreState()


class _Doc(BaseDocTemplate):
    """Doc template that feeds headings to the TOC and the PDF outline."""

    def beforeDocument(self):
        self._outline_level = -1

    def afterFlowable(self, flowable):
        if not isinstance(flowable, _HeadingParagraph):
            return
        level = flowable.level - 1
        self.notify("TOCEntry", (level, flowable.toc_text, self.page, flowable.key))
        # PDF outlines cannot skip a level (a "1.1" directly under the cover).
        level = min(level, self._outline_level + 1)
        self._outline_level = level
        self.canv.bookmarkPage(flowable.key)
        self.canv.addOutlineEntry(flowable.outline_text, flowable.key, level, closed=level > 0)


# --------------------------------------------------------------------------- rendering


def render_pdf(
    report: Report, path: str | Path, *, font_path: str | Path = DEFAULT_FONT_PATH
) -> Path:
    """Render ``report`` to a PDF file.

    Parameters
    ----------
    report : Report
        The document.
    path : str or Path
        Output file; parent directories are created.
    font_path : str or Path
        CJK TrueType font used for all text (embedded as subsets).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ReportRenderError
        Unknown language or block type, a bad heading level, a figure file that is missing
        or unreadable, a table whose data is not a DataFrame, or a missing font.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rep = Report("示例报告", "Demo", "zh", {"date": "2024-01-01"},
    ...              [Heading("引言"), Paragraph("正文 **重点** <b>literal</b>")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     render_pdf(rep, pathlib.Path(tmp) / "demo.pdf").read_bytes()[:5]
    b'%PDF-'
    """
    if not isinstance(report, Report):
        raise ReportRenderError(f"render_pdf expects a Report, got {type(report).__name__}")
    if report.lang not in _WORDS:
        raise ReportRenderError(f"Report.lang is {report.lang!r}; use 'zh' or 'en'")
    font = register_cjk_font(font_path)
    words = _WORDS[report.lang]
    styles = _styles(font, report.lang)
    body = _body_flowables(report, styles, words, font)
    has_headings = any(isinstance(b, Heading) for b in report.blocks)

    story: list[Flowable] = _cover_flowables(report, styles, words)
    story.append(NextPageTemplate("body"))
    story.append(RLPageBreak())
    if has_headings:
        # The TOC's own table sets a cell font even for paragraph cells: make it ours.
        toc_style = TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ])
        toc = TableOfContents(levelStyles=styles["toc"], dotsMinLevel=0, tableStyle=toc_style)
        story += [_StrokedParagraph(_markup(words["toc"]), styles["toc_title"]), toc,
                  RLPageBreak()]
    story += body

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    organisation = report.meta.get("organisation") or report.meta.get("organization") or ""
    doc = _Doc(
        str(path),
        pagesize=A4,
        leftMargin=_MARGIN_L,
        rightMargin=_MARGIN_R,
        topMargin=_MARGIN_T,
        bottomMargin=_MARGIN_B,
        title=report.title,
        subject=report.subtitle,
        author=str(organisation),
        creator="PatNav",
        producer="PatNav (reportlab)",
        lang="zh-CN" if report.lang == "zh" else "en",
        invariant=1,
        initialFontName=font,
        initialFontSize=10,
    )
    frame = Frame(_MARGIN_L, _MARGIN_B, _FRAME_W, _FRAME_H, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    header = _header_footer(report, words, font)
    doc.addPageTemplates([
        PageTemplate(id="cover", frames=[frame], onPage=_cover_decoration(report, font)),
        PageTemplate(id="body", frames=[frame], onPage=header),
    ])
    try:
        doc.multiBuild(story)
    except ReportRenderError:
        raise
    except Exception as exc:  # surface reportlab layout errors with the file they concern
        raise ReportRenderError(f"{path}: reportlab could not lay out the report ({exc})") from exc
    return path


def _cover_flowables(report: Report, styles, words) -> list[Flowable]:
    story: list[Flowable] = [Spacer(1, 5.5 * cm),
                             _StrokedParagraph(_markup(report.title), styles["cover_title"])]
    if report.subtitle:
        story.append(RLParagraph(_markup(report.subtitle), styles["cover_subtitle"]))
    story.append(Spacer(1, 1.6 * cm))
    rows = []
    for key, value in report.meta.items():
        if value is None or value == "":
            continue
        label = words["meta"].get(str(key).lower(), str(key))
        rows.append(RLParagraph(
            f'<font color="{_hex(_MUTED)}">{_markup(label)}'
            f'{words["meta_sep"]}</font>{_markup(value)}',
            styles["cover_meta"],
        ))
    story += rows
    return story


def _cover_decoration(report: Report, font: str):
    def draw(canv, doc):
        canv.saveState()
        canv.setFillColor(_NAVY)
        canv.rect(0, _PAGE_H - 3.2 * cm, _PAGE_W, 3.2 * cm, stroke=0, fill=1)
        canv.setFillColor(_ACCENT)
        canv.rect(0, _PAGE_H - 3.45 * cm, _PAGE_W, 0.25 * cm, stroke=0, fill=1)
        canv.setFillColor(_NAVY)
        canv.rect(0, 0, _PAGE_W, 0.6 * cm, stroke=0, fill=1)
        canv.restoreState()

    return draw


def _short(text: str, limit: int = 40) -> str:
    """Cut ``text`` to about ``limit`` display columns (CJK characters count double)."""
    out, width = [], 0
    for ch in text:
        width += 2 if ord(ch) > 0x2E7F else 1
        if width > limit:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text


def _fit(text: str, width: float, font: str, size: float) -> str:
    """``text`` cut (with "…") to fit ``width`` points; whole when it fits."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _header_footer(report: Report, words, font: str):
    # The running header: the title at the left, the organisation at the right, measured
    # so that both fit the line; the title is whole whenever the line allows it.
    size, gap = 8.5, 1 * cm
    title = _CONTROL.sub("", report.title.replace("\n", " "))
    right = str(report.meta.get("organisation") or report.meta.get("organization") or "")
    right = re.sub(r"[（(].*[)）]$", "", right).strip()  # the parenthesised gloss is for the cover
    right_w = min(pdfmetrics.stringWidth(right, font, size), 0.35 * _FRAME_W)
    right = _fit(right, right_w, font, size)
    title = _fit(title, _FRAME_W - right_w - gap, font, size)

    def draw(canv, doc):
        canv.saveState()
        top = _PAGE_H - _MARGIN_T + 0.7 * cm
        canv.setFont(font, 8.5)
        canv.setFillColor(_MUTED)
        canv.drawString(_MARGIN_L, top + 4, title)
        if right:
            canv.drawRightString(_PAGE_W - _MARGIN_R, top + 4, right)
        canv.setStrokeColor(_RULE)
        canv.setLineWidth(0.6)
        canv.line(_MARGIN_L, top, _PAGE_W - _MARGIN_R, top)
        bottom = _MARGIN_B - 0.9 * cm
        canv.line(_MARGIN_L, bottom + 12, _PAGE_W - _MARGIN_R, bottom + 12)
        canv.setFont(font, 9)
        canv.setFillColor(_INK)
        canv.drawCentredString(_PAGE_W / 2, bottom, words["page"].format(n=doc.page))
        canv.restoreState()

    return draw


def _body_flowables(report: Report, styles, words, font: str) -> list[Flowable]:
    out: list[Flowable] = []
    counters = [0, 0, 0]
    n_fig = n_tab = 0
    emphasis = _hex(_ACCENT)
    for i, block in enumerate(report.blocks):
        where = f"block #{i} ({type(block).__name__})"
        if isinstance(block, Heading):
            if block.level not in (1, 2, 3):
                raise ReportRenderError(f"{where}: Heading.level is {block.level!r}; use 1, 2 or 3")
            counters[block.level - 1] += 1
            for deeper in range(block.level, 3):
                counters[deeper] = 0
            number = ".".join(str(c) for c in counters[: block.level])
            text = f"{number} {block.text}"
            if block.level == 1 and out:
                out.append(CondPageBreak(4 * cm))
            out.append(_HeadingParagraph(
                _markup(text), styles[f"h{block.level}"], block.level,
                toc_text=_markup(text), outline_text=_CONTROL.sub("", text), key=f"h{i}",
            ))
        elif isinstance(block, Paragraph):
            if block.bullet:
                out.append(RLParagraph(_markup(block.text, emphasis), styles["bullet"],
                                       bulletText="•"))
            else:
                out.append(RLParagraph(_markup(block.text, emphasis), styles["body"]))
        elif isinstance(block, Figure):
            n_fig += 1
            out.append(_figure(block, n_fig, styles, words, font, where))
        elif isinstance(block, Table):
            n_tab += 1
            out += _table(block, n_tab, styles, words, font, where)
        elif isinstance(block, KeyFigures):
            out.append(_key_figures(block, styles, words, font))
        elif isinstance(block, PageBreak):
            out.append(RLPageBreak())
        else:
            raise ReportRenderError(
                f"{where}: unknown block type; use Heading, Paragraph, Figure, Table, "
                "KeyFigures or PageBreak"
            )
    return out


def _caption(label: str, caption: str, style, words) -> Flowable:
    return _StrokedParagraph(_markup(label) + words["caption_sep"] + _markup(caption), style)


def _figure(block: Figure, n: int, styles, words, font: str, where: str) -> Flowable:
    path = Path(block.path)
    if not path.is_file():
        raise ReportRenderError(f"{path}: figure file not found ({where}, caption "
                                f"{block.caption!r}); write the figure before rendering")
    width = min(block.width_cm * cm, _FRAME_W)
    max_h = _FRAME_H * 0.72
    if path.suffix.lower() == ".svg":
        picture = _svg(path, width, max_h, where, font)
    else:
        try:
            iw, ih = ImageReader(str(path)).getSize()
        except Exception as exc:
            raise ReportRenderError(f"{path}: cannot read the figure as an image ({where}): "
                                    f"{exc}") from exc
        height = width * ih / iw
        if height > max_h:
            width, height = width * max_h / height, max_h
        picture = Image(str(path), width=width, height=height)
        picture.hAlign = "CENTER"
    parts = [picture, _caption(words["figure"].format(n=n), block.caption, styles["caption"],
                               words)]
    if block.source:
        src = ParagraphStyle("src_c", parent=styles["source"], alignment=TA_CENTER)
        parts.append(RLParagraph(_markup(words["source"].format(source=block.source)), src))
    else:
        parts.append(Spacer(1, 8))
    return KeepTogether([Spacer(1, 4)] + parts)


def _set_fonts(node, font: str) -> None:
    for child in getattr(node, "contents", ()):
        if hasattr(child, "fontName"):
            child.fontName = font
        _set_fonts(child, font)


def _svg(path: Path, width: float, max_h: float, where: str, font: str) -> Flowable:
    try:
        from svglib.svglib import svg2rlg
    except ImportError as exc:
        raise ReportRenderError(f"{path}: SVG figures need svglib (pip install svglib); "
                                f"or save the figure as PNG ({where})") from exc
    drawing = svg2rlg(str(path))
    if drawing is None or not drawing.width:
        raise ReportRenderError(f"{path}: cannot read the SVG figure ({where})")
    # Any SVG text would otherwise be set in unembedded base-14 fonts.
    drawing.initialFontName = font
    _set_fonts(drawing, font)
    scale = min(width / drawing.width, max_h / drawing.height)
    drawing.scale(scale, scale)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.hAlign = "CENTER"
    return drawing


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _cell_text(value, spec: str | None, integral: bool) -> str:
    if value is None or _isna(value):
        return "–"
    if spec is not None and isinstance(value, numbers.Number):
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            pass
    if integral and isinstance(value, numbers.Real):
        return f"{int(value):,}"
    return format_number(value)


def _column_specs(frame: pd.DataFrame, number_format) -> list[tuple[bool, str | None, bool]]:
    """Per column: (numeric, format spec, integral floats printed as integers)."""
    specs = []
    for j, col in enumerate(frame.columns):
        series = frame.iloc[:, j]
        numeric = _is_numeric(series)
        if isinstance(number_format, Mapping):
            spec = number_format.get(col)
        else:
            spec = number_format if numeric else None
        integral = False
        if numeric and pd.api.types.is_float_dtype(series):
            finite = series[series.abs() < 2**53].dropna()
            integral = bool(len(finite)) and bool(((finite % 1) == 0).all())
            if spec is None and not integral and len(finite):
                # One number of decimals per column, so the decimal points line up.
                nonzero = finite[finite != 0].abs()
                typical = float(nonzero.median()) if len(nonzero) else 1.0
                decimals = 2 if typical >= 1 else min(4, 2 - math.floor(math.log10(typical)))
                spec = f",.{decimals}f"
        specs.append((numeric, spec, integral))
    return specs


def _auto_widths(header: list[str], rows: list[list[str]], font: str, size: float) -> list[float]:
    pad = 8
    widths = []
    for j, head in enumerate(header):
        longest = max([pdfmetrics.stringWidth(r[j], font, size) for r in rows] or [0])
        head_w = max((pdfmetrics.stringWidth(w, font, size) for w in head.split()), default=0)
        widths.append(max(longest, head_w, 1.2 * cm - pad) + pad)
    # Long text columns must not crowd out the others: cap before fitting the page.
    cap = _FRAME_W * 0.45
    widths = [min(w, cap) for w in widths]
    total = sum(widths)
    if total <= _FRAME_W:
        return [w * _FRAME_W / total for w in widths]
    # Too wide: short columns (numbers, years, publication numbers) keep their width, so
    # they never break inside a value; only the long text columns wrap.
    short = [w <= _SHORT_COL for w in widths]
    room = _FRAME_W - sum(w for w, k in zip(widths, short) if k)
    flexible = sum(w for w, k in zip(widths, short) if not k)
    if flexible == 0 or room < 2 * cm * sum(not k for k in short):
        return [w * _FRAME_W / total for w in widths]
    return [w if k else w * room / flexible for w, k in zip(widths, short)]


_SHORT_COL = 3.6 * cm  # a column this narrow (ids, numbers, years) is never squeezed


def _table(block: Table, n: int, styles, words, font: str, where: str) -> list[Flowable]:
    if not isinstance(block.data, pd.DataFrame):
        raise ReportRenderError(f"{where}: Table.data is {type(block.data).__name__}; "
                                "pass a pandas DataFrame")
    frame = block.data
    total = len(frame)
    if block.max_rows is not None and block.max_rows < total:
        frame = frame.iloc[: max(block.max_rows, 0)]
    label = words["table"].format(n=n)
    out: list[Flowable] = [
        CondPageBreak(3 * cm),
        _caption(label, block.caption, styles["caption"], words),
    ]
    specs = _column_specs(frame, block.number_format)
    header = [str(c) for c in frame.columns]
    texts = [
        [_cell_text(v, specs[j][1], specs[j][2]) for j, v in enumerate(row)]
        for row in frame.itertuples(index=False, name=None)
    ]
    if not header:
        raise ReportRenderError(f"{where}: Table.data has no columns")
    if block.col_widths is not None:
        if len(block.col_widths) != len(header):
            raise ReportRenderError(f"{where}: col_widths has {len(block.col_widths)} values "
                                    f"for {len(header)} columns")
        widths = [float(w) * cm for w in block.col_widths]
        if sum(widths) > _FRAME_W:
            widths = [w * _FRAME_W / sum(widths) for w in widths]
    else:
        widths = _auto_widths(header, texts, font, styles["cell"].fontSize)

    head_cells = [
        _StrokedParagraph(_markup(h), styles["head_num" if specs[j][0] else "head"])
        for j, h in enumerate(header)
    ]
    body_cells = [
        [RLParagraph(_markup(t), styles["cell_num" if specs[j][0] else "cell"])
         for j, t in enumerate(row)]
        for row in texts
    ]
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("BACKGROUND", (0, 0), (-1, 0), _NAVY),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, _NAVY),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, _NAVY),
    ]
    if body_cells:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _ZEBRA]))
    table = _ContinuedTable([head_cells] + body_cells, colWidths=widths, repeatRows=1,
                            hAlign="CENTER")
    table.setStyle(TableStyle(commands))
    table.continued_mark = words["continued"].format(label=label)
    table.mark_font = font
    out.append(table)
    notes = []
    if len(frame) < total:
        notes.append(words["truncated"].format(shown=f"{len(frame):,}", total=f"{total:,}"))
    if block.source:
        notes.append(words["source"].format(source=block.source))
    if notes:
        out.append(Spacer(1, 3))
        out += [RLParagraph(_markup(t), styles["source"]) for t in notes]
    else:
        out.append(Spacer(1, 10))
    if len(body_cells) <= _KEEP_ROWS:
        # A short table moves whole with its caption and source line: no page holding one
        # continued row or a lone source line. (No CondPageBreak before it: a heading's
        # keepWithNext would bind to that break, not to the table, and be left behind.)
        return [KeepTogether(out[1:])]
    return out


_KEEP_ROWS = 25  # tables up to this many rows are never split across pages


def _key_figures(block: KeyFigures, styles, words, font: str) -> Flowable:
    items = list(block.items)
    title = block.title if block.title is not None else words["key_figures"]
    per_row = min(4, max(1, len(items)))
    col_w = (_FRAME_W - 0.4 * cm) / per_row
    cells = [
        [_StrokedParagraph(_markup(format_number(value)), styles["kf_value"]),
         RLParagraph(_markup(label), styles["kf_label"])]
        for label, value in items
    ]
    grid = [cells[k: k + per_row] for k in range(0, len(cells), per_row)]
    if grid:
        grid[-1] += [""] * (per_row - len(grid[-1]))
    else:
        grid = [[""]]
    inner = RLTable(grid, colWidths=[col_w] * per_row)
    inner.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    box = RLTable([[_StrokedParagraph(_markup(title), styles["kf_title"])], [inner]],
                  colWidths=[_FRAME_W])
    box.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("BACKGROUND", (0, 0), (-1, -1), _TINT),
        ("LINEBEFORE", (0, 0), (0, -1), 3, _ACCENT),
        ("LEFTPADDING", (0, 0), (-1, -1), 10),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, 0), 8),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
    ]))
    return KeepTogether([Spacer(1, 4), box, Spacer(1, 10)])
