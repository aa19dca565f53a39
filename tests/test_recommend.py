"""Recommendation rules on small hand-made cases (pipeline/recommend.py)."""

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Rules
from pipeline.errors import ConfigError
from pipeline import recommend as rec

RULES = Rules(min_region_patents=5, min_growth_base=10, min_firm_patents=3, min_inventor_patents=3,
                  active_years=5, license_top_share=0.5, top=10)


def _patents():
    # A hospital, a university, an individual and two firms of the region; one firm and one
    # university elsewhere. Filing years 2015-2022, project ends 2022.
    rows = [
        # pub, applicant, type, local, year, value, alive
        ("P1", "渝A医院", "hospital", True, 2021, 0.9, True),
        ("P2", "渝A医院", "hospital", True, 2021, 0.8, True),
        ("P3", "渝A医院", "hospital", True, 2022, 0.7, True),
        ("P4", "渝B汽车有限公司", "enterprise", True, 2020, 0.5, True),
        ("P5", "渝B汽车有限公司", "enterprise", True, 2021, 0.4, True),
        ("P6", "渝B汽车有限公司", "enterprise", True, 2022, 0.3, True),
        ("P7", "渝C科技有限公司", "enterprise", True, 2022, 0.2, True),   # one patent: too few
        ("P8", "张三", "individual", True, 2022, 0.1, True),
        ("P9", "北京大学", "university", False, 2021, 0.95, True),
        ("P10", "北京大学", "university", False, 2021, 0.85, False),      # lapsed
        ("P11", "北京大学", "university", False, 2010, 0.99, True),       # before the project's years
        ("P12", "老厂有限公司", "enterprise", True, 2012, 0.6, True),      # no recent filing
        ("P13", "老厂有限公司", "enterprise", True, 2013, 0.6, True),
        ("P14", "老厂有限公司", "enterprise", True, 2014, 0.6, True),
    ]
    df = pd.DataFrame(rows, columns=["pub_id", "first_applicant", "first_applicant_type", "local", "filing_year",
                                     "value_index", "alive"])
    df["high_value"] = df["value_index"] >= 0.5
    df["alive_presumed"] = False
    df["title"] = "title " + df["pub_id"]
    return df


def test_rules_from_params_refuse_unknown_keys_and_bad_shares():
    assert Rules.from_params({"min_firm_patents": 4}).min_firm_patents == 4
    with pytest.raises(ConfigError, match="min_firm_patent"):
        Rules.from_params({"min_firm_patent": 4})
    with pytest.raises(ConfigError, match="license_top_share"):
        Rules.from_params({"license_top_share": 0})


def test_last_complete_year_by_hand():
    # latest publication 2025-06-30: 18 months back is 2023-12-30, so 2023 is not yet whole
    assert rec.last_complete_year("2025-06-30") == 2022
    assert rec.last_complete_year(pd.Timestamp("2025-07-01")) == 2023
    assert rec.last_complete_year(None) is None
    assert rec.last_complete_year("2025-07-01", lag_months=0) == 2024


def test_cultivate_names_local_enterprises_only_with_enough_recent_patents():
    p = _patents()
    types = rec.group_types(p)
    got = rec.firms_to_cultivate(p, p["local"], types, 2022, RULES)
    # The hospital (3 patents), the individual, the one-patent firm and the firm idle since 2014 are out.
    assert got.rows["group"].tolist() == ["渝B汽车有限公司"]
    r = got.rows.iloc[0]
    assert (r["count"], r["high_value"], r["first_year"], r["last_year"]) == (3, 1, 2020, 2022)
    assert r["value"] == pytest.approx((0.5 + 0.4 + 0.3) / 3)


def test_cultivate_empty_says_why():
    p = _patents()
    got = rec.firms_to_cultivate(p, p["local"], rec.group_types(p), 2022, Rules(min_firm_patents=4))
    assert not got and got.reason == "why.no_local_firm" and got.values == {"min": 4}
    none = rec.firms_to_cultivate(p, [False] * len(p), rec.group_types(p), 2022, RULES)
    assert none.reason == "why.no_local_patents"


def test_license_candidates_alive_licensors_outside_in_years_and_valuable():
    p = _patents()
    got = rec.license_candidates(p, p["local"], (2015, 2022), RULES)
    # Median value index of the 14 is 0.6 (top half): P9 (0.95, alive, 2021) qualifies;
    # P10 has lapsed, P11 is outside the years, the hospital is local and not a licensor.
    assert got.rows["pub_id"].tolist() == ["P9"]
    doubt = p["pub_id"].eq("P9").to_numpy()
    assert rec.license_candidates(p, p["local"], (2015, 2022), RULES, doubtful=doubt).reason == "why.no_licensor"


def test_an_application_and_its_grant_are_one_licence_candidate():
    # CN113507105A and CN113507105B (one family, equal values) were both listed in the NEV
    # report; the family is offered once, under its grant.
    p = pd.DataFrame({"pub_id": ["CN113507105A", "CN113507105B", "CN9A"], "family_id": ["F1", "F1", None],
                      "title": "t", "first_applicant": "某大学", "first_applicant_type": "university",
                      "filing_year": 2021, "value_index": [0.58, 0.58, 0.5], "alive": True, "alive_presumed": False})
    got = rec.license_candidates(p, np.zeros(3, dtype=bool), (2015, 2022), Rules(license_top_share=1.0))
    assert got.rows["pub_id"].tolist() == ["CN113507105B", "CN9A"]


