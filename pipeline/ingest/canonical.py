"""Turn an adapter's raw batch into canonical tables, with a reject row for every loss.

:func:`canonicalize` is pure and vectorised: one raw batch in, canonical DataFrames out.
Values that cannot be taken become nulls *and* a field-level reject (an impossible date,
a CN application number with a wrong check digit, an unreadable IPC symbol, an
over-long field); a record without a usable publication number is rejected whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema
from . import legal
from . import normalize as nz
from ..config import Limits
from ..places import parse_cn_addresses
from .base import RawBatch
from .merge import CHILD_GROUPS

__all__ = ["Limits", "canonicalize", "CITATION_CATEGORY_MAP", "EVENT_TYPE_MAP"]


CITATION_CATEGORY_MAP = {
    "cited by examiner": "examiner",
    "examiner": "examiner",
    "审查员引证": "examiner",
    "cited by applicant": "applicant",
    "applicant": "applicant",
    "申请人引证": "applicant",
    "cited by third party": "third_party",
    "third party": "third_party",
    "cited by other": "other",
}

EVENT_TYPE_MAP = {
    **{t: t for t in schema.EVENT_TYPES},
    "transfer": "transfer",
    "assignment": "transfer",
    "转让": "transfer",
    "权利转移": "transfer",
    "licence": "licence",
    "license": "licence",
    "许可": "licence",
    "实施许可": "licence",
    "pledge": "pledge",
    "质押": "pledge",
    "质押保全": "pledge",
    "lapse": "lapse",
    "失效": "lapse",
    "权利终止": "lapse",
    "reinstatement": "reinstatement",
    "恢复": "reinstatement",
}


class _Rejects:
    """Collects reject rows as small frames; concatenated once at the end."""

    def __init__(self, source_file: str):
        self.source_file = source_file
        self.parts: list[pd.DataFrame] = []

    def add(self, frame: pd.DataFrame, *, field: str, reason, level: str, raw_value=None):
        if frame.empty:
            return
        out = pd.DataFrame(
            {
                "row": frame["row"].values if "row" in frame else None,
                "offset": frame["offset"].values if "offset" in frame else None,
                "record_id": frame["record_id"].values if "record_id" in frame else None,
                "field": field,
                "raw_value": raw_value.values if isinstance(raw_value, pd.Series) else raw_value,
                "reason": reason.values if isinstance(reason, pd.Series) else reason,
                "level": level,
            }
        )
        self.parts.append(out)

    def frame(self, adapter_rejects: pd.DataFrame) -> pd.DataFrame:
        parts = [adapter_rejects] + self.parts
        parts = [p for p in parts if not p.empty]
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=schema.TABLES["rejects"])
        df["source_file"] = self.source_file
        df["raw_value"] = df["raw_value"].astype("string").str.slice(0, 500)
        # The reject table is read in spreadsheets too: controls it quotes are shown escaped.
        for col in ("raw_value", "record_id", "field", "reason"):
            text = df[col].astype("string")
            has = text.str.contains(nz.CONTROL_CHARS, regex=True).fillna(False).to_numpy(dtype=bool)
            if has.any():
                text[has] = [nz.show_controls(v) for v in text[has]]
                df[col] = text
        return schema.conform(df, "rejects")


# Raw columns that hold no text of the source's own.
_NOT_TEXT = frozenset({"rec", "row", "offset", "seq", "is_main", "pub_id", "record_id"})
# Text columns with a limit of their own (Limits.title …), applied where they are canonicalised.
_OWN_LIMIT = frozenset({"title", "abstract", "title_en", "abstract_en", "legal_status", "validity", "pct_app",
                        "wo_pub", "language", "link", "parties.name_raw", "npl.text"})


def _longer_than(s: pd.Series, n: int) -> np.ndarray:
    """Which values are text of more than ``n`` characters (dates and numbers are not)."""
    if isinstance(s.dtype, pd.StringDtype):
        return (s.str.len() > n).fillna(False).to_numpy(dtype=bool)
    if s.dtype != object:
        return np.zeros(len(s), dtype=bool)
    return np.fromiter((isinstance(v, str) and len(v) > n for v in s.to_numpy()), dtype=bool, count=len(s))


def _clean_text(df: pd.DataFrame, prefix: str, rej: _Rejects, ids: pd.DataFrame, max_chars: int) -> pd.DataFrame:
    """Every text column of a raw table made safe, one field-level reject per value changed.

    Control characters are removed; a value longer than ``max_chars`` (``Limits.field``)
    is cut to it, unless its column has a limit of its own. ``ids`` (row, offset,
    record_id) locates each row of ``df`` in its file. The record is always kept.
    """
    for col in df.columns:
        if col in _NOT_TEXT:
            continue
        cleaned, changed = nz.strip_controls(df[col])
        if changed.any():
            rej.add(ids[changed], field=prefix + col, reason="control characters removed", level="field",
                    raw_value=df[col][changed].astype("string").str.slice(0, 200))
            df[col] = cleaned
        if prefix + col in _OWN_LIMIT:
            continue
        long = _longer_than(df[col], max_chars)
        if long.any():
            text = df[col][long].astype("string")
            rej.add(ids[long], field=prefix + col, level="field", raw_value=text.str.slice(0, 200),
                    reason=text.str.len().map(lambda n: f"{n:,} characters, longer than {max_chars:,}; "
                                                         "cut (ingest.limits.field)").astype("string"))
            df[col] = df[col].where(~long, text.str.slice(0, max_chars)).astype(df[col].dtype)
    return df


def _clip_text(df: pd.DataFrame, col: str, limit: int, rej: _Rejects, ids: pd.DataFrame) -> None:
    """Null out (and reject) text longer than ``limit``; collapse whitespace."""
    if col not in df:
        return
    s = nz.collapse_whitespace(df[col])
    too_long = s.str.len().fillna(0) > limit
    if too_long.any():
        rej.add(ids[too_long.values], field=col, reason=f"longer than {limit} characters", level="field",
                raw_value=s[too_long].str.slice(0, 200))
        s = s.where(~too_long)
    df[col] = s


def _dates(df: pd.DataFrame, col: str, rej: _Rejects, ids: pd.DataFrame, partial=False) -> pd.Series:
    dates, bad = nz.parse_dates(df[col], partial=partial)
    if bad.any():
        rej.add(ids[bad.values], field=col, reason="impossible or unreadable date", level="field",
                raw_value=df[col][bad.values].astype("string"))
    return dates


def _int(s: pd.Series) -> pd.Series:
    return pd.to_numeric(pd.Series(s).astype("string").str.replace(",", "").str.strip(), errors="coerce").astype("Int64")


def canonicalize(batch: RawBatch, source_file: str, source_format: str, limits: Limits = Limits()):
    """Canonical tables for one raw batch.

    Parameters
    ----------
    batch : RawBatch
    source_file : str
        Written into provenance and rejects.
    source_format : str
        Adapter name, written into ``patents.sources``.
    limits : Limits

    Returns
    -------
    dict of DataFrame
        The canonical tables of :mod:`pipeline.schema` (rows of this batch only; no
        de-duplication across batches yet) plus ``links`` (pub_id, key) — the family
        keys of each publication — for family grouping.
    """
    rej = _Rejects(source_file)
    p = batch.get("patents").reset_index(drop=True)
    # A NUL or other control character is removed, an absurdly long value cut (the record is kept).
    ids = pd.DataFrame({"row": p["row"], "offset": p["offset"], "record_id": p["pub_raw"]})
    p = _clean_text(p, "", rej, ids, limits.field)

    # --- publication number: no number, no record
    p["country"] = nz.country_codes(p["country"])  # 中国 / 世界知识产权组织 / US -> codes
    pubs = nz.normalize_pub_numbers(p["pub_raw"], p["country"], p["kind"])
    p = pd.concat([p.drop(columns=["country", "kind"]), pubs], axis=1)
    p["record_id"] = p["pub_raw"].astype("string")
    bad = p["pub_id"].isna()
    rej.add(p[bad], field="pub_raw", reason="unreadable publication number", level="record", raw_value=p.loc[bad, "pub_raw"])
    p = p[~bad].reset_index(drop=True)
    ids = p[["row", "offset", "record_id"]]

    # --- application number, dates
    apps = nz.normalize_app_numbers(p["app_raw"], p["country"])
    badapp = apps["problem"].notna()
    rej.add(ids[badapp.values], field="app_raw", reason=apps.loc[badapp, "problem"], level="field", raw_value=p.loc[badapp, "app_raw"])
    p["app_id"] = apps["app_id"]
    for col in ("app_date", "pub_date", "grant_date"):
        p[col] = _dates(p, col, rej, ids)

    # --- text fields
    for col, limit in (("title", limits.title), ("abstract", limits.abstract),
                       ("title_en", limits.title), ("abstract_en", limits.abstract)):
        _clip_text(p, col, limit, rej, ids)
    for col in ("legal_status", "validity", "pct_app", "wo_pub", "language", "link"):
        _clip_text(p, col, limits.other, rej, ids)
    for col in ("claims_count", "independent_claims", "family_size", "cited_by_count", "cited_by_3y",
                "cited_by_5y", "cites_count"):
        p[col] = _int(p[col])
    # --- legal status: the vendor's words kept, one canonical status and an alive flag
    first, second = legal.legal_status(p["legal_status"]), legal.legal_status(p["validity"])
    p["status"] = first["status"].fillna(second["status"])
    p["alive"] = first["alive"].where(first["status"].notna(), second["alive"])
    both = p["validity"].notna() & p["legal_status"].notna() & (p["validity"] != p["legal_status"])
    p["legal_status"] = p["legal_status"].where(~both, p["legal_status"] + " | " + p["validity"]).fillna(p["validity"])
    p["language"] = p["language"].str.lower()
    p["patent_type"] = nz.patent_types(p["country"], p["kind"], p["pub_number"], p["app_id"], p["patent_type_hint"])

    # --- priorities -> canonical numbers and earliest date
    records = _Records(p)
    # A publication repeated within the batch: its child rows come from its first
    # occurrence (per role / scheme), as merging does across batches, so that batch
    # boundaries never change the result.
    repeated = bool(p["pub_id"].duplicated().any())

    def child(table: str, raw: str | None = None, first_only: bool = True) -> pd.DataFrame:
        """Rows of a raw child table whose record was accepted, located at their record's
        row (for rejects), text cleaned (control characters, ``Limits.field``)."""
        df, pos = records.attach(batch.get(raw or table))
        if repeated and first_only:
            df = _first_occurrence(df, pos, CHILD_GROUPS[table])
        return _clean_text(df, f"{table}.", rej, df[["row", "offset", "record_id"]], limits.field)

    pr = child("priorities", first_only=False)
    if not pr.empty:
        num = nz.normalize_app_numbers(pr["number_raw"], pr["country"])
        pr["number"] = num["app_id"]
        pr["date"] = _dates(pr, "date_raw", rej, pr)
        agg = pr.dropna(subset=["number"]).groupby("rec", sort=False).agg(
            priority_numbers=("number", lambda s: ";".join(dict.fromkeys(s))),
        )
        earliest = pr.groupby("rec", sort=False)["date"].min()
        p["priority_numbers"] = p["rec"].map(agg["priority_numbers"]).astype("string")
        p["earliest_priority_date"] = p["rec"].map(earliest)
    else:
        p["priority_numbers"] = pd.NA
        p["earliest_priority_date"] = pd.NaT
    # Without a stated priority, the application is its own priority.
    p["earliest_priority_date"] = pd.to_datetime(p["earliest_priority_date"]).fillna(p["app_date"])

    # WO links in canonical form ("WO00/29629" -> WO2000029629): they join families.
    wo = nz.normalize_pub_numbers(p["wo_pub"].str.replace(" ", "", regex=False))
    wo = wo.where(wo["country"] == "WO")
    p["wo_pub"] = wo["pub_id"].fillna(p["wo_pub"])
    rowstr = p["row"].astype("Int64").astype("string")
    p["provenance"] = source_file + "#" + rowstr.fillna("?")
    p["sources"] = source_format
    patents = schema.conform(p, "patents")

    # --- family keys: application, priorities, WO link, listed family members
    link_parts = [
        pd.DataFrame({"pub_id": p["pub_id"], "key": "A:" + p["app_id"]}),
        pd.DataFrame({"pub_id": p["pub_id"], "key": "P:" + wo["doc_key"]}),  # joins the WO publication itself
    ]
    if not pr.empty:
        link_parts.append(pd.DataFrame({"pub_id": pr["pub_id"], "key": "A:" + pr["number"]}))
    # Every occurrence's family members join families (as across batches); the table lists the first's.
    fl = child("family_members", "family_links", first_only=False)
    members = nz.normalize_pub_numbers(fl["member_raw"])
    if not fl.empty:
        link_parts.append(pd.DataFrame({"pub_id": fl["pub_id"].values, "key": "P:" + members["doc_key"].values}))
        if repeated:
            keep = _first_occurrence(fl.assign(_i=range(len(fl))), records.positions(fl["rec"]),
                                     CHILD_GROUPS["family_members"])["_i"].to_numpy()
            fl, members = fl.iloc[keep].reset_index(drop=True), members.iloc[keep].reset_index(drop=True)
    link_parts.append(pd.DataFrame({"pub_id": p["pub_id"], "key": "P:" + p["doc_key"]}))
    links = pd.concat(link_parts, ignore_index=True).dropna().drop_duplicates()

    out = {"patents": patents, "links": links}
    out["parties"] = _parties(child("parties"), source_file, limits, rej)
    out["classifications"] = _classifications(child("classifications"), source_file, rej)
    out["citations"] = _citations(child("citations"), source_file, rej)
    out["forward_citations"] = _forward(child("forward_citations"), source_file)
    fam = pd.DataFrame({"pub_id": fl["pub_id"].astype("string"), "member_raw": fl["member_raw"].astype("string"),
                        "member_pub_id": members["pub_id"], "member_country": members["country"]})
    fam["seq"] = fam.groupby("pub_id").cumcount()
    fam = fam[fam["member_raw"].notna()].assign(source=source_file)
    out["family_members"] = schema.conform(fam, "family_members")
    out["source_labels"] = _labels(child("source_labels"), source_file)
    out["npl"] = _npl(child("npl"), source_file, limits, rej)
    out["events"] = _events(child("events"), source_file, rej)
    out["rejects"] = rej.frame(batch.get("rejects"))
    return out


class _Records:
    """The accepted records of a batch, for attaching child rows to them by ``rec``."""

    def __init__(self, p: pd.DataFrame):
        # One hash lookup per child row gives its record's position, and through it
        # pub_id, row and offset (a dict .map per column costs three times as much).
        self.index = pd.Index(p["rec"])
        self.pub_id = p["pub_id"].astype("string").to_numpy()
        self.row = p["row"].to_numpy()
        self.offset = p["offset"].to_numpy()

    def positions(self, rec: pd.Series) -> np.ndarray:
        """Position of each ``rec`` among the records (-1: not an accepted record)."""
        return self.index.get_indexer(rec)

    def attach(self, df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows of ``df`` whose record was accepted, with pub_id (also as record_id), the
        record's row and offset; and each row's record position."""
        pos = self.positions(df["rec"])
        keep = pos >= 0
        if not keep.all():
            df, pos = df[keep], pos[keep]
        df = df.reset_index(drop=True)
        df["pub_id"] = pd.array(self.pub_id[pos], dtype="string")
        df["record_id"] = df["pub_id"]
        df["row"], df["offset"] = self.row[pos], self.offset[pos]
        return df, pos


