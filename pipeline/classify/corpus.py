"""Labelled text for the text classifier: the US grant corpus and the records' language views.

Two pieces of the train stage's input that are not ingest tables:

* :func:`read_uspto_latam` reads ``en-text/uspto-latam`` (US grants with title, abstract
  and IPC codes, tab-separated, no header) — training and evaluation text, not a
  navigation input, so it never enters the canonical tables; :func:`latam_tables` turns
  it into ``patents`` / ``classifications`` frames of the canonical shape.
* :func:`record_views` gives every record one row per text it carries: its own title and
  abstract, and for the Chinese exports also the English title and abstract
  (``title_en``, ``abstract_en``) as a second row. All rows of one record share
  ``record`` so that a hold-out can keep a record's views on one side.

Pure functions over frames except :func:`read_uspto_latam`, the reader at the edge.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import UnreadableInputError
from ..ingest.merge import primary_source

__all__ = ["LATAM_COLUMNS", "read_uspto_latam", "latam_tables", "record_sources", "record_views", "VIEW_SEP"]

LATAM_COLUMNS = ["number", "title", "abstract", "assignee", "inventors", "ipc"]
VIEW_SEP = "#"  # pub_id + "#en": the English view of a Chinese-export record
_VERSION = re.compile(r"\s*\(\d{8}\)\s*$")
_US_NUMBER = re.compile(r"^(?:RE|PP|D|H|T)?\d+$")


def read_uspto_latam(folder: str | Path) -> pd.DataFrame:
    """Read the ``USPTO_*_inventors_data*.txt`` files of a folder (sorted by name).

    Parameters
    ----------
    folder : path
        ``../shared/data/en-text/uspto-latam``.

    Returns
    -------
    DataFrame
        Columns :data:`LATAM_COLUMNS` plus ``file``; one row per distinct patent number
        (the first row of a number repeated across the country files is kept); numbers
        without the thousands commas.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        The folder holds no such file, or a file has a row of the wrong width.
    """
    folder = Path(folder)
    files = sorted(folder.glob("USPTO_*_inventors_data*.txt"))
    if not files:
        raise UnreadableInputError(folder, "no USPTO_*_inventors_data*.txt file (en-text/uspto-latam)")
    frames = []
    for f in files:
        try:
            df = pd.read_csv(f, sep="\t", header=None, dtype=str, keep_default_na=False, quoting=3,
                             encoding="utf-8", on_bad_lines="error")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise UnreadableInputError(f, str(exc)) from None
        if df.shape[1] != len(LATAM_COLUMNS):
            raise UnreadableInputError(f, f"expected {len(LATAM_COLUMNS)} tab-separated columns "
                                          f"({', '.join(LATAM_COLUMNS)}), found {df.shape[1]}")
        df.columns = LATAM_COLUMNS
        df["file"] = f.name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["number"] = out["number"].str.replace(",", "", regex=False).str.strip()
    return out.drop_duplicates("number", keep="first").reset_index(drop=True)


def latam_tables(latam: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The corpus as ``patents`` and ``classifications`` frames (the columns the train stage reads).

    ``pub_id`` is ``US`` + number (no kind code: the files give none); ``sources`` is
    ``uspto_latam``; no dates (the files carry none). IPC entries
    ``G06N 3/08 (20060101)`` lose their version date and are normalised as ingest does;
    the first listed is marked main.

    Examples
    --------
    >>> df = pd.DataFrame({"number": ["10918535"], "title": ["Absorbent article"], "abstract": ["An article."],
    ...                    "ipc": ["A61F 13/494 (20060101); A61F 13/514 (20060101)"]})
    >>> p, c = latam_tables(df)
    >>> p["pub_id"].tolist(), c["symbol"].tolist(), c["is_main"].tolist()
    (['US10918535'], ['A61F13/494', 'A61F13/514'], [True, False])
    """
    from ..ingest.normalize import ipc_main_group, ipc_subclass, normalize_ipc

    num = latam["number"].astype(str).str.strip()
    ok = num.str.match(_US_NUMBER.pattern)
    latam = latam[ok]
    pub = "US" + num[ok]
    patents = pd.DataFrame({"pub_id": pub.to_numpy(), "title": latam["title"].to_numpy(),
                            "abstract": latam["abstract"].to_numpy(), "sources": "uspto_latam",
                            "provenance": "uspto-latam/" + latam["file"].astype(str).to_numpy() if "file" in latam
                            else "uspto-latam", "pub_date": pd.NaT, "app_date": pd.NaT})
    pieces = latam["ipc"].astype(str).str.split(";").explode()
    seq = pieces.groupby(level=0).cumcount()
    raw = pieces.str.replace(_VERSION, "", regex=True).str.strip()
    cls = pd.DataFrame({"pub_id": pub.reindex(pieces.index).to_numpy(), "scheme": "IPC",
                        "symbol": normalize_ipc(raw.reset_index(drop=True)).to_numpy(), "seq": seq.to_numpy()})
    cls = cls.dropna(subset=["symbol"]).drop_duplicates(["pub_id", "symbol"])
    cls["seq"] = cls.groupby("pub_id").cumcount()
    cls["is_main"] = cls["seq"] == 0
    cls["subclass"] = ipc_subclass(cls["symbol"])
    cls["main_group"] = ipc_main_group(cls["symbol"])
    cls["source"] = "uspto-latam"
    return patents.reset_index(drop=True), cls.reset_index(drop=True)


