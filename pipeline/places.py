"""Places: regions a project names, and the Chinese addresses of applicants.

The ground floor for every idea of "where": :class:`Region` (a country, province, city
or district), :func:`parse_region` for the names analysts write in ``params.yaml``, and
:func:`parse_cn_addresses` for the addresses patent records carry. Imports nothing of the
package but :mod:`pipeline.errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .errors import RegionInputError, RegionNameError

__all__ = ["Region", "parse_region", "in_region", "parse_cn_addresses", "MUNICIPALITIES", "LEVELS"]

#: Province-level cities: their city is the province (重庆市 → 重庆市, 重庆市).
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


@dataclass(frozen=True)
class Region:
    """A place at one level: ``country`` (ISO code), ``province``, ``city`` or ``district``."""

    label: str
    level: str
    country: str
    province: str | None = None
    city: str | None = None
    district: str | None = None


def parse_region(text: str) -> Region:
    """Parse a region name: an ISO country code (``CN``, ``US``) or a Chinese place.

    Chinese places resolve through :mod:`cpca` and must resolve completely: every
    part named must be a real province / city / district.

    Raises
    ------
    RegionNameError
        Quoting the name, with what could not be recognised and what to write instead.

    Examples
    --------
    >>> parse_region("重庆市江北区")
    Region(label='重庆市江北区', level='district', country='CN', province='重庆市', city='重庆市', district='江北区')
    >>> parse_region("US").level
    'country'
    """
    text = str(text).strip()
    if re.fullmatch(r"[A-Z]{2}", text):
        return Region(text, "country", text)
    if text in ("中国", "全国"):
        return Region(text, "country", "CN")
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise RegionNameError(f"unknown region {text!r}: use an ISO country code (CN, US …) or a Chinese place name")
    parsed = parse_cn_addresses(pd.Series([text])).iloc[0]
    prov, city, dist = (None if pd.isna(v) else v for v in parsed)
    if not prov:
        raise RegionNameError(f"unknown region {text!r}: no Chinese province recognised")
    # Every character of the input must be accounted for by the recognised names
    # (cpca silently ignores what it does not know: 重庆市火星区 would pass as 重庆市).
    rest = text
    for part in (prov, city, dist):
        if part:
            for variant in (part, part.rstrip("省市区县")):
                if rest.startswith(variant):
                    rest = rest[len(variant):]
                    break
    if rest:
        raise RegionNameError(f"unknown region {text!r}: {rest!r} is not a recognised city or district")
    if dist and not any(p and (p in text or p.rstrip("省市") in text) for p in (prov, city)):
        # District names repeat across China (江北区 is in Chongqing and in Ningbo).
        raise RegionNameError(f"ambiguous region {text!r}: name its province or city too, e.g. 重庆市{text}")
    named_city = city and (city in text or city.rstrip("市") in text) and city != prov
    level = "district" if dist else ("city" if named_city else "province")
    return Region(text, level, "CN", prov, city if level != "province" else None, dist)


#: The levels of a place, widest first (a Region names them down to its own).
LEVELS = ("country", "province", "city", "district")
_SUFFIX = r"(省|市|区|县|自治区|自治州|特别行政区)$"


def _place(s: pd.Series) -> pd.Series:
    """Place names compared without their administrative suffix (重庆市 = 重庆), blanks NA."""
    s = s.astype("string").str.strip()
    return s.mask(s == "").str.replace(_SUFFIX, "", regex=True)


def in_region(frame: pd.DataFrame, region: Region | str, columns: dict[str, str] | None = None) -> pd.Series:
    """Whether each row's place lies in ``region``: the one rule of "in the region".

    A row is in the region when every level the region names (country down to its own
    level) matches: the country as an upper-case code, the province, city and district
    without their administrative suffix (重庆市 = 重庆). An unknown value never matches.

    Parameters
    ----------
    frame : DataFrame
        Rows with a place.
    region : Region or str
        A string goes through :func:`parse_region`.
    columns : dict, optional
        Level → column of ``frame`` (default: the columns are named ``country`` …
        ``district``); only the levels the region names are read.

    Raises
    ------
    RegionInputError
        ``frame`` lacks a column the region needs.

    Examples
    --------
    >>> df = pd.DataFrame({"country": ["CN", "CN", "US"], "province": ["重庆市", "四川省", None],
    ...                    "city": ["重庆市", "成都市", None], "district": ["江北区", None, None]})
    >>> in_region(df, Region("重庆", "province", "CN", "重庆市")).tolist()
    [True, False, False]
    >>> in_region(df, Region("US", "country", "US")).tolist()
    [False, False, True]
    >>> in_region(df.rename(columns={"district": "d"}), "重庆市江北区", {"district": "d"}).tolist()
    [True, False, False]
    """
    if isinstance(region, str):
        region = parse_region(region)
    names = {level: (columns or {}).get(level, level) for level in LEVELS}
    wanted = [level for level in LEVELS if getattr(region, level)]
    missing = [names[level] for level in wanted if names[level] not in frame.columns]
    if missing:
        raise RegionInputError(f"rows located in {region.label} need column(s) {', '.join(missing)}; "
                               f"they have {', '.join(map(str, frame.columns))}")
    inside = pd.Series(True, index=frame.index)
    for level in wanted:
        col, want = frame[names[level]], getattr(region, level)
        if level == "country":
            have, target = col.astype("string").str.strip().str.upper(), str(want).upper()
        else:
            have, target = _place(col), _place(pd.Series([want])).iloc[0]
        inside &= (have == target).fillna(False).astype(bool)
    return inside


def parse_cn_addresses(raw: pd.Series) -> pd.DataFrame:
    """Province / city / district of Chinese addresses, via :mod:`cpca`.

    Municipalities come back with the city equal to the province
    (``重庆市江北区…`` → 重庆市, 重庆市, 江北区). Values without Chinese characters
    give nulls.

    Examples
    --------
    >>> parse_cn_addresses(pd.Series(["重庆市江北区建新北路", None])).values.tolist()
    [['重庆市', '重庆市', '江北区'], [<NA>, <NA>, <NA>]]
    """
    s = pd.Series(raw, dtype="string").reset_index(drop=True)
    cols = ["province", "city", "district"]
    out = pd.DataFrame({c: pd.Series([None] * len(s), dtype="string") for c in cols})
    has_cn = s.str.contains(r"[\u4e00-\u9fff]", regex=True).fillna(False).astype(bool)
    uniq = s[has_cn].unique()
    if len(uniq) == 0:
        return out
    import cpca

    res = cpca.transform(list(uniq))
    res.index = uniq
    prov = res["省"].replace("", None)
    city = res["市"].where(~res["市"].isin(["市辖区", "县", "省直辖县级行政区划", ""]), None)
    city = city.where(~(city.isna() & prov.isin(MUNICIPALITIES)), prov)
    dist = res["区"].replace("", None)
    table = pd.DataFrame({"province": prov, "city": city, "district": dist})
    mapped = table.reindex(s[has_cn].values)
    mapped.index = s[has_cn].index
    for c in cols:
        out.loc[has_cn, c] = mapped[c].astype("string").values
    return out