def _first_occurrence(df: pd.DataFrame, pos: np.ndarray, keys) -> pd.DataFrame:
    """Rows of the earliest record (by record position ``pos``) among those with rows in each group of ``keys``."""
    if df.empty:
        return df
    pos = pd.Series(pos, index=df.index)
    first = pos.groupby([df[k] for k in keys], sort=False, dropna=False).transform("min")
    return df[(pos == first).to_numpy()].reset_index(drop=True)


def _parties(df, source_file, limits, rej) -> pd.DataFrame:
    df["name_raw"] = nz.map_unique(df["name_raw"], nz.to_halfwidth)
    # incoPat marks a standardised company group with "-C" (长安汽车-C): the marker is not a name.
    df["name_std"] = nz.map_unique(df["name_std"].astype("string").replace("", pd.NA), nz.to_halfwidth) \
        .str.replace(r"-C$", "", regex=True)
    empty = df["name_raw"].isna() | (df["name_raw"] == "")
    df = df[~empty].reset_index(drop=True)
    too_long = df["name_raw"].str.len() > limits.name
    rej.add(df[too_long], field=f"parties.name_raw", reason=f"longer than {limits.name} characters", level="field",
            raw_value=df.loc[too_long, "name_raw"].str.slice(0, 200))
    df = df[~too_long].reset_index(drop=True)
    df["seq"] = _int(df["seq"])
    df["seq"] = df["seq"].fillna(df.groupby(["pub_id", "role"]).cumcount().astype("Int64"))
    df["name_norm"] = nz.normalize_names(df["name_raw"], person=(df["role"] == "inventor") | (df["party_type_hint"] == "individual"))
    df["party_type"] = nz.party_types(df["name_raw"], df["party_type_hint"])
    # Chinese addresses give province / city / district where the source did not.
    addr = parse_cn_addresses(df["address_raw"])
    for col in ("province", "city", "district"):
        df[col] = df[col].astype("string").replace("", pd.NA).fillna(addr[col])
    cn_addr = addr["province"].notna()
    df["country"] = df["country"].astype("string").replace("", pd.NA)
    df.loc[cn_addr & df["country"].isna(), "country"] = "CN"
    df["source"] = source_file
    df = df.drop_duplicates(subset=["pub_id", "role", "seq"], keep="first")
    return schema.conform(df, "parties")


