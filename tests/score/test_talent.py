"""Talent stage: inventor disambiguation, metrics and candidates on hand-computed toys."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PatNavError, TalentInputError
from pipeline.places import Region
from pipeline.score.talent import (
    METRIC_COLUMNS,
    disambiguate_inventors,
    in_region,
    inventor_metrics,
    name_key,
    talent_candidates,
)

CHONGQING = Region("重庆市", "province", "CN", "重庆市")


def party(pub, role, seq, name, city=None, province=None, country=None, sid=None, norm=None):
    return {"pub_id": pub, "role": role, "seq": seq, "name_raw": name, "name_norm": norm or name,
            "country": country, "province": province, "city": city, "source_party_id": sid}


def frame(rows):
    return pd.DataFrame(rows).astype({"seq": "Int64"})


def ids(mentions):
    return dict(zip(zip(mentions["pub_id"], mentions["seq"]), mentions["inventor_id"]))


# ----------------------------------------------------------------------------- name keys


def test_chinese_name_key_drops_spaces_and_full_width_forms():
    assert name_key("张 三") == name_key("张　三") == name_key(" 张三 ") == "张三"
    assert name_key("欧阳·娜娜") == "欧阳娜娜"


def test_english_name_key_is_order_case_initial_and_diacritic_insensitive():
    assert name_key("SMITH, JOHN A.") == name_key("John A. Smith") == name_key("john smith") == "john smith"
    assert name_key("Müller, Jürgen") == name_key("JURGEN MULLER") == "jurgen muller"
    assert name_key("Chien-Yuan Wang") == name_key("WANG CHIEN YUAN")
    assert name_key("ＪＯＨＮ　ＳＭＩＴＨ") == "john smith"  # full-width Latin
    assert name_key("John Michael Smith") != name_key("John Smith")  # full middle names stay
    assert name_key(None) is None and name_key("—") is None


# ------------------------------------------------------------------------ disambiguation


@pytest.fixture
def wang_wei():
    """Two 王伟: P1/P3 (Chongqing firm, shared co-inventor 李娜) and P2 (Shenzhen firm)."""
    return frame([
        party("P1", "applicant", 0, "重庆甲科技有限公司", "重庆市", "重庆市", "CN", norm="重庆甲科技"),
        party("P1", "inventor", 0, "王伟", "重庆市", "重庆市", "CN"),
        party("P1", "inventor", 1, "李娜"),
        party("P2", "applicant", 0, "深圳乙电子有限公司", "深圳市", "广东省", "CN", norm="深圳乙电子"),
        party("P2", "inventor", 0, "王 伟", "深圳市", "广东省", "CN"),
        party("P2", "inventor", 1, "张强"),
        party("P3", "applicant", 0, "成都丙研究院", "成都市", "四川省", "CN", norm="成都丙研究院"),
        party("P3", "inventor", 0, "王伟"),
        party("P3", "inventor", 1, "李　娜"),
    ])


def test_same_name_in_different_companies_and_cities_are_two_inventors(wang_wei):
    got = ids(disambiguate_inventors(wang_wei))
    assert got[("P1", 0)] == "inv:王伟:P1"
    assert got[("P2", 0)] == "inv:王伟:P2"


def test_same_name_linked_through_a_shared_co_inventor(wang_wei):
    out = disambiguate_inventors(wang_wei)
    got = ids(out)
    assert got[("P3", 0)] == got[("P1", 0)] == "inv:王伟:P1"
    assert got[("P3", 1)] == got[("P1", 1)] == "inv:李娜:P1"
    assert out.set_index(["pub_id", "seq"]).loc[("P2", 0), "rule"] == "singleton"
    # Without the co-inventor rule nothing else joins P3 to P1.
    alone = ids(disambiguate_inventors(wang_wei, rules=("same_patent", "applicant", "location")))
    assert alone[("P3", 0)] == "inv:王伟:P3"


def test_applicant_location_and_family_rules():
    parties = frame([
        party("A1", "applicant", 0, "ACME CORP", norm="ACME"),
        party("A1", "inventor", 0, "SMITH, JOHN A"),
        party("A2", "assignee", 0, "Acme Corp.", norm="ACME"),
        party("A2", "inventor", 0, "John Smith"),
        party("B1", "inventor", 0, "Jane Doe", city="Austin", province="TX", country="US"),
        party("B2", "inventor", 0, "DOE JANE", city="Austin", province="TX", country="US"),
        party("B3", "inventor", 0, "Jane Doe", country="US"),  # a bare country never links
        party("C1", "inventor", 0, "Li Ming"),
        party("C2", "inventor", 0, "LI MING"),
        # An inventor filing in their own name is no employer: D1 and D2 stay apart.
        party("D1", "applicant", 0, "Bob Stone"),
        party("D1", "inventor", 0, "Bob Stone"),
        party("D2", "applicant", 0, "STONE BOB"),
        party("D2", "inventor", 0, "STONE BOB"),
    ])
    patents = pd.DataFrame({"pub_id": ["C1", "C2"], "family_id": ["F9", "F9"]})
    got = ids(disambiguate_inventors(parties, patents))
    assert got[("A2", 0)] == got[("A1", 0)] == "inv:john smith:A1"
    assert got[("B2", 0)] == got[("B1", 0)] == "inv:doe jane:B1"
    assert got[("B3", 0)] == "inv:doe jane:B3"
    assert got[("C2", 0)] == got[("C1", 0)] == "inv:li ming:C1"
    assert ids(disambiguate_inventors(parties))[("C2", 0)] == "inv:li ming:C2"
    assert got[("D1", 0)] != got[("D2", 0)]


def test_source_ids_are_trusted_when_every_mention_has_one():
    parties = frame([
        party("U1", "assignee", 0, "NVIDIA", norm="NVIDIA"),
        party("U1", "inventor", 0, "Jeffrey M. Smith", sid="pv:1"),
        party("U2", "assignee", 0, "NVIDIA", norm="NVIDIA"),
        party("U2", "inventor", 0, "Jeffrey Smith", sid="pv:2"),
        party("U3", "inventor", 0, "Jeffrey Smith", sid="pv:1"),
        # Mixed key: one mention lacks an id, so the rules decide (shared applicant).
        party("U1", "inventor", 1, "Ann Lee", sid="pv:7"),
        party("U2", "inventor", 1, "Ann Lee"),
    ])
    out = disambiguate_inventors(parties)
    got = ids(out)
    assert got[("U1", 0)] == got[("U3", 0)] == "inv:jeffrey smith:U1"
    assert got[("U2", 0)] == "inv:jeffrey smith:U2"  # same firm, PatentsView says another person
    assert set(out.loc[out["name_key"] == "jeffrey smith", "rule"]) == {"source_id"}
    assert got[("U1", 1)] == got[("U2", 1)]


def test_ids_do_not_depend_on_row_order(wang_wei):
    base = disambiguate_inventors(wang_wei)
    for seed in range(3):
        shuffled = wang_wei.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(disambiguate_inventors(shuffled), base)


def test_rules_never_link_through_the_same_text_in_two_rules():
    # P2's family id is the text "P1", the pub_id of the other 王伟: a family value and a
    # patent value are different features even when their text (or their code within
    # their own rule: both are the first value) agrees.
    parties = frame([party("P1", "inventor", 0, "王伟"), party("P2", "inventor", 0, "王伟")])
    patents = pd.DataFrame({"pub_id": ["P1", "P2"], "family_id": [None, "P1"]})
    m = disambiguate_inventors(parties, patents, rules=("same_patent", "family"))
    assert m["inventor_id"].tolist() == ["inv:王伟:P1", "inv:王伟:P2"]
    assert m["rule"].tolist() == ["singleton", "singleton"]


def test_name_keys_are_computed_per_distinct_name_and_taken_back_by_row():
    from pipeline.score.talent import _keys

    names = pd.Series(["张 三", None, "SMITH, JOHN A", "张三", "--"], index=[5, 6, 7, 8, 9], dtype="string")
    keys = _keys(names)
    assert list(keys.index) == [5, 6, 7, 8, 9] and str(keys.dtype) == "string"
    assert keys.tolist() == ["张三", pd.NA, "john smith", "张三", pd.NA]


def test_metrics_ignore_mentions_of_patents_outside_the_table(toy):
    # A mention of P9 (not a patent of the table) neither adds a patent nor a co-inventor.
    extra = pd.DataFrame({"pub_id": ["P9", "P9"], "seq": [0, 1], "inventor_id": ["x", "v"],
                          "name_key": ["王伟", "孙八"]})
    m = inventor_metrics(pd.concat([toy["mentions"], extra], ignore_index=True), toy["patents"]) \
        .set_index("inventor_id")
    assert "v" not in m.index
    assert (m.loc["x", "patents"], m.loc["x", "co_inventors"]) == (4, 3)


def test_empty_and_bad_input():
    empty = frame([party("P1", "applicant", 0, "ACME")])
    out = disambiguate_inventors(empty)
    assert list(out.columns) == ["pub_id", "seq", "inventor_id", "name_key", "rule"] and out.empty
    unusable = disambiguate_inventors(frame([party("P1", "inventor", 0, "--")]))
    assert unusable["rule"].tolist() == ["unusable_name"] and unusable["inventor_id"].isna().all()
    with pytest.raises(TalentInputError, match="name_raw"):
        disambiguate_inventors(pd.DataFrame({"pub_id": ["P1"], "role": ["inventor"], "seq": [0]}))
    with pytest.raises(TalentInputError, match="share pub_id and seq"):
        disambiguate_inventors(frame([party("P1", "inventor", 0, "A B"), party("P1", "inventor", 0, "C D")]))
    with pytest.raises(PatNavError, match="unknown disambiguation rule"):
        disambiguate_inventors(empty, rules=("telepathy",))


# ------------------------------------------------------------------------------ metrics


@pytest.fixture
def toy():
    """Four patents. x is on all of them (甲 2015, 甲 2016, 乙 2018, 甲 2019); y on P1/P2,
    z on P3, w on P4: a star around x."""
    patents = pd.DataFrame({
        "pub_id": ["P1", "P2", "P3", "P4"],
        "family_id": ["F1", "F1", "F3", None],
        "app_date": pd.to_datetime(["2015-01-10", "2016-06-01", "2018-03-03", "2019-09-09"]),
    })
    mentions = pd.DataFrame({
        "pub_id": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
        "seq": [0, 1, 0, 1, 0, 1, 0, 1],
        "inventor_id": ["x", "y", "x", "y", "x", "z", "x", "w"],
        "name_key": ["王伟", "李娜", "王伟", "李娜", "王伟", "赵六", "王伟", "钱七"],
    })
    jia = dict(city="重庆市", province="重庆市", country="CN")
    parties = frame([
        party("P1", "applicant", 0, "重庆甲科技有限公司", norm="重庆甲科技", **jia),
        party("P2", "applicant", 0, "重庆甲科技有限公司", norm="重庆甲科技", **jia),
        party("P3", "applicant", 0, "深圳乙电子有限公司", "深圳市", "广东省", "CN", norm="深圳乙电子"),
        party("P4", "applicant", 0, "重庆甲科技有限公司", norm="重庆甲科技", **jia),
        party("P1", "inventor", 0, "王伟"), party("P1", "inventor", 1, "李娜"),
        party("P2", "inventor", 0, "王 伟"), party("P2", "inventor", 1, "李娜"),
        party("P3", "inventor", 0, "王伟"), party("P3", "inventor", 1, "赵六"),
        party("P4", "inventor", 0, "王伟"), party("P4", "inventor", 1, "钱七"),
    ])
    scores = pd.DataFrame({"pub_id": ["P1", "P2", "P3"], "high_value": [True, False, True],
                           "forward_5y": [3, 1, 0]})
    labels = pd.DataFrame({"pub_id": ["P1", "P3", "P3"], "industry": ["nev", "it", "nev"],
                           "branch": ["nev.battery", "it.ai", "nev.battery"]})
    return dict(mentions=mentions, patents=patents, parties=parties, scores=scores, labels=labels)


def test_metrics_on_a_four_patent_toy(toy):
    m = inventor_metrics(toy["mentions"], toy["patents"], scores=toy["scores"], labels=toy["labels"],
                         parties=toy["parties"]).set_index("inventor_id")
    assert list(m.reset_index().columns) == METRIC_COLUMNS
    assert list(m.index) == ["w", "x", "y", "z"]
    x = m.loc["x"]
    assert (x["name"], x["patents"], x["families"], x["first_year"], x["last_year"]) == ("王伟", 4, 3, 2015, 2019)
    assert (x["high_value"], x["citations_5y"]) == (2, 4.0)
    assert math.isclose(x["citations_5y_mean"], 4 / 3)
    assert m["co_inventors"].to_dict() == {"w": 1, "x": 3, "y": 1, "z": 1}
    assert x["degree_centrality"] == 1.0 and math.isclose(m.loc["y", "degree_centrality"], 1 / 3)
    assert x["betweenness"] == 1.0 and m.loc["y", "betweenness"] == 0.0  # every pair passes x
    assert math.isclose(x["eigenvector"], 1 / math.sqrt(2))  # star K1,3: (√3, 1, 1, 1) / √6
    assert math.isclose(m.loc["z", "eigenvector"], 1 / math.sqrt(6))
    assert (x["branches"], x["industries"], x["n_branches"]) == ("it.ai;nev.battery", "it;nev", 2)
    assert (x["mobility"], x["switches"]) == (2, 2)  # 甲 → 乙 → 甲
    assert x["applicants"] == "重庆甲科技 2015–2019; 深圳乙电子 2018"
    assert (x["province"], x["city"]) == ("重庆市", "重庆市")
    assert (m.loc["z", "province"], m.loc["z", "mobility"], m.loc["z", "switches"]) == ("广东省", 1, 0)
    assert m.loc["w", "high_value"] == 0  # P4 has no score: counted as not high-value


def test_metrics_as_of_and_without_optional_tables(toy):
    m = inventor_metrics(toy["mentions"], toy["patents"], as_of=2018).set_index("inventor_id")
    assert "w" not in m.index
    assert (m.loc["x", "patents"], m.loc["x", "last_year"], m.loc["x", "name"]) == (3, 2018, "王伟")
    assert m["high_value"].isna().all() and m["mobility"].isna().all()


def test_metrics_empty_and_bad_input(toy):
    empty = inventor_metrics(toy["mentions"].iloc[0:0], toy["patents"], parties=toy["parties"])
    assert list(empty.columns) == METRIC_COLUMNS and empty.empty
    with pytest.raises(TalentInputError, match="forward_5y"):
        inventor_metrics(toy["mentions"], toy["patents"], scores=toy["scores"].drop(columns="forward_5y"))


# --------------------------------------------------------------------------- candidates


def test_candidates_exclude_the_region_and_keep_weak_branches_only(toy):
    m = inventor_metrics(toy["mentions"], toy["patents"], scores=toy["scores"], labels=toy["labels"],
                         parties=toy["parties"])
    assert in_region(m, CHONGQING).tolist() == [True, True, True, False]  # w, x, y, z
    got = talent_candidates(m, CHONGQING, ["it.ai"])
    assert got["inventor_id"].tolist() == ["z"] and got["weak_branches"].tolist() == ["it.ai"]
    assert talent_candidates(m, CHONGQING, ["bio.drugs"]).empty
    # Seen from Guangdong, x and y (Chongqing) are outside talent in nev.battery; x has
    # more high-value patents (2 against 1).
    got = talent_candidates(m, Region("广东省", "province", "CN", "广东省"), ["nev.battery"])
    assert got["inventor_id"].tolist() == ["x", "y"]
    assert {"high_value", "citations_5y", "patents", "co_inventors", "applicants"} <= set(got.columns)


def test_candidates_ranking_top_and_unknown_region():
    m = pd.DataFrame({
        "inventor_id": ["a", "b", "c", "d", "e"],
        "high_value": [2, 2, 5, 2, 9], "citations_5y": [1.0, 7.0, 0.0, 7.0, 9.0],
        "patents": [9, 3, 1, 4, 9],
        "branches": ["nev.battery", "nev.battery", "it.ai;nev.battery", "nev.battery", "nev.battery"],
        "country": ["US", "CN", "JP", "CN", None], "province": [None, "江苏省", None, "江苏省", None],
        "city": [None, "苏州市", None, "南京市", None], "district": [None] * 5,
    })
    got = talent_candidates(m, CHONGQING, ["nev.battery"])
    assert got["inventor_id"].tolist() == ["c", "d", "b", "a"]  # high value, citations, patents
    assert got["rank"].tolist() == [1, 2, 3, 4]
    assert talent_candidates(m, CHONGQING, ["nev.battery"], top=2)["inventor_id"].tolist() == ["c", "d"]
    got = talent_candidates(m, CHONGQING, ["nev.battery"], include_unknown_region=True)
    assert got["inventor_id"].tolist()[0] == "e"
    assert talent_candidates(m.iloc[0:0], CHONGQING, ["nev.battery"]).empty
    assert talent_candidates(m, CHONGQING, []).empty
    with pytest.raises(TalentInputError, match="branches"):
        talent_candidates(m.drop(columns="branches"), CHONGQING, ["nev.battery"])


def test_region_given_as_text_resolves_through_parse_region():
    m = pd.DataFrame({"country": ["CN", "CN"], "province": ["重庆市", "浙江省"],
                      "city": ["重庆市", "宁波市"], "district": ["江北区", "江北区"]})
    assert in_region(m, "重庆市江北区").tolist() == [True, False]


# ----------------------------------------------------------------------- bundled sample


@pytest.mark.slow
def test_bundled_sample(sample_tables):
    parties, patents = sample_tables["parties"], sample_tables["patents"]
    out = disambiguate_inventors(parties, patents)
    inv = parties[parties["role"] == "inventor"]
    assert len(out) == len(inv)
    usable = out[out["inventor_id"].notna()]
    n_inventors = usable["inventor_id"].nunique()
    # Each inventor has one key; rule-decided mentions of one patent always merge, and
    # trusted keys give exactly one inventor per PatentsView id.
    trusted = usable["rule"] == "source_id"
    sid = inv.set_index(["pub_id", "seq"])["source_party_id"]
    keyed = usable.assign(sid=sid.reindex(pd.MultiIndex.from_frame(usable[["pub_id", "seq"]])).to_numpy())
    n_trusted = keyed[trusted].drop_duplicates(["name_key", "sid"]).shape[0]
    rest = keyed[~trusted]
    assert usable.groupby("inventor_id")["name_key"].nunique().max() == 1
    assert keyed[trusted]["inventor_id"].nunique() == n_trusted
    assert rest["name_key"].nunique() <= rest["inventor_id"].nunique() \
        <= rest.drop_duplicates(["name_key", "pub_id"]).shape[0]
    assert usable["name_key"].nunique() <= n_inventors < len(usable)
    # A PatentsView id is never split.
    assert keyed.dropna(subset=["sid"]).groupby("sid")["inventor_id"].nunique().max() == 1

    # Hand-checked in data/sample/patentsview/g_inventor_disambiguated.tsv:
    # fl:ma_ln:satake-6 (Masayuki Satake) is on 6747720 and 8663798, both NITTO DENKO;
    # fl:je_ln:smith-44 (Jeffrey M. Smith) is on 7382366 and 10114760 (NVIDIA), while
    # the Jeffrey Smith of 11264274 is another PatentsView inventor.
    got = ids(out)
    assert got[("US6747720B2", 0)] == got[("US8663798B2", 1)] == "inv:masayuki satake:US6747720B2"
    assert got[("US7382366B2", 0)] == got[("US10114760B2", 2)] == "inv:jeffrey smith:US10114760B2"
    assert (out.loc[out["pub_id"] == "US11264274B2", "inventor_id"] != "inv:jeffrey smith:US10114760B2").all()

    # Shuffled input, same ids.
    shuffled = parties.sample(frac=1, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(disambiguate_inventors(shuffled, patents), out)

    m = inventor_metrics(out, patents, parties=parties).set_index("inventor_id")
    assert len(m) == n_inventors
    satake = m.loc["inv:masayuki satake:US6747720B2"]
    assert (satake["name"], satake["patents"], satake["mobility"], satake["switches"]) == \
        ("Masayuki Satake", 2, 1, 0)
    assert satake["country"] == "JP" and "NITTO DENKO" in satake["applicants"]
    assert m["betweenness"].between(0, 1).all() and m["degree_centrality"].between(0, 1).all()


@pytest.mark.parametrize("seed", range(3))
def test_betweenness_matches_networkx_exactly_and_sampled_with_every_source(seed):
    import networkx as nx

    from pipeline.score.talent import _betweenness

    G = nx.gnm_random_graph(60, 90, seed=seed)
    A = nx.to_scipy_sparse_array(G, format="csr")
    ref = np.array([nx.betweenness_centrality(G, normalized=True)[i] for i in range(len(G))])
    np.testing.assert_allclose(_betweenness(A, exact_max=10_000, k=500, seed=0), ref, atol=1e-12)
    # A large component sampled with k ≥ its size is exact too (the sampling scale is right).
    np.testing.assert_allclose(_betweenness(A, exact_max=5, k=10_000, seed=0), ref, atol=1e-12)
