"""Network files for the tools analysts use: Gephi (GEXF), yEd/Cytoscape (GraphML), VOSviewer.

The graph is the project's convention — ``n`` nodes, int64 arrays ``src`` → ``dst`` and
a node table whose row ``i`` describes node ``i`` (column ``node``: the string id, plus
any metrics). Every node gets a ``label`` in the report's language, chosen per node from
the first non-empty of ``label_<lang>``, ``label``, ``title_<lang>``, ``title``, ``node``.

Paths: the writers take full file paths and write exactly there; choosing (and
creating) the directory is the caller's business — in the pipeline the report stage,
which derives every path from the project's configuration. Files are UTF-8, so Chinese
labels survive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from io import BytesIO
from itertools import compress
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExportInputError, SchemaError
from .clusters import check_edges

__all__ = ["node_labels", "to_networkx", "write_gexf", "write_graphml", "write_vosviewer"]


# Tabs, line and paragraph breaks and other control characters: none may split a line
# of a tab-separated file or a label on screen.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def _single_line(text: pd.Series) -> pd.Series:
    # Python's re on object values: pyarrow-backed strings use RE2, which lacks \u escapes.
    text = text.astype("string").astype(object).str.replace(_BREAKS, " ", regex=True)
    return text.str.replace(r" {2,}", " ", regex=True).str.strip().astype("string")


def node_labels(nodes: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """Single-line label of every node in ``lang``.

    Per node, the first non-empty of ``label_<lang>``, ``label``, ``title_<lang>``,
    ``title``, ``node``.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["CN1A", "US2B"], "label_zh": ["电池\\n包", None],
    ...                       "title": [None, "Battery pack"]})
    >>> node_labels(nodes, "zh").tolist()
    ['电池 包', 'Battery pack']
    """
    if lang not in ("zh", "en"):
        raise ExportInputError(f"lang must be 'zh' or 'en', not {lang!r}")
    if "node" not in nodes.columns:
        raise SchemaError("nodes lacks the column 'node'")
    label = pd.Series(pd.NA, index=nodes.index, dtype="string")
    for col in (f"label_{lang}", "label", f"title_{lang}", "title", "node"):
        if col in nodes.columns:
            label = label.fillna(_single_line(nodes[col]).replace("", pd.NA))
    return label


def _edge_frame(n: int, src, dst, edge_attrs, directed: bool = True) -> pd.DataFrame:
    """Edges with attributes; repeated pairs merged (weights summed, other attributes first).

    Undirected, ``u → v`` and ``v → u`` are the same pair.
    """
    src, dst = check_edges(n, src, dst, ExportInputError)
    if not directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    edges = pd.DataFrame({"_src": src, "_dst": dst})
    if edge_attrs is not None:
        attrs = pd.DataFrame(dict(edge_attrs) if isinstance(edge_attrs, Mapping) else edge_attrs)
        if len(attrs) != len(edges):
            raise ExportInputError(f"edge_attrs has {len(attrs)} rows for {len(edges)} edges")
        edges = pd.concat([edges, attrs.reset_index(drop=True)], axis=1)
    if "weight" not in edges.columns:
        edges["weight"] = 1
    agg = {c: "first" for c in edges.columns if c not in ("_src", "_dst")}
    agg["weight"] = "sum"
    return edges.groupby(["_src", "_dst"], sort=True).agg(agg).reset_index()


def _plain(values: pd.Series) -> pd.Series:
    """A column as plain Python values GEXF/GraphML can type (dates as ISO strings)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype(object)
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return pd.Series(values.astype(object).tolist(), index=values.index, dtype=object)
    if pd.api.types.is_float_dtype(values):
        return pd.Series(values.astype("float64").tolist(), index=values.index, dtype=object)
    return values.astype("string").astype(object)


def _set_attributes(set_attr, g, keys: list, frame: pd.DataFrame) -> None:
    """Column by column, leaving nulls out (GEXF/GraphML have no null)."""
    for col in frame.columns:
        values = _plain(frame[col])
        keep = values.notna().to_numpy()
        set_attr(g, dict(zip(compress(keys, keep), values[keep].tolist())), str(col))


