"""Merge canonical tables from several sources: de-duplicate, group families, resolve citations.

The same publication from two sources (or twice in one file) becomes one row with
both provenances: per field the value of the first record that has one, in
precedence order — the sources as the caller ranks them (:func:`pipeline.ingest.run.ingest`:
format, then newer export, then path), then file order — except titles and
abstracts, where the longest text wins. Every value of another record that differs
from the one kept is a row of the ``conflicts`` table (free text compared without
regard to case and spacing). Child rows (parties by role, classifications by scheme,
citations, NPL, events) are taken whole from the first record in that order that has
any for that publication, so one source's inventors are not mixed with another's.

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

__all__ = ["merge_sources", "assign_families", "resolve_citations", "primary_source", "LONGEST_WINS", "CHILD_GROUPS",
           "COMPARED", "conflicts_of"]

LONGEST_WINS = ("title", "abstract")
# Columns not compared between records: identity (equal by construction), provenance,
# values derived from compared ones (alive from status; the earliest priority date from
# the priorities and application date) and each vendor's own wording or page.
_NOT_COMPARED = ("pub_id", "doc_key", "country", "pub_number", "kind", "family_id", "sources", "provenance",
                 "legal_status", "alive", "earliest_priority_date", "link", "language")
COMPARED = tuple(c for c in schema.TABLES["patents"] if c not in _NOT_COMPARED)
# Free text that differs only in case or spacing is one value (Lens writes titles in Title Case).
_FREE_TEXT = ("title", "abstract", "title_en", "abstract_en")
_RULES = dict(zip(("rank", "order", "longest"), schema.CONFLICT_RULES))
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


def merge_patents(patents: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Collapse rows of the same ``pub_id``.

    ``patents`` must carry ``_rank`` (lower = preferred source) and ``_order`` (file
    order). Returns the merged table, per input row (by ``_key``) whether it was the
    accepted (first) row, and the conflicts (:func:`conflicts_of`, with ``_rank`` of the
    record whose value was not kept).
    """
    df = patents.sort_values(["_rank", "_order"], kind="stable").reset_index(drop=True)
    first = ~df["pub_id"].duplicated(keep="first")
    dup_ids = df.loc[~first, "pub_id"].unique()
    conflicts = schema.empty("conflicts").assign(_rank=pd.Series(dtype="int64"))
    if len(dup_ids) == 0:
        merged = df[first]
    else:
        single = df[first & ~df["pub_id"].isin(dup_ids)]
        multi = df[df["pub_id"].isin(dup_ids)]
        g = multi.groupby("pub_id", sort=False)
        best = g.first()  # first non-null per column, in precedence order
        longest = {}
        for col in LONGEST_WINS:
            length = multi[col].str.len().fillna(-1)
            longest[col] = length.groupby(multi["pub_id"], sort=False).idxmax()
            best[col] = multi.loc[longest[col].values, col].values
        conflicts = conflicts_of(multi, longest)
        best["sources"] = g["sources"].agg(_join_unique)
        best["provenance"] = g["provenance"].agg(_join_unique)
        best = best.reset_index()
        merged = pd.concat([single, best[single.columns]], ignore_index=True)
    accepted = pd.Series(first.values, index=df["_key"].values)
    merged = merged.sort_values("pub_id", kind="stable")
    return schema.conform(merged, "patents"), accepted, conflicts


