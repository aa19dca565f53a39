"""Legal status and legal-event history (pipeline.ingest.legal).

Real rows come from the three CN exports in ../shared/data/cn-exports, read at test time
with python_calamine; the expected values below were read by hand from those files.
Hand-written cells cover every branch of the vocabulary and the hostile inputs.
"""

from __future__ import annotations

import collections
import shutil

import pandas as pd
import pytest
import yaml

from pipeline import schema
from pipeline.errors import ConfigError
from pipeline.ingest.base import RAW_COLUMNS
from pipeline.ingest.legal import LEGAL_YAML, flag_events, legal_status, load_vocabulary, parse_history
from pipeline.score.indicators import legal_state
from tests.shared_data import SHARED, shared_path

NA = pd.NA
EVENT_COLUMNS = RAW_COLUMNS["events"]


def statuses(values) -> list:
    return legal_status(pd.Series(values, dtype=object))["status"].tolist()


def alive(values) -> list:
    return legal_status(pd.Series(values, dtype=object))["alive"].tolist()


def history(cells, index=None):
    return parse_history(pd.Series(cells, index=index, dtype=object))


def one(cell) -> list[dict]:
    events, problems = history([cell])
    assert problems.empty, problems.to_dict("records")
    return events.drop(columns="rec").to_dict("records")


# ------------------------------------------------------------------ real exports


def _sheet(name: str) -> pd.DataFrame:
    import python_calamine

    rows = python_calamine.CalamineWorkbook.from_path(shared_path("cn-exports", name)).get_sheet_by_index(0).to_python()
    seen: collections.Counter = collections.Counter()
    header = []
    for cell in rows[0]:  # Patentics repeats 申请日 / 公开/公告日 / 授权日
        seen[cell] += 1
        header.append(cell if seen[cell] == 1 else f"{cell}.{seen[cell] - 1}")
    return pd.DataFrame(rows[1:], columns=header)


@pytest.fixture(scope="module")
def real():
    if not SHARED.is_dir():
        pytest.skip(f"../shared/data not present ({SHARED}): the real-export tests need it")
    return {
        "incopat": _sheet("incopat_autonomous_driving_10000.xlsx").set_index("公开（公告）号"),
        "patsnap": _sheet("patsnap_green_aviation_1999.xlsx").set_index("公开(公告)号"),
        "patentics": _sheet("patentics_zhongkechuangda_cn_511.xlsx").set_index("公开号"),
    }


REAL_STATUS_COLUMNS = [
    ("incopat", "当前法律状态"),
    ("incopat", "专利有效性"),
    ("patsnap", "法律状态/事件"),
    ("patentics", "法律状态"),
]


@pytest.mark.parametrize(("source", "column"), REAL_STATUS_COLUMNS)
def test_every_real_status_value_maps(real, source, column):
    values = pd.Series(real[source][column].unique(), dtype=object)
    out = legal_status(values)
    unmapped = values[out["status"].isna().to_numpy()].tolist()
    assert unmapped == ([] if column != "法律状态/事件" else ["-"]), unmapped
    assert set(out["status"].dropna()) <= set(schema.STATUSES)


@pytest.mark.parametrize(
    ("pub", "current", "validity", "status", "is_alive"),
    [
        ("CN110298449A", "授权", "有效", "granted", True),
        ("US20210261021A1", "实质审查", "审中", "pending", NA),
        ("CN115959120A", "公开", "审中", "pending", NA),
        ("WO2023056875A1", "未进入国家阶段-PCT有效期内", "PCT-有效期内", "pct_international", NA),
        ("WO2023059474A1", "进入国家阶段-PCT有效期内", "PCT-有效期内", "pct_international", NA),
        ("WO2017123624A1", "进入国家阶段-PCT有效期满", "PCT-有效期满", "pct_expired", NA),
        ("WO2022027669A1", "未进入国家阶段-PCT有效期满", "PCT-有效期满", "pct_expired", False),
        ("US20220017120A1", "期限届满", "失效", "expired", False),
        ("CA3029695A1", "权利终止", "失效", "lapsed", False),
        ("CN218440686U", "放弃", "失效", "abandoned", False),
        ("JP2023004495A", "驳回", "失效", "rejected", False),
        ("CN115540679A", "撤回", "失效", "withdrawn", False),
        ("US20130147438A1", "未缴年费", "失效", "lapsed", False),
    ],
)
def test_incopat_records(real, pub, current, validity, status, is_alive):
    row = real["incopat"].loc[[pub]]
    assert row["当前法律状态"].item() == current and row["专利有效性"].item() == validity
    out = legal_status(row["当前法律状态"])
    assert out.loc[pub, "status"] == status
    assert out["alive"].tolist() == [is_alive]


