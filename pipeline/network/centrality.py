"""Centrality of citation graphs: PageRank and HITS on sparse matrices.

Both take the shared graph convention — ``n`` nodes and int arrays ``src``, ``dst`` of edges
from the citing to the cited node — and run on a :mod:`scipy.sparse` matrix, which at 1M
nodes / 10M edges is two orders of magnitude faster than networkx (``docs/STACK.md``,
"Graph speed"). The results match :func:`networkx.pagerank` and :func:`networkx.hits` on
the same ``DiGraph`` (tests check it to 1e-8). PageRank iterates (exact in one sweep on a
DAG); HITS solves for the principal eigenvector of ``AᵀA`` by restarted Lanczos, which
needs about half the products power iteration does. Not ARPACK (:func:`scipy.sparse.linalg.eigsh`):
its dot products go through the threaded BLAS, whose summation order (hence the last digits
of the scores) depends on the machine's thread count, and it stops on a residual, not on
the L1 change of a sum-1 vector that ``tol`` means here.

Convergence is the L1 change between two iterates (for HITS: of one power step from the
solution), compared with ``tol`` itself. When the iteration does not converge within
``max_iter``, :class:`~pipeline.errors.ConvergenceError`
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


# Lanczos steps between restarts of the HITS solver: each keeps one basis vector over the
# citing or the cited nodes, whichever are fewer (20 × 8 MB at 1M); 20 steps reach 1e-10
# on the 1M GENERATED graph of benchmarks/network.py in one cycle.
_LANCZOS_STEPS = 20


def hits(n: int, src, dst, tol: float = 1e-10, max_iter: int = 500, weights=None) -> HitsResult:
    """HITS hubs and authorities; authorities are the frequently cited documents.

    With ``A[citing, cited] = 1``, authorities are the principal eigenvector of ``A^T A``
    and hubs ``A a``, normalised to sum 1 — the vectors networkx's :func:`~networkx.hits`
    gets from an SVD. They are found by restarted Lanczos (:func:`_perron_vector`) from
    the uniform vector: the same limit as power iteration from it, in about a third of the
    products with ``A^T A``. A graph without edges gives uniform scores.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array of int
        Edges citing -> cited. Duplicates add up.
    tol : float
        Stop when one power step ``a <- A^T A a`` (normalised) changes the authority
        vector by at most ``tol`` in L1 — the criterion of power iteration.
    max_iter : int
        Most products with ``A^T A`` (one power iteration's work each).
    weights : array of float, optional
        Edge weights (default 1).

    Returns
    -------
    HitsResult
        ``hubs``, ``authorities`` (each sums to 1), ``iterations`` (products with
        ``A^T A``), ``error`` (L1 change of the last power step), ``converged``.

    Raises
    ------
    ConvergenceError
        If ``max_iter`` products do not reach ``tol``.

    Examples
    --------
    ``1`` and ``2`` both cite ``0``; ``2`` also cites ``1``:

    >>> r = hits(3, [1, 2, 2], [0, 0, 1])
    >>> r.authorities.round(4).tolist(), r.hubs.round(4).tolist()
    ([0.618, 0.382, 0.0], [0.0, 0.382, 0.618])
    """
    if n == 0:
        return HitsResult(np.zeros(0), np.zeros(0), 0, 0.0, True)
    src, dst, w = _edges(n, src, dst, weights)
    if len(src) == 0 or (w is not None and w.sum() == 0):
        u = np.full(n, 1.0 / n)
        return HitsResult(u, u.copy(), 0, 0.0, True)
    # Only citing rows and cited columns take part (every other authority and hub is 0
    # after one step): B is A without its empty rows and columns, Bᵀ a CSR copy, whose
    # gathering mat-vec beats the scatter of A's CSC view.
    B, citing, cited = _compact(n, src, dst, w)
    BT = B.T.tocsr()
    # Lanczos on the smaller side: most cited documents are outside the data, cited once,
    # so the citing patents are the shorter vectors to orthogonalise.
    dual = (lambda a: B @ a, lambda h: B @ (BT @ h), lambda h: BT @ h, B.shape[0]) if B.shape[0] < B.shape[1] else None
    a_cited, it, err, converged = _perron_vector(lambda x: BT @ (B @ x), B.shape[1], tol, max_iter, dual=dual)
    a = np.zeros(n)
    a[cited] = a_cited
    h = np.zeros(n)
    h[citing] = B @ a_cited  # = A a: the same sums, term for term
    result = HitsResult(h / h.sum(), a, it, err, converged)
    if not converged:
        raise ConvergenceError("HITS", result)
    return result


def _compact(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray | None
             ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The adjacency ``A[citing, cited] = weight`` without its empty rows and columns, and
    the rows (citing nodes) and columns (cited nodes) kept, sorted.

    Edges sorted by ``(src, dst)`` without repeats (as a
    :class:`~pipeline.network.graph.CitationGraph` holds them) are already that CSR
    matrix's entries in order: it is assembled directly, without scipy's COO sort (a
    second at 10M edges). Other edges go through :func:`_adjacency` (repeats add up).

    >>> B, rows, cols = _compact(4, np.array([0, 0, 2]), np.array([1, 2, 1]), None)
    >>> B.toarray().tolist(), rows.tolist(), cols.tolist()
    ([[1.0, 1.0], [1.0, 0.0]], [0, 2], [1, 2])
    """
    step = np.diff(src)
    if (step >= 0).all() and ((step > 0) | (np.diff(dst) > 0)).all():
        indptr_all = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr_all[1:])
        indices, data = dst, (np.ones(len(src)) if w is None else w)
    else:
        A = _adjacency(n, src, dst, w)
        indptr_all, indices, data = A.indptr, A.indices, A.data
    per_row = np.diff(indptr_all)
    rows = np.flatnonzero(per_row)
    present = np.zeros(n, dtype=bool)
    present[indices] = True
    cols = np.flatnonzero(present)
    idx = np.int32 if max(n, len(indices)) < np.iinfo(np.int32).max else np.int64
    pos = np.zeros(n, dtype=idx)
    pos[cols] = np.arange(len(cols), dtype=idx)
    indptr = np.r_[0, np.cumsum(per_row[rows])].astype(idx)
    return sp.csr_matrix((data, pos[indices], indptr), shape=(len(rows), len(cols))), rows, cols


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum's own loop, not BLAS: a threaded BLAS dot sums in an order set by the number
    # of threads, and the scores must be the same bytes on every machine.
    return float(np.einsum("i,i->", u, v))


