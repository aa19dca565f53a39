"""PageRank and HITS: hand-computed examples, agreement with networkx, edge cases."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from pipeline.errors import CentralityInputError, ConvergenceError, PatNavError
from pipeline.network.centrality import _compact, _perron_vector, hits, pagerank


def random_graph(n, m, seed, dangling=0):
    """Random directed graph without duplicate edges or self-loops; the last ``dangling``
    nodes cite nothing and nodes 0, 1 are cited by nobody."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n - dangling, m)
    dst = rng.integers(2, n, m)
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])
    return key // n, key % n


def nx_graph(n, src, dst):
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    return G


def test_pagerank_hand_example():
    # 0 -> 1, 0 -> 2, 1 -> 2; 2 cites nothing (dangling: its rank is spread uniformly).
    # alpha = 1/2, teleport 1/3 each, so with x = (x0, x1, x2):
    #   x0 = 1/2 * (x2/3)               + 1/6
    #   x1 = 1/2 * (x0/2 + x2/3)        + 1/6
    #   x2 = 1/2 * (x0/2 + x1 + x2/3)   + 1/6
    # The first gives x0 = (x2 + 1)/6, the second x1 = 5 (x2 + 1)/24; in the third,
    # 5 x2 = (x2 + 1)/4 + 15 (x2 + 1)/24 + 1 = 7 (x2 + 1)/8 + 1, so 33 x2 = 15:
    # x2 = 15/33, x0 = 8/33, x1 = 10/33 (sum 1).
    r = pagerank(3, [0, 0, 1], [1, 2, 2], alpha=0.5, tol=1e-14)
    assert r.converged
    np.testing.assert_allclose(r.scores, np.array([8, 10, 15]) / 33, atol=1e-12)


@pytest.mark.parametrize("seed, n, m, dangling, alpha", [(0, 30, 80, 5, 0.85), (1, 60, 200, 10, 0.5),
                                                          (2, 12, 20, 6, 0.95), (3, 100, 150, 0, 0.85)])
def test_pagerank_matches_networkx(seed, n, m, dangling, alpha):
    src, dst = random_graph(n, m, seed, dangling)
    r = pagerank(n, src, dst, alpha=alpha, tol=1e-12, max_iter=2000)
    expected = nx.pagerank(nx_graph(n, src, dst), alpha=alpha, tol=1e-12, max_iter=2000)
    np.testing.assert_allclose(r.scores, [expected[i] for i in range(n)], atol=1e-8)
    assert r.scores.sum() == pytest.approx(1.0)
    assert r.error <= 1e-12 and r.iterations > 1


def test_pagerank_personalization_matches_networkx():
    n = 40
    src, dst = random_graph(n, 100, 7, dangling=8)
    pers = np.random.default_rng(7).random(n) * (np.arange(n) % 3 > 0)  # zeros too
    r = pagerank(n, src, dst, personalization=pers * 10, tol=1e-12)  # any positive sum
    expected = nx.pagerank(nx_graph(n, src, dst), tol=1e-12, personalization=dict(enumerate(pers)))
    np.testing.assert_allclose(r.scores, [expected[i] for i in range(n)], atol=1e-8)


def test_pagerank_direction_rank_flows_to_cited():
    r = pagerank(4, [1, 2, 3], [0, 0, 0])
    assert r.scores.argmax() == 0


def test_pagerank_duplicate_edges_add_up_like_multidigraph():
    src, dst = np.array([0, 0, 1]), np.array([1, 1, 2])
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(3))
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    expected = nx.pagerank(G, tol=1e-12)
    np.testing.assert_allclose(pagerank(3, src, dst).scores, [expected[i] for i in range(3)], atol=1e-8)


def test_pagerank_empty_single_and_edgeless():
    r = pagerank(0, [], [])
    assert r.scores.shape == (0,) and r.converged
    np.testing.assert_allclose(pagerank(1, [], []).scores, [1.0])
    np.testing.assert_allclose(pagerank(4, [], []).scores, np.full(4, 0.25))


def test_pagerank_not_converged_raises_with_last_iterate():
    src, dst = random_graph(30, 80, 0, 5)
    with pytest.raises(ConvergenceError, match="did not converge") as info:
        pagerank(30, src, dst, max_iter=1)
    assert isinstance(info.value, PatNavError)
    res = info.value.result
    assert not res.converged and res.iterations == 1 and res.error > 1e-10
    assert res.scores.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs", [{"personalization": [1, -1, 0]}, {"personalization": [0, 0, 0]},
                                    {"personalization": [1, 1]}, {"alpha": 1.5}])
