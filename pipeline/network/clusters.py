"""Technology clusters: bibliographic coupling, co-citation, communities and their labels.

A citation graph is ``n`` nodes (``0 … n-1``) and two int64 arrays ``src``, ``dst`` with
one edge per citation, from the citing patent to the cited document. Repeated edges
count once: a patent either cites a document or not.

* :func:`coupling_matrix` relates two *citing* patents by the references they share
  (Kessler 1963), :func:`cocitation_matrix` two *cited* documents by the patents citing
  both (Small 1973). Both are sparse, symmetric, without diagonal, and can be normalised.
* :func:`detect_communities` partitions such a similarity matrix with igraph's Leiden or
  Louvain (multilevel) modularity optimisation, deterministically.
* :func:`label_clusters` describes each community: size, dominant IPC main groups,
  characteristic title terms, filing years, growth and a readable label.
"""

from __future__ import annotations

import random
import re
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import ClusterInputError, SchemaError
from ..growth import growth_rate, windows
from ..schema import filing_year

__all__ = [
    "LeidenNotStableWarning",
    "coupling_matrix",
    "cocitation_matrix",
    "strongest_links",
    "detect_communities",
    "label_clusters",
]

NORMALIZATIONS = (None, "cosine", "salton", "jaccard", "association")
_LANG_MIN_SHARE = 0.1  # share of a cluster's titles a term in the label's language needs to count
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


# ---------------------------------------------------------------------------------------
# Input checks shared by the network modules