def test_incopat_validity_agrees_with_current_status_on_alive(real):
    """Where both columns give a definite alive, they agree (有效 ⇔ 授权, 失效 ⇔ the ends)."""
    df = real["incopat"]
    a = legal_status(df["当前法律状态"])["alive"]
    b = legal_status(df["专利有效性"])["alive"]
    both = a.notna() & b.notna()
    assert both.sum() > 4_000
    assert (a[both] == b[both]).all()


def test_patsnap_status_and_flagged_events(real):
    df = real["patsnap"]
    cells = df.loc[["CN107310413B", "CN203616935U", "RU2566806C1", "SI2858902T1", "PL406172A1",
                    "CN203690968U", "PL2631174T3"], "法律状态/事件"]
    assert cells.tolist() == ["授权 | 质押 | 权利转移", "避免重复授权 | 一案双申", "权利恢复", "全部撤销", "申请终止",
                              "未缴年费 | 诉讼 | 无效程序 | 一案双申 | 口头审理", "-"]
    out = legal_status(cells)
    assert out["status"].tolist() == ["granted", "abandoned", "granted", "invalidated", "abandoned", "lapsed", NA]
    assert out["alive"].tolist() == [True, False, True, False, False, False, NA]
    flags = flag_events(cells)
    assert list(flags.columns) == EVENT_COLUMNS
    assert flags[["rec", "event_type_raw", "detail"]].values.tolist() == [
        ["CN107310413B", "pledge", "质押"],
        ["CN107310413B", "transfer", "权利转移"],
        ["RU2566806C1", "reinstatement", "权利恢复"],
        ["SI2858902T1", "invalidation", "全部撤销"],
        ["CN203690968U", "other", "诉讼"],
        ["CN203690968U", "invalidation", "无效程序"],
        ["CN203690968U", "other", "口头审理"],
    ]
    assert flags["event_date"].isna().all()


def test_patsnap_flagged_event_counts(real):
    counts = flag_events(real["patsnap"]["法律状态/事件"])["event_type_raw"].value_counts().to_dict()
    # 权利转移 appears in 160 cells, 质押 in 19, 许可 in 11, 保全 in 5, 复审 12 times (one
    # cell twice), 权利恢复 in 4 (see the value counts of the column)
    assert counts == {"transfer": 160, "pledge": 19, "reexamination": 12, "licence": 11, "preservation": 5,
                      "reinstatement": 4, "other": 3, "invalidation": 2}


def test_patsnap_inpadoc_history(real):
    cells = real["patsnap"].loc[["CN107310413B", "CN203616935U", "RU2566806C1", "SI2858902T1",
                                 "JP6794384B2"], "INPADOC法律状态"]
    events, problems = parse_history(cells)
    assert problems.empty
    got = events.groupby("rec", sort=False)[["event_date", "event_type_raw"]].apply(lambda g: g.values.tolist())
    assert got["CN107310413B"] == [
        ["2017-11-03", "publication"], ["2017-11-28", "examination"], ["2018-04-10", "change"],
        ["2018-04-10", "transfer"], ["2018-05-01", "grant"], ["2022-01-07", "transfer"], ["2023-06-30", "pledge"],
    ]
    assert got["CN203616935U"] == [["2014-05-28", "grant"], ["2015-07-01", "abandonment"]]
    assert got["RU2566806C1"] == [["2019-03-05", "lapse"], ["2021-01-27", "reinstatement"]]
    assert "SI2858902T1" not in got  # '-': no history, no problem
    jp = dict(zip(events.loc[events["rec"] == "JP6794384B2", "detail"], events.loc[events["rec"] == "JP6794384B2", "event_type_raw"]))
    assert jp["NOTIFICATION OF REASONS FOR REFUSAL (JP)"] == "examination"
    assert jp["DECISION OF REFUSAL (JP)"] == "rejection"
    assert jp["TRIAL REQUEST (CONTAINING OTHER CLAIM DOCUMENTS, OPPOSITION DOCUMENTS) (JP)"] == "reexamination"
    assert jp["TRANSFER TO EXAMINER FOR RE-EXAMINATION BEFORE APPEAL (ZENCHI) (JP)"] == "reexamination"
    assert jp["DECISION OF GRANT OR REJECTION WRITTEN (JP)"] == "grant"
    assert jp["FIRST PAYMENT OF ANNUAL FEES (DURING GRANT PROCEDURE) (JP)"] == "other"
    assert jp["NOTIFICATION OF APPOINTMENT OF POWER OF ATTORNEY (JP)"] == "other"