def _classifications(df, source_file, rej) -> pd.DataFrame:
    df["symbol"] = nz.normalize_ipc(df["symbol_raw"])
    bad = df["symbol"].isna() & df["symbol_raw"].notna() & (df["symbol_raw"].astype("string").str.strip() != "")
    rej.add(df[bad], field="classifications.symbol", reason="not an IPC/CPC symbol", level="field",
            raw_value=df.loc[bad, "symbol_raw"])
    df = df[df["symbol"].notna()].reset_index(drop=True)
    df["subclass"] = nz.ipc_subclass(df["symbol"])
    df["main_group"] = nz.ipc_main_group(df["symbol"])
    df["is_main"] = df["is_main"].fillna(False).astype(bool)
    df["seq"] = _int(df["seq"]).fillna(df.groupby(["pub_id", "scheme"]).cumcount().astype("Int64"))
    # A symbol listed twice (main and further) keeps its main flag.
    df = df.sort_values(["pub_id", "scheme", "is_main", "seq"], ascending=[True, True, False, True], kind="stable")
    df = df.drop_duplicates(subset=["pub_id", "scheme", "symbol"], keep="first").sort_values(["pub_id", "scheme", "seq"], kind="stable")
    df["source"] = source_file
    return schema.conform(df, "classifications")