def to_networkx(n: int, src, dst, nodes: pd.DataFrame, edge_attrs=None, *, lang: str = "zh", directed: bool = True):
    """A networkx graph for export or small-graph analysis.

    Parameters
    ----------
    n, src, dst
        The citation graph (edges citing → cited).
    nodes : DataFrame
        ``n`` rows, row ``i`` = node ``i``; column ``node`` (unique string ids, used as
        the networkx node keys) and any metrics, which become node attributes (nulls
        left out).
    edge_attrs : DataFrame or mapping of name → array, optional
        One row/value per edge. ``weight`` defaults to 1; repeated edges (undirected:
        either direction) are merged, summing ``weight`` and keeping the first value of
        other attributes.
    lang : {"zh", "en"}
        Language of the ``label`` attribute (see :func:`node_labels`).
    directed : bool
        ``DiGraph`` (default) or ``Graph``.

    Returns
    -------
    networkx.DiGraph or networkx.Graph
        For small graphs: every node and edge becomes a Python object.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["A", "B", "C"], "pagerank": [0.5, 0.3, 0.2]})
    >>> g = to_networkx(3, [0, 0, 1], [1, 1, 2], nodes)
    >>> g.nodes["A"]
    {'label': 'A', 'pagerank': 0.5}
    >>> g.edges["A", "B"]["weight"]
    2
    """
    import networkx as nx

    if len(nodes) != n:
        raise ExportInputError(f"nodes has {len(nodes)} rows for n = {n} nodes")
    labels = node_labels(nodes, lang)
    ids = nodes["node"].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        bad = ids[ids.isna() | ids.duplicated(keep=False)].head(5).tolist()
        raise ExportInputError(f"nodes['node'] must be unique and non-null; offending ids: {bad}")
    edges = _edge_frame(n, src, dst, edge_attrs, directed)
    attrs = nodes.drop(columns=["node"] + [c for c in ("label",) if c in nodes.columns])
    attrs.insert(0, "label", labels.to_numpy())
    keys = ids.to_numpy(object)
    g = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(keys.tolist())
    _set_attributes(nx.set_node_attributes, g, keys.tolist(), attrs.reset_index(drop=True))
    pairs = list(zip(keys[edges["_src"]].tolist(), keys[edges["_dst"]].tolist()))
    g.add_edges_from(pairs)
    _set_attributes(nx.set_edge_attributes, g, pairs, edges.drop(columns=["_src", "_dst"]))
    return g


def write_gexf(n: int, src, dst, nodes: pd.DataFrame, path, edge_attrs=None, *, lang: str = "zh",
               directed: bool = True) -> Path:
    """Write the graph as GEXF 1.2 (Gephi) to ``path``; see :func:`to_networkx`.

    Returns the path written. The ``label`` attribute is GEXF's node label. The file
    carries no date (no ``lastmodifieddate``): the same graph gives the same bytes.
    """
    import networkx as nx

    from ..io import write_bytes_atomic

    buf = BytesIO()
    nx.write_gexf(to_networkx(n, src, dst, nodes, edge_attrs, lang=lang, directed=directed), buf, encoding="utf-8")
    # networkx stamps <meta lastmodifieddate> with today: the attribute is optional in
    # GEXF 1.2, and without it the same graph gives the same bytes on every day.
    data = re.sub(rb'(<meta\b[^>]*?) lastmodifieddate="[^"]*"', rb"\1", buf.getvalue(), count=1)
    return write_bytes_atomic(data, path)


def write_graphml(n: int, src, dst, nodes: pd.DataFrame, path, edge_attrs=None, *, lang: str = "zh",
                  directed: bool = True) -> Path:
    """Write the graph as GraphML (yEd, Cytoscape, igraph) to ``path``; see :func:`to_networkx`.

    Returns the path written.
    """
    import networkx as nx

    from ..io import write_bytes_atomic

    buf = BytesIO()
    nx.write_graphml(to_networkx(n, src, dst, nodes, edge_attrs, lang=lang, directed=directed), buf,
                     encoding="utf-8")
    return write_bytes_atomic(buf.getvalue(), path)


def _vos_text(values: pd.Series) -> pd.Series:
    """A label/description cell: single line, quoted when it holds a comma, semicolon or quote."""
    text = _single_line(values).fillna("")
    quote = text.str.contains(r'[,;"]', regex=True)
    return text.where(~quote, '"' + text.str.replace('"', '""', regex=False) + '"')


def _vos_number(values: pd.Series) -> pd.Series:
    v = pd.to_numeric(values, errors="raise").astype("float64")
    whole = v.notna() & np.isfinite(v) & (v == v.round())
    text = v.astype(str).where(v.notna(), "")
    return text.where(~whole, v.where(whole, 0).astype("int64").astype(str))


