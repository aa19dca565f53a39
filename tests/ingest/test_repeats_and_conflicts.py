"""Repeated publications: within a file (across batches or not) and across files.

Every file is generated inside the test; expected values are worked out by hand from
the rows written.
"""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline import schema

HEADER = ["公开（公告）号", "标题", "申请人", "申请日", "公开国别", "当前法律状态"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def repeated_export(tmp_path: Path, n: int, repeat_at: int) -> Path:
    """``n`` records CN1000000{k}A; record ``repeat_at`` repeats record 0 with other applicants."""
    rows = [[f"CN1{k:08d}A", f"标题{k}", f"公司{k}", "2019-07-03", "中国", "授权"] for k in range(n)]
    rows[0][2] = "甲公司;乙公司"
    rows[repeat_at] = ["CN100000000A", "标题0", "丙公司;丁公司;戊公司", "2019-07-03", "中国", "授权"]
    return write_csv(tmp_path / "export.csv", rows)


@pytest.mark.parametrize("batch", [3, 4, 5, 100])
def test_a_repeat_gives_the_same_tables_whatever_the_batch_boundaries(tmp_path, batch):
    # 7 records, record 5 repeats record 0: in another batch (3, 4, 5) or in the same (100).
    path = repeated_export(tmp_path, 7, 5)
    res = pipeline.ingest([path], batch_size=batch, table_batch_size=batch)
    (f,) = res.report["files"]
    assert (f["records"], f["accepted"], f["merged_duplicates"], f["rejected"]) == (7, 6, 1, 0)
    assert f["reconciles"]
    parties = res.tables["parties"]
    # The first occurrence's applicants only, never a mixture (甲, 乙 and the repeat's third, 戊).
    assert parties.loc[parties.pub_id == "CN100000000A", "name_raw"].tolist() == ["甲公司", "乙公司"]
    assert len(parties) == 2 + 5  # and one applicant each of records 1-4 and 6
    for name in schema.TABLES:
        schema.validate(res.tables[name], name)


def test_a_repeat_2001_records_apart_merges_like_a_repeat_in_one_batch(tmp_path):
    # The reviewer's case: batches of 2,000 and a repeat 2,001 records after the first.
    path = repeated_export(tmp_path, 2003, 2001)
    across = pipeline.ingest([path], batch_size=2000, table_batch_size=2000)
    within = pipeline.ingest([path], batch_size=5000, table_batch_size=5000)
    for res in (across, within):
        (f,) = res.report["files"]
        assert (f["records"], f["accepted"], f["merged_duplicates"]) == (2003, 2002, 1)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(across.tables[name], within.tables[name])


# --------------------------------------------------------------------------- conflicts
def two_exports(tmp_path: Path) -> list[Path]:
    """One publication in two CSV exports of the same format (no export date: path order)."""
    a = write_csv(tmp_path / "a.csv", [["CN110298449A", "计算机进行通用学习的方法", "成都天钥科技有限公司",
                                        "2019-07-03", "中国", "授权"]])
    b = write_csv(tmp_path / "b.csv", [["CN110298449A", "计算机进行通用学习的方法和装置", "天钥公司",
                                        "2019-07-04", "中国", "实质审查"]])
    return [b, a]  # the order given does not matter


def test_conflicting_values_follow_precedence_and_are_recorded(tmp_path):
    res = pipeline.ingest(two_exports(tmp_path), relative_to=tmp_path)
    p = res.tables["patents"].iloc[0]
    # a.csv first (same format, no export date: path order); the longest title wins.
    assert p.app_date == pd.Timestamp("2019-07-03") and p.status == "granted"
    assert p.title == "计算机进行通用学习的方法和装置"
    assert p.provenance == "a.csv#0 | b.csv#0"
    assert res.tables["conflicts"].values.tolist() == [
        ["CN110298449A", "app_date", "2019-07-03", "2019-07-04", "a.csv#0", "b.csv#0", "source precedence"],
        ["CN110298449A", "title", "计算机进行通用学习的方法和装置", "计算机进行通用学习的方法", "b.csv#0", "a.csv#0", "longest text"],
        ["CN110298449A", "status", "granted", "pending", "a.csv#0", "b.csv#0", "source precedence"],
    ]
    # Children come whole from the first source: a.csv's applicant only.
    assert res.tables["parties"]["name_raw"].tolist() == ["成都天钥科技有限公司"]
    files = {f["file"]: f for f in res.report["files"]}
    assert (files["a.csv"]["conflicts"], files["b.csv"]["conflicts"]) == (1, 2)  # values of each file not kept
    assert res.report["totals"]["conflicts"] == 3 == len(res.tables["conflicts"])
    assert res.report["reconciles"]


def test_a_newer_export_of_the_same_format_wins(tmp_path):
    from openpyxl import Workbook

    def workbook(name: str, created: dt.datetime, status: str) -> Path:
        wb = Workbook()
        wb.properties.created = created
        wb.active.append(HEADER)
        wb.active.append(["CN110298449A", "计算机进行通用学习的方法", "成都天钥科技有限公司", "2019-07-03", "中国", status])
        wb.save(tmp_path / name)
        return tmp_path / name

    old = workbook("a_old.xlsx", dt.datetime(2022, 1, 5, 8, 0), "实质审查")
    new = workbook("b_new.xlsx", dt.datetime(2024, 3, 1, 8, 0), "授权")
    res = pipeline.ingest([old, new], relative_to=tmp_path)
    assert [(f["file"], f["exported"]) for f in res.report["files"]] == [("b_new.xlsx", "2024-03-01"),
                                                                         ("a_old.xlsx", "2022-01-05")]
    assert res.tables["patents"]["status"].tolist() == ["granted"]
    assert res.tables["conflicts"][["field", "kept_value", "other_value", "kept_source", "rule"]].values.tolist() == [
        ["status", "granted", "pending", "b_new.xlsx#0", "source precedence"]]


def test_a_repeat_in_one_file_keeps_the_earlier_record(tmp_path):
    path = write_csv(tmp_path / "rep.csv", [
        ["CN110298449A", "计算机进行通用学习的方法", "甲公司", "2019-07-03", "中国", "授权"],
        ["CN110298449A", "计算机进行通用学习的方法", "甲公司", "2019-07-03", "中国", "驳回"],
    ])
    res = pipeline.ingest([path], relative_to=tmp_path)
    assert res.tables["conflicts"].values.tolist() == [
        ["CN110298449A", "status", "granted", "rejected", "rep.csv#0", "rep.csv#1", "earlier record of the file"]]
    assert res.report["files"][0]["conflicts"] == 1


def test_the_conflicts_table_is_written_with_the_canonical_tables(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "pipeline", "ingest", *map(str, two_exports(tmp_path)), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    conflicts = pipeline.read_table(out, "conflicts")
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert len(conflicts) == report["totals"]["conflicts"] == sum(f["conflicts"] for f in report["files"]) == 3
