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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ClassifyParams", "combine_labels", "LABEL_COLUMNS"]

LABEL_COLUMNS = ["pub_id", "industry", "branch", "source", "confidence", "flag", "rule_id", "explanation"]


@dataclass(frozen=True)
class ClassifyParams:
    """Tunables of the classify stage (``params.yaml``, section ``classify``)."""

    thresholds: dict = field(default_factory=lambda: {"it": 0.5, "manufacturing": 0.5, "biomedicine": 0.5, "nev": 0.5})
    subclass_only_confidence: float = 0.5
    disagree_below: float = 0.05


def combine_labels(
    pub_ids: pd.Series,
    has_codes: pd.Series,
    rule_lbls: pd.DataFrame,
    proba: pd.DataFrame,
    terms: pd.Series,
    params: ClassifyParams,
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
    industries = [c for c in proba.columns if c in params.thresholds]
    long = proba[industries].rename_axis("pub_id").reset_index().melt(
        id_vars="pub_id", var_name="industry", value_name="p") if len(proba) else pd.DataFrame(columns=["pub_id", "industry", "p"])
    long["pub_id"] = long["pub_id"].astype("string")
    thr = long["industry"].map(params.thresholds).astype(float)

    # --- rule labels, confirmed or contradicted by the text
    r = rule_lbls.copy()
    r["pub_id"] = r["pub_id"].astype("string")
    r = r.merge(long, on=["pub_id", "industry"], how="left")
    weak = r["match"].eq("subclass_only")
    r["confidence"] = np.where(weak, params.subclass_only_confidence, 1.0)
    r_thr = r["industry"].map(params.thresholds).astype(float)
    confirmed = r["p"].ge(r_thr).fillna(False)
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
