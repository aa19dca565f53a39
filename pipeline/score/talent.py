"""Talent analysis (GB/T 39551.6): disambiguated inventors, their metrics, and recruits.

Three pure functions over canonical tables:

* :func:`disambiguate_inventors` — which inventor mentions (``parties`` rows with role
  ``inventor``) are the same person;
* :func:`inventor_metrics` — one row per inventor: productivity, value, citation impact,
  co-inventor network position, technology breadth, mobility, region;
* :func:`talent_candidates` — strong inventors outside the project region in the branches
  where the region is weak (talent introduction, 人才引进).

Disambiguation rules
--------------------
1. **Name key** (:func:`name_key`). Unicode NFKC first (full-width → half-width).
   A name with a CJK ideograph keeps only its letters and digits, case-folded: ``张 三``,
   ``张　三`` and ``欧阳·娜娜`` → ``张三`` / ``欧阳娜娜``. Any other name is
   decomposed (NFKD) and its diacritics dropped (``José`` → ``jose``), case-folded,
   apostrophes removed (``O'Brien`` → ``obrien``), split into tokens on every other
   punctuation or space (``Chien-Yuan`` → ``chien yuan``), suffixes ``jr sr ii iii iv``
   dropped, and single-letter tokens (middle initials) dropped when two longer tokens
   remain; the key is the remaining tokens **sorted**, so ``SMITH, JOHN A``,
   ``John A. Smith`` and ``John Smith`` share the key ``john smith``. The price: the
   order-insensitive key also merges ``Li Wang`` with ``Wang Li`` and ``John A Smith``
   with ``John B Smith`` at the key level — the linking rules below must then join
   them. A full middle name (``John Michael Smith``) gives a different key.
   Chinese ↔ pinyin matching (``张三`` ↔ ``Zhang San``) is out of scope: it needs a
   romanisation table and is ambiguous for common surnames; such mentions stay apart.
2. **Links**. Two mentions with the same name key are linked when they share any
   enabled feature (``rules``):

   * ``same_patent`` — the same publication (a name listed twice on one patent);
   * ``family`` — publications of the same ``patents.family_id`` (the CN and US
     members of one invention list the same inventors);
   * ``applicant`` — an applicant group: the ``name_norm`` of an applicant/assignee of
     the patent, leaving out applicants whose name key is an inventor's of that patent
     (US inventors filing in their own name would otherwise link every namesake who
     does the same);
   * ``coinventor`` — a co-inventor with the same name key;
   * ``location`` — the inventor's own address: ``country`` + ``city``, or
     ``country`` + ``province`` when no city is known (a bare country never links);
   * ``source_id`` — the same ``source_party_id``.

   Inventors are the connected components of the mention × mention link graph
   (:func:`scipy.sparse.csgraph.connected_components`). The graph is built with
   ``groupby`` joins: every mention is linked to the first mention sharing its
   (name key, feature) pair, which has the same components as the full clique. Name
   keys and feature values are integer codes (each rule's codes kept apart), so the
   grouping never joins strings.
3. **Trusted source ids.** When *every* mention of a name key carries a
   ``source_party_id`` (PatentsView's disambiguated ``inventor_id``), that
   disambiguation is trusted instead of the rules: the mentions are grouped by the
   source id alone (``rule`` = ``source_id``). When only some mentions carry one, the
   shared id is just one more link feature.
4. **Ids.** ``inventor_id`` = ``"inv:" + name key + ":" + smallest pub_id`` of the
   component (``"#" + seq`` of that first mention appended in the rare case that two
   components of one key start on the same patent). Ids depend on the data, not on the
   row order: shuffled input gives the same ids.

A mention whose name has no letter or digit gets ``rule`` = ``unusable_name`` and no
inventor id; it is kept in the output so that nothing disappears silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache, partial

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import TalentInputError
from ..frames import join_by, sorted_codes
from ..places import Region, in_region
from ..schema import filing_date, require_columns

__all__ = [
    "RULES",
    "name_key",
    "disambiguate_inventors",
    "inventor_metrics",
    "talent_candidates",
    "teams",
]

RULES = ("same_patent", "family", "applicant", "coinventor", "location", "source_id")
MENTION_COLUMNS = ["pub_id", "seq", "inventor_id", "name_key", "rule"]
METRIC_COLUMNS = [
    "inventor_id", "name", "name_key", "patents", "families", "first_year", "last_year",
    "high_value", "citations_5y", "citations_5y_mean", "co_inventors", "degree_centrality",
    "betweenness", "eigenvector", "industries", "branches", "n_branches", "applicants",
    "mobility", "switches", "country", "province", "city", "district",
]
_APPLICANT_ROLES = ("applicant", "assignee")
_LOCATION = ["country", "province", "city", "district"]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_TOKEN = re.compile(r"[^\W_]+")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


# ------------------------------------------------------------------------- name keys


def name_key(name) -> str | None:
    """Comparison key of a person's name (rule 1 of the module docstring).

    Parameters
    ----------
    name : str or None

    Returns
    -------
    str or None
        ``None`` when the name has no letter or digit.

    Examples
    --------
    >>> name_key("张 三"), name_key("张　三"), name_key("欧阳·娜娜")
    ('张三', '张三', '欧阳娜娜')
    >>> name_key("SMITH, JOHN A."), name_key("John A Smith"), name_key("José  Núñez-Díaz")
    ('john smith', 'john smith', 'diaz jose nunez')
    >>> name_key("O'Brien, Pat Jr.") , name_key("--") is None
    ('obrien pat', True)
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return None
    text = unicodedata.normalize("NFKC", str(name))
    if _CJK.search(text):
        key = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").casefold()
        return key or None
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    tokens = [t for t in _TOKEN.findall(_APOSTROPHES.sub("", text)) if t not in _SUFFIXES]
    full = [t for t in tokens if len(t) > 1]
    if len(full) >= 2:
        tokens = full
    return " ".join(sorted(tokens)) or None