def test_pagerank_bad_arguments(kwargs):
    with pytest.raises(CentralityInputError):
        pagerank(3, [0], [1], **kwargs)


def test_edges_out_of_range():
    with pytest.raises(CentralityInputError, match="0..2"):
        pagerank(3, [0], [3])
    with pytest.raises(CentralityInputError):
        hits(3, [0, 1], [1])


def test_hits_hand_example():
    # 1 -> 0, 2 -> 0, 2 -> 1. A^T A = [[2, 1, 0], [1, 1, 0], [0, 0, 0]]: its top eigenvalue
    # (3 + sqrt 5)/2 has eigenvector (1, (sqrt 5 - 1)/2, 0) = (1, 0.618.., 0); normalised to
    # sum 1: (0.618.., 0.381.., 0). Hubs A a = (0, a0, a0 + a1) -> (0, 0.381.., 0.618..).
    r = hits(3, [1, 2, 2], [0, 0, 1])
    phi = (np.sqrt(5) - 1) / 2
    np.testing.assert_allclose(r.authorities, [1 / (1 + phi), phi / (1 + phi), 0], atol=1e-9)
    np.testing.assert_allclose(r.hubs, [0, phi / (1 + phi), 1 / (1 + phi)], atol=1e-9)


@pytest.mark.parametrize("seed, n, m", [(0, 30, 120), (1, 50, 300), (2, 80, 200)])
def test_hits_matches_networkx(seed, n, m):
    src, dst = random_graph(n, m, seed, dangling=5)
    r = hits(n, src, dst, tol=1e-13, max_iter=5000)
    h, a = nx.hits(nx_graph(n, src, dst), max_iter=1000, tol=1e-14)
    np.testing.assert_allclose(r.authorities, [a[i] for i in range(n)], atol=1e-8)
    np.testing.assert_allclose(r.hubs, [h[i] for i in range(n)], atol=1e-8)
    assert r.hubs.sum() == pytest.approx(1) and r.authorities.sum() == pytest.approx(1)


def power_hits(n, src, dst, tol, max_iter=100_000):
    """Reference: plain power iteration a <- AᵀA a from the uniform vector (the solver
    ``hits`` had before its Lanczos one)."""
    A = nx.to_scipy_sparse_array(nx_graph(n, src, dst), nodelist=range(n), format="csr")
    a = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last, a = a, A.T @ (A @ a)
        a /= a.sum()
        if np.abs(a - last).sum() <= tol:
            break
    h = A @ a
    return h / h.sum(), a


@pytest.mark.parametrize("seed, n, m", [(0, 30, 120), (3, 400, 2500), (4, 2000, 6000)])
def test_hits_matches_power_iteration(seed, n, m):
    # Lanczos from the uniform vector tends to the same vector as power iteration from it;
    # with a tight power iteration the two agree to round-off, and the default tolerance
    # takes fewer products with AᵀA than power iteration needs.
    src, dst = random_graph(n, m, seed, dangling=5)
    h, a = power_hits(n, src, dst, tol=1e-15)
    r = hits(n, src, dst, tol=1e-15, max_iter=5000)
    np.testing.assert_allclose(r.authorities, a, rtol=0, atol=1e-14)
    np.testing.assert_allclose(r.hubs, h, rtol=0, atol=1e-14)
    assert r.converged and r.error <= 1e-15
    assert (r.authorities >= 0).all() and (r.hubs >= 0).all()


@pytest.mark.parametrize("citing", [40, 2900])
def test_hits_either_lanczos_side_matches_power_iteration(citing):
    # 40 citing patents of 3000 nodes: Lanczos runs on the hubs (BBᵀ, the smaller side);
    # 2900: on the authorities (BᵀB). Both reach power iteration's limit.
    rng = np.random.default_rng(citing)
    n = 3000
    src = rng.integers(0, citing, 4000)
    dst = rng.integers(0, n, 4000)
    key = np.unique(src[src != dst] * n + dst[src != dst])
    src, dst = key // n, key % n
    h, a = power_hits(n, src, dst, tol=1e-15)
    r = hits(n, src, dst, tol=1e-14, max_iter=5000)
    np.testing.assert_allclose(r.authorities, a, rtol=0, atol=1e-13)
    np.testing.assert_allclose(r.hubs, h, rtol=0, atol=1e-13)
    assert r.converged and r.error <= 1e-14