def test_talent_needs_own_record_not_one_shared_patent():
    # Seven co-inventors of one patent: one family each -> no one is named.
    one_patent = pd.DataFrame({"name": [f"inv{i}" for i in range(7)], "families": 1, "patents": 1,
                               "last_year": 2022})
    got = rec.talent_to_recruit(one_patent, 2022, RULES)
    assert not got and got.reason == "why.no_talent"
    mixed = pd.DataFrame({"name": ["A", "B", "C"], "families": [5, 3, 9], "patents": [5, 3, 9],
                          "last_year": [2021, 2016, 2022]})
    # B's last filing (2016) is outside 2018-2022.
    assert rec.talent_to_recruit(mixed, 2022, RULES).rows["name"].tolist() == ["A", "C"]
    assert rec.talent_to_recruit(pd.DataFrame(), 2022, RULES).reason == "why.no_talent_data"


def test_branches_need_enough_patents_before_rta_or_growth_is_read():
    own = pd.DataFrame({"branch": ["a", "b", "c", "d"], "count": [10, 1, 0, 2], "rta": [1.5, 0.4, 0.0, 0.5]})
    field = pd.DataFrame({"branch": ["a", "b", "c", "d"], "count": [100, 80, 60, 30],
                          "before": [20, 20, 12, 4], "growth": [0.1, -0.2, 0.5, 3.0]})
    got = rec.branches_to_strengthen(own, field, RULES)
    # a: strong (RTA >= 1); b: shrinking on a base of 20 -> out; c: weak, growing on a base of
    # 12 -> first; d: growth 300 % on a base of 4 is not read, kept after c.
    assert got.rows["branch"].tolist() == ["c", "d"]
    assert got.rows["growth_judged"].tolist() == [True, False]
    small = own.assign(count=[1, 1, 0, 1])  # 3 patents in the region: no RTA is read
    got = rec.branches_to_strengthen(small, field, RULES)
    assert not got and got.reason == "why.region_too_small" and got.values == {"n": 3, "min": 5}


def test_attract_enterprises_outside_once_each_with_recent_filings():
    p = _patents()
    p = pd.concat([p, pd.DataFrame({"pub_id": ["Q1", "Q2"], "first_applicant": ["丰田", "某医院"],
                                    "first_applicant_type": ["enterprise", "hospital"], "local": False,
                                    "filing_year": [2021, 2021]})], ignore_index=True)
    port = pd.DataFrame({"group": ["丰田", "丰田", "某医院", "渝B汽车有限公司", "北京大学"],
                         "branch": ["c", "d", "c", "c", "c"], "publications": [9, 3, 20, 3, 5],
                         "high_value": 0, "mean_value_index": [0.2, 0.1, 0.9, 0.5, 0.5]})
    local = set(p.loc[p["local"], "first_applicant"])
    got = rec.firms_to_attract(port, p, ["c", "d"], local, rec.group_types(p), 2022, RULES)
    assert got.rows[["group", "branch", "publications"]].values.tolist() == [["丰田", "c", 9]]
    assert rec.firms_to_attract(port, p, [], local, rec.group_types(p), 2022, RULES).reason == "why.no_weak_branch"


def test_portfolios_leave_out_individuals():
    port = pd.DataFrame({"group": ["张三", "渝B汽车有限公司", "渝A医院"], "inventions": [5, 4, 1], "pct": 0,
                         "missing_inventions": [95, 96, 99], "missing_pct": 30})
    p = _patents()
    got = rec.portfolios_near_test(port, set(p["first_applicant"]), rec.group_types(p), RULES)
    assert got.rows["group"].tolist() == ["渝B汽车有限公司"]


def test_enterprise_report_refused_on_too_few_patents_with_the_count():
    from pipeline.errors import ProjectDataError

    rec.check_enterprise("重庆某某股份有限公司", 5, Rules(min_enterprise_patents=5))  # enough: no error
    with pytest.raises(ProjectDataError, match=r"'重庆某某股份有限公司': 0 of its patents .*min_enterprise_patents = 5"):
        rec.check_enterprise("重庆某某股份有限公司", 0, Rules(min_enterprise_patents=5))


def test_risk_patents_are_alive_rival_patents_linked_to_the_enterprise():
    p = pd.DataFrame({
        "pub_id": ["O1", "O2", "R1", "R2", "R3", "R4", "R5", "S1"],
        "first_applicant": ["Own", "Own", "Rival", "Rival", "Rival", "Rival", "Rival", "Small"],
        "main_ipc": ["B60L58/12", "G05D1/02", "H01M10/42", "H02J7/00", "B60L58/16", "B60L58/12", "G06F3/01",
                     "B60L58/12"],
        "alive": [True, True, True, True, True, False, True, True],
        "alive_presumed": False, "title": "t", "filing_year": 2020,
        "value_index": [0.5, 0.5, 0.1, 0.9, 0.4, 0.99, 0.8, 0.7]})
    citations = pd.DataFrame({"citing": ["O1", "R2"], "cited": ["R1", "O2"]})
    got = rec.risk_patents(p, ["O1", "O2"], ["Rival"], citations, RULES)
    # R1 cited by Own; R2 cites Own; R3 shares main group B60L58; R4 has lapsed; R5 unrelated;
    # S1 is not a competitor's.
    assert got.rows[["pub_id", "link"]].values.tolist() == [["R1", "cited_by_own"], ["R2", "cites_own"],
                                                             ["R3", "same_group"]]
    assert rec.risk_patents(p, ["O1"], [], citations, RULES).reason == "why.no_competitor"
