"""Hostile and odd inputs: control characters, over-long fields, oversized workbooks, pipes.

Every hostile file is generated inside its test (zip bombs with zipfile, at a size made
small by lowering the limits); expected values are worked out by hand from what was written.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import pipeline
from pipeline import schema
from pipeline.errors import ConfigError, InputLimitError, UnsupportedFormatError
from pipeline.config import Limits
from pipeline.ingest.detect import detect
from pipeline.ingest.tabular import TabularAdapter
from tests.shared_data import shared_path, xml_documents

HEADER = ["公开（公告）号", "标题", "申请人", "申请日", "公开国别", "当前法律状态"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_bytes("\n".join(",".join(r) for r in [HEADER, *rows]).encode(encoding) + b"\n")
    return path


def text_cells(tables: dict[str, pd.DataFrame]):
    for name, df in tables.items():
        for col in df.columns:
            for v in df[col]:
                if isinstance(v, str):
                    yield name, col, v


# --------------------------------------------------------------------------- control characters
def test_control_characters_are_removed_with_a_field_reject_and_the_record_kept(tmp_path):
    path = write_csv(tmp_path / "ctl.csv", [
        ["CN110298449A", "计算机\x00进行通用学习的方法", "成都天钥\x1f科技有限公司", "2019-07-03", "中国", "授权"],
        ["US20190320115A1", "动态批量\x07尺寸选择", "Gm Global Technology Operations Llc", "2018/04/11", "美国", "实质审查"],
    ])
    res = pipeline.ingest([path])
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"], f["field_rejects"]) == (2, 2, 0, 3) and f["reconciles"]
    p = res.tables["patents"].set_index("pub_id")
    assert p.loc["CN110298449A", "title"] == "计算机进行通用学习的方法"
    assert p.loc["US2019320115A1", "title"] == "动态批量尺寸选择"
    parties = res.tables["parties"].set_index("pub_id")
    assert parties.loc["CN110298449A", "name_raw"] == "成都天钥 科技有限公司"  # a unit separator is a space
    rej = res.tables["rejects"].sort_values(["row", "field"])
    assert rej[["source_file", "row", "field", "reason", "level"]].values.tolist() == [
        [str(path), 0, "parties.name_raw", "control characters removed", "field"],
        [str(path), 0, "title", "control characters removed", "field"],
        [str(path), 1, "title", "control characters removed", "field"],
    ]
    # The reject table shows what was removed, escaped, and holds no control character itself.
    assert rej["raw_value"].tolist() == ["成都天钥\\x1f科技有限公司", "计算机\\x00进行通用学习的方法", "动态批量\\x07尺寸选择"]
    assert [c for c in text_cells(res.tables) if ILLEGAL_CHARACTERS_RE.search(c[2])] == []
    for name in schema.TABLES:
        schema.validate(res.tables[name], name)


# --------------------------------------------------------------------------- over-long fields
def test_a_value_over_the_field_limit_is_cut_with_a_reject_and_the_record_kept(tmp_path):
    address = "重庆市江北区" + "建新东路260号" * 10  # 6 + 8 * 10 = 86 characters
    path = tmp_path / "long.csv"
    path.write_text("公开（公告）号,标题,申请人,申请人地址\n"
                    f"CN110298449A,计算机进行通用学习的方法,成都天钥科技有限公司,{address}\n", encoding="utf-8")
    res = pipeline.ingest([path], limits=Limits(field=50))
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"], f["field_rejects"]) == (1, 1, 0, 1)
    (party,) = res.tables["parties"].itertuples()
    assert party.address_raw == address[:50] and party.district == "江北区"
    (rej,) = res.tables["rejects"].itertuples()
    assert (rej.row, rej.field, rej.level) == (0, "parties.address_raw", "field")
    assert rej.reason == "86 characters, longer than 50; cut (ingest.limits.field)"


def test_limits_must_be_positive_whole_numbers():
    with pytest.raises(ConfigError, match="ingest.limits.sheet_rows"):
        Limits(sheet_rows=0)
    with pytest.raises(ConfigError, match="ingest.limits.field"):
        Limits(field="many")


# --------------------------------------------------------------------------- workbooks
def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


ROWS = [HEADER, ["CN110298449A", "计算机进行通用学习的方法", "成都天钥科技有限公司", "2019-07-03", "中国", "授权"]]


def add_member(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return path


def test_a_zip_bomb_workbook_is_refused_by_its_expansion_ratio(tmp_path):
    # 4 MiB of zeros deflate to about 4 KiB: a thousandfold, where real workbooks stay under 20.
    path = add_member(write_xlsx(tmp_path / "bomb.xlsx", ROWS), "xl/media/image1.bin", bytes(4 << 20))
    with pytest.raises(InputLimitError, match="ingest.limits.workbook_ratio") as exc:
        pipeline.ingest([path])
    assert str(path) in str(exc.value) and "xl/media/image1.bin" in str(exc.value)
    assert exc.value.limit == "workbook_ratio" and exc.value.value == 100


def test_a_workbook_over_the_size_limit_is_refused_and_other_files_are_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    # 2 MiB that do not compress: only the size can refuse it (limit lowered to 1 MiB).
    big = add_member(write_xlsx(folder / "big.xlsx", ROWS), "xl/media/image1.bin", random.Random(0).randbytes(2 << 20))
    write_csv(folder / "ok.csv", [ROWS[1]])
    with pytest.raises(InputLimitError, match=r"expands to 2 MiB uncompressed.*ingest.limits.workbook_mb = 1"):
        pipeline.ingest([big], limits=Limits(workbook_mb=1))
    # Found in a folder, it is a failure of the run, reported; the other file is read.
    res = pipeline.ingest([folder], limits=Limits(workbook_mb=1))
    assert [f["file"] for f in res.report["failures"]] == [str(big)]
    assert "ingest.limits.workbook_mb" in res.report["failures"][0]["reason"]
    assert res.tables["patents"]["pub_id"].tolist() == ["CN110298449A"]
    assert len(pipeline.ingest([big]).tables["patents"]) == 1  # under the default limits it is read


def sparse_sheet_xlsx(path: Path, far_cell: str) -> Path:
    """A workbook of the header, one record and one more cell at ``far_cell`` (e.g. ``A20000000``)."""
    def row(n: int, cells: list[tuple[str, str]]) -> str:
        return f'<row r="{n}">' + "".join(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>' for ref, v in cells) + "</row>"

    letters = "ABCDEF"
    far_row = int("".join(ch for ch in far_cell if ch.isdigit()))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             "<sheetData>" + row(1, [(f"{c}1", h) for c, h in zip(letters, HEADER)])
             + row(2, [(f"{c}2", v) for c, v in zip(letters, ROWS[1])]) + row(far_row, [(far_cell, "x")])
             + "</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", f'<Types xmlns="{ns}/package/2006/content-types">'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
                    f'Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships">'
                    '<sheets><sheet name="结果" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
                    f'Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def test_a_sheet_reaching_row_20_million_is_refused_before_it_is_loaded(tmp_path):
    path = sparse_sheet_xlsx(tmp_path / "rows.xlsx", "A20000000")  # a 1 KiB file
    start = time.perf_counter()
    with pytest.raises(InputLimitError, match=r"sheet '结果' has 20,000,000 rows or more.*ingest.limits.sheet_rows = 1048576"):
        pipeline.ingest([path])
    assert time.perf_counter() - start < 10


def test_a_sparse_sheet_spanning_too_many_cells_is_refused(tmp_path):
    # 900,000 rows are allowed, but to column Z they span 23.4 million cells (calamine holds them all).
    path = sparse_sheet_xlsx(tmp_path / "cells.xlsx", "Z900000")
    with pytest.raises(InputLimitError, match=r"900,000 rows × 26 columns = 23,400,000 cells.*sheet_cells = 20000000"):
        pipeline.ingest([path])
    ok = pipeline.ingest([sparse_sheet_xlsx(tmp_path / "small.xlsx", "F3")])
    assert ok.tables["patents"]["pub_id"].tolist() == ["CN110298449A"]


def test_a_sheet_over_lowered_row_limit(tmp_path):
    rows = [HEADER, *([f"CN1{k:08d}A", "标题", "某公司", "2019-07-03", "中国", "授权"] for k in range(30))]
    path = write_xlsx(tmp_path / "thirty.xlsx", rows)
    with pytest.raises(InputLimitError, match="has 31 rows or more"):
        pipeline.ingest([path], limits=Limits(sheet_rows=20))
    assert pipeline.ingest([path], limits=Limits(sheet_rows=31)).report["files"][0]["records"] == 30


# --------------------------------------------------------------------------- USPTO XML
@pytest.fixture(scope="module")
def grants() -> list[bytes]:
    """Real documents of a 2013 weekly file: 0 USD0680087, 1 USD0680199, 2 US08418361 (with an abstract)."""
    return xml_documents(shared_path("uspto-xml", "ipgxml__ipg130416.small.xml"))[:3]


def test_an_xml_text_node_over_10_mib_is_cut_and_its_record_kept(tmp_path, grants):
    doc = grants[2].replace(b"</abstract>", b'<p id="p-9999">' + b"x" * 10_500_000 + b"</p></abstract>", 1)
    path = tmp_path / "long.xml"
    path.write_bytes(doc)
    res = pipeline.ingest([path])
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"]) == (1, 1, 0)
    p = res.tables["patents"].iloc[0]
    assert p.pub_id == "US8418361B2" and p.title.startswith("Method of manufacturing printed circuit board")
    assert pd.isna(p.abstract)  # now over the abstract's own limit (20,000): nulled, reported
    rej = res.tables["rejects"].sort_values("field")
    assert rej[["row", "record_id", "field", "level"]].values.tolist() == [
        [0, "08418361", "abstract", "field"],  # record_id: the number as written
        [0, "08418361", "abstract/p", "field"],
    ]
    assert rej.reason.tolist() == [
        "longer than 20000 characters",
        "text of 10,500,000 bytes, over what the XML parser takes; cut to 100,000 characters (ingest.limits.field)",
    ]


def test_control_characters_in_xml_are_removed_before_parsing(tmp_path, grants):
    doc = grants[2].replace(b">Method of manufacturing", b">Method\x01 of&#x1F; manufacturing", 1)
    path = tmp_path / "ctl.xml"
    path.write_bytes(grants[0] + doc)
    res = pipeline.ingest([path])
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"], f["field_rejects"]) == (2, 2, 0, 1)
    p = res.tables["patents"].set_index("pub_id")
    assert p.loc["US8418361B2", "title"] == "Method of manufacturing printed circuit board having landless via hole"
    (rej,) = res.tables["rejects"].itertuples()
    assert (rej.row, rej.offset, rej.record_id, rej.field, rej.reason) == (
        1, len(grants[0]), "08418361", "us-bibliographic-data-grant/invention-title", "control characters removed")
    assert "Method\\x01 of&#x1F; manufacturing" in rej.raw_value


def test_a_declaration_inside_a_comment_does_not_split_the_document(tmp_path, grants):
    commented = grants[0].replace(b"<us-patent-grant ", b'<!-- as sent: <?xml version="1.0"?> -->\n<us-patent-grant ', 1)
    path = tmp_path / "comment.xml"
    path.write_bytes(commented + grants[1])
    res = pipeline.ingest([path])
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"]) == (2, 2, 0)
    assert res.tables["patents"]["pub_id"].tolist() == ["USD680087S1", "USD680199S1"]


def test_an_unclosed_comment_does_not_swallow_the_next_documents(tmp_path, grants):
    broken = grants[0].replace(b"<us-patent-grant ", b"<!-- never closed\n<us-patent-grant ", 1)
    second = grants[1].replace(b"<us-patent-grant ", b"<!-- a closed comment -->\n<us-patent-grant ", 1)
    path = tmp_path / "unclosed.xml"
    path.write_bytes(broken + second + grants[2])
    res = pipeline.ingest([path])
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["rejected"]) == (3, 2, 1)
    assert res.tables["patents"]["pub_id"].tolist() == ["US8418361B2", "USD680199S1"]
    (rej,) = res.tables["rejects"].itertuples()
    assert (rej.row, rej.level) == (0, "record") and rej.reason.startswith("malformed XML")


# --------------------------------------------------------------------------- odd files
def test_a_named_pipe_in_an_input_folder_is_reported_and_never_opened(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "ok.csv", [ROWS[1]])
    os.mkfifo(folder / "pipe.csv")  # opening it would block until someone writes to it
    res = pipeline.ingest([folder])
    assert res.report["skipped"] == [{"file": str(folder / "pipe.csv"),
                                      "reason": "not a regular file but a named pipe (FIFO); not read"}]
    assert res.report["failures"] == [] and res.tables["patents"]["pub_id"].tolist() == ["CN110298449A"]


def test_a_named_pipe_given_as_input_is_a_named_error_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    # In a child process: were the pipe opened, the child would block and the timeout end it.
    run = subprocess.run([sys.executable, "-c", "import pipeline, sys; pipeline.ingest([sys.argv[1]])",
                          str(tmp_path / "pipe.csv")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "UnreadableInputError" in run.stderr
    assert "pipe.csv: not a regular file but a named pipe (FIFO); not read" in run.stderr


@pytest.mark.parametrize("encoding,bom,delim", [("utf-16-le", b"\xff\xfe", ","), ("utf-16-be", b"\xfe\xff", ","),
                                                ("utf-16-le", b"\xff\xfe", "\t")])
def test_utf16_csv_with_a_bom_is_read(tmp_path, encoding, bom, delim):
    path = tmp_path / "unicode.csv"
    path.write_bytes(bom + "\r\n".join(delim.join(r) for r in ROWS).encode(encoding))
    assert isinstance(detect(path), TabularAdapter)
    assert pipeline.ingest([path]).tables["patents"]["title"].tolist() == ["计算机进行通用学习的方法"]


def test_utf16_text_of_an_unknown_layout_is_not_called_binary(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(b"\xff\xfe" + "name,remark\r\n甲,乙\r\n".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormatError, match="UTF-16 text without a known patent export header"):
        detect(path)


def _damaged(src: Path, dest: Path, member: str, *, flip_at: int | None = None, declare: int | None = None) -> Path:
    """A copy of a real workbook with one byte of ``member``'s compressed data inverted (a
    damaged download), or with its uncompressed size understated in both ZIP headers."""
    from benchmarks.hostile import flip_byte, understate_size

    if flip_at is not None:
        return flip_byte(src, dest, member, flip_at)
    dest.write_bytes(src.read_bytes())
    return understate_size(dest, member, declare)


@pytest.mark.parametrize("member, change", [
    ("xl/sharedStrings.xml", {"flip_at": 100}),
    ("xl/worksheets/sheet1.xml", {"flip_at": 100}),
    ("xl/sharedStrings.xml", {"declare": 1024}),
])
def test_a_damaged_workbook_is_a_named_error_not_a_crash(tmp_path, member, change):
    # zlib.error / BadZipFile escaped from the header sniffing as tracebacks.
    from pipeline.errors import UnreadableInputError
    from pipeline.ingest.run import ingest

    real = shared_path("cn-exports", "patsnap_green_aviation_1999.xlsx")
    path = _damaged(real, tmp_path / "damaged.xlsx", member, **change)
    with pytest.raises(UnreadableInputError, match="damaged.xlsx"):
        ingest([path])
    # In a folder beside a good file: named as a failure, the good file still read.
    folder = tmp_path / "in"
    folder.mkdir()
    path.rename(folder / "damaged.xlsx")
    write_csv(folder / "ok.csv", [ROWS[1]])
    result = ingest([folder])
    assert [f["file"] for f in result.report["failures"]] == [str(folder / "damaged.xlsx")]
    assert "damaged workbook" in result.report["failures"][0]["reason"]
    assert result.tables["patents"]["pub_id"].tolist() == ["CN110298449A"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_list_with_a_bom_is_read_by_patnav_classify(tmp_path, encoding):
    from pipeline import io

    path = tmp_path / "list.txt"
    text = "标题\t摘要\n一种电池\t摘要\n"
    path.write_bytes((b"\xfe\xff" + text.encode("utf-16-be")) if encoding == "utf-16-be" else text.encode("utf-16"))
    df, found = io.read_list(path)
    assert found["title"] == "标题" and df["标题"].tolist() == ["一种电池"]
