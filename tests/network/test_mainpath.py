"""Main path analysis: a published example, brute force on random DAGs, edge cases.

Convention reminder: ``src[e]`` cites ``dst[e]``; knowledge flows ``dst[e] -> src[e]``.
"""

from collections import Counter
from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from pipeline.errors import MainPathInputError, NotADAGError, PathCountOverflowError
from pipeline.network.mainpath import (
    global_main_path,
    key_route_main_paths,
    local_forward_main_path,
    main_path_analysis,
    topological_levels,
    traversal_weights,
)


def citations(flow_edges, names):
    """(src, dst) arrays from knowledge-flow edges (cited, citing) given by name."""
    ix = {name: i for i, name in enumerate(names)}
    src = np.array([ix[b] for _, b in flow_edges], dtype=np.int64)
    dst = np.array([ix[a] for a, _ in flow_edges], dtype=np.int64)
    return src, dst


# ----------------------------------------------------------------- published example
# Wikipedia, "Main path analysis", section "Traversal counts" (text and Figs. 1-2 by
# J. S. Liu, author of Liu & Lu 2012 and Liu, Lu & Ho 2019). The figures are images; the
# text prints two values together with the paths that produce them:
#   "The SPC value for link (B,D) is 5 because five paths (B-D-F-H-K, B-D-F-I-L,
#    B-D-F-I-M-K, B-D-I-L, and B-D-I-M-K) traverse through it."   [SPC(B,D) = 5]
#   "Six paths traverse through the link (D,F) thus give it the SPLC value 6. They are:
#    B-D-F-H-K, B-D-F-I-L, B-D-F-I-M-K, D-F-H-K, D-F-I-L, and D-F-I-M-K"  [SPLC(D,F) = 6]
# (the SPC sentence misprints the M-K endings as "M-N"/"M-M" in some revisions; the SPLC
# sentence and Kirchhoff's law fix them as M-K). Arrows point from cited to citing.
# The edge list below is the part of the figure spanned by those paths: B is a source,
# K and L are sinks. The remaining values are hand-computed from N-(u) * N+(v):
#
#   node      B  D  F  H  I  K   L  M
#   SPC  N-   1  1  1  1  2  3   2  2      N+   5  5  3  1  2  1  1  1
#   SPLC N-   1  2  3  4  6  12  7  7      (N+ as SPC)
#   SPNP N-   (as SPLC)                    N+  13 12  7  2  4  1  1  2
#
#   edge   B-D D-F D-I F-H F-I H-K I-L I-M M-K
#   SPC     5   3   2   1   2   1   2   2   2
#   SPLC    5   6   4   3   6   4   6   6   7
#   SPNP   12  14   8   6  12   4   6  12   7
LIU_NAMES = ["B", "D", "F", "H", "I", "K", "L", "M"]
LIU_FLOW = [
    ("B", "D"), ("D", "F"), ("D", "I"), ("F", "H"), ("F", "I"),
    ("H", "K"), ("I", "L"), ("I", "M"), ("M", "K"),
]  # fmt: skip
LIU_SPC = [5, 3, 2, 1, 2, 1, 2, 2, 2]
LIU_SPLC = [5, 6, 4, 3, 6, 4, 6, 6, 7]
LIU_SPNP = [12, 14, 8, 6, 12, 4, 6, 12, 7]


def liu_graph():
    return len(LIU_NAMES), *citations(LIU_FLOW, LIU_NAMES)


def test_published_values_spc_bd_and_splc_df():
    n, src, dst = liu_graph()
    spc = traversal_weights(n, src, dst, "spc")
    splc = traversal_weights(n, src, dst, "splc")
    assert spc[LIU_FLOW.index(("B", "D"))] == 5
    assert splc[LIU_FLOW.index(("D", "F"))] == 6