def write_vosviewer(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    map_path,
    network_path,
    *,
    lang: str = "zh",
    cluster: str | None = "cluster",
    weights: Mapping[str, str] | None = None,
    scores: Mapping[str, str] | None = None,
    description: str | None = None,
    url: str | None = None,
) -> tuple[Path, Path]:
    """Write a VOSviewer map file and network file.

    Parameters
    ----------
    nodes : DataFrame
        Row ``i`` = node ``i`` (column ``node`` plus label columns and metrics; see
        :func:`node_labels`). VOSviewer ids are ``i + 1``. Columns ``x`` and ``y``, when
        both present, are written as coordinates.
    edges : DataFrame
        Columns ``src``, ``dst`` (node positions) and optionally ``weight`` (default 1).
        VOSviewer links are undirected: both directions of a pair are merged, their
        strengths summed; self-links and links of strength ≤ 0 are left out.
    map_path, network_path : path
        Full paths of the two files (their directory must exist).
    lang : {"zh", "en"}
        Label language.
    cluster : str or None
        Column of community labels (``-1`` / null = none). VOSviewer clusters are
        ``1 … 1000``: label ``k`` is written ``k + 1``; others are left empty.
    weights, scores : mapping of header → column, optional
        Extra ``weight<…>`` (non-negative) and ``score<…>`` columns, e.g.
        ``{"Citations": "forward_citations"}`` → ``weight<Citations>``.
        ``weight<Links>`` (number of distinct neighbours) is always written unless
        given here.
    description, url : str, optional
        Columns for VOSviewer's ``description`` and ``url`` attributes.

    Returns
    -------
    (Path, Path)
        The map and network paths.

    Notes
    -----
    Format (VOSviewer manual, "Map and network files"): map file — tab-separated with a
    header line, columns ``id``, ``label``, ``description``, ``url``, ``x``, ``y``,
    ``cluster``, ``weight<…>``, ``score<…>``; a label or description holding a comma or
    semicolon is enclosed in double quotes. Network file — no header, tab-separated
    ``id1 id2 strength``. Labels are made single-line (tabs and line breaks become
    spaces); nothing else is changed. UTF-8, ``\\n`` line ends.

    Examples
    --------
    >>> import tempfile, os
    >>> tmp = tempfile.TemporaryDirectory(); d = tmp.name
    >>> nodes = pd.DataFrame({"node": ["A", "B"], "label_zh": ["电池", "电机"], "cluster": [0, 0]})
    >>> m, w = write_vosviewer(nodes, pd.DataFrame({"src": [0], "dst": [1]}),
    ...                        os.path.join(d, "map.txt"), os.path.join(d, "net.txt"))
    >>> print(open(m, encoding="utf-8").read().replace("\\t", "|"), end="")
    id|label|cluster|weight<Links>
    1|电池|1|1
    2|电机|1|1
    >>> print(open(w, encoding="utf-8").read().replace("\\t", "|"), end="")
    1|2|1
    >>> tmp.cleanup()
    """
    n = len(nodes)
    labels = node_labels(nodes, lang)
    missing = [c for c in ("src", "dst") if c not in edges.columns]
    if missing:
        raise SchemaError(f"edges lacks column(s): {', '.join(missing)}")
    src, dst = check_edges(n, edges["src"].to_numpy(), edges["dst"].to_numpy(), ExportInputError)
    w = pd.to_numeric(edges["weight"], errors="raise").to_numpy(np.float64) if "weight" in edges.columns \
        else np.ones(len(src))
    links = pd.DataFrame({"a": np.minimum(src, dst), "b": np.maximum(src, dst), "w": w})
    links = links[links["a"] != links["b"]].groupby(["a", "b"], sort=True)["w"].sum().reset_index()
    links = links[links["w"] > 0]

    cols = {"id": pd.Series(np.arange(1, n + 1), index=nodes.index).astype(str), "label": _vos_text(labels)}
    for name, col in (("description", description), ("url", url)):
        if col is not None:
            if col not in nodes.columns:
                raise SchemaError(f"nodes lacks the {name} column {col!r}")
            cols[name] = _vos_text(nodes[col]) if name == "description" else _single_line(nodes[col]).fillna("")
    if "x" in nodes.columns and "y" in nodes.columns:
        cols["x"], cols["y"] = _vos_number(nodes["x"]), _vos_number(nodes["y"])
    if cluster is not None and cluster in nodes.columns:
        k = pd.to_numeric(nodes[cluster], errors="raise").astype("Float64")
        ok = k.notna() & (k >= 0) & (k < 1000)
        cols["cluster"] = (k + 1).where(ok).astype("Int64").astype("string").fillna("")
    weights = dict(weights or {})
    if "Links" not in weights:
        degree = np.bincount(np.concatenate([links["a"], links["b"]]).astype(np.int64), minlength=n)
        cols["weight<Links>"] = pd.Series(degree, index=nodes.index).astype(str)
    for kind, mapping in (("weight", weights), ("score", dict(scores or {}))):
        for head, col in mapping.items():
            if col not in nodes.columns:
                raise SchemaError(f"nodes lacks the column {col!r} for {kind}<{head}>")
            if kind == "weight" and (pd.to_numeric(nodes[col], errors="raise") < 0).any():
                raise ExportInputError(f"weight<{head}> (column {col!r}) must be non-negative")
            cols[f"{kind}<{_single_line(pd.Series([head])).iloc[0]}>"] = _vos_number(nodes[col])

    table = pd.DataFrame(cols)
    header = "\t".join(table.columns)
    lines = table.iloc[:, 0].str.cat([table[c] for c in table.columns[1:]], sep="\t") if len(table.columns) > 1 \
        else table.iloc[:, 0]
    map_path, network_path = Path(map_path), Path(network_path)
    map_path.write_text("\n".join([header, *lines.tolist()]) + "\n", encoding="utf-8")
    net = (links["a"] + 1).astype(str) + "\t" + (links["b"] + 1).astype(str) + "\t" + _vos_number(links["w"])
    network_path.write_text("\n".join(net.tolist()) + "\n" if len(net) else "", encoding="utf-8")
    return map_path, network_path
