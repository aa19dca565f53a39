"""Combining rule and text labels; thresholds per language; classifying an outside list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.classify.labels import classify_list, combine_labels, label_patents
from pipeline.config import ClassifyParams
from pipeline.classify.rules import load_rules
from pipeline.classify.text import TextClassifier

from .test_text import EN, ZH, corpus


@pytest.fixture(scope="module")
def model():
    texts, y = corpus(EN, ZH)
    return TextClassifier(min_df=1, estimator="logreg", C=20, calibration="none", random_state=0).fit(texts, y)


def _no_rules():
    return pd.DataFrame(columns=["pub_id", "industry", "branch", "rule_id", "match", "explanation"])


def test_threshold_frame_overrides_flat_params():
    proba = pd.DataFrame({"nev": [0.3, 0.3]}, index=["en1", "zh1"])
    thr = pd.DataFrame({"nev": [0.5, 0.2]}, index=["en1", "zh1"])  # zh rows use a lower bar
    out = combine_labels(pd.Series(["en1", "zh1"]), pd.Series([False, False]), _no_rules(), proba,
                         pd.Series(dtype=str), ClassifyParams(thresholds={"nev": 0.5}), thresholds=thr)
    assert out["pub_id"].tolist() == ["zh1"]
    assert out["confidence"].tolist() == [0.3]


def test_rule_label_confirmed_by_text_at_the_row_threshold():
    rules = pd.DataFrame({"pub_id": ["a", "b"], "industry": ["nev", "nev"], "branch": ["nev.x", "nev.x"],
                          "rule_id": ["r", "r"], "match": ["main_group", "main_group"],
                          "explanation": ["H01M10/0525 matches H01M10*"] * 2})
    proba = pd.DataFrame({"nev": [0.3, 0.3]}, index=["a", "b"])
    thr = pd.DataFrame({"nev": [0.25, 0.35]}, index=["a", "b"])
    out = combine_labels(pd.Series(["a", "b"]), pd.Series([True, True]), rules, proba,
                         pd.Series(dtype=str), ClassifyParams(), thresholds=thr)
    assert out.set_index("pub_id")["source"].to_dict() == {"a": "both", "b": "rule"}


def test_label_patents_uses_the_thresholds_of_each_language(model):
    patents = pd.DataFrame({"pub_id": ["E", "Z"], "title": ["electric vehicle traction battery pack",
                                                           "电动汽车动力电池包"], "abstract": [None, None]})
    cls = pd.DataFrame(columns=["pub_id", "scheme", "symbol", "seq", "subclass", "main_group", "is_main"])
    rules = load_rules()
    p = model.predict_proba(patents["title"].tolist())["nev"].to_numpy()
    # A bar between the two probabilities for English, far below both for Chinese.
    en_bar = float(np.round(max(p) + 0.01, 3))
    params = ClassifyParams(thresholds={"en": {"nev": en_bar}, "zh": {"nev": 0.01}})
    out = label_patents(patents, cls, rules, model, params)
    assert set(out.loc[out["industry"] == "nev", "pub_id"]) == {"Z"}
    params = ClassifyParams(thresholds={"en": {"nev": 0.01}, "zh": {"nev": en_bar}})
    out = label_patents(patents, cls, rules, model, params)
    assert set(out.loc[out["industry"] == "nev", "pub_id"]) == {"E"}


def test_classify_list_adds_columns_and_keeps_row_order(model):
    df = pd.DataFrame({"标题": ["电动汽车动力电池包", "kitchen cabinet door hinge", "工业机器人焊接机械臂"],
                       "IPC": ["H01M10/0525", None, "B25J9/16"]})
    out = classify_list(df, "标题", load_rules(), model, ClassifyParams(), ipc_col="IPC")
    assert out.columns.tolist() == ["标题", "IPC", "industry", "branch", "confidence", "reason"]
    assert out["标题"].tolist() == df["标题"].tolist()
    assert "nev" in out.loc[0, "industry"]
    assert pd.isna(out.loc[1, "industry"])
    assert "manufacturing" in out.loc[2, "industry"]
    # The rule that placed row 0 is named in its reason.
    assert "H01M10/0525" in out.loc[0, "reason"]


def test_model_thresholds_are_kept_with_thresholds_model(model):
    import copy

    from pipeline.errors import ConfigError

    m = copy.copy(model).set_params(thresholds={"en": {"nev": 0.99}, "zh": {"nev": 0.99}})
    patents = pd.DataFrame({"pub_id": ["a"], "title": ["electric vehicle traction battery pack"], "abstract": [None]})
    no_codes = pd.DataFrame(columns=["pub_id", "scheme", "symbol", "main_group", "is_main", "seq"])
    kept = label_patents(patents, no_codes, load_rules(), m, ClassifyParams(thresholds="model"))
    assert kept.empty  # the model's own bar (0.99) is applied
    flat = label_patents(patents, no_codes, load_rules(), m, ClassifyParams(thresholds={"nev": 0.01}))
    assert flat["industry"].tolist() == ["nev"]
    with pytest.raises(ConfigError, match="classify.thresholds"):
        label_patents(patents, no_codes, load_rules(), m, ClassifyParams(thresholds="validation"))


def test_vendor_headers_and_explain(model, tmp_path):
    from pipeline.io import read_list

    # A generated list with incoPat's column names (one header row, a title row above it).
    path = tmp_path / "list.csv"
    path.write_text("检索结果\n序号,标题 (中文),标题 (英文),摘要 (中文),IPC主分类,CPC\n"
                    "1,电动汽车动力电池包,,,H01M10/0525,\n"
                    "2,,Industrial robot arm for welding,,,B25J9/16\n"
                    "3,厨房橱柜门铰链,,,,\n", encoding="utf-8")
    df, cols = read_list(path)
    assert (cols["title"], cols["title_en"], cols["abstract"], cols["ipc_main"], cols["cpc"], cols["ipc"]) == \
        ("标题 (中文)", "标题 (英文)", "摘要 (中文)", "IPC主分类", "CPC", None)
    out = classify_list(df, cols["title"], load_rules(), model, ClassifyParams(thresholds={"en": {}, "zh": {}}),
                        cols["abstract"], cols["ipc"], title_en_col=cols["title_en"],
                        code_cols=[cols["ipc_main"], cols["cpc"]], explain=True)
    assert out["industry"].tolist()[:2] == ["nev", "manufacturing"]
    # H01M10/0525 is listed exactly in 5.2-r4; B25J9* is in 2.1's rules
    assert out["rule"].iloc[0].startswith("nev.components by 5.2-r4 on H01M10/0525")
    assert out["rule"].iloc[1].startswith("manufacturing.equipment by ")
    assert "nev:" in out["terms"].iloc[0] and "robot" in out["terms"].iloc[1]
    assert pd.isna(out["rule"].iloc[2]) and pd.isna(out["industry"].iloc[2])


def test_repeated_headers_keep_every_column(model, tmp_path):
    from pipeline.io import read_list, write_export

    # Patentics exports repeat some headers (申请日, 公开/公告日 …); a generated list that does the same.
    path = tmp_path / "dup.csv"
    path.write_text("标题,申请日,申请日\n一种电动汽车充电桩,2020-01-01,2020-01-02\n", encoding="utf-8")
    df, cols = read_list(path)
    assert list(df.columns) == ["标题", "申请日", "申请日 (2)"]
    out = classify_list(df, cols["title"], load_rules(), model, explain=True)
    dest = write_export(out, tmp_path / "dup.classified.csv")
    assert pd.read_csv(dest, encoding="utf-8-sig").shape == (1, len(out.columns))


def test_keyword_conditioned_row_holds_only_where_the_text_has_its_keywords():
    # SEI 5.1 lists B65G47/90 (conveyors) under NEV vehicle manufacturing on condition that
    # the text concerns new-energy vehicles: a cordless blind keeps the code match but is
    # flagged keyword_missing (so projects do not count it); a car-body line is not flagged.
    from pipeline.classify.labels import mark_unmet_conditions
    from pipeline.classify.rules import load_rules, rule_labels
    from pipeline.classify.text import condition_terms

    rules = load_rules()
    cls = pd.DataFrame({"pub_id": ["blind", "car", "none"], "scheme": "IPC", "symbol": "B65G47/90", "seq": 0,
                        "subclass": "B65G", "main_group": "B65G47", "is_main": True})
    lab = rule_labels(cls, rules)
    assert set(lab["rule_id"]) == {"5.1-r2"} and set(lab["branch"]) == {"nev.vehicles"}
    lab = lab.assign(flag=pd.Series([None] * len(lab), dtype=object))
    texts = pd.Series({"blind": "一种无绳百叶窗的升降机构", "car": "一种电动汽车车身输送装置", "none": ""})
    got = mark_unmet_conditions(lab, texts, condition_terms(rules)).set_index("pub_id")["flag"]
    assert got.to_dict() == {"blind": "keyword_missing", "car": None, "none": None}


def test_electric_aircraft_is_outside_nev_whatever_code_matched():
    # Real records of the NEV project (incoPat export): CN114560091A 多电飞机 with B64D27/24 and
    # B60L50/40 (rule 5.1-r1) and CN111252256A 电动飞机 with H01M2/10 (5.2-r4) reached the licence
    # list; the taxonomy's off_scope entry flags them. A flying car and an EV battery stay.
    from pipeline.classify.labels import mark_off_scope
    from pipeline.classify.rules import load_rules, rule_labels
    from pipeline.classify.text import off_scope_terms
    from pipeline.landscape import doubtful

    rules = load_rules()
    cls = pd.DataFrame({"pub_id": ["plane", "flying_car", "ev", "uav"], "scheme": "IPC", "symbol": "B60L50/40",
                        "seq": 0, "subclass": "B60L", "main_group": "B60L50", "is_main": True})
    lab = rule_labels(cls, rules).assign(flag=None)
    assert set(lab["rule_id"]) == {"5.1-r1"}
    texts = pd.Series({"plane": "一种基于模型预测的多电飞机混合能源能量管理系统及方法",
                       "flying_car": "一种飞行汽车的电驱动系统",
                       "ev": "一种纯电动汽车的动力电池能量管理方法",
                       "uav": "Battery pack of an unmanned aerial vehicle"})
    got = mark_off_scope(lab, texts, off_scope_terms())
    flags = got.set_index("pub_id")["flag"].to_dict()
    assert flags == {"plane": "off_scope", "flying_car": None, "ev": None, "uav": "off_scope"}
    assert doubtful(got).tolist() == [f is not None for f in got["flag"]]


def test_off_scope_entry_must_be_well_formed(tmp_path):
    import yaml

    from pipeline.classify.rules import TAXONOMY_PATH, load_rules
    from pipeline.errors import ConfigError

    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    tax["industries"]["nev"]["off_scope"] = {"terms": ["飞机"]}
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text(yaml.safe_dump(tax, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="off_scope"):
        load_rules(bad)


@pytest.mark.parametrize(("symbol", "text", "flagged"), [
    # 5.2-r4 (H01M batteries, SEI cell 汽车相关关键词): a road vehicle must be named.
    ("H01M50/20", "电池箱结构及电动汽车", False),       # real title, flagged before the text_conditions
    ("H01M50/20", "模块化车辆电池", False),             # real title (US2020152938A1, incoPat translation)
    ("H01M50/20", "一种锂离子电池正极材料", True),
    # 5.2-r2 (F16H gearing, cell 以…新型能源驱动的汽车): a new-energy drive must be named.
    ("F16H3/44", "一种变速器", True),                    # passed on the branch keyword 变速器 before
    ("F16H3/44", "一种纯电动汽车两挡变速器", False),
    ("F16H3/44", "Two-speed gearbox for a battery electric vehicle", False),
])
def test_text_conditions_follow_what_the_sei_cell_asks(symbol, text, flagged):
    from pipeline.classify.labels import mark_unmet_conditions
    from pipeline.classify.rules import load_rules, rule_labels
    from pipeline.classify.text import condition_terms

    rules = load_rules()
    sub, mg = symbol[:4], symbol.split("/")[0]
    lab = rule_labels(pd.DataFrame({"pub_id": ["x"], "scheme": "IPC", "symbol": symbol, "seq": 0, "subclass": sub,
                                    "main_group": mg, "is_main": True}), rules).assign(flag=None)
    assert len(lab) == 1 and lab["rule_id"].iloc[0] in {"5.2-r4", "5.2-r2"}
    got = mark_unmet_conditions(lab, pd.Series({"x": text}), condition_terms(rules))["flag"].iloc[0]
    assert (got == "keyword_missing") is flagged


def test_text_conditions_entry_must_be_well_formed(tmp_path):
    import yaml

    from pipeline.classify.rules import TAXONOMY_PATH, load_rules
    from pipeline.errors import ConfigError

    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    tax["text_conditions"] = [{"cell": "汽车相关关键词", "zh": "汽车"}]
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text(yaml.safe_dump(tax, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"text_conditions\[0\]: zh"):
        load_rules(bad)
