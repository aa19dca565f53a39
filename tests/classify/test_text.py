"""Text classifier: tiny inline corpora with obvious answers, persistence, tokens, data."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.classify.text import (
    INDUSTRIES,
    TRUSTED_TYPES,
    TextClassifier,
    build_training_set,
    condition_terms,
    detect_language,
    evaluate,
    load_ipc_titles,
    load_model,
    save_model,
    taxonomy_texts,
    tokenize,
)
from pipeline.errors import ClassifierInputError, ConfigError, ModelFileError
from pipeline.classify import text as text_mod
from tests.shared_data import shared_path

# The project's hand-labelled Chinese dev set (real KPPatent-ZH text), kept with the real data:
# ../shared/data/cn-text/cn_dev_labelled.csv (how it was made: cn_dev_labelled.README.md there).
DEV_SET = ("cn-text", "cn_dev_labelled.csv")

# Four obvious clusters per language, one industry each, plus "none" texts.
EN = {
    "it": ["wireless network base station handover", "neural network image recognition software",
           "semiconductor chip wafer lithography", "cloud server data storage network"],
    "manufacturing": ["industrial robot arm welding cell", "CNC machine tool spindle cutting",
                      "additive manufacturing laser powder bed", "robot gripper for machine tool loading"],
    "biomedicine": ["pharmaceutical composition antibody for treating cancer", "vaccine antigen immune response",
                    "catheter for medical infusion of drug", "drug compound tablet formulation"],
    "nev": ["electric vehicle traction battery pack", "charging station for electric vehicle battery",
            "hybrid vehicle electric motor drive", "lithium battery cell for electric vehicle"],
    None: ["concrete wall formwork for buildings", "textile yarn dyeing process", "kitchen cabinet door hinge",
           "asphalt road paving mixture"],
}
ZH = {
    "it": ["一种无线通信基站的切换方法", "基于神经网络的图像识别方法", "半导体芯片的光刻方法", "云服务器的数据存储方法"],
    "manufacturing": ["工业机器人焊接机械臂", "数控机床主轴切削装置", "激光增材制造设备", "机床上下料机械手"],
    "biomedicine": ["治疗肿瘤的抗体药物组合物", "疫苗抗原及其免疫方法", "医用输液导管", "药物化合物片剂"],
    "nev": ["电动汽车动力电池包", "电动汽车充电桩", "混合动力汽车驱动电机", "电动汽车锂离子电池电芯"],
    None: ["混凝土墙体模板", "纺织纱线染色工艺", "厨房橱柜门铰链", "沥青路面铺装材料"],
}


def corpus(*langs):
    texts, rows = [], []
    for d in langs:
        for ind, items in d.items():
            for t in items:
                texts.append(t)
                rows.append([int(ind == i) for i in INDUSTRIES])
    return texts, pd.DataFrame(rows, columns=list(INDUSTRIES))


@pytest.fixture(scope="module")
def fitted():
    texts, y = corpus(EN, ZH)
    return TextClassifier(min_df=1, estimator="logreg", C=20, calibration="none", random_state=0).fit(texts, y)


def test_obvious_answers_both_languages(fitted):
    pred = fitted.predict(["battery pack for an electric vehicle", "robot arm for welding",
                           "antibody drug for cancer", "电动汽车电池", "神经网络图像识别"])
    assert pred.columns.tolist() == list(INDUSTRIES)
    assert pred.idxmax(axis=1).tolist() == ["nev", "manufacturing", "biomedicine", "nev", "it"]
    assert (pred.sum(axis=1) == 1).all()


def test_none_of_the_industries(fitted):
    proba = fitted.predict_proba(["asphalt road paving mixture", "厨房橱柜门铰链"])
    assert (proba < 0.5).all().all()


def test_thresholds_are_applied():
    texts, y = corpus(EN)
    m = TextClassifier(min_df=1, estimator="logreg", C=20, calibration="none", thresholds={"nev": 0.99}).fit(texts, y)
    p = m.predict_proba(["electric vehicle battery"])["nev"].iloc[0]
    assert 0.5 < p < 0.99
    assert m.predict(["electric vehicle battery"])["nev"].iloc[0] == 0
    with pytest.raises(ConfigError, match="unknown industries"):
        TextClassifier(thresholds={"space": 0.3}).fit(texts, y)


def test_thresholds_per_language(fitted):
    texts = ["electric vehicle battery pack", "电动汽车动力电池包"]
    proba = fitted.predict_proba(texts)["nev"]
    assert (proba > 0.5).all()
    m = fitted.set_params(thresholds={"nev": 0.5, "zh": {"nev": 0.999}})
    try:
        assert m.predict(texts)["nev"].tolist() == [1, 0]
        assert "nev" in m.explain(texts)[0] and "nev" not in m.explain(texts)[1]
    finally:
        fitted.set_params(thresholds=None)


def test_spacy_and_regex_english_tokens_agree():
    text = "A lithium-ion battery-management system for electric vehicles, comprising 3 cells (U.S. Pat. No. 5,123)."
    assert tokenize(text, en_tokenizer="spacy") == tokenize(text) == [
        "lithium", "ion", "battery", "management", "system", "electric", "vehicle", "comprising", "cell", "pat"]
    with pytest.raises(ConfigError, match="en_tokenizer"):
        tokenize(text, en_tokenizer="nltk")


def test_same_seed_same_probabilities():
    texts, y = corpus(EN, ZH)
    # Platt cross-fitting and SGD both draw on random_state.
    kw = dict(min_df=1, estimator="sgd", calibration="platt", cv=2, random_state=7)
    a = TextClassifier(**kw).fit(texts, y).predict_proba(texts)
    b = TextClassifier(**kw).fit(texts, y).predict_proba(texts)
    pd.testing.assert_frame_equal(a, b)


def test_per_language_models_route_by_language():
    texts, y = corpus(EN, ZH)
    m = TextClassifier(min_df=1, C=20, calibration="none", per_language=True).fit(texts, y)
    assert set(m.coef_) == {"en", "zh"}
    assert m.predict(["电动汽车充电桩"]).idxmax(axis=1).iloc[0] == "nev"
    assert m.predict(["industrial robot welding"]).idxmax(axis=1).iloc[0] == "manufacturing"


def test_explain_gives_terms_of_the_text(fitted):
    texts = ["electric vehicle battery charging station", "医用输液导管的药物组合物"]
    out = fitted.explain(texts, top_k=3)
    assert len(out) == 2
    assert "nev" in out[0] and "biomedicine" in out[1]
    for text, expl in zip(texts, out, strict=True):
        for terms in expl.values():
            assert 0 < len(terms) <= 3
            weights = [w for _, w in terms]
            assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
            for term, _ in terms:
                # word bigrams are joined by a space; every piece occurs in the text
                assert all(piece in text.lower() or piece.rstrip("s") in text.lower() for piece in term.split())


def test_skops_round_trip(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "text.skops")
    again = load_model(path)
    texts = ["electric vehicle battery", "工业机器人焊接", "", "sunscreen lotion"]
    pd.testing.assert_frame_equal(fitted.predict_proba(texts), again.predict_proba(texts))
    assert again.get_params() == fitted.get_params()


def test_load_refuses_untrusted_type(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "text.skops")
    with pytest.raises(ModelFileError, match="refusing to load"):
        load_model(path, trusted=[t for t in TRUSTED_TYPES if "TfidfVectorizer" not in t])
    # A file holding something else altogether (here a callable) is refused by name.
    import skops.io as sio

    other = tmp_path / "other.skops"
    sio.dump({"f": np.sum}, other)
    with pytest.raises(ModelFileError, match="numpy.sum|trusted"):
        load_model(other)


def test_load_refuses_non_skops_file(tmp_path):
    bad = tmp_path / "model.skops"
    bad.write_bytes(b"\x80\x04K\x01.")  # a pickle, not a skops zip
    with pytest.raises(ModelFileError, match="not a readable skops"):
        load_model(bad)
    with zipfile.ZipFile(tmp_path / "empty.skops", "w"):
        pass
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "empty.skops")


def test_load_refuses_a_model_never_fitted(tmp_path):
    import skops.io as sio

    path = tmp_path / "unfitted.skops"
    sio.dump(TextClassifier(), path)
    with pytest.raises(ModelFileError, match="never fitted; run `patnav train`"):
        load_model(path)


@pytest.mark.parametrize("params, match", [
    ({"estimator": "svm"}, "estimator must be 'logreg' or 'sgd', not 'svm'"),
    ({"calibration": "isotonic"}, "calibration must be 'platt' or 'none'"),
    ({"thresholds": {"nev": 1.5}}, r"thresholds.nev must be a probability from 0 to 1, not 1.5"),
    ({"thresholds": {"zh": {"it": "high"}}}, r"thresholds.zh.it must be a probability"),
    ({"thresholds": "model"}, "thresholds must map industries"),
])
def test_bad_options_are_named_before_fitting(params, match):
    texts, y = corpus(EN)
    with pytest.raises(ConfigError, match=match):
        TextClassifier(**params).fit(texts, y)


def test_chinese_tokens_on_a_real_sentence():
    # First sentence of a real abstract (KPPatent-ZH, test_data_TAC.json record 101).
    text = "本发明涉及充电电缆的技术领域，特别是涉及一种电动汽车充电系统用阻燃电缆及其制备方法"
    toks = tokenize(text)
    assert detect_language(text) == "zh"
    assert {"充电", "电缆", "电动汽车", "阻燃", "制备"} <= set(toks)
    assert not {"本发明", "涉及", "一种", "的", "，"} & set(toks)
    assert tokenize(text) == toks  # fixed dictionary, no state between calls


def test_english_tokens_and_mixed_text():
    assert tokenize("The Batteries of 3 Electric-Vehicles, e.g. 12 V.") == ["battery", "electric", "vehicle"]
    assert "can" in tokenize("一种基于CAN总线的电池管理系统")
    assert tokenize(None) == [] and tokenize("") == []


def test_empty_input(fitted):
    assert fitted.predict_proba([]).columns.tolist() == list(INDUSTRIES)
    assert len(fitted.predict([])) == 0
    assert fitted.explain([]) == []
    # empty, missing and punctuation-only texts get the prior, not an error
    proba = fitted.predict_proba(["", None, "。，"])
    assert proba.notna().all().all() and len(proba) == 3
    with pytest.raises(ClassifierInputError, match="empty training set"):
        TextClassifier().fit([], pd.DataFrame(columns=list(INDUSTRIES)))


def test_bad_labels_are_refused():
    with pytest.raises(ClassifierInputError, match="lack industry"):
        TextClassifier().fit(["a b"], pd.DataFrame({"it": [1]}))
    with pytest.raises(ClassifierInputError, match="0/1"):
        TextClassifier().fit(["a b", "c d"], np.array([[2, 0, 0, 0], [0, 0, 0, 1]]))
    with pytest.raises(ValueError, match="not fitted"):
        TextClassifier().predict_proba(["x"])


def test_evaluate_counts_by_language(fitted):
    test = pd.DataFrame({"text": ["electric vehicle battery", "robot welding arm", "电动汽车电池", "混凝土墙体"],
                         "it": 0, "manufacturing": [0, 1, 0, 0], "biomedicine": 0, "nev": [1, 0, 1, 0]})
    res = evaluate(fitted, test)
    assert set(res) == {"all", "en", "zh"}
    assert res["all"]["per_industry"]["nev"]["tp"] == 2
    assert res["all"]["macro_f1"] == 1.0 and res["all"]["macro_over"] == ["manufacturing", "nev"]
    assert res["zh"]["confusion"]["none"]["none"] == 1
    assert evaluate(fitted, test.iloc[:0])["all"]["n"] == 0


def test_build_training_set_negatives_and_weak_labels():
    patents = pd.DataFrame({
        "pub_id": ["US1", "US2", "US3", "US4", "US5"],
        "title": ["Battery pack", "Door hinge", "Robot", "Pump", None],
        "abstract": ["For an electric vehicle.", None, None, None, None],
        "sources": ["uspto_xml", "lens", "patentsview", "lens", "lens"],
        "pub_date": pd.to_datetime(["2012-01-03", "2010-05-01", "2015-01-01", "2001-01-01", "2001-01-01"]),
    })
    classifications = pd.DataFrame({"pub_id": ["US1", "US2", "US3", "US5"], "symbol": ["H01M10/0525", "E05D3/02",
                                                                                         "B25J", "A61K31/00"]})
    rule_lbls = pd.DataFrame({"pub_id": ["US1", "US3"], "industry": ["nev", "manufacturing"],
                              "branch": ["nev.components", "manufacturing.equipment"], "rule_id": ["5.2-r4", "2.1-r9"],
                              "match": ["main_group", "subclass_only"]})
    titles = pd.DataFrame({"symbol": ["H01M10/0525", "E05D3/02"], "lang": ["en", "zh"],
                           "title": ["Rechargeable lithium-ion batteries", "铰链"]})
    title_lbls = pd.DataFrame({"symbol": ["H01M10/0525"], "industry": ["nev"], "branch": ["nev.components"],
                               "rule_id": ["5.2-r4"], "match": ["main_group"]})
    ts = build_training_set(patents, rule_lbls, titles, classifications=classifications, title_labels=title_lbls)
    # US4 has no codes (unknown, not negative); US5 has no text; US3's only label is weak → dropped.
    assert ts["id"].tolist() == ["US1", "US2", "H01M10/0525", "E05D3/02"]
    assert ts["nev"].tolist() == [1, 0, 1, 0] and ts[["it", "manufacturing", "biomedicine"]].sum().sum() == 0
    assert ts["source"].tolist() == ["uspto_xml", "lens", "ipc_titles", "ipc_titles"]
    assert ts["lang"].tolist() == ["en", "en", "en", "zh"]
    assert ts["year"].tolist()[:2] == [2012, 2010] and ts["year"].isna().tolist()[2:] == [True, True]
    ts2 = build_training_set(patents, rule_lbls, titles, classifications=classifications, title_labels=title_lbls,
                             subclass_only="positive")
    assert ts2.set_index("id").at["US3", "manufacturing"] == 1
    # A rule that needs a keyword in the text: met for US1, not for the title.
    ts3 = build_training_set(patents, rule_lbls, titles, classifications=classifications, title_labels=title_lbls,
                             condition_terms={"5.2-r4": ["electric vehicle"]})
    assert ts3.set_index("id")["nev"].to_dict() == {"US1": 1, "US2": 0, "H01M10/0525": 0, "E05D3/02": 0}


def test_taxonomy_words_as_training_texts_and_text_conditions():
    tax = {"industries": {
        "nev": {"zh": "新能源汽车", "en": "NEV", "branches": {"components": {
            "zh": "部件", "en": "Parts", "description": {"zh": "动力电池与电机", "en": "Traction batteries"},
            "keywords": {"zh": ["电池包"], "en": ["battery pack"]}}}},
        "space": {"zh": "航天", "en": "Space", "branches": {"launchers": {"zh": "火箭", "en": "Rockets"}}}}}
    t = taxonomy_texts(tax)
    assert sorted(t["text"]) == sorted(["部件", "动力电池与电机", "电池包", "Parts", "Traction batteries", "battery pack"])
    assert (t["source"] == "taxonomy").all() and t["nev"].eq(1).all() and t["it"].eq(0).all()
    assert t.set_index("text").at["电池包", "lang"] == "zh" and t.set_index("text").at["Parts", "lang"] == "en"
    rules = SimpleNamespace(rules=pd.DataFrame({
        "rule_id": ["5.2-r4", "5.2-r1"], "branch": ["nev.components", "nev.components"],
        "text_condition": ["require_keywords", "exclude_keywords"]}))
    assert condition_terms(rules, tax) == {"5.2-r4": ["电池包", "battery pack"]}
    # a text_conditions entry whose cell occurs in the rule's SEI keyword text replaces the branch keywords
    rules.rules["keywords_zh"] = ["汽车相关关键词", "不包含非机动车"]
    tax["text_conditions"] = [{"cell": "汽车相关关键词", "zh": ["汽车"], "en": ["vehicle"]}]
    assert condition_terms(rules, tax) == {"5.2-r4": ["汽车", "vehicle"]}


def test_load_ipc_titles_cleans_pdf_noise(tmp_path):
    zh = tmp_path / "zh.tsv"
    zh.write_text(
        "code\tlevel\ttitle_zh\n"
        "A\tsection\t人类生活必需\n"
        "A01B\tsubclass\t农业或林业的整地（用于 播种入A01C5/00）\n"
        "A01B1/00\tmain_group\t手动工具（草坪修整机入A01G3/06）〔2,2006.01〕\n"
        "A01B1/02\tsubgroup\t锹；铲\n"
        "D01H15/007\tsubgroup\t.\n",
        encoding="utf-8",
    )
    en = tmp_path / "en.tsv"
    en.write_text("ipc\tsymbol\ttitle\n"
                  "A01B1/02\tA01B0001020000\tHand tools;;Spades;;Shovels\n", encoding="utf-8")
    df = load_ipc_titles(zh, en)
    got = {(r.symbol, r.lang): r.title for r in df.itertuples()}
    assert got == {("A01B", "zh"): "农业或林业的整地", ("A01B1/00", "zh"): "手动工具",
                   ("A01B1/02", "zh"): "手动工具：锹；铲", ("A01B1/02", "en"): "Hand tools; Spades; Shovels"}
    # only the symbols asked for; a subgroup keeps its main group's prefix though that is not asked
    some = load_ipc_titles(zh, en, symbols=["A01B1/02", "H01M10/00"])
    assert {(r.symbol, r.lang): r.title for r in some.itertuples()} == {
        ("A01B1/02", "zh"): "手动工具：锹；铲", ("A01B1/02", "en"): "Hand tools; Spades; Shovels"}
    assert load_ipc_titles(zh, en, symbols=[]).empty


def test_load_ipc_titles_of_some_symbols_are_rows_of_the_full_table():
    zh, en = shared_path("ipc", "ipc_titles_zh.tsv"), shared_path("ipc", "ipc_titles_en.tsv.gz")
    full = load_ipc_titles(zh, en)
    wanted = ["H01M10/00", "H01M10/0525", "B60L53/00", "G06N3/08", "A61K", "NOPE1/00", None]
    some = load_ipc_titles(zh, en, symbols=wanted)
    expected = full[full["symbol"].isin(wanted)].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    assert set(some["symbol"]) == {"H01M10/00", "H01M10/0525", "B60L53/00", "G06N3/08", "A61K"}


def test_dev_set_is_well_formed():
    df = pd.read_csv(shared_path(*DEV_SET), dtype={"id": int})
    assert df.columns.tolist() == ["id", "title", "abstract", *INDUSTRIES, "note"]
    assert len(df) >= 200 and df["id"].is_unique
    assert df[list(INDUSTRIES)].isin([0, 1]).all().all()
    assert df["title"].str.contains(r"[\u4e00-\u9fff]").all()
    assert df["note"].str.match(r"^(random|enriched); \S").all()
    assert (df["note"].str.startswith("random")).sum() == 200
    assert df["id"].between(0, 695).all()
    # every industry has positives to measure
    assert (df[list(INDUSTRIES)].sum() >= 10).all()


def test_rjieba_and_jieba_give_the_same_chinese_tokens():
    # Real Chinese titles and abstracts (the dev set): the fast binding must not change the vocabulary.
    dev = pd.read_csv(shared_path(*DEV_SET))
    texts = (dev["title"].fillna("") + "。" + dev["abstract"].fillna("")).tolist()
    assert [tokenize(t, "zh", zh_tokenizer="rjieba") for t in texts] == \
        [tokenize(t, "zh", zh_tokenizer="jieba") for t in texts]
    with pytest.raises(ConfigError, match="zh_tokenizer"):
        tokenize("一种电池", "zh", zh_tokenizer="pkuseg")


def _explain_by_rows(model, texts, top_k):
    """The explanation computed row by row, term by term: the reference the vectorised one must give."""
    scores, keys, parts = model._scores(texts)
    predicted = model._calibrate(scores, keys) >= model._thresholds_for(parts["_langs"])
    out = [{} for _ in texts]
    for key, (rows, X) in ((k, v) for k, v in parts.items() if not k.startswith("_")):
        names, X = model._feature_names(key), X.tocsr()
        for r, i in enumerate(rows):
            for j in np.flatnonzero(predicted[i]):
                terms = {}
                for f, v in zip(X[r].indices, X[r].data, strict=True):
                    c = v * model.coef_[key][j, f]
                    if c > 0:
                        terms[names[f]] = terms.get(names[f], 0.0) + float(c)
                best = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
                out[i][model.industries[j]] = [(text_mod._as_in_text(t, parts["_raw"][i]), round(w, 4)) for t, w in best]
    return out


def test_explain_equals_the_row_by_row_computation(fitted):
    texts = ["electric vehicle battery charging station", "医用输液导管的药物组合物", "concrete wall",
             "电动汽车动力电池包充电桩", "lithium battery cell for electric vehicle motor drive"]
    for k in (1, 3, 50):
        assert fitted.explain(texts, top_k=k) == _explain_by_rows(fitted, texts, k)


def test_a_term_that_is_a_word_and_a_character_gram_counts_once(fitted):
    # "电池" is a Chinese word and a character bigram of the text: one entry, weights summed.
    out = fitted.explain(["电动汽车动力电池包"], top_k=50)[0]["nev"]
    names = [t for t, _ in out]
    assert len(names) == len(set(names))
    assert out == _explain_by_rows(fitted, ["电动汽车动力电池包"], 50)[0]["nev"]


def test_proba_and_explain_in_one_pass(fitted):
    texts = ["electric vehicle battery charging station", "", "医用输液导管的药物组合物", "kitchen cabinet door hinge"]
    proba, langs, explained = fitted.proba_and_explain(texts, top_k=4)
    pd.testing.assert_frame_equal(proba, fitted.predict_proba(texts))
    assert explained == fitted.explain(texts, top_k=4)
    assert len(langs) == len(texts)
    empty = fitted.proba_and_explain([])
    assert empty[0].columns.tolist() == list(INDUSTRIES) and empty[2] == []
