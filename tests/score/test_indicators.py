"""Per-patent OECD indicators: hand-computed values on tiny tables, plus the bundled sample."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PatNavError, ScoreInputError
from pipeline.score.indicators import legal_state, patent_classes, patent_indicators

AS_OF = date(2025, 1, 1)


def patents(ids, **cols):
    n = len(ids)
    base = {
        "pub_id": ids,
        "country": ["CN"] * n,
        "patent_type": ["invention"] * n,
        "app_date": ["2010-01-01"] * n,
        "pub_date": ["2011-01-01"] * n,
        "grant_date": [None] * n,
        "claims_count": [None] * n,
        "family_id": [None] * n,
        "family_size": [None] * n,
        "legal_status": [None] * n,
    }
    base.update(cols)
    df = pd.DataFrame(base)
    for c in ("app_date", "pub_date", "grant_date"):
        df[c] = pd.to_datetime(df[c])
    return df


def classes(pairs, scheme="IPC"):
    return pd.DataFrame({"pub_id": [p for p, _ in pairs], "scheme": scheme, "subclass": [c for _, c in pairs]})


def cites(pairs):
    return pd.DataFrame({"pub_id": [a for a, _ in pairs], "resolved_pub_id": [b for _, b in pairs]})


def run(pat, cls, cit, **kw):
    return patent_indicators(pat, cls, cit, as_of=kw.pop("as_of", AS_OF), **kw).set_index("pub_id")


# ------------------------------------------------------------- generality / originality


def test_generality_single_class_citers():
    # a is cited by b, c (class A) and d (class B): G = 1 - (4/9 + 1/9) = 4/9
    pat = patents(["a", "b", "c", "d"])
    cls = classes([("a", "Z"), ("b", "A"), ("c", "A"), ("d", "B")])
    out = run(pat, cls, cites([("b", "a"), ("c", "a"), ("d", "a")]))
    assert out.loc["a", "generality"] == pytest.approx(4 / 9)
    assert not out.loc["a", "generality_missing"]
    # nobody cites b: missing, not 0
    assert out.loc["b", "generality_missing"] and pd.isna(out.loc["b", "generality"])
    corrected = run(pat, cls, cites([("b", "a"), ("c", "a"), ("d", "a")]), bias_correction=True)
    assert corrected.loc["a", "generality"] == pytest.approx(4 / 9 * 3 / 2)


def test_generality_multi_class_count_vs_fractional():
    # b carries A and B, c carries A. count: A=2, B=1 -> 4/9; fractional: A=1.5, B=0.5 -> 3/8
    pat = patents(["a", "b", "c"])
    cls = classes([("b", "A"), ("b", "B"), ("c", "A")])
    cit = cites([("b", "a"), ("c", "a")])
    assert run(pat, cls, cit).loc["a", "generality"] == pytest.approx(4 / 9)
    assert run(pat, cls, cit, class_weighting="fractional").loc["a", "generality"] == pytest.approx(1 - (0.75**2 + 0.25**2))
    with pytest.raises(ScoreInputError, match="class_weighting"):
        run(pat, cls, cit, class_weighting="share")


def test_originality_with_and_without_bias_correction():
    # p cites x (A), y (A), z (B): O = 4/9; corrected x 3/2 = 2/3
    pat = patents(["p", "x", "y", "z", "q"])
    cls = classes([("p", "A"), ("x", "A"), ("y", "A"), ("z", "B"), ("q", "A")])
    cit = cites([("p", "x"), ("p", "y"), ("p", "z"), ("q", "x")])
    plain = run(pat, cls, cit)
    assert plain.loc["p", "originality"] == pytest.approx(4 / 9)
    assert plain.loc["q", "originality"] == pytest.approx(0.0)  # one cited class: no diversity
    corrected = run(pat, cls, cit, bias_correction=True)
    assert corrected.loc["p", "originality"] == pytest.approx(2 / 3)
    # N = 1: N/(N-1) undefined -> missing
    assert corrected.loc["q", "originality_missing"] and pd.isna(corrected.loc["q", "originality"])


def test_citations_outside_the_data_and_self_citations_are_ignored():
    pat = patents(["p", "x"])
    cls = classes([("p", "A"), ("x", "B")])
    cit = pd.DataFrame({"pub_id": ["p", "p", "p"], "resolved_pub_id": ["x", None, "p"]})
    out = run(pat, cls, cit)
    assert out.loc["p", "originality"] == pytest.approx(0.0)
    assert out.loc["p", "backward"] == 3  # every citation row counts as a backward reference
    assert out.loc["x", "forward_total"] == 1 and out.loc["p", "forward_total"] == 0


# ------------------------------------------------------------------------ radicalness


def test_radicalness_oecd_share_of_foreign_class_entries():
    # p carries A; cites x {A, B} and y {C}: entries A (own), B, C -> 2/3
    pat = patents(["p", "x", "y", "u"])
    cls = classes([("p", "A"), ("x", "A"), ("x", "B"), ("y", "C")])
    out = run(pat, cls, cites([("p", "x"), ("p", "y"), ("u", "x")]))
    assert out.loc["p", "radicalness"] == pytest.approx(2 / 3)
    # u has no classes: radicalness undefined
    assert out.loc["u", "radicalness_missing"]
    # x cites nothing in the data
    assert out.loc["x", "radicalness_missing"]


# --------------------------------------------------------------- scope, claims, family


def test_scope_counts_distinct_subclasses_with_cpc_fallback():
    pat = patents(["a", "b", "c"], claims_count=[12, None, 3])
    cls = pd.DataFrame({
        "pub_id": ["a", "a", "a", "a", "b", "b"],
        "scheme": ["IPC", "IPC", "IPC", "CPC", "CPC", "CPC"],
        "subclass": ["H01M", "H01M", "B60L", "Y02E", "G06F", "G06N"],
    })
    out = run(pat, cls, cites([]))
    assert out.loc["a", "scope"] == 2  # IPC present: CPC-only Y02E not used
    assert out.loc["b", "scope"] == 2  # CPC only: fallback
    assert out.loc["c", "scope_missing"] and pd.isna(out.loc["c", "scope"])
    assert out.loc["a", "claims"] == 12 and out.loc["b", "claims_missing"]


def test_patent_classes_fractional_weights():
    c = patent_classes(classes([("a", "A"), ("a", "B"), ("a", "B"), ("b", "C")]), "fractional")
    assert c.values.tolist() == [["a", "A", 0.5], ["a", "B", 0.5], ["b", "C", 1.0]]


def test_family_size_is_max_of_reported_size_and_offices_in_data():
    pat = patents(["a", "b", "c", "d", "e"], country=["CN", "US", "EP", "CN", "CN"],
                  family_id=["F", "F", "F", None, None], family_size=[2, None, 2, 5, None])
    out = run(pat, classes([]), cites([]))
    assert out.loc[["a", "b", "c"], "family_size"].tolist() == [3, 3, 3]
    assert out.loc["d", "family_size"] == 5
    assert out.loc["e", "family_size_missing"] and pd.isna(out.loc["e", "family_size"])


# ------------------------------------------------------------------- dates and terms


def test_grant_lag_years():
    pat = patents(["a", "b", "c"], app_date=["2010-01-01", "2010-01-01", "2012-01-01"],
                  grant_date=["2013-01-01", None, "2011-01-01"])
    out = run(pat, classes([]), cites([]))
    assert out.loc["a", "grant_lag_years"] == pytest.approx(1096 / 365.25)
    assert out.loc["b", "grant_lag_years_missing"]  # not granted
    assert out.loc["c", "grant_lag_years_missing"]  # granted before filing: a data error


def test_remaining_life_by_type_floored_at_zero():
    pat = patents(["inv", "um", "plant", "nodate", "des"],
                  patent_type=["invention", "utility_model", "plant", "invention", "design"],
                  app_date=["2010-01-01", "2010-01-01", "2010-01-01", None, "2020-06-01"])
    out = run(pat, classes([]), cites([]))
    assert out.loc["inv", "remaining_life_years"] == pytest.approx((pd.Timestamp("2030-01-01") - pd.Timestamp("2025-01-01")).days / 365.25)
    assert out.loc["um", "remaining_life_years"] == 0  # term ended 2020
    assert out.loc["des", "remaining_life_years"] == pytest.approx((pd.Timestamp("2035-06-01") - pd.Timestamp("2025-01-01")).days / 365.25)
    assert out.loc["plant", "remaining_life_years_missing"]  # no term given for plants
    assert out.loc["nodate", "remaining_life_years_missing"]
    custom = run(pat, classes([]), cites([]), statutory_years={"plant": 20})
    assert custom.loc["plant", "remaining_life_years"] == pytest.approx(out.loc["inv", "remaining_life_years"])


def test_year_is_the_filing_year_priority_then_application_then_publication():
    # d: a foreign priority two years before the Chinese application — its cohort is 2008,
    # the year the database and the reports give it (pipeline.schema.filing_date).
    pat = patents(["a", "b", "c", "d"], app_date=["2010-03-01", None, None, "2010-05-01"],
                  earliest_priority_date=pd.to_datetime([None, "2008-01-01", None, "2008-06-30"]),
                  pub_date=["2011-01-01", "2012-01-01", "2013-01-01", "2011-01-01"])
    out = run(pat, classes([]), cites([]))
    assert out["year"].tolist() == [2010, 2008, 2013, 2008]
    assert out["year_basis"].tolist() == ["app_date", "earliest_priority_date", "pub_date", "earliest_priority_date"]


# --------------------------------------------------------------------- forward window


def test_forward_citations_within_window_from_citations():
    pat = patents(["a", "b", "c", "d", "e"],
                  pub_date=["2010-01-01", "2015-01-01", "2015-01-02", None, "2009-01-01"],
                  cited_by_count=[10, None, None, None, None])
    cit = cites([("b", "a"), ("c", "a"), ("d", "a"), ("e", "a")])
    out = run(pat, classes([]), cit)
    # b on the window's last day counts, c a day late does not, d has no date, e is earlier (counts)
    assert out.loc["a", "forward_5y"] == 2
    assert out.loc["a", "forward_total"] == 10  # the source's count exceeds the 4 in the data
    assert out.loc["d", "forward_5y_missing"]  # no publication date
    assert run(pat, classes([]), cit, window_years=7).loc["a", "forward_7y"] == 3


def test_forward_counts_from_the_network_node_table():
    pat = patents(["a", "b", "c"])
    nodes = pd.DataFrame({"node": ["a", "b", "x"], "forward": [4, 1, 9],
                          "forward_window": pd.array([3, None, 2], dtype="Int64")})
    out = run(pat, classes([]), cites([]), forward=nodes)
    assert out.loc["a", "forward_5y"] == 3 and out.loc["a", "forward_total"] == 4
    assert out.loc["b", "forward_5y_missing"] and out.loc["b", "forward_total"] == 1
    assert out.loc["c", "forward_5y_missing"] and out.loc["c", "forward_total_missing"]
    with pytest.raises(ScoreInputError, match="forward_window"):
        run(pat, classes([]), cites([]), forward=nodes.drop(columns="forward_window"))


def test_vendor_window_count_where_larger_than_the_links():
    # a: 2 citing patents of the data within 5 years, the vendor counts 5 -> 5 (vendor);
    # b: 1 in the data, vendor 0 -> 1 (links); c: no date (links unknown), vendor 3 -> 3 (vendor);
    # d: neither -> missing
    pat = patents(["a", "b", "c", "d", "x", "y"],
                  pub_date=["2010-01-01", "2010-01-01", None, None, "2011-01-01", "2012-01-01"],
                  cited_by_5y=[5, 0, 3, None, None, None])
    cit = cites([("x", "a"), ("y", "a"), ("x", "b")])
    out = run(pat, classes([]), cit)
    assert out.loc[["a", "b", "c"], "forward_5y"].tolist() == [5, 1, 3]
    assert out.loc[["a", "b", "c", "d"], "forward_5y_vendor"].tolist() == [True, False, True, False]
    assert out.loc["d", "forward_5y_missing"] and not out.loc["c", "forward_5y_missing"]


# ------------------------------------------------------------- backward and npl coverage


def test_backward_and_npl_missing_when_the_source_does_not_report_them():
    pat = patents(["a", "b", "c"], provenance=["f1.xml#0", "f1.xml#1", "f2.csv#0 | f3.csv#4"])
    cit = pd.DataFrame({"pub_id": ["a", "a"], "resolved_pub_id": [None, None], "source": "f1.xml"})
    npl = pd.DataFrame({"pub_id": ["c"], "source": ["f3.csv"]})
    out = run(pat, classes([]), cit, npl=npl)
    assert out.loc["a", "backward"] == 2
    assert out.loc["b", "backward"] == 0 and not out.loc["b", "backward_missing"]  # f1 reports citations
    assert out.loc["c", "backward_missing"]  # neither f2 nor f3 reports citations
    assert out.loc["c", "npl_refs"] == 1
    assert out.loc["a", "npl_refs_missing"] and out.loc["b", "npl_refs_missing"]
    assert run(pat, classes([]), cit).loc["c", "npl_refs_missing"]  # no npl table at all


# ------------------------------------------------------------------ legal state, PCT


def test_legal_state_keywords():
    s = pd.Series(["有效", "失效", "审中", "valid", "Invalid", "Expired - Fee Related", "granted",
                   "Pending", "WITHDRAWN", "inactive", "有效;质押", None, "??"])
    assert legal_state(s).tolist() == ["alive", "lapsed", "pending", "alive", "lapsed", "lapsed", "alive",
                                       "pending", "lapsed", "lapsed", "alive", pd.NA, pd.NA]


def test_alive_pending_missing_and_expired_by_term():
    pat = patents(["a", "b", "c", "d", "e"], legal_status=["有效", "失效", "审中", None, None],
                  app_date=["2010-01-01"] * 4 + ["1990-01-01"])
    out = run(pat, classes([]), cites([]))
    assert out["alive"].tolist() == [True, False, pd.NA, pd.NA, False]
    assert out["pending"].tolist() == [False, False, True, False, False]
    assert out["alive_missing"].tolist() == [False, False, False, True, False]
    assert out.loc["e", "legal_state"] == "expired"  # unknown status, term ended in 2010


def test_pct_from_fields_own_country_and_family():
    pat = patents(["a", "b", "c", "d", "e"], country=["CN", "WO", "CN", "US", "CN"],
                  family_id=[None, "F", "F", None, None],
                  pct_app=["PCT/CN2019/000001", None, None, None, None], wo_pub=[None] * 5,
                  provenance=["x.csv#0", "y#0", "y#1", "z#0", "x.csv#1"])
    out = run(pat, classes([]), cites([]))
    assert out["pct"].tolist() == [True, True, True, False, False]
    # d's source reports no PCT field and it has no family in the data: unknown
    assert out["pct_missing"].tolist() == [False, False, False, True, False]


# ---------------------------------------------------------------------------- events


def test_events_counts_and_pledge_amount():
    pat = patents(["a", "b", "c"])
    ev = pd.DataFrame({"pub_id": ["a", "a", "a", "a", "b"],
                       "event_type": ["transfer", "licence", "pledge", "pledge", "pledge"],
                       "amount": [None, None, 100.0, 50.0, None]})
    out = run(pat, classes([]), cites([]), events=ev)
    assert out.loc["a", ["transfers", "licences", "pledges"]].tolist() == [1, 1, 2]
    assert out.loc["a", "pledge_amount"] == 150.0
    assert out.loc["b", "pledge_amount_missing"]  # pledged, amount unknown
    assert out.loc["c", "pledge_amount"] == 0 and not out.loc["c", "pledges_missing"]
    none = run(pat, classes([]), cites([]))
    assert none["transfers_missing"].all() and none["transfers"].isna().all()


# ---------------------------------------------------------------- empty and bad input


def test_empty_patents_give_empty_table():
    out = patent_indicators(patents([]), classes([]), cites([]), as_of=AS_OF)
    assert len(out) == 0 and "generality_missing" in out.columns


def test_missing_columns_and_duplicates_are_named_errors():
    with pytest.raises(ScoreInputError, match="claims_count") as exc:
        patent_indicators(patents(["a"]).drop(columns="claims_count"), classes([]), cites([]), as_of=AS_OF)
    assert isinstance(exc.value, PatNavError)
    with pytest.raises(ScoreInputError, match="resolved_pub_id"):
        patent_indicators(patents(["a"]), classes([]), pd.DataFrame({"pub_id": []}), as_of=AS_OF)
    with pytest.raises(ScoreInputError, match="repeats"):
        patent_indicators(patents(["a", "a"]), classes([]), cites([]), as_of=AS_OF)
    with pytest.raises(ScoreInputError, match="window_years"):
        patent_indicators(patents(["a"]), classes([]), cites([]), as_of=AS_OF, window_years=-1)


# ------------------------------------------------------------------- bundled sample


@pytest.mark.slow
def test_demo_data(sample_tables):
    t = sample_tables
    out = patent_indicators(t["patents"], t["classifications"], t["citations"], t["npl"], t["events"],
                            as_of=date(2025, 1, 1)).set_index("pub_id")
    assert len(out) == len(t["patents"]) and out.index.is_unique
    # US8087209B2 (../shared/data/uspto-xml/ipgxml__ipg120103.small.xml): <number-of-claims>4, 16 <patcit>,
    # no <nplcit>, filed 2010-01-25, granted 2012-01-03, one IPC subclass (E04C)
    us = out.loc["US8087209B2"]
    assert us["claims"] == 4 and us["backward"] == 16 and us["npl_refs"] == 0 and us["scope"] == 1
    assert us["grant_lag_years"] == pytest.approx(708 / 365.25)
    # CN107310413B (PatSnap export, INPADOC法律状态): pledge registered 2023-06-30, transfers
    # of the application right 2018-04-10 and of the patent right 2022-01-07; no amount given
    cn = out.loc["CN107310413B"]
    assert cn["pledges"] == 1 and cn["transfers"] == 2 and pd.isna(cn["pledge_amount"])
    # CN103104575A (PatSnap): 5年内被引用次数 7, citing documents outside the data: the vendor count
    v = out.loc["CN103104575A"]
    assert v["forward_5y"] == 7 and bool(v["forward_5y_vendor"])
    # Lens records carry no patent-citation field: backward unknown, not 0
    lens = t["patents"]["sources"].eq("lens").to_numpy()
    assert out["backward_missing"].to_numpy()[lens].all()
    for col in ("generality", "originality", "radicalness"):
        v = out[col].dropna()
        assert len(v) and ((v >= 0) & (v <= 1)).all()
        assert (out[col].isna() == out[f"{col}_missing"]).all()
    assert set(out["legal_state"].dropna()) <= {"alive", "lapsed", "pending", "expired"}
    assert np.isfinite(out["remaining_life_years"].dropna().to_numpy(float)).all()


# Reference implementation (string joins, the definitions written out) for the sparse kernel.
def _diversity(edges: pd.DataFrame, cls: pd.DataFrame, focal: str, other: str, bias_correction: bool) -> pd.DataFrame:
    """1 − Σ s_j² over the classes of the ``other`` end of each focal patent's citations."""
    m = edges[[focal, other]].merge(cls, left_on=other, right_on="pub_id")
    if m.empty:
        return pd.DataFrame({"value": pd.Series(dtype=float), "n": pd.Series(dtype=np.int64)})
    per_class = m.groupby([focal, "subclass"])["w"].sum()
    total = per_class.groupby(level=0).transform("sum")
    hhi = ((per_class / total) ** 2).groupby(level=0).sum()
    n = m.groupby(focal)[other].nunique()
    value = 1.0 - hhi
    if bias_correction:
        nn = n.reindex(value.index).to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = value * np.where(nn > 1, nn / (nn - 1), np.nan)
    return pd.DataFrame({"value": value.clip(lower=0.0), "n": n.reindex(value.index)})


