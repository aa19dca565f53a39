"""Citation graphs: building, cycle breaking, self-citations, counts."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pipeline.errors import GraphInputError, PatNavError
from pipeline.network.graph import (
    CitationGraph,
    break_cycles,
    citation_counts,
    from_edges,
    from_tables,
    is_acyclic,
    self_citations,
    to_csr,
    to_networkx,
)


def edges(*pairs, **cols):
    return pd.DataFrame({"citing": [p[0] for p in pairs], "cited": [p[1] for p in pairs], **cols})


# ------------------------------------------------------------------------ from_edges


def test_from_edges_sorted_ids_loops_and_duplicates_counted():
    g = from_edges(edges(("c", "a"), ("c", "a"), ("b", "b"), ("b", "a")))
    assert isinstance(g, CitationGraph)
    assert g.nodes["node"].tolist() == ["a", "b", "c"]
    assert g.nodes.index.tolist() == [0, 1, 2]
    assert (g.src.tolist(), g.dst.tolist()) == ([1, 2], [0, 0])
    assert g.src.dtype == np.int64 and g.dst.dtype == np.int64
    assert g.dropped == {"self_loops": 1, "duplicates": 1}
    assert g.n == 3 and g.m == 2 and len(g.removed) == 0
    # without a node list, a node is in the data set when its references are known
    assert g.nodes["in_data"].tolist() == [False, True, True]


def test_from_edges_integer_ids_sort_numerically():
    g = from_edges(edges((10, 9), (9, 2)))
    assert g.nodes["node"].tolist() == ["2", "9", "10"]
    assert (g.src.tolist(), g.dst.tolist()) == ([1, 2], [0, 1])


def test_from_edges_missing_ids_name_the_rows():
    bad = edges(("a", "b"), (None, "b"), ("c", " "), ("d", np.nan))
    with pytest.raises(GraphInputError, match=r"3 row\(s\).*row\(s\) 1, 2, 3") as info:
        from_edges(bad)
    assert isinstance(info.value, PatNavError)


def test_from_edges_unreadable_date_names_the_row():
    with pytest.raises(GraphInputError, match=r"'cited_date' at row\(s\) 1 .*'31/02/2010'"):
        from_edges(edges(("a", "b"), ("c", "b"), cited_date=["2010-01-01", "31/02/2010"]))


def test_from_edges_missing_column():
    with pytest.raises(GraphInputError, match="cited"):
        from_edges(pd.DataFrame({"citing": ["a"], "target": ["b"]}))


def test_from_edges_empty():
    g = from_edges(pd.DataFrame({"citing": [], "cited": []}))
    assert g.n == 0 and g.m == 0 and len(g.removed) == 0
    counts = citation_counts(g)
    assert len(counts) == 0
    assert g.edges.empty


def test_from_edges_dates_and_node_list():
    e = edges(("b", "a"), ("c", "a"), citing_date=["2012-05-01", "2015-01-01"],
              cited_date=["2010-01-01", "2009-12-31"])
    nodes = pd.DataFrame({"node": ["b", "c", "z"], "family_id": ["F", "F", None], "applicant": ["X", None, "Y"]})
    g = from_edges(e, nodes)
    n = g.nodes.set_index("node")
    # the earliest date the edge list gives for a node
    assert n.loc["a", "date"] == pd.Timestamp("2009-12-31")
    assert n.loc["z", "date"] is pd.NaT
    # listed nodes are in the data set, others are outside documents; isolated listed nodes stay
    assert n["in_data"].to_dict() == {"a": False, "b": True, "c": True, "z": True}
    assert n.loc["b", "family_id"] == "F" and pd.isna(n.loc["a", "family_id"])
    assert str(g.nodes["date"].dtype) == "datetime64[s]"


# ------------------------------------------------------------------------ cycles


def test_cycle_hand_example_time_reversed_then_order():
    # a(2000) <- b(2005) <- c(2010) and a wrong c <- a (a, older, "cites" c): a 3-cycle.
    # d <-> e (same date): a 2-cycle resolved by id order, the edge d -> e (citing the later id) goes.
    # f(2001) -> a(2000)... plus f -> g(2003): time-reversed but in no cycle, so kept.
    e = edges(("b", "a"), ("c", "b"), ("a", "c"), ("d", "e"), ("e", "d"), ("f", "g"),
              citing_date=["2005", "2010", "2000", "2001", "2001", "2001"],
              cited_date=["2000", "2005", "2010", "2001", "2001", "2003"])
    g = from_edges(e)
    assert is_acyclic(g.n, g.src, g.dst)
    assert g.removed[["citing", "cited", "reason"]].values.tolist() == [
        ["a", "c", "time_reversed"],
        ["d", "e", "cycle_order"],
    ]
    assert g.removed_counts == {"time_reversed": 1, "cycle_order": 1}
    kept = set(zip(g.edges["citing"], g.edges["cited"]))
    assert ("f", "g") in kept and ("e", "d") in kept


def test_unknown_dates_count_as_newest():
    # x (no date) <-> y (2010): in the (date, id) order y comes first, so x is "newer"
    # and the edge y -> x (citing something later) goes.
    e = edges(("x", "y"), ("y", "x"), citing_date=[None, "2010"], cited_date=["2010", None])
    g = from_edges(e)
    assert g.removed[["citing", "cited", "reason"]].values.tolist() == [["y", "x", "cycle_order"]]


def random_cyclic(n, m, seed, date_share):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    key = np.unique(src * n + dst)
    src, dst = key // n, key % n
    dates = np.array("2000-01-01", dtype="datetime64[D]") + rng.integers(0, 3650, n)
    dates[rng.random(n) >= date_share] = np.datetime64("NaT")
    return src, dst, dates


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("date_share", [0.0, 0.6, 1.0])
def test_break_cycles_gives_a_dag_on_random_graphs(seed, date_share):
    n = 60
    src, dst, dates = random_cyclic(n, 400, seed, date_share)
    assert not is_acyclic(n, src, dst)
    keep, reason = break_cycles(n, src, dst, dates)
    assert is_acyclic(n, src[keep], dst[keep])
    assert nx.is_directed_acyclic_graph(nx.DiGraph(list(zip(src[keep].tolist(), dst[keep].tolist()))))
    assert set(reason[~keep]) <= {"time_reversed", "cycle_order"} and (reason[keep] == None).all()  # noqa: E711
    # only edges inside cycles are touched: every removed edge closes a cycle with kept ones
    G = nx.DiGraph(list(zip(src.tolist(), dst.tolist())))
    scc = {v: k for k, comp in enumerate(nx.strongly_connected_components(G)) for v in comp}
    assert all(scc[u] == scc[v] for u, v in zip(src[~keep].tolist(), dst[~keep].tolist()))


def test_break_cycles_is_deterministic_whatever_the_row_order():
    n = 50
    src, dst, dates = random_cyclic(n, 300, 11, 0.7)
    ids = np.array([f"P{i:03d}" for i in range(n)])
    day = pd.Series(dates).astype("datetime64[s]")
    e = pd.DataFrame({"citing": ids[src], "cited": ids[dst],
                      "citing_date": day[src].to_numpy(), "cited_date": day[dst].to_numpy()})
    g1 = from_edges(e)
    g2 = from_edges(e.sample(frac=1, random_state=3).reset_index(drop=True))
    np.testing.assert_array_equal(g1.src, g2.src)
    np.testing.assert_array_equal(g1.dst, g2.dst)
    pd.testing.assert_frame_equal(g1.removed, g2.removed)
    assert len(g1.removed) > 0 and is_acyclic(g1.n, g1.src, g1.dst)


def test_acyclic_graph_untouched():
    e = edges(("b", "a"), ("c", "b"), ("c", "a"), citing_date=["2000", "2000", "2000"],
              cited_date=["2005", "2005", "2005"])  # all time-reversed, but no cycle
    g = from_edges(e)
    assert g.m == 3 and len(g.removed) == 0


# ------------------------------------------------------------------------ from_tables


@pytest.fixture
def tiny_tables():
    patents = pd.DataFrame({
        "pub_id": ["CN1A", "CN1B", "CN2A", "US3B2"],
        "family_id": ["F1", "F1", "F2", "F3"],
        "pub_date": pd.to_datetime(["2010-01-01", "2012-01-01", "2014-01-01", "2016-01-01"]),
    })
    citations = pd.DataFrame({
        "pub_id": ["CN1B", "CN2A", "CN2A", "CN2A", "US3B2", "US3B2", "US3B2"],
        "seq": [0, 0, 1, 2, 0, 1, 2],
        "cited_raw": ["CN1A", "CN1B", "de 9 a", "jp 77", "CN2A", "DE9B", "wo 5"],
        "cited_doc_key": ["CN1", "CN1", "DE9", None, "CN2", "DE9", None],
        "cited_date": pd.to_datetime([None, None, "2001-01-01", None, None, "2003-01-01", None]),
        "resolved_pub_id": ["CN1A", "CN1B", None, None, "CN2A", None, None],
    })
    parties = pd.DataFrame({
        "pub_id": ["CN1A", "CN1B", "CN2A", "CN2A", "US3B2"],
        "role": ["applicant", "applicant", "applicant", "applicant", "assignee"],
        "seq": [0, 0, 0, 1, 0],
        "name_norm": ["ACME", "ACME", "BETA", "ACME", "GAMMA"],
    })
    return patents, citations, parties


def test_from_tables_patent_level(tiny_tables):
    patents, citations, parties = tiny_tables
    g = from_tables(patents, citations, parties)
    n = g.nodes.set_index("node")
    assert sorted(n.index) == ["CN1A", "CN1B", "CN2A", "DE9", "JP77", "US3B2", "WO5"]
    assert n["in_data"].sum() == 4
    # outside documents: one node per document key (DE9 A and B), dated from the citation
    assert n.loc["DE9", "date"] == pd.Timestamp("2001-01-01")
    assert n.loc["CN2A", "date"] == pd.Timestamp("2014-01-01")
    assert n.loc["CN2A", "refs"] == 3 and n.loc["CN2A", "refs_external"] == 2
    assert n.loc["US3B2", "refs"] == 3 and n.loc["US3B2", "refs_external"] == 2
    assert n.loc["CN1A", "refs"] == 0 and pd.isna(n.loc["DE9", "refs"])
    assert n.loc["CN2A", "applicant"] == "BETA" and n.loc["US3B2", "applicant"] == "GAMMA"
    assert g.m == 7 and len(g.removed) == 0
    e = g.edges.set_index(["citing", "cited"])
    # CN2A (BETA, ACME) cites CN1B (ACME): a self-citation through the co-applicant
    assert e.loc[("CN2A", "CN1B"), "self_citation"]
    assert e.loc[("CN1B", "CN1A"), "self_citation"]
    assert not e.loc[("US3B2", "CN2A"), "self_citation"]
    assert not e.loc[("CN2A", "DE9"), "self_citation"]  # outside document: never flagged


def test_from_tables_family_level(tiny_tables):
    patents, citations, parties = tiny_tables
    g = from_tables(patents, citations, parties, level="family")
    n = g.nodes.set_index("node")
    assert sorted(n.index[n["in_data"]]) == ["F1", "F2", "F3"]
    assert g.dropped["intra_family"] == 1  # CN1B -> CN1A
    assert n.loc["F1", "date"] == pd.Timestamp("2010-01-01")  # the earliest member
    assert n.loc["F1", "applicant"] == "ACME"
    pairs = set(zip(g.edges["citing"], g.edges["cited"]))
    assert pairs == {("F2", "F1"), ("F2", "DE9"), ("F2", "JP77"), ("F3", "F2"), ("F3", "DE9"), ("F3", "WO5")}
    assert g.level == "family"


def test_from_tables_bad_level(tiny_tables):
    with pytest.raises(GraphInputError, match="level"):
        from_tables(*tiny_tables[:2], level="applicant")


def test_from_tables_empty():
    g = from_tables(pd.DataFrame({"pub_id": [], "pub_date": []}), pd.DataFrame({"pub_id": [], "cited_raw": []}))
    assert g.n == 0 and g.m == 0


def test_from_tables_on_bundled_sample(sample_tables):
    pats, cits = sample_tables["patents"], sample_tables["citations"]
    g = from_tables(pats, cits, sample_tables["parties"])
    assert int(g.nodes["in_data"].sum()) == len(pats)
    assert is_acyclic(g.n, g.src, g.dst)
    # every citation row becomes an edge unless it is a duplicate or a self-loop
    assert g.m + len(g.removed) + g.dropped["duplicates"] + g.dropped["self_loops"] == len(cits)
    assert int(g.nodes["refs"].sum()) == len(cits)
    assert int(g.nodes["refs_external"].sum()) == int(cits["resolved_pub_id"].isna().sum())
    # the USPTO sample links few records inside the data: outside documents carry the graph
    assert (~g.nodes["in_data"]).sum() > 1000
    counts = citation_counts(g)
    assert counts["backward"].sum() == g.m + len(g.removed)
    fam = from_tables(pats, cits, sample_tables["parties"], level="family")
    assert int(fam.nodes["in_data"].sum()) == pats["family_id"].nunique()
    assert is_acyclic(fam.n, fam.src, fam.dst)


# ------------------------------------------------------------------------ self-citations


def test_self_citations_from_node_applicants_and_empty():
    e = edges(("b", "a"), ("c", "a"), ("c", "b"))
    nodes = pd.DataFrame({"node": ["a", "b", "c"], "applicant": ["ACME", "ACME", "BETA"]})
    assert self_citations(from_edges(e, nodes)).tolist() == [True, False, False]
    assert not self_citations(from_edges(e)).any()  # no applicants known


# ------------------------------------------------------------------------ counts


def test_citation_counts_hand_example():
    # a (2010) is cited by b (2012, within 5 years) and c (2016, not within 5 years), and by d
    # (no date: cannot be placed in a window); d and u have no date (their window is null).
    e = edges(("b", "a"), ("c", "a"), ("d", "a"), ("c", "u"), ("c", "b"),
              citing_date=["2012-01-01", "2016-01-02", None, "2016-01-02", "2016-01-02"],
              cited_date=["2010-01-01", "2010-01-01", "2010-01-01", None, "2012-01-01"])
    nodes = pd.DataFrame({"node": ["a", "b", "c", "d"]})
    c = citation_counts(from_edges(e, nodes), window_years=5).set_index("node")
    assert c["forward"].to_dict() == {"a": 3, "b": 1, "c": 0, "d": 0, "u": 1}
    assert c.loc[["a", "b", "c"], "forward_window"].tolist() == [1, 1, 0]
    assert c.loc[["d", "u"], "forward_window"].isna().all()
    assert c["backward"].to_dict() == {"a": 0, "b": 1, "c": 3, "d": 1, "u": 0}
    assert c["backward_external"].to_dict() == {"a": 0, "b": 0, "c": 1, "d": 0, "u": 0}
    # c: lags 2016-01-02 - 2010-01-01 = 2192 days and - 2012-01-01 = 1462 days; mean 1827 days
    assert c.loc["c", "mean_citation_lag_years"] == pytest.approx(1827 / 365.25, abs=1e-5)
    assert pd.isna(c.loc["d", "mean_citation_lag_years"])


def test_citation_counts_window_is_calendar_years():
    e = edges(("b", "a"), ("c", "a"), citing_date=["2015-01-01", "2015-01-02"], cited_date=["2010-01-01"] * 2)
    c = citation_counts(from_edges(e), window_years=5).set_index("node")
    assert c.loc["a", "forward_window"] == 1


def test_citation_counts_include_removed_edges():
    g = from_edges(edges(("a", "b"), ("b", "a")))
    assert len(g.removed) == 1
    assert citation_counts(g)["forward"].tolist() == [1, 1]
    assert citation_counts(g, include_removed=False)["forward"].sum() == 1


# ------------------------------------------------------------------------ exports


def test_networkx_and_csr_agree():
    e = edges(("b", "a"), ("c", "a"), ("c", "b"),
              citing_date=["2001", "2002", "2002"], cited_date=["2000", "2000", "2001"])
    g = from_edges(e, pd.DataFrame({"node": ["a", "b", "c", "z"]}))
    G = to_networkx(g)
    assert set(G.edges()) == {("b", "a"), ("c", "a"), ("c", "b")}
    assert set(G.nodes()) == {"a", "b", "c", "z"} and "date" not in G.nodes["z"]
    assert G.nodes["a"]["index"] == 0 and G.nodes["a"]["in_data"]
    A = to_csr(g)
    assert A.shape == (4, 4) and A.nnz == 3 and A[2, 0] == 1 and A[0, 2] == 0
    assert g.to_networkx().number_of_edges() == 3 and g.to_csr().nnz == 3


def test_index_in_positions_and_missing():
    # Positions in the keys; absent, missing and blank-vs-text ids give -1.
    from pipeline.network.graph import _index_in

    got = _index_in(pd.Series(["CN2A", None, "US1", "CN1A", ""], dtype="string"), np.array(["CN1A", "CN2A"], dtype=object))
    assert got.tolist() == [1, -1, -1, 0, -1]
    assert _index_in([], ["a"]).tolist() == []


def test_self_citations_share_any_group():
    # Node 0 has groups {A, B}, node 1 {B}, node 2 {C}, node 3 none: 1 -> 0 shares B,
    # 2 -> 0 shares nothing, 3 -> 1 has an end without groups.
    graph = CitationGraph(
        nodes=pd.DataFrame({"node": ["w", "x", "y", "z"]}), src=np.array([1, 2, 3]), dst=np.array([0, 0, 1]),
        removed=pd.DataFrame(), applicants=pd.DataFrame({"node": [0, 0, 1, 2], "applicant": ["A", "B", "B", "C"]}))
    assert self_citations(graph).tolist() == [True, False, False]
    assert self_citations(graph, [0, 2], [1, 2]).tolist() == [True, True]


def test_factorize_ints_counts_like_pandas():
    # Hand case: ids 7, 3, 7, 0 -> sorted uniques 0, 3, 7 and codes 2, 1, 2, 0.
    from pipeline.network.graph import _factorize, _factorize_ints

    codes, uniques = _factorize_ints(np.array([7, 3, 7, 0]))
    assert codes.tolist() == [2, 1, 2, 0] and uniques.tolist() == [0, 3, 7]
    assert _factorize_ints(np.array([-1, 2])) is None  # negative: pandas decides
    assert _factorize_ints(np.array([0, 10**9])) is None  # too sparse for a table
    ids = np.random.default_rng(0).integers(0, 500, 300)
    got = _factorize([pd.Series(ids[:100]), pd.Series(ids[100:])])
    want = pd.factorize(pd.Series(ids), sort=True)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], np.asarray(want[1]))
