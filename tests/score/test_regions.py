"""Regions: counts by first applicant, RTA, shares, growth, concentration, position."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PatNavError, RegionInputError
from pipeline.score.regions import (
    applicant_counts,
    concentration,
    counts_matrix,
    first_applicant_locations,
    growth,
    position,
    region_table,
    rta,
    shares,
)


def test_rta_two_by_two_by_hand():
    # A: 10 in x, 30 in y (40); B: 30 in x, 30 in y (60); x is 40 of 100 patents, y 60.
    # RTA(A,x) = (10/40)/(40/100) = 0.25/0.4 = 0.625   RTA(A,y) = (30/40)/(60/100) = 0.75/0.6 = 1.25
    # RTA(B,x) = (30/60)/(40/100) = 0.5/0.4  = 1.25    RTA(B,y) = (30/60)/(60/100) = 0.5/0.6 = 0.8333
    c = pd.DataFrame({"x": [10, 30], "y": [30, 30]}, index=["A", "B"])
    r = rta(c)
    assert r.loc["A", "x"] == pytest.approx(0.625)
    assert r.loc["A", "y"] == pytest.approx(1.25)
    assert r.loc["B", "x"] == pytest.approx(1.25)
    assert r.loc["B", "y"] == pytest.approx(5 / 6)


def test_rta_undefined_cells_and_reference():
    c = pd.DataFrame({"x": [0, 4], "y": [0, 0]}, index=["empty", "B"])
    r = rta(c)
    assert r.loc["empty"].isna().all()          # region without patents
    assert r.loc["B", "x"] == 1.0 and math.isnan(r.loc["B", "y"])  # branch without patents
    # Against a "world" of x 10, y 30: B = (4/4)/(10/40) = 4.
    assert rta(c, reference=pd.Series({"x": 10, "y": 30})).loc["B", "x"] == 4.0
    assert rta(pd.DataFrame()).empty


def test_shares_and_matrix():
    t = pd.DataFrame({"region": ["A", "A", "B"], "branch": ["x", "y", "x"], "year": [2020, 2020, 2021],
                      "count": [1, 3, 2]})
    m = counts_matrix(t)
    assert m.values.tolist() == [[1.0, 3.0], [2.0, 0.0]]
    assert shares(m).values.tolist() == [[0.25, 0.75], [1.0, 0.0]]
    assert shares(m, of="branch")["x"].round(6).tolist() == [0.333333, 0.666667]
    with pytest.raises(RegionInputError, match="of must be"):
        shares(m, of="year")


def test_growth_before_zero():
    t = pd.DataFrame({"region": ["A"] * 4 + ["B"], "branch": ["x"] * 5,
                      "year": [2017, 2018, 2020, 2021, 2021], "count": [1, 3, 2, 2, 7]})
    g = growth(t, last_year=2021, window=2).set_index("region")
    # A: 2020–21 = 4 vs 2018–19 = 3 (2017 is outside both windows) → 1/3; B: 7 vs 0 → NaN.
    assert g.loc["A", ["recent", "before"]].tolist() == [4, 3]
    assert g.loc["A", "growth"] == pytest.approx(1 / 3)
    assert g.loc["B", "recent"] == 7 and math.isnan(g.loc["B", "growth"])
    assert growth(t.iloc[:0], last_year=2021).empty
    with pytest.raises(RegionInputError, match="window"):
        growth(t, last_year=2021, window=0)


def test_concentration_five_applicants():
    # Shares 0.4, 0.2, 0.2, 0.1, 0.1: CR4 = 0.9, CR8 = 1.0,
    # HHI = 0.16 + 0.04 + 0.04 + 0.01 + 0.01 = 0.26 (2,600 on the ×10,000 scale).
    c = pd.DataFrame({"branch": ["x"] * 5 + ["y"], "group": list("ABCDE") + ["A"], "count": [8, 4, 4, 2, 2, 3]})
    t = concentration(c).set_index("branch")
    assert t.loc["x", ["applicants", "total"]].tolist() == [5, 20]
    assert t.loc["x", "cr4"] == pytest.approx(0.9)
    assert t.loc["x", "cr8"] == pytest.approx(1.0)
    assert t.loc["x", "hhi"] == pytest.approx(0.26)
    assert t.loc["x", "hhi_10000"] == pytest.approx(2600)
    assert t.loc["y", ["cr4", "hhi"]].tolist() == [1.0, 1.0]   # a monopoly
    overall = concentration(c, by=None)
    assert overall["total"].tolist() == [23] and overall["applicants"].tolist() == [5]
    assert concentration(c.iloc[:0]).empty
    with pytest.raises(RegionInputError, match="negative"):
        concentration(c.assign(count=-1))


def test_applicant_counts_feed_concentration():
    groups = pd.DataFrame({"pub_id": ["a", "b", "c", "c"], "group": ["A", "A", "B", "A"]})
    labels = pd.DataFrame({"pub_id": ["a", "b", "c"], "branch": ["x", "x", "x"]})
    t = concentration(applicant_counts(groups, labels))
    # A has 3 patent links, B 1: shares 0.75 / 0.25, HHI = 0.5625 + 0.0625 = 0.625.
    assert t["hhi"].tolist() == [0.625]


def _tables():
    patents = pd.DataFrame({"pub_id": list("abcdef"),
                            "app_date": ["2020-01-01", "2021-01-01", "2021-06-01", "2021-01-01", "2019-01-01",
                                         "2021-01-01"]})
    parties = pd.DataFrame({
        "pub_id": ["a", "a", "b", "c", "d", "e", "f"],
        "role": ["applicant", "applicant", "assignee", "applicant", "applicant", "applicant", "inventor"],
        "seq": [1, 0, 0, 0, 0, 0, 0],
        "country": ["CN", "CN", "CN", "CN", "CN", "US", "CN"],
        # a: its first applicant (seq 0) is in 江北区, the second in 成都市 — only the first counts.
        "province": ["四川省", "重庆市", "重庆市", "重庆市", "四川省", None, "重庆市"],
        "city": ["成都市", "重庆市", "重庆市", "重庆市", "成都市", None, "重庆市"],
        "district": [None, "江北区", "江北区", "渝北区", "武侯区", None, "江北区"],
    })
    labels = pd.DataFrame({"pub_id": ["a", "b", "b", "c", "d", "e", "f"],
                           "branch": ["x", "x", "y", "x", "y", "x", "x"]})
    scores = pd.DataFrame({"pub_id": list("abcdef"), "high_value": [True, False, True, True, False, True]})
    return patents, parties, labels, scores


def test_first_applicant_and_region_table():
    patents, parties, labels, _ = _tables()
    loc = first_applicant_locations(parties).set_index("pub_id")
    assert loc.loc["a", "district"] == "江北区" and loc.loc["b", "district"] == "江北区"  # assignee as fallback
    assert "f" not in loc.index                                                       # inventors never locate
    t = region_table(patents, parties, labels, level="city")
    got = {(r.region, r.branch, r.year): r.count for r in t.itertuples()}
    assert got == {("CN/重庆市/重庆市", "x", 2020): 1, ("CN/重庆市/重庆市", "x", 2021): 2,
                   ("CN/重庆市/重庆市", "y", 2021): 1, ("CN/四川省/成都市", "y", 2021): 1}
    assert t.attrs["unlocated"] == 2      # e (US, no city) and f (no applicant)
    assert set(region_table(patents, parties, labels, level="country")["region"]) == {"CN", "US"}
    t = region_table(patents, parties, labels, level="district", years=(2021, 2021))
    assert t.groupby("region")["count"].sum().to_dict() == {
        "CN/四川省/成都市/武侯区": 1, "CN/重庆市/重庆市/江北区": 2, "CN/重庆市/重庆市/渝北区": 1}
    # Locations computed once and passed in give the same table at every level.
    located = first_applicant_locations(parties)
    for level in ("country", "province", "city", "district"):
        pd.testing.assert_frame_equal(region_table(patents, parties, labels, level=level, locations=located),
                                      region_table(patents, parties, labels, level=level))


def test_region_table_empty_and_bad_input():
    patents, parties, labels, _ = _tables()
    t = region_table(patents, parties, labels.iloc[:0])
    assert t.empty and list(t.columns) == ["region", "country", "province", "branch", "year", "count"]
    with pytest.raises(RegionInputError, match="level"):
        region_table(patents, parties, labels, level="street")
    with pytest.raises(PatNavError, match="district"):
        region_table(patents, parties.drop(columns="district"), labels)
    with pytest.raises(RegionInputError, match="years"):
        region_table(patents, parties, labels, years=(2022, 2020))


def test_position_region_vs_comparison():
    patents, parties, labels, scores = _tables()
    t = position("重庆市江北区", ["重庆市", "四川省成都市"], patents=patents, parties=parties, labels=labels,
                 scores=scores, last_year=2021, window=1)
    t = t.set_index(["region", "branch"])
    # World = all labelled patents, located or not: x = a, b, c, e, f (5), y = b, d (2); 7 pairs.
    # 江北区: a (x), b (x, y) → x 2, y 1. share x = 2/5;
    # RTA x = (2/3)/(5/7) = 14/15, y = (1/3)/(2/7) = 7/6.
    assert t.loc[("重庆市江北区", "x"), ["count", "share"]].tolist() == [2, 0.4]
    assert t.loc[("重庆市江北区", "x"), "rta"] == pytest.approx(14 / 15, abs=1e-6)
    assert t.loc[("重庆市江北区", "y"), "rta"] == pytest.approx(7 / 6, abs=1e-6)
    # 重庆市 (a city-level region containing the district): a, b, c → x 3, y 1:
    # RTA x = (3/4)/(5/7) = 1.05, y = (1/4)/(2/7) = 0.875.
    assert t.loc[("重庆市", "x"), "rta"] == pytest.approx(1.05)
    assert t.loc[("重庆市", "y"), "rta"] == pytest.approx(0.875)
    assert t.loc[("重庆市", "x"), "structure"] == 0.75
    # 成都市: d (y only) → RTA y = 1/(2/7) = 3.5, x = 0.
    assert t.loc[("四川省成都市", "y"), "rta"] == pytest.approx(3.5)
    assert t.loc[("四川省成都市", "x"), "rta"] == 0.0
    # High value: 江北区 x holds a (high) and b (not) → 1; y holds only b → 0.
    # Growth 2021 vs 2020: 江北区 x 1 vs 1 → 0.
    assert t.loc[("重庆市江北区", "x"), "high_value"] == 1
    assert t.loc[("重庆市江北区", "y"), "high_value"] == 0
    assert t.loc[("重庆市江北区", "x"), "growth"] == 0.0
    assert math.isnan(t.loc[("重庆市江北区", "y"), "growth"])   # y: 1 vs 0
    assert t.loc[("重庆市江北区", "x"), "level"] == "district"


def test_position_without_scores_empty_and_bad_region():
    patents, parties, labels, _ = _tables()
    t = position("US", [], patents=patents, parties=parties, labels=labels)
    assert t["high_value"].isna().all() and t.set_index("branch").loc["x", "count"] == 1
    assert position("US", patents=patents, parties=parties, labels=labels.iloc[:0]).empty
    with pytest.raises(RegionInputError, match="火星区"):
        position("重庆市火星区", patents=patents, parties=parties, labels=labels)


@pytest.mark.slow
def test_regions_on_sample(sample_tables):
    from pipeline.classify.rules import load_rules, rule_labels
    from pipeline.score.portfolio import applicant_groups

    patents, parties = sample_tables["patents"], sample_tables["parties"]
    labels = rule_labels(sample_tables["classifications"], load_rules())
    t = region_table(patents, parties, labels, level="province")
    assert len(t) > 0 and (t["count"] > 0).all()
    m = counts_matrix(t)
    r = rta(m)
    assert np.isfinite(r.values).all() and (r.values >= 0).all()
    # Weighted by the regions' totals, RTAs of a branch average to 1.
    weights = m.sum(axis=1) / m.values.sum()
    assert (r.mul(weights, axis=0).sum() / 1).round(9).eq(1).all()
    conc = concentration(applicant_counts(applicant_groups(parties), labels))
    assert conc["cr4"].between(0, 1).all() and (conc["cr4"] <= conc["cr8"]).all()
    assert (conc["hhi"] <= conc["cr4"] + 1e-9).all()
    pos = position("CN", ["US", "JP"], patents=patents, parties=parties, labels=labels)
    assert set(pos["region"]) == {"CN", "US", "JP"}


def test_nationality_routes_and_what_is_never_used():
    from pipeline.score.regions import nationality

    df = pd.DataFrame({
        "applicant_country": ["中国", "", None, None, "cn"],
        "inventor_country": [None, None, None, "DE", "US"],
        "priority_numbers": ["EP20190001A", "JP2019123456A; US1", None, "FR1", "KR1"],
        "country": ["CN", "US", "CN", "US", "US"],  # the publishing office: never a route
    })
    got = nationality(df)
    # "中国" and "" are not codes; EP is a regional office; the applicant wins over the inventor.
    assert got.values.tolist() == [[None, None], ["JP", "priority"], [None, None], ["DE", "inventor"],
                                   ["CN", "applicant"]]
    assert nationality(pd.DataFrame({"country": ["CN"]})).values.tolist() == [[None, None]]
