"""The train stage: fit the text classifier on real labelled text, evaluate it honestly.

Training text (:func:`training_frame`):

* real records with codes — the canonical tables (Chinese exports, USPTO XML, Lens and
  PatentsView titles) and the US grant corpus ``en-text/uspto-latam``
  (:mod:`pipeline.classify.corpus`) — labelled by the taxonomy rules on their codes; a
  Chinese-export record with English title/abstract gives a second, English row
  (same ``record``); where incoPat's SEI label (``source_labels``, scheme ``sei``) puts a
  record in a focus industry that its (often main-only) codes miss, the vendor label is
  added (``vendor_labels: union``), the vendor's view of the same concordance;
* IPC titles (Chinese and English) labelled through their symbol, and the taxonomy's own
  branch names, descriptions and keywords.

Evaluation (:func:`evaluate_holdouts`), every split by record, never by random row:

* ``exports`` — test on the Chinese exports that carry abstracts (incoPat iFlytek,
  PatSnap, Patentics): their English title + abstract, their Chinese title + abstract
  and their Chinese titles alone, with a model that saw none of their records in any
  language;
* ``us_grants`` — test on the US grant corpus with a model trained on everything else;
* ``by_year`` — train on records published up to ``last_train_year``, test on later ones
  (records without a date, the US grant corpus among them, are on neither side);
* ``zh_dev`` — the hand-labelled Chinese dev set, random and enriched strata apart, with
  the shipped model (nothing is fitted or tuned on it).

Thresholds per language are chosen on a validation part of each training side (a share
of its records, :func:`validation_split`), never on the test records; each hold-out's
figures carry bootstrap intervals. The shipped model is fitted on all training text and
keeps the thresholds chosen on its own validation part.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ClassifierInputError, ConfigError
from .agreement import vendor_industries
from .corpus import VIEW_SEP, latam_tables, record_views
from .evaluation import best_thresholds, bootstrap_f1, fit_model, score_predictions
from .rules import rule_labels, symbol_labels
from .text import INDUSTRIES, TextClassifier, build_training_set, condition_terms, taxonomy_texts

__all__ = ["train", "check_train_params", "dev_frame", "training_frame", "with_vendor_labels", "record_key",
           "validation_split", "assert_disjoint", "holdout_splits", "language_thresholds", "EXPORTS_WITH_ABSTRACTS",
           "HOLDOUTS", "EVALUATION", "DEV_COLUMNS", "run_stage"]

EXPORTS_WITH_ABSTRACTS = ("incopat_iflytek", "patsnap_green_aviation", "patentics_zhongkechuangda_cn")
HOLDOUTS = ("exports", "us_grants", "by_year")
# train.evaluation of params.yaml and its defaults.
EVALUATION = {"holdouts": list(HOLDOUTS), "last_train_year": 2019, "validation_share": 0.2, "bootstrap": 1000,
              "vendor_labels": "union"}
# train.model keys that fit_model takes besides the TextClassifier options.
_FIT_WEIGHTS = ("title_weight", "taxonomy_weight")
# Columns of the hand-labelled Chinese dev set (train.cn_dev).
DEV_COLUMNS = ("id", "title", "abstract", "note", *INDUSTRIES)
_NOT_RECORDS = ("ipc_titles", "taxonomy")
def record_key(ids: pd.Series) -> pd.Series:
    """A record's identity across views and sources: pub_id without the view suffix and
    without a US kind code (``US7654321B2`` and the corpus's ``US7654321`` are one grant).

    Examples
    --------
    >>> record_key(pd.Series(["CN1A#en", "US7654321B2", "US7654321", "CN112345678A"])).tolist()
    ['CN1A', 'US7654321', 'US7654321', 'CN112345678A']
    """
    s = pd.Series(ids, dtype="string").str.split(VIEW_SEP, regex=False).str[0]
    return s.str.replace(r"^(US\d+)[A-Z]\d?$", r"\1", regex=True)


def dev_frame(cn_dev: pd.DataFrame, *, titles_only: bool = False) -> pd.DataFrame:
    """The hand-labelled Chinese dev set as an evaluation frame (text + 0/1 per industry + stratum).

    Raises
    ------
    pipeline.errors.ClassifierInputError
        ``cn_dev`` lacks a column of :data:`DEV_COLUMNS` or an industry column holds
        other values than 0/1.
    """
    _check_dev(cn_dev)
    text = cn_dev["title"].fillna("")
    if not titles_only:
        text = text + "。" + cn_dev["abstract"].fillna("")
    out = pd.DataFrame({"id": "dev" + cn_dev["id"].astype(str), "text": text, "lang": "zh",
                        "stratum": cn_dev["note"].astype(str).str.split(";").str[0].str.strip()})
    for ind in INDUSTRIES:
        out[ind] = cn_dev[ind].astype(int)
    return out


def _check_dev(cn_dev: pd.DataFrame) -> None:
    missing = [c for c in DEV_COLUMNS if c not in cn_dev.columns]
    if missing:
        raise ClassifierInputError(f"the hand-labelled dev set (train.cn_dev) lacks column(s) {', '.join(missing)}; "
                                   f"it needs {', '.join(DEV_COLUMNS)} (0/1 per industry)")
    bad = [c for c in INDUSTRIES if not cn_dev[c].isin([0, 1]).all()]
    if bad:
        raise ClassifierInputError(f"the hand-labelled dev set (train.cn_dev): column(s) {', '.join(bad)} must hold "
                                   "0 or 1 in every row")


def check_train_params(model_params: Mapping | None = None, evaluation: Mapping | None = None) -> dict:
    """``train.model`` and ``train.evaluation`` of params.yaml, checked before any work.

    Returns
    -------
    dict
        ``train.evaluation`` with the defaults of :data:`EVALUATION` filled in.

    Raises
    ------
    pipeline.errors.ConfigError
        Naming the key (``train.model.estimator``, ``train.evaluation.holdouts`` …) that
        is unknown or has a value that cannot be used.

    Examples
    --------
    >>> check_train_params({"estimator": "sgd"}, {"bootstrap": 10})["bootstrap"]
    10
    """
    model = dict(model_params or {})
    options = set(TextClassifier().get_params()) - {"random_state"}
    unknown = sorted(set(map(str, model)) - options - set(_FIT_WEIGHTS))
    if unknown:
        raise ConfigError(f"train.model: unknown option(s) {', '.join(unknown)} (known: "
                          f"{', '.join(sorted(options | set(_FIT_WEIGHTS)))}; the seed is train.random_state)")
    try:
        TextClassifier(**{k: v for k, v in model.items() if k not in _FIT_WEIGHTS}).check_params()
    except ConfigError as exc:
        raise ConfigError(f"train.model.{exc}") from None
    ev = {**EVALUATION, **dict(evaluation or {})}
    unknown = sorted(set(map(str, ev)) - set(EVALUATION))
    if unknown:
        raise ConfigError(f"train.evaluation: unknown key(s) {', '.join(unknown)} (known: {', '.join(EVALUATION)})")
    holdouts = ev["holdouts"]
    if isinstance(holdouts, str) or not all(h in HOLDOUTS for h in holdouts):
        raise ConfigError(f"train.evaluation.holdouts must be a list of {', '.join(HOLDOUTS)}, not {holdouts!r}")
    if ev["vendor_labels"] not in ("union", "none"):
        raise ConfigError(f"train.evaluation.vendor_labels must be 'union' or 'none', not {ev['vendor_labels']!r}")
    return ev


def training_frame(patents: pd.DataFrame, classifications: pd.DataFrame, rules, ipc_titles: pd.DataFrame, *,
                   latam: pd.DataFrame | None = None, source_labels: pd.DataFrame | None = None,
                   taxonomy=None) -> pd.DataFrame:
    """Every labelled text the model may learn from, one row per (record, view) or title.

    Returns
    -------
    DataFrame
        :func:`~pipeline.classify.text.build_training_set` columns plus ``record``
        (:func:`record_key`), ``view`` (``native`` | ``en`` | ``ipc_titles`` |
        ``taxonomy``), ``title`` (the record's title, for title-only tests) and
        ``has_abstract``; ``source`` is the export file for Chinese exports
        (:func:`~pipeline.classify.corpus.record_sources`). The industry columns are the
        rule labels of the codes; with ``source_labels``, ``vendor_<industry>`` columns
        hold incoPat's SEI view (0/1 on records of files with that column, else null).
    """
    pats, cls = patents, classifications
    if latam is not None and len(latam):
        lp, lc = latam_tables(latam)
        pats = pd.concat([pats, lp], ignore_index=True)
        cls = pd.concat([cls, lc], ignore_index=True)
    views = record_views(pats)
    en = views[views["view"] == "en"]
    en_cls = cls.merge(en[["record", "pub_id"]].rename(columns={"pub_id": "view_id"}),
                       left_on="pub_id", right_on="record", how="inner")
    en_cls = en_cls.drop(columns=["pub_id", "record"]).rename(columns={"view_id": "pub_id"})
    cls_all = pd.concat([cls, en_cls], ignore_index=True)
    title_labels = symbol_labels(ipc_titles["symbol"], rules)
    ts = build_training_set(views, rule_labels(cls_all, rules), ipc_titles, classifications=cls_all,
                            title_labels=title_labels, condition_terms=condition_terms(rules, taxonomy))
    meta = views.assign(pub_id=views["pub_id"].astype(str)).set_index("pub_id")
    is_rec = ~ts["source"].isin(_NOT_RECORDS)
    ids = ts.loc[is_rec, "id"]
    ts["record"] = ts["id"].astype("string")
    ts.loc[is_rec, "record"] = record_key(ids).to_numpy()
    ts.loc[is_rec, "source"] = meta["source"].reindex(ids).to_numpy()
    ts["view"] = ts["source"].where(~is_rec, "native").astype(object)
    ts.loc[is_rec, "view"] = meta["view"].reindex(ids).to_numpy()
    ts["title"] = pd.Series(pd.NA, index=ts.index, dtype="string")
    ts.loc[is_rec, "title"] = meta["title"].astype("string").reindex(ids).to_numpy()
    abstract = meta["abstract"].astype("string").fillna("").str.strip().reindex(ids)
    ts["has_abstract"] = False
    ts.loc[is_rec, "has_abstract"] = (abstract != "").to_numpy()
    if source_labels is not None and len(source_labels):
        # The vendor's view: 0/1 on records of files that carry the vendor column, else null.
        sl = source_labels[source_labels["scheme"] == "sei"]
        files = set(sl["source"].astype(str))
        prov = meta["provenance"].astype("string").str.split("#", n=1, regex=False).str[0] \
            if "provenance" in meta else pd.Series(pd.NA, index=meta.index, dtype="string")
        in_file = is_rec & pd.Series(prov.reindex(ts["id"].astype(str)).isin(files).to_numpy(), index=ts.index)
        v = vendor_industries(sl).dropna(subset=["industry"])
        for ind in INDUSTRIES:
            pos = set(v.loc[v["industry"] == ind, "pub_id"])
            ts[f"vendor_{ind}"] = pd.array(np.where(in_file, ts["record"].isin(pos), pd.NA), dtype="Int8") \
                if in_file.any() else pd.array([pd.NA] * len(ts), dtype="Int8")
    tax = taxonomy_texts(taxonomy).assign(view="taxonomy", has_abstract=False)
    tax["record"] = tax["id"]
    tax["title"] = pd.Series(pd.NA, index=tax.index, dtype="string")
    out = pd.concat([ts, tax], ignore_index=True)
    out[list(INDUSTRIES)] = out[list(INDUSTRIES)].astype("int8")
    return out


def with_vendor_labels(ts: pd.DataFrame, how: str = "union") -> pd.DataFrame:
    """Training labels: the rule labels, plus the vendor's focus labels where it has them (``union``).

    Examples
    --------
    >>> ts = pd.DataFrame({"it": [0, 1, 0], "manufacturing": 0, "biomedicine": 0, "nev": 0,
    ...                    "vendor_it": pd.array([1, 0, pd.NA], dtype="Int8")})
    >>> with_vendor_labels(ts)["it"].tolist()
    [1, 1, 0]
    """
    if how not in ("union", "none"):
        raise ConfigError(f"vendor_labels must be 'union' or 'none', not {how!r}")
    if how == "none":
        return ts
    out = ts.copy()
    for ind in INDUSTRIES:
        col = f"vendor_{ind}"
        if col in out:
            out[ind] = np.maximum(out[ind].to_numpy(), out[col].fillna(0).to_numpy()).astype("int8")
    return out


def _is_record(ts: pd.DataFrame) -> pd.Series:
    return ~ts["source"].isin(_NOT_RECORDS)


def validation_split(train: pd.DataFrame, *, share: float = 0.2, random_state: int = 0
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off ``share`` of the training *records* (all views of a drawn record) for validation.

    IPC titles and taxonomy texts always stay on the fitting side. Deterministic for a
    given ``random_state``.
    """
    recs = np.sort(train.loc[_is_record(train), "record"].astype(str).unique())
    rng = np.random.default_rng(random_state)
    drawn = set(rng.choice(recs, size=int(round(share * len(recs))), replace=False)) if len(recs) else set()
    val = train["record"].astype(str).isin(drawn) & _is_record(train)
    return train[~val].reset_index(drop=True), train[val].reset_index(drop=True)


def assert_disjoint(train: pd.DataFrame, test: pd.DataFrame, name: str = "") -> None:
    """Fail if a test record (in any view or source spelling) is among the training records."""
    common = set(train.loc[_is_record(train), "record"].astype(str)) & set(test["record"].astype(str))
    if common:
        raise AssertionError(f"hold-out {name}: {len(common)} test record(s) also in training, e.g. {sorted(common)[:3]}")


def language_thresholds(model, val: pd.DataFrame, *, langs: Sequence[str] = ("en", "zh"),
                        fallback: Mapping | None = None) -> dict:
    """Per language, the F1-best threshold per industry on the validation rows of that language.

    A language with no validation rows (or an industry without positives there) keeps
    ``fallback`` (default 0.5).
    """
    out = {}
    proba = model.predict_proba(val["text"].tolist()) if len(val) else None
    for lg in langs:
        base = dict((fallback or {}).get(lg, {})) or dict.fromkeys(model.industries, 0.5)
        m = (val["lang"] == lg).to_numpy() if len(val) else np.array([], bool)
        if not m.any():
            out[lg] = base
            continue
        y = val.loc[m, list(model.industries)].reset_index(drop=True)
        chosen = best_thresholds(y, proba[m].reset_index(drop=True))
        out[lg] = {ind: (chosen[ind] if y[ind].sum() else base.get(ind, 0.5)) for ind in model.industries}
    return out


def _summary(block: dict, y: pd.DataFrame | None = None, pred: pd.DataFrame | None = None, *,
             n_boot: int = 0, random_state: int = 0) -> dict:
    per = {ind: {k: round(float(v), 4) for k, v in s.items() if k in ("precision", "recall", "f1", "support")}
           for ind, s in block.get("per_industry", {}).items()}
    out = {"n": int(block.get("n", 0)), "macro_f1": round(float(block.get("macro_f1", float("nan"))), 4)}
    if n_boot and y is not None and len(y):
        ci = bootstrap_f1(y, pred, n=n_boot, random_state=random_state)
        out["macro_f1_ci95"] = list(ci["macro"])
        for ind in per:
            per[ind]["f1_ci95"] = list(ci[ind])
    out["per_industry"] = per
    return out


def ranking_diagnostics(y: pd.DataFrame, proba: pd.DataFrame) -> dict:
    """Threshold-free figures of one test: per-industry average precision, and the macro-F1
    the same probabilities would reach with thresholds chosen on the test itself.

    The second is a ceiling for diagnosis only (it tells a weak ranking from badly placed
    thresholds); it is never used to choose the shipped thresholds.

    Examples
    --------
    >>> y = pd.DataFrame({"a": [1, 0, 1, 0]})
    >>> p = pd.DataFrame({"a": [0.9, 0.8, 0.7, 0.1]})
    >>> ranking_diagnostics(y, p)
    {'average_precision': {'a': 0.8333}, 'macro_f1_if_thresholds_chosen_on_test': 0.8}
    """
    from sklearn.metrics import average_precision_score

    present = [ind for ind in proba.columns if int(y[ind].sum())]
    ap = {ind: round(float(average_precision_score(y[ind].astype(int), proba[ind])), 4) for ind in present}
    best = best_thresholds(y[present], proba[present])
    pred = pd.DataFrame({ind: (proba[ind] >= best[ind]).astype(int) for ind in present})
    ceiling = score_predictions(y[present].astype(int), pred)["all"]["macro_f1"] if present else float("nan")
    return {"average_precision": ap, "macro_f1_if_thresholds_chosen_on_test": round(float(ceiling), 4)}


def _confusion(block: dict, split: str, lang: str) -> pd.DataFrame:
    rows = [{"split": split, "lang": lang, "true": t, "predicted": p, "count": int(n)}
            for t, preds in block.get("confusion", {}).items() for p, n in preds.items()]
    return pd.DataFrame(rows, columns=["split", "lang", "true", "predicted", "count"])


def _score(model, test: pd.DataFrame, name: str, *, n_boot: int, random_state: int):
    """Metrics block, confusion rows and per-row predictions of one test frame."""
    test = test.reset_index(drop=True)
    proba, langs = model._proba(test["text"].tolist())
    pred = (proba >= model._thresholds_for(langs)).astype(int)
    y = test[list(model.industries)]
    block = score_predictions(y, pred)["all"]
    summary = _summary(block, y, pred, n_boot=n_boot, random_state=random_state)
    summary.update(ranking_diagnostics(y, proba))
    lang = str(test["lang"].iloc[0]) if len(test) and test["lang"].nunique() == 1 else "all"
    return summary, _confusion(block, name, lang), pred


def holdout_tests(ts: pd.DataFrame, test_rows: pd.DataFrame, kind: str) -> dict[str, pd.DataFrame]:
    """The test frames of one hold-out: title+abstract per language and Chinese titles alone."""
    rec = test_rows[_is_record(test_rows)]
    out = {}
    for lg in ("en", "zh"):
        ta = rec[(rec["lang"] == lg) & rec["has_abstract"]]
        if len(ta):
            out[f"{kind}:{lg}:title+abstract"] = ta
    zh_titles = rec[(rec["lang"] == "zh") & (rec["view"] == "native") & rec["title"].fillna("").str.strip().ne("")]
    if len(zh_titles):
        out[f"{kind}:zh:title"] = zh_titles.assign(text=zh_titles["title"].astype(str))
    en_titles = rec[(rec["lang"] == "en") & ~rec["has_abstract"]]
    if kind == "by_year" and len(en_titles):
        out[f"{kind}:en:title"] = en_titles
    return out


def holdout_splits(ts: pd.DataFrame, holdouts: Sequence[str] = ("exports", "us_grants", "by_year"), *,
                   last_train_year: int = 2019) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The hold-outs of :func:`train` as (training rows, test rows), checked disjoint by record.

    * ``exports``: test = every row (all views) of the Chinese exports with abstracts
      (:data:`EXPORTS_WITH_ABSTRACTS`), train = the rest;
    * ``us_grants``: test = the US grant corpus, train = the rest minus any record that is
      also a test record under another source (USPTO XML spelling);
    * ``by_year``: train = records published up to ``last_train_year`` (and the IPC titles
      and taxonomy texts), test = later records not in training; undated records on neither side.

    Raises
    ------
    AssertionError
        A test record is also a training record (:func:`assert_disjoint`).
    """
    rec = _is_record(ts)
    splits = {}
    if "exports" in holdouts:
        test_src = [s for s in EXPORTS_WITH_ABSTRACTS if (ts["source"] == s).any()]
        if test_src:
            splits["exports"] = (ts[~ts["source"].isin(test_src)], ts[ts["source"].isin(test_src)])
    if "us_grants" in holdouts and (ts["source"] == "uspto_latam").any():
        te = ts[ts["source"] == "uspto_latam"]
        splits["us_grants"] = (ts[(ts["source"] != "uspto_latam") & ~ts["record"].isin(set(te["record"]))], te)
    if "by_year" in holdouts:
        yr = ts["year"].astype("Float64")
        tr = ts[~rec | (yr <= last_train_year).fillna(False)]
        te = ts[rec & (yr > last_train_year).fillna(False)]
        splits["by_year"] = (tr, te[~te["record"].isin(set(tr.loc[_is_record(tr), "record"]))])
    for name, (tr, te) in splits.items():
        assert_disjoint(tr, te, name)
    return splits


def train(patents: pd.DataFrame, classifications: pd.DataFrame, rules, ipc_titles: pd.DataFrame,
          cn_dev: pd.DataFrame, *, latam: pd.DataFrame | None = None, source_labels: pd.DataFrame | None = None,
          random_state: int = 0, model_params: dict | None = None, evaluation: dict | None = None,
          taxonomy=None, progress=None):
    """Fit, evaluate and refit the text classifier.

    Parameters
    ----------
    patents, classifications, source_labels : DataFrame
        Canonical tables.
    rules : RuleSet
    ipc_titles : DataFrame
        :func:`~pipeline.classify.text.load_ipc_titles`.
    cn_dev : DataFrame
        The hand-labelled Chinese dev set.
    latam : DataFrame, optional
        :func:`~pipeline.classify.corpus.read_uspto_latam`.
    model_params : dict
        :class:`~pipeline.classify.text.TextClassifier` options and ``fit_model``
        weights (``title_weight``, ``taxonomy_weight``).
    evaluation : dict
        ``holdouts`` (names among ``exports``, ``us_grants``, ``by_year``),
        ``last_train_year``, ``validation_share``, ``bootstrap``, ``vendor_labels``.
    progress : callable, optional
        Called with a short text before each fit.

    Returns
    -------
    (model, metrics, confusion)
        The model fitted on all training text with per-language thresholds chosen on its
        validation part; the metrics dict; the confusion tables as one long DataFrame.

    Raises
    ------
    pipeline.errors.ConfigError
        ``model_params`` or ``evaluation`` holds an unknown key or a value that cannot be
        used (:func:`check_train_params`), before any fit.
    pipeline.errors.ClassifierInputError
        ``cn_dev`` lacks a column of :data:`DEV_COLUMNS`, before any fit.
    """
    start = time.perf_counter()
    ev = check_train_params(model_params, evaluation)
    _check_dev(cn_dev)
    say = progress or (lambda _msg: None)
    ts = training_frame(patents, classifications, rules, ipc_titles, latam=latam, source_labels=source_labels,
                        taxonomy=taxonomy)
    fit = dict(random_state=random_state, **dict(model_params or {}))
    rec = _is_record(ts)
    metrics: dict = {
        "training_rows": int(len(ts)),
        "training_records": int(ts.loc[rec, "record"].nunique()),
        "training_rows_by_source": {str(k): int(v) for k, v in ts.loc[rec, "source"].value_counts().sort_index().items()},
        "positives_by_industry": {ind: int(ts.loc[rec, ind].sum()) for ind in INDUSTRIES},
        "vendor_labels": ev["vendor_labels"],
    }
    confusion, predictions = [], []
    splits = holdout_splits(ts, ev["holdouts"], last_train_year=int(ev["last_train_year"]))
    if "by_year" in splits:
        metrics["by_year_cut"] = f"train <= {int(ev['last_train_year'])} < test"
    for name, (tr, te) in splits.items():
        fit_part, val = validation_split(tr, share=ev["validation_share"], random_state=random_state)
        say(f"fit {name} ({len(fit_part)} texts)")
        m = fit_model(with_vendor_labels(fit_part, ev["vendor_labels"]), **fit)
        th = language_thresholds(m, val)
        m.set_params(thresholds=th)
        metrics[f"thresholds:{name}"] = th
        for test_name, frame in holdout_tests(ts, te, name).items():
            summary, conf, pred = _score(m, frame, test_name, n_boot=ev["bootstrap"], random_state=random_state)
            metrics[test_name] = summary
            confusion.append(conf)
            predictions.append(_rows(frame, pred, test_name))
            vcols = [f"vendor_{i}" for i in INDUSTRIES]
            if set(vcols) <= set(frame.columns) and frame[vcols[0]].notna().any():
                # The same predictions against incoPat's SEI labels (the second view), where it has them.
                has = frame[vcols[0]].notna().to_numpy()
                vt = frame.loc[has, vcols].astype(int).set_axis(list(INDUSTRIES), axis=1).reset_index(drop=True)
                vb = score_predictions(vt, pred[has].reset_index(drop=True))["all"]
                metrics[f"{test_name}:vs_incopat_sei"] = _summary(vb)
    fit_part, val = validation_split(ts, share=ev["validation_share"], random_state=random_state)
    say(f"fit thresholds of the shipped model ({len(fit_part)} texts)")
    m = fit_model(with_vendor_labels(fit_part, ev["vendor_labels"]), **fit)
    th = language_thresholds(m, val)
    say(f"fit the shipped model ({len(ts)} texts)")
    t0 = time.perf_counter()
    model = fit_model(with_vendor_labels(ts, ev["vendor_labels"]), **fit)
    say(f"fitted in {time.perf_counter() - t0:.0f} s")
    model.set_params(thresholds=th)
    metrics["thresholds"] = th
    for titles_only in (False, True):
        zh = dev_frame(cn_dev, titles_only=titles_only)
        for stratum in sorted(zh["stratum"].unique()):
            part = zh[zh["stratum"] == stratum]
            name = f"zh_dev:{stratum}:{'title' if titles_only else 'title+abstract'}"
            summary, conf, pred = _score(model, part, name, n_boot=ev["bootstrap"], random_state=random_state)
            metrics[name] = summary
            confusion.append(conf)
    return model, metrics, pd.concat(confusion, ignore_index=True), pd.concat(predictions, ignore_index=True)


def run_stage(params: dict, root, *, progress=None) -> dict:
    """The train stage as ``dvc repro`` runs it (``patnav train``): read the canonical
    tables and the reference data of ``train``, fit and evaluate (:func:`train`), write the
    model (``classify.model``), its metrics, confusion table and hold-out predictions.

    A bad option of ``train.model`` / ``train.evaluation`` fails before any data is read.

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.
    progress : callable(str), optional
        Called with a line on each step.

    Returns
    -------
    dict
        ``metrics`` (as written) and the paths ``model``, ``metrics_path``, ``confusion``.
    """
    from .. import io
    from .corpus import read_uspto_latam
    from .rules import load_rules
    from .text import load_ipc_titles, save_model

    tp, cp = params["train"], params["classify"]
    check_train_params(tp.model, tp.evaluation)  # a bad option fails now, not after the data is read
    tables = io.read_tables(root / params["ingest"].out)
    titles = load_ipc_titles(root / tp.ipc_titles_zh, root / tp.ipc_titles_en)
    cn_dev = pd.read_csv(root / tp.cn_dev, dtype={"id": str})
    latam = read_uspto_latam(root / tp.en_text) if tp.en_text else None
    model, metrics, confusion, predictions = train(
        tables["patents"], tables["classifications"], load_rules(root / cp.taxonomy), titles, cn_dev,
        latam=latam, source_labels=tables.get("source_labels"), random_state=tp.random_state,
        model_params=tp.model, evaluation=tp.evaluation, taxonomy=root / cp.taxonomy, progress=progress)
    if tp.label_noise:
        from .evaluation import label_noise_counts

        judged = pd.read_csv(root / tp.label_noise)
        metrics["label_noise"] = {"file": tp.label_noise, **label_noise_counts(judged)}
    path = save_model(model, root / cp.model)
    mpath = io.write_json(metrics, root / tp.metrics)
    cpath = root / tp.confusion
    io.write_export(confusion, cpath, bom=False)
    if tp.predictions:
        io.write_frame(predictions, root / tp.predictions)
    return {"metrics": metrics, "model": path, "metrics_path": mpath, "confusion": cpath}


def _rows(frame: pd.DataFrame, pred: pd.DataFrame, split: str) -> pd.DataFrame:
    """Per-row truth and prediction of a test (for reading disagreements)."""
    out = frame[["id", "record", "source", "lang", "text"]].reset_index(drop=True).copy()
    out.insert(0, "split", split)
    for ind in INDUSTRIES:
        out[f"label_{ind}"] = frame[ind].to_numpy()
        out[f"pred_{ind}"] = pred[ind].to_numpy()
    return out
