"""The train stage's evaluation design: splits by record, no test record in training, validation thresholds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.classify.corpus import read_uspto_latam, record_sources, record_views
from pipeline.classify.rules import load_rules
from pipeline.classify.text import INDUSTRIES, load_ipc_titles
from pipeline.classify.train import (
    ranking_diagnostics,
    EXPORTS_WITH_ABSTRACTS,
    assert_disjoint,
    check_train_params,
    dev_frame,
    holdout_splits,
    language_thresholds,
    record_key,
    training_frame,
    validation_split,
    with_vendor_labels,
)
from pipeline.errors import ClassifierInputError, ConfigError
from tests.shared_data import shared_path


def frame(rows):
    """rows: (id, source, lang, year, it)"""
    df = pd.DataFrame(rows, columns=["id", "source", "lang", "year", "it"])
    df["record"] = record_key(df["id"])
    df["text"] = df["id"]
    df["view"] = np.where(df["id"].str.endswith("#en"), "en", "native")
    df["has_abstract"] = True
    df["title"] = df["id"]
    df["year"] = df["year"].astype("Int64")
    for ind in INDUSTRIES[1:]:
        df[ind] = 0
    return df


TS = frame([
    ("CN1A", "incopat_iflytek", "zh", 2018, 1), ("CN1A#en", "incopat_iflytek", "en", 2018, 1),
    ("CN2A", "patsnap_green_aviation", "zh", 2021, 0), ("CN3A", "incopat_autonomous_driving", "zh", 2020, 1),
    ("US7654321B2", "uspto_xml", "en", 2009, 0), ("US7654321", "uspto_latam", "en", None, 0),
    ("US9999999", "uspto_latam", "en", None, 1), ("H04L1/00", "ipc_titles", "en", None, 1),
    ("it.ai:zh:0", "taxonomy", "zh", None, 1),
])


def test_record_key_joins_views_and_us_spellings():
    assert record_key(pd.Series(["CN1A#en", "US7654321B2", "US7654321", "EP1234567B1"])).tolist() == \
        ["CN1A", "US7654321", "US7654321", "EP1234567B1"]


def test_holdouts_keep_every_view_of_a_test_record_out_of_training():
    splits = holdout_splits(TS, last_train_year=2019)
    tr, te = splits["exports"]
    assert set(te["id"]) == {"CN1A", "CN1A#en", "CN2A"}           # both views of CN1A are test
    assert "CN1A#en" not in set(tr["id"]) and "CN3A" in set(tr["id"])
    tr, te = splits["us_grants"]
    assert set(te["id"]) == {"US7654321", "US9999999"}
    assert "US7654321B2" not in set(tr["id"])                      # the same grant under its XML spelling
    tr, te = splits["by_year"]
    assert set(te["id"]) == {"CN2A", "CN3A"}
    assert set(tr["id"]) == {"CN1A", "CN1A#en", "US7654321B2", "H04L1/00", "it.ai:zh:0"}  # undated: neither side
    for tr, te in splits.values():
        assert {"H04L1/00", "it.ai:zh:0"} <= set(tr["id"])       # titles and taxonomy always train
        assert not set(te["record"]) & set(tr["record"])


def test_assert_disjoint_fails_on_a_shared_record():
    with pytest.raises(AssertionError, match="1 test record"):
        assert_disjoint(TS, TS[TS["id"] == "CN1A#en"], "x")


def test_validation_split_draws_whole_records():
    big = frame([(f"CN{i}A", "incopat_iflytek", "zh", 2018, i % 2) for i in range(20)]
                + [(f"CN{i}A#en", "incopat_iflytek", "en", 2018, i % 2) for i in range(20)]
                + [("H04L1/00", "ipc_titles", "en", None, 1)])
    fit, val = validation_split(big, share=0.25, random_state=0)
    assert val["record"].nunique() == 5 and len(val) == 10          # 25 % of 20 records, both views each
    assert not set(fit["record"]) & set(val["record"]) and "H04L1/00" in set(fit["id"])
    again = validation_split(big, share=0.25, random_state=0)[1]
    assert again["id"].tolist() == val["id"].tolist()


def test_thresholds_chosen_per_language_on_validation_rows():
    val = pd.DataFrame({"text": ["e1", "e2", "e3", "z1", "z2", "z3"], "lang": ["en"] * 3 + ["zh"] * 3,
                        "it": [1, 0, 0, 1, 0, 0], "manufacturing": 0, "biomedicine": 0, "nev": 0})
    p = {"e1": 0.9, "e2": 0.6, "e3": 0.1, "z1": 0.3, "z2": 0.1, "z3": 0.05}
    model = SimpleNamespace(industries=INDUSTRIES, predict_proba=lambda texts: pd.DataFrame(
        {"it": [p[t] for t in texts], "manufacturing": 0.0, "biomedicine": 0.0, "nev": 0.0}))
    th = language_thresholds(model, val, fallback={"en": {"nev": 0.3}})
    # en: F1 = 1 for thresholds in (0.6, 0.9]; of the grid 0.625 … 0.9, the one nearest 0.5 is 0.625
    assert th["en"]["it"] == 0.625
    # zh: F1 = 1 for thresholds in (0.1, 0.3]: 0.3 is nearest 0.5
    assert th["zh"]["it"] == 0.3
    # no positives: the fallback (or 0.5)
    assert th["en"]["nev"] == 0.3 and th["zh"]["nev"] == 0.5


def test_vendor_view_only_adds_positives():
    ts = TS.assign(vendor_it=pd.array([0, 0, 1, 0, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA], dtype="Int8"))
    out = with_vendor_labels(ts)
    assert out["it"].tolist() == [1, 1, 1, 1, 0, 0, 1, 1, 1]
    assert with_vendor_labels(ts, "none")["it"].tolist() == TS["it"].tolist()
    with pytest.raises(ConfigError, match="vendor_labels must be 'union' or 'none'"):
        with_vendor_labels(ts, "intersection")


@pytest.mark.parametrize("model, evaluation, match", [
    ({"estimator": "svm"}, None, r"^train\.model\.estimator must be 'logreg' or 'sgd', not 'svm'$"),
    ({"estimatr": "sgd"}, None, r"^train\.model: unknown option\(s\) estimatr \(known: .*estimator"),
    ({"random_state": 1}, None, r"the seed is train\.random_state"),
    ({"thresholds": {"space": 0.3}}, None, r"^train\.model\.thresholds name unknown industries: space"),
    (None, {"holdouts": ["by_month"]}, r"^train\.evaluation\.holdouts must be a list of exports, us_grants, by_year"),
    (None, {"vendor_labels": "intersection"}, r"^train\.evaluation\.vendor_labels must be 'union' or 'none'"),
    (None, {"bootstraps": 10}, r"^train\.evaluation: unknown key\(s\) bootstraps"),
])
def test_train_params_are_checked_before_any_work(model, evaluation, match):
    with pytest.raises(ConfigError, match=match):
        check_train_params(model, evaluation)


def test_a_dev_set_without_its_columns_is_named():
    dev = pd.DataFrame({"id": ["1"], "title": ["一种电池"], "note": ["nev"], **{i: [0] for i in INDUSTRIES}})
    with pytest.raises(ClassifierInputError, match=r"train\.cn_dev\) lacks column\(s\) abstract"):
        dev_frame(dev)
    dev["abstract"] = ""
    dev["nev"] = 2
    with pytest.raises(ClassifierInputError, match=r"column\(s\) nev must hold 0 or 1"):
        dev_frame(dev)


def test_dev_frame_strata_and_titles():
    dev = pd.read_csv(shared_path("cn-text", "cn_dev_labelled.csv"), dtype={"id": str})
    f = dev_frame(dev)
    assert f["stratum"].value_counts().to_dict() == {"random": 200, "enriched": 55}  # its README's counts
    t = dev_frame(dev, titles_only=True)
    assert (t["text"] == dev["title"].fillna("")).all()


def test_ranking_diagnostics_by_hand():
    # a: ranked 1,0,1,0 -> AP = (1/1 + 2/3) / 2; best threshold keeps three rows: F1 = 2*2/(3+2) = 0.8.
    # b: perfectly ranked -> AP 1, F1 1.  c: no positive -> left out of both.
    y = pd.DataFrame({"a": [1, 0, 1, 0], "b": [0, 0, 1, 1], "c": [0, 0, 0, 0]})
    p = pd.DataFrame({"a": [0.9, 0.8, 0.7, 0.1], "b": [0.1, 0.2, 0.6, 0.7], "c": [0.9, 0.1, 0.1, 0.1]})
    got = ranking_diagnostics(y, p)
    assert got["average_precision"] == {"a": 0.8333, "b": 1.0}
    assert got["macro_f1_if_thresholds_chosen_on_test"] == pytest.approx((0.8 + 1.0) / 2)


def test_record_sources_and_views_empty():
    p = pd.DataFrame({"pub_id": pd.Series(dtype=str), "title": pd.Series(dtype=str),
                      "abstract": pd.Series(dtype=str), "sources": pd.Series(dtype=str),
                      "provenance": pd.Series(dtype=str)})
    assert record_sources(p).empty and record_views(p).empty


@pytest.fixture(scope="module")
def real_ts():
    """The training frame of the real data: canonical tables built from ../shared/data are not
    available to unit tests, so the US corpus, the IPC titles and the dev set stand in for it."""
    latam = read_uspto_latam(shared_path("en-text", "uspto-latam"))
    titles = load_ipc_titles(shared_path("ipc", "ipc_titles_zh.tsv"), shared_path("ipc", "ipc_titles_en.tsv.gz"))
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in ["pub_id", "title", "abstract", "sources", "provenance",
                                                                "pub_date", "app_date"]})
    cls = pd.DataFrame({c: pd.Series(dtype=object) for c in ["pub_id", "scheme", "symbol", "subclass", "main_group",
                                                             "is_main", "seq"]})
    return training_frame(empty, cls, load_rules(), titles, latam=latam)


def test_real_us_grant_holdout_is_disjoint(real_ts):
    tr, te = holdout_splits(real_ts, ["us_grants"])["us_grants"]
    assert len(te) > 12000 and te["lang"].eq("en").all()
    assert set(tr["source"]) == {"ipc_titles", "taxonomy"}
    assert not set(te["record"]) & set(tr["record"])
    # the rule labels of the corpus: every industry has positives
    assert (te[list(INDUSTRIES)].sum() > 50).all()


def test_exports_list_names_the_files_with_abstracts():
    assert EXPORTS_WITH_ABSTRACTS == ("incopat_iflytek", "patsnap_green_aviation", "patentics_zhongkechuangda_cn")


@pytest.fixture(scope="module")
def real_model(real_ts):
    """A model fitted on real labelled text: the US grant corpus and the taxonomy's own texts."""
    from pipeline.classify.evaluation import fit_model

    return fit_model(real_ts[real_ts["source"] != "ipc_titles"], random_state=0, cv=2)


