"""Merge canonical tables from several sources: de-duplicate, group families, resolve citations.

The same publication from two sources becomes one row with both provenances: per
field the value of the highest-precedence source that has one, except titles and
abstracts, where the longest text wins. Child rows (parties by role,
classifications by scheme, citations, NPL, events) are taken from the
highest-precedence source that has any for that publication, so one source's
inventors are not mixed with another's.

Families are connected components of the graph publication — key, where keys are
application numbers, priority numbers, WO publications and family members listed by a
source (scipy's sparse connected components: no Python loop over records).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .. import schema
from ..frames import isin

__all__ = ["merge_sources", "assign_families", "resolve_citations", "primary_source", "LONGEST_WINS", "CHILD_GROUPS"]

LONGEST_WINS = ("title", "abstract")
# Child rows are taken whole per group: one source's (and one occurrence's) inventors, never a mixture.
CHILD_GROUPS = {
    "parties": ["pub_id", "role"],
    "classifications": ["pub_id", "scheme"],
    "citations": ["pub_id"],
    "forward_citations": ["pub_id"],
    "family_members": ["pub_id"],
    "npl": ["pub_id"],
    "events": ["pub_id"],
    "source_labels": ["pub_id", "scheme"],
}


SOURCE_SEPARATOR = " | "


def _join_unique(s: pd.Series) -> str:
    return SOURCE_SEPARATOR.join(dict.fromkeys(s.dropna()))


def primary_source(sources: pd.Series) -> pd.Series:
    """The preferred source of each merged row (the first of ``patents.sources``).

    Examples
    --------
    >>> primary_source(pd.Series(["uspto_xml | lens", "cn_export", None])).tolist()
    ['uspto_xml', 'cn_export', <NA>]
    """
    return pd.Series(sources, dtype="string").str.split(SOURCE_SEPARATOR, regex=False).str[0].str.strip()


def merge_patents(patents: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Collapse rows of the same ``pub_id``.

    ``patents`` must carry ``_rank`` (lower = preferred source) and ``_file``. Returns
    the merged table and, per input row, whether it was the accepted (first) row.
    """
    df = patents.sort_values(["_rank", "_order"], kind="stable").reset_index(drop=True)
    first = ~df["pub_id"].duplicated(keep="first")
    dup_ids = df.loc[~first, "pub_id"].unique()
    if len(dup_ids) == 0:
        merged = df[first]
    else:
        single = df[first & ~df["pub_id"].isin(dup_ids)]
        multi = df[df["pub_id"].isin(dup_ids)]
        g = multi.groupby("pub_id", sort=False)
        best = g.first()  # first non-null per column, in precedence order
        for col in LONGEST_WINS:
            length = multi[col].str.len().fillna(-1)
            idx = length.groupby(multi["pub_id"], sort=False).idxmax()
            best[col] = multi.loc[idx.values, col].values
        best["sources"] = g["sources"].agg(_join_unique)
        best["provenance"] = g["provenance"].agg(_join_unique)
        best = best.reset_index()
        merged = pd.concat([single, best[single.columns]], ignore_index=True)
    accepted = pd.Series(first.values, index=df["_key"].values)
    merged = merged.sort_values("pub_id", kind="stable")
    return schema.conform(merged, "patents"), accepted