def _citations(df, source_file, rej) -> pd.DataFrame:
    cited = nz.normalize_pub_numbers(df["cited_raw"], df["cited_country"], df["cited_kind"])
    df["cited_pub_id"] = cited["pub_id"]
    df["cited_doc_key"] = cited["doc_key"]
    df["cited_country"] = cited["country"].fillna(df["cited_country"].astype("string"))
    df["cited_kind"] = cited["kind"]
    dates, bad = nz.parse_dates(df["cited_date"], partial=True)
    rej.add(df[bad.values], field="citations.cited_date", reason="impossible or unreadable date", level="field",
            raw_value=df.loc[bad.values, "cited_date"].astype("string"))
    df["cited_date"] = dates
    cat = df["category_raw"].astype("string").str.strip().str.lower()
    df["category"] = cat.map(CITATION_CATEGORY_MAP).fillna("other").astype("string")
    df["cited_raw"] = df["cited_raw"].astype("string").fillna("")
    raw_joined = df["cited_country"].fillna("") + " " + df["cited_raw"] + " " + df["cited_kind"].fillna("")
    df["cited_raw"] = raw_joined.str.strip().where(df["cited_country"].notna(), df["cited_raw"])
    df["seq"] = _int(df["seq"]).fillna(df.groupby("pub_id").cumcount().astype("Int64"))
    df = df.drop_duplicates(subset=["pub_id", "seq"], keep="first")
    df["source"] = source_file
    return schema.conform(df, "citations")


