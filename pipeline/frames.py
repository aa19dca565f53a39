"""Vectorised DataFrame helpers shared by the stages.

``groupby(...).agg(", ".join)`` runs a Python call per group (seconds per 100k groups);
these do the same with a handful of whole-column operations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["join_by", "isin", "mode_by", "sorted_codes"]


def join_by(keys, values, sep: str = ", ", *, unique: bool = True, sort: bool = True) -> pd.Series:
    """The ``values`` of each key joined into one string, indexed by key.

    Parameters
    ----------
    keys, values : array-like
        Aligned; rows with a null key or value are left out.
    sep : str
        Separator.
    unique : bool
        Drop repeated (key, value) pairs first.
    sort : bool
        Join each key's values in sorted order (else in their order of appearance).

    Examples
    --------
    >>> join_by(["a", "b", "a", "a"], ["US", "CN", "JP", "US"]).to_dict()
    {'a': 'JP, US', 'b': 'CN'}
    """
    k = pd.Series(keys).reset_index(drop=True)
    v = pd.Series(values).reset_index(drop=True)
    ok = (k.notna() & v.notna()).to_numpy(bool)
    if not ok.any():
        return pd.Series(dtype="string")
    k, v = k[ok], v[ok]
    if not (pd.api.types.is_string_dtype(v.dtype) and v.dtype != object):
        v = pd.Series(v.to_numpy(dtype=object)).astype(str)  # str() of each value, as text
    # Keys and values as integer codes ranked in sorted order: dedupe and ordering run on
    # integers, the joining is one Arrow kernel over list offsets (no Python per group).
    kc, kuniq = sorted_codes(k)
    vc, vuniq = sorted_codes(v) if (unique or sort) else (None, ())
    varr = pa.chunked_array([pa.array(v, from_pandas=True)]).combine_chunks().cast(pa.large_string())
    if unique:
        keep = ~pd.Series(kc * max(len(vuniq), 1) + vc).duplicated().to_numpy()
        kc, vc, varr = kc[keep], vc[keep], varr.filter(pa.array(keep))
    order = np.lexsort((vc, kc)) if sort else np.argsort(kc, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(kc, minlength=len(kuniq)))]).astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), varr.take(pa.array(order)))
    joined = pc.binary_join(lists, pa.scalar(sep, pa.large_string())).to_numpy(zero_copy_only=False)
    return pd.Series(joined, index=pd.Index(kuniq), dtype="string")


def sorted_codes(s) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``s`` ranked by value (nulls last: code = number of distinct
    values), and the sorted distinct values as Python objects. Hashing first and sorting
    only the distinct values is much cheaper than ``factorize(sort=True)`` or a string
    sort of the whole column; the codes sort rows as their values would.

    Examples
    --------
    >>> codes, uniq = sorted_codes(pd.Series(["b", "a", None, "b"]))
    >>> codes.tolist(), uniq.tolist()
    ([1, 0, 2, 1], ['a', 'b'])
    """
    codes, uniq = pd.factorize(s)
    uniq = np.asarray(uniq, dtype=object)
    perm = np.argsort(uniq, kind="stable")
    rank = np.empty(len(perm) + 1, dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    rank[-1] = len(perm)  # code -1 (null) → last
    return rank[codes], uniq[perm]


def isin(values, among) -> np.ndarray:
    """``pd.Series(values).isin(among)`` as a bool array, for Arrow-backed strings.

    pandas' ``isin`` on Arrow strings costs ~15 µs per value against a large set (it
    rebuilds the set on every call); a hash lookup on an object Index does the same in
    well under 1 µs. Nulls are never members.

    Examples
    --------
    >>> isin(pd.Series(["CN1A", None, "US2B"], dtype="string"), ["US2B", "JP3"]).tolist()
    [False, False, True]
    """
    index = pd.Index(pd.unique(pd.Series(among, dtype=object).dropna().to_numpy()), dtype=object)
    probe = pd.Series(values, dtype=object).to_numpy()
    return index.get_indexer(probe) >= 0


def mode_by(keys, values) -> pd.Series:
    """The most frequent non-null value of each key, indexed by key (sorted).

    Ties go to the value that appears first. Keys whose values are all null are absent.
    The same as ``groupby(keys).agg(lambda s: s.value_counts().index[0])`` without a
    Python call per group.

    Examples
    --------
    >>> mode_by(["a", "a", "a", "b", "b", "c"], ["x", "y", "y", "q", "p", None]).to_dict()
    {'a': 'y', 'b': 'q'}
    """
    d = pd.DataFrame({"key": np.asarray(keys, dtype=object), "value": np.asarray(values, dtype=object)})
    d = d[d["key"].notna() & d["value"].notna()]
    d["seen"] = np.arange(len(d))
    c = d.groupby(["key", "value"], sort=False)["seen"].agg(["size", "min"]).reset_index()
    c = c.sort_values(["key", "size", "min"], ascending=[True, False, True], kind="stable")
    return c.drop_duplicates("key").set_index("key")["value"].rename(None)
