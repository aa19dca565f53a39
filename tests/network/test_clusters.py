"""Coupling, co-citation, communities and cluster labels on hand-checked small graphs."""

import random

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from pipeline.errors import ClusterInputError, PatNavError, SchemaError
from pipeline.network.clusters import (
    cocitation_matrix,
    coupling_matrix,
    detect_communities,
    hub_features,
    label_clusters,
    strongest_links,
)

# Six nodes; rows cite columns (the repeated 0 → 3 counts once):
#
#        0  1  2  3  4  5
#   0 [  .  .  .  1  1  . ]   cites 3, 4
#   1 [  .  .  .  1  1  1 ]   cites 3, 4, 5
#   2 [  .  .  .  .  .  1 ]   cites 5
#   3 [  .  .  .  .  .  1 ]   cites 5
#   4, 5 cite nothing
#
# Coupling A·Aᵀ (shared references), diagonal dropped:
#   (0,1) = |{3,4}| = 2, (1,2) = (1,3) = (2,3) = |{5}| = 1; reference counts k = 2, 3, 1, 1.
# Co-citation Aᵀ·A (citing patents in common):
#   (3,4) = |{0,1}| = 2, (3,5) = (4,5) = |{1}| = 1; times cited k3 = 2, k4 = 2, k5 = 3.
N = 6
SRC = np.array([0, 0, 0, 1, 1, 1, 2, 3], dtype=np.int64)
DST = np.array([3, 3, 4, 3, 4, 5, 5, 5], dtype=np.int64)

COUPLING = np.array([
    [0, 2, 0, 0, 0, 0],
    [2, 0, 1, 1, 0, 0],
    [0, 1, 0, 1, 0, 0],
    [0, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
])
COCITATION = np.zeros((6, 6), dtype=int)
COCITATION[3, 4] = COCITATION[4, 3] = 2
COCITATION[3, 5] = COCITATION[5, 3] = COCITATION[4, 5] = COCITATION[5, 4] = 1


def test_coupling_hand_computed():
    c = coupling_matrix(N, SRC, DST)
    assert sp.issparse(c)
    np.testing.assert_array_equal(c.toarray(), COUPLING)
    assert (c.diagonal() == 0).all() and c.nnz == 8  # no stored diagonal or zeros


def test_cocitation_hand_computed():
    np.testing.assert_array_equal(cocitation_matrix(N, SRC, DST).toarray(), COCITATION)


def test_min_shared_drops_weak_links():
    c = coupling_matrix(N, SRC, DST, min_shared=2)
    assert sorted(zip(*c.nonzero())) == [(0, 1), (1, 0)]


def test_normalisations():
    cos = coupling_matrix(N, SRC, DST, normalize="cosine")
    assert cos[0, 1] == pytest.approx(2 / np.sqrt(2 * 3))
    assert cos[1, 2] == pytest.approx(1 / np.sqrt(3 * 1))
    assert cos[2, 3] == pytest.approx(1.0)
    np.testing.assert_allclose(coupling_matrix(N, SRC, DST, normalize="salton").toarray(), cos.toarray())
    assert coupling_matrix(N, SRC, DST, normalize="jaccard")[0, 1] == pytest.approx(2 / (2 + 3 - 2))
    assert coupling_matrix(N, SRC, DST, normalize="association")[0, 1] == pytest.approx(2 / (2 * 3))
    cocos = cocitation_matrix(N, SRC, DST, normalize="cosine")
    assert cocos[3, 4] == pytest.approx(2 / np.sqrt(2 * 2))
    assert cocos[3, 5] == pytest.approx(1 / np.sqrt(2 * 3))
    assert (cos != cos.T).nnz == 0


def test_empty_and_edgeless_graphs():
    assert coupling_matrix(0, [], []).shape == (0, 0)
    assert cocitation_matrix(1, [], []).nnz == 0
    assert coupling_matrix(3, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).nnz == 0
    assert detect_communities(sp.csr_matrix((0, 0))).tolist() == []
    assert detect_communities(sp.csr_matrix((1, 1))).tolist() == [-1]
    assert detect_communities(coupling_matrix(3, [], [])).tolist() == [-1, -1, -1]


def test_bad_edges_raise_named_error():
    with pytest.raises(ClusterInputError, match="outside 0..5"):
        coupling_matrix(N, [0, 9], [1, 2])
    with pytest.raises(ClusterInputError, match="equal length"):
        cocitation_matrix(N, [0, 1], [1])
    with pytest.raises(ClusterInputError, match="normalize"):
        coupling_matrix(N, SRC, DST, normalize="dice")
    assert issubclass(ClusterInputError, PatNavError)


def _two_cliques() -> sp.csr_matrix:
    # K4 on 0..3 and K4 on 4..7, bridged by the single edge 3–4; node 8 isolated.
    rows, cols = [], []
    for block in (range(0, 4), range(4, 8)):
        for i in block:
            for j in block:
                if i < j:
                    rows.append(i)
                    cols.append(j)
    rows.append(3)
    cols.append(4)
    s = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(9, 9))
    return (s + s.T).tocsr()


