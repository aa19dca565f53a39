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

from .errors import RegionNameError

__all__ = ["Region", "parse_region", "parse_cn_addresses", "MUNICIPALITIES"]

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