def _radicalness(edges: pd.DataFrame, cls: pd.DataFrame) -> pd.Series:
    """OECD radicalness: share of the cited patents' class entries absent from the citing patent."""
    m = edges[["citing", "cited"]].merge(cls[["pub_id", "subclass"]], left_on="cited", right_on="pub_id")
    m = m[m["citing"].isin(cls["pub_id"])]
    if m.empty:
        return pd.Series(dtype=float)
    own = cls[["pub_id", "subclass"]].rename(columns={"pub_id": "citing"}).assign(own=True)
    m = m[["citing", "subclass"]].merge(own, on=["citing", "subclass"], how="left")
    foreign = m["own"].isna()
    return foreign.groupby(m["citing"]).mean()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("bias", [False, True])
def test_sparse_diversity_matches_the_join_definition(seed, bias):
    from pipeline.score.indicators import _class_diversity, patent_classes

    rng = np.random.default_rng(seed)
    ids = pd.Series([f"P{i}" for i in range(60)], dtype="string")
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, 60, (150, 2)) if a != b}
    edges = pd.DataFrame(sorted(pairs), columns=["citing", "cited"]).map(lambda i: f"P{i}").astype("string")
    rows = [(f"P{i}", "IPC", s) for i in range(55) for s in rng.choice(["A01B", "B60L", "H01M", "G06F", "C07D"],
                                                                     rng.integers(1, 4), replace=False)]
    cls = patent_classes(pd.DataFrame(rows, columns=["pub_id", "scheme", "subclass"]),
                         "fractional" if seed % 2 else "count")
    index = pd.Index(ids.to_numpy(dtype=object))
    got = _class_diversity(index.get_indexer(edges["citing"].to_numpy(dtype=object)),
                           index.get_indexer(edges["cited"].to_numpy(dtype=object)), cls, index, bias)
    for name, focal, other in (("generality", "cited", "citing"), ("originality", "citing", "cited")):
        ref = _diversity(edges, cls, focal, other, bias)["value"].reindex(ids).to_numpy(float)
        np.testing.assert_allclose(got[name], ref, equal_nan=True, atol=1e-12)
    ref = _radicalness(edges, cls).reindex(ids).to_numpy(float)
    np.testing.assert_allclose(got["radicalness"], ref, equal_nan=True, atol=1e-12)
