"""Table-export adapter: real Lens.org rows field by field, Chinese exports, hostile input.

The Lens rows are cut at test time from ../shared/data/lens (see :func:`lens_files`): the
header and the data rows :data:`LENS_ROWS` of drones_fulltext_families_5884.csv and
:data:`LENS_CLEANED_ROWS` of drones_tac_1695_cleaned.csv, byte-exact and in source order.
Lens expectations were read from those source rows, not from the adapter.

The Chinese export files are GENERATED at test time into a temporary folder (the
``cn_exports`` fixture of tests/fixtures_cn.py, by scripts/make_cn_fixtures.py): a synthetic
bibliography around real titles and abstracts read from
../shared/data/cn-text/test_data_TAC.json (KPPatent-ZH). Their expectations are read from the
generated files with the csv module, independently of the adapter.
"""

import csv
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from pipeline.errors import ConfigError, UnreadableInputError, UnsupportedFormatError
from pipeline.ingest.base import RAW_COLUMNS
from pipeline.ingest.canonical import canonicalize
from pipeline.ingest.normalize import parse_dates
from pipeline.ingest.tabular import HEADERS_YAML, TabularAdapter, header_key, sniff
from tests.fixtures_cn import CN_GBK, CN_SAMPLES, CN_UTF8, CN_XLSX, cn_exports  # noqa: F401  (a fixture)
from tests.shared_data import shared_path, write_rows

# 0-based data rows of the real Lens files taken by the tests: 40 rows of the full export
# (among them AT 556755 T, US 4299483 A, CN 101822226 A, WO 2000/001198 A1, US D532742 S1,
# US H000485 H, CA 783996 A, EP 0259054 B9 20031217 and US 6821515 B1, whose Non-Patent
# Citations cell is the file's longest) and 36 of the cleaned file (among them AT 556755 T,
# BE 905621 A1 and EP 0352536 B1); 23 publications are in both.
LENS_ROWS = (
    0, 1, 2, 17, 37, 38, 39, 70, 73, 80, 81, 363, 364, 365, 366, 567, 696, 697, 702, 703,
    732, 791, 815, 817, 818, 927, 928, 1043, 1287, 1288, 1387, 1388, 2775, 2975, 2976, 2978,
    2979, 2980, 2981, 5518,
)
LENS_CLEANED_ROWS = (
    0, 1, 2, 7, 31, 32, 33, 63, 66, 73, 74, 353, 354, 355, 404, 570, 571, 575, 576, 606,
    665, 689, 690, 691, 692, 693, 694, 695, 696, 723, 768, 769, 917, 919, 920, 921,
)

CN_HEADER = ["公开（公告）号", "标题", "申请（专利权）人", "申请日", "IPC"]


def read(path, **kw) -> tuple[dict[str, pd.DataFrame], list, TabularAdapter]:
    """All batches of ``path`` concatenated per table, the batches, and the adapter."""
    adapter = TabularAdapter(aliases_path=kw.pop("aliases_path", None))
    batches = list(adapter.read(path, **kw))
    tables = {name: pd.concat([b.get(name) for b in batches], ignore_index=True) for name in RAW_COLUMNS}
    return tables, batches, adapter


def rec_of(tables, pub_raw: str) -> int:
    p = tables["patents"]
    return int(p.loc[p["pub_raw"] == pub_raw, "rec"].iloc[0])


def of(table: pd.DataFrame, rec: int) -> pd.DataFrame:
    return table[table["rec"] == rec].reset_index(drop=True)