@pytest.mark.parametrize("method", ["leiden", "louvain"])
def test_two_cliques_make_two_communities(method):
    labels = detect_communities(_two_cliques(), method=method)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, -1]
    assert labels.dtype == np.int64


def test_labels_by_size_then_smallest_member():
    # Triangle 0–1–2 and a 5-clique on 3..7: the larger one is community 0.
    rows, cols = [0, 0, 1], [1, 2, 2]
    for i in range(3, 8):
        for j in range(i + 1, 8):
            rows.append(i)
            cols.append(j)
    s = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(8, 8))
    assert detect_communities(s + s.T).tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    # Two equal triangles: the one holding node 0 comes first.
    t = sp.coo_matrix((np.ones(6), ([3, 3, 4, 0, 0, 1], [4, 5, 5, 1, 2, 2])), shape=(6, 6))
    assert detect_communities(t + t.T).tolist() == [0, 0, 0, 1, 1, 1]


def test_determinism_and_global_random_untouched():
    rng = np.random.default_rng(7)
    m = sp.random(120, 120, density=0.04, random_state=rng, format="csr")
    s = ((m + m.T) > 0).astype(float)
    state = random.getstate()
    for method in ("leiden", "louvain"):
        first = detect_communities(s, method=method, seed=3)
        second = detect_communities(s, method=method, seed=3)
        np.testing.assert_array_equal(first, second)
        assert first.max() >= 1  # a real partition, not one blob
    assert random.getstate() == state


def test_resolution_changes_granularity():
    coarse = detect_communities(_two_cliques(), resolution=0.05)
    fine = detect_communities(_two_cliques(), resolution=1.0)
    assert coarse.max() < fine.max()


def test_detect_communities_rejects_bad_matrices():
    with pytest.raises(ClusterInputError, match="symmetric"):
        detect_communities(sp.csr_matrix(np.array([[0, 1], [0, 0]])))
    with pytest.raises(ClusterInputError, match="square"):
        detect_communities(sp.csr_matrix((2, 3)))
    with pytest.raises(ClusterInputError, match="negative"):
        detect_communities(sp.csr_matrix(np.array([[0, -1.0], [-1.0, 0]])))
    with pytest.raises(ClusterInputError, match="method"):
        detect_communities(_two_cliques(), method="infomap")
    # Same pattern both ways but different weights: still asymmetric.
    with pytest.raises(ClusterInputError, match="symmetric"):
        detect_communities(sp.csr_matrix(np.array([[0, 2.0], [1.0, 0]])))


