"""Knowledge flows, regional dependence and IPC co-occurrence on hand-counted tiny cases."""

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import FlowInputError, PatNavError, SchemaError
from pipeline.network.flows import (
    dependence,
    ipc_cooccurrence,
    knowledge_flows,
    region_flows,
    region_keys,
)

# Owners of nodes 0..5; node 4's owner is unknown.
OWNERS = ["BYD", "BYD", "CATL", "CATL", np.nan, "Huawei"]
# 0→1 BYD→BYD (self), 0→2 1→2 1→3 BYD→CATL, 2→3 CATL→CATL (self), 3→4 CATL→?, 5→0 Huawei→BYD, 4→5 ?→Huawei
SRC = np.array([0, 0, 1, 1, 2, 3, 5, 4], dtype=np.int64)
DST = np.array([1, 2, 2, 3, 3, 4, 0, 5], dtype=np.int64)


def _rows(df, cols):
    return [tuple(r) for r in df[cols].itertuples(index=False)]


def test_flows_hand_counted():
    f = knowledge_flows(SRC, DST, OWNERS)
    # Citations with an unknown end are dropped: BYD made 4, CATL 1, Huawei 1.
    assert _rows(f, ["citing_group", "cited_group", "citations", "self"]) == [
        ("BYD", "CATL", 3, False),
        ("BYD", "BYD", 1, True),
        ("CATL", "CATL", 1, True),
        ("Huawei", "BYD", 1, False),
    ]
    assert f["share"].tolist() == pytest.approx([3 / 4, 1 / 4, 1.0, 1.0])
    assert f["citations"].sum() == 6


def test_flows_unknown_owners_kept_under_a_label():
    f = knowledge_flows(SRC, DST, OWNERS, unknown="(unknown)").set_index(["citing_group", "cited_group"])
    assert f.loc[("CATL", "(unknown)"), "citations"] == 1
    assert f.loc[("CATL", "CATL"), "share"] == pytest.approx(0.5)
    assert f.loc[("(unknown)", "Huawei"), "citations"] == 1
    assert f["citations"].sum() == len(SRC)
    both_unknown = knowledge_flows([0], [1], [None, None], unknown="?")
    assert both_unknown["self"].tolist() == [False]


def test_flows_weights_and_no_self_flag():
    f = knowledge_flows(SRC, DST, OWNERS, self_flag=False, weights=np.full(len(SRC), 0.5))
    assert "self" not in f.columns
    assert f.loc[(f["citing_group"] == "BYD") & (f["cited_group"] == "CATL"), "citations"].item() == 1.5
    with pytest.raises(FlowInputError, match="weights"):
        knowledge_flows(SRC, DST, OWNERS, weights=[1.0])


def test_flows_groups_can_be_cluster_numbers():
    f = knowledge_flows([0, 1], [2, 2], [0, 1, 1])
    assert _rows(f, ["citing_group", "cited_group", "citations", "self"]) == [(0, 1, 1, False), (1, 1, 1, True)]


def test_flows_empty_and_bad_input():
    f = knowledge_flows([], [], [])
    assert f.empty and list(f.columns) == ["citing_group", "cited_group", "citations", "share", "self"]
    assert knowledge_flows([0], [1], [None, None]).empty
    with pytest.raises(FlowInputError, match="outside 0..1"):
        knowledge_flows([0], [5], ["a", "b"])
    assert issubclass(FlowInputError, PatNavError)


REGIONS = pd.DataFrame({
    "country": ["CN", "CN", "CN", "CN", "US", "CN"],
    "province": ["北京市", "北京市", "吉林省", "江苏省", None, "江苏省"],
    "city": ["北京市", "北京市", "长春市", "南京市", None, "南京市"],
    "district": ["朝阳区", "海淀区", "朝阳区", "浦口区", None, None],
})


def test_region_keys_keep_homonyms_apart():
    keys = region_keys(REGIONS, "district")
    assert keys.tolist()[:4] == ["CN/北京市/北京市/朝阳区", "CN/北京市/北京市/海淀区", "CN/吉林省/长春市/朝阳区",
                                 "CN/江苏省/南京市/浦口区"]
    assert keys.isna().tolist()[4:] == [True, True]
    assert region_keys(REGIONS, "country").tolist() == ["CN", "CN", "CN", "CN", "US", "CN"]
    with pytest.raises(FlowInputError, match="level"):
        region_keys(REGIONS, "street")
    with pytest.raises(SchemaError, match="city"):
        region_keys(REGIONS.drop(columns="city"), "district")


