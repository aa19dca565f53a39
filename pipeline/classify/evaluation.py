"""Evaluation of the text classifier: honest hold-outs, reliability, thresholds, label noise.

Pure functions over the frames they are given (no I/O). The train stage
(:mod:`pipeline.classify.train`, ``patnav train``) calls them and writes the figures to
``metrics/train.json``; ``docs/classification.md`` explains them.

Hold-outs never split random rows: real records are held out by **source** (train on
some sources, test on another) or by **year** (train up to a year, test after it), and
all views of a record (its Chinese and English text) stay on one side. IPC titles and
taxonomy keywords always stay in training — they are the vocabulary of the
classification, not patents to predict. Thresholds are chosen on validation records of
the training side (:func:`best_thresholds`), never on a test set.

Label noise is measured, not assumed: :func:`draw_disagreements` draws (record,
industry) pairs where a hold-out prediction and the code-derived label differ; the
project's judgements of them by reading live in ``pipeline/data/label_noise.csv`` and
:func:`label_noise_counts` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from .text import INDUSTRIES, TextClassifier, _scores_block, evaluate

__all__ = [
    "holdout_by_source",
    "holdout_by_year",
    "fit_model",
    "oof_probabilities",
    "best_thresholds",
    "cross_fitted_thresholds",
    "reliability",
    "bootstrap_f1",
    "score_predictions",
    "scores_table",
    "draw_disagreements",
    "label_noise_counts",
]

TITLES = "ipc_titles"


def _real(ts: pd.DataFrame) -> pd.Series:
    return ~ts["source"].isin([TITLES, "taxonomy"])


def holdout_by_source(ts: pd.DataFrame, test_sources: Sequence[str], *,
                      test_years: tuple[int, int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on every other source (and the IPC titles); test on ``test_sources``.

    ``test_years`` (inclusive) narrows the test records to those publication years;
    records of the test sources outside it are left out of both sides.
    """
    is_test = ts["source"].isin(test_sources)
    if test_years is not None:
        yr = ts["year"].astype("Float64")
        in_years = (yr >= test_years[0]) & (yr <= test_years[1])
        test = ts[is_test & in_years.fillna(False)]
    else:
        test = ts[is_test]
    train = ts[~is_test]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def holdout_by_year(ts: pd.DataFrame, last_train_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on real records published up to ``last_train_year`` (and the IPC titles);
    test on those published later. Records without a year are left out."""
    yr = ts["year"].astype("Float64")
    real = _real(ts)
    train = ts[~real | (yr <= last_train_year).fillna(False)]
    test = ts[real & (yr > last_train_year).fillna(False)]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def fit_model(train: pd.DataFrame, *, title_weight: float = 1.0, taxonomy_weight: float = 10.0,
              **params) -> TextClassifier:
    """Fit a :class:`TextClassifier` on a training frame of :func:`build_training_set`
    (optionally with :func:`~pipeline.classify.text.taxonomy_texts` appended).

    IPC titles get ``title_weight`` and taxonomy texts ``taxonomy_weight`` (10: the ~800
    keyword texts would otherwise vanish among 154k titles; it lifted Chinese macro-F1 on
    the dev set from 0.34 to 0.5-0.6 and left English unchanged); real records weigh 1 and
    alone fit the Platt calibration.
    """
    industries = params.pop("industries", INDUSTRIES)
    model = TextClassifier(industries=industries, **params)
    real = _real(train).to_numpy()
    weight = np.select([train["source"] == TITLES, train["source"] == "taxonomy"], [title_weight, taxonomy_weight], 1.0)
    return model.fit(train["text"].tolist(), train[list(industries)], sample_weight=weight, calibrate_on=real)


def oof_probabilities(train: pd.DataFrame, *, folds: int = 3, random_state: int = 0, **params) -> pd.DataFrame:
    """Out-of-fold probabilities of the real training records (IPC titles always train).

    Used to choose thresholds without touching the test set.
    """
    industries = list(params.get("industries", INDUSTRIES))
    real_idx = np.flatnonzero(_real(train).to_numpy())
    out = pd.DataFrame(np.nan, index=train.index[real_idx], columns=industries)
    for _, held in KFold(folds, shuffle=True, random_state=random_state).split(real_idx):
        rows = real_idx[held]
        keep = np.ones(len(train), dtype=bool)
        keep[rows] = False
        m = fit_model(train[keep], random_state=random_state, **params)
        out.loc[train.index[rows]] = m.predict_proba(train["text"].iloc[rows].tolist()).to_numpy()
    return out


def best_thresholds(y: pd.DataFrame, proba: pd.DataFrame, *, grid: Sequence[float] | None = None) -> dict:
    """Per industry, the threshold maximising F1 of ``proba`` against ``y``.

    Ties go to the threshold closest to 0.5; an industry without positives keeps 0.5.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3) if grid is None else np.asarray(grid)
    out = {}
    for ind in proba.columns:
        t = y[ind].to_numpy().astype(int)
        p = proba[ind].to_numpy()
        if t.sum() == 0:
            out[ind] = 0.5
            continue
        f1 = []
        for g in grid:
            pred = p >= g
            tp = (pred & (t == 1)).sum()
            denom = pred.sum() + t.sum()
            f1.append(2 * tp / denom if denom else 0.0)
        f1 = np.array(f1)
        best = np.flatnonzero(f1 == f1.max())
        out[ind] = float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])
    return out