def values(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def write_csv(path: Path, rows: list[list], encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def cn_source_rows(path: Path) -> list[dict]:
    """The generated ten-row UTF-8 export as dicts, read with the csv module (title row skipped)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[1]
    return [dict(zip(header, r)) for r in rows[2:]]


def split(cell: str) -> list[str]:
    import re

    return [p.strip() for p in re.split(r";|；|\|", cell) if p.strip()]


# --------------------------------------------------------------------------- Lens
@pytest.fixture(scope="module")
def lens_files(tmp_path_factory) -> dict[str, Path]:
    """The Lens rows of the tests, cut from ../shared/data/lens into a temporary folder."""
    out = tmp_path_factory.mktemp("lens")
    return {
        "full": write_rows(shared_path("lens", "drones_fulltext_families_5884.csv"),
                           out / "drones_fulltext_families_rows.csv", LENS_ROWS),
        "cleaned": write_rows(shared_path("lens", "drones_tac_1695_cleaned.csv"),
                              out / "drones_tac_cleaned_rows.csv", LENS_CLEANED_ROWS),
    }


@pytest.fixture(scope="module")
def lens(lens_files):
    return read(lens_files["full"])


@pytest.fixture(scope="module")
def cleaned(lens_files):
    return read(lens_files["cleaned"])


def test_lens_profile_and_counts(lens_files, lens):
    tables, batches, adapter = lens
    assert sniff(lens_files["full"]) == "lens" and adapter.name == "lens"
    assert sum(b.n_records for b in batches) == 40
    assert len(tables["patents"]) == 40 and tables["rejects"].empty
    assert tables["patents"]["rec"].tolist() == list(range(40))
    assert tables["patents"]["row"].tolist() == list(range(40))
    # Lens carries no citation links, family member lists or events.
    assert tables["citations"].empty and tables["family_links"].empty and tables["events"].empty


def test_lens_at_556755_t_field_by_field(lens):
    tables, _, _ = lens
    rec = rec_of(tables, "AT 556755 T")
    p = of(tables["patents"], rec).iloc[0]
    assert (p["country"], p["kind"], p["app_raw"]) == ("AT", "T", "AT 11153172 T")
    assert (p["app_date"], p["pub_date"]) == ("2011-02-03", "2012-05-15")
    assert p["title"] == "Verfahren Und Gerät Zur Fernbedienung Einer Drohne, Insbesondere Einer Drohne Mit Drehflügeln"
    assert (p["cited_by_count"], p["family_size"]) == ("0", "11")
    assert pd.isna(p["patent_type_hint"])  # Type "unknown"
    pr = of(tables["priorities"], rec)
    assert pr[["number_raw", "date_raw"]].values.tolist() == [["FR 1051751 A", "20100311"], ["FR 1054449 A", "20100607"]]
    parties = of(tables["parties"], rec)
    assert parties[["role", "seq", "name_raw"]].values.tolist() == [
        ["applicant", 0, "PARROT"], ["inventor", 0, "SEYDOUX HENRI"], ["inventor", 1, "D HAEYER FREDERIC"],
    ]
    cls = of(tables["classifications"], rec)
    cpc, ipc = cls[cls["scheme"] == "CPC"], cls[cls["scheme"] == "IPC"]
    assert cpc["symbol_raw"].tolist() == ["A63H30/04", "A63F2009/241", "A63H27/12", "G05D1/0016", "G06F3/04817",
                                          "G06F3/04883", "G08C17/02", "G08C2201/93"]
    assert ipc["symbol_raw"].tolist() == ["A63H30/04", "A63F9/24", "A63F13/10", "A63H27/133", "G06F3/041", "G08C17/02"]
    assert cpc["is_main"].tolist() == [True] + [False] * 7 and ipc["is_main"].tolist() == [True] + [False] * 5
    assert cpc["seq"].tolist() == list(range(8))


def test_lens_us_record_with_two_applicants_and_npl(lens):
    tables, _, _ = lens
    rec = rec_of(tables, "US 4299483 A")
    p = of(tables["patents"], rec).iloc[0]
    assert (p["app_raw"], p["app_date"], p["cited_by_count"], p["family_size"]) == ("US 9369179 A", "1979-11-13", "24", "1")
    parties = of(tables["parties"], rec)
    assert parties[["role", "name_raw"]].values.tolist() == [
        ["applicant", "GROVE THOMAS C"], ["applicant", "BENNET II WILLIAM S"],
        ["inventor", "GROVE THOMAS C"], ["inventor", "BENNET II WILLIAM S"],
    ]
    assert of(tables["npl"], rec)["text"].tolist() == ["NASA Tech. Brief 68-10311, Aug. 1968."]
    assert of(tables["classifications"], rec)["symbol_raw"].tolist() == [
        "G01S17/87", "G01S17/88", "G05D1/02", "G01S17/88", "G01S17/87", "G05D1/0202",
    ]


def test_lens_cn_record_with_chinese_npl(lens):
    tables, _, _ = lens
    rec = rec_of(tables, "CN 101822226 A")
    npl = of(tables["npl"], rec)
    assert npl["seq"].tolist() == [0, 1, 2, 3]
    assert npl["text"].iloc[0] == "《生物学通报》 20090731 王承赋 蜂群的分蜂行为及其影响因素 第12-15页 1-7 第44卷, 第7期 2"
    assert npl["text"].iloc[3] == "《蜜蜂杂志》 20020228 张世炎 雄蜂蛹的生产技术 第13页 1-7 , 第2期 2"
    cls = of(tables["classifications"], rec)
    assert cls[["scheme", "symbol_raw", "is_main"]].values.tolist() == [["IPC", "A01K47/04", True], ["IPC", "A01K67/033", False]]
    assert of(tables["priorities"], rec)[["number_raw", "date_raw"]].values.tolist() == [["CN 201010165317 A", "20100505"]]


def test_lens_wo_record_keeps_numbers_as_written(lens):
    tables, _, _ = lens
    rec = rec_of(tables, "WO 2000/001198 A1")
    p = of(tables["patents"], rec).iloc[0]
    assert (p["country"], p["kind"], p["app_raw"]) == ("WO", "A1", "US 9912817 W")
    assert of(tables["priorities"], rec)[["number_raw", "date_raw"]].values.tolist() == [["US 10783698 A", "19980630"]]
    assert len(of(tables["classifications"], rec).query("scheme == 'CPC'")) == 5
    assert of(tables["parties"], rec).query("role == 'inventor'")["name_raw"].tolist() == ["TAENZER JON C", "PUTHUFF STEVEN H"]


def test_lens_type_hints_only_where_unambiguous(lens):
    tables, _, _ = lens
    p = tables["patents"].set_index("pub_raw")
    assert p.loc["US D532742 S1", "patent_type_hint"] == "design"  # Type "Design right"
    assert p.loc["US H000485 H", "patent_type_hint"] == "other"  # Statutory Invention Registration
    others = p.drop(index=["US D532742 S1", "US H000485 H"])["patent_type_hint"]
    assert others.isna().all()


def test_lens_odd_real_records(lens):
    tables, _, _ = lens
    # A priority number without a date, and no application date.
    rec = rec_of(tables, "CA 783996 A")
    assert values(of(tables["priorities"], rec)["date_raw"]) == [None]
    assert of(tables["priorities"], rec)["number_raw"].tolist() == ["CA 783996T A"]
    assert pd.isna(of(tables["patents"], rec)["app_date"].iloc[0])
    # An amended EP publication whose number cell carries a date: passed on as written.
    assert rec_of(tables, "EP 0259054 B9 20031217") >= 0
    # A statutory invention registration without applicants or inventors.
    assert of(tables["parties"], rec_of(tables, "US H000485 H")).empty


def test_lens_longest_npl_cell_is_split(lens_files, lens):
    tables, _, _ = lens
    with open(lens_files["full"], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    longest = max(rows, key=lambda r: len(r["Non-Patent Citations"]))
    items = longest["Non-Patent Citations"].split(";;")
    npl = of(tables["npl"], rec_of(tables, longest["Publication Number"]))
    assert len(longest["Non-Patent Citations"]) > 10_000
    assert npl["text"].tolist() == [i.strip() for i in items if i.strip()]


def test_lens_canonicalises_every_record(lens_files, lens):
    tables, batches, adapter = lens
    out = canonicalize(batches[0], lens_files["full"].name, adapter.name)
    rejected = out["rejects"].query("level == 'record'")
    assert len(out["patents"]) + len(rejected) == 40


def test_lens_cleaned_profile_and_counts(lens_files, cleaned):
    tables, batches, adapter = cleaned
    assert sniff(lens_files["cleaned"]) == "lens_cleaned" and adapter.name == "lens_cleaned"
    assert sum(b.n_records for b in batches) == 36 and tables["rejects"].empty


def test_lens_cleaned_mojibake_repaired(cleaned):
    tables, _, _ = cleaned
    rec = rec_of(tables, "AT 556755 T")
    p = of(tables["patents"], rec).iloc[0]
    # The file has "GerÃ¤t": UTF-8 once decoded as Windows-1252.
    assert p["title"] == "Verfahren Und Gerät Zur Fernbedienung Einer Drohne, Insbesondere Einer Drohne Mit Drehflügeln"
    assert (p["country"], p["pub_date"], p["family_size"]) == ("AT", "2012-5-15", "11")
    npl = tables["npl"]["text"]
    assert npl.str.contains("《中国养蜂》").any() and not npl.str.contains("ã€").any()


def test_lens_cleaned_lists_sorted_so_nothing_is_main(cleaned):
    tables, _, _ = cleaned
    rec = rec_of(tables, "AT 556755 T")
    cls = of(tables["classifications"], rec)
    assert not cls["is_main"].any()
    assert cls.query("scheme == 'CPC'")["symbol_raw"].iloc[0] == "A63F2009/241"
    assert len(cls.query("scheme == 'CPC'")) == 8 and len(cls.query("scheme == 'IPC'")) == 6
    inventors = of(tables["parties"], rec).query("role == 'inventor'")["name_raw"].tolist()
    assert inventors == ["D HAEYER FREDERIC", "SEYDOUX HENRI"]


def test_lens_cleaned_priority_dates_never_paired_by_position(cleaned):
    tables, _, _ = cleaned
    pr = tables["priorities"]
    # Two numbers, two dates: sorted apart in this file, so not paired.
    at = of(pr, rec_of(tables, "AT 556755 T"))
    assert sorted(at["number_raw"].dropna()) == ["FR 1051751 A", "FR 1054449 A"]
    assert at.loc[at["number_raw"].notna(), "date_raw"].isna().all()
    assert sorted(at.loc[at["number_raw"].isna(), "date_raw"]) == ["20100311", "20100607"]
    # One date: it belongs to every number.
    be = of(pr, rec_of(tables, "BE 905621 A1"))
    assert be[["number_raw", "date_raw"]].values.tolist() == [["BE 217307 A", "19861017"], ["BE 905621 A", "19861017"]]
    # Five numbers, two dates.
    ep = of(pr, rec_of(tables, "EP 0352536 B1"))
    assert ep["number_raw"].notna().sum() == 5 and ep.loc[ep["number_raw"].notna(), "date_raw"].isna().all()
    assert sorted(ep.loc[ep["number_raw"].isna(), "date_raw"]) == ["19880720", "19880730"]


def test_lens_cleaned_earliest_priority_survives_canonicalisation(lens_files, cleaned):
    tables, batches, adapter = cleaned
    out = canonicalize(batches[0], lens_files["cleaned"].name, adapter.name)
    p = out["patents"].set_index("pub_id")
    assert p.loc["AT556755T", "earliest_priority_date"] == pd.Timestamp("2010-03-11")
    assert p.loc["EP0352536B1", "earliest_priority_date"] == pd.Timestamp("1988-07-20")


def test_lens_files_agree_on_shared_records(lens, cleaned):
    """Classifications, titles (once repaired) and counts agree; names do not: the
    cleaned file reorders and corrects them (NICHOLAS KONSTANDAKOS → KONSTANDAKOS NICHOLAS)."""
    full, _, _ = lens
    clean, _, _ = cleaned
    shared = sorted(set(full["patents"]["pub_raw"]) & set(clean["patents"]["pub_raw"]))
    assert len(shared) >= 20
    for pub in shared:
        a, b = rec_of(full, pub), rec_of(clean, pub)
        x = sorted(map(tuple, of(full["classifications"], a)[["scheme", "symbol_raw"]].values.tolist()))
        y = sorted(map(tuple, of(clean["classifications"], b)[["scheme", "symbol_raw"]].values.tolist()))
        assert x == y, pub
        pa, pb = of(full["patents"], a).iloc[0], of(clean["patents"], b).iloc[0]
        assert (pa["cited_by_count"], pa["family_size"], pa["title"]) == (pb["cited_by_count"], pb["family_size"], pb["title"])


# --------------------------------------------------------------------------- Chinese exports
@pytest.fixture(scope="module")
def cn(cn_exports):
    """The three generated forms of the same ten rows, read: file name -> read(path)."""
    return {name: read(cn_exports[name]) for name in (CN_UTF8, CN_GBK, CN_XLSX)}


def test_cn_forms_detected(cn, cn_exports):
    for name, (tables, batches, adapter) in cn.items():
        assert adapter.name == "cn_export", name
        assert sum(b.n_records for b in batches) == 10 and tables["rejects"].empty, name
    assert {sniff(cn_exports[name]) for name in (CN_UTF8, CN_GBK, CN_XLSX)} == {"cn_export"}


def _comparable(tables: dict) -> dict:
    """Raw tables with dates parsed (XLSX gives datetimes where CSV gives text)."""
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for col in ("app_date", "pub_date", "grant_date", "event_date", "date_raw"):
            if col in df:
                df[col] = parse_dates(df[col])[0].values
        out[name] = df.astype("string").fillna("<null>")
    return out


def test_cn_utf8_gbk_xlsx_give_the_same_raw_values(cn):
    ref = _comparable(cn[CN_UTF8][0])
    for name in (CN_GBK, CN_XLSX):
        other = _comparable(cn[name][0])
        for table in RAW_COLUMNS:
            pd.testing.assert_frame_equal(ref[table], other[table], obj=f"{name}: {table}")
    assert len(ref["events"]) >= 4 and len(ref["citations"]) > 0 and len(ref["family_links"]) > 0


def test_cn_values_match_the_source_cells(cn, cn_exports):
    tables, _, _ = cn[CN_UTF8]
    for rec, row in enumerate(cn_source_rows(cn_exports[CN_UTF8])):
        p = of(tables["patents"], rec).iloc[0]
        assert (p["pub_raw"], p["app_raw"], p["app_date"], p["title"]) == (
            row["公开（公告）号"], row["申请号"], row["申请日"], row["标题"])
        assert values([p["abstract"]]) == [row["摘要"] or None]
        assert p["patent_type_hint"] == {"发明申请": "invention", "发明授权": "invention", "实用新型": "utility_model",
                                         "外观设计": "design"}[row["专利类型"]]
        parties = of(tables["parties"], rec)
        applicants = parties[parties["role"] == "applicant"]
        assert applicants["name_raw"].tolist() == split(row["申请（专利权）人"])
        assert parties.query("role == 'assignee'")["name_raw"].tolist() == split(row["当前专利权人"])
        assert parties.query("role == 'inventor'")["name_raw"].tolist() == split(row["发明（设计）人"])
        # Address, province and city belong to the first applicant only.
        assert values(applicants["address_raw"]) == [row["申请人地址"]] + [None] * (len(applicants) - 1)
        assert values(applicants["province"])[0] == row["申请人所在省"]
        assert values(applicants["city"])[0] == row["申请人所在市"]
        ipc = of(tables["classifications"], rec)
        expected = ([(row["IPC主分类号"], True)] if row["IPC主分类号"] else []) + [(s, False) for s in split(row["IPC"])]
        assert list(zip(ipc["symbol_raw"], ipc["is_main"])) == expected
        assert ipc["seq"].tolist() == list(range(len(expected)))
        assert of(tables["citations"], rec)["cited_raw"].tolist() == split(row["引证专利"])
        assert values(of(tables["citations"], rec)["category_raw"]) == [None] * len(split(row["引证专利"]))
        assert of(tables["family_links"], rec)["member_raw"].tolist() == split(row["简单同族"])
        assert (p["cited_by_count"], p["family_size"], values([p["claims_count"]])) == (
            row["被引证次数"], row["同族数量"], [row["权利要求数量"] or None])


def test_cn_events(cn, cn_exports):
    tables, _, _ = cn[CN_UTF8]
    ev = tables["events"]
    rows = cn_source_rows(cn_exports[CN_UTF8])
    for rec, row in enumerate(rows):
        mine = of(ev, rec)
        transfers = mine[mine["event_type_raw"] == "转让"]
        dates = row["转让生效日"].split("|") if row["转让生效日"] else []
        assert len(transfers) == len(dates)
        if len(dates) == 2:  # two records in one cell, taken apart
            assert transfers["event_date"].tolist() == dates
            assert transfers["party_from"].tolist() == row["转让人"].split("|")
            assert transfers["party_to"].tolist() == row["受让人"].split("|")
            assert transfers["party_from"].iloc[1] == transfers["party_to"].iloc[0]
        pledge = mine[mine["event_type_raw"] == "质押"]
        if row["质押登记日"]:
            assert pledge[["party_from", "party_to", "amount", "event_date"]].values.tolist() == [
                [row["出质人"], row["质权人"], row["质押金额"], row["质押登记日"]]]
        licence = mine[mine["event_type_raw"] == "许可"]
        if row["许可备案日"]:
            assert licence[["party_from", "party_to", "detail"]].values.tolist() == [[row["许可人"], row["被许可人"], row["许可类型"]]]
    assert set(ev["event_type_raw"]) == {"转让", "质押", "许可"}
    out = canonicalize(cn[CN_UTF8][1][0], CN_UTF8, "cn_export")["events"]
    assert set(out["event_type"]) == {"transfer", "pledge", "licence"}


def test_header_keys_fold_width_case_and_space():
    assert header_key("公开（公告）号") == header_key("公开(公告)号") == header_key(" 公开 (公告) 号 ")
    assert header_key("申请（专利权）人") == header_key("申请(专利权)人")
    assert header_key("Publication Number") == header_key("publication number") == header_key("ＰＵＢＬＩＣＡＴＩＯＮ　ＮＵＭＢＥＲ")


def test_cn_half_and_full_width_headers_in_one_file(tmp_path):
    path = write_csv(tmp_path / "mixed.csv", [
        ["公开(公告)号", "申请（专利权）人", "ＩＰＣ主分类号", "Application Date", " 标 题 "],
        ["CN112345678A", "重庆大学;张三", "H01M 10/0525(2010.01)", "2020.5.1", "一种电池"],
    ])
    tables, _, _ = read(path)
    assert tables["patents"][["pub_raw", "app_date", "title"]].values.tolist() == [["CN112345678A", "2020.5.1", "一种电池"]]
    assert tables["parties"]["name_raw"].tolist() == ["重庆大学", "张三"]
    assert tables["classifications"][["symbol_raw", "is_main"]].values.tolist() == [["H01M 10/0525(2010.01)", True]]


def test_cn_priority_number_and_date_split(tmp_path):
    path = write_csv(tmp_path / "prio.csv", [
        CN_HEADER + ["优先权号"],
        ["CN1", "t", "a", "2020-01-01", "", "CN202010123456.7；US16/123456 2019-09-10|JP2019-164599 2019/1/17;20190301 EP19123456"],
    ])
    tables, _, _ = read(path)
    assert values(tables["priorities"]["number_raw"]) == ["CN202010123456.7", "US16/123456", "JP2019-164599", "EP19123456"]
    assert values(tables["priorities"]["date_raw"]) == [None, "2019-09-10", "2019/1/17", "20190301"]


def test_cn_citing_patents_give_the_count_when_no_count_column(cn_exports):
    path = cn_exports["cn_export_synthetic_biblio_gbk.csv"]  # 被引证专利, no 被引证次数
    tables, _, _ = read(path)
    with open(path, encoding="gb18030", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tables["patents"]["cited_by_count"].tolist() == [len(split(r["被引证专利"])) for r in rows]
    assert tables["patents"]["cited_by_count"].sum() > 0


def test_cn_samples_ingest_cleanly(cn_exports):
    for name, n in CN_SAMPLES.items():
        tables, batches, adapter = read(cn_exports[name])
        assert adapter.name == "cn_export" and sum(b.n_records for b in batches) == n, name
        out = canonicalize(batches[0], name, adapter.name)
        assert len(out["patents"]) == n and out["rejects"].empty, name
        first = out["parties"].query("role == 'applicant' and seq == 0")
        assert (first["district"] == "江北区").mean() >= 1 / 3, name
        assert out["events"]["event_type"].nunique() == 3, name


def test_xlsx_dates_pass_through_as_datetimes(cn):
    p = cn[CN_XLSX][0]["patents"]
    assert all(isinstance(v, dt.date) for v in p["app_date"])  # date cells stay dates, not text
    assert p["cited_by_count"].map(type).eq(str).all()  # numbers read as their text


# --------------------------------------------------------------------------- hostile input
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "=HYPERLINK(\"http://x\")"]


def test_csv_formula_cells_stay_text(tmp_path):
    rows = [CN_HEADER + ["法律状态"]] + [[f"CN11234567{i}A", f, f, "2020-01-01", f, f] for i, f in enumerate(FORMULAS)]
    tables, _, _ = read(write_csv(tmp_path / "formula.csv", rows))
    assert tables["patents"]["title"].tolist() == tables["patents"]["legal_status"].tolist() == FORMULAS
    # Multi-valued cells are split at "|" like any other value.
    assert tables["parties"]["name_raw"].tolist() == ["=cmd", "' /C calc'!A0", *FORMULAS[1:]]


def test_xlsx_formula_cells_keep_their_text_and_are_not_evaluated(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["检索结果导出 2024-05-01"])
    ws.append(CN_HEADER)
    for i, f in enumerate(FORMULAS):
        ws.append([f"CN11234567{i}A", f, "重庆大学", dt.datetime(2020, 1, 2), "H01M"])
    ws.append(["CN112345699A", "=1+1", "=A1", "=TODAY()", "=B3"])
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    tables, _, _ = read(path)
    # No cached values (written by a library): a formula reads as its text, except a
    # HYPERLINK, which reads as the text it shows (here its URL); nothing is evaluated.
    assert tables["patents"]["title"].tolist() == FORMULAS[:4] + ["http://x", "=1+1"]
    last = tables["patents"].iloc[-1]
    assert (last["app_date"], values(of(tables["parties"], 5)["name_raw"])) == ("=TODAY()", ["=A1"])


def test_ragged_rows_are_rejected_not_fatal(tmp_path):
    rows = [CN_HEADER, ["CN1A", "t1", "a1", "2020-01-01", "H01M"], ["CN2A", "t2", "a2"],
            ["CN3A", "t3", "a3", "2020-01-01", "H01M", "extra"], ["CN4A", "t4", "a4", "2020-01-01", "H01M"]]
    tables, batches, _ = read(write_csv(tmp_path / "ragged.csv", rows))
    assert sum(b.n_records for b in batches) == 4
    assert tables["patents"][["rec", "pub_raw"]].values.tolist() == [[0, "CN1A"], [3, "CN4A"]]
    rej = tables["rejects"]
    assert rej[["row", "reason", "level"]].values.tolist() == [[1, "malformed row", "record"], [2, "malformed row", "record"]]
    assert rej["raw_value"].tolist() == ["CN2A,t2,a2", "CN3A,t3,a3,2020-01-01,H01M,extra"]
    assert set(tables["parties"]["rec"]) == {0, 3}


def test_missing_publication_number_is_a_record_reject(tmp_path):
    rows = [CN_HEADER, ["CN1A", "t1", "a1", "2020-01-01", "H01M"], ["", "t2", "a2", "2020-01-01", "H01M"],
            ["  ", "t3", "a3", "", ""]]
    tables, batches, _ = read(write_csv(tmp_path / "nopub.csv", rows))
    assert sum(b.n_records for b in batches) == 3 and tables["patents"]["pub_raw"].tolist() == ["CN1A"]
    rej = tables["rejects"]
    assert rej[["row", "field", "reason", "level"]].values.tolist() == [
        [1, "pub_raw", "missing publication number", "record"], [2, "pub_raw", "missing publication number", "record"]]
    assert set(tables["parties"]["rec"]) == {0} and set(tables["classifications"]["rec"]) == {0}


def test_blank_lines_are_not_records(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text(",".join(CN_HEADER) + "\n\nCN1A,t,a,2020-01-01,H01M\n\n,,,,\nCN2A,t,a,2020-01-01,H01M\n", encoding="utf-8")
    tables, batches, _ = read(path)
    assert sum(b.n_records for b in batches) == 2 and tables["rejects"].empty


def test_undecodable_file_raises(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(",".join(CN_HEADER).encode() + b"\nCN1A,\xff\xfe\x80abc,a,2020-01-01,H01M\n")
    with pytest.raises(UnreadableInputError, match="cannot decode as UTF-8 or GB18030"):
        list(TabularAdapter().read(path))
    assert sniff(path) == "cn_export"  # recognised by its header, so the error above is the precise one
    for junk in (b"\xff\xfe\x80\x00" * 100, b"ab\rc,d\n\x00\x01" + b"\xff" * 10):
        (tmp_path / "bin.csv").write_bytes(junk)
        assert sniff(tmp_path / "bin.csv") is None


def test_gbk_is_tried_after_utf8(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [CN_HEADER, ["CN1A", "一种无人机", "重庆大学", "2020年5月1日", "B64C"]], encoding="gbk")
    tables, _, _ = read(path)
    assert tables["patents"][["title", "app_date"]].values.tolist() == [["一种无人机", "2020年5月1日"]]


def test_several_title_rows_and_tab_separated(tmp_path):
    path = tmp_path / "title.tsv"
    path.write_text("检索结果导出 2024-05-01\n检索式：TIAB=(无人机)\n\n" + "\t".join(CN_HEADER) +
                    "\nCN1A\t一种,无人机\ta;b\t2020-01-01\tB64C\n", encoding="utf-8-sig")
    tables, _, _ = read(path)
    assert tables["patents"]["title"].tolist() == ["一种,无人机"]


def test_absurdly_long_field_does_not_crash(tmp_path):
    long_text = "很长的摘要" * 400_000  # 2 million characters, beyond csv's default field limit
    path = write_csv(tmp_path / "long.csv", [CN_HEADER + ["摘要"], ["CN1A", "t", "a", "2020-01-01", "H01M", long_text]])
    tables, _, _ = read(path)
    assert tables["patents"]["abstract"].str.len().tolist() == [len(long_text)]


def test_renamed_files_are_detected_from_content(lens_files, cn_exports, tmp_path):
    as_xlsx = shutil.copy(cn_exports[CN_UTF8], tmp_path / "export.xlsx")
    as_csv = shutil.copy(cn_exports[CN_XLSX], tmp_path / "export.csv")
    assert sniff(as_xlsx) == sniff(as_csv) == "cn_export"
    for path in (as_xlsx, as_csv):
        tables, batches, _ = read(path)
        assert sum(b.n_records for b in batches) == 10 and tables["rejects"].empty
    lens_txt = shutil.copy(lens_files["full"], tmp_path / "lens.xlsx")
    assert sniff(lens_txt) == "lens"


def test_not_an_export(tmp_path):
    path = write_csv(tmp_path / "other.csv", [["a", "b", "c"], ["1", "2", "3"]])
    assert sniff(path) is None
    with pytest.raises(UnsupportedFormatError, match="no header row"):
        list(TabularAdapter().read(path))
    ole = tmp_path / "old.xls"  # an OLE2 container that is no workbook
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert sniff(ole) is None
    with pytest.raises(UnreadableInputError, match="cannot open as a XLS workbook"):
        list(TabularAdapter().read(ole))
    with pytest.raises(UnreadableInputError, match="empty"):
        list(TabularAdapter().read(write_csv(tmp_path / "empty.csv", [])))


def test_user_alias_in_a_copied_headers_yaml(tmp_path):
    path = write_csv(tmp_path / "custom.csv", [["文献号", "发明名称", "申请人", "申请日"], ["CN1A", "一种无人机", "重庆大学", "2020-01-01"]])
    assert sniff(path) is None or read(path)[0]["rejects"]["reason"].tolist() == ["missing publication number"]
    aliases = tmp_path / "headers.yaml"
    text = HEADERS_YAML.read_text(encoding="utf-8")
    aliases.write_text(text.replace("pub_raw: [公开（公告）号,", "pub_raw: [文献号, 公开（公告）号,"), encoding="utf-8")
    assert sniff(path, aliases_path=aliases) == "cn_export"
    tables, _, _ = read(path, aliases_path=aliases)
    assert tables["patents"][["pub_raw", "title"]].values.tolist() == [["CN1A", "一种无人机"]]


def test_bad_alias_file_is_a_config_error(tmp_path):
    aliases = tmp_path / "headers.yaml"
    aliases.write_text("profiles:\n  mine:\n    separators: [';']\n    fields:\n      pub_number: [号]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown field 'pub_number'"):
        TabularAdapter(aliases_path=aliases)
    aliases.write_text("profiles:\n  mine:\n    separators: [';']\n    type_hints: {发明: inventio}\n"
                       "    fields:\n      pub_raw: [号]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown patent type"):
        TabularAdapter(aliases_path=aliases)
    with pytest.raises(ConfigError, match="unknown table profile"):
        TabularAdapter(profile="nope")


def test_batches_continue_rec_numbers(cn, cn_exports):
    whole = cn[CN_UTF8][0]
    tables, batches, _ = read(cn_exports[CN_UTF8], batch_size=3)
    assert [b.n_records for b in batches] == [3, 3, 3, 1]
    for name in RAW_COLUMNS:
        pd.testing.assert_frame_equal(tables[name].astype("string"), whole[name].astype("string"), obj=name)


def test_an_unclosed_quote_is_named_in_the_reject(tmp_path):
    # The csv module joins every line up to the next quote into one cell: one record, whose
    # reason says so (the joined rows are in its raw value, not lost silently).
    path = tmp_path / "quote.csv"
    lines = [",".join(CN_HEADER), "CN1A,t1,a1,2020-01-01,H01M", 'CN2A,"t2,a2,2020-01-01,H01M',
             "CN3A,t3,a3,2020-01-01,H01M", 'CN4A,t4",a4,2020-01-01,H01M', "CN5A,t5,a5,2020-01-01,H01M"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables, batches, _ = read(path)
    assert sum(b.n_records for b in batches) == 3
    assert tables["patents"]["pub_raw"].tolist() == ["CN1A", "CN5A"]
    (rej,) = tables["rejects"][["row", "reason"]].values.tolist()
    assert rej == [1, "malformed row (lines joined: an unclosed quote?)"]
    assert "CN3A" in tables["rejects"]["raw_value"].iloc[0]
