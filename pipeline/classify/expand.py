"""Landscape expansion: seeds → expansion by citations and shared codes → pruning.

The seed / anti-seed method of Abood & Feltenberger ("Automated patent landscaping",
*Artificial Intelligence and Law* 26, 2018):

1. **Seeds** — the project's search strategy: listed publications, keywords found in
   title/abstract, and classification patterns (same syntax as the taxonomy rules:
   ``H01M10*``, ``B60L*``, ``G06F9/44``).
2. **Expansion** — level 1: publications carrying a code that is frequent among the
   seeds (main groups held by at least ``code_min_share`` of them) and publications
   citing or cited by a seed; level 2: publications citing or cited by level 1.
3. **Anti-seeds** — a random sample of the database outside the expansion: what the
   landscape is *not*.
4. **Pruning** — a text model trained on seeds (1) against anti-seeds (0) scores the
   expansion; candidates below ``prune_threshold`` are dropped. Seeds always stay.

:func:`precision_recall` then estimates precision and recall of the final set on a
labelled sample, as GB/T 39551 asks of a search.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..config import ExpandParams
from ..project import SearchStrategy

__all__ = ["seed_set", "expand", "anti_seeds", "prune", "landscape_set",
           "precision_recall"]


def _code_match(classifications: pd.DataFrame, patterns: tuple[str, ...]) -> pd.Series:
    """Publication ids whose symbols match any pattern (``X*`` = group/subclass and below)."""
    if not patterns or classifications.empty:
        return pd.Series([], dtype="string")
    # A bare subclass ("B60L") means the whole subclass, as "B60L*" does.
    star = [p.rstrip("*") for p in patterns if p.endswith("*") or len(p) == 4]
    exact = [p for p in patterns if not p.endswith("*") and len(p) != 4]
    sub, main, sym = classifications["subclass"], classifications["main_group"], classifications["symbol"]
    hit = sym.isin(exact) | sub.isin(star) | main.isin(star)
    return classifications.loc[hit, "pub_id"].drop_duplicates()


def seed_set(patents: pd.DataFrame, classifications: pd.DataFrame, search: SearchStrategy) -> pd.Series:
    """Seed publications of a search strategy, sorted.

    Keywords match title or abstract case-insensitively (literal text, Chinese or
    English); codes match with the taxonomy's wildcard semantics (a bare subclass
    ``B60L`` counts as ``B60L*``); listed seeds are kept
    when they are in the database.
    """
    ids = [pd.Series(list(search.seeds), dtype="string")]
    if search.keywords:
        text = (patents["title"].fillna("") + " " + patents["abstract"].fillna("")).str.lower()
        hit = pd.Series(False, index=patents.index)
        for kw in search.keywords:
            hit |= text.str.contains(kw.lower(), regex=False)
        ids.append(patents.loc[hit, "pub_id"])
    ids.append(_code_match(classifications, tuple(search.codes)))
    seeds = pd.concat(ids, ignore_index=True).astype("string")
    seeds = seeds[seeds.isin(patents["pub_id"])]
    return seeds.drop_duplicates().sort_values().reset_index(drop=True)


def _neighbours(ids: pd.Series, citations: pd.DataFrame) -> pd.Series:
    c = citations.dropna(subset=["resolved_pub_id"])
    fwd = c.loc[c["resolved_pub_id"].isin(ids), "pub_id"]        # publications citing the set
    back = c.loc[c["pub_id"].isin(ids), "resolved_pub_id"]       # publications the set cites
    return pd.concat([fwd, back]).astype("string").drop_duplicates()


def expand(seeds: pd.Series, classifications: pd.DataFrame, citations: pd.DataFrame,
           params: ExpandParams = ExpandParams()) -> pd.DataFrame:
    """Expansion of the seeds by frequent shared codes and citation links.

    Returns
    -------
    DataFrame
        ``pub_id``, ``level`` (0 seed, 1, 2 …), ``via`` (``seed``, ``code``,
        ``citation``); each publication at its lowest level, sorted by level, pub_id.

    Examples
    --------
    >>> cls = pd.DataFrame({"pub_id": ["s1", "s2", "x", "y"], "symbol": ["H01M10/05", "H01M10/06", "H01M10/07", "A01B1/00"],
    ...     "subclass": ["H01M", "H01M", "H01M", "A01B"], "main_group": ["H01M10", "H01M10", "H01M10", "A01B1"]})
    >>> cit = pd.DataFrame({"pub_id": ["y", "z"], "resolved_pub_id": ["s1", "y"]})
    >>> expand(pd.Series(["s1", "s2"]), cls, cit, ExpandParams(code_min_share=0.5)).values.tolist()
    [['s1', 0, 'seed'], ['s2', 0, 'seed'], ['x', 1, 'code'], ['y', 1, 'citation'], ['z', 2, 'citation']]
    """
    seeds = pd.Series(seeds, dtype="string").drop_duplicates()
    parts = [pd.DataFrame({"pub_id": seeds, "level": 0, "via": "seed"})]
    if len(seeds):
        held = classifications[classifications["pub_id"].isin(seeds)].dropna(subset=["main_group"])
        share = held.drop_duplicates(["pub_id", "main_group"])["main_group"].value_counts() / len(seeds)
        frequent = share[share >= params.code_min_share].index
        by_code = classifications.loc[classifications["main_group"].isin(frequent), "pub_id"].drop_duplicates()
        parts.append(pd.DataFrame({"pub_id": by_code, "level": 1, "via": "code"}))
        frontier = seeds
        for level in range(1, params.citation_levels + 1):
            frontier = _neighbours(frontier, citations)
            parts.append(pd.DataFrame({"pub_id": frontier, "level": level, "via": "citation"}))
    out = pd.concat(parts, ignore_index=True).astype({"pub_id": "string", "level": int, "via": "string"})
    # Lowest level wins; at equal level a code link is listed before a citation link.
    out = out.sort_values(["pub_id", "level", "via"], kind="stable").drop_duplicates("pub_id")
    return out.sort_values(["level", "pub_id"], kind="stable").reset_index(drop=True)


def anti_seeds(universe: pd.Series, expanded: pd.Series, n: int, random_state: int = 0) -> pd.Series:
    """A seeded random sample of ``n`` publications outside the expansion."""
    outside = pd.Series(universe, dtype="string")
    outside = outside[~outside.isin(expanded)].drop_duplicates().sort_values()
    n = min(n, len(outside))
    return outside.sample(n=n, random_state=random_state).sort_values().reset_index(drop=True)


def prune(candidates: pd.Series, texts: pd.Series, seeds: pd.Series, anti: pd.Series,
          params: ExpandParams = ExpandParams()) -> pd.DataFrame:
    """Score candidates with a seed-vs-anti-seed text model; keep those above the threshold.

    Parameters
    ----------
    texts : Series
        Title + abstract indexed by ``pub_id``.

    Returns
    -------
    DataFrame
        ``pub_id``, ``p`` (probability of belonging to the landscape), ``keep``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = texts.fillna("")
    train_ids = pd.concat([pd.Series(seeds, dtype="string"), pd.Series(anti, dtype="string")], ignore_index=True)
    y = np.r_[np.ones(len(seeds)), np.zeros(len(anti))]
    cand = pd.Series(candidates, dtype="string").reset_index(drop=True)
    if len(set(y)) < 2 or cand.empty:
        p = np.ones(len(cand))  # nothing to learn the boundary from: keep everything, say so via p = 1
    else:
        # Character n-grams work for Chinese and English alike, without a tokenizer.
        model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=1, sublinear_tf=True, max_features=200_000),
            LogisticRegression(max_iter=1000, class_weight="balanced", random_state=params.random_state),
        )
        model.fit(texts.reindex(train_ids).fillna("").values, y)
        p = model.predict_proba(texts.reindex(cand).fillna("").values)[:, 1]
    out = pd.DataFrame({"pub_id": cand, "p": np.round(p, 4)})
    out["keep"] = out["p"] >= params.prune_threshold
    return out