def check_edges(n: int, src, dst, error: type[Exception] = ClusterInputError) -> tuple[np.ndarray, np.ndarray]:
    """``src``/``dst`` as int64 arrays after checking they describe a graph on ``n`` nodes.

    Raises
    ------
    error (default ClusterInputError)
        If ``n`` is negative, the arrays differ in length, are not integers or hold a node
        id outside ``0 … n-1``.
    """
    if n is None or int(n) != n or n < 0:
        raise error(f"n must be a non-negative integer, not {n!r}")
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.ndim != 1 or dst.ndim != 1 or len(src) != len(dst):
        raise error(f"src and dst must be 1-d arrays of equal length (got shapes {src.shape} and {dst.shape})")
    for name, arr in (("src", src), ("dst", dst)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise error(f"{name} must hold integer node ids, not {arr.dtype}")
        bad = arr[(arr < 0) | (arr >= n)] if arr.size else arr
        if bad.size:
            raise error(f"{name} holds node ids outside 0..{int(n) - 1}: {bad[:5].tolist()}")
    return src.astype(np.int64, copy=False), dst.astype(np.int64, copy=False)


def adjacency(n: int, src, dst) -> sp.csr_matrix:
    """Binary ``n × n`` citation matrix, ``A[i, j] = 1`` when ``i`` cites ``j``.

    >>> adjacency(3, [0, 0, 0], [1, 1, 2]).toarray()
    array([[0, 1, 1],
           [0, 0, 0],
           [0, 0, 0]])
    """
    src, dst = check_edges(n, src, dst)
    a = sp.csr_matrix((np.ones(len(src), dtype=np.int64), (src, dst)), shape=(int(n), int(n)))
    a.sum_duplicates()
    a.data[:] = 1
    return a


def hub_features(incidence: sp.spmatrix, max_degree: int | None) -> np.ndarray:
    """Features held by more than ``max_degree`` items (for coupling: documents cited by
    more than ``max_degree`` patents): left out of :func:`similarity`. None: none.

    >>> hub_features(sp.csr_matrix([[1, 1], [1, 0], [1, 0]]), 2).tolist()
    [True, False]
    """
    degree = np.asarray(sp.csr_matrix(incidence, dtype=np.int64).sum(axis=0)).ravel()
    if max_degree is None:
        return np.zeros(len(degree), dtype=bool)
    return degree > max_degree


def similarity(incidence: sp.spmatrix, *, min_shared: int = 1, normalize: str | None = None,
               max_degree: int | None = None, max_links: int | None = None) -> sp.csr_matrix:
    """Row-by-row overlap ``B · Bᵀ`` of a binary incidence matrix, diagonal dropped.

    Parameters
    ----------
    incidence : sparse matrix
        Binary, items × features (for coupling: citing patents × cited documents).
    min_shared : int
        Overlaps below this count are dropped (before normalisation).
    normalize : {None, "cosine", "salton", "jaccard", "association"}
        ``None`` keeps the counts ``c_ij``. With ``k_i`` the number of features of item
        ``i``: ``"cosine"`` (= Salton's index) ``c_ij / sqrt(k_i k_j)``; ``"jaccard"``
        ``c_ij / (k_i + k_j - c_ij)``; ``"association"`` (association strength, van Eck
        & Waltman 2009) ``c_ij / (k_i k_j)``.
    max_degree : int, optional
        Features held by more items are left out (:func:`hub_features`): a document cited
        by thousands of patents says little about how alike they are, and its d² pairs
        would make the matrix dense. ``k_i`` counts the features kept.
    max_links : int, optional
        Most links (item pairs) kept: beyond it every item keeps only its strongest
        links (:func:`strongest_links`). None: all.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, int64 counts or float64 when normalised, no explicit zeros.
    """
    if normalize not in NORMALIZATIONS:
        raise ClusterInputError(f"normalize must be one of {NORMALIZATIONS}, not {normalize!r}")
    if int(min_shared) != min_shared or min_shared < 1:
        raise ClusterInputError(f"min_shared must be an integer ≥ 1, not {min_shared!r}")
    if max_degree is not None and (isinstance(max_degree, bool) or int(max_degree) != max_degree or max_degree < 1):
        raise ClusterInputError(f"max_degree must be an integer ≥ 1 or None, not {max_degree!r}")
    # int32 counts: an overlap never exceeds an item's features, and the product (the
    # stage's memory peak at 1M patents) takes half the room of int64.
    b = sp.csr_matrix(incidence, dtype=np.int32)
    hubs = hub_features(b, max_degree)
    n_items = b.shape[0]
    if hubs.any():
        # Hub columns masked out of the index arrays directly (a product with a diagonal
        # matrix would copy the whole incidence twice).
        rows = np.repeat(np.arange(n_items), np.diff(b.indptr))
        own = ~hubs[b.indices]
        b = sp.csr_matrix((b.data[own], b.indices[own], np.r_[0, np.cumsum(np.bincount(rows[own], minlength=n_items))]),
                          shape=b.shape)
        del rows, own
    c = b @ b.T
    k = np.asarray(b.sum(axis=1)).ravel().astype(np.float64)
    del b
    # The product's rows are filtered in place of a COO round trip (same entries, no copy of
    # every coordinate): the diagonal and overlaps below min_shared go.
    row = np.repeat(np.arange(n_items, dtype=c.indices.dtype), np.diff(c.indptr))
    keep = (row != c.indices) & (c.data >= min_shared)
    row, col, cnt = row[keep], c.indices[keep], c.data[keep].astype(np.int64)
    del c, keep
    if normalize is None:
        data = cnt.astype(np.int64)
    else:
        ki, kj = k[row], k[col]
        if normalize in ("cosine", "salton"):
            data = cnt / np.sqrt(ki * kj)
        elif normalize == "jaccard":
            data = cnt / (ki + kj - cnt)
        else:
            data = cnt / (ki * kj)
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n_items))]
    out = sp.csr_matrix((data, col, indptr), shape=(n_items, n_items))
    out.sort_indices()
    return strongest_links(out, max_links)