def test_explicit_zeros_and_unsorted_entries_change_nothing():
    # Two triangles joined by a weak link 2-3, entries in scrambled order, plus an explicit
    # zero (4, 0): the patterns of the matrix and its transpose then differ, the values do not.
    i = [2, 1, 0, 3, 5, 4, 3, 2, 0, 0]
    j = [1, 0, 2, 5, 4, 3, 2, 3, 1, 4]
    w = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.0, 0.0]
    upper = sp.coo_matrix((w, (i, j)), shape=(6, 6))
    full = upper + upper.T
    messy = sp.csr_matrix((np.r_[full.tocoo().data, 0.0], (np.r_[full.tocoo().row, 4], np.r_[full.tocoo().col, 0])),
                          shape=(6, 6))
    messy.has_canonical_format = False
    assert detect_communities(messy).tolist() == [0, 0, 0, 1, 1, 1]
    assert detect_communities(_two_cliques()).tolist() == detect_communities(_two_cliques().tocoo()).tolist()


# Cluster 0: A B C F (lithium batteries), cluster 1: D E (drones), X: an outside document.
NODES = pd.DataFrame({"node": ["A", "B", "C", "D", "E", "F", "X"]})
LABELS = [0, 0, 0, 1, 1, 0, -1]
PATENTS = pd.DataFrame({
    "pub_id": list("ABCDEF"),
    "app_date": pd.to_datetime(["2017-03-01", "2018-05-01", "2021-01-01", "2019-01-01", "2021-06-01", "2020-02-02"]),
    "title": ["锂离子电池正极材料", "锂离子电池电解液", "锂离子电池隔膜及其制备方法", "无人机旋翼结构", "一种无人机电池",
              "锂离子电池负极材料"],
})
CLASSIFICATIONS = pd.DataFrame({
    "pub_id": ["A", "A", "B", "C", "C", "D", "E", "E", "F", "F"],
    "scheme": ["IPC"] * 9 + ["CPC"],
    "main_group": ["H01M4", "H01M10", "H01M10", "H01M10", "H01M2", "B64C27", "B64C27", "B64U10", "H01M10", "Y02E60"],
})
IPC_TITLES = pd.DataFrame({
    "symbol": ["H01M10/00", "H01M10/00", "B64C27/00"],
    "lang": ["zh", "en", "zh"],
    "title": ["二次电池；及其制造", "Secondary cells; Manufacture thereof", "旋翼飞机；其特有的旋翼"],
})


def test_label_clusters_on_tiny_frame():
    out = label_clusters(LABELS, NODES, CLASSIFICATIONS, PATENTS, lang="zh", top=2, ipc_titles=IPC_TITLES, window=2)
    assert out["cluster"].tolist() == [0, 1]
    assert out["size"].tolist() == [4, 2]
    # IPC share over the cluster's IPC-classified patents (the CPC row is ignored);
    # H01M2 and H01M4 tie at 1/4 and sort by symbol.
    assert out["top_ipc"].tolist() == ["H01M10 (100%); H01M2 (25%)", "B64C27 (100%); B64U10 (50%)"]
    assert out["ipc_main_share"].tolist() == [1.0, 1.0]
    # Term score p_c × ln(p_c / p), over 6 clustered titles:
    # cluster 0: 锂离子 1 × ln(1 / (4/6)) = 0.41 > 材料 2/4 × ln((2/4) / (2/6)) = 0.20 > 电池 1 × ln(1 / (5/6)) = 0.18;
    # cluster 1: 无人机 1 × ln(1 / (2/6)) = 1.10, then 旋翼 and 结构 tie at 0.55 (旋 sorts first); 电池 < 0.
    assert out["terms"].tolist() == ["锂离子; 材料", "无人机; 旋翼"]
    assert out["first_year"].tolist() == [2017, 2019]
    assert out["last_year"].tolist() == [2021, 2021]
    assert out["median_year"].tolist() == [2019.0, 2020.0]
    # window 2, last year 2021: recent = 2020–21, before = 2018–19.
    assert out["recent"].tolist() == [2, 1] and out["before"].tolist() == [1, 1]
    assert out["growth"].tolist() == [1.0, 0.0]
    assert out["label"].tolist() == ["二次电池（H01M10）：锂离子、材料", "旋翼飞机（B64C27）：无人机、旋翼"]


