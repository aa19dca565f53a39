"""Real Chinese database exports (incoPat, Patentics, PatSnap) as they come, and hostile variants.

Expected values were read in the source files themselves (``../shared/data/cn-exports``,
opened with a spreadsheet reader): the data row is named beside each check. The hostile
cases are written at test time (HTML saved as ``.xls``, a BIFF ``.xls``, GB18030 / UTF-16
CSV, a title row, several sheets, a file whose records are all rejected).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline.ingest.detect import detect
from pipeline.ingest.tabular import TabularAdapter, sniff
from tests.shared_data import shared_path

INCOPAT = ("cn-exports", "incopat_autonomous_driving_10000.xlsx")
IFLYTEK = ("cn-exports", "incopat_iflytek_3816.xlsx")
PATENTICS = ("cn-exports", "patentics_zhongkechuangda_cn_511.xlsx")
PATSNAP = ("cn-exports", "patsnap_green_aviation_1999.xlsx")


@pytest.fixture(scope="module")
def ingested():
    """Each real export ingested alone (its own tables and report)."""
    return {name[1]: pipeline.ingest([shared_path(*name)]) for name in (INCOPAT, IFLYTEK, PATENTICS, PATSNAP)}


def _patent(res, pub_id) -> pd.Series:
    p = res.tables["patents"]
    rows = p[p["pub_id"] == pub_id]
    assert len(rows) == 1, pub_id
    return rows.iloc[0]


def _parties(res, pub_id, role):
    pa = res.tables["parties"]
    return pa[(pa["pub_id"] == pub_id) & (pa["role"] == role)].sort_values("seq")


def _d(value) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- every file
@pytest.mark.parametrize("name,records", [(INCOPAT, 10_000), (IFLYTEK, 3_816), (PATENTICS, 511), (PATSNAP, 1_999)])
def test_each_real_export_is_read_and_reconciles(ingested, name, records):
    rep = ingested[name[1]].report
    (f,) = rep["files"]
    assert f["format"] == "cn_export"
    assert f["records"] == records
    assert f["reconciles"]
    assert (f["accepted"] + f["merged_duplicates"]) / f["records"] >= 0.99
    assert rep["failures"] == []
    rejects = ingested[name[1]].tables["rejects"]
    assert rejects["reason"].notna().all() and (rejects["reason"].str.len() > 5).all()


def test_detection_by_content_reads_the_streamed_zip_workbook():
    # incoPat's iFlytek workbook was written by a streaming ZIP writer (sizes after the data,
    # docProps/ before xl/): a look at the first bytes calls it a plain ZIP archive.
    path = shared_path(*IFLYTEK)
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    assert sniff(path) == "cn_export"
    assert isinstance(detect(path), TabularAdapter)


# --------------------------------------------------------------------------- incoPat
def test_incopat_record_fields(ingested):
    res = ingested[INCOPAT[1]]
    # data row 0: CN110298449A, 发明申请, 中国, applicant 成都天钥科技有限公司, 授权 / 有效
    p = _patent(res, "CN110298449A")
    assert (p["country"], p["kind"], p["patent_type"], p["app_id"]) == ("CN", "A", "invention", "CN201910593937.7")
    assert (_d(p["app_date"]), _d(p["pub_date"]), _d(p["grant_date"])) == ("2019-07-03", "2019-10-01", None)
    assert p["title"] == "计算机进行通用学习的方法、装置和计算机可读存储介质"
    assert (p["legal_status"], p["status"], bool(p["alive"])) == ("授权 | 有效", "granted", True)
    assert p["link"] == "https://www.incopat.com/detail/init2?formerQuery=3eQEo0gaDThKMyF7anuHQGr4kAd0KKkg&local=zh"
    app = _parties(res, "CN110298449A", "applicant")
    assert app[["name_raw", "name_std"]].values.tolist() == [["成都天钥科技有限公司", "成都天钥科技有限公司"]]
    cls = res.tables["classifications"].query("pub_id == 'CN110298449A'")
    assert cls[["scheme", "symbol", "is_main"]].values.tolist() == [["IPC", "G06N20/00", True]]
    labels = res.tables["source_labels"].query("pub_id == 'CN110298449A' and scheme == 'sei'")
    assert labels["label"].tolist() == ["1.4 (互联网与云计算、大数据服务)"]
    # 简单同族 'CN110298449B; US20220404779A1; CN110298449A; WO2021000716A1'
    assert p["family_id"] == "CN110298449"


def test_incopat_foreign_records_and_standardised_groups(ingested):
    res = ingested[INCOPAT[1]]
    # data row 1: US20190320115A1, 美国, app US15950587, 标准化申请人 [通用汽车-C], two SEI labels
    p = _patent(res, "US2019320115A1")  # canonical DOCDB form of US20190320115A1
    assert (p["country"], p["kind"], p["app_id"], _d(p["app_date"])) == ("US", "A1", "US15950587", "2018-04-11")
    app = _parties(res, "US2019320115A1", "applicant")
    assert app[["name_raw", "name_std"]].values.tolist() == [["Gm Global Technology Operations Llc", "通用汽车"]]  # incoPat's "-C" group marker dropped
    labels = res.tables["source_labels"].query("pub_id == 'US2019320115A1' and scheme == 'sei'")
    assert labels["label"].tolist() == ["1.5 (人工智能)", "8.1 (数字创意技术设备制造)"]
    # data row 5831: DE112016006530T5, 公开类型 译文 (a translation): the type comes from the number
    de = _patent(res, "DE112016006530T5")
    assert (de["country"], de["kind"], de["patent_type"]) == ("DE", "T5", "invention")
    # two applicants with their two standardised names, aligned by position
    pa = res.tables["parties"]
    two = pa[(pa["role"] == "applicant") & pa["pub_id"].isin(
        pa.loc[pa["name_raw"] == "建信金融科技有限责任公司", "pub_id"])]
    first = two[two["pub_id"] == two["pub_id"].iloc[0]].sort_values("seq")
    assert first[["name_raw", "name_std"]].values.tolist()[:2] == [
        ["中国建设银行股份有限公司", "建设银行"], ["建信金融科技有限责任公司", "建信金融科技有限责任公司"]]


def test_incopat_chongqing_applicant(ingested):
    res = ingested[INCOPAT[1]]
    # data row 610: CN115794655A of 重庆长安汽车股份有限公司, 实质审查 / 审中
    p = _patent(res, "CN115794655A")
    assert (p["app_id"], _d(p["app_date"]), _d(p["pub_date"])) == ("CN202211658508.1", "2022-12-22", "2023-03-14")
    assert (p["status"], pd.isna(p["alive"])) == ("pending", True)
    app = _parties(res, "CN115794655A", "applicant")
    assert app[["name_raw", "name_std"]].values.tolist() == [["重庆长安汽车股份有限公司", "长安汽车"]]
    chongqing = res.tables["parties"].query("role == 'applicant'")["name_raw"].str.contains("重庆")
    assert chongqing.sum() >= 150  # the export's README counts 155 Chongqing applicant rows


def test_iflytek_grant_and_english_text(ingested):
    res = ingested[IFLYTEK[1]]
    # data row 0: CN107295441B, 发明授权, published 2023-05-26: the grant is that publication
    p = _patent(res, "CN107295441B")
    assert (p["kind"], p["patent_type"], _d(p["grant_date"])) == ("B", "invention", "2023-05-26")
    assert (p["status"], bool(p["alive"])) == ("granted", True)
    assert _parties(res, "CN107295441B", "applicant")["name_raw"].tolist() == ["北京京东尚科信息技术有限公司", "科大讯飞股份有限公司"]
    # data row 1: English title and abstract beside the Chinese ones; CPC listed
    q = _patent(res, "CN111756603A")
    assert q["title_en"] == "Control method and device of smart home system, electronic equipment and readable medium"
    assert q["abstract_en"].startswith("The invention provides a control method and device of a smart home system,")
    cpc = res.tables["classifications"].query("pub_id == 'CN111756603A' and scheme == 'CPC'")
    assert cpc["symbol"].tolist() == ["H04L12/282", "G10L15/22", "G10L17/22", "G10L2015/223"]
    assert res.tables["source_labels"].query("pub_id == 'CN111756603A' and scheme == 'sei_main'")["label"].tolist() == ["8.1"]


# --------------------------------------------------------------------------- Patentics
def test_patentics_formula_number_link_and_fields(ingested):
    res = ingested[PATENTICS[1]]
    # data row 0: 公开号 is =HYPERLINK("https://www.patentics.cn/…spn=CN115438209A","CN115438209A")
    p = _patent(res, "CN115438209A")
    assert p["link"].startswith("https://www.patentics.cn/PatenticsMisc/invokebinary.do?")
    assert p["link"].endswith("spn=CN115438209A")
    assert (p["app_id"], _d(p["app_date"]), _d(p["pub_date"])) == ("CN202210836006.7", "2022-07-15", "2022-12-06")
    assert (p["legal_status"], p["status"]) == ("公开", "pending")
    app = _parties(res, "CN115438209A", "applicant")
    assert app[["name_raw", "name_std", "province", "city"]].values.tolist() == [
        ["西安中科创达软件有限公司", "中科创达软件股份有限公司", "陕西省", "西安市"]]
    assert app["address_raw"].iloc[0] == "710000 陕西省西安市高新区软件新城天谷八路156号云汇谷C1楼701室"
    assert pd.isna(app["district"].iloc[0])  # 高新区 is a development zone, not a district
    assert _parties(res, "CN115438209A", "inventor")["name_raw"].tolist() == ["王子健"]
    # 国际分类 'G06F 16/583|G06F 16/535|G06F  9/451', 国际主分类 'G06F 16/583'
    cls = res.tables["classifications"].query("pub_id == 'CN115438209A' and scheme == 'IPC'")
    assert cls[["symbol", "is_main"]].values.tolist() == [["G06F16/583", True], ["G06F16/535", False], ["G06F9/451", False]]
    ev = res.tables["events"].query("pub_id == 'CN115438209A'")
    assert ev[["event_type"]].assign(d=ev["event_date"].map(_d)).values.tolist() == [["publication", "2022-12-06"]]


def test_patentics_transfer_citations_and_address(ingested):
    res = ingested[PATENTICS[1]]
    # data row 76: CN113347225A, 有效, granted 2022-05-24, transferred (登记生效日 2022.11.01)
    p = _patent(res, "CN113347225A")
    assert (p["status"], bool(p["alive"])) == ("granted", True)
    ev = res.tables["events"].query("pub_id == 'CN113347225A'").sort_values("event_date")
    assert ev["event_type"].tolist() == ["publication", "examination", "grant", "transfer"]
    assert [_d(d) for d in ev["event_date"]] == ["2021-09-03", "2021-09-21", "2022-05-24", "2022-11-01"]
    tr = ev[ev["event_type"] == "transfer"].iloc[0]
    assert "畅索软件科技（上海）有限公司" in tr["party_to"] and tr["party_from"].startswith("中科创达软件股份有限公司")
    # data row 117: a Chongqing applicant with its postal address
    app = _parties(res, "CN111791801A", "applicant")
    assert app[["name_raw", "province", "city", "district"]].values.tolist() == [
        ["中科创达(重庆)汽车科技有限公司", "重庆市", "重庆市", "渝北区"]]  # names are full-width folded
    # 引用 lists: 'WO2018035709 |\nCN113366439A |\nCN103713736A |\nUS20150230075A1' on data row 0's neighbour
    cits = res.tables["citations"]
    assert len(cits) > 1000 and cits["cited_pub_id"].notna().mean() > 0.99
    fwd = res.tables["forward_citations"]
    assert len(fwd) > 300 and fwd["citing_pub_id"].notna().all()  # incl. TWI624754 (TW, letter inside)


# --------------------------------------------------------------------------- PatSnap
def test_patsnap_record_fields(ingested):
    res = ingested[PATSNAP[1]]
    # data row 1: CN103104575A 撤回-视为撤回, 南京航空航天大学, counts 7 / 7 / 4 / 7, INPADOC history
    p = _patent(res, "CN103104575A")
    assert (p["country"], p["patent_type"], _d(p["app_date"]), _d(p["pub_date"])) == ("CN", "invention", "2013-01-21", "2013-05-15")
    assert (p["status"], bool(p["alive"])) == ("withdrawn", False)
    assert (p["cited_by_count"], p["cites_count"], p["cited_by_3y"], p["cited_by_5y"]) == (7, 7, 4, 7)
    assert p["title"] == "电弧式放电等离子体涡流发生器"
    assert p["title_en"] == "Electric arc type discharging plasma vortex generator"
    assert _parties(res, "CN103104575A", "applicant")["name_raw"].tolist() == ["南京航空航天大学"]
    assert _parties(res, "CN103104575A", "assignee")["name_raw"].tolist() == ["南京航空航天大学"]
    cls = res.tables["classifications"].query("pub_id == 'CN103104575A'")
    assert cls[["symbol", "is_main"]].values.tolist() == [["F15D1/00", True], ["B64C23/06", False]]
    ev = res.tables["events"].query("pub_id == 'CN103104575A'").sort_values("event_date")
    assert ev["event_type"].tolist() == ["publication", "examination", "withdrawal"]
    assert [_d(d) for d in ev["event_date"]] == ["2013-05-15", "2013-06-12", "2015-04-01"]
    # data row 0: PL2631174T3, 受理局 波兰; a '-' cell is empty
    pl = _patent(res, "PL2631174T3")
    assert (pl["country"], pl["kind"]) == ("PL", "T3")
    assert pd.isna(pl["legal_status"]) or pl["legal_status"] != "-"


# --------------------------------------------------------------------------- hostile and variant files
HEADER = ["公开（公告）号", "标题", "申请人", "申请日", "公开国别", "当前法律状态"]
ROWS = [["CN110298449A", "计算机进行通用学习的方法", "成都天钥科技有限公司", "2019-07-03", "中国", "授权"],
        ["US20190320115A1", "动态批量尺寸选择", "Gm Global Technology Operations Llc", "2018/04/11", "美国", "实质审查"]]


def _check_two(res):
    p = res.tables["patents"].set_index("pub_id")
    assert sorted(p.index) == ["CN110298449A", "US2019320115A1"]
    assert p.loc["CN110298449A", "status"] == "granted" and p.loc["US2019320115A1", "status"] == "pending"
    assert _d(p.loc["US2019320115A1", "app_date"]) == "2018-04-11"


def test_html_table_saved_as_xls(tmp_path):
    cells = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in ROWS)
    path = tmp_path / "export.xls"
    path.write_text(f"<html><head><meta charset='utf-8'></head><body><table><tr><td colspan='6'>检索结果</td></tr>"
                    f"<tr>{cells}</tr>{body}</table></body></html>", encoding="utf-8")
    assert sniff(path) == "cn_export"
    _check_two(pipeline.ingest([path]))


def test_biff_xls_workbook(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("检索结果")
    sheet.write(0, 0, "导出时间：2024-05-01")  # a title row above the header
    for j, h in enumerate(HEADER):
        sheet.write(1, j, h)
    for i, r in enumerate(ROWS, start=2):
        for j, v in enumerate(r):
            sheet.write(i, j, v)
    path = tmp_path / "old.xls"
    book.save(str(path))
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    _check_two(pipeline.ingest([path]))


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_csv_in_gb18030_and_utf16_with_a_title_row(tmp_path, encoding):
    lines = ["专利检索结果 2024-05-01", ",".join(HEADER), *(",".join(r) for r in ROWS)]
    path = tmp_path / f"export_{encoding}.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    _check_two(pipeline.ingest([path]))


def test_csv_hyperlink_formula_text_gives_number_and_link(tmp_path):
    path = tmp_path / "patentics.csv"
    path.write_text("公开号,标题,申请人,申请日\n"
                    '"=HYPERLINK(""https://www.patentics.cn/x?spn=CN115438209A"",""CN115438209A"")",一种主题推荐方法,西安中科创达软件有限公司,2022/07/15\n',
                    encoding="utf-8")
    p = pipeline.ingest([path]).tables["patents"]
    assert p[["pub_id", "link"]].values.tolist() == [["CN115438209A", "https://www.patentics.cn/x?spn=CN115438209A"]]


def test_several_sheets_and_a_strategy_sheet(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "检索策略"
    wb.active.append(["检索式", "TIAB=(自动驾驶)"])
    for k, rows in enumerate(([ROWS[0]], [ROWS[1]])):
        ws = wb.create_sheet(f"结果{k + 1}")
        ws.append(HEADER)
        for r in rows:
            ws.append(r)
    path = tmp_path / "two_sheets.xlsx"
    wb.save(path)
    res = pipeline.ingest([path])
    _check_two(res)
    (f,) = res.report["files"]
    assert f["sheets_without_header"] == ["检索策略"]
    assert [(s["sheet"], s["first_record"], s["records"]) for s in f["sheets"]] == [("结果1", 0, 1), ("结果2", 1, 1)]


def test_all_rejected_file_fails_the_cli(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(f"not-a-number-{i},标题,某公司,2020-01-01,中国,授权"
                                                         for i in range(3)), encoding="utf-8")
    res = pipeline.ingest([path])
    assert res.report["failures"] == [{"file": str(path),
                                       "reason": "all 3 records rejected (top reason: unreadable publication number)"}]
    run = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(path), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "bad.csv: all 3 records rejected (top reason: unreadable publication number)" in run.stderr
    allowed = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(path), "--out", str(tmp_path / "out2"),
                              "--allow-empty"], capture_output=True, text=True)
    assert allowed.returncode == 0 and "warning" in allowed.stderr


def test_unknown_file_in_a_folder_fails_unless_skipped_on_purpose(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.csv").write_text(",".join(HEADER) + "\n" + ",".join(ROWS[0]) + "\n", encoding="utf-8")
    (folder / "notes.bin").write_bytes(b"\x00\x01\x02 not a patent file")
    res = pipeline.ingest([folder])
    assert [f["file"] for f in res.report["failures"]] == [str(folder / "notes.bin")]
    res = pipeline.ingest([folder], skip={"in/notes.bin": "analyst's notes"})
    assert res.report["failures"] == []
    assert res.report["skipped"] == [{"file": str(folder / "notes.bin"), "reason": "skipped on purpose: analyst's notes"}]


def test_the_stage_report_names_skipped_and_failed_files_relative_to_the_project(tmp_path):
    # dvc.lock records the report's md5: it must not depend on where the checkout is.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.csv").write_text(",".join(HEADER) + "\n" + ",".join(ROWS[0]) + "\n", encoding="utf-8")
    (folder / "notes.bin").write_bytes(b"\x00\x01\x02 not a patent file")
    (folder / "old.bin").write_bytes(b"\x00\x01\x02 not a patent file either")
    res = pipeline.ingest([folder], skip={"in/old.bin": "superseded"}, relative_to=tmp_path)
    assert [f["file"] for f in res.report["failures"]] == [str(Path("in") / "notes.bin")]
    assert [s["file"] for s in res.report["skipped"]] == [str(Path("in") / "old.bin")]
    assert [f["file"] for f in res.report["files"]] == [str(Path("in") / "ok.csv")]


def test_dates_as_serial_numbers_text_and_cells(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["公开（公告）号", "标题", "申请日", "公开（公告）日"])
    ws.append(["CN1A", "t", dt.datetime(2019, 7, 3), "2019.10.01"])
    ws.append(["CN2A", "t", "2019年7月3日", "20191001"])
    ws.append(["CN3A", "t", "43649", "2019/10/1"])  # an Excel serial day number written as text
    path = tmp_path / "dates.xlsx"
    wb.save(path)
    p = pipeline.ingest([path]).tables["patents"].set_index("pub_id")
    assert [_d(p.loc[k, "app_date"]) for k in ("CN1A", "CN2A", "CN3A")] == ["2019-07-03"] * 3
    assert [_d(p.loc[k, "pub_date"]) for k in ("CN1A", "CN2A", "CN3A")] == ["2019-10-01"] * 3


@pytest.mark.parametrize("header,row", [
    # CNIPA search system (pss) result list
    (["专利类型", "专利名称", "法律状态", "申请公布日/授权公告日", "申请号", "申请日", "申请人/专利权人", "发明人",
      "地址", "主分类号", "分类号", "公开（公告）号"],
     ["发明授权", "一种车辆控制方法", "有效", "2021.05.07", "CN201910593937.7", "2019.07.03", "重庆长安汽车股份有限公司",
      "张三;李四", "400023 重庆市江北区建新东路260号", "B60W30/00", "B60W30/00;G06N20/00", "CN110298449B"]),
    # CNKI 专利库 export
    (["题名", "申请号", "申请日", "公开号", "公开日", "申请人", "发明人", "地址", "主分类号", "分类号", "国省代码"],
     ["一种车辆控制方法", "CN201910593937.7", "2019-07-03", "CN110298449B", "2021-05-07", "重庆长安汽车股份有限公司",
      "张三;李四", "400023 重庆市江北区建新东路260号", "B60W30/00", "B60W30/00;G06N20/00", "50"]),
])
def test_documented_headers_of_other_databases(tmp_path, header, row):
    path = tmp_path / "other.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    res = pipeline.ingest([path])
    p = _patent(res, "CN110298449B")
    assert (p["title"], p["app_id"], _d(p["app_date"]), _d(p["pub_date"])) == (
        "一种车辆控制方法", "CN201910593937.7", "2019-07-03", "2021-05-07")
    app = _parties(res, "CN110298449B", "applicant")
    assert app[["name_raw", "province", "district"]].values.tolist() == [["重庆长安汽车股份有限公司", "重庆市", "江北区"]]
    assert _parties(res, "CN110298449B", "inventor")["name_raw"].tolist() == ["张三", "李四"]
    cls = res.tables["classifications"].query("pub_id == 'CN110298449B'")
    assert cls[["symbol", "is_main"]].values.tolist() == [["B60W30/00", True], ["G06N20/00", False]]