def test_hits_degenerate_top_eigenvalue_follows_the_uniform_start():
    # Two disjoint stars 2 -> 0, 3 -> 0 and 4 -> 1, 5 -> 1: AᵀA = diag(2, 2, 0, …), the top
    # eigenvalue is double. Power iteration from the uniform vector keeps 0 and 1 equal, and
    # so does Lanczos (its Krylov space holds only the uniform vector's components).
    r = hits(6, [2, 3, 4, 5], [0, 0, 1, 1])
    np.testing.assert_allclose(r.authorities, [0.5, 0.5, 0, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(r.hubs, [0, 0, 0.25, 0.25, 0.25, 0.25], atol=1e-15)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_compact_drops_empty_rows_and_columns(order):
    # 0 -> 1, 0 -> 2, 2 -> 2 (a loop counts like any edge here): rows 1 and 3 cite
    # nothing, columns 0 and 3 are cited by nobody. Sorted unique edges take the direct
    # CSR assembly, others scipy's; both give the same matrix.
    src, dst = np.array([0, 0, 2]), np.array([1, 2, 2])
    if order == "shuffled":
        src, dst = src[[2, 0, 1]], dst[[2, 0, 1]]
    B, rows, cols = _compact(4, src, dst, None)
    assert rows.tolist() == [0, 2] and cols.tolist() == [1, 2]
    assert B.toarray().tolist() == [[1, 1], [0, 1]]


def test_compact_repeated_edges_add_up():
    B, rows, cols = _compact(3, np.array([1, 1, 0]), np.array([0, 0, 2]), np.array([0.5, 0.25, 2.0]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 2]
    assert B.toarray().tolist() == [[0, 2.0], [0.75, 0]]


def test_perron_vector_hand_example():
    # [[2, 1, 0], [1, 2, 0], [0, 0, 1]]: top eigenvalue 3, eigenvector (1, 1, 0) -> (1/2, 1/2, 0).
    M = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    x, products, err, ok = _perron_vector(lambda v: M @ v, 3, 1e-14, 50)
    assert ok and err <= 1e-14 and products <= 4
    np.testing.assert_allclose(x, [0.5, 0.5, 0.0], atol=1e-15)


def test_perron_vector_budget_counts_every_product():
    # max_iter = 1 leaves room for the power step only: one product, not converged.
    M = np.array([[2.0, 1.0], [1.0, 1.0]])
    x, products, err, ok = _perron_vector(lambda v: M @ v, 2, 1e-14, 1)
    assert products == 1 and not ok
    np.testing.assert_allclose(x, [0.6, 0.4])  # M (1/2, 1/2) = (3/2, 1) -> (0.6, 0.4)


def test_hits_empty_single_and_edgeless():
    r = hits(0, [], [])
    assert r.hubs.shape == (0,) and r.authorities.shape == (0,)
    r = hits(3, [], [])
    np.testing.assert_allclose(r.hubs, np.full(3, 1 / 3))
    np.testing.assert_allclose(r.authorities, np.full(3, 1 / 3))


def test_hits_not_converged_raises():
    src, dst = random_graph(30, 120, 0, 5)
    with pytest.raises(ConvergenceError) as info:
        hits(30, src, dst, max_iter=1)
    assert info.value.result.iterations == 1 and not info.value.result.converged


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.5, 0.85, 1.0])
def test_exact_dag_sweep_matches_networkx(seed, alpha):
    # Acyclic graphs take the one-sweep path; it must equal the iterated fixed point.
    rng = np.random.default_rng(seed)
    n = 40
    pairs = {(int(i), int(j)) for i, j in rng.integers(0, n, (120, 2)) if i > j}
    src = np.array([i for i, _ in sorted(pairs)])
    dst = np.array([j for _, j in sorted(pairs)])
    w = rng.random(len(src)) + 0.1
    pers = rng.random(n)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True))
    ref = nx.pagerank(G, alpha=alpha, personalization=dict(enumerate(pers)), weight="weight", tol=1e-15,
                      max_iter=10_000)
    r = pagerank(n, src, dst, alpha=alpha, personalization=pers, weights=w)
    assert r.converged and r.error < 1e-12
    assert r.iterations == 1 + nx.dag_longest_path_length(G, weight=None)  # one pass per level
    assert np.allclose(r.scores, [ref[i] for i in range(n)], atol=1e-10)