def test_patsnap_inpadoc_whole_column(real):
    col = real["patsnap"]["INPADOC法律状态"]
    events, problems = parse_history(col)
    assert problems.empty
    assert set(events["rec"]) == set(col.index[col != "-"])  # every cell with a history gives events
    assert events["event_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(events["event_type_raw"]) <= set(schema.EVENT_TYPES)
    counts = events["event_type_raw"].value_counts()
    assert counts["pledge"] == 20 and counts["licence"] == 5 and counts["preservation"] == 8
    # CN terminations for unpaid fees are all lapses
    term = events["detail"] == "TERMINATION OF PATENT RIGHT DUE TO NON-PAYMENT OF ANNUAL FEE (CN)"
    assert term.sum() == 212 and (events.loc[term, "event_type_raw"] == "lapse").all()


def test_patentics_status(real):
    df = real["patentics"]
    pubs = ["CN113347225A", "CN104391636A", "CN108260110A", "CN112036386A", "CN115438209A"]
    cells = df.loc[pubs, "法律状态"]
    assert cells.tolist() == ["有效", "失效", "撤回", "驳回", "公开"]
    out = legal_status(cells)
    assert out["status"].tolist() == ["granted", "lapsed", "withdrawn", "rejected", "pending"]
    assert out["alive"].tolist() == [True, False, False, False, NA]


def _events_of(df, pub):
    events, problems = parse_history(df.loc[[pub], "法律描述"])
    assert problems.empty, problems.to_dict("records")
    assert (events["rec"] == pub).all()
    return events.drop(columns="rec").to_dict("records")


def test_patentics_transfer_with_new_co_owner(real):
    ev = _events_of(real["patentics"], "CN113347225A")
    assert [(e["event_type_raw"], e["event_date"], e["detail"]) for e in ev] == [
        ("publication", "2021-09-03", "公开"),
        ("examination", "2021-09-21", "实质审查的生效"),
        ("grant", "2022-05-24", "授权"),
        ("transfer", "2022-11-01", "专利权的转移"),  # 登记生效日, not the gazette date 2022.11.11
    ]
    # 变更事项=专利权人/地址/专利权人: the names, not the address; 无 is no one
    assert ev[3]["party_from"] == "中科创达软件股份有限公司"
    assert ev[3]["party_to"] == "中科创达软件股份有限公司; 畅索软件科技（上海）有限公司"
    assert all(e["party_from"] is None and e["amount"] is None for e in ev[:3])


def test_patentics_old_key_colon_format_and_name_changes(real):
    ev = _events_of(real["patentics"], "CN105959302A")
    assert [(e["event_type_raw"], e["event_date"], e["party_from"], e["party_to"]) for e in ev] == [
        ("publication", "2016-09-21", None, None),  # 公布
        ("examination", "2016-10-19", None, None),
        # 变更事项:申请人 / 变更前权利人:… with ':' and 登记生效日:20170612
        ("transfer", "2017-06-12", "中科创达软件股份有限公司", "北京云创远景软件有限责任公司"),
        ("grant", "2019-04-12", None, None),
        ("change", "2020-02-04", "北京云创远景软件有限责任公司", "北京云创远景软件有限责任公司"),
        ("change", "2020-10-30", "北京云创远景软件有限责任公司", "北京云创远景科技有限公司"),
    ]
    assert ev[2]["detail"] == "专利申请权、专利权的转移 专利申请权的转移"


def test_patentics_number_before_the_date(real):
    # "102331947 2013.12.11 授权 授权": the publication number before an event's date
    ev = _events_of(real["patentics"], "CN102331947A")
    assert [(e["event_type_raw"], e["event_date"]) for e in ev] == [
        ("publication", "2012-01-25"), ("examination", "2012-03-14"), ("change", "2013-04-17"),
        ("grant", "2013-12-11"), ("transfer", "2014-04-24"), ("change", "2020-02-04"),
    ]
    assert (ev[2]["party_from"], ev[2]["party_to"]) == ("中科创达软件科技（北京）有限公司", "中科创达软件股份有限公司")
    # 变更后权利人 of the second 专利权人 item: several names in one field, kept whole
    assert ev[4]["party_to"] == ("中科创达软件股份有限公司; 畅索软件科技（上海）有限公司 中科创达软件科技（深圳）有限公司 "
                                 "南京中科创达软件科技有限公司 成都中科创达软件有限公司")
    # "2 203136309 2013.08.14 授权 授权": count and number on the first line
    ev = _events_of(real["patentics"], "CN203136309U")
    assert [(e["event_type_raw"], e["event_date"]) for e in ev] == [
        ("grant", "2013-08-14"), ("transfer", "2014-04-11"), ("change", "2020-02-04")]


@pytest.mark.parametrize(
    ("pub", "expected"),
    [
        ("CN104391636A", [("publication", "2015-03-04"), ("examination", "2015-04-01"), ("grant", "2018-03-20"),
                          ("lapse", "2021-11-12")]),
        ("CN108260110A", [("publication", "2018-07-06"), ("examination", "2018-07-31"), ("withdrawal", "2020-08-07")]),
        ("CN104506721A", [("publication", "2015-04-08"), ("examination", "2015-05-06"), ("withdrawal", "2018-01-09")]),
        ("CN112036386A", [("publication", "2020-12-04"), ("examination", "2020-12-22"), ("rejection", "2022-02-25")]),
        ("CN109889730A", [("publication", "2019-06-14"), ("correction", "2019-08-06"), ("correction", "2019-08-06"),
                          ("examination", "2019-08-16"), ("grant", "2020-12-18"), ("transfer", "2021-04-19")]),
        ("CN115438209A", [("publication", "2022-12-06")]),
    ],
)
def test_patentics_event_sequences(real, pub, expected):
    ev = _events_of(real["patentics"], pub)
    assert [(e["event_type_raw"], e["event_date"]) for e in ev] == expected


def test_patentics_whole_column(real):
    col = real["patentics"]["法律描述"]
    events, problems = parse_history(col)
    assert problems.empty  # every cell parses and holds as many events as it declares
    declared = col.str.extract(r"^\s*(\d+)", expand=False).astype(int).sum()
    assert len(events) == declared == 1471
    counts = events["event_type_raw"].value_counts().to_dict()
    assert counts == {"publication": 481, "examination": 478, "grant": 198, "rejection": 194, "change": 74,
                      "transfer": 39, "lapse": 3, "correction": 2, "withdrawal": 2}
    tr = events[events["event_type_raw"] == "transfer"]
    assert tr["party_from"].notna().all() and tr["party_to"].notna().all()
    assert not tr["party_to"].str.contains(r"\d{6} |北京市|上海市", regex=True).any()  # no addresses


# ------------------------------------------------------------------ the vocabulary


def test_vocabulary_uses_canonical_words_only():
    doc = yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))
    assert set(doc["alive"]) == set(schema.STATUSES)
    assert sorted(doc["precedence"]) == sorted(schema.STATUSES)
    for word, entry in doc["statuses"].items():
        status = entry["status"] if isinstance(entry, dict) else entry
        assert status is None or status in schema.STATUSES, word
    assert set(doc["events"].values()) <= set(schema.EVENT_TYPES)
    hist = doc["history"]
    assert set(hist["cn_events"].values()) <= set(schema.EVENT_TYPES)
    assert {t for t, _ in hist["cn_keywords"]} <= set(schema.EVENT_TYPES)
    assert {t for t, _ in hist["inpadoc_keywords"]} <= set(schema.EVENT_TYPES)
    assert set(hist["fields"]) <= set(schema.EVENT_TYPES)
    # every status is reachable from some word
    used = {e["status"] if isinstance(e, dict) else e for e in doc["statuses"].values()}
    assert set(schema.STATUSES) <= used


