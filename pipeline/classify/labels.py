"""Per-patent industry labels: rule labels and text predictions combined and explained.

A patent's label for an industry comes from

* ``rule`` — its IPC/CPC codes match a rule of the taxonomy (confidence 1.0, or
  ``subclass_only_confidence`` when only a bare subclass was known);
* ``text`` — it has no usable codes and the text classifier's probability reaches the
  industry's threshold (confidence = that probability);
* ``both`` — a rule label that the text classifier confirms.

A rule label whose text probability is below ``disagree_below`` keeps its label but is
flagged ``text_disagrees``; a patent with codes but no rule label that the text
classifier puts in an industry is listed with source ``text`` and flag
``codes_disagree`` (for review, not counted by default). Every row says why.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..config import ClassifyParams
from ..errors import ConfigError
from ..frames import isin

__all__ = ["combine_labels", "LABEL_COLUMNS"]

LABEL_COLUMNS = ["pub_id", "industry", "branch", "source", "confidence", "flag", "rule_id", "explanation"]


def combine_labels(
    pub_ids: pd.Series,
    has_codes: pd.Series,
    rule_lbls: pd.DataFrame,
    proba: pd.DataFrame,
    terms: pd.Series,
    params: ClassifyParams,
    thresholds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Combine rule labels and text probabilities into one labels table.

    Parameters
    ----------
    pub_ids : Series
        Every publication to label.
    has_codes : Series of bool
        Aligned with ``pub_ids``: whether the publication has IPC/CPC codes at group
        level (bare subclasses alone do not count).
    rule_lbls : DataFrame
        Output of :func:`pipeline.classify.rules.rule_labels`.
    proba : DataFrame
        Text probabilities, index ``pub_id``, one column per industry (may lack rows
        for publications without text).
    terms : Series
        Index ``pub_id``: the top contributing terms per industry, as text
        (``"nev: battery, charging; it: network"``), for explanations.
    params : ClassifyParams
    thresholds : DataFrame, optional
        Threshold per publication and industry, aligned with ``proba`` (thresholds may
        differ by the text's language, as chosen by the train stage). By default the flat
        ``params.thresholds`` for every row.

    Returns
    -------
    DataFrame
        Columns :data:`LABEL_COLUMNS`, one row per (publication, industry, branch);
        ``branch`` is null for a text-only label (the text model works at industry
        level). Sorted by pub_id, industry, branch.

    Examples
    --------
    >>> rules = pd.DataFrame({"pub_id": ["a"], "industry": ["nev"], "branch": ["nev.components"],
    ...     "rule_id": ["5.2-r1"], "match": ["main_group"], "explanation": ["H01M10/0525 matches H01M10*"]})
    >>> proba = pd.DataFrame({"nev": [0.9, 0.8, 0.7], "it": [0.1, 0.1, 0.1]}, index=["a", "b", "c"])
    >>> out = combine_labels(pd.Series(["a", "b", "c"]), pd.Series([True, False, True]), rules, proba,
    ...     pd.Series(dtype=str), ClassifyParams(thresholds={"nev": 0.5, "it": 0.5}))
    >>> out[["pub_id", "industry", "source", "confidence", "flag"]].values.tolist()
    [['a', 'nev', 'both', 1.0, None], ['b', 'nev', 'text', 0.8, None], ['c', 'nev', 'text', 0.7, 'codes_disagree']]
    """
    pubs = pd.DataFrame({"pub_id": pd.Series(pub_ids).astype("string").values,
                         "has_codes": pd.Series(has_codes).fillna(False).astype(bool).values})
    if thresholds is None:
        given = params.thresholds if isinstance(params.thresholds, Mapping) else {}
        flat = {k: v for k, v in given.items() if not isinstance(v, Mapping)}
        thresholds = pd.DataFrame({c: float(flat.get(c, 1.0)) for c in proba.columns}, index=proba.index)
    industries = list(proba.columns)
    if len(proba):
        long = proba[industries].rename_axis("pub_id").reset_index().melt(
            id_vars="pub_id", var_name="industry", value_name="p")
        long["thr"] = thresholds.reindex(index=proba.index, columns=industries).to_numpy().ravel(order="F")
    else:
        long = pd.DataFrame(columns=["pub_id", "industry", "p", "thr"])
    long["pub_id"] = long["pub_id"].astype("string")
    thr = long["thr"].astype(float)

    # --- rule labels, confirmed or contradicted by the text
    r = rule_lbls.copy()
    r["pub_id"] = r["pub_id"].astype("string")
    r = r.merge(long, on=["pub_id", "industry"], how="left")
    weak = r["match"].eq("subclass_only")
    r["confidence"] = np.where(weak, params.subclass_only_confidence, 1.0)
    confirmed = r["p"].ge(r["thr"].astype(float)).fillna(False)
    r["source"] = np.where(confirmed, "both", "rule")
    r["flag"] = np.where(r["p"].lt(params.disagree_below).fillna(False), "text_disagrees",
                         np.where(weak, "subclass_only", None))
    r["explanation"] = r["explanation"].astype("string") + np.where(
        r["p"].notna(), " | text p=" + r["p"].round(3).astype("string"), "")

    # --- text labels for publications the rules did not place in that industry
    t = long[long["p"].ge(thr)].merge(pubs, on="pub_id", how="inner")
    t = t.merge(r[["pub_id", "industry"]].drop_duplicates(), on=["pub_id", "industry"], how="left", indicator=True)
    t = t[t["_merge"] == "left_only"].drop(columns="_merge")
    t["branch"] = pd.NA
    t["rule_id"] = pd.NA
    t["source"] = "text"
    t["confidence"] = t["p"]
    t["flag"] = np.where(t["has_codes"], "codes_disagree", None)
    why = t["pub_id"].map(terms) if len(terms) else pd.Series(pd.NA, index=t.index)
    t["explanation"] = ("text p=" + t["p"].round(3).astype("string") + "; terms: " + why.astype("string").fillna("-"))

    out = pd.concat([r.reindex(columns=LABEL_COLUMNS), t.reindex(columns=LABEL_COLUMNS)], ignore_index=True)
    out["confidence"] = out["confidence"].astype(float).round(4)
    out["flag"] = out["flag"].astype(object).where(out["flag"].notna(), None)
    out = out.astype({"pub_id": "string", "industry": "string", "branch": "string", "source": "string",
                      "rule_id": "string", "explanation": "string"})
    return out.sort_values(["pub_id", "industry", "branch"], kind="stable", na_position="first").reset_index(drop=True)