def record_sources(patents: pd.DataFrame) -> pd.Series:
    """The source of each record as the hold-outs use it: the export file for Chinese exports.

    ``cn_export`` records are told apart by their file (``incopat_iflytek``,
    ``patsnap_green_aviation``, …: the stem of the provenance path without the trailing
    record count); other records keep their first source (``uspto_xml``, ``lens`` …).

    Examples
    --------
    >>> p = pd.DataFrame({"sources": ["cn_export", "uspto_xml | patentsview"],
    ...     "provenance": ["../shared/data/cn-exports/incopat_iflytek_3816.xlsx#12", "x.xml#1"]})
    >>> record_sources(p).tolist()
    ['incopat_iflytek', 'uspto_xml']
    """
    first = primary_source(patents["sources"]).astype("string")
    prov = patents["provenance"].astype("string").fillna("") if "provenance" in patents else pd.Series("", index=patents.index)
    stem = prov.str.extract(r"([^/\\]+?)(?:_\d+)?\.(?:xlsx|xls|csv)(?:#|$)", expand=False)
    return first.where(~((first == "cn_export") & stem.notna()), stem).astype("string")


def record_views(patents: pd.DataFrame) -> pd.DataFrame:
    """Patents with one row per text view, ready for :func:`~pipeline.classify.text.build_training_set`.

    Every record keeps its row (``title`` + ``abstract``, in the record's language); a
    record with an English title or abstract in ``title_en`` / ``abstract_en`` (Chinese
    exports) gets a second row with ``pub_id`` + ``#en`` carrying those. Added columns:
    ``record`` (the original pub_id), ``source`` (:func:`record_sources`), ``view``
    (``native`` | ``en``).

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": ["CN1A", "US2B"], "title": ["一种电池", "Battery"], "abstract": [None, "A cell."],
    ...     "title_en": ["A battery", None], "abstract_en": ["A cell.", None], "sources": ["cn_export", "uspto_xml"],
    ...     "provenance": ["cn-exports/incopat_iflytek_3816.xlsx#1", "a.xml#1"]})
    >>> record_views(p)[["pub_id", "record", "title", "view"]].values.tolist()
    [['CN1A', 'CN1A', '一种电池', 'native'], ['US2B', 'US2B', 'Battery', 'native'], ['CN1A#en', 'CN1A', 'A battery', 'en']]
    """
    base = patents.copy()
    base["record"] = base["pub_id"].astype(str)
    base["source"] = record_sources(base).to_numpy()
    base["view"] = "native"
    if "title_en" not in base and "abstract_en" not in base:
        return base.reset_index(drop=True)
    ten = base.get("title_en", pd.Series(pd.NA, index=base.index)).astype("string").fillna("").str.strip()
    aen = base.get("abstract_en", pd.Series(pd.NA, index=base.index)).astype("string").fillna("").str.strip()
    has_en = (ten != "") | (aen != "")
    en = base[has_en].copy()
    en["pub_id"] = en["record"] + VIEW_SEP + "en"
    en["title"], en["abstract"], en["view"] = ten[has_en].to_numpy(), aen[has_en].to_numpy(), "en"
    return pd.concat([base, en], ignore_index=True)