def test_every_listed_word_reads_as_listed():
    doc = yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))
    words = list(doc["statuses"])
    out = legal_status(pd.Series(words, dtype=object))
    for word, entry, status, is_alive in zip(words, doc["statuses"].values(), out["status"], out["alive"]):
        want = entry["status"] if isinstance(entry, dict) else entry
        want_alive = entry.get("alive") if isinstance(entry, dict) else (doc["alive"][want] if want else None)
        assert (None if pd.isna(status) else status) == want, word
        assert (None if pd.isna(is_alive) else bool(is_alive)) == want_alive, word


def test_every_listed_event_word_flags():
    doc = yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))
    words = list(doc["events"])
    flags = flag_events(pd.Series(words, dtype=object))
    assert flags["event_type_raw"].tolist() == list(doc["events"].values())
    assert flags["detail"].tolist() == words


def test_alive_follows_status():
    vocab = load_vocabulary()
    dead = {"rejected", "withdrawn", "abandoned", "lapsed", "expired", "invalidated", "pct_expired"}
    for status, is_alive in yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))["alive"].items():
        assert is_alive is (True if status == "granted" else False if status in dead else None)
    assert vocab.statuses["有效"] == ("granted", True)


@pytest.mark.parametrize(
    ("cell", "status", "is_alive"),
    [
        # width, case and spacing variants
        ("ＰＣＴ－有效期内", "pct_international", NA),
        ("Expired - Fee Related", "lapsed", False),
        ("expired-lifetime", "expired", False),
        ("  ACTIVE ", "granted", True),
        ("Inactive", "lapsed", False),
        ("DISCONTINUED", "abandoned", False),
        ("patented", "granted", True),
        ("CEASED", "lapsed", False),
        ("Revoked", "invalidated", False),
        ("In Force", "granted", True),
        ("撤回－视为撤回", "withdrawn", False),
        # <word>-<qualifier> takes the word's status
        ("撤回-新的类型", "withdrawn", False),
        ("放弃-某种放弃", "abandoned", False),
        # several words: event words and flags are skipped, the end of life wins
        ("授权 | 权利转移", "granted", True),
        ("有效;质押", "granted", True),
        ("有效;审中", "granted", True),
        ("审中；有效", "granted", True),
        ("有效;失效", "lapsed", False),
        ("失效,有效", "lapsed", False),
        ("授权\n未缴年费", "lapsed", False),
        ("PCT-有效期内 | 授权", "granted", True),
        ("部分无效 | 无效程序", "granted", True),
        ("全部无效", "invalidated", False),
        ("无效", "invalidated", False),
        ("蓝色 | 授权", "granted", True),  # an unknown extra word does not hide the status
        # no status word: unknown, never guessed
        ("权利转移", NA, NA),
        ("一案双申", NA, NA),
        ("授权了", NA, NA),
        ("grant", NA, NA),
        ("Expired (something else)", NA, NA),
        ("-", NA, NA),
        ("未确认", NA, NA),
        ("UNKNOWN", NA, NA),
        ("", NA, NA),
        ("   ", NA, NA),
        ("| ; |", NA, NA),
    ],
)
def test_status_cases(cell, status, is_alive):
    out = legal_status(pd.Series([cell]))
    assert out["status"].tolist() == [status]
    assert out["alive"].tolist() == [is_alive]