def strongest_links(sim: sp.csr_matrix, max_links: int | None) -> sp.csr_matrix:
    """A symmetric similarity matrix cut to at most ``max_links`` links (item pairs).

    Hub pruning (``max_degree``) bounds the pairs one document makes, not their sum: at
    1M GENERATED patents (4M references) documents cited ≤ 100 times still link 10M
    pairs, and Leiden's time grows with the links. Beyond ``max_links``, each linked item
    keeps its ``k = max(1, max_links // linked items)`` strongest links (largest weight,
    ties to the smaller neighbour id), and a link stays when either end keeps it — a
    k-nearest-neighbour graph, so every item keeps its closest ties and the links number
    at most ``k × items`` (≤ ``max_links`` unless the limit is below the number of linked
    items, where each still keeps one). A matrix within the limit is returned as it is.

    Parameters
    ----------
    sim : csr_matrix
        Symmetric, sorted indices, no explicit zeros (as :func:`similarity` builds it).
    max_links : int or None
        None: no limit.

    Returns
    -------
    csr_matrix
        The same entries, fewer of them.

    Examples
    --------
    Links 0–1 (3), 0–2 (2), 0–3 (1), 1–2 (1), 2–3 (1); with room for 4 links among 4
    items each keeps its strongest one: 0 and 1 each other, 2 its link to 0, 3 its tie
    (0 and 2 weigh 1) to 0, the smaller id.

    >>> u = sp.coo_matrix(([3, 2, 1, 1, 1], ([0, 0, 0, 1, 2], [1, 2, 3, 2, 3])), shape=(4, 4))
    >>> s = sp.csr_matrix(u + u.T)
    >>> sp.triu(strongest_links(s, 4)).toarray().tolist()
    [[0, 3, 2, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    """
    if max_links is not None and (isinstance(max_links, bool) or int(max_links) != max_links or max_links < 1):
        raise ClusterInputError(f"max_links must be an integer ≥ 1 or None, not {max_links!r}")
    if max_links is None or sim.nnz // 2 <= max_links:
        return sim
    n = sim.shape[0]
    per_row = np.diff(sim.indptr)
    k = max(1, int(max_links) // int((per_row > 0).sum()))
    row = np.repeat(np.arange(n, dtype=np.int64), per_row)
    # By row, then weight down, then neighbour id: CSR rows already list neighbours in id
    # order, so stable sorts do the work of a three-key lexsort. Integer counts (the
    # stage's case) fold row and weight into one key: one sort instead of two, and a sort
    # that finds the rows already in order.
    data = sim.data
    top = int(data.max())  # sim has links here (more than max_links ≥ 1)
    span = top - int(data.min()) + 1
    if np.issubdtype(data.dtype, np.integer) and n * span < 2**62:
        order = np.argsort(row * span + (top - data.astype(np.int64)), kind="stable")
    else:
        order = np.argsort(-data, kind="stable")
        order = order[np.argsort(row[order], kind="stable")]
    rank = np.empty(sim.nnz, dtype=np.int64)
    rank[order] = np.arange(sim.nnz) - sim.indptr[row[order]]
    mine = sp.csr_matrix(((rank < k).astype(np.int8), sim.indices, sim.indptr), shape=sim.shape)
    # The transpose of a symmetric pattern is the same pattern, entries in the same order,
    # so its data says whether the other end keeps the link.
    theirs = mine.T.tocsr()
    theirs.sort_indices()
    keep = (mine.data > 0) | (theirs.data > 0)
    out = sp.csr_matrix((sim.data[keep], sim.indices[keep], np.r_[0, np.cumsum(np.bincount(row[keep], minlength=n))]),
                        shape=sim.shape)
    return out


def coupling_matrix(n: int, src, dst, min_shared: int = 1, normalize: str | None = None,
                    max_degree: int | None = None,
                    max_links: int | None = None) -> sp.csr_matrix:
    """Bibliographic coupling: how many references two citing patents share.

    ``C = A · Aᵀ`` with ``A`` the binary citation matrix (rows cite columns); the diagonal
    (a patent's own reference count) is dropped. See :func:`similarity` for
    ``min_shared``, ``normalize`` (``k_i`` is then the number of references of ``i``) and
    ``max_degree`` (documents cited more often are left out) and ``max_links``.

    Examples
    --------
    Patents 0 and 1 both cite 2 and 3; patent 4 cites 3 only.

    >>> c = coupling_matrix(5, [0, 0, 1, 1, 4], [2, 3, 2, 3, 3])
    >>> c.toarray()
    array([[0, 2, 0, 0, 1],
           [2, 0, 0, 0, 1],
           [0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0],
           [1, 1, 0, 0, 0]])
    >>> coupling_matrix(5, [0, 0, 1, 1, 4], [2, 3, 2, 3, 3], normalize="cosine")[0, 4].round(4)
    np.float64(0.7071)

    Document 3 is cited three times: with ``max_degree=2`` it links no one.

    >>> coupling_matrix(5, [0, 0, 1, 1, 4], [2, 3, 2, 3, 3], max_degree=2).toarray()[[0, 1, 4]][:, [0, 1, 4]]
    array([[0, 1, 0],
           [1, 0, 0],
           [0, 0, 0]])
    """
    return similarity(adjacency(n, src, dst), min_shared=min_shared, normalize=normalize, max_degree=max_degree,
                      max_links=max_links)


def cocitation_matrix(n: int, src, dst, min_shared: int = 1, normalize: str | None = None,
                      max_degree: int | None = None,
                      max_links: int | None = None) -> sp.csr_matrix:
    """Co-citation: how many patents cite both of two documents.

    ``C = Aᵀ · A``; the diagonal (a document's citation count) is dropped. See
    :func:`similarity` for ``min_shared`` and ``normalize`` (``k_j`` is then the number
    of times ``j`` is cited).

    Examples
    --------
    >>> cocitation_matrix(5, [0, 0, 1, 1, 4], [2, 3, 2, 3, 3]).toarray()[2:4, 2:4]
    array([[0, 2],
           [2, 0]])
    """
    return similarity(adjacency(n, src, dst).T, min_shared=min_shared, normalize=normalize, max_degree=max_degree,
                      max_links=max_links)


# ---------------------------------------------------------------------------------------
# Communities


def _renumber(members: np.ndarray, raw: np.ndarray, n: int) -> np.ndarray:
    """Labels ``0 …`` by decreasing size, ties by smallest member; ``-1`` elsewhere."""
    out = np.full(n, -1, dtype=np.int64)
    if members.size == 0:
        return out
    _, inv = np.unique(raw, return_inverse=True)
    sizes = np.bincount(inv)
    first = np.full(sizes.size, n, dtype=np.int64)
    np.minimum.at(first, inv, members)
    order = np.lexsort((first, -sizes))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    out[members] = rank[inv]
    return out


def detect_communities(
    similarity: sp.spmatrix,
    method: str = "leiden",
    resolution: float = 1.0,
    seed: int = 0,
    max_iterations: int = 10,
) -> np.ndarray:
    """Community label of every node of a weighted undirected similarity graph.

    Parameters
    ----------
    similarity : sparse matrix
        Square, symmetric, non-negative (e.g. :func:`coupling_matrix`); the diagonal is
        ignored. Its entries are the edge weights.
    method : {"leiden", "louvain"}
        igraph's ``community_leiden(objective_function="modularity")`` or
        ``community_multilevel`` (Louvain).
    resolution : float
        Modularity resolution γ; larger values give more, smaller communities.
    seed : int
        Seed of the random numbers the algorithm draws (see Notes).
    max_iterations : int
        Most Leiden iterations; a negative value runs until an iteration changes nothing
        (which may never happen on a graph without community structure: 1M random
        citations still changed after 59 iterations of ~6 s each). When the cap ends
        the run before the partition is stable, :class:`LeidenNotStableWarning` says
        so; the partition returned is still a valid one. Louvain has no cap.

    Returns
    -------
    ndarray of int64
        One label per node. Communities are numbered ``0, 1, …`` by decreasing size,
        ties broken by their smallest node id; isolated nodes (no positive weight to
        another node) get ``-1``.

    Notes
    -----
    Determinism: igraph draws its random numbers from the generator set with
    ``igraph.set_random_number_generator``. For the duration of the call it is set to a
    private ``random.Random(seed)`` and afterwards reset to igraph's default, Python's
    ``random`` module, whose own state is never touched. The same matrix, method,
    resolution and seed therefore give the same labels on every run. (The switch is
    process-wide: do not run community detection in several threads at once.)

    Examples
    --------
    Two triangles joined by one edge:

    >>> import scipy.sparse as sp
    >>> i = [0, 0, 1, 3, 3, 4, 2]
    >>> j = [1, 2, 2, 4, 5, 5, 3]
    >>> s = sp.coo_matrix(([1.0] * 7, (i, j)), shape=(7, 7))
    >>> detect_communities(s + s.T).tolist()
    [0, 0, 0, 1, 1, 1, -1]
    """
    if max_iterations == 0:
        raise ClusterInputError("max_iterations must be ≥ 1, or negative for 'until stable'")
    import igraph

    if method not in ("leiden", "louvain"):
        raise ClusterInputError(f"method must be 'leiden' or 'louvain', not {method!r}")
    s = sp.csr_matrix(similarity)
    s = s.astype(np.float64) if s.dtype != np.float64 else s.copy()
    if s.shape[0] != s.shape[1]:
        raise ClusterInputError(f"similarity must be square, not {s.shape[0]}×{s.shape[1]}")
    n = s.shape[0]
    s.sum_duplicates()  # canonical CSR: sorted columns, so rows run in (row, col) order
    if not _symmetric(s):
        raise ClusterInputError("similarity must be symmetric (build it with coupling_matrix / cocitation_matrix)")
    if s.nnz and s.data.min() < 0:
        raise ClusterInputError("similarity must not hold negative weights")
    # Upper triangle in (row, col) order, straight from the CSR arrays: at 10M links
    # scipy's triu copies the matrix twice more.
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(s.indptr))
    keep = (s.indices > row) & (s.data > 0)
    row, col, w = row[keep], s.indices[keep].astype(np.int64), s.data[keep]
    del s
    linked = np.zeros(n, dtype=bool)
    linked[row] = True
    linked[col] = True
    members = np.flatnonzero(linked)
    if members.size == 0:
        return np.full(n, -1, dtype=np.int64)
    # Only linked nodes enter igraph, renumbered in id order, so isolated ones cannot
    # disturb the partition of the rest.
    pos = np.full(n, -1, dtype=np.int64)
    pos[members] = np.arange(members.size)
    g = igraph.Graph(n=members.size, edges=list(zip(pos[row].tolist(), pos[col].tolist())))
    del pos, row, col
    weights = w.tolist()
    igraph.set_random_number_generator(random.Random(seed))
    try:
        if method == "leiden":
            membership = _leiden(g, weights, resolution, max_iterations)
        else:
            membership = g.community_multilevel(weights=weights, resolution=resolution).membership
    finally:
        igraph.set_random_number_generator(random)
    return _renumber(members, np.asarray(membership, dtype=np.int64), n)