def test_published_path_lists_match_enumeration():
    g = nx.DiGraph(LIU_FLOW)
    through_bd = {"-".join(p) for p in nx.all_simple_paths(g, "B", ["K", "L"])}
    assert through_bd == {"B-D-F-H-K", "B-D-F-I-L", "B-D-F-I-M-K", "B-D-I-L", "B-D-I-M-K"}
    through_df = {
        "-".join(p)
        for a in ("B", "D")
        for p in nx.all_simple_paths(g, a, ["K", "L"])
        if "D-F" in "-".join(p)
    }
    assert through_df == {
        "B-D-F-H-K", "B-D-F-I-L", "B-D-F-I-M-K", "D-F-H-K", "D-F-I-L", "D-F-I-M-K",
    }  # fmt: skip


def test_liu_example_full_tables():
    n, src, dst = liu_graph()
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "spc"), LIU_SPC)
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "splc"), LIU_SPLC)
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "SPNP"), LIU_SPNP)
    # 5 source -> sink paths in all
    np.testing.assert_allclose(
        traversal_weights(n, src, dst, normalize=True), np.array(LIU_SPC) / 5
    )


def test_liu_example_main_paths():
    n, src, dst = liu_graph()
    w = traversal_weights(n, src, dst)
    edge = {e: i for i, e in enumerate(LIU_FLOW)}
    # Global: B-D-F-I-M-K, SPC sum 5+3+2+2+2 = 14 (B-D-F-I-L gives 12, B-D-F-H-K 10).
    gmp = global_main_path(n, src, dst, w)
    path = [("B", "D"), ("D", "F"), ("F", "I"), ("I", "M"), ("M", "K")]
    assert [LIU_FLOW[e] for e in gmp] == path
    # Local forward: B-D, then D-F (3 > 2), F-I (2 > 1), at I the tie I-L = I-M = 2
    # keeps both, then M-K.
    lfmp = [("B", "D"), ("D", "F"), ("F", "I"), ("I", "L"), ("I", "M"), ("M", "K")]
    expected = sorted(edge[e] for e in lfmp)
    np.testing.assert_array_equal(local_forward_main_path(n, src, dst, w), expected)
    # Key route 1 is B-D itself, so the local key-route path is the local forward path.
    np.testing.assert_array_equal(key_route_main_paths(n, src, dst, w, k=1), expected)


def test_citationnetworks_jl_example():
    # Cross-check against another implementation: jfb-h/CitationNetworks.jl,
    # test/runtests.jl (adjacency matrix A, edge i -> j when A[i, j] = 1, knowledge flow
    # direction, nodes 1-based; printed spc_true and local forward main path edges).
    flow = [(1, 3), (2, 3), (2, 4), (3, 5), (3, 7), (4, 6), (4, 10), (4, 11),
            (5, 8), (5, 9), (6, 9), (6, 10)]  # fmt: skip
    spc_true = [3, 3, 4, 4, 2, 2, 1, 1, 2, 2, 1, 1]
    on_lfmp = [False, False, True, False, False, True, False, False, False, False, True, True]
    src = np.array([b - 1 for _, b in flow])
    dst = np.array([a - 1 for a, _ in flow])
    w = traversal_weights(11, src, dst)
    np.testing.assert_array_equal(w, spc_true)
    np.testing.assert_array_equal(local_forward_main_path(11, src, dst, w), np.flatnonzero(on_lfmp))


# ----------------------------------------------------------------- brute force