def test_region_flows_per_level():
    # 0→2 Beijing→Jilin, 1→0 Beijing→Beijing, 3→5 Jiangsu→Jiangsu, 3→4 Jiangsu→US, 5→2 Jiangsu→Jilin
    src, dst = [0, 1, 3, 3, 5], [2, 0, 5, 4, 2]
    prov = region_flows(src, dst, REGIONS, "province")
    assert set(prov["level"]) == {"province"}
    counts = prov.set_index(["citing_group", "cited_group"])["citations"].to_dict()
    # The US node has no province: 3→4 drops out at this level.
    assert counts == {("CN/北京市", "CN/吉林省"): 1, ("CN/北京市", "CN/北京市"): 1,
                      ("CN/江苏省", "CN/江苏省"): 1, ("CN/江苏省", "CN/吉林省"): 1}
    country = region_flows(src, dst, REGIONS, "country")
    counts = country.set_index(["citing_group", "cited_group"])["citations"].to_dict()
    assert counts == {("CN", "CN"): 4, ("CN", "US"): 1}
    district = region_flows(src, dst, REGIONS, "district")
    # 朝阳区 (Beijing) cites 朝阳区 (Changchun): the same name, not a self-citation.
    assert _rows(district, ["citing_group", "cited_group", "self"]) == [
        ("CN/北京市/北京市/朝阳区", "CN/吉林省/长春市/朝阳区", False),
        ("CN/北京市/北京市/海淀区", "CN/北京市/北京市/朝阳区", False),
    ]


FLOWS = pd.DataFrame({
    "citing_group": ["CN/江苏省/南京市/浦口区"] * 4 + ["CN/北京市/北京市/朝阳区", "CN/吉林省/长春市/朝阳区"],
    "cited_group": ["CN/江苏省/南京市/浦口区", "CN/广东省/深圳市/南山区", "US", "CN/江苏省/南京市/江宁区", "US", "US"],
    "citations": [2, 5, 2, 1, 1, 1],
})


def test_dependence_hand_computed():
    d = dependence(FLOWS, "浦口区", top=2)
    assert d.region == "CN/江苏省/南京市/浦口区"
    assert (d.citations, d.inside, d.outside) == (10, 2, 8)
    assert d.outside_share == pytest.approx(0.8)
    assert d.top_sources["cited_group"].tolist() == ["CN/广东省/深圳市/南山区", "US"]
    assert d.top_sources["share"].tolist() == pytest.approx([0.5, 0.2])
    assert dependence(FLOWS, "CN/江苏省/南京市/浦口区").outside == 8


def test_dependence_ambiguous_missing_and_bad():
    with pytest.raises(FlowInputError, match="ambiguous"):
        dependence(FLOWS, "朝阳区")
    assert dependence(FLOWS, "CN/吉林省/长春市/朝阳区").outside_share == 1.0
    none = dependence(FLOWS, "鼓楼区")
    assert (none.citations, none.outside) == (0, 0) and np.isnan(none.outside_share)
    assert none.top_sources.empty
    with pytest.raises(SchemaError, match="citations"):
        dependence(FLOWS.drop(columns="citations"), "浦口区")


# p1..p3 in 2015–2019, p4 p5 in 2020–2024; p6 has no date; p7 only a CPC code.
CLS = pd.DataFrame({
    "pub_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p4", "p4", "p5", "p5", "p6", "p6", "p7", "p7"],
    "scheme": ["IPC"] * 12 + ["CPC", "IPC"],
    "subclass": ["H01M", "B60L", "H02J", "H01M", "B60L", "H01M", "H01M", "H02J", "B60L", "H02J", "H01M", "B60L",
                 "Y02E", "H01M"],
    "main_group": ["H01M10", "B60L53", "H02J7", "H01M10", "B60L53", "H01M4", "H01M10", None, "B60L53", "H02J7",
                   "H01M10", "B60L53", "Y02E60", "H01M10"],
})
PATS = pd.DataFrame({
    "pub_id": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"],
    "app_date": pd.to_datetime(["2015-01-01", "2016-01-01", "2017-01-01", "2021-01-01", "2022-01-01", None,
                                "2023-01-01"]),
})