@lru_cache(maxsize=1 << 20)
def _cached_key(name: str) -> str | None:
    # The same inventor names are keyed by the rules, the employer filter and the metrics.
    return name_key(name)


def _keys(names: pd.Series) -> pd.Series:
    """:func:`name_key` of every name: once per distinct name, taken back by integer code."""
    # Factorised as they are (Arrow strings: a dictionary encoding), not as Python objects.
    codes, uniq = pd.factorize(pd.Series(names))
    table = np.array([_cached_key(v) for v in uniq] + [None], dtype=object)  # code -1 (null) → None
    return pd.Series(table[codes], index=names.index, dtype="string")


# -------------------------------------------------------------------- disambiguation


_require = partial(require_columns, error=TalentInputError)


def _str(s: pd.Series) -> pd.Series:
    """Stripped strings with blanks as NA."""
    s = s.astype("string").str.strip()
    return s.mask(s == "")


def _rows(parties: pd.DataFrame, mask, columns: Iterable[str]) -> pd.DataFrame:
    """The ``mask`` rows of those ``columns`` that ``parties`` has: filtering only the
    columns a step reads is much cheaper on a table of millions of Arrow-string rows.

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": ["P1", "P2"], "role": ["inventor", "applicant"], "note": ["x", "y"]})
    >>> _rows(p, p["role"] == "inventor", ["pub_id", "city"]).to_dict("list")
    {'pub_id': ['P1']}
    """
    return parties.loc[np.asarray(mask, dtype=bool), [c for c in dict.fromkeys(columns) if c in parties.columns]]