def test_label_clusters_on_arrow_strings():
    # Canonical tables read from Parquet hold pyarrow-backed strings (RE2 regexes).
    arrow = PATENTS.astype({"pub_id": "string[pyarrow]", "title": "string[pyarrow]"})
    cls = CLASSIFICATIONS.astype("string[pyarrow]")
    out = label_clusters(LABELS, NODES.astype("string[pyarrow]"), cls, arrow, lang="zh", top=2, window=2)
    assert out["terms"].tolist() == ["锂离子; 材料", "无人机; 旋翼"]


def test_label_clusters_english_and_fallbacks():
    out = label_clusters(LABELS, NODES, CLASSIFICATIONS, PATENTS, lang="en", top=1, ipc_titles=IPC_TITLES,
                         last_year=2021, window=3)
    # No English title for B64C27: the symbol stands in.
    assert out["label"].tolist() == ["Secondary cells (H01M10): 锂离子", "B64C27: 无人机"]
    # before (2016–18) = A, B for cluster 0; none for cluster 1 → growth undefined.
    assert out["growth"].iloc[0] == pytest.approx((2 - 2) / 2)
    assert np.isnan(out["growth"].iloc[1])
    # No cluster's main group has a title in the language (old IPC editions, US data): symbols alone.
    untitled = label_clusters(LABELS, NODES, CLASSIFICATIONS, PATENTS, lang="en", top=1,
                              ipc_titles=IPC_TITLES[IPC_TITLES["symbol"] == "B64C27/00"], window=3)
    assert untitled["label"].tolist() == ["H01M10: 锂离子", "B64C27: 无人机"]
    bare = label_clusters(LABELS, NODES, CLASSIFICATIONS.iloc[:0], PATENTS.assign(title=None), lang="en")
    assert bare["label"].tolist() == ["Cluster 0", "Cluster 1"]
    english = PATENTS.assign(title=["Lithium battery cathode"] * 3 + ["Drone rotor"] * 2 + ["Lithium anode"])
    # lithium in 4/4 titles of cluster 0, battery and cathode in 3/4.
    en = label_clusters(LABELS, NODES, CLASSIFICATIONS, english, lang="en", top=1)
    assert en["terms"].tolist() == ["lithium", "drone"]
    # One English title of four: its terms reach 25 % ≥ 10 %, so an English label keeps only them;
    # cluster 1 has no English term and keeps its Chinese ones.
    mixed = PATENTS.assign(title=PATENTS["title"].where(PATENTS["pub_id"] != "F", "Lithium anode"))
    assert label_clusters(LABELS, NODES, CLASSIFICATIONS, mixed, lang="en", top=1)["terms"].tolist() == ["anode", "无人机"]
    assert label_clusters(LABELS, NODES, CLASSIFICATIONS, mixed, lang="zh", top=1)["terms"].tolist() == ["锂离子", "无人机"]


def test_label_clusters_empty_and_bad_input():
    none = label_clusters([-1] * 7, NODES, CLASSIFICATIONS, PATENTS)
    assert none.empty and "label" in none.columns
    empty = label_clusters([], NODES.iloc[:0], CLASSIFICATIONS, PATENTS)
    assert empty.empty
    with pytest.raises(SchemaError, match="main_group"):
        label_clusters(LABELS, NODES, CLASSIFICATIONS.drop(columns="main_group"), PATENTS)
    with pytest.raises(ClusterInputError, match="labels has 2"):
        label_clusters([0, 1], NODES, CLASSIFICATIONS, PATENTS)
    with pytest.raises(ClusterInputError, match="lang"):
        label_clusters(LABELS, NODES, CLASSIFICATIONS, PATENTS, lang="de")


# ---------------------------------------------------------------------------------------
# Leiden's iteration cap


