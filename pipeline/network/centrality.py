"""Centrality of citation graphs: PageRank and HITS by sparse power iteration.

Both take the shared graph convention — ``n`` nodes and int arrays ``src``, ``dst`` of edges
from the citing to the cited node — and run on a :mod:`scipy.sparse` matrix, which at 1M
nodes / 10M edges is two orders of magnitude faster than networkx (``docs/STACK.md``,
"Graph speed"). The results match :func:`networkx.pagerank` and :func:`networkx.hits` on
the same ``DiGraph`` (tests check it to 1e-8).

Convergence is the L1 change between two iterates, compared with ``tol`` itself. When the
iteration does not converge within ``max_iter``, :class:`~pipeline.errors.ConvergenceError`
is raised; it carries the last iterate (``.result``), so a caller who accepts an approximate
answer can still use it knowingly — a silently unconverged ranking is the error we want to
avoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import CentralityInputError, ConvergenceError, MainPathInputError

__all__ = ["PageRankResult", "HitsResult", "pagerank", "hits"]


@dataclass(frozen=True, eq=False)
class PageRankResult:
    """PageRank scores (sum 1, one per node) and how the iteration went."""

    scores: np.ndarray
    iterations: int
    error: float
    converged: bool


@dataclass(frozen=True, eq=False)
class HitsResult:
    """HITS hub and authority scores (each sums to 1) and how the iteration went."""

    hubs: np.ndarray
    authorities: np.ndarray
    iterations: int
    error: float
    converged: bool


def _edges(n: int, src, dst, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validated int64 endpoints and float weights (``None`` = all 1)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if src.shape != dst.shape:
        raise CentralityInputError(f"src and dst differ in length ({len(src)} vs {len(dst)})")
    if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise CentralityInputError(f"edge endpoints must lie in 0..{n - 1}")
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and (w.shape != src.shape or (w < 0).any()):
        raise CentralityInputError("weights must be one non-negative number per edge")
    return src, dst, w


def _adjacency(n: int, src, dst, weights=None) -> sp.csr_matrix:
    """``A[citing, cited] = weight``; duplicate edges add up (like a networkx MultiDiGraph)."""
    src, dst, w = _edges(n, src, dst, weights)
    return sp.csr_matrix((np.ones(len(src)) if w is None else w, (src, dst)), shape=(n, n))


def _distribution(v, n: int, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (n,) or (v < 0).any() or not np.isfinite(v).all() or v.sum() <= 0:
        raise CentralityInputError(f"{what} must be {n} non-negative numbers with a positive sum")
    return v / v.sum()


def pagerank(
    n: int,
    src,
    dst,
    alpha: float = 0.85,
    tol: float = 1e-10,
    max_iter: int = 200,
    personalization=None,
    weights=None,
    dag=None,
) -> PageRankResult:
    """PageRank of a citation graph; being cited raises a node's rank.

    Power iteration ``x <- alpha * (x P + (x . dangling) d) + (1 - alpha) p`` where ``P`` is
    the row-normalised adjacency (rank flows citing -> cited), ``p`` the personalization
    (uniform by default) and ``d`` the distribution of dangling nodes' rank (nodes citing
    nothing), equal to ``p`` as in networkx.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array of int
        Edges citing -> cited. Duplicates add up.
    alpha : float
        Damping factor, in [0, 1].
    tol : float
        Stop when the L1 change between two iterates is at most ``tol``.
    max_iter : int
        Most iterations.
    personalization : array of float, optional
        Teleport distribution (non-negative, any positive sum; normalised); also used for
        dangling nodes.
    weights : array of float, optional
        Edge weights (default 1).
    dag : optional
        :func:`pipeline.network.mainpath.build_dag` of the same edges (saves levelling
        the graph again when the main paths need it too).

    Returns
    -------
    PageRankResult
        ``scores`` (sum 1), ``iterations``, ``error`` (last L1 change), ``converged``.
        On an acyclic graph (every graph of the network stage) the scores are exact, from
        one sweep over the topological levels: ``iterations`` is then the number of levels
        and ``error`` the L1 residual of one further power step.

    Raises
    ------
    ConvergenceError
        If ``max_iter`` iterations do not reach ``tol``.
    CentralityInputError
        On endpoints outside ``0..n-1``, a bad personalization or ``alpha``.

    Examples
    --------
    Two documents cite ``0``; ``0`` cites nothing:

    >>> r = pagerank(3, [1, 2], [0, 0])
    >>> r.scores.round(4).tolist(), r.converged
    ([0.5745, 0.2128, 0.2128], True)
    """
    if not 0 <= alpha <= 1:
        raise CentralityInputError(f"alpha must lie in [0, 1], got {alpha}")
    if n == 0:
        return PageRankResult(np.zeros(0), 0, 0.0, True)
    p = np.full(n, 1.0 / n) if personalization is None else _distribution(personalization, n, "personalization")
    exact = _pagerank_dag(n, src, dst, alpha, p, weights, dag)
    if exact is not None:
        return exact
    A = _adjacency(n, src, dst, weights)
    out = np.asarray(A.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    # P^T as CSR so that one iteration is a single sparse mat-vec: (x P)^T = P^T x
    PT = (sp.diags(inv) @ A).T.tocsr()
    x = np.full(n, 1.0 / n)
    err = np.inf
    for it in range(1, max_iter + 1):
        last = x
        x = alpha * (PT @ last + last[dangling].sum() * p) + (1 - alpha) * p
        err = float(np.abs(x - last).sum())
        # networkx and rustworkx stop at err < n * tol: at 1M nodes that lets each score
        # drift by ~tol on average and reorders the top-100 (docs/STACK.md). The L1 change
        # bounds the total error of the ranking, so it is compared with tol itself.
        if err <= tol:
            return PageRankResult(x, it, err, True)
    raise ConvergenceError("PageRank", PageRankResult(x, max_iter, err, False))


def _pagerank_dag(n: int, src, dst, alpha: float, p: np.ndarray, weights=None, dag=None) -> PageRankResult | None:
    """Exact PageRank of an acyclic graph in one sweep over its topological levels.

    On a DAG ``z = p + alpha P^T z`` is solved exactly level by level, from the documents
    nobody cites down to those citing nothing (every citer of a node lies on a higher
    level). PageRank with dangling rank sent along ``p`` is
    ``x = (alpha c + 1 - alpha) z`` with ``c`` the dangling rank, i.e. ``x = z / sum(z)``.
    One pass replaces the ~70-140 power iterations that tol 1e-10 needs. Returns ``None``
    (so the caller iterates) when the graph has a cycle or repeated edges.
    """
    from .mainpath import _build, _segment_sum

    src, dst, w = _edges(n, src, dst, weights)
    try:
        d = dag if dag is not None else _build(n, src, dst)
    except MainPathInputError:  # a cycle (NotADAGError) or repeated edges
        return None
    out = np.bincount(src, weights=w, minlength=n)
    share = np.divide(alpha, out, out=np.zeros(n), where=out > 0)  # alpha / out-degree of the citer
    z = np.zeros(n)
    ip, citers = d.fout.indptr, d.fout.indices
    for k in range(d.n_levels - 1, -1, -1):
        r0, r1 = d.rows(k)
        a, b = int(ip[r0]), int(ip[r1])
        v = citers[a:b]
        contrib = z[v] * share[v]
        if w is not None:
            contrib *= w[d.fout.data[a:b]]
        rows = d.order[r0:r1]
        z[rows] = p[rows] + _segment_sum(contrib, ip[r0 : r1 + 1] - a)
    x = z / z.sum()
    # Residual of one power-iteration step from x: the solution's own error, reported as
    # ``error`` (round-off only).
    flow = x[src] * (share[src] / alpha if alpha else np.divide(1.0, out, out=np.zeros(n), where=out > 0)[src])
    if w is not None:
        flow *= w
    step = alpha * (np.bincount(dst, weights=flow, minlength=n) + x[out == 0].sum() * p) + (1 - alpha) * p
    err = float(np.abs(step - x).sum())
    return PageRankResult(x, d.n_levels, err, True)


def hits(n: int, src, dst, tol: float = 1e-10, max_iter: int = 500, weights=None) -> HitsResult:
    """HITS hubs and authorities; authorities are the frequently cited documents.

    With ``A[citing, cited] = 1``, authorities are the principal eigenvector of ``A^T A``
    and hubs ``A a``, found by power iteration from the uniform vector and normalised to
    sum 1 — the same vectors networkx's :func:`~networkx.hits` gets from an SVD. A graph
    without edges gives uniform scores.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array of int
        Edges citing -> cited. Duplicates add up.
    tol : float
        Stop when the L1 change of the authority vector is at most ``tol``.
    max_iter : int
        Most iterations.
    weights : array of float, optional
        Edge weights (default 1).

    Returns
    -------
    HitsResult
        ``hubs``, ``authorities`` (each sums to 1), ``iterations``, ``error``, ``converged``.

    Raises
    ------
    ConvergenceError
        If ``max_iter`` iterations do not reach ``tol`` (slow when the two largest singular
        values of ``A`` are close).

    Examples
    --------
    ``1`` and ``2`` both cite ``0``; ``2`` also cites ``1``:

    >>> r = hits(3, [1, 2, 2], [0, 0, 1])
    >>> r.authorities.round(4).tolist(), r.hubs.round(4).tolist()
    ([0.618, 0.382, 0.0], [0.0, 0.382, 0.618])
    """
    if n == 0:
        return HitsResult(np.zeros(0), np.zeros(0), 0, 0.0, True)
    A = _adjacency(n, src, dst, weights)
    if A.nnz == 0 or A.sum() == 0:
        u = np.full(n, 1.0 / n)
        return HitsResult(u, u.copy(), 0, 0.0, True)
    AT = A.T  # a CSC view: its mat-vec is as fast as a CSR copy, without building one
    a = np.full(n, 1.0 / n)
    err = np.inf
    for it in range(1, max_iter + 1):
        last = a
        a = AT @ (A @ last)
        a /= a.sum()  # same convergence criterion as PageRank: L1 change of a sum-1 vector
        err = float(np.abs(a - last).sum())
        if err <= tol:
            break
    h = A @ a
    result = HitsResult(h / h.sum(), a, it, err, err <= tol)
    if not result.converged:
        raise ConvergenceError("HITS", result)
    return result