def _arrow_text(s) -> pa.Array:
    """``s`` as one Arrow ``large_string`` array (nulls stay null).

    Examples
    --------
    >>> _arrow_text(pd.Series(["a", None], dtype="string")).to_pylist()
    ['a', None]
    """
    arr = pa.array(pd.Series(s).astype("string"), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _empty_mentions() -> pd.DataFrame:
    return pd.DataFrame({
        "pub_id": pd.Series(dtype="string"), "seq": pd.Series(dtype="Int64"),
        "inventor_id": pd.Series(dtype="string"), "name_key": pd.Series(dtype="string"),
        "rule": pd.Series(dtype="string"),
    })


def _applicant_names(parties: pd.DataFrame) -> pd.DataFrame:
    """``pub_id``, ``applicant`` (name_norm, else name_raw), ``rank`` (applicants first)."""
    p = _rows(parties, parties["role"].isin(_APPLICANT_ROLES), ["pub_id", "role", "seq", "name_norm", "name_raw",
                                                                 *_LOCATION])
    name = _str(p["name_norm"]) if "name_norm" in p.columns else pd.Series(pd.NA, index=p.index, dtype="string")
    name = name.fillna(_str(p["name_raw"]).str.upper())
    rank = (p["role"] == "assignee").astype(np.int64) * 1_000_000 + p["seq"].astype("Int64").fillna(0).astype(np.int64)
    out = pd.DataFrame({"pub_id": _str(p["pub_id"]), "applicant": name, "rank": rank})
    out = out.dropna(subset=["pub_id", "applicant"])
    for c in _LOCATION:
        out[c] = _str(p[c]) if c in p.columns else pd.Series(pd.NA, index=p.index, dtype="string")
    return out.reset_index(drop=True)


def _employers(apps: pd.DataFrame, parties: pd.DataFrame) -> pd.DataFrame:
    """Applicant rows that are not an inventor of the same patent (self-filing inventors,
    common in US applications, say nothing about an employer)."""
    inv = _rows(parties, parties["role"] == "inventor", ["pub_id", "name_raw"])
    own = pd.DataFrame({"pub_id": _str(inv["pub_id"]), "k": _keys(inv["name_raw"].astype("string"))}).dropna()
    k = _keys(apps["applicant"])
    # (patent, name key) pairs as one integer each: codes over both tables at once (Arrow
    # dictionary encoding of the strings), matched by hashing.
    both = lambda a, b: pd.concat([a.astype("string"), b.astype("string")], ignore_index=True)  # noqa: E731
    pub = pd.factorize(both(apps["pub_id"], own["pub_id"]))[0].astype(np.int64)
    key, uniq = pd.factorize(both(k, own["k"]))
    key = key.astype(np.int64)
    pair = pub * (len(uniq) + 1) + key
    a = len(apps)
    hit = (key[:a] >= 0) & (pub[:a] >= 0) & pd.Series(pair[:a]).isin(pair[a:]).to_numpy()
    return apps[~hit].reset_index(drop=True)


def _betweenness(adj: sp.csr_matrix, exact_max: int, k: int, seed: int) -> np.ndarray:
    """Normalised betweenness of an undirected graph (igraph's C implementation).

    Betweenness is additive over connected components: components of at most
    ``exact_max`` nodes are solved exactly, all in one call on their disjoint union;
    each larger component from ``k`` sampled sources (seeded), scaled by
    ``size / k`` as networkx's ``betweenness_centrality(k=…)`` does. Everything is
    scaled by the whole graph's 2 / ((n − 1)(n − 2)), as networkx normalises.
    Components of fewer than three nodes and complete components (one patent's team)
    are all zeros.
    """
    import igraph as ig

    n = adj.shape[0]
    out = np.zeros(n)
    if n < 3 or adj.nnz == 0:
        return out
    _, lab = connected_components(adj, directed=False)
    sizes = np.bincount(lab)
    edges = np.bincount(lab, weights=np.diff(adj.indptr).astype(float)) / 2
    todo = (sizes >= 3) & (edges < sizes * (sizes - 1) / 2)
    if not todo.any():
        return out
    scale = 2.0 / ((n - 1) * (n - 2))

    def graph_of(nodes: np.ndarray) -> ig.Graph:
        sub = sp.triu(adj[nodes][:, nodes], k=1).tocoo()
        return ig.Graph(n=len(nodes), edges=np.column_stack([sub.row, sub.col]).tolist(), directed=False)

    small = np.flatnonzero(todo[lab] & (sizes[lab] <= exact_max))
    if len(small):
        out[small] = np.asarray(graph_of(small).betweenness(directed=False)) * scale
    rng = np.random.default_rng(seed)
    for c in np.flatnonzero(todo & (sizes > exact_max)):
        nodes = np.flatnonzero(lab == c)
        kk = min(int(k), len(nodes))
        sources = np.sort(rng.choice(len(nodes), kk, replace=False))
        # igraph's subset betweenness with every node a source equals the full value,
        # so k sampled sources estimate it after scaling by size / k.
        b = np.asarray(graph_of(nodes).betweenness(directed=False, sources=sources.tolist()))
        out[nodes] = b * (len(nodes) / kk) * scale
    return out


def disambiguate_inventors(
    parties: pd.DataFrame,
    patents: pd.DataFrame | None = None,
    *,
    rules: Iterable[str] = RULES,
) -> pd.DataFrame:
    """Group inventor mentions into inventors by the rules of the module docstring.

    Parameters
    ----------
    parties : DataFrame
        Canonical ``parties`` table (at least ``pub_id``, ``role``, ``seq``,
        ``name_raw``; ``name_norm``, the address columns and ``source_party_id`` are
        used when present).
    patents : DataFrame, optional
        Canonical ``patents`` (``pub_id``, ``family_id``) for the ``family`` rule.
    rules : iterable of str
        Link rules to use, a subset of :data:`RULES`.

    Returns
    -------
    DataFrame
        One row per inventor mention, sorted by ``pub_id``, ``seq``: ``pub_id``,
        ``seq``, ``inventor_id``, ``name_key``, ``rule`` (``source_id``, ``linked``,
        ``singleton`` or ``unusable_name``).

    Raises
    ------
    TalentInputError
        On a missing column, an unknown rule, or two inventor rows with the same
        ``pub_id`` and ``seq``.

    Examples
    --------
    >>> parties = pd.DataFrame({
    ...     "pub_id": ["P1", "P1", "P2", "P2", "P3"],
    ...     "role": ["inventor"] * 5,
    ...     "seq": [0, 1, 0, 1, 0],
    ...     "name_raw": ["王伟", "李娜", "王 伟", "李娜", "王伟"],
    ... })
    >>> disambiguate_inventors(parties)[["pub_id", "inventor_id", "rule"]]
      pub_id inventor_id       rule
    0     P1   inv:王伟:P1     linked
    1     P1   inv:李娜:P1     linked
    2     P2   inv:王伟:P1     linked
    3     P2   inv:李娜:P1     linked
    4     P3   inv:王伟:P3  singleton
    """
    rules = tuple(rules)
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise TalentInputError(f"unknown disambiguation rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    _require(parties, ["pub_id", "role", "seq", "name_raw"], "parties")
    inv = _rows(parties, parties["role"] == "inventor",
                ["pub_id", "seq", "name_raw", "source_party_id", "country", "province", "city"])
    if len(inv) == 0:
        return _empty_mentions()
    m = pd.DataFrame({
        "pub_id": _str(inv["pub_id"]),
        "seq": inv["seq"].astype("Int64"),
        "name_key": _keys(inv["name_raw"].astype("string")),
        "sid": _str(inv["source_party_id"]) if "source_party_id" in inv.columns
        else pd.Series(pd.NA, index=inv.index, dtype="string"),
    })
    for c in ("country", "province", "city"):
        m[c] = _str(inv[c]) if c in inv.columns else pd.Series(pd.NA, index=inv.index, dtype="string")
    dup = m.duplicated(["pub_id", "seq"], keep=False)
    if dup.any():
        first = m[dup].iloc[0]
        raise TalentInputError(f"parties: {int(dup.sum())} inventor rows share pub_id and seq, "
                               f"e.g. pub_id {first.pub_id!r} seq {first.seq}; de-duplicate parties first")
    m = m.sort_values(["pub_id", "seq"], kind="mergesort").reset_index(drop=True)
    n = len(m)
    m["idx"] = np.arange(n, dtype=np.int64)
    ok = m["name_key"].notna()
    mk = m[ok]

    if "source_id" in rules:
        trusted_key = mk["sid"].isna().groupby(mk["name_key"]).transform("sum").eq(0).astype(bool)
    else:
        trusted_key = pd.Series(False, index=mk.index)
    feats = []
    n_feats = 0

    def add(frame: pd.DataFrame, prefix: str) -> None:
        # Each rule's values as integer codes, offset past the previous rules' codes, so a
        # value of one rule never meets the same text of another (as the prefix says).
        nonlocal n_feats
        frame = frame.dropna()
        # Only which mentions share a value matters, not the codes' order: the strings are
        # factorised as they are (Arrow dictionary encoding), not as Python objects.
        codes, uniq = pd.factorize(frame["v"].astype(str))
        feats.append(pd.DataFrame({"idx": frame["idx"].to_numpy(np.int64), "feat": codes.astype(np.int64) + n_feats}))
        n_feats += len(uniq)

    if "source_id" in rules:
        add(mk[["idx", "sid"]].rename(columns={"sid": "v"}), "s:")
    rk = mk[~trusted_key]  # mentions decided by the rules
    if "same_patent" in rules:
        add(rk[["idx", "pub_id"]].rename(columns={"pub_id": "v"}), "p:")
    if "family" in rules and patents is not None and len(rk):
        _require(patents, ["pub_id", "family_id"], "patents")
        fam = pd.DataFrame({"pub_id": _str(patents["pub_id"]), "v": _str(patents["family_id"])}).dropna()
        add(rk[["idx", "pub_id"]].merge(fam.drop_duplicates(), on="pub_id")[["idx", "v"]], "f:")
    if "applicant" in rules and len(rk):
        app = _employers(_applicant_names(parties), parties)
        app = app[["pub_id", "applicant"]].drop_duplicates().rename(columns={"applicant": "v"})
        add(rk[["idx", "pub_id"]].merge(app, on="pub_id")[["idx", "v"]], "a:")
    if "coinventor" in rules and len(rk):
        pairs = rk[["idx", "pub_id", "name_key"]].merge(
            mk[["pub_id", "name_key"]].rename(columns={"name_key": "v"}), on="pub_id")
        add(pairs.loc[pairs["v"] != pairs["name_key"], ["idx", "v"]], "c:")
    if "location" in rules and len(rk):
        country = rk["country"].fillna("")
        loc = ("city|" + country + "|" + rk["city"]).fillna("prov|" + country + "|" + rk["province"])
        add(pd.DataFrame({"idx": rk["idx"], "v": loc}), "l:")

    if feats:
        f = pd.concat(feats, ignore_index=True)
        key_code = pd.factorize(m["name_key"].to_numpy(dtype=object, na_value=None))[0].astype(np.int64)
        # Link each mention to the first mention holding the same (name key, feature):
        # one integer per pair, grouped without string joins.
        pair = key_code[f["idx"].to_numpy()] * max(n_feats, 1) + f["feat"].to_numpy()
        codes = pd.factorize(pair)[0]
        idx = f["idx"].to_numpy(np.int64)
        first_of = np.full(int(codes.max()) + 1 if len(codes) else 0, n, dtype=np.int64)
        np.minimum.at(first_of, codes, idx)  # the smallest mention of each pair
        root = first_of[codes]
        src, dst = f["idx"].to_numpy(np.int64), root
    else:
        src = dst = np.empty(0, dtype=np.int64)
    graph = sp.coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)

    # The first (smallest) row of each component: where each label first appears.
    labels_seen, first_row = np.unique(label, return_index=True)
    first = first_row[np.searchsorted(labels_seen, label)]
    size = np.bincount(label, minlength=n)[label]
    # "inv:" + key + ":" + first pub_id, as whole-column string operations; nulls spelt as
    # str() spells them ("<NA>"), as the id always was.
    key = m["name_key"].astype("string").fillna("<NA>")
    pub = m["pub_id"].astype("string").fillna("<NA>").take(first).reset_index(drop=True)
    inv_id = ("inv:" + key.reset_index(drop=True) + ":" + pub).astype("string")
    # Two components of one key starting on the same patent (possible only with trusted
    # source ids or without the same_patent rule): tell them apart by the first seq.
    id_code = pd.factorize(inv_id)[0].astype(np.int64)
    starts = np.unique(id_code * n + first)  # distinct (id, first row) pairs
    clash = np.bincount(starts // n, minlength=int(id_code.max()) + 1 if n else 0)[id_code] > 1
    if clash.any():
        seqs = m["seq"].to_numpy()[first]
        inv_id = inv_id.where(~clash, inv_id + "#" + pd.Series(seqs.astype(str), dtype="string"))
    rule = np.where(size > 1, "linked", "singleton").astype(object)
    rule[trusted_key.reindex(m.index, fill_value=False).astype(bool).to_numpy()] = "source_id"
    rule[~ok.to_numpy()] = "unusable_name"
    inv_id = inv_id.mask(~ok.to_numpy())
    return pd.DataFrame({
        "pub_id": m["pub_id"], "seq": m["seq"], "inventor_id": inv_id.astype("string"),
        "name_key": m["name_key"], "rule": pd.Series(rule, dtype="string"),
    })


# ------------------------------------------------------------------------- metrics


def _hier_mode(rows: pd.DataFrame, key: str, levels: list[str]) -> pd.DataFrame:
    """Most frequent value per ``key`` level by level, each level within the chosen parent.

    Ties go to the alphabetically first value. Runs on integer codes (``key`` must be an
    integer column): per level one count of (key, value) pairs and one sort, no joins.

    Returns
    -------
    DataFrame
        ``key`` (in order of first appearance) and one column per level (NA where the
        key has no value at that level within the chosen parents).

    Examples
    --------
    >>> rows = pd.DataFrame({"k": [0, 0, 0, 1], "a": ["x", "y", "y", None], "b": ["p", "q", "r", "s"]},
    ...                     dtype="string").astype({"k": int})
    >>> _hier_mode(rows, "k", ["a", "b"]).values.tolist()
    [[0, 'y', 'q'], [1, <NA>, <NA>]]
    """
    k = rows[key].to_numpy(np.int64)
    out = rows[[key]].drop_duplicates().reset_index(drop=True)
    keys, kc = np.unique(k, return_inverse=True)
    alive = np.ones(len(rows), bool)  # rows within the chosen parents so far
    for lev in levels:
        col = rows[lev]
        codes, uniq = pd.factorize(col)
        uniq = np.asarray(uniq, dtype=object)
        perm = np.argsort(uniq, kind="stable")
        rank = np.empty(len(perm), dtype=np.int64)
        rank[perm] = np.arange(len(perm))
        vc = np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else -1, -1)
        sel = alive & (vc >= 0)
        pair, n = np.unique(kc[sel] * max(len(uniq), 1) + vc[sel], return_counts=True)
        pk, pv = pair // max(len(uniq), 1), pair % max(len(uniq), 1)
        # per key: the highest count, then the smallest value
        o = np.lexsort((pv, -n, pk))
        first = np.ones(len(o), bool)
        first[1:] = pk[o][1:] != pk[o][:-1]
        best = np.full(len(keys), -2, dtype=np.int64)
        best[pk[o][first]] = pv[o][first]
        alive &= vc == best[kc]
        chosen = best[np.searchsorted(keys, out[key].to_numpy(np.int64))]
        vals = np.where(chosen >= 0, uniq[perm][np.maximum(chosen, 0)] if len(uniq) else None, None)
        out[lev] = pd.Series(vals, dtype=col.dtype)
    return out


def _eigenvector(adj: sp.csr_matrix) -> np.ndarray:
    """Unit-norm principal eigenvector of a symmetric adjacency (zeros if no edge)."""
    n = adj.shape[0]
    if n == 0 or adj.nnz == 0:
        return np.zeros(n)
    if n <= 500:
        _, vecs = np.linalg.eigh(adj.toarray().astype(float))
        v = vecs[:, -1]
    else:
        from scipy.sparse.linalg import eigsh

        _, vecs = eigsh(adj.astype(float), k=1, which="LA", v0=np.ones(n))
        v = vecs[:, 0]
    v = np.abs(v)
    v[v < 1e-12] = 0.0
    return v / np.linalg.norm(v)


def inventor_metrics(
    mentions: pd.DataFrame,
    patents: pd.DataFrame,
    *,
    scores: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
    parties: pd.DataFrame | None = None,
    as_of=None,
    betweenness_exact_max: int = 2000,
    betweenness_k: int = 500,
    random_state: int = 0,
) -> pd.DataFrame:
    """Per-inventor talent metrics.

    Only mentions of patents in ``patents`` (and filed up to ``as_of``) count; a patent
    is counted once per inventor even if the name is listed twice.

    Parameters
    ----------
    mentions : DataFrame
        Output of :func:`disambiguate_inventors`.
    patents : DataFrame
        Canonical ``patents``: ``pub_id``; filing date from ``app_date``, else
        ``earliest_priority_date``, else ``pub_date``; ``family_id`` when present.
    scores : DataFrame, optional
        ``pub_id``, ``high_value`` (bool, from :func:`pipeline.score.value.cnipa_high_value`),
        ``forward_5y`` (from :func:`pipeline.score.indicators.patent_indicators`) — the
        two outputs merged on ``pub_id``. Without it the value and citation columns are
        NA; a patent missing from it counts as not high-value and uncited-unknown.
    labels : DataFrame, optional
        ``pub_id``, ``industry``, ``branch`` (classify stage).
    parties : DataFrame, optional
        Canonical ``parties``: raw name spellings, applicants (mobility) and addresses
        (region). Without it ``name`` is the name key and those columns are NA.
    as_of : int or date-like, optional
        Count only patents filed on or before this date (a year means its 31 December).
    betweenness_exact_max, betweenness_k, random_state : int
        Betweenness is exact up to ``betweenness_exact_max`` inventors; above, it is
        estimated from ``betweenness_k`` sampled sources
        (``networkx.betweenness_centrality(k=..., seed=random_state)``).

    Returns
    -------
    DataFrame
        One row per inventor, sorted by ``inventor_id``, columns :data:`METRIC_COLUMNS`:

        * ``name`` — most frequent raw spelling (ties: alphabetically first);
        * ``patents`` / ``families`` — distinct publications / families;
        * ``first_year`` / ``last_year`` — filing years;
        * ``high_value`` — patents with ``scores.high_value``; ``citations_5y`` /
          ``citations_5y_mean`` — sum / mean of ``forward_5y`` over scored patents;
        * ``co_inventors`` — distinct co-inventors (the degree in the co-inventor
          graph, computed with :mod:`scipy.sparse`); ``degree_centrality`` = degree /
          (n − 1); ``betweenness`` (normalised, unweighted); ``eigenvector`` (unit norm,
          unweighted; zero outside the component holding the leading eigenvalue);
        * ``industries`` / ``branches`` — ``;``-joined sorted labels; ``n_branches``;
        * ``applicants`` — the first applicant (else assignee) group of each patent, as
          ``NAME first–last year`` in order of first filing; ``mobility`` — distinct
          groups; ``switches`` — changes of group between consecutive patents in
          filing order (ties by ``pub_id``);
        * ``country`` … ``district`` — most frequent place of the inventor's own address
          (else the first applicant with an address) of each patent, chosen level by
          level (the city is the most frequent within the chosen province).

    Raises
    ------
    TalentInputError
        On a missing column.

    Examples
    --------
    >>> mentions = pd.DataFrame({"pub_id": ["P1", "P1", "P2"], "seq": [0, 1, 0],
    ...                          "inventor_id": ["inv:a", "inv:b", "inv:a"]})
    >>> patents = pd.DataFrame({"pub_id": ["P1", "P2"],
    ...                         "app_date": pd.to_datetime(["2015-03-01", "2019-05-01"])})
    >>> inventor_metrics(mentions, patents)[["inventor_id", "patents", "first_year", "last_year", "co_inventors"]]
      inventor_id  patents  first_year  last_year  co_inventors
    0       inv:a        2        2015       2019             1
    1       inv:b        1        2015       2015             1
    """
    _require(mentions, ["pub_id", "seq", "inventor_id"], "mentions")
    _require(patents, ["pub_id"], "patents")
    pat = pd.DataFrame({"pub_id": _str(patents["pub_id"]), "date": filing_date(patents)["date"]})
    pat["family"] = _str(patents["family_id"]).fillna(pat["pub_id"]) if "family_id" in patents.columns else pat["pub_id"]
    pat = pat.dropna(subset=["pub_id"]).drop_duplicates("pub_id")
    if as_of is not None:
        cutoff = pd.Timestamp(int(as_of), 12, 31) if isinstance(as_of, (int, np.integer)) else pd.Timestamp(as_of)
        pat = pat[pat["date"].notna() & (pat["date"] <= cutoff)]
    pat = pat.reset_index(drop=True)
    # Patents and inventors become integer codes (``pc``, ``iid``): every join and
    # group-by below runs on integers, not on Arrow strings.
    n_pat = len(pat)
    # Looked up by Arrow's hash kernel: no Python string object per id (pub_id is unique).
    pub_set = _arrow_text(pat["pub_id"])

    def pub_code(ids: pd.Series) -> np.ndarray:
        return pac.index_in(_arrow_text(ids), value_set=pub_set).fill_null(-1).to_numpy().astype(np.int64)

    men = pd.DataFrame({"pub_id": _str(mentions["pub_id"]), "seq": mentions["seq"].astype("Int64"),
                        "inventor_id": _str(mentions["inventor_id"])}).dropna(subset=["inventor_id"])
    men["pc"] = pub_code(men["pub_id"])
    men = men[men["pc"] >= 0]
    key_of = None
    if "name_key" in mentions.columns:
        k = mentions.dropna(subset=["inventor_id"]).drop_duplicates("inventor_id")
        key_of = pd.Series(k["name_key"].astype("string").to_numpy(), index=k["inventor_id"].astype(str).to_numpy())
    ip = men[["inventor_id", "pub_id", "pc"]].drop_duplicates(["inventor_id", "pc"]).reset_index(drop=True)
    pc = ip["pc"].to_numpy(np.int64)
    ip["date"] = pat["date"].to_numpy()[pc]
    ip["family"] = pat["family"].to_numpy(dtype=object, na_value=None)[pc]
    del pat  # its columns are in ``ip`` now; less held at the applicants' join below (the peak)
    # Inventor codes in sorted id order (hash, then sort the distinct ids only).
    iid, inv_ids = sorted_codes(ip["inventor_id"])
    ip["iid"] = iid
    men["iid"] = pac.index_in(_arrow_text(men["inventor_id"]), value_set=_arrow_text(pd.Series(inv_ids))) \
        .fill_null(-1).to_numpy().astype(np.int64)
    n = len(inv_ids)
    every = np.arange(n)

    def per_inventor(values: pd.Series, dtype: str) -> pd.Series:
        """A result indexed by inventor code as a column of ``out`` (NA where absent)."""
        # NaN of a float result is NA, as before; astype is vectorised (no object detour).
        return pd.Series(values.reindex(every).astype(dtype).array)

    out = pd.DataFrame({"inventor_id": pd.Series(np.asarray(inv_ids, dtype=object), dtype="string")})
    out["name_key"] = pd.Series(key_of.reindex(np.asarray(inv_ids, dtype=object)).to_numpy(dtype=object, na_value=pd.NA),
                                dtype="string") if key_of is not None \
        else pd.Series(pd.NA, index=out.index, dtype="string")
    out["patents"] = pd.array(np.bincount(iid, minlength=n), dtype="Int64")
    fam_code = pd.factorize(ip["family"].to_numpy(dtype=object))[0]
    del ip["family"], key_of  # a Python string per row: counted, no longer needed
    fam_pairs = pd.DataFrame({"i": iid, "f": fam_code}).drop_duplicates()
    out["families"] = pd.array(np.bincount(fam_pairs["i"].to_numpy(), minlength=n), dtype="Int64")
    years = ip["date"].dt.year
    out["first_year"] = per_inventor(years.groupby(iid).min(), "Int64")
    out["last_year"] = per_inventor(years.groupby(iid).max(), "Int64")

    # Names: most frequent raw spelling.
    out["name"] = out["name_key"]
    if parties is not None and n:
        _require(parties, ["pub_id", "role", "seq", "name_raw"], "parties")
        pi = _rows(parties, parties["role"] == "inventor", ["pub_id", "seq", "name_raw", *_LOCATION])
        raw = pd.DataFrame({"pc": pub_code(_str(pi["pub_id"])), "seq": pi["seq"].astype("Int64"),
                            "name_raw": _str(pi["name_raw"])})
        for c in _LOCATION:
            raw[c] = _str(pi[c]) if c in pi.columns else pd.Series(pd.NA, index=pi.index, dtype="string")
        raw = raw[raw["pc"] >= 0]
        named = men[["iid", "pc", "seq"]].merge(raw, on=["pc", "seq"])
        counts = named.groupby(["iid", "name_raw"]).size().reset_index(name="_n")
        best = counts.sort_values(["iid", "_n", "name_raw"], ascending=[True, False, True]) \
            .drop_duplicates("iid").set_index("iid")["name_raw"]
        out["name"] = per_inventor(best, "string").fillna(out["name_key"])
        del pi, raw, counts, best  # ``named`` stays for the region below
    del men

    # Value and citation impact.
    if scores is not None:
        _require(scores, ["pub_id", "high_value", "forward_5y"], "scores")
        sc = pd.DataFrame({"pub_id": _str(scores["pub_id"]),
                           "hv": scores["high_value"].astype("boolean").fillna(False).astype(np.int64),
                           "fw": pd.to_numeric(scores["forward_5y"], errors="coerce")}).drop_duplicates("pub_id")
        at = pub_code(sc["pub_id"])
        scored, hv_p, fw_p = np.zeros(n_pat, bool), np.zeros(n_pat, np.int64), np.full(n_pat, np.nan)
        scored[at[at >= 0]] = True
        hv_p[at[at >= 0]] = sc["hv"].to_numpy(np.int64)[at >= 0]
        fw_p[at[at >= 0]] = sc["fw"].to_numpy(dtype=float, na_value=np.nan)[at >= 0]
        rows = scored[pc]
        out["high_value"] = pd.array(np.bincount(iid[rows], weights=hv_p[pc][rows], minlength=n).astype(np.int64),
                                     dtype="Int64")
        fw = pd.Series(fw_p[pc][rows]).groupby(iid[rows])
        out["citations_5y"] = per_inventor(fw.sum(min_count=1), "Float64")
        out["citations_5y_mean"] = per_inventor(fw.mean(), "Float64")
    else:
        out["high_value"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
        out["citations_5y"] = pd.Series(pd.NA, index=out.index, dtype="Float64")
        out["citations_5y_mean"] = pd.Series(pd.NA, index=out.index, dtype="Float64")

    # Co-inventor network: undirected, unweighted, one node per inventor. Inventors ×
    # patents incidence times its transpose links every pair sharing a patent.
    inc = sp.csr_matrix((np.ones(len(ip)), (iid, pc)), shape=(n, n_pat))
    co = (inc @ inc.T).tocoo()
    keep = co.row != co.col
    adj = sp.coo_matrix((np.ones(int(keep.sum())), (co.row[keep], co.col[keep])), shape=(n, n)).tocsr()
    adj.data[:] = 1.0  # binary adjacency
    deg = np.diff(adj.indptr)
    out["co_inventors"] = pd.array(deg, dtype="Int64")
    out["degree_centrality"] = pd.array(deg / (n - 1) if n > 1 else np.zeros(n), dtype="Float64")
    out["betweenness"] = pd.array(_betweenness(adj, betweenness_exact_max, betweenness_k, random_state),
                                  dtype="Float64")
    out["eigenvector"] = pd.array(_eigenvector(adj), dtype="Float64")
    del inc, co, keep, adj

    # Technology breadth.
    out["industries"] = out["branches"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["n_branches"] = pd.Series(0, index=out.index, dtype="Int64")
    if labels is not None:
        _require(labels, ["pub_id", "industry", "branch"], "labels")
        lab = pd.DataFrame({"pc": pub_code(_str(labels["pub_id"])), "industry": _str(labels["industry"]),
                            "branch": _str(labels["branch"])})
        lb = ip[["iid", "pc"]].merge(lab[lab["pc"] >= 0], on="pc")
        for col in ("industries", "branches"):
            src = "industry" if col == "industries" else "branch"
            u = lb[["iid", src]].dropna().drop_duplicates().sort_values(["iid", src])
            out[col] = per_inventor(join_by(u["iid"], u[src], ";"), "string")
            if col == "branches":
                out["n_branches"] = per_inventor(u.groupby("iid").size(), "Int64").fillna(0)
        del lab, lb, u

    # Mobility and region (need parties).
    out["applicants"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["mobility"] = pd.Series(0 if parties is not None else pd.NA, index=out.index, dtype="Int64")
    out["switches"] = pd.Series(0 if parties is not None else pd.NA, index=out.index, dtype="Int64")
    for c in _LOCATION:
        out[c] = pd.Series(pd.NA, index=out.index, dtype="string")
    if parties is not None and n:
        apps = _applicant_names(parties).sort_values(["pub_id", "rank"], kind="mergesort")
        apps["pc"] = pub_code(apps["pub_id"])
        # Region (own address per patent, else the first applicant with an address) first:
        # its rows (``named``, the applicants' addresses) go before the applicants' text
        # join below, the stage's memory peak.
        own = named[named[_LOCATION].notna().any(axis=1)].drop_duplicates(["iid", "pc"])
        located = apps[apps[_LOCATION].notna().any(axis=1) & (apps["pc"] >= 0)].drop_duplicates("pub_id")
        via_app = ip[["iid", "pc"]].merge(located[["pc", *_LOCATION]], on="pc")
        pair = lambda d: d["iid"].to_numpy(np.int64) * n_pat + d["pc"].to_numpy(np.int64)  # noqa: E731
        via_app = via_app[~pd.Series(pair(via_app)).isin(pair(own)).to_numpy()]  # hashed, not sorted
        places = pd.concat([own[["iid", *_LOCATION]], via_app[["iid", *_LOCATION]]], ignore_index=True)
        del named, own, located, via_app
        if len(places):
            mode = _hier_mode(places, "iid", _LOCATION).set_index("iid")
            for c in _LOCATION:
                out[c] = per_inventor(mode[c], "string")
            del mode
        del places
        apps = apps[["pub_id", "applicant", "pc"]]  # the addresses are done with
        first_app = _employers(apps, parties).drop_duplicates("pub_id")[["pc", "applicant"]]
        del apps
        seq_ = ip[["iid", "pub_id", "pc", "date"]].merge(first_app[first_app["pc"] >= 0], on="pc") \
            .sort_values(["iid", "date", "pub_id"], na_position="last")
        del first_app
        if len(seq_):
            grp = seq_.groupby("iid")
            out["mobility"] = per_inventor(grp["applicant"].nunique(), "Int64").fillna(0)
            changed = (seq_["applicant"] != grp["applicant"].shift()) & grp.cumcount().gt(0)
            out["switches"] = per_inventor(changed.groupby(seq_["iid"]).sum(), "Int64").fillna(0)
            del grp, changed
            yr = seq_.assign(year=seq_["date"].dt.year)
            span = yr.groupby(["iid", "applicant"]).agg(
                first=("date", "min"), y0=("year", "min"), y1=("year", "max")).reset_index()
            del yr, seq_
            span = span.sort_values(["iid", "first", "applicant"], na_position="last")
            y0, y1 = span["y0"].astype("Int64").astype("string"), span["y1"].astype("Int64").astype("string")
            yrs = y0.where(y0 == y1, y0 + "–" + y1).fillna("")
            span["txt"] = (span["applicant"] + " " + yrs).str.strip()
            del y0, y1, yrs
            span = span[["iid", "txt"]]
            out["applicants"] = per_inventor(join_by(span["iid"], span["txt"], "; ", unique=False, sort=False),
                                             "string")
            del span
    return out[METRIC_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------- candidates


def talent_candidates(
    metrics: pd.DataFrame,
    region: Region | str,
    weak_branches: Iterable[str],
    *,
    top: int = 20,
    include_unknown_region: bool = False,
) -> pd.DataFrame:
    """Strong inventors outside ``region`` active in branches where the region is weak.

    Ranking (a lexicographic score, best first): ``high_value`` patents, then
    ``citations_5y``, then ``patents``, then ``inventor_id`` (deterministic ties); NA
    counts as 0. The metrics are the inventor's whole portfolio, not only the weak
    branches.

    Parameters
    ----------
    metrics : DataFrame
        Output of :func:`inventor_metrics`.
    region : Region or str
        The project region (a string goes through :func:`pipeline.places.parse_region`).
    weak_branches : iterable of str
        Branch ids (``nev.components``) where the region is weak.
    top : int
        How many candidates to return.
    include_unknown_region : bool
        Keep inventors whose region is unknown (they cannot be shown to be outside).

    Returns
    -------
    DataFrame
        ``rank``, the metric columns, and ``weak_branches`` (the matched ones, ``;``-joined).

    Examples
    --------
    >>> m = pd.DataFrame({"inventor_id": ["a", "b", "c"], "high_value": [1, 3, 5],
    ...     "citations_5y": [0.0, 2.0, 9.0], "patents": [2, 4, 6],
    ...     "branches": ["nev.battery", "nev.battery;it.ai", "nev.battery"],
    ...     "country": ["CN", "CN", "CN"], "province": ["广东省", "江苏省", "重庆市"],
    ...     "city": ["深圳市", "苏州市", "重庆市"], "district": [None, None, "江北区"]})
    >>> talent_candidates(m, Region("重庆市", "province", "CN", "重庆市"), ["nev.battery"])[["rank", "inventor_id"]]
       rank inventor_id
    0     1           b
    1     2           a
    """
    need = ["inventor_id", "high_value", "citations_5y", "patents", "branches", *_LOCATION]
    _require(metrics, need, "metrics")
    if int(top) < 0:
        raise TalentInputError(f"top must be >= 0, got {top}")
    weak = {str(b).strip() for b in weak_branches if b is not None and str(b).strip()}
    df = metrics.reset_index(drop=True).copy()
    if df.empty or not weak:
        return df.iloc[0:0].assign(rank=pd.Series(dtype="Int64"), weak_branches=pd.Series(dtype="string"))[
            ["rank", *df.columns, "weak_branches"]]
    outside = ~in_region(df, region)
    if not include_unknown_region:
        outside &= df["country"].notna().to_numpy()
    br = _str(df["branches"]).fillna("").str.split(";").explode()
    br = br[br.isin(weak)]
    matched = br.groupby(level=0).agg(lambda s: ";".join(sorted(set(s))))
    df["weak_branches"] = pd.Series(matched, index=df.index).astype("string") if len(matched) \
        else pd.Series(pd.NA, index=df.index, dtype="string")
    df = df[outside.to_numpy() & df["weak_branches"].notna().to_numpy()]
    order = pd.DataFrame({
        "hv": pd.to_numeric(df["high_value"], errors="coerce").fillna(0).to_numpy(float),
        "cit": pd.to_numeric(df["citations_5y"], errors="coerce").fillna(0).to_numpy(float),
        "pat": pd.to_numeric(df["patents"], errors="coerce").fillna(0).to_numpy(float),
        "id": df["inventor_id"].astype(str).to_numpy(),
    }, index=df.index).sort_values(["hv", "cit", "pat", "id"], ascending=[False, False, False, True])
    df = df.loc[order.index].head(int(top)).reset_index(drop=True)
    df.insert(0, "rank", pd.array(np.arange(1, len(df) + 1), dtype="Int64"))
    return df


def teams(mentions: pd.DataFrame, inventors: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Research teams: connected groups of co-inventors (inventors sharing patents).

    Parameters
    ----------
    mentions : DataFrame
        ``pub_id``, ``inventor_id`` (the score stage's inventor mentions, in scope).
    inventors : DataFrame
        ``inventor_id``, ``name``, ``patents``.

    Returns
    -------
    DataFrame
        ``size`` (inventors), ``count`` (patents), ``members`` (the five most prolific
        names), largest teams first.

    Examples
    --------
    >>> m = pd.DataFrame({"pub_id": ["p1", "p1", "p2", "p3"], "inventor_id": ["a", "b", "b", "c"]})
    >>> inv = pd.DataFrame({"inventor_id": ["a", "b", "c"], "name": ["甲", "乙", "丙"], "patents": [1, 2, 1]})
    >>> teams(m, inv).values.tolist()
    [[2, 2, '乙, 甲'], [1, 1, '丙']]
    """
    m = mentions.dropna(subset=["inventor_id"])[["pub_id", "inventor_id"]].drop_duplicates()
    if m.empty:
        return pd.DataFrame(columns=["size", "count", "members"])
    inv_codes, inv_ids = pd.factorize(m["inventor_id"], sort=True)
    pat_codes, _ = pd.factorize(m["pub_id"], sort=True)
    n_inv, n_pat = len(inv_ids), int(pat_codes.max()) + 1
    # Bipartite inventors + patents: components join inventors through shared patents.
    g = sp.coo_matrix((np.ones(len(m)), (inv_codes, n_inv + pat_codes)), shape=(n_inv + n_pat, n_inv + n_pat))
    _, comp = connected_components(g, directed=False)
    info = inventors.set_index("inventor_id").reindex(inv_ids)
    df = pd.DataFrame({"team": comp[:n_inv], "name": info["name"].to_numpy(),
                       "patents": pd.to_numeric(info["patents"], errors="coerce").fillna(0).to_numpy()})
    df = df.sort_values(["team", "patents", "name"], ascending=[True, False, True], kind="stable")
    pats = pd.Series(comp[inv_codes]).groupby(pat_codes).first().value_counts()
    out = df.groupby("team").agg(size=("name", "size"), members=("name", lambda s: ", ".join(s.head(5).astype(str))))
    out["count"] = pats.reindex(out.index).fillna(0).astype(int)
    out = out.sort_values(["size", "count", "members"], ascending=[False, False, True], kind="stable")
    return out[["size", "count", "members"]].head(top).reset_index(drop=True)
