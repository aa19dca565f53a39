"""Cohort normalisation, composite index and CNIPA high-value flags: hand-computed cases."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PatNavError, ScoreInputError, UnreadableInputError
from pipeline.score.indicators import patent_indicators
from pipeline.score.value import cnipa_high_value, cohort_normalise, composite_index, read_id_list

# ------------------------------------------------------------------ cohort_normalise


def test_cohort_fallback_levels_sizes_and_reference_populations():
    v = pd.DataFrame({
        "pub_id": ["a", "b", "c", "d", "e", "f"],
        "year": pd.array([2015, 2015, 2015, 2015, 2015, None], dtype="Int64"),
        "branch": ["x", "x", "x", "y", "z", "x"],
        "industry": ["nev", "nev", "nev", "nev", "bio", "nev"],
        "claims": [10, 5, 0, 20, 4, 8],
    })
    out = cohort_normalise(v, ["claims"], min_cohort=3, trim=0).set_index("pub_id")
    assert out["cohort_level"].tolist() == ["year×branch"] * 3 + ["year×industry", "year", "all"]
    assert out["cohort"].tolist() == ["2015×x"] * 3 + ["2015×nev", "2015", "all"]
    assert out["cohort_size"].tolist() == [3, 3, 3, 4, 5, 6]
    # a, b, c against 2015×x (max 10); d against all of 2015×nev {10, 5, 0, 20};
    # e against all of 2015 (max 20); f against everything (max 20)
    assert out["claims"].tolist() == pytest.approx([1.0, 0.5, 0.0, 1.0, 0.2, 0.4])


def test_cohort_without_branch_or_industry_columns_uses_year():
    v = pd.DataFrame({"pub_id": ["a", "b"], "year": [2001, 2001], "scope": [1, 4]})
    out = cohort_normalise(v, ["scope"], min_cohort=1, trim=0)
    assert out["cohort_level"].tolist() == ["year", "year"]
    assert out["scope"].tolist() == [0.25, 1.0]


def test_trimming_winsorises_both_ends():
    v = pd.DataFrame({"pub_id": list("abc"), "year": 2020, "branch": "x", "claims": [1, 2, 10]})
    out = cohort_normalise(v, ["claims"], min_cohort=1, trim=0.25)
    # linear quantiles: q25 = 1.5, q75 = 6 -> clipped [1.5, 2, 6] / 6
    assert out["claims"].tolist() == pytest.approx([0.25, 1 / 3, 1.0])
    v = pd.DataFrame({"pub_id": range(101), "year": 2020, "claims": np.arange(101)})
    out = cohort_normalise(v, ["claims"], min_cohort=1)  # default trim 1 %: clip to [1, 99]
    assert out["claims"].iloc[[0, 50, 100]].tolist() == pytest.approx([1 / 99, 50 / 99, 1.0])


def test_lower_is_better_zero_max_and_all_missing_cohorts():
    v = pd.DataFrame({
        "pub_id": list("abcdef"),
        "year": [2010, 2010, 2010, 2011, 2011, 2012],
        "claims": [3, 6, None, 0, 0, None],
        "grant_lag_years": [1.0, 2.0, 4.0, 0.0, 0.0, None],
    })
    out = cohort_normalise(v, ["claims", "grant_lag_years"], min_cohort=1, trim=0).set_index("pub_id")
    assert out.loc[["a", "b"], "claims"].tolist() == [0.5, 1.0]
    assert np.isnan(out.loc["c", "claims"])  # missing stays missing
    assert out.loc[["a", "b", "c"], "grant_lag_years"].tolist() == [0.75, 0.5, 0.0]  # 1 - lag/max
    assert out.loc[["d", "e"], "claims"].tolist() == [0.0, 0.0]  # zero maximum
    assert out.loc[["d", "e"], "grant_lag_years"].tolist() == [1.0, 1.0]
    assert np.isnan(out.loc["f", "claims"]) and np.isnan(out.loc["f", "grant_lag_years"])  # all missing


def test_cohort_normalise_empty_and_bad_input():
    v = pd.DataFrame({"pub_id": [], "year": [], "claims": []})
    assert len(cohort_normalise(v, ["claims"])) == 0
    with pytest.raises(ScoreInputError, match="claims") as exc:
        cohort_normalise(v.drop(columns="claims"), ["claims"])
    assert isinstance(exc.value, PatNavError)
    with pytest.raises(ScoreInputError, match="trim"):
        cohort_normalise(v, ["claims"], trim=0.5)
    with pytest.raises(ScoreInputError, match="min_cohort"):
        cohort_normalise(v, ["claims"], min_cohort=0)


# ------------------------------------------------------------------- composite_index


def test_composite_renormalises_weights_over_known_components():
    n = pd.DataFrame({"pub_id": ["p", "q", "r"], "cohort": ["2015×x", "2015×x", "2016"],
                      "a": [0.2, 1.0, None], "b": [0.4, 0.5, None], "c": [0.8, None, None]})
    out = composite_index(n, {"a": 1, "b": 1, "c": 2}).set_index("pub_id")
    assert out.loc["p", "value_index"] == pytest.approx((0.2 + 0.4 + 2 * 0.8) / 4)
    assert out.loc["q", "value_index"] == pytest.approx((1.0 + 0.5) / 2)  # c missing: weights 1, 1
    assert np.isnan(out.loc["r", "value_index"]) and out.loc["r", "explanation"] == ""
    assert out["components_used"].tolist() == [3, 2, 0]
    assert out.loc["p", "contrib_c"] == pytest.approx(0.4)
    assert np.isnan(out.loc["q", "contrib_c"])
    assert out.loc["p", "explanation"] == "c 0.40, b 0.10, a 0.05"
    assert out.loc["q", "explanation"] == "a 0.50 (top of cohort 2015×x), b 0.25"


def test_contributions_add_up_to_the_index_exactly():
    rng = np.random.default_rng(0)
    x = rng.random((200, 5))
    x[rng.random((200, 5)) < 0.3] = np.nan
    n = pd.DataFrame(x, columns=list("abcde")).assign(pub_id=range(200))
    out = composite_index(n, {"a": 1, "b": 0.5, "c": 2, "d": 0, "e": 1.5})
    contrib = out[[f"contrib_{k}" for k in "abcde"]]
    assert contrib.sum(axis=1, min_count=1).equals(out["value_index"])
    known = out["value_index"].notna()
    # a weighted mean of values in [0, 1] stays in [0, 1]; weight-0 components never count
    assert out.loc[known, "value_index"].between(0, 1).all()
    assert out["contrib_d"].isna().all()
    assert (out["explanation"].str.count(", ") <= 2).all()


def test_composite_bad_weights():
    n = pd.DataFrame({"pub_id": ["p"], "a": [0.5]})
    with pytest.raises(ScoreInputError, match="zz"):
        composite_index(n, {"zz": 1})
    with pytest.raises(ScoreInputError, match="weights"):
        composite_index(n, {"a": -1})
    with pytest.raises(ScoreInputError, match="weights"):
        composite_index(n, {})
    assert len(composite_index(n.iloc[:0], {"a": 1})) == 0


# ------------------------------------------------------------------ cnipa_high_value

AS_OF = date(2024, 1, 1)


def cn_patents():
    return pd.DataFrame({
        "pub_id": ["CN1B", "CN2U", "CN3B", "CN4A", "CN5B", "CN6B", "CN7B"],
        "doc_key": ["CN1", "CN2", "CN3", "CN4", "CN5", "CN6", "CN7"],
        "app_id": ["CN201010000001.8", None, None, None, "CN201510000005.5", None, None],
        "country": "CN",
        "patent_type": ["invention", "utility_model", "invention", "invention", "invention", "invention", "invention"],
        "app_date": pd.to_datetime(["2010-05-01", "2010-05-01", "2010-05-01", "2020-01-01", "2015-01-01",
                                    "2014-01-02", "2013-12-31"]),
        "legal_status": ["有效", "有效", "失效", "审中", "有效", None, "有效"],
        "family_id": ["F1", "F2", None, None, "F5", None, None],
    })


def test_only_valid_inventions_qualify():
    p = cn_patents()
    labels = pd.DataFrame({"pub_id": ["CN1B", "CN2U", "CN3B", "CN4A", "CN6B"], "industry": "nev"})
    out = cnipa_high_value(p, labels, as_of=AS_OF).set_index("pub_id")
    assert out["eligible"].tolist() == [True, False, False, False, True, False, True]
    # utility model, lapsed, pending and unknown never qualify, whatever else holds
    assert not out.loc[["CN2U", "CN3B", "CN4A", "CN6B"], "high_value"].any()
    assert out.loc["CN2U", "hv_reasons"] == "not eligible: utility_model"
    assert out.loc["CN3B", "hv_reasons"] == "not eligible: legal status lapsed"
    assert out.loc["CN4A", "hv_reasons"] == "not eligible: legal status pending"
    assert out.loc["CN6B", "hv_reasons"] == "not eligible: legal status unknown"
    assert out.loc["CN1B", "hv_sei"] and out.loc["CN1B", "hv_maintained_10y"]
    assert out.loc["CN1B", "hv_reasons"] == "focus industry nev; maintained 13.7 years"
    # maintained more than 10 years: 2013-12-31 yes, 2014-01-02 (not eligible anyway) no
    assert out.loc["CN7B", "hv_maintained_10y"] and not out.loc["CN5B", "hv_maintained_10y"]
    assert out.loc["CN5B", "hv_reasons"] == "" and not out.loc["CN5B", "high_value"]


def test_term_ended_is_not_valid():
    p = cn_patents().iloc[[0]].assign(app_date=pd.to_datetime(["2003-01-01"]))
    out = cnipa_high_value(p, None, as_of=AS_OF)
    assert not out["eligible"].iloc[0] and out["hv_reasons"].iloc[0] == "not eligible: statutory term ended"


def test_overseas_family_from_table_and_from_the_data():
    p = cn_patents()
    extra = pd.DataFrame({"pub_id": ["US9B", "WO8A"], "doc_key": ["US9", "WO8"], "country": ["US", "WO"],
                          "patent_type": "invention", "app_date": pd.NaT, "legal_status": None,
                          "family_id": ["F1", "F5"]})
    p = pd.concat([p, extra], ignore_index=True)
    fc = pd.DataFrame({"pub_id": ["CN7B", "CN7B", "CN5B"], "country": ["EP", "CN", "CN"]})
    out = cnipa_high_value(p, None, fc, as_of=AS_OF).set_index("pub_id")
    assert out.loc["CN1B", "hv_overseas"]  # US member in the data
    assert not out.loc["CN5B", "hv_overseas"]  # only a WO member: not a patent right abroad
    assert out.loc["CN7B", "hv_overseas"]
    assert "overseas family EP" in out.loc["CN7B", "hv_reasons"]


def test_pledge_and_award_lists_and_pledge_amounts():
    p = cn_patents()
    pledges = pd.DataFrame({"pub_id": ["CN 5 A"]})  # other spelling, A publication of the B grant
    awards = pd.DataFrame({"app_id": ["ZL201010000001.8"]})
    events = pd.DataFrame({"pub_id": ["CN7B", "CN7B", "CN1B"], "event_type": "pledge",
                           "amount": [3e6, 2.5e6, 1e6]})
    out = cnipa_high_value(p, None, as_of=AS_OF, events=events, pledge_list=pledges, award_list=awards,
                           pledge_min_amount=5e6).set_index("pub_id")
    assert out.loc["CN5B", "hv_pledge"] and out.loc["CN5B", "hv_reasons"] == "on pledge list"
    assert out.loc["CN7B", "hv_pledge"] and "pledged 5500000" in out.loc["CN7B", "hv_reasons"]
    assert not out.loc["CN1B", "hv_pledge"]  # 1e6 below the threshold
    assert out.loc["CN1B", "hv_award"] and "on award list" in out.loc["CN1B", "hv_reasons"]
    # without a threshold, events alone do not make a high pledge
    plain = cnipa_high_value(p, None, as_of=AS_OF, events=events).set_index("pub_id")
    assert not plain["hv_pledge"].any()


def test_cnipa_bad_input_is_named():
    p = cn_patents()
    with pytest.raises(ScoreInputError, match="'pub_id' or 'app_id'"):
        cnipa_high_value(p, None, as_of=AS_OF, award_list=pd.DataFrame({"number": ["CN1B"]}))
    with pytest.raises(ScoreInputError, match="legal_status"):
        cnipa_high_value(p.drop(columns="legal_status"), None, as_of=AS_OF)
    with pytest.raises(ScoreInputError, match="industry"):
        cnipa_high_value(p, pd.DataFrame({"pub_id": ["CN1B"]}), as_of=AS_OF)
    assert len(cnipa_high_value(p.iloc[:0], None, as_of=AS_OF)) == 0


def test_read_id_list_utf8_and_gbk(tmp_path):
    f = tmp_path / "awards.csv"
    f.write_text("公开号说明,pub_id\n第一名,CN105226954B\n", encoding="gb18030")
    assert read_id_list(f)["pub_id"].tolist() == ["CN105226954B"]
    g = tmp_path / "bad.csv"
    g.write_text("number\nCN1\n", encoding="utf-8")
    with pytest.raises(ScoreInputError, match="pub_id"):
        read_id_list(g)
    with pytest.raises(UnreadableInputError):
        read_id_list(tmp_path / "absent.csv")


# ------------------------------------------------------------------- bundled sample


@pytest.mark.slow
def test_value_chain_on_the_demo_data(sample_tables):
    from pipeline.score.run import family_countries

    t = sample_tables
    ind = patent_indicators(t["patents"], t["classifications"], t["citations"], t["npl"], t["events"],
                            as_of=date(2025, 1, 1))
    names = ["forward_5y", "family_size", "claims", "scope", "grant_lag_years", "backward"]
    norm = cohort_normalise(ind.assign(industry=None, branch=None), names, min_cohort=30)
    vals = norm[names].to_numpy(float)
    assert np.nanmin(vals) >= 0 and np.nanmax(vals) <= 1
    # missing raw values stay missing after normalisation
    assert (np.isnan(vals) == ind[[f"{c}_missing" for c in names]].to_numpy()).all()
    idx = composite_index(norm, dict.fromkeys(names, 1.0))
    assert idx["value_index"].notna().all()
    fam = family_countries(t["patents"], t["family_members"])
    hv = cnipa_high_value(t["patents"], None, fam, as_of=date(2025, 1, 1), events=t["events"], pledge_min_amount=1e6)
    types = t["patents"]["patent_type"].to_numpy()
    assert not hv["high_value"].to_numpy()[types != "invention"].any()
    # no labels given and no pledge amount in the real exports: overseas family or 10 years kept
    expected = (hv["eligible"] & (hv["hv_overseas"] | hv["hv_maintained_10y"])).to_numpy(bool)
    assert (hv["high_value"].to_numpy() == expected).all() and expected.any()
    h = hv.set_index("pub_id")
    # CN110298449A (incoPat row 0): 授权 / 有效, 简单同族 lists US20220404779A1 -> overseas family
    assert h.loc["CN110298449A", "eligible"] and h.loc["CN110298449A", "hv_overseas"]
    # CN115794655A (incoPat row 610): 实质审查 / 审中 -> pending, not eligible
    assert not h.loc["CN115794655A", "eligible"] and not h.loc["CN115794655A", "high_value"]
