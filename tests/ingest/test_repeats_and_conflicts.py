"""Repeated publications: within a file (across batches or not) and across files.

Every file is generated inside the test; expected values are worked out by hand from
the rows written.
"""

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