def test_status_nulls_types_index_and_dtypes():
    s = pd.Series([None, float("nan"), pd.NA, 12, 3.5, "有效", "有效"], index=list("abcdefg"), dtype=object)
    out = legal_status(s)
    assert list(out.index) == list("abcdefg") and list(out.columns) == ["status", "alive"]
    assert out["status"].dtype == "string" and out["alive"].dtype == "boolean"
    assert out["status"].tolist() == [NA] * 5 + ["granted", "granted"]
    assert legal_status(pd.Series([], dtype=object)).shape == (0, 2)
    assert legal_status(pd.Series(["有效", None], dtype="string"))["status"].tolist() == ["granted", NA]


@pytest.mark.parametrize(
    "cell",
    [
        "=cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+有效",
        "|" * 10_000,
        "有效" * 1_000,
        "有效;" + "x" * 5_000,
        "\x00\x01有效\x02",
        "有效\u202e",
    ],
)
def test_status_hostile_cells(cell):
    out = legal_status(pd.Series([cell]))
    assert out["status"].isna().all() and out["alive"].isna().all()
    assert flag_events(pd.Series([cell])).empty or cell.startswith("有效;")


def test_flag_events_cases():
    s = pd.Series(["授权 | 质押 | 一案双申 | 权利转移", "未缴年费 | 复审 | 复审", None, "-", "有效", "保全;许可",
                   "=cmd|质押"], index=[10, 11, 12, 13, 14, 15, 16])
    flags = flag_events(s)
    assert list(flags.columns) == EVENT_COLUMNS
    assert flags[["rec", "event_type_raw", "detail"]].values.tolist() == [
        [10, "pledge", "质押"], [10, "transfer", "权利转移"],
        [11, "reexamination", "复审"], [11, "reexamination", "复审"],
        [15, "preservation", "保全"], [15, "licence", "许可"],
        [16, "pledge", "质押"],
    ]
    assert flags[["event_date", "party_from", "party_to", "amount"]].isna().all().all()
    empty = flag_events(pd.Series([], dtype=object))
    assert empty.empty and list(empty.columns) == EVENT_COLUMNS


def test_legal_state_delegates():
    s = pd.Series(["有效", "进入国家阶段-PCT有效期满", "未进入国家阶段-PCT有效期满", "PCT-有效期内", "实质审查",
                   "撤回-视为撤回 | 一案双申", "-", None], index=list("abcdefgh"))
    out = legal_state(s)
    assert out.dtype == "string" and list(out.index) == list("abcdefgh")
    assert out.tolist() == ["alive", NA, "lapsed", "pending", "pending", "lapsed", NA, NA]


# ---------------------------------------------------------------- dated histories

