"""Rule–vendor agreement: hand-computed counts on inline frames; the real incoPat labels."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from pipeline.classify.agreement import (
    agreement_frame,
    branch_sei_codes,
    prf,
    rule_vendor_agreement,
    sei_industry,
    vendor_industries,
)
from pipeline.classify.rules import TAXONOMY_PATH


def test_prf_hand_computed():
    # P = 3/(3+1) = 0.75, R = 3/(3+3) = 0.5, F1 = 2·0.75·0.5/1.25 = 0.6
    assert prf(3, 1, 3) == {"precision": 0.75, "recall": 0.5, "f1": 0.6, "tp": 3, "fp": 1, "fn": 3}
    assert prf(0, 0, 0)["f1"] == 0.0


def test_sei_codes_to_focus_industries():
    assert [sei_industry(c) for c in ["1.1", "1.5", "2.1", "2.2", "3.6", "4.4", "5.3", "7.1", "9.1"]] == \
        ["it", "it", "manufacturing", None, None, "biomedicine", "nev", None, None]


def test_vendor_labels_parsed_and_empty_input():
    s = pd.DataFrame({"pub_id": ["a", "b"], "scheme": ["sei", "nec"], "label": ["2.1 (智能制造装备产业)", "C4011"]})
    assert vendor_industries(s).values.tolist() == [["a", "2.1", "manufacturing"]]
    assert vendor_industries(s.iloc[:0]).empty


def test_taxonomy_branches_carry_their_sei_codes():
    sei = branch_sei_codes(yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8")))
    assert sei["it.networks"] == "1.1" and sei["manufacturing.equipment"] == "2.1" and sei["nev.services"] == "5.4"
    assert "nev.intelligent" not in sei  # the project's extension branch has no SEI code


def test_agreement_hand_computed():
    rules = pd.DataFrame({"pub_id": ["a", "b", "c", "c"], "industry": ["it", "it", "nev", "it"],
                          "branch": ["it.networks", "it.ai", "nev.intelligent", "it.ai"],
                          "symbol": ["H04W4/00", "G06N3/08", "G05D1/02", "G06V20/56"]})
    vendor = pd.DataFrame({"pub_id": ["a", "c", "d"], "sei": ["1.1", "5.2", "1.5"],
                           "industry": ["it", "nev", "it"]})
    f = agreement_frame(pd.Series(["a", "b", "c", "d"]), rules, vendor,
                        {"it.networks": "1.1", "it.ai": "1.5"})
    out = rule_vendor_agreement(f)
    # it: rule {a, b, c}, vendor {a, d} → tp 1 (a), fp 2 (b, c), fn 1 (d)
    assert out["per_industry"]["it"] == prf(1, 2, 1)
    # nev: rule {c} (extension branch), vendor {c} → tp 1; on SEI branches only PatNav says nothing → fn 1
    assert out["per_industry"]["nev"] == prf(1, 0, 0)
    assert out["nev_sei_branches_only"] == prf(0, 0, 1)
    # branch 1.5: rule {b, c}, vendor {d}
    assert out["per_branch"]["1.5"] == prf(0, 2, 1)
    assert out["disagreements"]["it"]["rule_only"] == {"none": 1, "5.2": 1}
    assert out["disagreements"]["it"]["vendor_only"] == {"none": 1}
    # macro over it and nev: (0.4 + 1.0) / 2; it F1 = 2·(1/3)·(1/2)/(1/3+1/2) = 0.4
    assert out["macro_f1"] == pytest.approx(0.7)


def test_agreement_of_no_record():
    f = agreement_frame(pd.Series([], dtype=str), pd.DataFrame(columns=["pub_id", "industry", "branch", "symbol"]),
                        pd.DataFrame(columns=["pub_id", "sei", "industry"]), {})
    out = rule_vendor_agreement(f)
    assert out["n"] == 0 and out["per_industry"] == {}