def take_children(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Keep, per publication (and role / scheme), the rows of the best-ranked source."""
    if df.empty:
        return schema.conform(df, table)
    keys = CHILD_GROUPS[table]
    best = df.groupby(keys, sort=False)["_rank"].transform("min")
    df = df[df["_rank"] == best]
    if "_batch" in df.columns:
        # A record repeated within one file (exports repeat records): the first
        # occurrence's rows, not a mixture of both.
        first = df.groupby(keys, sort=False)["_batch"].transform("min")
        df = df[df["_batch"] == first]
    sort = [k for k in ("pub_id", "role", "scheme", "seq") if k in df.columns]
    df = df.sort_values(sort, kind="stable")
    if table == "events":
        df = df.drop_duplicates(subset=["pub_id", "event_type", "event_date", "party_from", "party_to"])
    return schema.conform(df, table)


def assign_families(patents: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """Family id per publication: the smallest ``doc_key`` of its connected component.

    Parameters
    ----------
    patents : DataFrame with ``pub_id`` and ``doc_key``
    links : DataFrame with ``pub_id`` and ``key`` (shared keys connect publications)

    Examples
    --------
    >>> pats = pd.DataFrame({"pub_id": ["US1B2", "US2A1", "EP3A1"], "doc_key": ["US1", "US2", "EP3"]})
    >>> links = pd.DataFrame({"pub_id": ["US1B2", "US2A1", "EP3A1"], "key": ["A:x", "A:x", "A:y"]})
    >>> assign_families(pats, links).tolist()
    ['US1', 'US1', 'EP3']
    """
    pubs = pd.Index(patents["pub_id"])
    links = links[isin(links["pub_id"], pubs)]
    key_codes, _ = pd.factorize(links["key"])
    n_pub = len(pubs)
    n = n_pub + (key_codes.max() + 1 if len(key_codes) else 0)
    rows = pubs.get_indexer(links["pub_id"])
    cols = key_codes + n_pub
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    comp = pd.Series(labels[:n_pub])
    fam = patents["doc_key"].reset_index(drop=True).groupby(comp).transform("min")
    return pd.Series(fam.values, index=patents.index, dtype="string")


def resolve_citations(citations: pd.DataFrame, patents: pd.DataFrame) -> pd.Series:
    """The publication in the data that each citation points to (exact number first)."""
    exact = citations["cited_pub_id"].where(isin(citations["cited_pub_id"], patents["pub_id"]))
    by_key = patents.sort_values("pub_id").drop_duplicates("doc_key").set_index("doc_key")["pub_id"]
    return exact.fillna(citations["cited_doc_key"].map(by_key)).astype("string")


def merge_sources(parts: list[dict[str, pd.DataFrame]]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Merge the canonical tables of several sources.

    Parameters
    ----------
    parts : list of dict
        One entry per source file in precedence order (first wins), as returned by
        :func:`pipeline.ingest.canonical.canonicalize` (batches concatenated).

    Returns
    -------
    tables : dict of DataFrame
        The canonical tables, validated.
    counts : DataFrame
        Per source file: ``accepted`` and ``merged`` record counts.
    """
    tagged: dict[str, list[pd.DataFrame]] = {t: [] for t in schema.TABLES if t != "locations"}
    tagged["links"] = []
    for rank, part in enumerate(parts):
        for name, df in part.items():
            if name == "rejects":
                tagged[name].append(df)
                continue
            df = df.copy()
            df["_rank"] = rank
            tagged[name].append(df)
    pats = pd.concat(tagged["patents"], ignore_index=True) if tagged["patents"] else schema.empty("patents").assign(_rank=0)
    pats["_order"] = np.arange(len(pats))
    pats["_key"] = np.arange(len(pats))
    merged, accepted = merge_patents(pats)
    acc = pats[["_rank", "_key"]].assign(accepted=pats["_key"].map(accepted))
    counts = acc.groupby("_rank").agg(accepted=("accepted", "sum"), rows=("accepted", "size"))
    counts["merged"] = counts["rows"] - counts["accepted"]

    links = pd.concat(tagged["links"], ignore_index=True) if tagged["links"] else pd.DataFrame(columns=["pub_id", "key"])
    merged["family_id"] = merged["family_id"].fillna(assign_families(merged, links.drop_duplicates()))
    tables = {"patents": schema.validate(schema.conform(merged, "patents"), "patents")}
    for name in CHILD_GROUPS:
        frames = tagged[name]
        df = pd.concat(frames, ignore_index=True) if frames else schema.empty(name).assign(_rank=0)
        tables[name] = take_children(df, name)
    tables["citations"]["resolved_pub_id"] = resolve_citations(tables["citations"], tables["patents"])
    fwd = tables["forward_citations"]
    fwd["resolved_pub_id"] = resolve_citations(
        fwd.rename(columns={"citing_pub_id": "cited_pub_id", "citing_doc_key": "cited_doc_key"}), tables["patents"])
    rejects = pd.concat(tagged["rejects"], ignore_index=True) if tagged["rejects"] else schema.empty("rejects")
    tables["rejects"] = schema.conform(rejects, "rejects")
    tables["locations"] = schema.empty("locations")  # filled by pipeline.locate where registers are given
    for name in tables:
        tables[name] = schema.validate(tables[name].reset_index(drop=True), name)
    return tables, counts[["accepted", "merged"]]