def _forward(df, source_file) -> pd.DataFrame:
    """Documents listed as citing the record (被引用); resolved to the data after merging."""
    citing = nz.normalize_pub_numbers(df["citing_raw"])
    df["citing_pub_id"] = citing["pub_id"]
    df["citing_doc_key"] = citing["doc_key"]
    df["seq"] = _int(df["seq"]).fillna(df.groupby("pub_id").cumcount().astype("Int64"))
    df = df.drop_duplicates(subset=["pub_id", "seq"], keep="first")
    df["source"] = source_file
    return schema.conform(df, "forward_citations")


def _labels(df, source_file) -> pd.DataFrame:
    """A vendor's own labels of the record (incoPat 新兴产业分类), kept as written."""
    df["label"] = df["label"].astype("string").str.strip()
    df = df[df["label"].notna() & (df["label"] != "")].reset_index(drop=True)
    df["seq"] = _int(df["seq"]).fillna(df.groupby(["pub_id", "scheme"]).cumcount().astype("Int64"))
    df = df.drop_duplicates(subset=["pub_id", "scheme", "seq"], keep="first")
    df["source"] = source_file
    return schema.conform(df, "source_labels")


def _npl(df, source_file, limits, rej) -> pd.DataFrame:
    text = nz.collapse_whitespace(df["text"]).fillna("")
    long = (text.str.len() > limits.other).to_numpy(dtype=bool)
    if long.any():
        rej.add(df[long], field="npl.text", reason=f"longer than {limits.other} characters; cut", level="field",
                raw_value=text[long].str.slice(0, 200))
    df["text"] = text.str.slice(0, limits.other)
    df = df[df["text"].notna() & (df["text"] != "")].reset_index(drop=True)
    cat = df["category_raw"].astype("string").str.strip().str.lower()
    df["category"] = cat.map(CITATION_CATEGORY_MAP).fillna("other").astype("string")
    df["seq"] = _int(df["seq"]).fillna(df.groupby("pub_id").cumcount().astype("Int64"))
    df = df.drop_duplicates(subset=["pub_id", "seq"], keep="first")
    df["source"] = source_file
    return schema.conform(df, "npl")


def _events(df, source_file, rej) -> pd.DataFrame:
    raw_type = df["event_type_raw"].astype("string").str.strip()
    df["event_type"] = raw_type.str.lower().map(EVENT_TYPE_MAP).fillna("other").astype("string")
    df["detail"] = df["detail"].astype("string").fillna(raw_type.where(df["event_type"] == "other"))
    df["event_date"] = _dates(df, "event_date", rej, df)
    amount = df["amount"].astype("string").str.replace(r"[,，\s]", "", regex=True)
    wan = amount.str.contains("万", na=False)  # amounts in 万元 (10^4 yuan)
    num = pd.to_numeric(amount.str.extract(r"([\d.]+)", expand=False), errors="coerce")
    df["amount"] = num.where(~wan, num * 10_000).astype("Float64")
    df["source"] = source_file
    return schema.conform(df, "events")
