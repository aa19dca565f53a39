"""Citation graphs: building, cycle breaking, self-citations and citation counts.

A citation graph is ``n`` nodes (ints ``0..n-1``) plus two int64 arrays ``src`` and ``dst``:
one edge per citation, pointing from the **citing** publication to the **cited** (older)
one. Every network module (centrality, main path, clusters) consumes exactly that;
:class:`CitationGraph` carries the arrays together with the node table and the record of
what was dropped or removed on the way.

Building
--------
:func:`from_edges` takes a plain edge list (``citing``, ``cited``; what a user brings as
CSV); :func:`from_tables` takes the canonical ``patents`` / ``citations`` / ``parties``
tables, at the level of publications or of families. Both drop self-loops and duplicate
edges (and count them) and then break cycles.

Cycle breaking
--------------
Citation data has cycles (typing errors, citations between family members, examiners
citing a co-pending application). Main-path analysis needs a DAG, so cycles are broken by
a documented, deterministic rule that only touches edges inside cycles:

1. Strongly connected components (SCCs) are computed with
   :func:`scipy.sparse.csgraph.connected_components`. An edge is *in a cycle* when both
   ends lie in the same SCC. A graph without such edges is already acyclic and is left
   untouched.
2. **time_reversed** — among the edges in a cycle, those whose citing node has a known
   date strictly earlier than the known date of the cited node are removed. Edges outside
   cycles are kept even when time-reversed: with publication dates, a Chinese ``A``
   publication legitimately cites documents published after it (the citations come from
   the later examination), and removing them would lose real knowledge flows.
3. **cycle_order** — SCCs are recomputed; within each remaining SCC, nodes are ordered
   by ``(date, node id)`` (unknown dates last, i.e. treated as newest) and every edge
   whose cited node comes *later* in that order than its citing node is removed. The
   remaining edges of an SCC then all point backwards in one total order, so the SCC is
   acyclic; edges between SCCs follow the (acyclic) condensation, so the whole graph is
   a DAG after this step.

The removed edges are kept in :attr:`CitationGraph.removed` with their ``reason``;
:func:`citation_counts` still counts them (a citation is a fact even when it has to leave
the DAG).

Dates
-----
A node's ``date`` is its **publication date**: ``pub_date`` for publications of the data
set, the citation's ``cited_date`` for outside documents (the only date the citing record
gives). Using one kind of date for every node keeps the comparisons (cycle rule, citation
lag, citation windows) like for like; OECD forward-citation windows are also counted from
publication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import GraphInputError
from ..schema import require_columns

__all__ = [
    "with_forward_citations",
    "CitationGraph",
    "from_edges",
    "from_tables",
    "break_cycles",
    "is_acyclic",
    "self_citations",
    "citation_counts",
    "to_networkx",
    "to_csr",
]

LEVELS = ("patent", "family")
REASONS = ("time_reversed", "cycle_order")
_APPLICANT_ROLES = ("applicant", "assignee")  # order = precedence for the first applicant
_MAX_LISTED = 10  # bad rows listed in an error message


@dataclass(frozen=True, eq=False)
class CitationGraph:
    """A citation graph: edges from the citing node to the cited node, acyclic.

    Attributes
    ----------
    nodes : DataFrame
        One row per node, index ``0..n-1`` in ascending order of the node id. Columns
        ``node`` (string id), ``in_data`` (bool: a publication/family of the data set, not
        an outside cited document), ``date`` (publication date, ``datetime64[s]``, NaT when
        unknown), ``family_id`` and ``applicant`` (normalised first applicant) when known
        (null otherwise); :func:`from_tables` adds ``refs`` and ``refs_external`` (the
        node's references in the raw data, and those not resolved to the data set; null
        for outside documents).
    src, dst : ndarray of int64
        Edges citing -> cited, deduplicated, without self-loops, acyclic, sorted by
        ``(src, dst)``.
    removed : DataFrame
        Edges removed to break cycles: ``src``, ``dst``, ``citing``, ``cited``, ``reason``
        (``time_reversed`` or ``cycle_order``, see the module docstring).
    dropped : dict
        Counts of input rows dropped before building: ``self_loops``, ``duplicates`` and,
        for family graphs, ``intra_family`` (citations between members of one family).
    applicants : DataFrame
        ``node`` (int) and ``applicant`` (normalised name) pairs: every applicant group of
        a node, used to flag self-citations.
    level : str
        ``"patent"`` or ``"family"``.
    """

    nodes: pd.DataFrame
    src: np.ndarray
    dst: np.ndarray
    removed: pd.DataFrame
    dropped: dict = field(default_factory=dict)
    applicants: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"node": [], "applicant": []}))
    level: str = "patent"

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def m(self) -> int:
        """Number of edges (after cycle breaking)."""
        return len(self.src)

    @property
    def removed_counts(self) -> dict[str, int]:
        """Number of removed edges per reason (every reason listed, zeros included)."""
        counts = self.removed["reason"].value_counts()
        return {r: int(counts.get(r, 0)) for r in REASONS}

    @property
    def edges(self) -> pd.DataFrame:
        """The edges as a frame: ``src``, ``dst``, ``citing``, ``cited``, ``citing_date``,
        ``cited_date`` and ``self_citation`` (see :func:`self_citations`)."""
        # Arrow takes of the id column: no Python string per edge (10x faster at 4M edges)
        ids = self.nodes["node"].astype("string").array
        dates = self.nodes["date"].to_numpy()
        return pd.DataFrame(
            {
                "src": self.src,
                "dst": self.dst,
                "citing": ids.take(self.src),
                "cited": ids.take(self.dst),
                "citing_date": dates[self.src],
                "cited_date": dates[self.dst],
                "self_citation": self_citations(self),
            }
        )

    def to_networkx(self) -> nx.DiGraph:
        """See :func:`to_networkx`."""
        return to_networkx(self)

    def to_csr(self) -> sp.csr_matrix:
        """See :func:`to_csr`."""
        return to_csr(self)


# ----------------------------------------------------------------------------- building


def from_edges(edges: pd.DataFrame, nodes: pd.DataFrame | None = None) -> CitationGraph:
    """Build a citation graph from a generic edge list.

    Parameters
    ----------
    edges : DataFrame
        Columns ``citing`` and ``cited`` (ids, any type; compared as given) and optionally
        ``citing_date`` and ``cited_date``. One row per citation.
    nodes : DataFrame, optional
        Columns ``node`` and optionally ``in_data``, ``date``, ``family_id``, ``applicant``.
        Nodes listed here are part of the graph even without edges (a node listed twice:
        the first row wins). When ``nodes`` is
        given, listed nodes are in the data set (unless its ``in_data`` column says
        otherwise) and nodes only met in ``edges`` are outside documents; without it, a
        node is in the data set when it cites something (its references are known).

    Returns
    -------
    CitationGraph
        Self-loops and duplicate edges dropped (counted in ``dropped``), cycles broken.
        A node's date is the one in ``nodes``, else the earliest date the edge list gives
        for it.

    Raises
    ------
    GraphInputError
        If a column is missing, an id is missing/blank or a date cannot be read; the
        message lists the rows (0-based positions in ``edges`` or ``nodes``).

    Examples
    --------
    >>> e = pd.DataFrame({"citing": ["b", "c", "c", "c", "a"], "cited": ["a", "a", "b", "b", "c"]})
    >>> g = from_edges(e)
    >>> g.nodes["node"].tolist(), g.src.tolist(), g.dst.tolist()
    (['a', 'b', 'c'], [1, 2, 2], [0, 0, 1])
    >>> g.dropped, g.removed_counts
    ({'self_loops': 0, 'duplicates': 1}, {'time_reversed': 0, 'cycle_order': 1})
    """
    _require(edges, ["citing", "cited"], "edges")
    citing, cited = edges["citing"], edges["cited"]
    bad = _blank(citing) | _blank(cited)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise GraphInputError(
            f"edges: {len(rows)} row(s) with a missing 'citing' or 'cited' id, at row(s) "
            f"{_list_rows(rows)} (0-based); fill or drop them"
        )
    attrs = None
    if nodes is not None:
        _require(nodes, ["node"], "nodes")
        bad = _blank(nodes["node"])
        if bad.any():
            raise GraphInputError(f"nodes: missing 'node' id at row(s) {_list_rows(np.flatnonzero(bad))} (0-based)")
        attrs = nodes.drop_duplicates("node").set_index("node")
        if "in_data" not in attrs.columns:
            attrs = attrs.assign(in_data=True)
    codes, uniques = _factorize(
        [citing, cited] + ([nodes["node"]] if nodes is not None else [])
    )
    m = len(edges)
    src, dst = codes[:m].astype(np.int64), codes[m:2 * m].astype(np.int64)
    n = len(uniques)

    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame["node"] = pd.array(uniques.astype(str), dtype="string")
    if attrs is not None:
        got = attrs.reindex(uniques)
        frame["in_data"] = got["in_data"].fillna(False).astype(bool).to_numpy()
    else:
        frame["in_data"] = np.bincount(src, minlength=n) > 0
    date = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
    if attrs is not None and "date" in attrs.columns:
        _dates(nodes["date"], "nodes", "date")  # validates, naming bad rows
        date = pd.Series(_dates(attrs["date"].reindex(uniques), "nodes", "date").to_numpy(), index=frame.index)
    for col, codes_ in (("citing_date", src), ("cited_date", dst)):
        if col in edges.columns:
            d = pd.Series(_dates(edges[col], "edges", col).to_numpy()).groupby(codes_).min()
            date = date.fillna(d.reindex(frame.index).astype("datetime64[s]"))
    frame["date"] = date.astype("datetime64[s]")
    for col in ("family_id", "applicant"):
        vals = attrs[col].reindex(uniques).to_numpy() if attrs is not None and col in attrs.columns else None
        frame[col] = pd.array(vals if vals is not None else [None] * n, dtype="string")
    applicants = _pairs_from_first(frame)
    return _assemble(frame, src, dst, {}, applicants, "patent")


def with_forward_citations(citations: pd.DataFrame, forward: pd.DataFrame | None) -> pd.DataFrame:
    """Citation rows plus the links that only a cited record's 被引用 list gives.

    A vendor's list of documents citing a record (Patentics 被引用, incoPat 被引证专利) is
    the same link seen from the other end: it becomes a citation row ``citing -> record``
    unless the citing publication's own reference list already holds it. A citing
    document outside the data becomes an outside node (``pub_id`` = its number without
    kind), so a Chinese export with 被引用 lists gets its forward citations.

    Parameters
    ----------
    citations : DataFrame
        Canonical ``citations``.
    forward : DataFrame or None
        Canonical ``forward_citations`` (``pub_id`` = the cited record, ``citing_*``).

    Returns
    -------
    DataFrame
        ``citations`` with the added rows (``source`` of the forward list, category
        ``other``).

    Examples
    --------
    >>> cit = pd.DataFrame({"pub_id": ["B1"], "cited_raw": ["A1"], "cited_doc_key": ["A"],
    ...                     "resolved_pub_id": ["A1"], "source": ["x"]})
    >>> fwd = pd.DataFrame({"pub_id": ["A1", "A1"], "citing_raw": ["B1", "Z9"],
    ...     "citing_pub_id": ["B1", "Z9"], "citing_doc_key": ["B", "Z"],
    ...     "resolved_pub_id": ["B1", None], "source": ["y", "y"]})
    >>> with_forward_citations(cit, fwd)[["pub_id", "resolved_pub_id", "source"]].values.tolist()
    [['B1', 'A1', 'x'], ['Z', 'A1', 'y']]
    """
    if forward is None or forward.empty:
        return citations
    citing = forward["resolved_pub_id"].astype("string").fillna(forward["citing_doc_key"].astype("string"))
    rows = pd.DataFrame({
        "pub_id": citing,
        "cited_raw": forward["pub_id"].astype("string"),
        "cited_pub_id": forward["pub_id"].astype("string"),
        "resolved_pub_id": forward["pub_id"].astype("string"),
        "category": "other",
        "source": forward["source"].astype("string") if "source" in forward else "forward",
    }).dropna(subset=["pub_id"])
    have = set(zip(citations["pub_id"].astype(str), citations.get("resolved_pub_id", citations["cited_raw"]).astype(str)))
    new = [(a, b) not in have for a, b in zip(rows["pub_id"].astype(str), rows["resolved_pub_id"].astype(str))]
    rows = rows[new].drop_duplicates(["pub_id", "resolved_pub_id"])
    if "seq" in citations.columns:
        rows["seq"] = rows.groupby("pub_id").cumcount() + 100_000  # after any listed reference
    return pd.concat([citations, rows], ignore_index=True)


def from_tables(
    patents: pd.DataFrame,
    citations: pd.DataFrame,
    parties: pd.DataFrame | None = None,
    level: str = "patent",
) -> CitationGraph:
    """Build the citation graph of canonical tables.

    Each citation row is an edge ``pub_id -> cited`` where *cited* is the publication of
    the data it was resolved to (``resolved_pub_id``), else the cited document key
    (``cited_doc_key``, kind dropped, so ``A`` and ``B`` of one outside document are one
    node), else ``cited_raw`` upper-cased without blanks. Outside documents are nodes with
    ``in_data`` False, so a sample with few links inside the data still gives a real graph.

    Parameters
    ----------
    patents, citations : DataFrame
        Canonical tables (see :mod:`pipeline.schema`).
    parties : DataFrame, optional
        Canonical parties; applicants and assignees (``name_norm``) give the applicant
        groups used for self-citations and the ``applicant`` column (first applicant,
        applicants before assignees, by ``seq``).
    level : {"patent", "family"}
        ``"family"`` collapses the publications of one ``family_id`` into one node (id =
        the family id; date = earliest member's; applicant = the earliest member's first
        applicant; applicant groups = union of the members'). Outside documents stay as
        they are. Citations between members of a family are dropped and counted in
        ``dropped["intra_family"]``.

    Returns
    -------
    CitationGraph
        Nodes carry ``refs`` (citation rows of the node) and ``refs_external`` (those not
        resolved to a publication of the data set); null for outside documents.

    Raises
    ------
    GraphInputError
        On an unknown ``level`` or missing columns.

    Examples
    --------
    >>> pats = pd.DataFrame({"pub_id": ["X1B", "X2A"], "family_id": ["F1", "F2"],
    ...                      "pub_date": pd.to_datetime(["2012-01-01", "2015-01-01"])})
    >>> cits = pd.DataFrame({"pub_id": ["X2A", "X2A"], "cited_raw": ["x1 b", "us 123"],
    ...     "cited_doc_key": ["X1", "US123"], "resolved_pub_id": ["X1B", None]})
    >>> g = from_tables(pats, cits)
    >>> g.nodes[["node", "in_data", "refs", "refs_external"]]
        node  in_data  refs  refs_external
    0  US123    False  <NA>           <NA>
    1    X1B     True     0              0
    2    X2A     True     2              1
    >>> g.src.tolist(), g.dst.tolist()
    ([2, 2], [0, 1])
    """
    if level not in LEVELS:
        raise GraphInputError(f"level must be one of {LEVELS}, got {level!r}")
    _require(patents, ["pub_id", "pub_date"], "patents")
    _require(citations, ["pub_id", "cited_raw"], "citations")
    pats = patents.drop_duplicates("pub_id")
    pub_ids = pats["pub_id"].astype("string")

    cit = citations
    cited = pd.Series(pd.NA, index=cit.index, dtype="string")
    for col in ("resolved_pub_id", "cited_doc_key"):
        if col in cit.columns:
            cited = cited.fillna(cit[col].astype("string"))
    # the raw number is normalised only where no key gave the cited document (string
    # operations on every reference were a fifth of building the graph)
    need = cited.isna().to_numpy()
    if need.any():
        raw = cit["cited_raw"][need].astype("string").str.upper().str.replace(r"\s+", "", regex=True)
        cited[need] = raw.mask(raw == "").to_numpy()
    keep = cited.notna() & (cited.str.len() > 0) & cit["pub_id"].notna()
    citing = cit["pub_id"].astype("string")
    resolved = (
        cit["resolved_pub_id"].notna() if "resolved_pub_id" in cit.columns else pd.Series(False, index=cit.index)
    ) & (_index_in(cited, pub_ids) >= 0)

    # per citing publication: references in the raw data and those leaving the data set
    # (counted on positions in pub_ids: hashing millions of ids as text was most of the time)
    citing_pos = _index_in(citing, pub_ids)
    refs = np.bincount(citing_pos[citing_pos >= 0], minlength=len(pub_ids))
    refs_ext = np.bincount(citing_pos[(citing_pos >= 0) & ~resolved.to_numpy()], minlength=len(pub_ids))

    cited_date = (
        pd.to_datetime(cit["cited_date"]).astype("datetime64[s]")
        if "cited_date" in cit.columns
        else pd.Series(pd.NaT, index=cit.index, dtype="datetime64[s]")
    )
    outside_dates = cited_date[keep & ~resolved].groupby(cited[keep & ~resolved]).min()

    pat_nodes = pd.DataFrame(
        {
            "node": pub_ids.to_numpy(),
            "date": pd.to_datetime(pats["pub_date"]).astype("datetime64[s]").to_numpy(),
            "family_id": (
                pats["family_id"].astype("string").to_numpy() if "family_id" in pats.columns else pd.NA
            ),
        }
    )
    pat_nodes["family_id"] = pat_nodes["family_id"].astype("string")
    pat_nodes["refs"] = pd.array(refs, dtype="Int64")
    pat_nodes["refs_external"] = pd.array(refs_ext, dtype="Int64")
    pairs = _applicant_pairs(parties)  # pub_id, applicant, rank
    first = pairs.sort_values(["pub_id", "rank"]).drop_duplicates("pub_id")
    pat_nodes["applicant"] = first["applicant"].array.take(_index_in(pub_ids, first["pub_id"]), allow_fill=True)

    # text columns as they are for the patent level (a round trip through Python strings
    # took seconds at 1M); the family level maps them as objects
    e_citing, e_cited = citing[keep].reset_index(drop=True), cited[keep].reset_index(drop=True)
    dropped: dict[str, int] = {}
    if level == "family":
        e_citing, e_cited = e_citing.to_numpy(dtype=object), e_cited.to_numpy(dtype=object)
        fam = pat_nodes["family_id"].fillna(pat_nodes["node"])
        to_family = pd.Series(fam.to_numpy(), index=pat_nodes["node"].to_numpy())
        e_citing = pd.Series(e_citing).map(to_family).fillna(pd.Series(e_citing)).to_numpy(dtype=object)
        e_cited = pd.Series(e_cited).map(to_family).fillna(pd.Series(e_cited)).to_numpy(dtype=object)
        intra = (e_citing == e_cited) & pd.Series(e_citing).isin(set(fam)).to_numpy()
        dropped["intra_family"] = int(intra.sum())
        e_citing, e_cited = e_citing[~intra], e_cited[~intra]
        # the earliest member (date, then id) speaks for the family
        members = pat_nodes.assign(family=fam).sort_values(["date", "node"], na_position="last")
        agg = members.groupby("family", sort=True).agg(
            date=("date", "min"), refs=("refs", "sum"), refs_external=("refs_external", "sum"),
            applicant=("applicant", "first"),
        )
        pairs = pairs.assign(pub_id=pairs["pub_id"].map(to_family)).dropna(subset=["pub_id"])
        pat_nodes = pd.DataFrame(
            {
                "node": agg.index.astype(str),
                "date": agg["date"].to_numpy(),
                "family_id": agg.index.astype(str),
                "refs": agg["refs"].astype("Int64").to_numpy(),
                "refs_external": agg["refs_external"].astype("Int64").to_numpy(),
                "applicant": agg["applicant"].astype("string").to_numpy(),
            }
        )

    codes, uniques = _factorize([pat_nodes["node"], pd.Series(e_citing, dtype="string"),
                                 pd.Series(e_cited, dtype="string")])
    k, m = len(pat_nodes), len(e_citing)
    src, dst = codes[k:k + m].astype(np.int64), codes[k + m:].astype(np.int64)
    n = len(uniques)
    at = _index_in(uniques, pat_nodes["node"])  # row of each node in pat_nodes, -1 outside the data
    attrs = pd.DataFrame({c: pat_nodes[c].array.take(at, allow_fill=True) for c in pat_nodes.columns if c != "node"})
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame["node"] = pd.array(uniques.astype(str), dtype="string")
    frame["in_data"] = np.zeros(n, dtype=bool)
    frame.loc[codes[:k], "in_data"] = True
    date = pd.Series(attrs["date"].to_numpy(), index=frame.index).astype("datetime64[s]")
    frame["date"] = date.fillna(pd.Series(outside_dates.array.take(_index_in(uniques, outside_dates.index), allow_fill=True),
                                          index=frame.index)
                                .astype("datetime64[s]"))
    for col in ("family_id", "applicant"):
        frame[col] = pd.array(attrs[col].to_numpy(), dtype="string")
    for col in ("refs", "refs_external"):
        frame[col] = pd.array(attrs[col].to_numpy(), dtype="Int64")

    node = _index_in(pairs["pub_id"], uniques).astype(np.float64)
    node[node < 0] = np.nan  # applicants of publications without a node: dropped below
    applicants = pd.DataFrame({"node": node, "applicant": pairs["applicant"].to_numpy()}).dropna().drop_duplicates()
    applicants = applicants.astype({"node": np.int64, "applicant": "string"}).sort_values(["node", "applicant"])
    return _assemble(frame, src, dst, dropped, applicants.reset_index(drop=True), level)


def _assemble(frame, src, dst, dropped, applicants, level) -> CitationGraph:
    """Drop self-loops and duplicates, break cycles, wrap up."""
    n = len(frame)
    loop = src == dst
    dropped = {"self_loops": int(loop.sum()), **dropped}
    src, dst = src[~loop], dst[~loop]
    key = np.sort(src * np.int64(max(n, 1)) + dst)  # edges in (src, dst) order
    # (sort + neighbour compare: numpy 2's hash-based np.unique is ~8x slower at 10M edges)
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
    dropped = {**dropped, "duplicates": int(len(src) - len(key))}
    src, dst = key // max(n, 1), key % max(n, 1)
    keep, reason = break_cycles(n, src, dst, frame["date"].to_numpy())
    ids = frame["node"].to_numpy()
    gone = ~keep
    removed = pd.DataFrame(
        {
            "src": src[gone],
            "dst": dst[gone],
            "citing": pd.array(ids[src[gone]], dtype="string"),
            "cited": pd.array(ids[dst[gone]], dtype="string"),
            "reason": pd.array(reason[gone], dtype="string"),
        }
    )
    return CitationGraph(
        nodes=frame, src=src[keep], dst=dst[keep], removed=removed, dropped=dropped,
        applicants=applicants, level=level,
    )


# ------------------------------------------------------------------------------ cycles


def _scc(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    adj = sp.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    return connected_components(adj, directed=True, connection="strong")[1]


def is_acyclic(n: int, src: np.ndarray, dst: np.ndarray) -> bool:
    """Whether the directed graph ``(n, src, dst)`` has no cycle (self-loops are cycles).

    Examples
    --------
    >>> is_acyclic(3, np.array([0, 1]), np.array([1, 2])), is_acyclic(2, np.array([0, 1]), np.array([1, 0]))
    (True, False)
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if (src == dst).any():
        return False
    labels = _scc(n, src, dst)
    return not (labels[src] == labels[dst]).any()


def break_cycles(n: int, src: np.ndarray, dst: np.ndarray, dates=None) -> tuple[np.ndarray, np.ndarray]:
    """Choose the edges to remove so that the graph becomes acyclic (rule in the module docstring).

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array of int
        Edges citing -> cited, without self-loops; node ids are their order for ties.
    dates : array of datetime64, optional
        Node dates (NaT when unknown).

    Returns
    -------
    keep : ndarray of bool
        Per edge, whether it stays.
    reason : ndarray of object
        Per edge, ``None`` when kept, else ``"time_reversed"`` or ``"cycle_order"``.

    Examples
    --------
    A 3-cycle 0 -> 1 -> 2 -> 0 with dates 2010, 2005, 2000: the edge 2 -> 0 cites a newer
    document (time-reversed) and goes.

    >>> d = np.array(["2010-01-01", "2005-01-01", "2000-01-01"], dtype="datetime64[D]")
    >>> keep, why = break_cycles(3, np.array([0, 1, 2]), np.array([1, 2, 0]), d)
    >>> keep.tolist(), why.tolist()
    ([True, True, False], [None, None, 'time_reversed'])

    Without dates the order is the node id, and every edge of the cycle citing a later id
    goes (the rule is deterministic, not a minimum feedback arc set):

    >>> keep, why = break_cycles(3, np.array([0, 1, 2]), np.array([1, 2, 0]))
    >>> why.tolist()
    ['cycle_order', 'cycle_order', None]
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    m = len(src)
    keep = np.ones(m, dtype=bool)
    reason = np.full(m, None, dtype=object)
    if m == 0:
        return keep, reason
    labels = _scc(n, src, dst)
    in_cycle = labels[src] == labels[dst]
    if not in_cycle.any():
        return keep, reason
    if dates is None:
        day = np.full(n, np.iinfo(np.int64).max)
    else:
        d = np.asarray(dates, dtype="datetime64[D]")
        known = ~np.isnat(d)
        day = np.where(known, d.astype(np.int64), np.iinfo(np.int64).max)  # unknown = newest
        reversed_ = in_cycle & known[src] & known[dst] & (day[src] < day[dst])
        keep[reversed_] = False
        reason[reversed_] = "time_reversed"
        labels = _scc(n, src[keep], dst[keep])
        in_cycle = np.zeros(m, dtype=bool)
        in_cycle[keep] = labels[src[keep]] == labels[dst[keep]]
    # position of each node in the (date, id) order; np.lexsort's last key is the primary one
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), day))] = np.arange(n)
    against = in_cycle & (rank[dst] > rank[src])
    keep[against] = False
    reason[against] = "cycle_order"
    return keep, reason


# ------------------------------------------------------------------- self-citations


def _applicant_pairs(parties: pd.DataFrame | None) -> pd.DataFrame:
    """``pub_id``, ``applicant`` (name_norm), ``rank`` (precedence) of applicants/assignees."""
    if parties is None or len(parties) == 0:
        return pd.DataFrame({"pub_id": pd.Series(dtype="string"), "applicant": pd.Series(dtype="string"),
                             "rank": pd.Series(dtype=np.int64)})
    _require(parties, ["pub_id", "role", "seq", "name_norm"], "parties")
    p = parties[parties["role"].isin(_APPLICANT_ROLES) & parties["name_norm"].notna()]
    role_rank = p["role"].map({r: i for i, r in enumerate(_APPLICANT_ROLES)}).astype(np.int64)
    rank = role_rank * (int(p["seq"].max()) + 1 if len(p) else 1) + p["seq"].astype(np.int64)
    return pd.DataFrame({"pub_id": p["pub_id"].astype("string").to_numpy(),
                         "applicant": p["name_norm"].astype("string").str.strip().to_numpy(),
                         "rank": rank.to_numpy()})


def _pairs_from_first(frame: pd.DataFrame) -> pd.DataFrame:
    known = frame["applicant"].notna()
    return pd.DataFrame({"node": np.flatnonzero(known).astype(np.int64),
                         "applicant": frame.loc[known, "applicant"].astype("string").to_numpy()})


def self_citations(graph: CitationGraph, src=None, dst=None) -> np.ndarray:
    """Flag edges whose citing and cited nodes share an applicant group.

    Applicant groups are the normalised names in ``graph.applicants`` (every applicant and
    assignee from ``parties``; with :func:`from_edges`, the ``applicant`` column of
    ``nodes``). An edge is a self-citation when the two ends have at least one group in
    common; ends with no known applicant (outside documents) are never flagged.

    Parameters
    ----------
    graph : CitationGraph
    src, dst : array of int, optional
        Edges to flag; default the graph's edges.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> e = pd.DataFrame({"citing": ["b", "c"], "cited": ["a", "a"]})
    >>> nodes = pd.DataFrame({"node": ["a", "b", "c"], "applicant": ["ACME", "ACME", None]})
    >>> self_citations(from_edges(e, nodes)).tolist()
    [True, False]
    """
    src = graph.src if src is None else np.asarray(src, dtype=np.int64)
    dst = graph.dst if dst is None else np.asarray(dst, dtype=np.int64)
    flag = np.zeros(len(src), dtype=bool)
    pairs = graph.applicants
    if len(pairs) == 0 or len(src) == 0:
        return flag
    codes, uniques = pd.factorize(pairs["applicant"])
    # Node × applicant-group incidence: an edge is a self-citation when the rows of its two
    # ends share a column (sparse row gathers; three frame merges took seconds at 1M).
    groups = sp.csr_matrix((np.ones(len(codes), dtype=bool), (pairs["node"].to_numpy(np.int64), codes)),
                           shape=(max(graph.n, int(pairs["node"].max()) + 1), len(uniques)))
    shared = sp.csr_matrix(groups[src].multiply(groups[dst]))
    return np.diff(shared.indptr) > 0


# -------------------------------------------------------------------------- counts


def citation_counts(graph: CitationGraph, window_years: int = 5, include_removed: bool = True) -> pd.DataFrame:
    """Forward and backward citation counts per node.

    Parameters
    ----------
    graph : CitationGraph
    window_years : int
        Window for ``forward_window``, in calendar years after the node's date.
    include_removed : bool
        Also count the edges removed to break cycles (default: they are real citations).

    Returns
    -------
    DataFrame
        Index as ``graph.nodes``; columns ``node``, ``forward`` (times cited),
        ``forward_window`` (times cited by a node dated at most ``window_years`` after the
        node's date, earlier citations included; citing nodes without a date are not
        counted; null when the node's date is unknown), ``backward`` (references in the
        graph), ``backward_external`` (those pointing to outside documents, ``in_data``
        False), ``mean_citation_lag_years`` (mean of citing date minus cited date over the
        node's references with both dates known, in years of 365.25 days; null if none).

    Examples
    --------
    >>> e = pd.DataFrame({"citing": ["b", "c", "c"], "cited": ["a", "a", "b"],
    ...                   "citing_date": ["2012-01-01", "2020-01-01", "2020-01-01"],
    ...                   "cited_date": ["2010-01-01", "2010-01-01", "2012-01-01"]})
    >>> print(citation_counts(from_edges(e), window_years=5).to_string())
      node  forward  forward_window  backward  backward_external  mean_citation_lag_years
    0    a        2               1         0                  0                     <NA>
    1    b        1               0         1                  1                  1.99863
    2    c        0               0         2                  1                  8.99932

    ``a`` cites nothing, so (no ``nodes`` given) it is an outside document: the references
    to it count as external.
    """
    n = graph.n
    src, dst = graph.src, graph.dst
    if include_removed and len(graph.removed):
        src = np.concatenate([src, graph.removed["src"].to_numpy(np.int64)])
        dst = np.concatenate([dst, graph.removed["dst"].to_numpy(np.int64)])
    in_data = graph.nodes["in_data"].to_numpy(bool)
    dates = graph.nodes["date"].to_numpy().astype("datetime64[D]")
    known = ~np.isnat(dates)
    day = np.where(known, dates.astype(np.int64), 0)

    limit = (pd.DatetimeIndex(graph.nodes["date"]) + pd.DateOffset(years=window_years)).to_numpy()
    limit_day = np.where(known, limit.astype("datetime64[D]").astype(np.int64), 0)
    both = known[src] & known[dst]
    in_window = both & (day[src] <= limit_day[dst])
    lag = (day[src] - day[dst]) / 365.25
    n_lag = np.bincount(src[both], minlength=n)
    sum_lag = np.bincount(src[both], weights=lag[both], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_lag = sum_lag / n_lag
    forward_window = pd.array(np.bincount(dst[in_window], minlength=n), dtype="Int64")
    forward_window[~known] = pd.NA
    return pd.DataFrame(
        {
            "node": graph.nodes["node"],
            "forward": np.bincount(dst, minlength=n).astype(np.int64),
            "forward_window": forward_window,
            "backward": np.bincount(src, minlength=n).astype(np.int64),
            "backward_external": np.bincount(src[~in_data[dst]], minlength=n).astype(np.int64),
            "mean_citation_lag_years": pd.array(np.where(n_lag > 0, mean_lag.round(5), np.nan), dtype="Float64"),
        },
        index=graph.nodes.index,
    )


# ------------------------------------------------------------------------- exports


def to_networkx(graph: CitationGraph) -> nx.DiGraph:
    """The graph as a :class:`networkx.DiGraph` keyed by node id (small graphs, exports, cross-checks).

    Node attributes are the non-null columns of ``graph.nodes`` (``index`` = the int id).

    Examples
    --------
    >>> g = from_edges(pd.DataFrame({"citing": ["b"], "cited": ["a"]}))
    >>> list(to_networkx(g).edges())
    [('b', 'a')]
    """
    G = nx.DiGraph()
    ids = graph.nodes["node"].astype(str).to_numpy()
    records = graph.nodes.drop(columns="node").to_dict("records")
    G.add_nodes_from(
        (i, {"index": k, **{c: v for c, v in r.items() if not (v is None or v is pd.NA or v is pd.NaT
                                                                or (isinstance(v, float) and np.isnan(v)))}})
        for k, (i, r) in enumerate(zip(ids, records))
    )
    G.add_edges_from(zip(ids[graph.src], ids[graph.dst]))
    return G


def to_csr(graph: CitationGraph) -> sp.csr_matrix:
    """Adjacency as an ``n x n`` CSR matrix with ``A[citing, cited] = 1``.

    Examples
    --------
    >>> to_csr(from_edges(pd.DataFrame({"citing": ["b"], "cited": ["a"]}))).toarray()
    array([[0., 0.],
           [1., 0.]])
    """
    return sp.csr_matrix((np.ones(graph.m), (graph.src, graph.dst)), shape=(graph.n, graph.n))


# ------------------------------------------------------------------------- helpers


_require = partial(require_columns, error=GraphInputError)


def _blank(s: pd.Series) -> np.ndarray:
    isna = s.isna().to_numpy().copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        isna |= s.astype("string").str.strip().fillna("").eq("").to_numpy()
    return isna


def _arrow_text(values):
    """``values`` as an Arrow text array (nulls for missing values)."""
    import pyarrow as pa

    return pa.array(pd.Series(values, dtype="string").array)


def _index_in(values, keys) -> np.ndarray:
    """Position of each of ``values`` in ``keys`` (distinct ids), -1 when absent or missing.

    One hash lookup in Arrow: several times faster than pandas' ``isin`` / ``map`` /
    ``reindex`` on millions of text ids, which were most of the time of building the graph.

    Examples
    --------
    >>> _index_in(pd.Series(["b", None, "z", "a"]), ["a", "b"]).tolist()
    [1, -1, -1, 0]
    """
    import pyarrow.compute as pc

    vals = _arrow_text(values)
    pos = pc.index_in(vals, value_set=_arrow_text(keys).cast(vals.type))
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _factorize(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the concatenated columns and their sorted unique ids (as a numpy array).

    Columns keep their dtype (int ids factorise much faster than objects); ids of mixed
    types (ints and strings) are compared as text.
    """
    ids = pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True)
    if isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu":
        fast = _factorize_ints(ids.to_numpy())
        if fast is not None:
            return fast
    if pd.api.types.is_string_dtype(ids) or ids.dtype == object:
        ids = ids.astype("string")
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(ids.astype(str), sort=True)
    return codes, np.asarray(uniques, dtype=object) if uniques.dtype == "string" else np.asarray(uniques)


def _factorize_ints(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize(ids, sort=True)`` of non-negative integer ids by counting: a table of
    the ids present, its running count giving each id its code (O(ids + largest id); at
    10M edges several times faster than hashing). None when the ids are negative or too
    sparse for a table.

    Examples
    --------
    >>> codes, uniques = _factorize_ints(np.array([7, 3, 7, 0]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 1, 2, 0], [0, 3, 7])
    """
    if ids.size == 0 or ids.min() < 0 or ids.max() > 4 * ids.size + 1024:
        return None
    present = np.zeros(int(ids.max()) + 1, dtype=bool)
    present[ids] = True
    code = np.cumsum(present, dtype=np.int64) - 1
    return code[ids], np.flatnonzero(present).astype(ids.dtype, copy=False)


def _dates(s: pd.Series, what: str, col: str) -> pd.Series:
    """``s`` as ``datetime64[s]``; unreadable values raise, naming their rows."""
    out = pd.to_datetime(s, errors="coerce")
    bad = out.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise GraphInputError(
            f"{what}: unreadable date in column {col!r} at row(s) {_list_rows(rows)} (0-based), "
            f"e.g. {s.iloc[rows[0]]!r}; use YYYY-MM-DD"
        )
    return out.astype("datetime64[s]")


def _list_rows(rows: np.ndarray) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    return shown + (f", … ({len(rows) - _MAX_LISTED} more)" if len(rows) > _MAX_LISTED else "")