LICENCE_AND_PLEDGE = (
    "4  2019.01.04 授权 授权\n\n"
    "2020.03.10 专利实施许可合同备案的生效 专利实施许可合同备案的生效\n"
    "IPC(主分类)：G06F 16/00\n合同备案号：X2020990000123\n让与人：甲大学\n受让人：乙公司\n"
    "发明名称：一种方法\n许可种类：普通许可\n备案日期：20200220\n合同金额：12.5万元\n\n"
    "2021.06.01 专利权质押合同登记的生效 专利权质押合同登记的生效\n"
    "登记号：Y2021990000456\n登记生效日：20210515\n出质人：乙公司\n质权人：丙银行股份有限公司\n质押金额=300万元\n\n"
    "2022.07.01 专利权质押合同登记的注销 专利权质押合同登记的注销\n"
    "登记号：Y2021990000456\n出质人：乙公司\n质权人：丙银行股份有限公司\n解除日：20220620"
)


def test_cnipa_licence_pledge_and_release():
    ev = one(LICENCE_AND_PLEDGE)
    assert [(e["event_type_raw"], e["event_date"], e["party_from"], e["party_to"], e["amount"]) for e in ev] == [
        ("grant", "2019-01-04", None, None, None),
        ("licence", "2020-02-20", "甲大学", "乙公司", "12.5万元"),
        ("pledge", "2021-05-15", "乙公司", "丙银行股份有限公司", "300万元"),
        ("other", "2022-06-20", "乙公司", "丙银行股份有限公司", None),  # the pledge released
    ]
    assert ev[3]["detail"] == "专利权质押合同登记的注销"


@pytest.mark.parametrize(
    ("header", "etype"),
    [
        ("专利权的终止 专利权有效期届满", "expiry"),
        ("专利权的终止 未缴年费专利权终止", "lapse"),
        ("专利权的终止 专利权的终止", "lapse"),
        ("专利权的无效宣告 专利权全部无效", "invalidation"),
        ("专利权的视为放弃 专利权的视为放弃", "abandonment"),
        ("避免重复授权放弃专利权 避免重复授权放弃专利权", "abandonment"),
        ("权利的恢复 权利的恢复", "reinstatement"),
        ("专利权的保全 专利权的保全", "preservation"),
        ("专利权保全的解除 专利权保全的解除", "other"),
        ("专利实施许可合同备案的变更 专利实施许可合同备案的变更", "change"),
        ("专利实施许可合同备案的注销 专利实施许可合同备案的注销", "other"),
        ("专利权质押合同登记的变更 专利权质押合同登记的变更", "change"),
        ("发明专利申请公布后的视为撤回 发明专利申请公布后的视为撤回", "withdrawal"),
        ("实质审查请求的生效 实质审查请求的生效", "examination"),
        # not listed: matched by keyword
        ("专利权质押合同登记的生效、变更及注销 专利权质押合同登记的生效", "pledge"),
        ("某种许可事项 某种许可事项", "licence"),
        ("专利权人的变更 专利权人的变更", "change"),
        ("复审决定 复审决定", "reexamination"),
        # nothing known: other, the name kept in detail
        ("某种新的事件 某种新的事件", "other"),
    ],
)
def test_cn_event_names(header, etype):
    ev = one(f"1  2020.01.02 {header}")
    assert ev[0]["event_type_raw"] == etype and ev[0]["event_date"] == "2020-01-02"
    assert ev[0]["detail"] == " ".join(dict.fromkeys(header.split()))


def test_cn_transfer_without_change_items_takes_the_name_before_the_slash():
    cell = ("1  2020.05.01 专利权的转移 专利权的转移\n变更前权利人=甲公司/100000 北京市某路1号\n"
            "变更后权利人=乙公司 丙公司/200000 上海市某路2号\n登记生效日=2020.04.20")
    ev = one(cell)
    assert (ev[0]["party_from"], ev[0]["party_to"], ev[0]["event_date"]) == ("甲公司", "乙公司 丙公司", "2020-04-20")


def test_cn_wrapped_value_and_unreadable_effective_date():
    cell = ("2  2020.05.01 公开 公开\n\n2021.01.01 专利权的转移 专利权的转移\n变更事项=专利权人\n"
            "变更前权利人=甲公司\n变更后权利人=乙公司\n丙公司\n登记生效日=2021.02.30")
    events, problems = history([cell])
    ev = events.to_dict("records")
    assert ev[1]["party_to"] == "乙公司 丙公司"  # a value wrapped onto the next line
    assert ev[1]["event_date"] == "2021-01-01"  # 2021.02.30 does not exist: the event's own date
    assert problems["reason"].str.contains("unreadable date").tolist() == [True]