def landscape_set(patents, classifications, citations, search: SearchStrategy,
                  params: ExpandParams = ExpandParams()) -> pd.DataFrame:
    """The whole method: seeds, expansion, anti-seeds, pruning.

    Returns
    -------
    DataFrame
        One row per expanded publication: ``pub_id``, ``level``, ``via``, ``p``,
        ``in_set`` (seeds always; others when kept by the pruning model).
    """
    seeds = seed_set(patents, classifications, search)
    exp = expand(seeds, classifications, citations, params)
    anti = anti_seeds(patents["pub_id"], exp["pub_id"], int(max(len(seeds), 1) * params.anti_seed_factor),
                      params.random_state)
    texts = (patents["title"].fillna("") + " " + patents["abstract"].fillna("")).set_axis(patents["pub_id"])
    cands = exp.loc[exp["level"] > 0, "pub_id"]
    scored = prune(cands, texts, seeds, anti, params)
    out = exp.merge(scored, on="pub_id", how="left")
    out["p"] = out["p"].fillna(1.0)
    out["in_set"] = (out["level"] == 0) | out["keep"].fillna(False).astype(bool)
    return out.drop(columns="keep")


def precision_recall(in_set: pd.Series, sample: pd.DataFrame) -> dict:
    """Precision and recall of a patent set on a labelled sample.

    Parameters
    ----------
    in_set : Series of pub_id
        The final set.
    sample : DataFrame
        ``pub_id`` and ``relevant`` (0/1): a sample judged by hand (or a proxy such as
        code-derived labels — the caller says which).

    Returns
    -------
    dict
        ``precision`` = relevant ∩ set / set (within the sample), ``recall`` =
        relevant ∩ set / relevant, with the counts they rest on.

    Examples
    --------
    >>> s = pd.DataFrame({"pub_id": list("abcde"), "relevant": [1, 1, 0, 1, 0]})
    >>> precision_recall(pd.Series(["a", "c", "x"]), s)
    {'precision': 0.5, 'recall': 0.3333, 'sample': 5, 'in_set': 2, 'relevant': 3, 'true_positives': 1}
    """
    s = sample.assign(hit=sample["pub_id"].isin(pd.Series(in_set)))
    tp = int((s["hit"] & (s["relevant"] == 1)).sum())
    n_set, n_rel = int(s["hit"].sum()), int((s["relevant"] == 1).sum())
    return {
        "precision": round(tp / n_set, 4) if n_set else float("nan"),
        "recall": round(tp / n_rel, 4) if n_rel else float("nan"),
        "sample": len(s), "in_set": n_set, "relevant": n_rel, "true_positives": tp,
    }