def test_leiden_cap_warns_names_the_param_and_keeps_a_valid_partition():
    from pipeline.network.clusters import LeidenNotStableWarning

    # The first iteration already finds the two cliques, but only a second one that changes
    # nothing shows the partition is stable: a cap of 1 warns, a cap of 2 does not.
    with pytest.warns(LeidenNotStableWarning, match=r"after 1 iterations.*network\.clusters\.max_iterations"):
        capped = detect_communities(_two_cliques(), max_iterations=1)
    assert capped.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, -1]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", LeidenNotStableWarning)
        assert detect_communities(_two_cliques(), max_iterations=2).tolist() == capped.tolist()
    with pytest.raises(ClusterInputError, match="max_iterations"):
        detect_communities(_two_cliques(), max_iterations=0)


def test_leiden_cap_on_a_random_graph_stops_where_until_stable_goes_on():
    import warnings

    from pipeline.network.clusters import LeidenNotStableWarning

    # Random citations (no community structure): 2,000 patents, 6,000 references.
    rng = np.random.default_rng(5)
    src, dst = rng.integers(0, 2000, 6000), rng.integers(0, 2000, 6000)
    keep = src != dst
    s = coupling_matrix(2000, src[keep], dst[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeidenNotStableWarning)
        stable = detect_communities(s, max_iterations=-1)  # until stable: more than 3 iterations here
        assert np.array_equal(detect_communities(s, max_iterations=1000), stable)  # a cap not reached changes nothing
    with pytest.warns(LeidenNotStableWarning, match="after 3 iterations"):
        capped = detect_communities(s, max_iterations=3)
    assert len(capped) == 2000 and capped.min() >= -1 and capped.max() >= 1
    assert ((capped == -1) == (stable == -1)).all()  # the same nodes are linked either way


def test_hub_documents_link_no_pair_of_citing_patents():
    # Patents 0, 1, 2 cite document 5 (3 citations); 0 and 1 also cite 6; 2 and 3 cite 7.
    src, dst = [0, 1, 2, 0, 1, 2, 3], [5, 5, 5, 6, 6, 7, 7]
    full = coupling_matrix(8, src, dst).toarray()
    assert full[0, 1] == 2 and full[0, 2] == 1 and full[1, 2] == 1 and full[2, 3] == 1
    pruned = coupling_matrix(8, src, dst, max_degree=2).toarray()
    # Document 5 is left out: 0–1 share only 6, 0–2 and 1–2 share nothing; 7 still links 2–3.
    assert pruned[0, 1] == 1 and pruned[0, 2] == 0 and pruned[1, 2] == 0 and pruned[2, 3] == 1
    assert coupling_matrix(8, src, dst, max_degree=3).toarray().tolist() == full.tolist()
    # Cosine counts the references kept: 0 keeps one (6), 1 keeps one (6) -> 1 / sqrt(1 * 1).
    assert coupling_matrix(8, src, dst, max_degree=2, normalize="cosine")[0, 1] == pytest.approx(1.0)
    # Co-citation: patent 0 cites 3 documents; with max_degree 2 its list links nothing.
    co = cocitation_matrix(8, [0, 0, 0, 1, 1], [5, 6, 7, 5, 6], max_degree=2).toarray()
    assert co[5, 6] == 1 and co[5, 7] == 0 and co[6, 7] == 0
    a = sp.csr_matrix(([1] * 7, (src, dst)), shape=(8, 8))
    assert hub_features(a, 2).nonzero()[0].tolist() == [5]
    assert not hub_features(a, None).any()
    with pytest.raises(ClusterInputError, match="max_degree"):
        coupling_matrix(8, src, dst, max_degree=0)


def test_the_degree_limit_is_a_checked_param():
    from pipeline.config import NetworkParams
    from pipeline.errors import ConfigError

    assert NetworkParams.from_dict({}).clusters["max_degree"] == 100
    assert NetworkParams.from_dict({"clusters": {"max_degree": None}}).clusters["max_degree"] is None
    for bad in (0, 2.5, True, "1000"):
        with pytest.raises(ConfigError, match="network.clusters.max_degree"):
            NetworkParams.from_dict({"clusters": {"max_degree": bad}})


def test_strongest_links_keep_each_items_closest_ties():
    # Links 0-1 (3), 0-2 (2), 0-3 (1), 1-2 (1), 2-3 (1): 5 links among 4 items.
    u = sp.coo_matrix(([3, 2, 1, 1, 1], ([0, 0, 0, 1, 2], [1, 2, 3, 2, 3])), shape=(4, 4))
    s = sp.csr_matrix(u + u.T)
    assert strongest_links(s, 5) is s and strongest_links(s, None) is s  # within the limit: untouched
    # Room for 4 links: k = 4 // 4 = 1. 0 and 1 keep 0-1, 2 keeps 0-2, 3 breaks its tie
    # (0-3 and 2-3 weigh 1) towards 0: the union is the star around 0.
    one = strongest_links(s, 4)
    assert sp.triu(one).toarray().tolist() == [[0, 3, 2, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert (one != one.T).nnz == 0
    # Room for 8: k = 2. 0 keeps 0-1, 0-2; 1 keeps 1-0, 1-2; 2 keeps 2-0 and (tie 1 vs 3) 2-1;
    # 3 keeps 3-0, 3-2: every link survives.
    assert (strongest_links(s, 8) != s).nnz == 0 and strongest_links(s, 4 + 3).nnz == s.nnz
    # Weights stay as they were; a cosine matrix is cut the same way.
    assert strongest_links(s.astype(float) / 3, 4).nnz == one.nnz
    assert strongest_links(sp.csr_matrix((3, 3), dtype=np.int64), 1).nnz == 0
    with pytest.raises(ClusterInputError, match="max_links"):
        strongest_links(s, 0)
    # Through coupling_matrix: 0 cites {4, 5}, 2 {1, 4, 5}, 3 {1, 4}: 0-2 share 2, 2-3 share 2,
    # 0-3 share 1. A limit below the items still lets each keep one (k = 1): 0 keeps 0-2,
    # 2 its tie 2-0 (smaller id), 3 keeps 3-2; 0-3 goes.
    c = coupling_matrix(6, [0, 0, 2, 2, 2, 3, 3], [4, 5, 4, 5, 1, 1, 4], max_links=1)
    assert sp.triu(c).toarray()[[0, 0, 2], [2, 3, 3]].tolist() == [2, 0, 2]


def test_the_link_limit_is_a_checked_param():
    from pipeline.config import NetworkParams
    from pipeline.errors import ConfigError

    assert NetworkParams.from_dict({}).clusters["max_links"] == 2_000_000
    assert NetworkParams.from_dict({"clusters": {"max_links": None}}).clusters["max_links"] is None
    for bad in (0, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="network.clusters.max_links"):
            NetworkParams.from_dict({"clusters": {"max_links": bad}})


def test_strongest_links_integer_and_float_weights_cut_the_same_links():
    # Star 0-1 (5), 0-2 (5), 0-3 (5), plus 1-2 (4), 2-3 (5), 1-3 (1): 6 links, 4 items.
    # Room for 4 (k = 1): 0 keeps 0-1 (ties 5/5/5, smallest id), 1 keeps 1-0 (5),
    # 2 keeps 2-0 (tie with 2-3, smaller id), 3 keeps 3-0 (tie with 3-2): the star is left.
    u = sp.coo_matrix(([5, 5, 5, 4, 5, 1], ([0, 0, 0, 1, 2, 1], [1, 2, 3, 2, 3, 3])), shape=(4, 4))
    s = sp.csr_matrix(u + u.T)
    star = [[0, 5, 5, 5], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert sp.triu(strongest_links(s, 4)).toarray().tolist() == star
    as_float = strongest_links(s.astype(np.float64) / 5, 4)
    assert (sp.triu(as_float).toarray() * 5).tolist() == star