def test_cn_count_mismatch_and_bad_dates_are_reported_with_the_readable_events():
    cell = "3  2020.01.02 公开 公开\n\n2020.13.40 授权 授权"
    events, problems = history([cell], index=["r1"])
    assert events[["rec", "event_type_raw", "event_date"]].values.tolist() == [
        ["r1", "publication", "2020-01-02"], ["r1", "grant", None]]
    reasons = problems["reason"].tolist()
    assert any("impossible date" in r for r in reasons) and any("declares 3 events, holds 2" in r for r in reasons)
    assert (problems["rec"] == "r1").all() and (problems["raw_value"] == cell).all()


def test_cn_history_without_count():
    ev = one("2020.01.02 公开 公开\n2021.03.04 授权 授权")
    assert [(e["event_type_raw"], e["event_date"]) for e in ev] == [("publication", "2020-01-02"), ("grant", "2021-03-04")]


@pytest.mark.parametrize(
    ("text", "etype"),
    [
        ("+PUBLICATION", "publication"),
        ("+UTILITY MODEL APPLICATION PUBLISHED", "publication"),
        ("ENTRY INTO FORCE OF REQUEST FOR SUBSTANTIVE EXAMINATION", "examination"),
        ("PUBLICATION OF THE PRELIMINARY SEARCH REPORT", "examination"),
        ("-NOTIFICATION OF REASONS FOR REFUSAL", "examination"),
        ("+PATENT GRANT", "grant"),
        ("+DECISION TO GRANT (AFTER RE-EXAMINATION)", "grant"),
        ("+DECISION OF GRANT OR REJECTION WRITTEN", "grant"),
        ("-DECISION OF GRANT OR REJECTION WRITTEN", "rejection"),
        ("-REJECTION OF INVENTION PATENT APPLICATION AFTER PUBLICATION", "rejection"),
        ("-DECISION OF REFUSAL", "rejection"),
        ("-INVENTION PATENT APPLICATION DEEMED WITHDRAWN AFTER PUBLICATION", "withdrawal"),
        ("DISMISSAL ACC. ART.33 OF IPL - EXAMINATION NOT REQUESTED WITHIN 36 MONTHS OF FILING", "withdrawal"),
        ("-PATENT RIGHT ACTIVELY ABANDONED", "abandonment"),
        ("-ABANDON PATENT RIGHT TO AVOID REGRANT", "abandonment"),
        ("-DECISIONS ON DISCONTINUANCE OF THE PROCEEDINGS", "abandonment"),
        ("-TERMINATION OF PATENT RIGHT DUE TO NON-PAYMENT OF ANNUAL FEE", "lapse"),
        ("-THE PATENT IS INVALID DUE TO NON-PAYMENT OF FEES", "lapse"),
        ("-UTILITY MODEL LAPSED", "lapse"),
        ("-EXPIRY OF PATENT TERM", "expiry"),
        ("TRANSFER OF PATENT RIGHT", "transfer"),
        ("SUCCESSION OR ASSIGNMENT OF PATENT RIGHT", "transfer"),
        ("ENTRY INTO FORCE OF RECORDATION OF PATENT LICENSING CONTRACT", "licence"),
        ("NON-BINDING DECLARATION OF LICENSING INTEREST", "other"),
        ("ENTRY INTO FORCE OF THE REGISTRATION OF THE CONTRACT FOR PLEDGE OF PATENT RIGHT", "pledge"),
        ("CANCELLATION OF THE REGISTRATION OF THE CONTRACT FOR PLEDGE OF PATENT RIGHT", "other"),
        ("+PRESERVATION OF PATENT RIGHT", "preservation"),
        ("+DISCHARGE OF PRESERVATION OF PATENT", "other"),
        ("INVALIDATION OF PATENT RIGHT", "invalidation"),
        ("+REINSTATEMENT OF PATENT", "reinstatement"),
        ("CHANGE OF NAME OR COMPANY NAME", "change"),
        ("CHANGE OF ADDRESS", "change"),
        ("CORRECTION OF NAME OF PATENT OWNER", "correction"),
        ("REISSUE OF PATENT SPECIFICATION", "correction"),
        ("TRANSFER TO EXAMINER FOR RE-EXAMINATION BEFORE APPEAL (ZENCHI)", "reexamination"),
        ("+FEE PAYMENT", "other"),
        ("NOTIFICATION OF APPOINTMENT OF POWER OF ATTORNEY", "other"),
        ("SOMETHING NEW", "other"),
    ],
)
def test_inpadoc_keywords(text, etype):
    ev = one(f"2020-01-02 | {text} | CN")
    assert ev == [{"event_type_raw": etype, "event_date": "2020-01-02", "party_from": None, "party_to": None,
                   "amount": None, "detail": f"{text.lstrip('+-')} (CN)"}]


