"""Main path analysis of a citation DAG (Hummon & Doreian 1989; key routes, Liu & Lu 2012).

Input convention (shared across :mod:`pipeline.network`)
--------------------------------------------------------
A citation network is given as ``n`` (nodes are the integers ``0 .. n-1``) and two
equal-length integer arrays ``src`` and ``dst``: edge ``e`` is one citation **from the
citing patent** ``src[e]`` **to the cited (older) patent** ``dst[e]``. Edges are unique and
the graph is acyclic (cycles are broken upstream); a cycle is detected while levelling the
graph and raises :class:`~pipeline.errors.NotADAGError`.

Direction used for main paths
-----------------------------
Knowledge flows the other way, from the cited to the citing patent, and the whole of main
path analysis is phrased in that *flow* direction: edge ``e`` flows from its **tail**
``dst[e]`` (cited) to its **head** ``src[e]`` (citing). Hence

* a **source** is a node that cites nothing in the data (no outgoing citation): where
  knowledge starts; these are the level-0 nodes of :func:`topological_levels`;
* a **sink** is a node nobody cites (no incoming citation): where knowledge ends;
* "forward" means from sources towards sinks (older to newer), "backward" the reverse.

An isolated node is both a source and a sink and carries no edge, so it never matters.

Traversal weights (Batagelj 2003, "Efficient algorithms for citation network analysis",
arXiv cs/0309023, §3; Liu, Lu & Ho 2019, Scientometrics 119:379-391) are all "search path
counts" ``N-(u) * N+(v)`` on the network extended with a virtual start ``s`` and end ``t``;
the variants differ only in which nodes ``s`` and ``t`` are joined to:

========  =====================================  ==================================
method    a search path may start at             and end at
========  =====================================  ==================================
``spc``   any source                             any sink
``splc``  any node (every ancestor of the tail,  any sink
          and the tail itself)
``spnp``  any node (ancestor-or-self of tail)    any node (descendant-or-self of
                                                 head)
========  =====================================  ==================================

The weight of an edge is the number of such paths that traverse it. SPNP therefore counts
(ancestor-or-self, descendant-or-self) node pairs joined through the edge *with their path
multiplicity*, as Batagelj and Liu et al. define it; it equals the plain number of node
pairs only where each pair is joined by a single path (e.g. in a tree).

Numerics and speed
------------------
Path counts grow exponentially with the depth of the network, so they are carried as
float64 (exact up to 2**53, then relative precision 1e-16). When an intermediate count
would leave the float64 range the counts are rescaled by an exact power of two and the
scale is tracked; ``normalize=True`` then still returns finite weights (shares of all search
paths), while unnormalised weights that do not fit in float64 raise
:class:`~pipeline.errors.PathCountOverflowError`.

Everything is vectorised over *topological levels* (generations): levels are found by
peeling the frontier of nodes whose cited nodes are all levelled, and path counts and
longest paths are accumulated one level at a time over CSR slices. Python loops run over
levels (or over the steps of a path, which are bounded by the number of levels), never
over nodes or edges.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from pipeline.errors import MainPathInputError, NotADAGError, PathCountOverflowError

__all__ = [
    "MainPathResult",
    "build_dag",
    "topological_levels",
    "traversal_weights",
    "global_main_path",
    "local_forward_main_path",
    "key_route_main_paths",
    "main_path_analysis",
]

METHODS = ("spc", "splc", "spnp")

# Rescale path counts once they pass 2**RESCALE_BITS; 2**900 leaves room for the sums of
# one level and for the product N-(u) * N+(v) of two scaled counts to stay representable.
RESCALE_BITS = 900


@dataclass(frozen=True)
class MainPathResult:
    """Everything :func:`main_path_analysis` computes, from one pass over the graph.

    Attributes
    ----------
    weights : numpy.ndarray
        float64 traversal weight per edge (in input edge order).
    global_path : numpy.ndarray
        Edge indices of the global main path, in flow order (source first).
    local_forward : numpy.ndarray
        Sorted edge indices of the local forward main path(s).
    key_route : numpy.ndarray
        Sorted edge indices of the key-route main paths.
    """

    weights: np.ndarray
    global_path: np.ndarray
    local_forward: np.ndarray
    key_route: np.ndarray


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class _Dag:
    """Levelled DAG with two CSR views whose rows are in level order.

    ``order`` lists the nodes level by level (ascending node index within a level) and
    ``level_ptr[k]:level_ptr[k+1]`` is the slice of ``order`` holding level ``k``;
    ``rank`` is the inverse of ``order``. ``fin`` row ``rank[v]`` lists the flow tails
    (cited nodes) of ``v`` and ``fout`` row ``rank[u]`` the flow heads (citing nodes) of
    ``u``; columns are sorted ascending and ``data`` holds the input edge index.
    """

    n: int
    src: np.ndarray
    dst: np.ndarray
    level: np.ndarray
    order: np.ndarray
    rank: np.ndarray
    level_ptr: np.ndarray
    fin: sp.csr_array
    fout: sp.csr_array

    @property
    def m(self) -> int:
        return int(self.src.size)

    @property
    def n_levels(self) -> int:
        return int(self.level_ptr.size - 1)

    def rows(self, k: int) -> tuple[int, int]:
        return int(self.level_ptr[k]), int(self.level_ptr[k + 1])


def _check_edges(n, src, dst) -> tuple[int, np.ndarray, np.ndarray]:
    try:
        n = operator.index(n)
    except TypeError:
        raise MainPathInputError(f"n must be an integer number of nodes, got {n!r}") from None
    if n < 0:
        raise MainPathInputError(f"n must be >= 0, got {n}")
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.ndim != 1 or dst.ndim != 1 or src.size != dst.size:
        raise MainPathInputError(
            "src and dst must be 1-D arrays of equal length, "
            f"got shapes {src.shape} and {dst.shape}"
        )
    for name, arr in (("src", src), ("dst", dst)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise MainPathInputError(f"{name} must hold integer node ids, got dtype {arr.dtype}")
    if src.size:
        lo = min(int(src.min()), int(dst.min()))
        hi = max(int(src.max()), int(dst.max()))
        if lo < 0 or hi >= n:
            raise MainPathInputError(f"node ids must lie in [0, n={n}), found ids in [{lo}, {hi}]")
    idx = np.int32 if max(n, src.size) < np.iinfo(np.int32).max else np.int64
    return n, src.astype(idx, copy=False), dst.astype(idx, copy=False)


def _csr(rows, cols, data, n) -> sp.csr_array:
    """CSR with columns sorted within rows (scipy's counting sort, O(m + n))."""
    return sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()


def _gather(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of all CSR entries of ``rows`` and the segment starts within them."""
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    seg = np.zeros(lens.size, dtype=np.int64)
    np.cumsum(lens[:-1], out=seg[1:])
    total = int(lens.sum())
    pos = np.arange(total, dtype=np.int64) + np.repeat(starts - seg, lens)
    return pos, seg


def _segment_sum(vals: np.ndarray, local_ptr: np.ndarray) -> np.ndarray:
    """Sum ``vals`` over consecutive segments ``local_ptr[i]:local_ptr[i+1]`` (empty -> 0)."""
    nseg = local_ptr.size - 1
    out = np.zeros(nseg, dtype=np.float64)
    nonempty = np.flatnonzero(local_ptr[1:] > local_ptr[:-1])
    if nonempty.size:
        out[nonempty] = np.add.reduceat(vals, local_ptr[nonempty])
    return out


def _segment_argmax(vals: np.ndarray, starts: np.ndarray):
    """Max of each non-empty segment and the position of its first maximal entry."""
    segmax = np.maximum.reduceat(vals, starts)
    lens = np.diff(np.append(starts, vals.size))
    pos = np.arange(vals.size, dtype=np.int64)
    pos[vals != np.repeat(segmax, lens)] = vals.size
    first = np.minimum.reduceat(pos, starts)
    return segmax, first, lens


def _build(n, src, dst) -> _Dag:
    n, src, dst = _check_edges(n, src, dst)
    m = src.size
    idx = src.dtype
    eid = np.arange(m, dtype=idx)
    # Flow out-adjacency in node order: row u (cited) -> its citing nodes.
    fout_nodes = _csr(dst, src, eid, n)
    if fout_nodes.nnz != m:
        raise MainPathInputError(
            f"src/dst hold {m - fout_nodes.nnz} duplicate citation(s); pass each edge once"
        )
    indptr = fout_nodes.indptr
    heads_all = fout_nodes.indices
    # Frontier peeling (Kahn by generations): a node joins level k once all the nodes it
    # cites are levelled; level 0 are the sources (they cite nothing).
    remaining = np.bincount(src, minlength=n).astype(np.int64)
    level = np.full(n, -1, dtype=np.int64)
    frontier = np.flatnonzero(remaining == 0)
    frontiers = []
    k = 0
    while frontier.size:
        level[frontier] = k
        frontiers.append(frontier)
        pos, _ = _gather(indptr, frontier)
        if pos.size == 0:
            break
        heads = heads_all[pos]
        np.subtract.at(remaining, heads, 1)
        frontier = np.unique(heads[remaining[heads] == 0])
        k += 1
    placed = sum(f.size for f in frontiers)
    if placed < n:
        stuck = np.flatnonzero(level < 0)
        raise NotADAGError(
            f"the citation graph is not acyclic: {n - placed} of {n} nodes lie on or "
            f"downstream of a citation cycle (e.g. node {int(stuck[0])}); break cycles "
            "before main path analysis"
        )
    order = np.concatenate(frontiers).astype(idx) if frontiers else np.zeros(0, dtype=idx)
    level_ptr = np.zeros(len(frontiers) + 1, dtype=np.int64)
    np.cumsum([f.size for f in frontiers], out=level_ptr[1:])
    rank = np.empty(n, dtype=idx)
    rank[order] = np.arange(n, dtype=idx)
    fout = fout_nodes[order] if n else fout_nodes
    del fout_nodes
    fin = _csr(rank[src], dst, eid, n)
    return _Dag(n, src, dst, level, order, rank, level_ptr, fin, fout)


# --------------------------------------------------------------------------- counting


def _count_forward(d: _Dag, every: bool) -> tuple[np.ndarray, int]:
    """N-(v): search paths from the allowed starts to v, as (stored, exponent).

    The true count is ``stored * 2**exponent``. Starts are the sources, or every node
    when ``every``.
    """
    N = np.zeros(d.n, dtype=np.float64)
    exp = 0
    if d.n == 0:
        return N, exp
    r0, r1 = d.rows(0)
    N[d.order[r0:r1]] = 1.0
    ip = d.fin.indptr
    for k in range(1, d.n_levels):
        r0, r1 = d.rows(k)
        a, b = int(ip[r0]), int(ip[r1])
        # Level >= 1 nodes cite at least one node, so no segment is empty.
        sums = np.add.reduceat(N[d.fin.indices[a:b]], ip[r0:r1] - a)
        if every:
            sums += np.ldexp(1.0, -exp)
        N[d.order[r0:r1]] = sums
        if sums.max() > 2.0**RESCALE_BITS:
            N *= 2.0**-RESCALE_BITS
            exp += RESCALE_BITS
    return N, exp


def _count_backward(d: _Dag, every: bool) -> tuple[np.ndarray, int]:
    """N+(u): search paths from u to the allowed ends (sinks, or every node)."""
    N = np.zeros(d.n, dtype=np.float64)
    exp = 0
    ip = d.fout.indptr
    for k in range(d.n_levels - 1, -1, -1):
        r0, r1 = d.rows(k)
        a, b = int(ip[r0]), int(ip[r1])
        sums = _segment_sum(N[d.fout.indices[a:b]], ip[r0 : r1 + 1] - a)
        unit = np.ldexp(1.0, -exp)
        if every:
            sums += unit
        else:
            sums[ip[r0 + 1 : r1 + 1] == ip[r0:r1]] = unit  # sinks
        N[d.order[r0:r1]] = sums
        if sums.size and sums.max() > 2.0**RESCALE_BITS:
            N *= 2.0**-RESCALE_BITS
            exp += RESCALE_BITS
    return N, exp


def _weights(d: _Dag, method: str, normalize: bool) -> np.ndarray:
    method = str(method).lower()
    if method not in METHODS:
        raise MainPathInputError(f"method must be one of {METHODS}, got {method!r}")
    if d.m == 0:
        return np.zeros(0, dtype=np.float64)
    nminus, em = _count_forward(d, every=method in ("splc", "spnp"))
    nplus, ep = _count_backward(d, every=method == "spnp")
    rescaled = em > 0 or ep > 0
    if rescaled:
        # Multiply mantissas and add exponents so that neither the product of two scaled
        # counts nor its ratio to the total leaves the float64 range on the way.
        mt, et = np.frexp(nminus[d.dst])
        mh, eh = np.frexp(nplus[d.src])
    if not normalize:
        with np.errstate(over="ignore"):
            if rescaled:
                w = np.ldexp(mt * mh, et + eh + (em + ep))
            else:
                w = nminus[d.dst] * nplus[d.src]
        if not np.isfinite(w).all():
            raise PathCountOverflowError(
                f"{method.upper()} path counts exceed the float64 range (~1.8e308) on this "
                "network; call traversal_weights(..., normalize=True) for shares instead"
            )
        return w
    # Total number of search paths with at least one edge: from every allowed start u,
    # N+(u) minus the empty path when u is itself an allowed end.
    start = d.level == 0 if method == "spc" else np.ones(d.n, dtype=bool)
    if method == "spnp":
        is_end = np.ones(d.n, dtype=bool)
    else:
        is_end = np.zeros(d.n, dtype=bool)
        is_end[d.order[np.diff(d.fout.indptr) == 0]] = True
    total = float(np.sum(nplus[start]) - np.ldexp(float(np.sum(start & is_end)), -ep))
    if not rescaled:  # counts below 2**RESCALE_BITS: the direct form cannot overflow
        w = nplus[d.src] / total
        w *= nminus[d.dst]
        return w
    m_total, e_total = np.frexp(total)
    # true share = tail * 2**em * head * 2**ep / (total * 2**ep)
    return np.ldexp(mt * mh / m_total, et + eh - e_total + em)


# --------------------------------------------------------------------------- searches


def _check_weights(d: _Dag, weights) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (d.m,):
        raise MainPathInputError(f"weights must have one value per edge, shape ({d.m},), got {w.shape}")
    if not np.isfinite(w).all():
        raise MainPathInputError("weights must be finite; normalise overflowing traversal counts")
    return w


def _best_prefix(d: _Dag, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heaviest source -> v path: its weight g[v] and last edge pred[v] (-1 at sources).

    Ties go to the lowest tail node index.
    """
    g = np.zeros(d.n, dtype=np.float64)
    pred = np.full(d.n, -1, dtype=np.int64)
    ip = d.fin.indptr
    for k in range(1, d.n_levels):
        r0, r1 = d.rows(k)
        a, b = int(ip[r0]), int(ip[r1])
        eids = d.fin.data[a:b]
        cand = g[d.fin.indices[a:b]] + w[eids]
        segmax, first, _ = _segment_argmax(cand, ip[r0:r1] - a)
        nodes = d.order[r0:r1]
        g[nodes] = segmax
        pred[nodes] = eids[first]
    return g, pred


def _best_suffix(d: _Dag, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heaviest u -> sink path: its weight h[u] and first edge succ[u] (-1 at sinks).

    Ties go to the lowest head node index.
    """
    h = np.zeros(d.n, dtype=np.float64)
    succ = np.full(d.n, -1, dtype=np.int64)
    ip = d.fout.indptr
    for k in range(d.n_levels - 2, -1, -1):
        r0, r1 = d.rows(k)
        rows = np.arange(r0, r1)
        rows = rows[ip[rows + 1] > ip[rows]]  # non-sinks
        if rows.size == 0:
            continue
        pos, starts = _gather(ip, rows)
        eids = d.fout.data[pos]
        cand = h[d.fout.indices[pos]] + w[eids]
        segmax, first, _ = _segment_argmax(cand, starts)
        nodes = d.order[rows]
        h[nodes] = segmax
        succ[nodes] = eids[first]
    return h, succ


def _trace(start_nodes: np.ndarray, step: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Follow pointer edges ``step[node]`` from all start nodes at once; return edges."""
    out = []
    cur = np.asarray(start_nodes, dtype=np.int64)
    while cur.size:
        e = step[cur]
        e = e[e >= 0]
        out.append(e)
        cur = nxt[e].astype(np.int64)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _local_search(d: _Dag, w: np.ndarray, nodes: np.ndarray, forward: bool) -> np.ndarray:
    """Greedy local search from ``nodes``: at each node take every heaviest edge onward.

    Forward follows knowledge flow to the sinks, backward runs against it to the sources.
    Ties are all kept. Returns the edges used (unsorted, may repeat).
    """
    mat, nxt = (d.fout, d.src) if forward else (d.fin, d.dst)
    ip = mat.indptr
    out = []
    cur = np.unique(np.asarray(nodes, dtype=np.int64))
    while cur.size:
        rows = d.rank[cur].astype(np.int64)
        rows = rows[ip[rows + 1] > ip[rows]]  # stop at sinks / sources
        if rows.size == 0:
            break
        pos, starts = _gather(ip, rows)
        eids = mat.data[pos].astype(np.int64)
        we = w[eids]
        segmax = np.maximum.reduceat(we, starts)
        lens = np.diff(np.append(starts, we.size))
        chosen = eids[we == np.repeat(segmax, lens)]
        out.append(chosen)
        cur = np.unique(nxt[chosen])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _global(d: _Dag, w: np.ndarray) -> np.ndarray:
    if d.m == 0:
        return np.zeros(0, dtype=np.int64)
    g, pred = _best_prefix(d, w)
    sinks = d.order[np.diff(d.fout.indptr) == 0]
    sinks = np.sort(sinks[d.level[sinks] > 0])  # sinks that have an edge
    end = sinks[np.argmax(g[sinks])]  # argmax: first (lowest index) among ties
    return _trace(np.array([end]), pred, d.dst)[::-1].copy()


def _local_forward(d: _Dag, w: np.ndarray) -> np.ndarray:
    if d.m == 0:
        return np.zeros(0, dtype=np.int64)
    from_source = np.flatnonzero(d.level[d.dst] == 0)
    ws = w[from_source]
    start = from_source[ws == ws.max()]
    edges = np.concatenate([start, _local_search(d, w, d.src[start], forward=True)])
    return np.unique(edges)


def _top_k(w: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k heaviest edges; ties broken by lower edge index."""
    k = min(k, w.size)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    thr = np.partition(w, w.size - k)[w.size - k]
    cand = np.flatnonzero(w >= thr)
    cand = cand[np.lexsort((cand, -w[cand]))]
    return cand[:k]


def _key_route(d: _Dag, w: np.ndarray, k: int, search: str) -> np.ndarray:
    try:
        k = operator.index(k)
    except TypeError:
        raise MainPathInputError(f"k must be an integer, got {k!r}") from None
    if k < 1:
        raise MainPathInputError(f"k must be >= 1, got {k}")
    if search not in ("local", "global"):
        raise MainPathInputError(f"search must be 'local' or 'global', got {search!r}")
    if d.m == 0:
        return np.zeros(0, dtype=np.int64)
    keys = _top_k(w, k)
    heads, tails = d.src[keys], d.dst[keys]
    if search == "local":
        fwd = _local_search(d, w, heads, forward=True)
        bwd = _local_search(d, w, tails, forward=False)
    else:
        _, pred = _best_prefix(d, w)
        _, succ = _best_suffix(d, w)
        fwd = _trace(heads, succ, d.src)
        bwd = _trace(tails, pred, d.dst)
    return np.unique(np.concatenate([keys, fwd, bwd]))


# --------------------------------------------------------------------------- public API


def build_dag(n, src, dst):
    """Level and index a citation DAG once, for :func:`main_path_analysis` and
    :func:`pipeline.network.centrality.pagerank` (argument ``dag``).

    The result's ``level`` attribute is :func:`topological_levels`.

    Raises
    ------
    NotADAGError
        If the citations contain a cycle.
    """
    return _build(n, src, dst)


def topological_levels(n, src, dst) -> np.ndarray:
    """Generation of every node in the knowledge-flow order.

    Level 0 holds the sources (patents that cite nothing in the data); a citing patent
    sits one level above the highest patent it cites, so every citation ``src -> dst``
    satisfies ``level[src] > level[dst]`` and the level is the length of the longest
    citation chain below the node.

    Parameters
    ----------
    n : int
        Number of nodes; nodes are ``0 .. n-1``.
    src, dst : array_like of int
        Citing and cited node of each edge.

    Returns
    -------
    numpy.ndarray
        int64 level per node.

    Raises
    ------
    NotADAGError
        If the citations contain a cycle.

    Examples
    --------
    >>> topological_levels(4, [1, 2, 2], [0, 0, 1])
    array([0, 1, 2, 0])
    """
    return _build(n, src, dst).level


def traversal_weights(n, src, dst, method: str = "spc", *, normalize: bool = False, dag=None) -> np.ndarray:
    """Traversal weight of every citation (Hummon & Doreian 1989; Batagelj 2003).

    With edge ``e`` flowing from its tail ``u = dst[e]`` (cited) to its head
    ``v = src[e]`` (citing), the weight is ``N-(u) * N+(v)``:

    * ``"spc"``  search path count: source -> sink paths through the edge;
      ``N-(u)`` counts paths from sources to ``u``, ``N+(v)`` paths from ``v`` to sinks.
    * ``"splc"`` search path link count: paths from any ancestor of ``u`` or ``u``
      itself to a sink through the edge (every node may start a path).
    * ``"spnp"`` search path node pair: paths from any ancestor-or-self of ``u`` to any
      descendant-or-self of ``v`` through the edge (every node starts and ends paths).

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array_like of int
        Citing and cited node of each edge (see the module docstring).
    method : {"spc", "splc", "spnp"}
        Traversal count.
    normalize : bool
        Divide by the total number of search paths of the method (with at least one
        edge); for SPC that is the number of source -> sink paths, so each weight is the
        share of those paths using the edge. Finite even when raw counts overflow.
    dag : optional
        :func:`build_dag` of the same edges, when the caller has levelled them already.

    Returns
    -------
    numpy.ndarray
        float64 weight per edge, in input order. Counts are exact up to 2**53.

    Raises
    ------
    NotADAGError
        If the citations contain a cycle.
    PathCountOverflowError
        If unnormalised counts exceed float64.

    Examples
    --------
    Patent 1 cites 0; patents 2 and 3 cite 1; 4 cites 2 and 3. Knowledge flows
    0 -> 1 -> {2, 3} -> 4, along two source -> sink paths:

    >>> src, dst = [1, 2, 3, 4, 4], [0, 1, 1, 2, 3]
    >>> traversal_weights(5, src, dst)
    array([2., 1., 1., 1., 1.])
    >>> traversal_weights(5, src, dst, "splc")
    array([2., 2., 2., 3., 3.])
    >>> traversal_weights(5, src, dst, "spnp")
    array([5., 4., 4., 3., 3.])
    >>> traversal_weights(5, src, dst, normalize=True)
    array([1. , 0.5, 0.5, 0.5, 0.5])
    """
    return _weights(dag if dag is not None else _build(n, src, dst), method, normalize)


def global_main_path(n, src, dst, weights) -> np.ndarray:
    """The source -> sink path with the largest sum of edge weights.

    Longest path in the DAG, solved level by level. Ties are broken deterministically:
    the path ends at the lowest-index best sink, and at every node the predecessor with
    the lowest node index among equally good ones is kept (ties are exact float
    equality of the partial sums).

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array_like of int
        Citing and cited node of each edge.
    weights : array_like of float
        One finite weight per edge, e.g. from :func:`traversal_weights`.

    Returns
    -------
    numpy.ndarray
        int64 edge indices along the path in knowledge-flow order (from the source,
        i.e. the oldest patent, to the sink); empty when there are no edges.

    Examples
    --------
    >>> src, dst = [1, 2, 3, 4, 4], [0, 1, 1, 2, 3]
    >>> global_main_path(5, src, dst, [2.0, 1.0, 1.0, 1.0, 1.0])
    array([0, 1, 3])
    """
    d = _build(n, src, dst)
    return _global(d, _check_weights(d, weights))


def local_forward_main_path(n, src, dst, weights) -> np.ndarray:
    """Local forward main path (Hummon & Doreian's priority-first search).

    Start from the heaviest edge(s) leaving a source, then from each reached node follow
    its heaviest outgoing edge in the knowledge-flow direction, until sinks are reached.
    As in the literature, every tied edge is kept, so the result may branch.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array_like of int
        Citing and cited node of each edge.
    weights : array_like of float
        One finite weight per edge.

    Returns
    -------
    numpy.ndarray
        Sorted int64 edge indices of the main path(s); empty when there are no edges.

    Examples
    --------
    >>> src, dst = [1, 2, 3, 4, 4], [0, 1, 1, 2, 3]
    >>> local_forward_main_path(5, src, dst, [2.0, 1.0, 1.0, 1.0, 1.0])
    array([0, 1, 2, 3, 4])
    """
    d = _build(n, src, dst)
    return _local_forward(d, _check_weights(d, weights))


def key_route_main_paths(n, src, dst, weights, k: int = 10, *, search: str = "local") -> np.ndarray:
    """Key-route main paths (Liu & Lu 2012).

    The ``k`` heaviest edges (ties by lower edge index) are the key routes. Each is
    extended forward from its head to the sinks and backward from its tail to the
    sources. With ``search="local"`` the extension greedily takes the heaviest edge at
    each node, keeping ties (local key-route search); with ``search="global"`` it takes
    the heaviest-sum path to a sink and from a source (global key-route search, ties as
    in :func:`global_main_path`).

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array_like of int
        Citing and cited node of each edge.
    weights : array_like of float
        One finite weight per edge.
    k : int
        Number of key routes (capped at the number of edges).
    search : {"local", "global"}
        How key routes are extended.

    Returns
    -------
    numpy.ndarray
        Sorted int64 edge indices of the union of the key-route main paths.

    Examples
    --------
    >>> src, dst = [1, 2, 3, 4, 4], [0, 1, 1, 2, 3]
    >>> key_route_main_paths(5, src, dst, [2.0, 1.0, 1.5, 1.0, 1.0], k=1)
    array([0, 2, 4])
    """
    d = _build(n, src, dst)
    return _key_route(d, _check_weights(d, weights), k, search)


def main_path_analysis(
    n,
    src,
    dst,
    method: str = "spc",
    *,
    k: int = 10,
    normalize: bool = False,
    search: str = "local",
    dag=None,
) -> MainPathResult:
    """Traversal weights plus global, local forward and key-route main paths at once.

    Same results as calling :func:`traversal_weights`, :func:`global_main_path`,
    :func:`local_forward_main_path` and :func:`key_route_main_paths` in turn, but the
    graph is levelled and indexed only once (the expensive part at national scale).
    ``dag`` takes a :func:`build_dag` of the same edges, to share that work with
    :func:`pipeline.network.centrality.pagerank`.

    Examples
    --------
    >>> res = main_path_analysis(5, [1, 2, 3, 4, 4], [0, 1, 1, 2, 3], k=1)
    >>> res.global_path
    array([0, 1, 3])
    """
    d = dag if dag is not None else _build(n, src, dst)
    w = _weights(d, method, normalize)
    return MainPathResult(
        weights=w,
        global_path=_global(d, w),
        local_forward=_local_forward(d, w),
        key_route=_key_route(d, w, k, search),
    )
