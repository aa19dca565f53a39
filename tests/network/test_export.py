"""GEXF, GraphML and VOSviewer files written to tmp_path and read back."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ExportInputError, PatNavError, SchemaError
from pipeline.network.export import (
    node_labels,
    to_networkx,
    write_gexf,
    write_graphml,
    write_vosviewer,
)

NODES = pd.DataFrame({
    "node": ["CN1234567A", "US7654321B2", "EP1000000A1", "outside:123"],
    "label_zh": ["锂离子电池\t正极", "电池管理系统", None, None],
    "label_en": ["Li-ion cathode", "Battery management", "Charging pile", None],
    "title": [None, None, "充电桩", None],
    "pagerank": [0.4, 0.3, 0.2, 0.1],
    "forward_citations": pd.array([3, 2, 1, None], dtype="Int64"),
    "in_data": [True, True, True, False],
    "cluster": [0, 0, 1, -1],
    "date": pd.to_datetime(["2020-01-02", "2019-05-06", None, "2001-01-01"]),
})
# 0→1 twice (merged, weight 2), 0→2, 2→3, 1→0 (the reverse of 0→1)
SRC = np.array([0, 0, 0, 2, 1], dtype=np.int64)
DST = np.array([1, 1, 2, 3, 0], dtype=np.int64)


def test_node_labels_language_and_fallbacks():
    assert node_labels(NODES, "zh").tolist() == ["锂离子电池 正极", "电池管理系统", "充电桩", "outside:123"]
    assert node_labels(NODES, "en").tolist() == ["Li-ion cathode", "Battery management", "Charging pile", "outside:123"]
    arrow = NODES.astype({c: "string[pyarrow]" for c in ("node", "label_zh", "label_en", "title")})
    assert node_labels(arrow, "zh").tolist() == node_labels(NODES, "zh").tolist()
    with pytest.raises(ExportInputError, match="lang"):
        node_labels(NODES, "fr")
    with pytest.raises(SchemaError, match="node"):
        node_labels(NODES.drop(columns="node"))


def test_to_networkx_nodes_edges_attributes():
    g = to_networkx(4, SRC, DST, NODES, edge_attrs={"lag_years": [1.0, 1.0, 2.0, 3.0, 0.5]})
    assert isinstance(g, nx.DiGraph)
    assert list(g.nodes) == NODES["node"].tolist()
    a = g.nodes["CN1234567A"]
    assert a["label"] == "锂离子电池 正极" and a["pagerank"] == 0.4 and a["forward_citations"] == 3
    assert a["in_data"] is True and a["date"] == "2020-01-02" and a["cluster"] == 0
    assert "forward_citations" not in g.nodes["outside:123"]  # nulls left out
    assert g.edges["CN1234567A", "US7654321B2"] == {"weight": 2, "lag_years": 1.0}
    assert g.number_of_edges() == 4
    u = to_networkx(4, SRC, DST, NODES, directed=False)
    assert u.edges["CN1234567A", "US7654321B2"]["weight"] == 3  # both directions merged


def test_to_networkx_bad_input():
    with pytest.raises(ExportInputError, match="unique"):
        to_networkx(2, [0], [1], pd.DataFrame({"node": ["a", "a"]}))
    with pytest.raises(ExportInputError, match="rows for n"):
        to_networkx(3, [0], [1], pd.DataFrame({"node": ["a", "b"]}))
    with pytest.raises(ExportInputError, match="outside"):
        to_networkx(2, [0], [2], pd.DataFrame({"node": ["a", "b"]}))
    with pytest.raises(ExportInputError, match="edge_attrs"):
        to_networkx(2, [0], [1], pd.DataFrame({"node": ["a", "b"]}), edge_attrs={"x": [1, 2]})
    assert issubclass(ExportInputError, PatNavError)


def test_gexf_round_trip_keeps_chinese_labels(tmp_path):
    path = write_gexf(4, SRC, DST, NODES, tmp_path / "net.gexf")
    assert path == tmp_path / "net.gexf"
    assert "电池管理系统" in path.read_text(encoding="utf-8")
    g = nx.read_gexf(path)
    assert set(g.nodes) == set(NODES["node"])
    assert g.nodes["US7654321B2"]["label"] == "电池管理系统"
    assert g.nodes["CN1234567A"]["pagerank"] == pytest.approx(0.4)
    assert g.edges["CN1234567A", "US7654321B2"]["weight"] == 2
    assert g.number_of_edges() == 4


def test_graphml_round_trip(tmp_path):
    path = write_graphml(4, SRC, DST, NODES, tmp_path / "net.graphml", lang="en")
    g = nx.read_graphml(path)
    assert g.is_directed()
    assert g.nodes["EP1000000A1"]["label"] == "Charging pile"
    assert g.nodes["CN1234567A"]["forward_citations"] == 3
    assert g.nodes["CN1234567A"]["in_data"] is True
    assert g.edges["EP1000000A1", "outside:123"]["weight"] == 1
    zh = nx.read_graphml(write_graphml(4, SRC, DST, NODES, tmp_path / "zh.graphml"))
    assert zh.nodes["EP1000000A1"]["label"] == "充电桩"


def test_empty_graph_files(tmp_path):
    empty = pd.DataFrame({"node": pd.Series(dtype="string")})
    assert nx.read_gexf(write_gexf(0, [], [], empty, tmp_path / "e.gexf")).number_of_nodes() == 0
    assert nx.read_graphml(write_graphml(0, [], [], empty, tmp_path / "e.graphml")).number_of_nodes() == 0
    m, w = write_vosviewer(empty, pd.DataFrame({"src": [], "dst": []}), tmp_path / "m.txt", tmp_path / "n.txt")
    assert m.read_text(encoding="utf-8") == "id\tlabel\tweight<Links>\n"
    assert w.read_text(encoding="utf-8") == ""


def test_vosviewer_files_parse_back(tmp_path):
    nodes = NODES.assign(label_zh=NODES["label_zh"].where(NODES.index != 1, "电池管理系统, BMS\n第二行"))
    edges = pd.DataFrame({"src": SRC, "dst": DST, "weight": [1, 1, 2, 1, 1]})
    m, w = write_vosviewer(nodes, edges, tmp_path / "map.txt", tmp_path / "network.txt",
                           weights={"Citations": "forward_citations"}, scores={"PageRank": "pagerank"})
    lines = m.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id\tlabel\tcluster\tweight<Links>\tweight<Citations>\tscore<PageRank>"
    assert len(lines) == 1 + len(nodes)  # every label on one line
    vmap = pd.read_csv(m, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8")
    assert vmap["id"].tolist() == ["1", "2", "3", "4"]
    assert vmap["label"].tolist() == ["锂离子电池 正极", "电池管理系统, BMS 第二行", "充电桩", "outside:123"]
    assert '"电池管理系统, BMS 第二行"' in lines[2]  # a comma means double quotes (VOSviewer manual)
    assert vmap["cluster"].tolist() == ["1", "1", "2", ""]  # community k → VOSviewer cluster k + 1
    # Undirected links: 0–1 from 0→1 (×2) and 1→0 → strength 3; 0–2 strength 2; 2–3 strength 1.
    assert vmap["weight<Links>"].tolist() == ["2", "1", "2", "1"]
    assert vmap["weight<Citations>"].tolist() == ["3", "2", "1", ""]
    assert vmap["score<PageRank>"].tolist() == ["0.4", "0.3", "0.2", "0.1"]
    net = pd.read_csv(w, sep="\t", header=None, names=["id1", "id2", "strength"])
    assert net.values.tolist() == [[1, 2, 3], [1, 3, 2], [3, 4, 1]]
    assert set(net["id1"]) | set(net["id2"]) <= set(vmap["id"].astype(int))


def test_vosviewer_coordinates_description_and_bad_input(tmp_path):
    nodes = pd.DataFrame({"node": ["a", "b"], "label": ["x", "y"], "x": [0.5, -1.0], "y": [2, 3],
                          "note": ["first; note", "second"], "bad": [1, -1]})
    edges = pd.DataFrame({"src": [0, 1], "dst": [1, 1], "weight": [0.25, 9]})
    m, w = write_vosviewer(nodes, edges, tmp_path / "m.txt", tmp_path / "n.txt", description="note")
    vmap = pd.read_csv(m, sep="\t", dtype=str)
    assert list(vmap.columns) == ["id", "label", "description", "x", "y", "weight<Links>"]
    assert vmap["description"].tolist() == ["first; note", "second"]  # quoted in the file, unquoted by the reader
    assert vmap["x"].tolist() == ["0.5", "-1"] and vmap["y"].tolist() == ["2", "3"]
    assert w.read_text(encoding="utf-8") == "1\t2\t0.25\n"  # the self-link 1→1 is left out
    with pytest.raises(ExportInputError, match="non-negative"):
        write_vosviewer(nodes, edges, tmp_path / "m.txt", tmp_path / "n.txt", weights={"Bad": "bad"})
    with pytest.raises(SchemaError, match="missing"):
        write_vosviewer(nodes, edges, tmp_path / "m.txt", tmp_path / "n.txt", scores={"S": "missing"})
    with pytest.raises(SchemaError, match="dst"):
        write_vosviewer(nodes, edges.drop(columns="dst"), tmp_path / "m.txt", tmp_path / "n.txt")
    with pytest.raises(ExportInputError, match="outside"):
        write_vosviewer(nodes, pd.DataFrame({"src": [0], "dst": [7]}), tmp_path / "m.txt", tmp_path / "n.txt")
