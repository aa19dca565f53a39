"""The network stage as a whole: analyse() on hand graphs, the bundled sample, the CLI on user files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.network.graph import from_edges, from_tables
from pipeline.config import NetworkParams
from pipeline.network import TABLES
from pipeline.network.run import analyse, summary

ROOT = Path(__file__).resolve().parents[2]

# Knowledge flows a → b → d, a → c → d, d → e (citing → cited reversed: e cites d ...).
HAND = pd.DataFrame({"citing": ["b", "c", "d", "d", "e"], "cited": ["a", "a", "b", "c", "d"],
                     "citing_date": ["2011-01-01", "2012-01-01", "2014-01-01", "2014-01-01", "2016-01-01"],
                     "cited_date": ["2010-01-01", "2010-01-01", "2011-01-01", "2012-01-01", "2014-01-01"]})


@pytest.fixture(scope="module")
def hand():
    graph = from_edges(HAND)
    params = NetworkParams(clusters={**NetworkParams().clusters, "min_size": 1})
    return graph, analyse(graph, params)


def test_every_table_is_produced(hand):
    _, t = hand
    assert set(t) == set(TABLES)


def test_hand_graph_metrics(hand):
    graph, t = hand
    nodes = t["nodes"].set_index("node")
    # a is cited by b and c; d by e; e by nobody.
    assert nodes["forward"].to_dict() == {"a": 2, "b": 1, "c": 1, "d": 1, "e": 0}
    assert nodes["backward"].to_dict() == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 1}
    # Two source→sink paths (e-d-b-a, e-d-c-a): SPC of e→d is 2, the others 1.
    edges = t["edges"].set_index(["citing", "cited"])
    assert edges["spc"].to_dict() == {("b", "a"): 1.0, ("c", "a"): 1.0, ("d", "b"): 1.0, ("d", "c"): 1.0,
                                      ("e", "d"): 2.0}
    # PageRank agrees with networkx on the same graph.
    G = nx.DiGraph(list(zip(HAND["citing"], HAND["cited"], strict=True)))
    ref = nx.pagerank(G, alpha=0.85, tol=1e-14)
    for node, score in nodes["pagerank"].items():
        assert score == pytest.approx(ref[node], abs=1e-9)
    # The global main path is a whole source→sink path of 3 edges; the key-route path holds e→d.
    mp = t["main_paths"]
    assert (mp["path"] == "global").sum() == 3
    assert ("e", "d") in set(zip(mp.loc[mp["path"] == "key_route", "citing"], mp.loc[mp["path"] == "key_route", "cited"],
                                 strict=True))
    assert nodes["on_main_path"].all()
    s = summary(graph, t)
    assert s["nodes"] == 5 and s["edges"] == 5 and s["largest_component"] == 5 and s["depth"] == 3


def test_analyse_is_deterministic(hand):
    graph, t = hand
    again = analyse(graph, NetworkParams(clusters={**NetworkParams().clusters, "min_size": 1}))
    for name in TABLES:
        pd.testing.assert_frame_equal(t[name], again[name])


def test_empty_and_single_edge_graphs():
    empty = from_edges(pd.DataFrame({"citing": pd.Series(dtype=str), "cited": pd.Series(dtype=str)}))
    t = analyse(empty)
    assert all(len(t[k]) == 0 for k in ("nodes", "edges", "main_paths"))
    assert summary(empty, t)["nodes"] == 0
    one = from_edges(pd.DataFrame({"citing": ["x"], "cited": ["y"]}))
    t = analyse(one)
    assert t["edges"]["spc"].tolist() == [1.0]
    assert set(t["main_paths"]["path"]) == {"global", "local", "key_route"}


def test_params_are_validated():
    with pytest.raises(ConfigError, match="unknown key"):
        NetworkParams.from_dict({"levle": "patent"})
    with pytest.raises(ConfigError, match="spc, splc, spnp"):
        NetworkParams.from_dict({"main_path_weight": "nppc"})
    assert NetworkParams.from_dict({"pagerank": {"alpha": 0.5}}).pagerank["tol"] == 1e-10


def test_demo_data_give_a_real_graph(sample_tables):
    t = sample_tables
    graph = from_tables(t["patents"], t["citations"], t["parties"])
    tables = analyse(graph, patents=t["patents"], classifications=t["classifications"], parties=t["parties"])
    s = summary(graph, tables)
    # The real USPTO XML grants of ../shared/data/uspto-xml list 9,954 patent citations; an
    # edge per distinct (citing, cited document) pair: a document cited again in another kind
    # (US8420318B2 cites EP 1411340 A2 and A3) is one edge.
    us = t["citations"][t["citations"]["source"].str.contains("uspto")]
    assert len(us) == 9954
    cited = us["resolved_pub_id"].fillna(us["cited_doc_key"]).fillna(us["cited_raw"].str.upper().str.replace(" ", ""))
    distinct = len(pd.DataFrame({"a": us["pub_id"], "b": cited}).drop_duplicates())
    assert s["edges_by_citing_source"]["uspto_xml"] == distinct < len(us)
    assert s["largest_component"] > 100 and s["clusters"] > 0
    # Every edge is an input citation; none lost: kept + removed + dropped = citation rows.
    assert s["edges"] + sum(s["cycle_edges_removed"].values()) + sum(s["dropped"].values()) == len(t["citations"])
    # Region flows start at the country level: US grants cite mostly US documents.
    flows = tables["flows_regions"]
    us = flows[(flows["level"] == "country") & (flows["citing_group"] == "US")].set_index("cited_group")
    assert us["citations"].idxmax() == "US"


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pipeline", "network", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_on_a_user_edge_list_gbk_with_nodes(tmp_path):
    edges = tmp_path / "edges.csv"
    HAND.to_csv(edges, index=False, encoding="gb18030")
    nodes = tmp_path / "nodes.csv"
    pd.DataFrame({"node": list("abcde"), "title": ["电池", "电机", "=HYPERLINK(\"x\")", "充电", "控制"],
                  "applicant": ["甲", "甲", "乙", "乙", "丙"], "country": ["CN"] * 5,
                  "province": ["重庆市", "重庆市", "四川省", "重庆市", "重庆市"]}).to_csv(nodes, index=False,
                                                                                   encoding="gb18030")
    out = tmp_path / "result"
    proc = _cli(edges, "--nodes", nodes, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    for name in TABLES:
        assert (out / f"{name}.parquet").exists()
    for f in ("citations.gexf", "citations.graphml", "vosviewer_map.txt", "vosviewer_network.txt"):
        assert (out / f).exists()
    g = nx.read_gexf(out / "citations.gexf")
    assert {d["label"] for _, d in g.nodes(data=True)} >= {"电池", "充电"}
    flows = pd.read_parquet(out / "flows_applicants.parquet")
    assert flows.set_index(["citing_group", "cited_group"])["citations"].to_dict()[("乙", "甲")] == 2
    prov = pd.read_parquet(out / "flows_regions.parquet")
    assert (prov["level"] == "province").any()


@pytest.mark.parametrize("content, message", [
    (b"from,to\na,b\n", "missing column(s) citing, cited"),
    (b"citing,cited\na,\n,b\n", "row"),
    (b"", "not a readable CSV"),
])
def test_cli_bad_edge_lists_are_one_clear_error(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    proc = _cli(f, "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "o").exists()


def test_user_graph_with_a_cycle_is_broken_and_reported(tmp_path):
    edges = tmp_path / "cyc.csv"
    pd.DataFrame({"citing": ["a", "b", "c"], "cited": ["b", "c", "a"],
                  "citing_date": ["2010-01-01", "2011-01-01", "2012-01-01"],
                  "cited_date": ["2011-01-01", "2012-01-01", "2010-01-01"]}).to_csv(edges, index=False)
    proc = _cli(edges, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    removed = pd.read_parquet(tmp_path / "o" / "removed.parquet")
    # a→b and b→c cite later documents: the time-reversed edges inside the cycle go.
    assert sorted(zip(removed["citing"], removed["cited"], strict=True)) == [("a", "b"), ("b", "c")]
    assert np.all(removed["reason"] == "time_reversed")


def test_path_counts_beyond_float64_fall_back_to_normalised_weights():
    # A ladder of 1,100 levels, two nodes each, every node citing both nodes of the level
    # below: 2 × 2^1099 source→sink paths overflow float64 (max ≈ 2^1024).
    levels = 1100
    ids = np.arange(2 * levels).reshape(levels, 2)
    citing = np.repeat(ids[1:], 2, axis=1).ravel()
    cited = np.tile(ids[:-1], (1, 2)).ravel()
    graph = from_edges(pd.DataFrame({"citing": citing, "cited": cited}))
    t = analyse(graph, NetworkParams(weights=("spc",)))
    s = summary(graph, t)
    assert s["weights_normalized"] and s["depth"] == levels - 1
    assert np.isfinite(t["edges"]["spc"]).all()
    # Every edge carries half of the paths between its two levels: 1/4 of all paths each.
    assert t["edges"]["spc"].to_numpy() == pytest.approx(0.25)
    assert (t["main_paths"]["path"] == "global").sum() == levels - 1


# ----------------------------------------------------------------------------- caps and their messages


def test_hits_not_converging_names_the_params_to_change():
    from pipeline.errors import ConvergenceError

    params = NetworkParams(hits={"tol": 1e-10, "max_iter": 1})
    with pytest.raises(ConvergenceError, match=r"HITS did not converge.*raise network\.hits\.max_iter \(now 1\) "
                                               r"or network\.hits\.tol \(now 1e-10\) in params\.yaml"):
        analyse(from_edges(HAND), params)


def test_leiden_cap_is_recorded_in_the_metrics():
    from pipeline.network.clusters import LeidenNotStableWarning

    graph = from_edges(HAND)
    capped = NetworkParams(clusters={**NetworkParams().clusters, "min_size": 1, "max_iterations": 1})
    with pytest.warns(LeidenNotStableWarning):
        tables = analyse(graph, capped)
    assert summary(graph, tables)["clusters_stable"] is False
    tables = analyse(graph, NetworkParams(clusters={**NetworkParams().clusters, "min_size": 1}))
    assert summary(graph, tables)["clusters_stable"] is True


def test_cluster_cap_param_is_validated():
    for bad in (0, 2.5, "10", True):
        with pytest.raises(ConfigError, match="network.clusters.max_iterations"):
            NetworkParams.from_dict({"clusters": {"max_iterations": bad}})
    assert NetworkParams.from_dict({}).clusters["max_iterations"] == 10
    assert NetworkParams.from_dict({"clusters": {"max_iterations": -1}}).clusters["max_iterations"] == -1


def _params_with(tmp_path, **network):
    import yaml

    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    for key, value in network.items():
        raw["network"][key] = {**raw["network"][key], **value}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_cli_says_which_param_to_change(tmp_path):
    edges = tmp_path / "edges.csv"
    HAND.to_csv(edges, index=False)
    proc = _cli(edges, "--params", _params_with(tmp_path, hits={"max_iter": 1}))
    assert proc.returncode == 2
    assert "raise network.hits.max_iter (now 1) or network.hits.tol" in " ".join(proc.stderr.split())
    proc = _cli(edges, "--params", _params_with(tmp_path, clusters={"max_iterations": 1, "min_size": 1}))
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stderr.split())
    assert "warning: Leiden clustering stopped after 1 iterations" in text and "network.clusters.max_iterations" in text


def test_link_limit_is_applied_and_reported():
    # P cites X, Y; Q cites W, X, Y; R cites W, X: coupling P-Q 2, Q-R 2, P-R 1 (3 links).
    # Room for one link: each patent keeps its strongest (P: P-Q; Q: the tie P/Q-R goes to
    # the smaller node id, P; R: R-Q), so P-R goes.
    e = pd.DataFrame({"citing": list("PPQQQRR"), "cited": list("XYWXYWX")})
    graph = from_edges(e)
    params = NetworkParams.from_dict({"clusters": {"max_links": 1, "min_size": 1}})
    t = analyse(graph, params)
    assert summary(graph, t)["clusters_links"] == {"max_links": 1, "links": 3, "kept": 2}
    full = analyse(graph, NetworkParams.from_dict({"clusters": {"min_size": 1}}))
    assert summary(graph, full)["clusters_links"] == {"max_links": 2_000_000, "links": 3, "kept": 3}


def test_read_tables_projects_columns(tmp_path):
    # Listed nullable columns and required ones are read; other nullable columns come back
    # null, with every canonical column in place and typed; absent tables are skipped.
    from pipeline import schema
    from pipeline.io import read_tables, write_tables
    from pipeline.network.run import STAGE_INPUTS

    parties = pd.DataFrame({"pub_id": ["A1"], "role": ["applicant"], "seq": [0], "name_raw": ["甲公司"],
                            "name_norm": ["甲"], "party_type": ["enterprise"], "source": ["x"],
                            "province": ["重庆市"], "address_raw": ["重庆市江北区"]})
    write_tables({"parties": parties}, tmp_path)
    got = read_tables(tmp_path, names=["parties", "patents"], columns={"parties": ("name_norm", "province")})
    assert list(got) == ["parties"]
    p = got["parties"]
    assert list(p.columns) == list(schema.TABLES["parties"])
    assert (p.loc[0, "name_norm"], p.loc[0, "province"], p.loc[0, "name_raw"]) == ("甲", "重庆市", "甲公司")
    assert p["address_raw"].isna().all() and p["address_raw"].dtype == "string"
    # the network stage's own list: the region levels are read, addresses are not
    p = read_tables(tmp_path, names=STAGE_INPUTS, columns=STAGE_INPUTS)["parties"]
    assert p.loc[0, "province"] == "重庆市" and p["address_raw"].isna().all()