def _shown(values: pd.Series) -> pd.Series:
    """Values as the conflicts table writes them: dates as ``2019-07-03``, at most 500 characters."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.astype("string")
    return text.astype("string").str.slice(0, 500)


def conflicts_of(multi: pd.DataFrame, longest: dict[str, pd.Series]) -> pd.DataFrame:
    """Every value of a record that differs from the value its publication keeps.

    Parameters
    ----------
    multi : DataFrame
        The records of repeated publications, in precedence order, with ``_rank``.
    longest : dict
        For each column of :data:`LONGEST_WINS`, ``pub_id`` → index (in ``multi``) of
        the record whose text was kept.

    Returns
    -------
    DataFrame
        The ``conflicts`` table (``rule`` says why the kept value won) plus ``_rank``:
        the source whose value was not kept.

    Examples
    --------
    >>> multi = pd.DataFrame({"pub_id": ["X", "X"], "claims_count": pd.array([10, 12], dtype="Int64"),
    ...                       "provenance": ["a.xml#0", "b.csv#3"], "_rank": [0, 1]})
    >>> conflicts_of(multi, {})[["field", "kept_value", "other_value", "rule"]].values.tolist()
    [['claims_count', '10', '12', 'source precedence']]
    """
    pub = multi["pub_id"]
    rank = multi["_rank"].to_numpy()
    parts = []
    for col in (c for c in COMPARED if c in multi.columns):
        values = multi[col]
        has = values.notna().to_numpy(dtype=bool)
        if col in longest:
            kept = pub.map(longest[col])
        else:  # the first record with a value, per publication
            kept = pub.map(pd.Series(multi.index[has], index=pub[has]).groupby(level=0, sort=False).first())
        key = values.astype("string").str.casefold() if col in _FREE_TEXT else values
        other = has & kept.notna().to_numpy()
        kept_pos = kept[other].astype("int64").to_numpy()
        differ = np.zeros(len(multi), dtype=bool)
        differ[other] = (key[other].to_numpy() != key.loc[kept_pos].to_numpy())
        if not differ.any():
            continue
        kept_at = kept[differ].astype("int64").to_numpy()
        kept_rank, other_rank = multi.loc[kept_at, "_rank"].to_numpy(), rank[differ]
        rule = np.where(col in longest, _RULES["longest"],
                        np.where(kept_rank < other_rank, _RULES["rank"], _RULES["order"]))
        parts.append(pd.DataFrame({
            "pub_id": pub[differ].to_numpy(),
            "field": col,
            "kept_value": _shown(values.loc[kept_at]).to_numpy(),
            "other_value": _shown(values[differ]).to_numpy(),
            "kept_source": multi.loc[kept_at, "provenance"].to_numpy(),
            "other_source": multi.loc[differ, "provenance"].to_numpy(),
            "rule": rule,
            "_rank": other_rank,
            "_at": np.flatnonzero(differ),
        }))
    if not parts:
        return schema.empty("conflicts").assign(_rank=pd.Series(dtype="int64"))
    out = pd.concat(parts, ignore_index=True)
    # By publication, then field in table order, then the other record's precedence.
    out["_field"] = out["field"].map({c: i for i, c in enumerate(COMPARED)})
    out = out.sort_values(["pub_id", "_field", "_at"], kind="stable").reset_index(drop=True)
    return pd.concat([schema.conform(out, "conflicts"), out[["_rank"]]], axis=1)


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
        Per source file: ``accepted`` and ``merged`` record counts, and ``conflicts``:
        values of the file's records that differ from the values kept.
    """
    tagged: dict[str, list[pd.DataFrame]] = {t: [] for t in schema.TABLES if t not in ("locations", "conflicts")}
    tagged["links"] = []
    for rank, part in enumerate(parts):
        for name, df in part.items():
            if name == "rejects":
                tagged[name].append(df)
                continue
            # assign, not copy-then-set: under copy-on-write the part's columns are shared,
            # not duplicated (every canonical table would otherwise be held twice).
            tagged[name].append(df.assign(_rank=rank))
    pats = pd.concat(tagged["patents"], ignore_index=True) if tagged["patents"] else schema.empty("patents").assign(_rank=0)
    pats["_order"] = np.arange(len(pats))
    pats["_key"] = np.arange(len(pats))
    merged, accepted, conflicts = merge_patents(pats)
    acc = pats[["_rank", "_key"]].assign(accepted=pats["_key"].map(accepted))
    counts = acc.groupby("_rank").agg(accepted=("accepted", "sum"), rows=("accepted", "size"))
    counts["merged"] = counts["rows"] - counts["accepted"]
    counts["conflicts"] = conflicts.groupby("_rank").size().reindex(counts.index, fill_value=0)

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
    tables["conflicts"] = schema.conform(conflicts, "conflicts")
    for name in tables:
        tables[name] = schema.validate(tables[name].reset_index(drop=True), name)
    return tables, counts[["accepted", "merged", "conflicts"]]