@pytest.mark.parametrize("text, industry", [
    ("A lithium-ion battery pack and battery management system for an electric vehicle, with cell balancing "
     "during charging.", "nev"),
    ("A pharmaceutical composition comprising a monoclonal antibody for treating cancer.", "biomedicine"),
    ("An industrial robot arm with a gripper and a controller for welding workpieces on a production line.",
     "manufacturing"),
    ("A method for speech recognition using a neural network acoustic model.", "it"),
    ("一种电动汽车动力电池包及其热管理系统", "nev"),
    ("一种基于深度学习的图像识别方法、装置、电子设备及存储介质", "it"),
    ("一种治疗肿瘤的抗体药物组合物", "biomedicine"),
    ("一种工业机器人焊接工作站", "manufacturing"),
])
def test_text_predictions_that_must_hold(real_model, text, industry):
    proba = real_model.predict_proba([text]).iloc[0]
    assert proba.idxmax() == industry and proba[industry] > 0.5


def test_a_text_outside_the_industries(real_model):
    assert (real_model.predict_proba(["A concrete formwork for building walls."]).iloc[0] < 0.5).all()


def test_committed_label_noise_judgements():
    from pipeline.classify.evaluation import label_noise_counts
    from pipeline.config import ROOT

    judged = pd.read_csv(ROOT / "pipeline" / "data" / "label_noise.csv")
    assert judged.groupby("lang").size().to_dict() == {"en": 100, "zh": 100}
    assert set(judged["judgement"]) <= {"label_error", "model_error", "unclear"}
    assert set(judged["industry"]) <= set(INDUSTRIES) and (judged["label"] != judged["predicted"]).all()
    assert judged["reason"].str.len().gt(10).all()
    counts = label_noise_counts(judged)
    assert counts["en"]["label_error"] + counts["en"]["model_error"] + counts["en"]["unclear"] == 100


def test_the_documented_test_tables_are_those_of_the_committed_metrics():
    # docs/classification.md's F1 tables are written from metrics/train.json, never by hand.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "scripts" / "train_tables.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