def test_ipc_cooccurrence_hand_counted():
    out = ipc_cooccurrence(CLS, PATS, "subclass", period_years=5)
    # 2015–2019: N = 3, B60L 2, H01M 3, H02J 1. 2020–2024: N = 3 (p4 p5 p7), H01M 2, H02J 2, B60L 1.
    assert _rows(out, ["period", "a", "b", "count", "n_a", "n_b", "n_patents"]) == [
        ("2015-2019", "B60L", "H01M", 2, 2, 3, 3),
        ("2015-2019", "B60L", "H02J", 1, 2, 1, 3),
        ("2015-2019", "H01M", "H02J", 1, 3, 1, 3),
        ("2020-2024", "B60L", "H02J", 1, 1, 2, 3),
        ("2020-2024", "H01M", "H02J", 1, 2, 2, 3),
    ]
    # association = count × N / (n_a n_b); jaccard = count / (n_a + n_b − count)
    assert out["association"].tolist() == pytest.approx([1.0, 1.5, 1.0, 1.5, 0.75])
    assert out["jaccard"].tolist() == pytest.approx([2 / 3, 0.5, 1 / 3, 0.5, 1 / 3])
    assert (out["a"] < out["b"]).all()
    assert out[["period_start", "period_end"]].drop_duplicates().values.tolist() == [[2015, 2019], [2020, 2024]]


def test_ipc_cooccurrence_main_group_scheme_and_start():
    mg = ipc_cooccurrence(CLS, PATS, "main_group", period_years=10)
    # p4's H02J main group is null; H01M4 and H01M10 are distinct codes.
    assert _rows(mg, ["a", "b", "count"]) == [("B60L53", "H01M10", 2), ("B60L53", "H02J7", 2), ("H01M10", "H02J7", 1)]
    every = ipc_cooccurrence(CLS, PATS, "subclass", period_years=10, scheme=None)
    assert ("H01M", "Y02E") in set(zip(every["a"], every["b"]))
    late = ipc_cooccurrence(CLS, PATS, "subclass", period_years=2, start_year=2021)
    assert late["period"].unique().tolist() == ["2021-2022"]


def test_ipc_cooccurrence_empty_and_bad_input():
    cols = ["period", "period_start", "period_end", "a", "b", "count", "n_a", "n_b", "n_patents", "association",
            "jaccard"]
    assert list(ipc_cooccurrence(CLS.iloc[:0], PATS).columns) == cols
    single = ipc_cooccurrence(CLS[CLS["pub_id"] == "p3"], PATS)
    assert single.empty and list(single.columns) == cols
    with pytest.raises(FlowInputError, match="level"):
        ipc_cooccurrence(CLS, PATS, "group")
    with pytest.raises(FlowInputError, match="period_years"):
        ipc_cooccurrence(CLS, PATS, period_years=0)
    with pytest.raises(SchemaError, match="subclass"):
        ipc_cooccurrence(CLS.drop(columns="subclass"), PATS)


def test_flows_counted_on_codes_match_the_weighted_grouping():
    # Counting on integer codes of the owners gives the table the string grouping gives
    # (weights of one): same rows, order and shares; counts stay integers.
    counted = knowledge_flows(SRC, DST, OWNERS)
    weighted = knowledge_flows(SRC, DST, OWNERS, weights=np.ones(len(SRC)))
    assert counted["citations"].dtype == np.int64
    pd.testing.assert_frame_equal(counted, weighted.astype({"citations": np.int64}))
    # No edge between two known owners: an empty table with the columns.
    none = knowledge_flows([0], [1], ["BYD", None])
    assert none.empty and list(none.columns) == ["citing_group", "cited_group", "citations", "share", "self"]


def test_count_pairs_order_without_sorting_text():
    # Groups z, a, m on nodes 0..4: pairs (a->z) 2, (z->a) 2, (m->a) 1, (a->m) 1, (z->z) 1.
    # Ties on the count go to the citing, then the cited group by name (codes are sorted).
    from pipeline.network.flows import _count_pairs

    groups = np.array(["z", "a", "m", "a", "z"], dtype=object)
    src = np.array([1, 3, 0, 4, 2, 1, 0])
    dst = np.array([0, 4, 1, 3, 1, 2, 4])
    got = _count_pairs(groups, src, dst)
    assert got[["citing_group", "cited_group", "citations"]].values.tolist() == [
        ["a", "z", 2], ["z", "a", 2], ["a", "m", 1], ["m", "a", 1], ["z", "z", 1]]
    np.testing.assert_allclose(got["share"], [2 / 3, 2 / 3, 1 / 3, 1.0, 1 / 3])