def cross_fitted_thresholds(y: pd.DataFrame, proba: pd.DataFrame, *, folds: int = 2,
                            random_state: int = 0) -> tuple[pd.DataFrame, list[dict]]:
    """Predictions whose thresholds were chosen on the *other* folds of a labelled set.

    For a language without records to calibrate on (Chinese), thresholds can only come
    from a small hand-labelled set; this tells what such thresholds give on records they
    were not chosen on.

    Returns
    -------
    (predictions, thresholds per fold)
    """
    pred = pd.DataFrame(0, index=proba.index, columns=proba.columns)
    chosen = []
    idx = np.arange(len(proba))
    for fit_i, apply_i in KFold(folds, shuffle=True, random_state=random_state).split(idx):
        th = best_thresholds(y.iloc[fit_i], proba.iloc[fit_i])
        chosen.append(th)
        part = proba.iloc[apply_i]
        pred.iloc[apply_i] = (part >= pd.Series(th)[part.columns].to_numpy()).astype(int).to_numpy()
    return pred, chosen


def reliability(y: pd.DataFrame, proba: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Reliability table: per industry and probability bin, mean predicted vs observed.

    Also the Brier score and expected calibration error (ECE) per industry, in rows
    with ``bin == "all"``.
    """
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    for ind in proba.columns:
        p = proba[ind].to_numpy()
        t = y[ind].to_numpy().astype(float)
        ece = 0.0
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            m = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
            if m.any():
                ece += m.mean() * abs(p[m].mean() - t[m].mean())
                rows.append({"industry": ind, "bin": f"{lo:.1f}-{hi:.1f}", "n": int(m.sum()),
                             "mean_predicted": round(float(p[m].mean()), 3), "observed": round(float(t[m].mean()), 3)})
        rows.append({"industry": ind, "bin": "all", "n": len(p), "mean_predicted": round(float(p.mean()), 3),
                     "observed": round(float(t.mean()), 3), "brier": round(float(np.mean((p - t) ** 2)), 4),
                     "ece": round(float(ece), 4)})
    return pd.DataFrame(rows)


def bootstrap_f1(y: pd.DataFrame, pred: pd.DataFrame, *, n: int = 1000, random_state: int = 0) -> dict:
    """95 % percentile bootstrap intervals of per-industry F1 and macro-F1 (rows resampled)."""
    rng = np.random.default_rng(random_state)
    inds = list(pred.columns)
    Y, P = y[inds].to_numpy().astype(bool), pred[inds].to_numpy().astype(bool)
    stats = []
    for _ in range(n):
        i = rng.integers(0, len(Y), len(Y))
        tp = (Y[i] & P[i]).sum(0)
        denom = Y[i].sum(0) + P[i].sum(0)
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), np.nan)
        has = Y[i].sum(0) > 0
        stats.append([*f1, np.nanmean(np.where(has, f1, np.nan)) if has.any() else np.nan])
    s = np.array(stats, dtype=float)
    lo, hi = np.nanpercentile(s, 2.5, axis=0), np.nanpercentile(s, 97.5, axis=0)
    return {k: (round(float(a), 3), round(float(b), 3)) for k, a, b in zip([*inds, "macro"], lo, hi, strict=True)}


def score_predictions(y: pd.DataFrame, pred: pd.DataFrame, *, lang: str = "all") -> dict:
    """:func:`~pipeline.classify.text.evaluate`'s result for predictions made elsewhere
    (e.g. with thresholds cross-fitted on the test set itself)."""
    inds = list(pred.columns)
    return {lang: _scores_block(y.reset_index(drop=True), pred.reset_index(drop=True), inds)}


def scores_table(result: dict, lang: str = "all") -> pd.DataFrame:
    """The per-industry block of :func:`pipeline.classify.text.evaluate` as a table."""
    block = result[lang]
    df = pd.DataFrame(block["per_industry"]).T[["precision", "recall", "f1", "support", "tp", "fp", "fn"]]
    df.loc["macro"] = [np.nan, np.nan, block["macro_f1"], np.nan, np.nan, np.nan, np.nan]
    return df


evaluate = evaluate  # re-exported for drivers: one import


def draw_disagreements(predictions: pd.DataFrame, *, n: int = 100, random_state: int = 0,
                       industries: Sequence[str] = INDUSTRIES) -> pd.DataFrame:
    """A random sample of (record, industry) pairs where the prediction and the label differ.

    Parameters
    ----------
    predictions : DataFrame
        Rows of hold-out tests with ``label_<industry>`` and ``pred_<industry>`` columns
        (the train stage's ``train.predictions`` output), already narrowed to the tests and
        language to draw from.
    n : int
        Pairs drawn (all of them if fewer), without replacement.

    Returns
    -------
    DataFrame
        ``split``, ``id``, ``record``, ``lang``, ``industry``, ``label`` (code-derived),
        ``predicted`` and ``text``, in draw order.

    Examples
    --------
    >>> p = pd.DataFrame({"split": "s", "id": ["a", "b"], "record": ["a", "b"], "lang": "en", "text": ["x", "y"],
    ...                   "label_it": [1, 0], "pred_it": [0, 0], "label_nev": [0, 0], "pred_nev": [1, 0]})
    >>> draw_disagreements(p, industries=["it", "nev"])[["id", "industry", "label", "predicted"]].values.tolist()
    [['a', 'it', 1, 0], ['a', 'nev', 0, 1]]
    """
    rows = []
    for ind in industries:
        d = predictions[predictions[f"label_{ind}"] != predictions[f"pred_{ind}"]]
        rows.append(pd.DataFrame({"split": d["split"], "id": d["id"], "record": d["record"], "lang": d["lang"],
                                  "industry": ind, "label": d[f"label_{ind}"].astype(int),
                                  "predicted": d[f"pred_{ind}"].astype(int), "text": d["text"]}))
    pairs = pd.concat(rows, ignore_index=True).sort_values(["split", "id", "industry"], kind="stable")
    pairs = pairs.reset_index(drop=True)
    rng = np.random.default_rng(random_state)
    take = rng.permutation(len(pairs))[: min(n, len(pairs))]
    return pairs.iloc[take].reset_index(drop=True)


def label_noise_counts(judged: pd.DataFrame) -> dict:
    """Counts of the judgements of drawn disagreements, per language.

    ``judged`` has ``lang``, ``label``, ``predicted`` and ``judgement`` (``label_error``:
    the code-derived label is wrong for what the text claims; ``model_error``: the label
    is right and the model wrong; ``unclear``).

    Examples
    --------
    >>> j = pd.DataFrame({"lang": ["en", "en", "en", "zh"], "label": [1, 0, 1, 0], "predicted": [0, 1, 0, 1],
    ...                   "judgement": ["label_error", "model_error", "label_error", "unclear"]})
    >>> label_noise_counts(j)["en"]
    {'drawn': 3, 'label_error': 2, 'model_error': 1, 'unclear': 0, 'label_error_share': 0.6667, 'label_error_when_label_positive': 2, 'label_error_when_label_negative': 0}
    """
    out = {}
    for lang, g in judged.groupby("lang", sort=True):
        counts = g["judgement"].value_counts()
        le = g["judgement"] == "label_error"
        out[str(lang)] = {
            "drawn": int(len(g)),
            **{k: int(counts.get(k, 0)) for k in ("label_error", "model_error", "unclear")},
            "label_error_share": round(float(le.mean()), 4),
            "label_error_when_label_positive": int((le & (g["label"] == 1)).sum()),
            "label_error_when_label_negative": int((le & (g["label"] == 0)).sum()),
        }
    return out