def random_dag(seed):
    """Small random citation DAG with shuffled ids (index order is not topological)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 16))
    perm = rng.permutation(n)  # perm[i] is the i-th oldest patent
    p = rng.uniform(0.15, 0.5)
    pairs = [(perm[j], perm[i]) for j in range(n) for i in range(j) if rng.random() < p]
    src = np.array([a for a, _ in pairs], dtype=np.int64)
    dst = np.array([b for _, b in pairs], dtype=np.int64)
    return n, src, dst


def flow_graph(n, src, dst):
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(dst.tolist(), src.tolist()))
    return g


def path_edge_counts(g, eix, pairs):
    counts = Counter()
    for a, b in pairs:
        for path in nx.all_simple_paths(g, a, b):
            counts.update(eix[e] for e in pairwise(path))
    return np.array([counts[i] for i in range(len(eix))], dtype=float)


def brute_weights(n, src, dst):
    g = flow_graph(n, src, dst)
    eix = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(dst, src))}
    sources = [v for v in g if g.in_degree(v) == 0]
    sinks = [v for v in g if g.out_degree(v) == 0]
    spc = path_edge_counts(g, eix, [(s, t) for s in sources for t in sinks if s != t])
    splc = path_edge_counts(g, eix, [(a, t) for a in g for t in sinks if a != t])
    spnp = path_edge_counts(g, eix, [(a, b) for a in g for b in g if a != b])
    return spc, splc, spnp


def source_sink_paths(n, src, dst):
    g = flow_graph(n, src, dst)
    eix = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(dst, src))}
    sources = [v for v in g if g.in_degree(v) == 0]
    sinks = [v for v in g if g.out_degree(v) == 0]
    for s in sources:
        for t in sinks:
            if s != t:
                for path in nx.all_simple_paths(g, s, t):
                    yield [eix[e] for e in pairwise(path)]


def ref_local(n, src, dst, w, nodes, forward):
    """Plain-Python greedy search keeping ties (reference for the vectorised one)."""
    m = len(w)
    out_edges = {v: [e for e in range(m) if (dst[e] if forward else src[e]) == v] for v in range(n)}
    step = (lambda e: src[e]) if forward else (lambda e: dst[e])
    used, todo, seen = set(), list(nodes), set()
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        es = out_edges[v]
        if not es:
            continue
        best = max(w[e] for e in es)
        for e in es:
            if w[e] == best:
                used.add(e)
                todo.append(int(step(e)))
    return used


def ref_local_forward(n, src, dst, w, level):
    from_source = [e for e in range(len(w)) if level[dst[e]] == 0]
    best = max(w[e] for e in from_source)
    start = [e for e in from_source if w[e] == best]
    return sorted(set(start) | ref_local(n, src, dst, w, [int(src[e]) for e in start], True))


def ref_key_route(n, src, dst, w, k, search):
    keys = sorted(range(len(w)), key=lambda e: (-w[e], e))[:k]
    used = set(keys)
    if search == "local":
        used |= ref_local(n, src, dst, w, [int(src[e]) for e in keys], True)
        used |= ref_local(n, src, dst, w, [int(dst[e]) for e in keys], False)
        return sorted(used)
    paths = list(source_sink_paths(n, src, dst))
    for e in keys:  # heaviest source -> sink path through each key route
        used |= set(max((p for p in paths if e in p), key=lambda p: sum(w[i] for i in p)))
    return sorted(used)


SEEDS = range(30)


def weights_for(kind, seed, n, src, dst):
    if kind == "spc":  # integer counts: many exact ties
        return traversal_weights(n, src, dst)
    return np.random.default_rng(seed).random(src.size)  # continuous: no ties


@pytest.mark.parametrize("seed", SEEDS)
def test_weights_equal_path_enumeration(seed):
    n, src, dst = random_dag(seed)
    spc, splc, spnp = brute_weights(n, src, dst)
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "spc"), spc)
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "splc"), splc)
    np.testing.assert_array_equal(traversal_weights(n, src, dst, "spnp"), spnp)
    assert (spnp >= splc).all() and (splc >= spc).all()
    if src.size:
        total = sum(1 for _ in source_sink_paths(n, src, dst))
        np.testing.assert_allclose(traversal_weights(n, src, dst, normalize=True), spc / total)


@pytest.mark.parametrize("seed", SEEDS)
def test_levels_are_longest_citation_chains(seed):
    n, src, dst = random_dag(seed)
    level = topological_levels(n, src, dst)
    assert (level[src] > level[dst]).all()
    g = flow_graph(n, src, dst)
    for v in nx.topological_sort(g):
        preds = list(g.predecessors(v))
        assert level[v] == (1 + max(level[u] for u in preds) if preds else 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["spc", "random"])
def test_global_main_path_is_heaviest_source_sink_path(seed, kind):
    n, src, dst = random_dag(seed)
    if src.size == 0:
        return
    w = weights_for(kind, seed, n, src, dst)
    path = global_main_path(n, src, dst, w)
    best = max(sum(w[e] for e in p) for p in source_sink_paths(n, src, dst))
    assert w[path].sum() == pytest.approx(best, rel=1e-12)
    # a genuine source -> sink path, listed in flow order
    level = topological_levels(n, src, dst)
    assert level[dst[path[0]]] == 0
    assert not np.isin(src[path[-1]], dst)
    np.testing.assert_array_equal(src[path[:-1]], dst[path[1:]])
    np.testing.assert_array_equal(global_main_path(n, src, dst, w), path)  # deterministic


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["spc", "random"])
def test_local_and_key_route_match_reference(seed, kind):
    n, src, dst = random_dag(seed)
    if src.size == 0:
        return
    w = weights_for(kind, seed, n, src, dst)
    level = topological_levels(n, src, dst)
    np.testing.assert_array_equal(
        local_forward_main_path(n, src, dst, w), ref_local_forward(n, src, dst, w, level)
    )
    for k in (1, 3, 10):
        np.testing.assert_array_equal(
            key_route_main_paths(n, src, dst, w, k), ref_key_route(n, src, dst, w, k, "local")
        )
        if kind == "random":  # continuous weights: the heaviest paths are unique
            np.testing.assert_array_equal(
                key_route_main_paths(n, src, dst, w, k, search="global"),
                ref_key_route(n, src, dst, w, k, "global"),
            )


def test_main_path_analysis_matches_separate_calls():
    n, src, dst = random_dag(3)
    res = main_path_analysis(n, src, dst, "splc", k=3)
    w = traversal_weights(n, src, dst, "splc")
    np.testing.assert_array_equal(res.weights, w)
    np.testing.assert_array_equal(res.global_path, global_main_path(n, src, dst, w))
    np.testing.assert_array_equal(res.local_forward, local_forward_main_path(n, src, dst, w))
    np.testing.assert_array_equal(res.key_route, key_route_main_paths(n, src, dst, w, 3))


# ----------------------------------------------------------------- edge cases


def all_results(n, src, dst):
    w = traversal_weights(n, src, dst)
    return (
        topological_levels(n, src, dst),
        w,
        global_main_path(n, src, dst, w),
        local_forward_main_path(n, src, dst, w),
        key_route_main_paths(n, src, dst, w),
    )


@pytest.mark.parametrize("n", [0, 1, 4])
def test_graphs_without_edges(n):
    none = np.array([], dtype=np.int64)
    levels, w, gmp, lmp, kr = all_results(n, none, none)
    np.testing.assert_array_equal(levels, np.zeros(n))
    for out in (w, gmp, lmp, kr):
        assert out.size == 0
    assert w.dtype == np.float64 and gmp.dtype == np.int64


def test_isolated_nodes_do_not_matter():
    # 0 <- 1 (1 cites 0) plus isolated nodes 2 and 3
    levels, w, gmp, lmp, kr = all_results(4, np.array([1]), np.array([0]))
    np.testing.assert_array_equal(levels, [0, 1, 0, 0])
    np.testing.assert_array_equal(w, [1.0])
    np.testing.assert_array_equal(traversal_weights(4, [1], [0], normalize=True), [1.0])
    for out in (gmp, lmp, kr):
        np.testing.assert_array_equal(out, [0])


def test_disconnected_components():
    # component A: chain 0 -> 1 -> 2 (flow); component B: 3 -> 4 -> {5, 6} (two paths)
    flow = [(0, 1), (1, 2), (3, 4), (4, 5), (4, 6)]
    src = np.array([b for _, b in flow])
    dst = np.array([a for a, _ in flow])
    w = traversal_weights(7, src, dst)
    np.testing.assert_array_equal(w, [1, 1, 2, 1, 1])
    np.testing.assert_allclose(traversal_weights(7, src, dst, normalize=True), w / 3)
    # global: 3-4-5 and 3-4-6 both sum to 3 > 2; the tie goes to the lower sink, node 5
    np.testing.assert_array_equal(global_main_path(7, src, dst, w), [2, 3])
    # local forward starts at the heaviest source edge (3 -> 4) and keeps the tie at 4
    np.testing.assert_array_equal(local_forward_main_path(7, src, dst, w), [2, 3, 4])
    np.testing.assert_array_equal(key_route_main_paths(7, src, dst, w, k=1), [2, 3, 4])
    # key routes 3 -> 4 and (tie by lower index) 0 -> 1 reach into both components
    np.testing.assert_array_equal(key_route_main_paths(7, src, dst, w, k=2), range(5))


@pytest.mark.parametrize(
    ("src", "dst"),
    [([0, 1, 2], [1, 2, 0]), ([0], [0]), ([1, 0, 3], [0, 1, 2])],
    ids=["triangle", "self-citation", "cycle-plus-tree"],
)
def test_cycle_raises_not_a_dag(src, dst):
    with pytest.raises(NotADAGError, match="not acyclic"):
        topological_levels(4, src, dst)
    with pytest.raises(ValueError):  # NotADAGError is a ValueError too
        traversal_weights(4, src, dst)


@pytest.mark.parametrize(
    ("n", "src", "dst", "match"),
    [
        (3, [1, 1], [0, 0], "duplicate"),
        (2, [2], [0], r"\[0, n=2\)"),
        (2, [-1], [0], r"\[0, n=2\)"),
        (3, [1, 2], [0], "equal length"),
        (3, [1.0], [0.0], "integer"),
        (-1, [], [], ">= 0"),
        ("3", [], [], "integer number"),
    ],
)
def test_bad_edges_are_rejected(n, src, dst, match):
    with pytest.raises(MainPathInputError, match=match):
        traversal_weights(n, src, dst)


def test_bad_arguments_are_rejected():
    n, src, dst = liu_graph()
    with pytest.raises(MainPathInputError, match="method"):
        traversal_weights(n, src, dst, "pagerank")
    with pytest.raises(MainPathInputError, match="one value per edge"):
        global_main_path(n, src, dst, [1.0])
    with pytest.raises(MainPathInputError, match="finite"):
        local_forward_main_path(n, src, dst, np.full(src.size, np.nan))
    with pytest.raises(MainPathInputError, match="k must be >= 1"):
        key_route_main_paths(n, src, dst, np.ones(src.size), k=0)
    with pytest.raises(MainPathInputError, match="search"):
        key_route_main_paths(n, src, dst, np.ones(src.size), search="both")


def diamond_chain(stages):
    """a0 -> {b0, c0} -> a1 -> ... -> a_stages: 2**stages source -> sink paths."""
    a = lambda j: 3 * j  # noqa: E731
    flow = []
    for j in range(stages):
        flow += [(a(j), a(j) + 1), (a(j), a(j) + 2), (a(j) + 1, a(j + 1)), (a(j) + 2, a(j + 1))]
    src = np.array([t for _, t in flow])
    dst = np.array([s for s, _ in flow])
    return 3 * stages + 1, src, dst


def test_counts_beyond_float64_are_rescaled():
    n, src, dst = diamond_chain(1100)  # 2**1100 paths: far beyond float64 (~2**1024)
    with pytest.raises(PathCountOverflowError, match="normalize=True"):
        traversal_weights(n, src, dst)
    # every edge carries exactly half of all source -> sink paths
    np.testing.assert_allclose(traversal_weights(n, src, dst, normalize=True), 0.5, rtol=1e-12)
    splc = traversal_weights(n, src, dst, "splc", normalize=True)
    assert np.isfinite(splc).all() and (splc > 0).all() and (splc <= 1).all()
    # below the limit the same graph is exact without normalising
    n, src, dst = diamond_chain(50)
    np.testing.assert_array_equal(traversal_weights(n, src, dst), 2.0**49)


def test_rescaled_weights_still_give_main_paths():
    n, src, dst = diamond_chain(1100)
    res = main_path_analysis(n, src, dst, normalize=True, k=2)
    assert res.global_path.size == 2 * 1100
    assert res.local_forward.size == src.size  # all ties kept