def _terms_text(explained: list[dict]) -> list[str]:
    return ["; ".join(f"{ind}: {', '.join(t for t, _ in terms)}" for ind, terms in e.items()) for e in explained]


def patent_texts(patents: pd.DataFrame) -> pd.Series:
    """Title and abstract joined, indexed by ``pub_id`` (what the text model reads)."""
    text = patents["title"].fillna("") + ". " + patents["abstract"].fillna("")
    return pd.Series(text.str.strip(". ").values, index=patents["pub_id"].astype("string").values)


def mark_unmet_conditions(labels: pd.DataFrame, texts: pd.Series, terms: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Flag ``keyword_missing`` on rule labels whose concordance row requires keywords
    (``text_condition: require_keywords``; ``terms`` from
    :func:`pipeline.classify.text.condition_terms`) that the record's text lacks.

    The label stays (the code matched), flagged as doubtful; a record without any text
    cannot be checked and keeps its label unflagged.

    Examples
    --------
    >>> lab = pd.DataFrame({"pub_id": ["a", "b", "c"], "rule_id": ["5.1-r0", "5.1-r0", "5.2-r1"],
    ...                     "flag": pd.Series([None, "text_disagrees", None], dtype=object)})
    >>> texts = pd.Series({"a": "一种电动汽车底盘", "b": "一种窗帘", "c": "一种窗帘"})
    >>> mark_unmet_conditions(lab, texts, {"5.1-r0": ["电动汽车", "electric vehicle"]})["flag"].tolist()
    [None, 'text_disagrees;keyword_missing', None]
    """
    if not terms or labels.empty:
        return labels
    out = labels.copy()
    cond = out["rule_id"].isin(list(terms)).to_numpy(dtype=bool)
    text = out.loc[cond, "pub_id"].map(texts).fillna("").astype(str)
    low = text.str.lower()
    rules_of = out.loc[cond, "rule_id"].astype(str)
    missing = [bool(t) and not any(k.lower() in t for k in terms[r]) for t, r in zip(low, rules_of, strict=True)]
    idx = out.index[cond][np.asarray(missing, dtype=bool)]
    old = out.loc[idx, "flag"]
    out.loc[idx, "flag"] = [f"{f};keyword_missing" if isinstance(f, str) and f else "keyword_missing" for f in old]
    out["flag"] = out["flag"].astype(object).where(out["flag"].notna(), None)
    return out


def mark_off_scope(labels: pd.DataFrame, texts: pd.Series, off_scope: Mapping[str, Mapping[str, Sequence[str]]]
                   ) -> pd.DataFrame:
    """Flag ``off_scope`` on labels of an industry whose text names something the industry
    leaves out (an aircraft for new-energy vehicles) and nothing that keeps it in (a road
    vehicle); ``off_scope`` from :func:`pipeline.classify.text.off_scope_terms`.

    Terms are matched case-insensitively as substrings; an ``unless`` term is looked for in
    the text with the off-scope terms taken out, so "unmanned aerial vehicle" does not count
    as a vehicle. The label stays, flagged as doubtful; a record without text is not flagged.

    Examples
    --------
    >>> lab = pd.DataFrame({"pub_id": ["a", "b", "c", "d"], "industry": ["nev", "nev", "nev", "it"],
    ...                     "flag": [None, None, "subclass_only", None]})
    >>> texts = pd.Series({"a": "多电飞机混合能源管理", "b": "飞行汽车的电池", "c": "An unmanned aerial vehicle battery",
    ...                    "d": "飞机航电软件"})
    >>> oos = {"nev": {"terms": ["飞机", "aerial vehicle"], "unless": ["汽车", "vehicle"]}}
    >>> mark_off_scope(lab, texts, oos)["flag"].tolist()
    ['off_scope', None, 'subclass_only;off_scope', None]
    """
    if not off_scope or labels.empty:
        return labels
    out = labels.copy()
    hit = np.zeros(len(out), dtype=bool)
    for ind, spec in off_scope.items():
        rows = (out["industry"] == ind).to_numpy(dtype=bool)
        terms = [t.lower() for t in spec.get("terms", [])]
        unless = [t.lower() for t in spec.get("unless", [])]
        low = out.loc[rows, "pub_id"].map(texts).fillna("").astype(str).str.lower()
        flagged = []
        for t in low:
            named = [k for k in terms if k in t]
            if named:
                for k in named:
                    t = t.replace(k, " ")
            flagged.append(bool(named) and not any(k in t for k in unless))
        hit[np.flatnonzero(rows)] = flagged
    old = out.loc[hit, "flag"]
    out.loc[hit, "flag"] = [f"{f};off_scope" if isinstance(f, str) and f else "off_scope" for f in old]
    out["flag"] = out["flag"].astype(object).where(out["flag"].notna(), None)
    return out


def label_patents(patents: pd.DataFrame, classifications: pd.DataFrame, rules, model,
                  params: ClassifyParams = ClassifyParams(), *,
                  condition_terms: Mapping[str, Sequence[str]] | None = None,
                  off_scope: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> pd.DataFrame:
    """Labels of every publication: rules on its codes, the text model on its title+abstract.

    Parameters
    ----------
    patents, classifications : DataFrame
        Canonical tables.
    rules : pipeline.classify.rules.RuleSet
    model : pipeline.classify.text.TextClassifier
        Fitted; its own thresholds (chosen by the train stage on validation records) are
        kept when ``params.thresholds == "model"``, else replaced by that mapping.
    condition_terms : mapping, optional
        Rule id → terms, for concordance rows that require keywords
        (:func:`pipeline.classify.text.condition_terms`): see :func:`mark_unmet_conditions`.
    off_scope : mapping, optional
        Industry → off-scope terms (:func:`pipeline.classify.text.off_scope_terms`): see
        :func:`mark_off_scope`.

    Returns
    -------
    DataFrame
        Columns :data:`LABEL_COLUMNS` (see :func:`combine_labels`).
    """
    from .rules import rule_labels

    model = _with_thresholds(model, params)
    texts = patent_texts(patents)
    has_text = texts.str.len() > 0
    proba, langs, explained = model.proba_and_explain(texts[has_text].tolist())
    proba.index = texts[has_text].index
    thr = pd.DataFrame(model._thresholds_for(langs), index=proba.index, columns=proba.columns)
    # Explanations are kept only where a text label can result.
    candidates = (proba >= thr).any(axis=1).to_numpy()
    terms = pd.Series(_terms_text([e for e, c in zip(explained, candidates, strict=True) if c]),
                      index=proba.index[candidates], dtype="string")
    has_codes = pd.Series(isin(patents["pub_id"], classifications.loc[classifications["main_group"].notna(), "pub_id"]),
                          index=patents.index)
    labels = combine_labels(patents["pub_id"], has_codes, rule_labels(classifications, rules), proba, terms, params,
                            thresholds=thr)
    # A concordance row that requires keywords holds only where the text has them.
    labels = mark_unmet_conditions(labels, texts, condition_terms or {})
    return mark_off_scope(labels, texts, off_scope or {})


def _with_thresholds(model, params: ClassifyParams):
    """``model`` with the thresholds of ``params`` (its own with ``"model"``).

    Raises
    ------
    pipeline.errors.ConfigError
        ``classify.thresholds`` is neither ``model`` nor a mapping, names an industry the
        model does not know, or gives a value that is not a probability.
    """
    if isinstance(params.thresholds, str) and params.thresholds == "model":
        return model
    if not isinstance(params.thresholds, Mapping):
        raise ConfigError(f"classify.thresholds: 'model' or a mapping of thresholds, not {params.thresholds!r}")
    model = copy.copy(model).set_params(thresholds=dict(params.thresholds))
    try:
        model.check_params()
    except ConfigError as exc:
        raise ConfigError(f"classify.{exc}") from None
    return model


def classify_list(df: pd.DataFrame, title_col: str, rules, model, params: ClassifyParams = ClassifyParams(),
                  abstract_col: str | None = None, ipc_col: str | None = None, *,
                  title_en_col: str | None = None, abstract_en_col: str | None = None,
                  code_cols: list[str] | None = None, explain: bool = False) -> pd.DataFrame:
    """Classify a list of patents from elsewhere (a title column; abstract and codes optional).

    Parameters
    ----------
    df : DataFrame
        The list, as read (a database export or any table with a title column).
    title_col, abstract_col : str
        Text columns read by the text model (Chinese ones when an export has both).
    ipc_col : str, optional
        A column of IPC/CPC symbols (several per cell, separated by ``;``, ``|``, ``,`` …).
    title_en_col, abstract_en_col : str, optional
        English title / abstract, read when the row has no text in ``title_col`` /
        ``abstract_col``.
    code_cols : list of str, optional
        More code columns (main IPC first, e.g. ``IPC主分类``, ``IPC分类号``, ``CPC``): all
        are read; the first symbol of the first column is the main one.
    explain : bool
        Add ``terms`` (the text model's top terms per industry it predicts, whether or not
        the industry was finally given by the rules) and ``rule`` (the rule that fired
        and on which code, where the row has codes).

    Returns
    -------
    DataFrame
        ``df`` with ``industry``, ``branch``, ``confidence`` and ``reason`` added (several
        labels of one row joined with ``; ``), and with ``explain`` also ``terms`` and
        ``rule``. Rows keep their order.
    """
    from ..ingest.normalize import ipc_main_group, ipc_subclass, normalize_ipc, split_multi
    from .rules import rule_labels

    df = df.reset_index(drop=True)
    ids = pd.Series([f"row{i}" for i in range(len(df))], dtype="string")

    def text(col: str | None, fallback: str | None) -> pd.Series:
        main = df[col].astype("string").fillna("").str.strip() if col else pd.Series("", index=df.index, dtype="string")
        if fallback:
            alt = df[fallback].astype("string").fillna("").str.strip()
            main = main.where(main != "", alt)
        return main.replace("", pd.NA)

    use_en = title_en_col is not None
    title = text(title_col, title_en_col)
    # The abstract in the same language as the title chosen for the row.
    zh_title = df[title_col].astype("string").fillna("").str.strip().ne("") if title_col else \
        pd.Series(False, index=df.index)
    abstract = text(abstract_col, None)
    if use_en or abstract_en_col:
        en_abs = text(abstract_en_col, None)
        abstract = abstract.where(zh_title, en_abs) if abstract_col else en_abs.where(~zh_title, abstract)
    patents = pd.DataFrame({"pub_id": ids, "title": title, "abstract": abstract})
    cols = [c for c in [*(code_cols or []), ipc_col] if c]
    cols = list(dict.fromkeys(cols))
    frames = []
    for k, col in enumerate(cols):
        pieces = split_multi(df[col].astype("string"), seps=r";;|;|；|\||,|，")
        if pieces.empty:
            continue
        sym = normalize_ipc(pieces.reset_index(drop=True))
        rows = pieces.index.get_level_values("row")
        frames.append(pd.DataFrame({"pub_id": ids.iloc[rows].values, "scheme": "CPC" if "cpc" in col.lower() else "IPC",
                                    "symbol": sym.values, "seq": k * 10_000 + pieces.index.get_level_values("seq")}))
    if frames:
        cls = pd.concat(frames, ignore_index=True).dropna(subset=["symbol"])
        cls = cls.sort_values(["pub_id", "seq"], kind="stable").drop_duplicates(["pub_id", "scheme", "symbol"])
        cls["subclass"], cls["main_group"] = ipc_subclass(cls["symbol"]), ipc_main_group(cls["symbol"])
        cls["is_main"] = ~cls["pub_id"].duplicated()
    else:
        cls = pd.DataFrame(columns=["pub_id", "scheme", "symbol", "seq", "subclass", "main_group", "is_main"])
    labels = label_patents(patents, cls, rules, model, params)
    labels = labels[labels["flag"].fillna("") != "codes_disagree"]
    g = labels.groupby("pub_id", sort=False)
    joined = pd.DataFrame({
        "industry": g["industry"].agg(lambda s: "; ".join(dict.fromkeys(s))),
        "branch": g["branch"].agg(lambda s: "; ".join(dict.fromkeys(s.dropna()))),
        "confidence": g["confidence"].max(),
        "reason": g["explanation"].agg(lambda s: " || ".join(s)),
    })
    out = df.copy()
    for col in joined.columns:
        out[col] = ids.map(joined[col]).values
    if explain:
        texts = patent_texts(patents)
        m = _with_thresholds(model, params)
        terms = pd.Series(_terms_text(m.explain(texts.tolist())), index=texts.index, dtype="string")
        out["terms"] = ids.map(terms.replace("", pd.NA)).values
        rl = rule_labels(cls, rules)
        fired = rl.groupby("pub_id", sort=False).apply(
            lambda d: "; ".join(f"{b} by {r} on {sym}" for b, r, sym in zip(d["branch"], d["rule_id"], d["symbol"],
                                                                            strict=True)), include_groups=False) \
            if len(rl) else pd.Series(dtype="string")
        out["rule"] = ids.map(fired).values
    return out
