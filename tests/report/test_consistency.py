"""The one-number-one-source checker (tests/report/consistency.py) on hand-made reports."""

import shutil

import pandas as pd
import pytest

from pipeline.report.pdf import Heading, Paragraph, Report, Table, render_pdf
from tests.report import consistency

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext not installed")


def test_numbers_parse_as_printed_with_half_a_unit_of_tolerance():
    got = consistency.numbers("共 2,478 件，占 0.3%；R² = 0.988；增长 -50%")  # "²" is no digit
    assert got == [(2478.0, 0.5), (pytest.approx(0.003), pytest.approx(0.0005)), (0.988, 0.0005), (-0.5, 0.005)]


def _report(tmp_path, sentence: str, count: int):
    table = pd.DataFrame({"applicant": ["甲公司", "乙公司", "丙公司"], "count": [count, 1, 1]})
    blocks = [Heading("一", 1), Paragraph(sentence), Table(table, "表", "来源")]
    render_pdf(Report(title="测试", subtitle="", lang="zh", meta={}, blocks=blocks), tmp_path / "t_industry_zh.pdf")
    text = pd.DataFrame({"section": ["一"], "text": [sentence]})
    with pd.ExcelWriter(tmp_path / "t_tables.xlsx", engine="openpyxl") as w:
        table.to_excel(w, sheet_name="top", index=False)
        text.to_excel(w, sheet_name="text_zh", index=False)


def test_a_sentence_agreeing_with_its_table_passes(tmp_path):
    _report(tmp_path, "甲公司申请 9 件，居首。", 9)
    assert consistency.check(tmp_path) == []


def test_a_number_no_table_holds_is_found(tmp_path):
    _report(tmp_path, "甲公司申请 2 件，居首。", 9)  # the table says 9 (and 1, 1; 3 rows, 11 in total)
    problems = consistency.check(tmp_path)
    assert len(problems) == 1 and "2 (±0.5)" in problems[0]
