"""Real records of every source, read from ../shared/data: codes → rule labels, checked by hand.

Each expected label was checked by reading the record's codes against the patterns of
pipeline/data/taxonomy.yaml (the rule and pattern named in the comment). The Chinese
exports are read as an analyst would hand them to ``patnav classify FILE``: through
:func:`pipeline.io.read_list` with the databases' own column names.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.classify.corpus import latam_tables, read_uspto_latam
from pipeline.classify.labels import classify_list
from pipeline.classify.rules import load_rules, rule_labels
from pipeline.classify.text import INDUSTRIES, TextClassifier
from pipeline.ingest.normalize import normalize_ipc
from pipeline.ingest.uspto_xml import UsptoXmlAdapter
from pipeline.io import read_list
from tests.shared_data import shared_path


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def tiny_model():
    texts = ["battery vehicle", "电动汽车电池", "neural network", "神经网络", "robot arm", "机器人", "drug", "药物",
             "chair", "椅子"]
    y = [[0, 0, 0, 1]] * 2 + [[1, 0, 0, 0]] * 2 + [[0, 1, 0, 0]] * 2 + [[0, 0, 1, 0]] * 2 + [[0, 0, 0, 0]] * 2
    return TextClassifier(min_df=1, calibration="none", estimator="logreg", C=10).fit(texts, y)


@pytest.fixture(scope="module")
def latam():
    return read_uspto_latam(shared_path("en-text", "uspto-latam"))


def test_latam_reader_reads_every_distinct_grant(latam):
    assert len(latam) == 12428  # en-text/README.md: 12,495 rows, 12,428 distinct patents
    assert latam["number"].is_unique and latam["abstract"].str.len().gt(0).all()
    row = latam.set_index("number").loc["10918535"]
    assert row["title"] == "Absorbent article with improved fecal matter containment flaps"


@pytest.mark.parametrize("number, expected", [
    # A61F13/494 …: 4.2-r0 excludes A61F13* (reviewed R8) → in no focus industry
    ("10918535", set()),
    # G06N3/04 is listed exactly in 1.5-r4 → it.ai
    ("10643120", {("it.ai", "1.5-r4")}),
    # H01M4/131 is listed exactly in 5.2-r4 (and H01M10/0525 too) → nev.components
    ("10608246", {("nev.components", "5.2-r4")}),
    # C01D15/08, C22B3/06 …: lithium extraction from ores, no focus pattern
    ("10259719", set()),
])
def test_us_grant_corpus_codes_to_labels(latam, rules, number, expected):
    p, c = latam_tables(latam[latam["number"] == number])
    got = {(b, r) for b, r in rule_labels(c, rules)[["branch", "rule_id"]].itertuples(index=False)}
    assert got == expected


def test_uspto_xml_codes_to_labels(rules):
    batch = next(iter(UsptoXmlAdapter().read(shared_path("uspto-xml", "ipgxml__ipg050104.small.xml"))))
    pats, cls = batch.get("patents"), batch.get("classifications")
    rec = pats.loc[pats["pub_raw"].str.lstrip("0") == "6838391", "rec"].iloc[0]
    c = cls[cls["rec"] == rec].assign(pub_id="US6838391B2")
    c["symbol"] = normalize_ipc(c["symbol_raw"].reset_index(drop=True)).to_numpy()
    assert sorted(c["symbol"]) == ["H01L21/302", "H01L21/461"]
    # H01L21* is in 1.2-r5 (semiconductor devices) → it.electronics
    lbl = rule_labels(c, rules)
    assert lbl[["branch", "rule_id", "symbol"]].values.tolist() == [["it.electronics", "1.2-r5", "H01L21/302"]]


def _export_row(name: str, title: str) -> tuple[pd.DataFrame, dict]:
    df, cols = read_list(shared_path("cn-exports", name))
    return df[df[cols["title"]] == title].head(1), cols


@pytest.mark.parametrize("name, title, columns, branches", [
    # incoPat (标题 (中文), IPC主分类 G10L15/00, CPC): G10L15/00 is exact in 1.1-r3
    ("incopat_iflytek_3816.xlsx", "发音指导方法",
     {"title": "标题 (中文)", "abstract": "摘要 (中文)", "ipc_main": "IPC主分类", "cpc": "CPC"}, {"it.networks"}),
    # PatSnap (标题(译)(简体中文), IPC分类号 B60W20/20 | B64C19/02 | B60W10/115): B60W20* is 5.2-r3
    ("patsnap_green_aviation_1999.xlsx", "飞机并联混合动力电力推进系统的差速传动",
     {"title": "标题(译)(简体中文)", "abstract": "摘要(译)(简体中文)", "ipc": "IPC分类号"}, {"nev.components"}),
    # Patentics (标题, 国际分类 G06F3/023 | G06K19/06): G06K19/06 is exact in 1.1-r3; G06F3/023 is
    # excluded from 1.1-r4 and in no other rule
    ("patentics_zhongkechuangda_cn_511.xlsx", "一种基于二维码的文本输入方法",
     {"title": "标题", "abstract": "摘要", "ipc": "国际分类"}, {"it.networks"}),
])
def test_chinese_exports_read_with_their_own_headers(rules, tiny_model, name, title, columns, branches):
    row, cols = _export_row(name, title)
    assert len(row) == 1
    for role, header in columns.items():
        assert cols[role] == header
    out = classify_list(row, cols["title"], rules, tiny_model, abstract_col=cols["abstract"], ipc_col=cols["ipc"],
                        title_en_col=cols["title_en"], abstract_en_col=cols["abstract_en"],
                        code_cols=[c for c in (cols["ipc_main"], cols["cpc"]) if c], explain=True)
    fired = {part.split(" by ")[0] for part in str(out["rule"].iloc[0]).split("; ")}
    assert branches <= fired
    assert set(str(out["branch"].iloc[0]).split("; ")) >= branches


def test_industries_are_the_four(tiny_model):
    assert tuple(tiny_model.industries) == INDUSTRIES


@pytest.mark.parametrize("title, branch, rule", [
    # C07J5/00 (steroids) is in 4.1-r1 → biomedicine.pharma
    ("6alpha-fluoro-16alpha,18-dimethyl-delta 1,4-pregnadiene-3,20-dione", "biomedicine.pharma", "4.1-r1"),
    # G06K19/07 (record carriers with integrated circuit chips) is exact in 1.1-r3 → it.networks
    ("Transaction Card System Having Security Against Unauthorized", "it.networks", "1.1-r3"),
])
def test_lens_export_codes_to_labels(rules, tiny_model, title, branch, rule):
    df, cols = read_list(shared_path("lens", "drones_fulltext_families_5884.csv"))
    assert (cols["title"], cols["ipc"], cols["cpc"]) == ("Title", "IPCR Classifications", "CPC Classifications")
    row = df[df["Title"].str.startswith(title)].head(1)
    out = classify_list(row, cols["title"], rules, tiny_model, ipc_col=cols["ipc"], explain=True)
    assert f"{branch} by {rule}" in out["rule"].iloc[0]


def test_patentsview_subclass_only_codes(rules):
    cpc = pd.read_csv(shared_path("patentsview", "g_cpc_current.tsv"), sep="\t", dtype=str)
    c = cpc[cpc["patent_id"] == "4496356"]
    assert c["cpc_subclass"].tolist() == ["A61F"]
    lbl = rule_labels(pd.DataFrame({"pub_id": "US4496356", "scheme": "CPC", "symbol": c["cpc_subclass"]}), rules)
    # 4.2-r0 includes A61F* but excludes A61F13*: a bare A61F can only be a weak candidate
    assert lbl[["branch", "rule_id", "match"]].values.tolist() == [["biomedicine.biomed_eng", "4.2-r0", "subclass_only"]]
