"""The score stage as a whole: params, the bundled sample end to end, project views, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.classify.labels import label_patents
from pipeline.classify.rules import load_rules
from pipeline.errors import ConfigError
from pipeline.project import validate_project
from pipeline.config import ROOT, ScoreParams
from pipeline.score.run import (TABLES, explain, family_countries, primary_labels, project_views, read_references,
                                score, summary)


def test_params_are_validated():
    with pytest.raises(ConfigError, match="unknown key"):
        ScoreParams.from_dict({"weigths": {}})
    with pytest.raises(ConfigError, match="as_of"):
        ScoreParams.from_dict({"as_of": "last year"})
    with pytest.raises(ConfigError, match="strength"):
        ScoreParams.from_dict({"strength": "size"})
    with pytest.raises(ConfigError, match="non-negative"):
        ScoreParams.from_dict({"weights": {"claims": -1}})
    assert ScoreParams.from_dict({"as_of": "2024-06-30"}).as_of_date.year == 2024


def test_primary_label_is_the_most_confident_with_a_branch_first():
    labels = pd.DataFrame({
        "pub_id": ["a", "a", "a", "b", "c"],
        "industry": ["nev", "it", "nev", "it", "nev"],
        "branch": [None, "it.ai", "nev.components", None, "nev.components"],
        "confidence": [1.0, 0.7, 1.0, 0.4, 0.9],
        "flag": [None, None, None, None, "codes_disagree"],
    })
    counted, primary = primary_labels(labels, 0.5)
    assert set(counted["pub_id"]) == {"a"}  # b below the bar, c contradicted by its codes
    assert primary.values.tolist() == [["a", "nev", "nev.components"]]


def test_family_countries_adds_the_members_offices():
    p = pd.DataFrame({"pub_id": ["CN1A", "US2B", "EP3A", "JP4A"], "family_id": ["f", "f", "f", None],
                      "country": ["CN", "US", "EP", "JP"]})
    fc = family_countries(p)
    assert fc[fc["pub_id"] == "US2B"]["country"].tolist() == ["CN", "EP", "US"]
    assert fc[fc["pub_id"] == "JP4A"]["country"].tolist() == ["JP"]


class _NoText:
    """A text model that never fires: the sample is labelled by its codes alone."""

    industries = ("it", "manufacturing", "biomedicine", "nev")

    def set_params(self, **kw):
        return self

    def check_params(self):
        pass

    def _proba(self, texts):
        return pd.DataFrame(0.0, index=range(len(texts)), columns=list(self.industries)), \
            np.array(["en"] * len(texts), dtype=object)

    def _thresholds_for(self, langs):
        return np.ones((len(langs), len(self.industries)))

    def explain(self, texts):
        return [{} for _ in texts]

    def proba_and_explain(self, texts, top_k=5):
        proba, langs = self._proba(texts)
        return proba, langs, self.explain(texts)


@pytest.fixture(scope="module")
def sample_scores(sample_tables):
    t = sample_tables
    labels = label_patents(t["patents"], t["classifications"], load_rules(), _NoText())
    return score(t, labels, ScoreParams(), references=read_references(ScoreParams(), ROOT)), labels


def test_every_table_and_reconciled_counts(sample_scores, sample_tables):
    s, _ = sample_scores
    assert set(s) == set(TABLES)
    # Every publication scored once; every inventor mention assigned or kept with its rule.
    assert len(s["patents"]) == len(sample_tables["patents"]) == s["patents"]["pub_id"].nunique()
    inventors = sample_tables["parties"]["role"].eq("inventor").sum()
    assert len(s["inventor_mentions"]) == inventors
    m = summary(s)
    assert m["patents_scored"] > 0.9 * m["patents"] and m["portfolios"] > 0 and m["inventors"] > 0


def test_contributions_explain_the_index(sample_scores):
    p = sample_scores[0]["patents"]
    contrib = p.filter(like="contrib_").sum(axis=1, min_count=1)
    known = p["value_index"].notna()
    assert np.allclose(contrib[known], p.loc[known, "value_index"])
    assert p.loc[known, "explanation"].str.len().gt(0).all()


def test_only_valid_inventions_are_high_value(sample_scores):
    p = sample_scores[0]["patents"]
    hv = p[p["high_value"].fillna(False).astype(bool)]
    assert len(hv) > 0
    assert (hv["patent_type"] == "invention").all() and (hv["legal_state"] == "alive").all()


def test_us_patents_without_status_are_presumed_alive_in_term(sample_scores):
    p = sample_scores[0]["patents"]
    us = p[(p["source"] == "uspto_xml") & p["alive"].isna()]
    assert len(us) > 0
    life = pd.to_numeric(us["remaining_life_years"], errors="coerce")
    assert (us["alive_presumed"] == (life > 0)).all()


def test_portfolio_high_value_test_distances(sample_scores):
    port = sample_scores[0]["portfolios_industry"]
    fails = port[port["hv_pass"].eq(False) & port["pct"].notna()]
    row = fails.iloc[0]
    assert row["missing_inventions"] == max(100 - row["inventions"], 0)
    assert row["missing_pct"] == max(30 - row["pct"], 0)


def test_explain_lists_top_patents_and_portfolios(sample_scores):
    shown = explain(sample_scores[0], top=5)
    assert len(shown["patents"]) == 5 and "explanation" in shown["patents"]
    v = shown["patents"]["value_index"].tolist()
    assert v == sorted(v, reverse=True)
    assert len(shown["portfolios"]) == 5 and "synthetic_share" in shown["portfolios"]


def test_score_is_deterministic(sample_tables, sample_scores):
    s, labels = sample_scores
    again = score(sample_tables, labels, ScoreParams(), references=read_references(ScoreParams(), ROOT))
    for name in ("patents", "portfolios_branch", "inventors"):
        pd.testing.assert_frame_equal(s[name], again[name])


def test_project_views_on_the_sample(sample_scores, sample_tables):
    s, labels = sample_scores
    project = validate_project("t", {"type": "industry", "industry": "nev", "region": "重庆市江北区",
                                     "compare": ["重庆市渝北区"], "years": [2005, 2024]})
    views = project_views(project, s, sample_tables, labels)
    pos = views["positioning"]
    assert set(pos["region"]) == {"重庆市江北区", "重庆市渝北区"}
    assert set(pos["branch"]) <= {b for b in labels["branch"].dropna() if b.startswith("nev.")}
    cands = views["talent_candidates"]
    if len(cands):
        assert not (cands["district"] == "江北区").any()



def test_read_score_tables_leaves_unread_columns_on_disk(tmp_path):
    from pipeline import io, schema
    from pipeline.score.run import read_score_tables

    patents = schema.conform(pd.DataFrame({"pub_id": ["CN1A"], "doc_key": ["CN1"], "country": ["CN"],
                                           "pub_number": ["CN1A"], "patent_type": ["invention"], "title": ["电池"],
                                           "sources": ["cn_export"], "provenance": ["a.csv#1"]}), "patents")
    parties = schema.conform(pd.DataFrame({"pub_id": ["CN1A"], "role": ["applicant"], "seq": [0],
                                           "name_raw": ["甲公司"], "name_std": ["甲"], "party_type": ["company"],
                                           "address_raw": ["北京"], "source": ["cn_export"]}), "parties")
    io.write_tables({"patents": patents, "parties": parties, "locations": schema.empty("locations")}, tmp_path)
    t = read_score_tables(tmp_path)
    assert sorted(t) == ["parties", "patents"]  # locations: not a score input
    assert list(t["patents"].columns) == list(patents.columns)  # canonical columns and types kept
    assert t["patents"].dtypes.equals(patents.dtypes)
    assert t["patents"]["title"].isna().all() and t["patents"]["sources"].tolist() == ["cn_export"]
    assert t["parties"]["address_raw"].isna().all()
    assert t["parties"][["name_raw", "name_std", "party_type", "source"]].values.tolist() == [["甲公司", "甲", "company", "cn_export"]]