def _symmetric(s: sp.csr_matrix, rtol: float = 1e-9) -> bool:
    """Whether a canonical CSR matrix equals its transpose (entries to ``rtol`` of the largest).

    Comparing the index arrays of ``s`` and ``sᵀ`` costs one transpose; ``|s − sᵀ|`` two
    more matrices of the same size. Explicit zeros make the patterns differ without an
    asymmetry, hence the slower check then.

    >>> _symmetric(sp.csr_matrix([[0, 2.0], [2.0, 0]])), _symmetric(sp.csr_matrix([[0, 2.0], [1.0, 0]]))
    (True, False)
    """
    if s.nnz == 0:
        return True
    t = s.T.tocsr()
    t.sum_duplicates()
    scale = rtol * max(1.0, float(np.abs(s.data).max()))
    if np.array_equal(s.indptr, t.indptr) and np.array_equal(s.indices, t.indices):
        return bool(np.abs(s.data - t.data).max() <= scale)
    diff = abs(s - t)
    return not (diff.nnz and diff.max() > scale)


def _canonical(membership) -> np.ndarray:
    """Community labels numbered in order of their first member: equal for equal partitions.

    >>> _canonical([5, 5, 2, 7, 2]).tolist()
    [0, 0, 1, 2, 1]
    """
    _, first, inverse = np.unique(np.asarray(membership), return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


class LeidenNotStableWarning(UserWarning):
    """Leiden reached its iteration cap while its partition was still changing."""


def _leiden(g, weights: list, resolution: float, max_iterations: int) -> list[int]:
    """Leiden modularity iterations, one igraph call each, until one changes nothing or
    ``max_iterations`` have run.

    One call per iteration, each starting from the last partition, draws the same random
    numbers as igraph's own ``n_iterations=-1`` loop, so a run that becomes stable within
    the cap gives the same partition; unlike that loop it can stop, and say it stopped.
    """
    membership, last, it = None, None, 0
    while max_iterations < 0 or it < max_iterations:
        it += 1
        part = g.community_leiden(objective_function="modularity", weights=weights, resolution=resolution,
                                  n_iterations=1, initial_membership=membership)
        membership = part.membership
        same = _canonical(membership)
        if last is not None and np.array_equal(same, last):
            return membership
        last = same
    warnings.warn(
        f"Leiden clustering stopped after {it} iterations while the partition was still changing "
        f"(modularity {part.modularity:.4f}); the clusters are usable but not final. For a stable "
        "partition raise network.clusters.max_iterations in params.yaml (-1: until stable; on a "
        "graph without community structure that may never end), or use method: louvain.",
        LeidenNotStableWarning, stacklevel=3)
    return membership


# ---------------------------------------------------------------------------------------
# Labels


def _filing_year(patents: pd.DataFrame) -> pd.Series:
    return filing_year(patents).astype("Float64")


def _is_cjk(terms: pd.Series) -> pd.Series:
    # Python's re on object values: pyarrow-backed strings use RE2, which lacks \u escapes.
    return terms.astype(object).str.contains(_CJK, regex=True).astype(bool)


def _top_terms(titles: pd.DataFrame, lang: str, top: int) -> pd.Series:
    """Characteristic title terms per cluster, joined by ``"; "``.

    ``titles`` has columns ``cluster`` and ``title`` (one row per patent). With ``p_c``
    the share of cluster ``c``'s titles containing term ``t`` and ``p`` its share over
    all clustered titles, the score is ``p_c × ln(p_c / p)``: frequent in the cluster
    *and* more frequent there than elsewhere, so words of every cluster (``方法``,
    ``device``) sink to about 0. Ties (and a single cluster, where every score is 0)
    go to the more frequent term, then alphabetical order. When a cluster has at least
    ``top`` terms in ``lang`` that are distinctive (score > 0) and held by ≥ 10 % of its
    titles, terms in other languages are left out, so a zh label of a mixed cluster
    shows Chinese terms; otherwise every term competes (a cluster of Chinese titles gets
    the same terms for a zh and an en label).
    """
    from ..classify.text import tokenize

    if titles.empty:
        return pd.Series(dtype="string")
    uniq = titles["title"].unique()
    tokens = pd.Series([sorted(set(tokenize(t))) for t in uniq], index=uniq, dtype=object)
    per_doc = titles.assign(term=titles["title"].map(tokens)).explode("term").dropna(subset=["term"])
    per_doc = per_doc[per_doc["term"].str.len() >= 2]  # single characters (高, 人) say little
    df = per_doc.groupby(["cluster", "term"]).size().rename("df").reset_index()
    if df.empty:
        return pd.Series(dtype="string")
    p_c = df["df"] / df["cluster"].map(titles.groupby("cluster").size())
    p = df.groupby("term")["df"].transform("sum") / len(titles)
    df["score"] = p_c * np.log(p_c / p)
    df["share"] = p_c
    df["in_lang"] = _is_cjk(df["term"]) == (lang == "zh")
    # Keep only terms in lang where the cluster has `top` distinctive, not rare ones.
    good = df["in_lang"] & (df["score"] > 0) & (p_c >= _LANG_MIN_SHARE)
    enough = good.groupby(df["cluster"]).transform("sum") >= top
    df = df[df["in_lang"] | ~enough]
    df = df.sort_values(["cluster", "score", "share", "term"], ascending=[True, False, False, True])
    best = df.groupby("cluster").head(top)
    return best.groupby("cluster")["term"].agg("; ".join)


def _short_title(titles: pd.Series, lang: str) -> pd.Series:
    """The first clause of an IPC title, short enough for a chart label."""
    # Text even when no title is known (all missing): the split's lists are objects.
    first = titles.str.split(r"[；;（(]", n=1, regex=True).str[0].astype("string").str.strip()
    limit = 20 if lang == "zh" else 48
    return first.where(first.str.len() <= limit, first.str[:limit].str.rstrip() + "…")


def label_clusters(
    labels,
    nodes: pd.DataFrame,
    classifications: pd.DataFrame,
    patents: pd.DataFrame,
    lang: str = "zh",
    top: int = 3,
    ipc_titles: pd.DataFrame | None = None,
    *,
    window: int = 3,
    last_year: int | None = None,
    scheme: str | None = "IPC",
) -> pd.DataFrame:
    """Describe every community: size, IPC profile, title terms, years, growth, label.

    Parameters
    ----------
    labels : array-like of int
        Community per node (:func:`detect_communities`); ``-1`` = none.
    nodes : DataFrame
        Node table, row ``i`` = node ``i``, with column ``node`` (the ``pub_id``;
        documents outside the data have no rows in ``patents``/``classifications``).
    classifications : DataFrame
        Canonical ``classifications`` (``pub_id``, ``main_group``, optionally ``scheme``).
    patents : DataFrame
        Canonical ``patents`` (``pub_id``, ``title``, dates) or any frame with
        ``pub_id``, ``title`` and ``filing_year``.
    lang : {"zh", "en"}
        Language of the readable label (IPC title and preferred terms).
    top : int
        How many IPC main groups and terms to keep.
    ipc_titles : DataFrame, optional
        :func:`pipeline.classify.text.load_ipc_titles` output (``symbol``, ``lang``,
        ``title``); main group ``H01M10`` is looked up as ``H01M10/00``.
    window : int
        Years per growth window.
    last_year : int, optional
        Last year of the growth windows; default the latest filing year among the
        clustered patents. (The latest year is usually incomplete — publication lags
        filing by up to 18 months — so the caller may pass an earlier one.)
    scheme : str or None
        Classification scheme used for the IPC profile; ``None`` uses every row.

    Returns
    -------
    DataFrame
        One row per community, by ``cluster``: ``size`` (nodes), ``patents`` (nodes
        found in ``patents``), ``top_ipc`` (``"H01M10 (62%); …"``: share of the
        cluster's classified patents carrying the main group), ``ipc_main`` and
        ``ipc_main_share`` (the first of them), ``terms`` (``"; "``-joined, see below),
        ``first_year``, ``last_year``, ``median_year``, ``recent`` (patents filed in
        the ``window`` years up to ``last_year``), ``before`` (the ``window`` years
        before those), ``growth`` = ``(recent − before) / before`` (NaN when ``before``
        is 0, as in the landscape stage) and ``label``.

    Notes
    -----
    Filing year = year of the earliest priority date, else application date, else
    publication date (the database's ``filing_year``); a ``filing_year`` column in
    ``patents`` is used as is. Term score in cluster ``c``: ``p_c × ln(p_c / p)`` with
    ``p_c`` the share of the cluster's titles containing the term and ``p`` its share
    over all clustered titles (a contrast, so words common to every cluster sink);
    when enough distinctive terms in ``lang`` (≥ 10 % of the titles) exist, only those
    are kept. Titles are tokenised with :func:`pipeline.classify.text.tokenize`
    (language detected per title); single-character terms are left out. Only the IPC
    title part of the label is translated; terms are in the language of the titles
    they come from.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["A", "B", "C", "X"]})
    >>> pats = pd.DataFrame({"pub_id": ["A", "B", "C"], "filing_year": [2019, 2021, 2020],
    ...     "title": ["Lithium battery cell", "Lithium battery pack", "Drone rotor"]})
    >>> cls = pd.DataFrame({"pub_id": ["A", "B", "C"], "main_group": ["H01M10", "H01M10", "B64C27"]})
    >>> out = label_clusters([0, 0, 1, -1], nodes, cls, pats, lang="en", top=2, scheme=None)
    >>> out[["cluster", "size", "top_ipc", "terms"]].to_dict("records")[0]
    {'cluster': 0, 'size': 2, 'top_ipc': 'H01M10 (100%)', 'terms': 'battery; lithium'}
    >>> out["label"].tolist()
    ['H01M10: battery, lithium', 'B64C27: drone, rotor']
    """
    if lang not in ("zh", "en"):
        raise ClusterInputError(f"lang must be 'zh' or 'en', not {lang!r}")
    if int(top) != top or top < 1:
        raise ClusterInputError(f"top must be a positive integer, not {top!r}")
    if int(window) != window or window < 1:
        raise ClusterInputError(f"window must be a positive integer, not {window!r}")
    labels = np.asarray(labels, dtype=np.int64) if len(labels) else np.zeros(0, dtype=np.int64)
    if "node" not in nodes.columns:
        raise SchemaError("nodes lacks the column 'node'")
    if len(labels) != len(nodes):
        raise ClusterInputError(f"labels has {len(labels)} entries but nodes has {len(nodes)} rows")
    for name, frame, cols in (("patents", patents, ["pub_id", "title"]),
                              ("classifications", classifications, ["pub_id", "main_group"])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} lacks column(s): {', '.join(missing)}")

    member = pd.DataFrame({"node": nodes["node"].astype("string").to_numpy(), "cluster": labels})
    member = member[member["cluster"] >= 0]
    columns = ["cluster", "size", "patents", "top_ipc", "ipc_main", "ipc_main_share", "terms", "first_year",
               "last_year", "median_year", "recent", "before", "growth", "label"]
    if member.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).astype(
            {"cluster": "int64", "size": "int64", "patents": "int64"})
    out = member.groupby("cluster").size().rename("size").to_frame()

    pats = patents.assign(pub_id=patents["pub_id"].astype("string"), year=_filing_year(patents))
    pats = pats.drop_duplicates("pub_id")[["pub_id", "title", "year"]]
    mp = member.merge(pats, left_on="node", right_on="pub_id", how="inner")
    out["patents"] = mp.groupby("cluster").size().reindex(out.index, fill_value=0)

    # IPC profile: share of the cluster's classified patents carrying each main group.
    cls = classifications
    if scheme is not None and "scheme" in cls.columns:
        cls = cls[cls["scheme"] == scheme]
    cls = cls.dropna(subset=["main_group"]).assign(pub_id=lambda d: d["pub_id"].astype("string"))
    cls = cls[["pub_id", "main_group"]].drop_duplicates()
    mc = member.merge(cls, left_on="node", right_on="pub_id", how="inner")
    if not mc.empty:
        n_cls = mc.groupby("cluster")["node"].nunique()
        g = mc.groupby(["cluster", "main_group"]).size().rename("k").reset_index()
        g["share"] = g["k"] / g["cluster"].map(n_cls)
        g = g.sort_values(["cluster", "share", "main_group"], ascending=[True, False, True])
        g = g.groupby("cluster").head(top)
        g["text"] = g["main_group"] + " (" + (g["share"] * 100).round().astype(int).astype(str) + "%)"
        out["top_ipc"] = g.groupby("cluster")["text"].agg("; ".join)
        first = g.groupby("cluster").head(1).set_index("cluster")
        out["ipc_main"] = first["main_group"]
        out["ipc_main_share"] = first["share"]
    else:
        out["top_ipc"] = out["ipc_main"] = pd.NA
        out["ipc_main_share"] = np.nan

    out["terms"] = _top_terms(mp[["cluster", "title"]].dropna(), lang, top)

    years = mp.dropna(subset=["year"])
    yg = years.groupby("cluster")["year"]
    out["first_year"] = yg.min().astype("Int64")
    out["last_year"] = yg.max().astype("Int64")
    out["median_year"] = yg.median().astype("Float64")
    end = int(years["year"].max()) if last_year is None and not years.empty else last_year
    if end is None:
        out["recent"] = out["before"] = 0
    else:
        recent, before = windows(years["year"], end, window)
        out["recent"] = years[recent].groupby("cluster").size()
        out["before"] = years[before].groupby("cluster").size()
    out[["recent", "before"]] = out[["recent", "before"]].fillna(0).astype("int64")
    out["growth"] = growth_rate(out["recent"], out["before"])

    # Readable label: short IPC title (or the symbol) and the top terms.
    head = out["ipc_main"].astype("string")
    if ipc_titles is not None and not out["ipc_main"].isna().all():
        t = ipc_titles[ipc_titles["lang"] == lang].drop_duplicates("symbol").set_index("symbol")["title"]
        title = _short_title((head + "/00").map(t).astype("string"), lang)
        opening, closing = ("（", "）") if lang == "zh" else (" (", ")")
        head = (title + opening + head + closing).fillna(head)
    terms = out["terms"].astype("string").str.replace("; ", "、" if lang == "zh" else ", ", regex=False)
    sep = "：" if lang == "zh" else ": "
    word = "聚类" if lang == "zh" else "Cluster "
    fallback = pd.Series(word + out.index.astype(str), index=out.index, dtype="string")
    label = (head + sep + terms).fillna(head).fillna(terms).fillna(fallback)
    out["label"] = label
    return out.reset_index()[columns]

