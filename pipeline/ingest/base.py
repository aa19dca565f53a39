"""The contract between source adapters and the canonicalisation step.

An adapter reads one source (a file, or a folder of PatentsView tables) and yields
:class:`RawBatch` objects: DataFrames whose columns are named as below, holding values
*as the source wrote them* (numbers, dates, symbols not yet normalised). It does no
normalisation of its own beyond taking values out of the source's structure; that is
done once, vectorised, by :func:`pipeline.ingest.canonical.canonicalize`.

Child rows (parties, classifications, …) point to their record through ``rec``, a key
unique within the source (document index, CSV row, PatentsView ``patent_id``).
Every record read is either in ``patents`` or has a row in ``rejects``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

__all__ = ["RAW_COLUMNS", "RawBatch", "Adapter", "raw_frame", "HEAD_BYTES"]

#: Bytes read from the start of a file to recognise its format or header (detect and the adapters).
HEAD_BYTES = 65_536

# Raw columns per table (all optional except those marked in the comments).
RAW_COLUMNS: dict[str, list[str]] = {
    # rec (required), pub_raw (required), row (record number in the file, 0-based),
    # offset (byte offset, XML only), country/kind (when given apart from the number),
    # app_raw, app_date, pub_date, grant_date (raw date strings / datetimes),
    # patent_type_hint (canonical word, where the source states it),
    # language, title, abstract, claims_count, independent_claims, family_size,
    # legal_status (the vendor's words; validity: a second status column such as
    # incoPat 专利有效性), cited_by_count / cited_by_3y / cited_by_5y / cites_count (the
    # vendor's citation counts), pct_app, wo_pub, link (the record's page at the vendor),
    # title_en / abstract_en (English text beside a Chinese one).
    "patents": [
        "rec", "row", "offset", "pub_raw", "country", "kind", "app_raw", "app_date",
        "pub_date", "grant_date", "patent_type_hint", "language", "title", "abstract",
        "claims_count", "independent_claims", "family_size", "legal_status",
        "cited_by_count", "pct_app", "wo_pub",
        "title_en", "abstract_en", "validity", "cited_by_3y", "cited_by_5y", "cites_count", "link",
    ],
    # Priority claims: number as written, its country if given apart, its date.
    "priorities": ["rec", "number_raw", "country", "date_raw"],
    # Other publications of the same family as written by the source (CN 简单同族).
    "family_links": ["rec", "member_raw"],
    # role: applicant | assignee | inventor; party_type_hint: canonical word or null;
    # name_std: the vendor's standardised name of the same party (incoPat 标准化申请人).
    "parties": [
        "rec", "role", "seq", "name_raw", "party_type_hint", "country", "province",
        "city", "district", "address_raw", "source_party_id", "name_std",
    ],
    # scheme: IPC | CPC; symbol_raw in any spelling; is_main: bool.
    "classifications": ["rec", "scheme", "symbol_raw", "is_main", "seq"],
    # category_raw e.g. "cited by examiner"; cited_date raw (may be partial, 19870600).
    "citations": ["rec", "seq", "cited_raw", "cited_country", "cited_kind", "cited_date", "category_raw"],
    # Documents that cite the record, as the source lists them (被引用 / 被引证专利).
    "forward_citations": ["rec", "seq", "citing_raw"],
    "npl": ["rec", "seq", "text", "category_raw"],
    # A vendor's own classification of the record (incoPat 新兴产业分类): scheme, label.
    "source_labels": ["rec", "scheme", "seq", "label"],
    # event_type_raw e.g. 转让 / licence; amount numeric or text.
    "events": ["rec", "event_type_raw", "event_date", "party_from", "party_to", "amount", "detail"],
    # Records or fields the adapter could not take: row/offset locate them in the file.
    "rejects": ["row", "offset", "record_id", "field", "raw_value", "reason", "level"],
}


def raw_frame(table: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """A DataFrame with the raw columns of ``table`` (missing keys become nulls)."""
    cols = RAW_COLUMNS[table]
    return pd.DataFrame(rows or [], columns=cols)


@dataclass
class RawBatch:
    """Raw rows from one source, for a run of consecutive records.

    Attributes
    ----------
    n_records : int
        Input records this batch accounts for (accepted + rejected by the adapter).
    tables : dict of DataFrame
        Keyed by the names of :data:`RAW_COLUMNS`; absent tables count as empty.
    """

    n_records: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def get(self, table: str) -> pd.DataFrame:
        df = self.tables.get(table)
        if df is None:
            return raw_frame(table)
        return df.reindex(columns=RAW_COLUMNS[table])


class Adapter(Protocol):
    """What every source adapter provides."""

    #: short format name written to the ingest report, e.g. ``"uspto_xml"``
    name: str

    def read(self, path: Path, *, batch_size: int = 2000) -> Iterator[RawBatch]:
        """Yield raw batches for the source at ``path``.

        Raises
        ------
        pipeline.errors.UnreadableInputError
            When the source as a whole cannot be read.
        """
        ...
