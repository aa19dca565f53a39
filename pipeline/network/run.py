"""The network stage: every citation-network analysis of one graph, as tables.

:func:`analyse` is pure: a :class:`~pipeline.network.graph.CitationGraph` (plus, when
they exist, the canonical tables for titles, codes and owners) in, a dict of DataFrames
out. :func:`run_stage` (the DVC stage, ``patnav network``) writes them as Parquet and
the database stage loads them; the same function runs on an edge list a user brings
(:func:`run_user_files`, :func:`read_edge_list`).

Tables
------
``nodes``
    Per node: citation counts (forward, forward within the window, backward, outside
    references, citation lag), PageRank, HITS authority and hub, topological level,
    community, and whether the node lies on a main path.
``edges``
    Every edge with its traversal weights (the ``weights`` of the params), self-citation
    flag and main-path memberships.
``main_paths``
    The edges of the global, local-forward and key-route main paths, in order.
``removed``
    Edges removed to break cycles, with the reason.
``clusters``
    One row per technology cluster (community of the coupling or co-citation graph):
    size, dominant IPC groups, top terms, years, growth, label.
``flows_applicants`` / ``flows_regions``
    Citations aggregated between applicant groups and between regions (country,
    province, city, district), self-citations flagged.
``ipc_cooccurrence``
    IPC pairs per period (technology convergence).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .. import schema
from ..config import NetworkParams
from ..errors import ConvergenceError, PathCountOverflowError, UnreadableInputError
from ..ingest.merge import primary_source
from ..places import LEVELS as REGION_LEVELS
from . import TABLES, centrality, clusters, flows, mainpath
from .graph import CitationGraph, _index_in, citation_counts, from_edges

__all__ = ["analyse", "summary", "read_edge_list", "read_node_list", "write_exports",
           "region_dependence",
           "project_dependence",
           "node_regions",
           "subset_clusters",
           "run_stage", "run_user_files"]

PATH_KINDS = ("global", "local", "key_route")


def _noop(step: str) -> None:
    pass


def analyse(
    graph: CitationGraph,
    params: NetworkParams = NetworkParams(),
    *,
    patents: pd.DataFrame | None = None,
    classifications: pd.DataFrame | None = None,
    parties: pd.DataFrame | None = None,
    node_regions: pd.DataFrame | None = None,
    ipc_titles: pd.DataFrame | None = None,
    progress: Callable[[str], None] = _noop,
) -> dict[str, pd.DataFrame]:
    """Run every analysis of the network stage on one graph.

    Parameters
    ----------
    graph : CitationGraph
        Acyclic (as built by :func:`~pipeline.network.graph.from_tables` or
        :func:`~pipeline.network.graph.from_edges`).
    params : NetworkParams
    patents, classifications : DataFrame, optional
        Canonical tables: titles, filing years and IPC codes for the cluster labels and
        the IPC co-occurrence. Without them clusters carry sizes only.
    parties : DataFrame, optional
        Canonical parties: the first applicant's region of each publication.
    node_regions : DataFrame, optional
        Row per node with some of ``country``, ``province``, ``city``, ``district``
        (overrides the regions derived from ``parties``; for user edge lists).
    ipc_titles : DataFrame, optional
        :func:`pipeline.classify.text.load_ipc_titles`, for readable cluster labels.
    progress : callable, optional
        Called with the name of each step as it starts.

    Returns
    -------
    dict of DataFrame
        Keys :data:`TABLES`.
    """
    n, src, dst = graph.n, graph.src, graph.dst
    out: dict[str, pd.DataFrame] = {}

    progress("citation counts")
    nodes = graph.nodes[["node", "in_data", "date"]].copy()
    for col in ("applicant", "label", "title"):  # user node lists may carry labels of their own
        if col in graph.nodes:
            nodes[col] = graph.nodes[col]
    counts = citation_counts(graph, window_years=params.window_years)
    nodes = nodes.join(counts.drop(columns="node"))

    progress("PageRank")
    dag = mainpath.build_dag(n, src, dst)  # levelled once for PageRank and the main paths
    with _names_the_params("pagerank", params.pagerank):
        pr = centrality.pagerank(n, src, dst, dag=dag, **params.pagerank)
    nodes["pagerank"] = pr.scores
    progress("HITS")
    with _names_the_params("hits", params.hits):
        hi = centrality.hits(n, src, dst, **params.hits)
    nodes["hits_authority"], nodes["hits_hub"] = hi.authorities, hi.hubs

    progress("main paths")
    # Path counts grow exponentially with depth: beyond float64 (deep national graphs) every
    # weight is divided by the number of search paths instead (same ranking, same paths).
    try:
        mp = mainpath.main_path_analysis(n, src, dst, method=params.main_path_weight, k=params.key_routes, dag=dag)
        normalized = False
    except PathCountOverflowError:
        mp = mainpath.main_path_analysis(n, src, dst, method=params.main_path_weight, k=params.key_routes,
                                         normalize=True, dag=dag)
        normalized = True
    edges = graph.edges.drop(columns=["citing_date", "cited_date"])
    for method in params.weights:
        edges[method] = mp.weights if method == params.main_path_weight else \
            mainpath.traversal_weights(n, src, dst, method=method, normalize=normalized, dag=dag)
    nodes["level"] = dag.level
    mp_rows = _path_rows(mp)
    on_path = np.zeros(n, dtype=bool)
    for kind in PATH_KINDS:
        ids = mp_rows.loc[mp_rows["path"] == kind, "edge"].to_numpy()
        flag = np.zeros(len(edges), dtype=bool)
        flag[ids] = True
        edges[f"on_{kind}_path"] = flag
        on_path[src[ids]] = on_path[dst[ids]] = True
    nodes["on_main_path"] = on_path
    mp_rows = mp_rows.join(edges[["citing", "cited", params.main_path_weight]], on="edge")
    out["main_paths"] = mp_rows.rename(columns={params.main_path_weight: "weight"})

    progress("clusters")
    cp = params.clusters
    # Coupling: citing patents × cited documents; co-citation: the transpose.
    incidence = clusters.adjacency(n, src, dst)
    incidence = incidence if cp["similarity"] == "coupling" else incidence.T.tocsr()
    sim = clusters.similarity(incidence, min_shared=cp["min_shared"], max_degree=cp["max_degree"])
    links = sim.nnz // 2
    sim = clusters.strongest_links(sim, cp.get("max_links"))
    # What the degree limit left out, for the metrics: the hub documents and their citations.
    hubs = clusters.hub_features(incidence, cp["max_degree"])
    degree = np.bincount(incidence.indices, minlength=incidence.shape[1])  # binary: entries = citations
    pruned = {"max_degree": cp["max_degree"], "documents": int(hubs.sum()),
              "citations": int(degree[hubs].sum())}
    kept_links = {"max_links": cp.get("max_links"), "links": int(links), "kept": int(sim.nnz // 2)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", clusters.LeidenNotStableWarning)
        labels = clusters.detect_communities(sim, method=cp["method"], resolution=cp["resolution"], seed=cp["seed"],
                                             max_iterations=cp["max_iterations"])
    unstable = [w for w in caught if issubclass(w.category, clusters.LeidenNotStableWarning)]
    for w in caught:  # passed on (the CLI prints them); recorded for the stage metrics too
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    labels = _drop_small(labels, cp["min_size"])
    nodes["cluster"] = labels
    if patents is not None and classifications is not None:
        out["clusters"] = clusters.label_clusters(labels, nodes, classifications, patents, lang=params.lang,
                                                  ipc_titles=ipc_titles)
    else:
        sizes = pd.Series(labels[labels >= 0]).value_counts().sort_index()
        out["clusters"] = pd.DataFrame({"cluster": sizes.index.astype("int64"), "size": sizes.to_numpy()})

    progress("knowledge flows")
    owner = nodes["applicant"] if "applicant" in nodes else pd.Series(pd.NA, index=nodes.index)
    out["flows_applicants"] = flows.knowledge_flows(src, dst, owner.astype(object).where(owner.notna(), None))
    regions = node_regions if node_regions is not None else _node_regions(graph, parties)
    present = [lv for lv in REGION_LEVELS if lv in regions.columns and regions[lv].notna().any()]
    parts = [flows.region_flows(src, dst, regions, level=lv) for lv in present]
    out["flows_regions"] = pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=["level", "citing_group", "cited_group", "citations", "share", "self"])

    progress("IPC co-occurrence")
    if patents is not None and classifications is not None and len(classifications):
        co = params.cooccurrence
        out["ipc_cooccurrence"] = flows.ipc_cooccurrence(classifications, patents, level=co["level"],
                                                         period_years=co["period_years"])
    else:
        out["ipc_cooccurrence"] = pd.DataFrame(columns=flows.COOCCURRENCE_COLUMNS)

    if patents is not None:
        # Title for labels; first source so that figures resting on a synthetic fixture can be told apart.
        p = patents.drop_duplicates("pub_id")
        at = _index_in(nodes["node"], p["pub_id"])  # row of each node in p, -1 outside the data
        if "title" in p:
            nodes["title"] = p["title"].astype("string").array.take(at, allow_fill=True)
            if "title" in graph.nodes:
                nodes["title"] = nodes["title"].fillna(graph.nodes["title"])
        if "sources" in p:
            nodes["source"] = primary_source(p["sources"]).astype("string").array.take(at, allow_fill=True)
    nodes.attrs["pagerank"] = {"iterations": pr.iterations, "error": pr.error}
    nodes.attrs["clusters_stable"] = not unstable
    nodes.attrs["clusters_pruned"] = pruned
    nodes.attrs["clusters_links"] = kept_links
    edges.attrs["weights_normalized"] = normalized
    out["nodes"] = nodes
    out["edges"] = edges
    out["removed"] = graph.removed.copy()
    return {k: out[k].reset_index(drop=True) for k in TABLES}


@contextmanager
def _names_the_params(key: str, values: dict):
    """Re-raise a :class:`~pipeline.errors.ConvergenceError` with the
    params.yaml settings that decide it (``network.<key>``) and their current values."""
    try:
        yield
    except ConvergenceError as exc:
        hint = (f"raise network.{key}.max_iter (now {values['max_iter']}) or network.{key}.tol "
                f"(now {values['tol']}) in params.yaml")
        raise ConvergenceError(exc.what, exc.result, hint=hint) from None


def _path_rows(mp: mainpath.MainPathResult) -> pd.DataFrame:
    """The edges of each main path (``path``, ``order``, ``edge`` index), in path order."""
    paths = {"global": mp.global_path, "local": mp.local_forward, "key_route": mp.key_route}
    return pd.concat([pd.DataFrame({"path": kind, "order": np.arange(len(ids)), "edge": np.asarray(ids, dtype=np.int64)})
                      for kind, ids in paths.items()], ignore_index=True)


def subset_main_paths(edges: pd.DataFrame, keep: pd.Series | np.ndarray, method: str = "spc",
                      k: int = 10) -> pd.DataFrame:
    """Main paths of a part of the citation network (a project's patents and what they cite).

    Parameters
    ----------
    edges : DataFrame
        ``citing``, ``cited`` — the network's edges after cycle removal (so any subset is
        acyclic).
    keep : bool array
        The edges of the part.
    method : {"spc", "splc", "spnp"}
    k : int
        Key routes.

    Returns
    -------
    DataFrame
        ``path`` (global / local / key_route), ``order``, ``citing``, ``cited``, ``weight``;
        empty when the part has no edge.

    Examples
    --------
    >>> e = pd.DataFrame({"citing": ["B", "C", "D", "E", "Z"], "cited": ["A", "B", "B", "C", "Y"]})
    >>> got = subset_main_paths(e, e["citing"] != "Z", k=1)  # Z -> Y is outside the part
    >>> got[got["path"] == "global"][["citing", "cited", "weight"]].values.tolist()  # SPC: A-B on both paths
    [['B', 'A', 2.0], ['C', 'B', 1.0], ['E', 'C', 1.0]]
    """
    part = edges.loc[np.asarray(keep, dtype=bool), ["citing", "cited"]].reset_index(drop=True)
    cols = ["path", "order", "citing", "cited", "weight"]
    if part.empty:
        return pd.DataFrame(columns=cols)
    codes, uniq = pd.factorize(pd.concat([part["citing"], part["cited"]], ignore_index=True))
    m = len(part)
    src, dst = codes[:m], codes[m:]
    try:
        mp = mainpath.main_path_analysis(len(uniq), src, dst, method=method, k=k)
    except PathCountOverflowError:
        mp = mainpath.main_path_analysis(len(uniq), src, dst, method=method, k=k, normalize=True)
    rows = _path_rows(mp)
    rows["citing"] = part["citing"].to_numpy()[rows["edge"].to_numpy()]
    rows["cited"] = part["cited"].to_numpy()[rows["edge"].to_numpy()]
    rows["weight"] = np.asarray(mp.weights, dtype=float)[rows["edge"].to_numpy()]
    return rows[cols]


def subset_clusters(edges: pd.DataFrame, keep, cluster_params: dict, classifications: pd.DataFrame,
                    patents: pd.DataFrame, *, scope_ids=(), lang: str = "zh",
                    ipc_titles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Technology clusters of a part of the citation network (a project's patents and what
    they cite), detected and labelled as the network stage does for the whole.

    ``keep`` selects the edges; ``cluster_params`` is ``network.clusters`` of params.yaml;
    ``classifications`` and ``patents`` (``pub_id``, ``title``, ``filing_year``) label the
    clusters from their own titles and IPC groups (:func:`pipeline.network.clusters.label_clusters`).
    Adds ``in_scope``: the cluster's nodes among ``scope_ids``. Empty when the part forms
    no cluster of ``min_size``.
    """
    part = edges.loc[np.asarray(keep, dtype=bool), ["citing", "cited"]].reset_index(drop=True)
    empty = pd.DataFrame(columns=["cluster", "size", "label", "growth", "in_scope"])
    if part.empty:
        return empty
    codes, uniq = pd.factorize(pd.concat([part["citing"], part["cited"]], ignore_index=True))
    n, m = len(uniq), len(part)
    cp = cluster_params
    matrix = clusters.coupling_matrix if cp["similarity"] == "coupling" else clusters.cocitation_matrix
    sim = matrix(n, codes[:m], codes[m:], min_shared=cp["min_shared"], max_degree=cp.get("max_degree"),
                 max_links=cp.get("max_links"))
    labels = _drop_small(clusters.detect_communities(sim, method=cp["method"], resolution=cp["resolution"],
                                                     seed=cp["seed"], max_iterations=cp.get("max_iterations", 10)),
                         cp["min_size"])
    if not (labels >= 0).any():
        return empty
    nodes = pd.DataFrame({"node": pd.Series(uniq, dtype=object)})
    out = clusters.label_clusters(labels, nodes, classifications, patents, lang=lang, ipc_titles=ipc_titles)
    in_scope = pd.Series(labels[nodes["node"].isin(set(scope_ids)).to_numpy() & (labels >= 0)]).value_counts()
    out["in_scope"] = out["cluster"].map(in_scope).fillna(0).astype("int64")
    return out.sort_values(["in_scope", "cluster"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Communities smaller than ``min_size`` become -1; the rest keep their (size-ordered) numbers."""
    labels = np.asarray(labels, dtype=np.int64)
    if not len(labels) or min_size <= 1:
        return labels
    valid = labels >= 0
    sizes = np.bincount(labels[valid]) if valid.any() else np.zeros(0, dtype=np.int64)
    small = np.zeros(len(labels), dtype=bool)
    small[valid] = sizes[labels[valid]] < min_size
    return np.where(small, -1, labels)


def _node_regions(graph: CitationGraph, parties: pd.DataFrame | None) -> pd.DataFrame:
    """Region of every node of the graph (see :func:`node_regions`)."""
    return node_regions(graph.nodes["node"], graph.nodes["in_data"].to_numpy(dtype=bool), parties)


def node_regions(nodes: pd.Series, in_data, parties: pd.DataFrame | None) -> pd.DataFrame:
    """Region of each document: its first applicant's location; for a document outside
    the data, the country of its number's prefix (``US5123456`` → ``US``).

    Examples
    --------
    >>> parties = pd.DataFrame({"pub_id": ["CN1A"], "role": "applicant", "seq": 0, "country": "CN",
    ...                         "province": "重庆市", "city": "重庆市", "district": "江北区"})
    >>> node_regions(pd.Series(["CN1A", "US5123456", "CN2A"]), [True, False, True], parties).fillna("-").values.tolist()
    [['CN', '重庆市', '重庆市', '江北区'], ['US', '-', '-', '-'], ['-', '-', '-', '-']]
    """
    nodes = pd.Series(nodes).reset_index(drop=True)
    out = pd.DataFrame({lv: pd.Series(pd.NA, index=nodes.index, dtype="string") for lv in REGION_LEVELS})
    if parties is not None and len(parties):
        app = parties[parties["role"].isin(["applicant", "assignee"])]
        app = app.sort_values(["pub_id", "role", "seq"], kind="stable").drop_duplicates("pub_id")
        # one lookup of the node ids for the four levels (a map per level hashed them four
        # times), in Arrow (pandas' text index took seconds at 1M patents)
        pos = _index_in(nodes, app["pub_id"])
        found = pos >= 0
        for lv in REGION_LEVELS:
            vals = np.full(len(nodes), pd.NA, dtype=object)
            vals[found] = app[lv].astype("string").to_numpy()[pos[found]]
            out[lv] = vals
    outside = ~np.asarray(in_data, dtype=bool)
    if outside.any():  # the number's prefix is read for outside documents only
        prefix = nodes[outside].astype("string").str.extract(r"^([A-Z]{2})\d", expand=False)
        out.loc[outside, "country"] = out.loc[outside, "country"].fillna(prefix)
    return out


def summary(graph: CitationGraph, tables: dict[str, pd.DataFrame]) -> dict:
    """The stage's figures (DVC metrics): nodes, edges, cycles removed, largest component …"""
    n, src, dst = graph.n, graph.src, graph.dst
    if n:
        import scipy.sparse as sp

        adj = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        _, comp = connected_components(adj, directed=True, connection="weak")
        largest = int(np.bincount(comp).max())
        components = int(comp.max() + 1)
    else:
        largest = components = 0
    nodes, edges, mp = tables["nodes"], tables["edges"], tables["main_paths"]
    return {
        "level": graph.level,
        "nodes": int(n),
        "nodes_in_data": int(nodes["in_data"].sum()),
        "edges": int(graph.m),
        "edges_in_data": int((nodes["in_data"].to_numpy()[src] & nodes["in_data"].to_numpy()[dst]).sum()) if n else 0,
        "self_citations": int(edges["self_citation"].sum()),
        "edges_by_citing_source": (nodes["source"].iloc[src].fillna("outside").value_counts().sort_index()
                                   .astype(int).to_dict() if "source" in nodes and n else {}),
        "dropped": {k: int(v) for k, v in graph.dropped.items()},
        "cycle_edges_removed": {k: int(v) for k, v in graph.removed_counts.items()},
        "weak_components": components,
        "largest_component": largest,
        "depth": int(nodes["level"].max()) if n else 0,
        "pagerank_iterations": int(nodes.attrs.get("pagerank", {}).get("iterations", 0)),
        "main_path_edges": {k: int((mp["path"] == k).sum()) for k in PATH_KINDS},
        "weights_normalized": bool(edges.attrs.get("weights_normalized", False)),
        "clusters": int(len(tables["clusters"])),
        "clusters_stable": bool(nodes.attrs.get("clusters_stable", True)),
        "clusters_hubs_left_out": nodes.attrs.get("clusters_pruned", {}),
        "clusters_links": nodes.attrs.get("clusters_links", {}),
        "clustered_nodes": int((nodes["cluster"] >= 0).sum()),
    }


# ----------------------------------------------------------------------------- user files


def _read_csv(path: Path) -> pd.DataFrame:
    """A user CSV, every cell as text (UTF-8, UTF-8 with BOM, else GB18030)."""
    import io as _io

    from ..io import decode_text

    try:
        df = pd.read_csv(_io.StringIO(decode_text(path)), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableInputError(path, f"not a readable CSV: {exc}") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def read_edge_list(path: str | Path) -> pd.DataFrame:
    """A user's citation edge list: CSV with columns ``citing``, ``cited`` and optionally
    ``citing_date``, ``cited_date`` (any other column is ignored).

    Raises
    ------
    UnreadableInputError
        Unreadable file, wrong encoding, or a missing ``citing``/``cited`` column.
    """
    path = Path(path)
    df = _read_csv(path)
    missing = [c for c in ("citing", "cited") if c not in df.columns]
    if missing:
        raise UnreadableInputError(path, f"missing column(s) {', '.join(missing)}; an edge list needs "
                                         "'citing,cited' (dates optional: citing_date, cited_date)")
    return df[[c for c in ("citing", "cited", "citing_date", "cited_date") if c in df.columns]]


def read_node_list(path: str | Path) -> pd.DataFrame:
    """Optional node attributes for a user edge list: ``node`` plus any of ``label``,
    ``title``, ``applicant``, ``date``, ``country``, ``province``, ``city``, ``district``."""
    path = Path(path)
    df = _read_csv(path)
    if "node" not in df.columns:
        raise UnreadableInputError(path, "missing column 'node'")
    keep = ["node", "label", "title", "applicant", "date", *REGION_LEVELS]
    return df[[c for c in keep if c in df.columns]]


def graph_from_user_files(edges: pd.DataFrame, node_attrs: pd.DataFrame | None = None):
    """Graph and per-node regions of a user edge list (and node list)."""
    own = ["node", "date", "applicant"]  # what from_edges itself takes
    graph = from_edges(edges, node_attrs[[c for c in own if c in node_attrs]] if node_attrs is not None else None)
    regions = None
    if node_attrs is not None:
        attrs = node_attrs.drop_duplicates("node").set_index("node")
        ids = graph.nodes["node"].astype(str)
        extra = {c: ids.map(attrs[c]).to_numpy() for c in attrs.columns if c not in own}
        graph.nodes.drop(columns=[c for c in extra if c in graph.nodes], inplace=True)
        for c, v in extra.items():
            graph.nodes[c] = pd.array(v, dtype="string")
        regions = pd.DataFrame({lv: graph.nodes[lv] for lv in REGION_LEVELS if lv in graph.nodes})
    return graph, regions


# ----------------------------------------------------------------------------- exports


def write_exports(tables: dict[str, pd.DataFrame], folder: str | Path, *, top: int = 2000,
                  lang: str = "zh") -> list[Path]:
    """Gephi (GEXF, GraphML) and VOSviewer (map + network) files of the ``top`` nodes by
    PageRank and the edges among them; labels in ``lang``.

    Returns the paths written.
    """
    from .export import write_gexf, write_graphml, write_vosviewer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nodes, edges = tables["nodes"], tables["edges"]
    keep = nodes.sort_values(["pagerank", "node"], ascending=[False, True], kind="stable").index[:top]
    keep = np.sort(keep.to_numpy())
    pos = np.full(len(nodes), -1, dtype=np.int64)
    pos[keep] = np.arange(len(keep))
    sub = edges[(pos[edges["src"].to_numpy()] >= 0) & (pos[edges["dst"].to_numpy()] >= 0)] if len(edges) else edges
    s, d = pos[sub["src"].to_numpy()], pos[sub["dst"].to_numpy()]
    metric_cols = [c for c in ("forward", "backward", "pagerank", "hits_authority", "cluster", "level") if c in nodes]
    label_cols = [c for c in ("title", "label", "applicant") if c in nodes]
    sub_nodes = nodes.loc[keep, ["node", *label_cols, *metric_cols]].reset_index(drop=True)
    weight_cols = [c for c in ("spc", "splc", "spnp") if c in sub]
    attrs = sub[weight_cols + [c for c in sub.columns if c.startswith("on_")]].reset_index(drop=True)
    written = [
        write_gexf(len(sub_nodes), s, d, sub_nodes, folder / "citations.gexf", attrs, lang=lang),
        write_graphml(len(sub_nodes), s, d, sub_nodes, folder / "citations.graphml", attrs, lang=lang),
    ]
    vos_edges = pd.DataFrame({"src": s, "dst": d, "weight": 1.0})
    written += list(write_vosviewer(sub_nodes, vos_edges, folder / "vosviewer_map.txt",
                                    folder / "vosviewer_network.txt", lang=lang,
                                    weights={"Citations": "forward"} if "forward" in sub_nodes else None))
    return written



# ----------------------------------------------------------------------------- the stage


def _write(graph: CitationGraph, tables: dict[str, pd.DataFrame], written: list[Path], dest: Path,
           metrics_path: Path, seen: list) -> dict:
    from ..io import write_frame, write_json

    dest.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_frame(df, dest / f"{name}.parquet", f"network.{name}")
    metrics = summary(graph, tables)
    mpath = write_json(metrics, metrics_path)
    return {"metrics": metrics, "tables": list(tables), "dest": dest, "exports": written, "metrics_path": mpath,
            "warnings": seen}


# The canonical tables the stage reads and the nullable columns of each it uses (None:
# all; :func:`pipeline.io.read_tables` reads the others as null).
STAGE_INPUTS = {
    "patents": ("family_id", "title", *schema.FILING_DATE_ORDER),
    "citations": ("cited_doc_key", "cited_date", "resolved_pub_id"),
    "forward_citations": None,
    "parties": ("name_norm", *REGION_LEVELS),
    "classifications": ("subclass", "main_group"),
}


def run_stage(params: dict, root: Path, *, progress: Callable[[str], None] = _noop) -> dict:
    """The network stage as ``dvc repro`` runs it (``patnav network``): the citation graph
    of the canonical tables analysed (:func:`analyse`), the tables written as Parquet to
    ``network.out``, the Gephi / VOSviewer files to ``network.exports``, the figures
    (:func:`summary`) to ``network.metrics``.

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.
    progress : callable, optional
        Called with the name of each step as it starts ("" at the end).

    Returns
    -------
    dict
        ``metrics``, ``tables`` (names), the folder ``dest``, the ``exports`` written, the
        ``metrics_path`` and the ``warnings`` recorded (a Leiden run stopped before it was
        stable among them: :class:`~pipeline.network.clusters.LeidenNotStableWarning`).
    """
    from .. import io
    from ..classify.text import load_ipc_titles
    from .graph import from_tables, with_forward_citations

    npar, tp = params["network"], params["train"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", clusters.LeidenNotStableWarning)
        t = io.read_tables(root / params["ingest"].out, names=STAGE_INPUTS, columns=STAGE_INPUTS)
        progress("graph")
        citations = with_forward_citations(t["citations"], t.get("forward_citations"))
        graph = from_tables(t["patents"], citations, t["parties"], level=npar.level)
        # Cluster labels look up main groups' titles only (``H01M10`` → ``H01M10/00``).
        titles = load_ipc_titles(root / tp.ipc_titles_zh, root / tp.ipc_titles_en,
                                 symbols=t["classifications"]["main_group"].dropna().unique() + "/00")
        tables = analyse(graph, npar, patents=t["patents"], classifications=t["classifications"],
                         parties=t["parties"], ipc_titles=titles, progress=progress)
        progress("exports")
        written = write_exports(tables, root / npar.exports, top=npar.export_top, lang=npar.lang)
        progress("")
    return _write(graph, tables, written, root / npar.out, root / npar.metrics, seen)


def run_user_files(params: dict, edges: Path, *, out: Path | None = None, nodes: Path | None = None,
                   progress: Callable[[str], None] = _noop) -> dict:
    """``patnav network EDGES``: the same analyses of a user's edge list (and node list,
    :func:`read_node_list`), with the options of ``network``; tables, exports and
    metrics.json all go to ``out`` (default ``EDGES.network/`` beside the edge list).

    Returns what :func:`run_stage` returns.
    """
    npar = params["network"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", clusters.LeidenNotStableWarning)
        node_attrs = read_node_list(nodes) if nodes else None
        progress("graph")
        graph, regions = graph_from_user_files(read_edge_list(edges), node_attrs)
        tables = analyse(graph, npar, node_regions=regions, progress=progress)
        dest = out or edges.with_name(f"{edges.stem}.network")
        progress("exports")
        written = write_exports(tables, dest, top=npar.export_top, lang=npar.lang)
        progress("")
    return _write(graph, tables, written, dest, dest / "metrics.json", seen)


def region_dependence(flows_regions: pd.DataFrame, region, top: int = 5) -> dict:
    """A project region's dependence on outside technology, from the stage's region flows.

    Parameters
    ----------
    flows_regions : DataFrame
        The ``flows_regions`` table (``level``, ``citing_group``, ``cited_group``,
        ``citations``).
    region : pipeline.places.Region
        Matched by its path (``CN/重庆市/重庆市/江北区``) at its own level.

    Returns
    -------
    dict
        ``citations`` the region's patents make to located documents, ``inside`` (to the
        region itself), ``outside``, ``outside_share`` and ``top_sources`` (up to ``top``
        outside regions with their citations and share).

    Examples
    --------
    >>> from pipeline.places import Region
    >>> f = pd.DataFrame({"level": "province", "citing_group": ["CN/重庆市"] * 2,
    ...                   "cited_group": ["CN/重庆市", "CN/广东省"], "citations": [1, 3]})
    >>> d = region_dependence(f, Region("重庆市", "province", "CN", "重庆市"))
    >>> d["outside_share"], d["top_sources"]
    (0.75, [{'region': 'CN/广东省', 'citations': 3, 'share': 0.75}])
    """
    parts = [region.country, region.province, region.city, region.district]
    depth = REGION_LEVELS.index(region.level) + 1
    path = "/".join(p or "?" for p in parts[:depth])
    f = flows_regions[flows_regions["level"] == region.level]
    d = flows.dependence(f, path, top=top)
    src = d.top_sources.rename(columns={"cited_group": "region"})
    return {"region": path, "citations": _num(d.citations), "inside": _num(d.inside), "outside": _num(d.outside),
            "outside_share": None if pd.isna(d.outside_share) else round(float(d.outside_share), 4),
            "top_sources": [{"region": r, "citations": _num(c), "share": round(float(s), 4)}
                            for r, c, s in zip(src["region"], src["citations"], src["share"], strict=True)]}


def project_dependence(edges: pd.DataFrame, parties: pd.DataFrame, in_data, scope_ids, region, top: int = 5) -> dict:
    """:func:`region_dependence` on a project's own citations only.

    The citations its patents (``scope_ids``) make; documents placed as the network stage
    places them (:func:`node_regions`: first applicant, else for a document outside the
    data — ``in_data``: the publication ids of the data — its number's country).

    Examples
    --------
    >>> from pipeline.places import Region
    >>> parties = pd.DataFrame({"pub_id": ["A", "B", "C", "D"], "role": "applicant", "seq": 0, "country": "CN",
    ...                         "province": ["重庆市", "重庆市", "广东省", "广东省"], "city": None, "district": None})
    >>> e = pd.DataFrame({"citing": ["A", "A", "A", "D"], "cited": ["B", "C", "X", "B"]})
    >>> d = project_dependence(e, parties, ["A", "B", "C", "D"], ["A"], Region("重庆市", "province", "CN", "重庆市"))
    >>> d["citations"], d["inside"], d["outside"], d["outside_share"]
    (2, 1, 1, 0.5)
    """
    e = edges.loc[edges["citing"].isin(set(scope_ids)), ["citing", "cited"]]
    codes, nodes = pd.factorize(pd.concat([e["citing"], e["cited"]], ignore_index=True))
    regions = node_regions(pd.Series(nodes), pd.Series(nodes).isin(set(in_data)).to_numpy(), parties)
    f = flows.region_flows(codes[:len(e)], codes[len(e):], regions, region.level) if len(e) else \
        pd.DataFrame(columns=["level", "citing_group", "cited_group", "citations", "share", "self"])
    return region_dependence(f, region, top=top)


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() else round(x, 4)
