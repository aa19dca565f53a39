"""Portfolios: alias groups, Patent Asset Index, Relative Patent Position, high-value test."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import AliasFileError, ConfigError, PatNavError, PortfolioInputError
from pipeline.score.portfolio import (
    applicant_groups,
    high_value_portfolios,
    load_aliases,
    load_gni,
    market_coverage,
    patent_asset_index,
    portfolios,
    relative_position,
)

GNI = {"US": 20.0, "CN": 10.0, "DE": 5.0}


# ----------------------------------------------------------------------------- aliases

def _parties():
    return pd.DataFrame({
        "pub_id": ["p1", "p1", "p2", "p3", "p4", "p4"],
        "role": ["applicant", "assignee", "applicant", "applicant", "applicant", "inventor"],
        "seq": [0, 0, 0, 0, 0, 0],
        "name_raw": ["比亚迪股份有限公司", "BYD Co., Ltd.", "弗迪电池有限公司", "Tesla, Inc.", "TESLA INC", "WANG Chuanfu"],
        "name_norm": ["比亚迪", "BYD", "弗迪电池", "TESLA", "tesla", "WANG CHUANFU"],
    })


def test_alias_merging_chinese_english_and_subsidiary(tmp_path):
    f = tmp_path / "aliases.yaml"
    f.write_text("groups:\n  比亚迪股份有限公司:\n    - BYD CO LTD\n    - 弗迪电池有限公司\n", encoding="utf-8")
    g = applicant_groups(_parties(), f)
    # p1: Chinese and English names of BYD collapse to one row; p2: the subsidiary joins it;
    # p3/p4: no alias, each keeps its own name_norm (ingestion upper-cases it in real data).
    assert g.values.tolist() == [
        ["p1", "比亚迪股份有限公司", True],
        ["p2", "比亚迪股份有限公司", True],
        ["p3", "TESLA", False],
        ["p4", "tesla", False],
    ]


def test_alias_matching_is_case_insensitive():
    g = applicant_groups(_parties(), {"Tesla": ["tesla inc"]})
    assert g.loc[g["pub_id"].isin(["p3", "p4"]), "group"].tolist() == ["Tesla", "Tesla"]


def test_alias_clash_and_bad_file(tmp_path):
    with pytest.raises(AliasFileError, match="more than one group"):
        applicant_groups(_parties(), {"A": ["BYD"], "B": ["byd"]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n  A: BYD\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="groups.A"):
        load_aliases(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_aliases(tmp_path / "absent.yaml")
    # bundled file: SAIC-GM-Wuling kept apart from the vendor's GM group
    assert list(load_aliases()) == ["上汽通用五菱汽车股份有限公司"]


def test_applicant_groups_empty_and_missing_column():
    empty = _parties().iloc[:0]
    assert applicant_groups(empty).empty
    with pytest.raises(PortfolioInputError, match="name_norm"):
        applicant_groups(_parties().drop(columns="name_norm"))


# ----------------------------------------------------------------------------- PAI pieces

def test_market_coverage_ep_wo_and_unknown():
    mc = market_coverage(pd.Series(["US;CN", "EP", "WO;XX", ["DE", "EP"], None]),
                         {"US": 20.0, "CN": 10.0, "DE": 4.0, "FR": 3.0, "GB": 3.0})
    # US+CN = 30/20; EP = DE+FR+GB = 10/20; WO and unknown XX count 0; DE counted once.
    assert mc.tolist()[:4] == [1.5, 0.5, 0.0, 0.5]
    assert math.isnan(mc.iloc[4])
    with pytest.raises(PortfolioInputError, match="US"):
        market_coverage(pd.Series(["CN"]), {"CN": 1.0})


def test_market_coverage_of_a_text_column_equals_the_general_path():
    gni = {"US": 20.0, "CN": 10.0, "DE": 4.0, "FR": 3.0, "GB": 3.0}
    text = pd.Series(["US;CN", None, "EP;DE", "WO"], dtype="string")
    # US+CN = 30/20; unknown; EP = DE+FR+GB, DE once = 10/20; WO no market.
    mc = market_coverage(text, gni)
    assert mc.tolist()[:1] + mc.tolist()[2:] == [1.5, 0.5, 0.0] and math.isnan(mc.iloc[1])
    assert mc.equals(market_coverage(text.astype(object), gni))


def test_bundled_gni_table():
    gni = load_gni()
    assert {"US", "CN", "JP", "DE", "KR", "FR", "GB", "TW"} <= set(gni.index)
    assert (gni > 0).all() and gni.idxmax() == "US"


def test_tr_mc_ci_three_patents():
    pats = pd.DataFrame({"pub_id": ["a", "b", "c"], "earliest_priority_date": ["2020-01-01"] * 3})
    labels = pd.DataFrame({"pub_id": ["a", "b", "c"], "industry": ["nev"] * 3})
    scores = pd.DataFrame({"pub_id": ["a", "b", "c"], "forward_5y": [1, 2, 6],
                           "family_countries": ["US", "CN;DE", "US;CN;DE"]})
    t = patent_asset_index(pats, labels, scores, GNI)
    # mean citations 3: TR = 1/3, 2/3, 2; MC = 20/20, 15/20, 35/20; CI = TR × MC.
    assert t["tr"].round(6).tolist() == [0.333333, 0.666667, 2.0]
    assert t["mc"].tolist() == [1.0, 0.75, 1.75]
    assert t["ci"].round(6).tolist() == [0.333333, 0.5, 3.5]


def test_relative_position_leader_follower_tie():
    t = pd.DataFrame({"industry": ["x"] * 3 + ["y", "y"], "group": ["L", "F", "G", "A", "B"],
                      "pai": [6.0, 3.0, 0.0, 2.0, 2.0]})
    # Leader: own ÷ second = 6/3; followers: own ÷ leader = 3/6, 0/6; a tie gives 1.0 to both.
    assert relative_position(t).tolist() == [2.0, 0.5, 0.0, 1.0, 1.0]


# ----------------------------------------------------------------------------- portfolios

def _case():
    patents = pd.DataFrame({
        "pub_id": ["p1", "p2", "p3", "p4", "p5"],
        "patent_type": ["invention", "invention", "invention", "utility_model", "invention"],
        "country": ["CN", "US", "DE", "CN", "CN"],
        "kind": ["A", "B2", "A1", "U", "A"],
        "app_id": ["CN1", "US1", "DE1", "CN4", "CN5"],
        "family_id": ["f1", "f1", "f3", "f4", "f5"],
        "earliest_priority_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-05-01", "2021-02-01",
                                                  "2021-03-01"]),
    })
    groups = pd.DataFrame({"pub_id": ["p1", "p2", "p3", "p4", "p5"], "group": ["A", "A", "B", "B", "C"]})
    labels = pd.DataFrame({"pub_id": ["p1", "p2", "p3", "p4", "p5", "p1"],
                           "industry": ["nev"] * 5 + ["ai"],
                           "branch": ["nev.battery"] * 3 + ["nev.motor", "nev.battery", "ai.vision"]})
    scores = pd.DataFrame({
        "pub_id": ["p1", "p2", "p3", "p4", "p5"],
        "value_index": [0.5, 0.7, 0.4, 0.2, 0.1],
        "high_value": [True, True, False, False, False],
        "alive": pd.array([True, True, True, False, pd.NA], dtype="boolean"),
        "pct": [True, True, False, False, False],
        "forward_5y": [2, 0, 4, 0, 0],
        "family_countries": ["US;CN", "US;CN", "DE", "CN", "WO"],
    })
    return patents, groups, labels, scores


def test_portfolios_hand_computed():
    patents, groups, labels, scores = _case()
    t = portfolios(patents, groups, labels, scores, as_of=2021, growth_window=1, gni=GNI,
                   hv_thresholds={"inventions": 2, "pct": 1})
    nev = t[t["industry"] == "nev"].set_index("group")
    assert nev.index.tolist() == ["A", "B", "C"]
    assert nev["publications"].tolist() == [2, 2, 1]
    assert nev["families"].tolist() == [1, 2, 1]
    assert nev["inventions"].tolist() == [2, 1, 1]        # distinct invention applications
    assert nev["share_granted"].tolist() == [0.5, 0.5, 0.0]  # US B2; CN utility model U
    assert nev["share_alive"].tolist()[:2] == [1.0, 0.5] and math.isnan(nev.loc["C", "share_alive"])
    assert nev["pct"].tolist() == [1, 0, 0]               # PCT families
    assert nev["high_value"].tolist() == [2, 0, 0]
    assert nev["mean_value_index"].tolist() == [0.6, 0.3, 0.1]
    # p1 also carries ai.vision: A's nev patents span 2 branches; B's nev.battery + nev.motor.
    assert nev["breadth"].tolist() == [2, 2, 1]
    # Growth 2021 vs 2020: A 0 vs 2 → −1; B 1 vs 1 → 0; C 1 vs 0 → undefined.
    assert nev["recent"].tolist() == [0, 1, 1] and nev["before"].tolist() == [2, 1, 0]
    assert nev["growth"].tolist()[:2] == [-1.0, 0.0] and math.isnan(nev.loc["C", "growth"])
    assert nev["median_age"].tolist() == [1.0, 0.5, 0.0]
    # TR: cohort 2020/nev cites 2, 0, 4 (mean 2) → 1, 0, 2; cohort 2021 cites nothing → 1.
    # MC: US+CN = 1.5, DE = 0.25, CN = 0.5, WO = 0. CI: p1 1.5, p2 0, p3 0.5, p4 0.5, p5 0.
    # PAI: A = best live member of family f1 = 1.5 (not 1.5 + 0); B = p3 only (p4 lapsed);
    # C = 0 (its status is unknown, so not live).
    assert nev["pai"].tolist() == [1.5, 0.5, 0.0]
    # RPP on PAI: leader A 1.5/0.5; B 0.5/1.5; C 0/1.5.
    assert nev["rpp"].tolist() == [3.0, 0.333333, 0.0]
    assert nev["hv_pass"].tolist() == [True, False, False]
    assert nev["missing_inventions"].tolist() == [0, 1, 1]
    assert nev["missing_pct"].tolist() == [0, 1, 1]
    assert (t["flags"] == "").all() and t.attrs["flags"] == {}
    # The ai row: A alone → no competitor, RPP undefined.
    ai = t[t["industry"] == "ai"]
    assert ai["group"].tolist() == ["A"] and math.isnan(ai["rpp"].iloc[0])


def test_portfolios_by_branch_and_count_quality():
    patents, groups, labels, scores = _case()
    t = portfolios(patents, groups, labels, scores, by="branch", as_of=2021, gni=GNI, strength="count_quality")
    bat = t[t["branch"] == "nev.battery"].set_index("group")
    assert bat.index.tolist() == ["A", "B", "C"]
    # strength = families × mean value index: A 1 × 0.6, B 1 × 0.4, C 1 × 0.1.
    assert bat["strength"].tolist() == [0.6, 0.4, 0.1]
    assert bat["rpp"].tolist() == [1.5, 0.666667, 0.166667]


def test_missing_columns_give_nan_and_flag():
    patents, groups, labels, scores = _case()
    t = portfolios(patents, groups, labels, scores[["pub_id", "value_index"]], as_of=2021, gni=GNI,
                   hv_thresholds={"inventions": 2, "pct": 1})
    for col in ("share_alive", "pct", "high_value", "pai", "strength", "rpp"):
        assert t[col].isna().all(), col
    assert t["mean_value_index"].notna().all()
    assert "missing scores.alive: share_alive, pai, strength, rpp" in t["flags"].iloc[0]
    assert set(t.attrs["flags"]) == {"missing scores.alive", "missing scores.pct", "missing scores.high_value",
                                     "missing scores.forward_5y", "missing scores.family_countries"}
    nev = t[t["industry"] == "nev"].set_index("group")
    # PCT unknown: A meets the invention threshold, so its pass is unknown; B and C fail anyway.
    assert nev["hv_pass"].isna().tolist() == [True, False, False]
    assert not nev.loc["B", "hv_pass"] and not nev.loc["C", "hv_pass"]


def test_portfolios_empty_and_bad_input():
    patents, groups, labels, scores = _case()
    t = portfolios(patents, groups.iloc[:0], labels, scores, as_of=2021, gni=GNI)
    assert t.empty and "rpp" in t.columns and "industry" in t.columns
    with pytest.raises(PortfolioInputError, match="by must be"):
        portfolios(patents, groups, labels, scores, by="region", as_of=2021)
    with pytest.raises(PortfolioInputError, match="labels lacks column"):
        portfolios(patents, groups, labels.drop(columns="branch"), scores, as_of=2021)
    with pytest.raises(PatNavError, match="as_of"):
        portfolios(patents, groups, labels, scores, as_of="soon")


def test_high_value_portfolios_pass_fail_distance():
    t = pd.DataFrame({"group": ["A", "B", "C", "D"], "branch": ["b"] * 4,
                      "inventions": [150, 99, 20, 100], "pct": [30, 50, 0, 29]})
    hv = high_value_portfolios(t)
    assert hv[["group", "hv_pass", "missing_inventions", "missing_pct"]].values.tolist() == [
        ["A", True, 0, 0], ["B", False, 1, 0], ["D", False, 0, 1], ["C", False, 80, 30]]
    hv = high_value_portfolios(t, {"inventions": 20, "pct": 0})
    assert hv["hv_pass"].all()
    with pytest.raises(PortfolioInputError, match="thresholds"):
        high_value_portfolios(t, {"inventions": 100})
    assert high_value_portfolios(t.iloc[:0]).empty


# ----------------------------------------------------------------------------- sample

@pytest.fixture(scope="module")
def sample_labels(sample_tables):
    from pipeline.classify.rules import load_rules, rule_labels

    return rule_labels(sample_tables["classifications"], load_rules())


@pytest.mark.slow
def test_portfolios_on_sample(sample_tables, sample_labels):
    patents, parties = sample_tables["patents"], sample_tables["parties"]
    groups = applicant_groups(parties)
    status = patents["legal_status"].map({"有效": True, "失效": False}).astype("boolean")
    scores = pd.DataFrame({
        "pub_id": patents["pub_id"], "forward_5y": patents["cited_by_count"], "alive": status,
        "pct": patents["pct_app"].notna() | patents["wo_pub"].notna(),
        "family_countries": patents["country"], "value_index": 0.5,
        "high_value": patents["patent_type"].eq("invention") & status.fillna(False),
    })
    t = portfolios(patents, groups, sample_labels, scores, as_of=2024)
    assert len(t) > 100 and t.attrs["flags"] == {}
    assert (t["publications"] >= t["families"]).all()
    for c in ("share_invention", "share_granted", "share_recent"):
        assert t[c].between(0, 1).all(), c
    # Per industry with ≥ 2 groups of positive PAI, exactly the leader(s) have RPP ≥ 1.
    pos = t[t["pai"] > 0]
    leaders = pos[pos["rpp"] >= 1].groupby("industry").size()
    assert (leaders >= 1).all()
    assert np.isfinite(t["pai"]).all()


def test_family_countries_long_table_and_own_office():
    pats = pd.DataFrame({"pub_id": ["a", "b"], "country": ["CN", "US"], "filing_year": [2020, 2020]})
    labels = pd.DataFrame({"pub_id": ["a", "b"], "industry": ["nev", "nev"]})
    scores = pd.DataFrame({"pub_id": ["a", "b"], "forward_5y": [1, 1]})
    fam = pd.DataFrame({"pub_id": ["a", "a"], "country": ["DE", "CN"]})
    t = patent_asset_index(pats, labels, scores, GNI, family_countries=fam)
    # a: CN (own) + DE = 15/20; b: no family rows, only its own office US = 20/20.
    assert t["mc"].tolist() == [0.75, 1.0]
    # The same via a per-patent column: own office added, counted once.
    t = patent_asset_index(pats, labels, scores.assign(family_countries=[["DE"], "US"]), GNI)
    assert t["mc"].tolist() == [0.75, 1.0]
