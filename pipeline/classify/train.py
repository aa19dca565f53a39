"""The train stage: fit the text classifier on real records and IPC titles, evaluate honestly.

Training signal: the rule labels of real records that carry codes (a record with codes
but no focus label is a negative), plus IPC titles in Chinese and English labelled
through the taxonomy. The main job's input is real data only (incoPat / PatSnap / Patentics
exports among it); generated fixtures live in the tests and never reach this stage.

Evaluation, reported as DVC metrics:

* **by source** — train on every other source, test on ``test_source`` (default the
  USPTO XML records, the only ones with abstracts), predicting from text only and
  comparing with their code-derived labels;
* **by year** — train on records published up to ``last_train_year``, test on later ones;
* **Chinese** — the hand-labelled dev set of real Chinese text (``train.cn_dev``).

The shipped model is then refitted on all real records and titles.
"""

from __future__ import annotations

import time

import pandas as pd

from .evaluation import fit_model, holdout_by_source, holdout_by_year
from .rules import rule_labels, symbol_labels
from .text import INDUSTRIES, build_training_set, condition_terms, evaluate, taxonomy_texts

__all__ = ["train", "dev_frame"]


def dev_frame(cn_dev: pd.DataFrame) -> pd.DataFrame:
    """The hand-labelled Chinese dev set as an evaluation frame (text + 0/1 per industry)."""
    text = cn_dev["title"].fillna("") + "。" + cn_dev["abstract"].fillna("")
    out = pd.DataFrame({"text": text, "lang": "zh"})
    for ind in INDUSTRIES:
        out[ind] = cn_dev[ind].astype(int)
    return out


def _summary(block: dict) -> dict:
    per = {ind: {k: round(float(v), 4) for k, v in s.items() if k in ("precision", "recall", "f1", "support")}
           for ind, s in block.get("per_industry", {}).items()}
    return {"n": int(block.get("n", 0)), "macro_f1": round(float(block.get("macro_f1", float("nan"))), 4),
            "per_industry": per}


def _confusion(block: dict, split: str, lang: str) -> pd.DataFrame:
    rows = [{"split": split, "lang": lang, "true": t, "predicted": p, "count": int(n)}
            for t, preds in block.get("confusion", {}).items() for p, n in preds.items()]
    return pd.DataFrame(rows, columns=["split", "lang", "true", "predicted", "count"])


def train(patents: pd.DataFrame, classifications: pd.DataFrame, rules, ipc_titles: pd.DataFrame,
          cn_dev: pd.DataFrame, *, thresholds: dict, random_state: int = 0, test_source: str = "uspto_xml",
          last_train_year: int | None = None, model_params: dict | None = None, taxonomy=None):
    """Fit, evaluate and refit the text classifier.

    ``taxonomy`` (mapping or path; default the packaged one) supplies the keyword
    conditions of concordance rows that require them and the branch names, descriptions
    and keywords added as training texts.

    Returns
    -------
    (model, metrics, confusion)
        The model fitted on all real records and titles; a metrics dict (per split and
        language: n, macro-F1, per-industry precision / recall / F1 / support); the
        confusion tables as one long DataFrame.
    """
    start = time.perf_counter()
    model_params = dict(model_params or {})
    title_labels = symbol_labels(ipc_titles["symbol"], rules)
    ts = build_training_set(patents, rule_labels(classifications, rules), ipc_titles,
                            classifications=classifications, title_labels=title_labels,
                            condition_terms=condition_terms(rules, taxonomy))
    ts = pd.concat([ts, taxonomy_texts(taxonomy)], ignore_index=True)
    fit = dict(random_state=random_state, thresholds=thresholds, **model_params)

    metrics: dict = {"training_rows": int(len(ts)),
                     "training_real_records": int((~ts["source"].isin(["ipc_titles", "taxonomy"])).sum()),
                     "training_taxonomy_texts": int((ts["source"] == "taxonomy").sum())}
    confusion = []
    splits = {}
    if (ts["source"] == test_source).any():
        splits[f"by_source:{test_source}"] = holdout_by_source(ts, [test_source])
    years = ts.loc[~ts["source"].isin(["ipc_titles", "taxonomy"]), "year"].dropna()
    if len(years):
        cut = last_train_year or int(years.quantile(0.8))
        splits[f"by_year:>{cut}"] = holdout_by_year(ts, cut)
    zh = dev_frame(cn_dev)
    for name, (tr, te) in splits.items():
        m = fit_model(tr, **fit)
        res = evaluate(m, te)
        metrics[name] = {lang: _summary(b) for lang, b in res.items()}
        confusion += [_confusion(b, name, lang) for lang, b in res.items()]
    model = fit_model(ts, **fit)
    res_zh = evaluate(model, zh)
    metrics["zh_dev"] = _summary(res_zh["all"])
    confusion.append(_confusion(res_zh["all"], "zh_dev", "zh"))
    metrics["seconds"] = round(time.perf_counter() - start, 2)
    return model, metrics, pd.concat(confusion, ignore_index=True)