def _perron_vector(matvec, size: int, tol: float, max_iter: int, steps: int = _LANCZOS_STEPS,
                   dual=None) -> tuple[np.ndarray, int, float, bool]:
    """Sum-1 principal eigenvector of a symmetric non-negative ``size × size`` operator.

    Restarted Lanczos with full reorthogonalisation, started from the uniform vector:
    its Krylov space holds only the components of that vector, so the Ritz vector tends
    to the same eigenvector as power iteration from it (the uniform vector's projection
    on the top eigenspace), converging with the square root of the power method's
    spectral-gap ratio. Each cycle of at most ``steps`` products ends with one power step
    from the Ritz vector (negative round-off clipped), whose L1 change is the stopping
    test; the next cycle starts from that step.

    ``dual = (down, op, up, small)`` runs the Lanczos steps in a smaller space: for
    ``matvec = BᵀB`` with ``down = B``, ``op = BBᵀ`` and ``up = Bᵀ``, Lanczos on ``BBᵀ``
    from ``B x`` spans ``B`` times the vectors power iteration on ``BᵀB`` reaches from
    ``x``, so ``Bᵀ`` of its Ritz vector is the same limit, with basis vectors of length
    ``small`` (HITS: hubs of the citing patents rather than authorities of every cited
    document). The two half products count as one.

    Returns
    -------
    vector, products, error, converged
        The last power step (non-negative, sum 1), the products with the operator
        (at most ``max_iter``), its L1 change and whether that is ``<= tol``.

    Examples
    --------
    ``[[2, 1], [1, 2]]``: top eigenvector (1, 1), eigenvalue 3.

    >>> M = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> x, k, err, ok = _perron_vector(lambda v: M @ v, 2, 1e-12, 10)
    >>> x.tolist(), ok
    ([0.5, 0.5], True)
    """
    x = np.full(size, 1.0 / size)
    used, err = 0, np.inf
    # A Ritz residual below this makes the power step's L1 change at most ~tol (the
    # change is at most 2·sqrt(size)·residual/eigenvalue for a unit Ritz vector).
    room = size if dual is None else dual[3]
    target = tol / (2.0 * np.sqrt(room))
    reserve = 1 if dual is None else 2  # the power step (and the half products down and up)
    while used < max_iter:
        k = min(steps, room, max_iter - used - reserve)
        if k > 0 and dual is None:
            x, done = _lanczos_ritz(matvec, x, k, target)
            used += done
        elif k > 0:
            down, op, up, _ = dual
            h, done = _lanczos_ritz(op, down(x), k, target)
            x = up(h)  # non-negative: h and the operator are
            x /= x.sum()
            used += done + 1
        y = matvec(x)
        used += 1
        y /= y.sum()
        err = float(np.abs(y - x).sum())
        x = y
        if err <= tol:
            return x, used, err, True
    return x, used, err, False


def _lanczos_ritz(matvec, start: np.ndarray, steps: int, target: float) -> tuple[np.ndarray, int]:
    """Top Ritz vector (non-negative, sum 1) of at most ``steps`` Lanczos steps from
    ``start``, and the products used; stops early once the residual estimate
    ``beta_j |y_j|`` is at most ``target`` times the Ritz value."""
    from scipy.linalg import eigh_tridiagonal

    V = np.empty((steps, len(start)))
    alpha, beta = np.empty(steps), np.empty(steps)
    v = start / np.sqrt(_dot(start, start))
    for j in range(steps):
        V[j] = v
        w = matvec(v)
        alpha[j] = _dot(v, w)
        # Full reorthogonalisation against the basis, once more when it removed most of w
        # (Daniel-Gragg-Kaufman-Stewart): keeps the basis, hence the Ritz vector, exact.
        before = np.sqrt(_dot(w, w))
        w -= np.einsum("ij,i->j", V[: j + 1], np.einsum("ij,j->i", V[: j + 1], w))
        beta[j] = np.sqrt(_dot(w, w))
        if beta[j] < 0.7 * before:
            w -= np.einsum("ij,i->j", V[: j + 1], np.einsum("ij,j->i", V[: j + 1], w))
            beta[j] = np.sqrt(_dot(w, w))
        if j:
            theta, Y = eigh_tridiagonal(alpha[: j + 1], beta[:j], select="i", select_range=(j, j))
            y, top = Y[:, 0], theta[0]
        else:
            y, top = np.ones(1), alpha[0]
        # Converged, or the Krylov space is invariant (exact eigenvector within it).
        if j + 1 == steps or beta[j] * abs(y[-1]) <= target * top or beta[j] <= 1e-15 * top:
            break
        v = w / beta[j]
    x = np.einsum("i,ij->j", y, V[: j + 1])
    if x.sum() < 0:
        x = -x
    np.maximum(x, 0, out=x)
    return x / x.sum(), j + 1