@pytest.mark.parametrize(
    ("cell", "reason", "kept"),
    [
        ("2020-01-02 | +PATENT GRANT", "not date | text | office", 0),
        ("2020-01-02 | +PATENT GRANT | CN | 2019-02-30 | PUBLICATION | CN", "item 2", 1),
        ("2020-01-02 | +PATENT GRANT | China", "item 1", 0),
        ("2020-01-02 | | CN", "item 1", 0),
        ("=cmd|' /C calc'!A0", "not a legal-event history", 0),
        ("@SUM(1+1)", "not a legal-event history", 0),
        ("| | |", "not a legal-event history", 0),
        ("公开", "not a legal-event history", 0),
        ("2020-01-02 | PUBLICATION | CN" * 20_000, "longer than", 0),
    ],
)
def test_unreadable_histories(cell, reason, kept):
    events, problems = history(["2020-01-02 | +PATENT GRANT | CN", cell], index=["ok", "bad"])
    assert events.loc[events["rec"] == "ok", "event_type_raw"].tolist() == ["grant"]
    assert (events["rec"] == "bad").sum() == kept
    assert problems["rec"].tolist() == ["bad"]
    assert reason in problems["reason"].item()
    assert problems["raw_value"].item() == cell[:500]


def test_history_structure_order_and_empties():
    cells = ["2015-04-01 | -DEEMED WITHDRAWAL OF PATENT APPLICATION AFTER PUBLICATION (PATENT LAW 2001) | CN | "
             "2013-06-12 | ENTRY INTO SUBSTANTIVE EXAMINATION | CN | 2013-05-15 | +PUBLICATION | CN |",
             None, "", "-", "  ", float("nan")]
    events, problems = history(cells + cells[:1], index=["a", "b", "c", "d", "e", "f", "g"])
    assert list(events.columns) == EVENT_COLUMNS and list(problems.columns) == ["rec", "raw_value", "reason"]
    assert problems.empty
    assert events[["rec", "event_date", "event_type_raw"]].values.tolist() == [
        ["a", "2013-05-15", "publication"], ["a", "2013-06-12", "examination"], ["a", "2015-04-01", "withdrawal"],
        ["g", "2013-05-15", "publication"], ["g", "2013-06-12", "examination"], ["g", "2015-04-01", "withdrawal"],
    ]
    assert events.loc[2, "detail"] == "DEEMED WITHDRAWAL OF PATENT APPLICATION AFTER PUBLICATION (PATENT LAW 2001) (CN)"
    events, problems = parse_history(pd.Series([], dtype=object))
    assert events.empty and problems.empty and list(events.columns) == EVENT_COLUMNS


def test_event_types_pass_through_canonical_words():
    events, _ = history([LICENCE_AND_PLEDGE, "2020-01-02 | +PATENT GRANT | CN"])
    assert set(events["event_type_raw"]) <= set(schema.EVENT_TYPES)


# --------------------------------------------------------------- a user's vocabulary


def test_user_vocabulary_copy(tmp_path):
    doc = yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))
    doc["statuses"]["专利权维持中"] = "granted"
    doc["events"]["海关保护备案"] = "other"
    path = tmp_path / "legal.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert legal_status(pd.Series(["专利权维持中"]), vocab_path=path)["status"].tolist() == ["granted"]
    assert legal_status(pd.Series(["专利权维持中"]))["status"].tolist() == [NA]
    assert flag_events(pd.Series(["有效|海关保护备案"]), vocab_path=path)["event_type_raw"].tolist() == ["other"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["statuses"].update({"好": "fine"}), "'fine' is not a status"),
        (lambda d: d["events"].update({"好": "party"}), "'party' is not an event type"),
        (lambda d: d["history"]["inpadoc_keywords"].append(["gala", ["X"]]), "'gala' is not an event type"),
        (lambda d: d["precedence"].pop(), "precedence"),
        (lambda d: d["alive"].pop("granted"), "alive"),
        (lambda d: d["statuses"].update({"有效 ": "lapsed"}), "listed twice"),
    ],
)
def test_bad_vocabulary_is_a_config_error(tmp_path, edit, message):
    doc = yaml.safe_load(LEGAL_YAML.read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / "legal.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        legal_status(pd.Series(["有效"]), vocab_path=path)


def test_missing_or_broken_vocabulary(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_vocabulary(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    shutil.copy(LEGAL_YAML, broken)
    broken.write_text(broken.read_text(encoding="utf-8") + "\n  - : [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_vocabulary(broken)
