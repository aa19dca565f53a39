"""Locate applicants that exports name without an address.

Chinese exports (incoPat, PatSnap …) often give an applicant's name and nothing about where
it is, yet a district's report counts applicants by district. This module fills the
``province`` / ``city`` / ``district`` of applicant and assignee rows of the canonical
``parties`` table from evidence, and says for every row which evidence (``located_by``),
what it matched (``location_match``) and how well (``location_score``).

Routes, tried in this order per applicant group (:func:`locate`):

``address``
    The row's own province / city / district from the source. Left as it is.
``group``
    An address on another record of the same applicant group (the group's most frequent
    located place: most frequent province, then within it the most frequent city, then
    district; ties go to the alphabetically first).
``register``
    The group's normalised name (or one of its raw names, normalised like ``name_norm``)
    equals the key of a register row or of one of its ``aliases``
    (:func:`load_register`). When several register rows carry the key, the levels on which
    they all agree are taken and the rest stay unknown ("ambiguous", listed in
    ``candidates``): two rows in different provinces locate nothing; a university with
    campuses in several districts of one city is located at city level only.
``name``
    A place written in the applicant's own name (:func:`name_places`): a province or
    municipality at the start of the name (``重庆长安汽车`` → 重庆市, 重庆市), a province or
    city in brackets after the trade name (``英业达(重庆)有限公司``: the other position the
    enterprise-naming rules give the place), or an administrative name written with its
    suffix (``国网重庆市电力公司``, ``重庆市江北区…``). Only the levels the name proves are
    filled; a name that mentions two provinces (``北京理工大学重庆创新中心``) proves nothing,
    and a branch's name counts only after its parent's (``…有限公司万州分公司``).
``fuzzy``
    The best :func:`rapidfuzz.fuzz.ratio` match of a normalised name against the register
    keys, at ``fuzzy_min`` or above, tried only for groups no register row carries. It is
    a suggestion, never applied unless the analyst listed the candidate in ``accept``
    (route ``fuzzy_accepted``). A group no other route placed gets ``located_by`` ``fuzzy``
    with the candidate in ``location_match`` and its score, but no place; a group an earlier
    route placed in part keeps that route and lists the suggestion in ``candidates``.

A later route only fills levels an earlier one left empty, and only when it agrees with
what is known (same province, same city). ``located_by`` names the route that set the
finest known level. Nothing is guessed: development zones (两江新区, 北部新区, 高新区 …)
are not districts and are kept in the groups table's ``zone`` column; a district is set
only where an address, a register or the applicant's own name names it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LocateInputError, RegisterFileError, UnreadableInputError
from .frames import join_by
from .ingest.normalize import normalize_names, to_halfwidth
from .places import MUNICIPALITIES, parse_cn_addresses

__all__ = [
    "LEVELS",
    "ROUTES",
    "REGISTER_COLUMNS",
    "GROUP_COLUMNS",
    "load_register",
    "name_places",
    "group_keys",
    "locate",
    "route_counts",
]

LEVELS = ("province", "city", "district")
#: Routes that place a group, in the order they are tried (``fuzzy`` only suggests).
ROUTES = ("address", "group", "register", "name", "fuzzy_accepted")
REGISTER_COLUMNS = (
    "name", "key", "aliases", "province", "city", "district", "zone", "address", "uscc",
    "register", "row", "note",
)
GROUP_COLUMNS = (
    "group", "name", "role", "located_by", "province", "city", "district", "zone",
    "location_match", "location_score", "candidates", "note", "n_patents",
)


# --------------------------------------------------------------------------- admin names
_PROV_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_NOT_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Former Chongqing districts merged in 2011 (国函〔2011〕116号): their whole territory is in
# the new district, and the area is run as an economic development zone.
_FORMER_DISTRICTS = {
    ("重庆市", "万盛"): ("綦江区", "万盛经开区"),
    ("重庆市", "万盛区"): ("綦江区", "万盛经开区"),
    ("重庆市", "双桥"): ("大足区", "双桥经开区"),
    ("重庆市", "双桥区"): ("大足区", "双桥经开区"),
}
# Development zones: named new areas, and zone words with up to four characters of name
# before them (not crossing an administrative suffix, a bracket or a digit).
_ZONE_RE = re.compile(
    r"两江新区|北部新区|天府新区|雄安新区|西咸新区|贵安新区"
    r"|[^\s省市区县镇乡村街道路号()（）\[\]\d,，、]{0,4}?"
    r"(?:高新技术产业开发区|高新技术开发区|高新技术产业园区|高新区|经济技术开发区|经济开发区|经开区"
    r"|综合保税区|保税港区|保税区)"
)


@lru_cache(maxsize=1)
def _admin() -> dict:
    """Administrative names of China from cpca's table (the names :func:`parse_cn_addresses` gives)."""
    from importlib.resources import files

    table = pd.read_csv(files("cpca.resources").joinpath("adcodes.csv").open("rb"), dtype=str)
    code = table["adcode"].str[:6]
    name = table["name"]
    is_prov = code.str.endswith("0000")
    is_city = code.str.endswith("00") & ~is_prov
    provs = dict(zip(code[is_prov].str[:2], name[is_prov]))
    cities = {c[:4]: n for c, n in zip(code[is_city], name[is_city]) if n not in _NOT_CITIES}
    districts = []  # (province, city, district)
    for c, n in zip(code[~is_prov & ~is_city], name[~is_prov & ~is_city]):
        p = provs.get(c[:2])
        if p is None:
            continue
        city = p if p in MUNICIPALITIES else cities.get(c[:4])
        districts.append((p, city, n))
    short = {}
    for p in provs.values():
        short.setdefault(_PROV_SUFFIX.sub("", p), p)
    tokens: dict[str, list[tuple]] = {}
    for p in provs.values():
        tokens.setdefault(p, []).append((p, p if p in MUNICIPALITIES else None, None))
    city_short: dict[str, list[tuple]] = {}
    for c4, n in cities.items():
        p = provs.get(c4[:2])
        if p is None:
            continue
        tokens.setdefault(n, []).append((p, n, None))
        if n.endswith("市") and len(n) >= 3:
            city_short.setdefault(n[:-1], []).append((p, n, None))
    for p, c, d in districts:
        if len(d) >= 3:
            tokens.setdefault(d, []).append((p, c, d))
    by_prov: dict[str, list[tuple]] = {}
    places: dict[str, list[tuple]] = {}
    for p, c, d in districts:
        by_prov.setdefault(p, []).append((c, d))
        places.setdefault(d, []).append((p, c))

    def alternation(words):
        return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))

    return {
        "provinces": set(provs.values()),
        "short": short,
        "tokens": tokens,
        "city_short": {k: v for k, v in city_short.items() if len(v) == 1},
        "districts": by_prov,
        "district_places": places,
        "lead_re": re.compile("^(?:" + alternation(list(provs.values()) + list(short)) + ")"),
        "scan_re": re.compile(alternation(tokens)),
        "short_re": re.compile(alternation(short)),
        "after_org_re": re.compile(r"(?:大学|学院|公司|集团|研究院|研究所|中心|局|厂|医院|银行)("
                                   + alternation(list(short) + list(city_short)) + ")"),
        "bracket_re": re.compile(r"[(（]\s*(" + alternation(list(short) + list(provs.values())
                                 + list(city_short) + list(cities.values())) + r")\s*[)）]"),
    }


def _province_full(value) -> str | None:
    """Full province name from a full or short one (``重庆`` → ``重庆市``); None if unknown."""
    if value is None or pd.isna(value):
        return None
    text = re.sub(r"\s+", "", to_halfwidth(str(value)))
    adm = _admin()
    if text in adm["provinces"]:
        return text
    return adm["short"].get(_PROV_SUFFIX.sub("", text))


def _district_full(province: str | None, value) -> tuple[str | None, str | None]:
    """(district, zone) for a district written in full or without its suffix.

    ``江北`` in 重庆市 → 江北区; a development zone → (None, zone); unknown → (None, None).
    """
    if value is None or pd.isna(value) or province is None or pd.isna(province):
        return None, None
    return _district_lookup(str(province), re.sub(r"\s+", "", to_halfwidth(str(value))))


@lru_cache(maxsize=4096)
def _district_lookup(province: str, text: str) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    if (province, text) in _FORMER_DISTRICTS:
        return _FORMER_DISTRICTS[(province, text)]
    zone = _ZONE_RE.fullmatch(text)
    if zone:
        return None, text
    names = [d for _, d in _admin()["districts"].get(province, [])]
    if text in names:
        return text, None
    stem = re.sub(r"[区县市旗]$", "", text) if len(text) >= 3 else text
    hits = [d for d in names if len(stem) >= 2 and d.startswith(stem)]
    return (hits[0], None) if len(hits) == 1 else (None, None)


def _city_of(province: str | None, district: str | None) -> str | None:
    """The city of a district (the province itself for a municipality); None if not unique."""
    if province is None or pd.isna(province):
        return None
    if province in MUNICIPALITIES:
        return province
    if district is None or pd.isna(district):
        return None
    return _city_lookup(str(province), str(district))


@lru_cache(maxsize=4096)
def _city_lookup(province: str, district: str) -> str | None:
    cities = {c for c, d in _admin()["districts"].get(province, []) if d == district}
    return cities.pop() if len(cities) == 1 else None


def _zone_of(text) -> str | None:
    if text is None or pd.isna(text):
        return None
    m = _ZONE_RE.search(re.sub(r"\s+", "", to_halfwidth(str(text))))
    return m.group(0).removeprefix("国家") if m else None


def _zones(s: pd.Series) -> pd.Series:
    s = pd.Series(s, dtype="string")
    uniq = s.dropna().unique()
    return s.map({v: _zone_of(v) for v in uniq}).astype("string")


# --------------------------------------------------------------------------- name route
_BRANCH_END = re.compile(
    r"(?:分公司|分厂|办事处|经营部|支公司|营业部|分行|支行|分理处|服务部|门市部|分店|支局|邮政所|营业所"
    r"|分社|分所|分院|分中心|工作站)$"
)
_SUFFIX_CHARS = re.compile(r"[省市区县州盟旗]")
_ORG_WORD = re.compile(r"有限责任公司|股份有限公司|有限公司|公司|集团|厂|局|大学|学院|研究院|研究所|银行|医院|中心|部")


def _branch_part(text: str) -> str:
    """The part of a branch's name after its parent's (``…有限公司万州分公司`` → ``万州分公司``)."""
    m = _BRANCH_END.search(text)
    if not m:
        return text
    parents = list(_ORG_WORD.finditer(text, 0, m.start()))
    return text[parents[-1].end():] if parents else text


def _name_place(raw: str) -> tuple | None:
    """(province, city, district, evidence) proven by one name, or None."""
    adm = _admin()
    text = _branch_part(re.sub(r"\s+", "", to_halfwidth(raw)))
    found = []  # (start, end, candidates, is_district)
    m = adm["lead_re"].match(text)
    if m:
        p = _province_full(m.group(0))
        found.append((0, m.end(), [(p, p if p in MUNICIPALITIES else None, None)], False))
    for m in (adm["bracket_re"].finditer(text) if ("(" in text or "（" in text) else ()):
        word = m.group(1)
        p = _province_full(word)
        if p:
            cands = [(p, p if p in MUNICIPALITIES else None, None)]
        else:
            cands = adm["city_short"].get(word) or adm["tokens"].get(word, [])
        found.append((m.start(1), m.end(1), cands, False))
    for m in (adm["scan_re"].finditer(text) if _SUFFIX_CHARS.search(text) else ()):
        cands = adm["tokens"][m.group(0)]
        found.append((m.start(), m.end(), cands, cands[0][2] is not None))
    spans = [(a, b) for a, b, _, _ in found]
    if not found:
        return None
    prov = city = dist = None
    two_districts = False
    evidence = []
    for start, end, cands, is_district in sorted(found, key=lambda f: (f[0], -f[1])):
        ok = [(p, c, d) for p, c, d in cands
              if (prov is None or p == prov) and (city is None or c is None or c == city)]
        if is_district:
            if prov is None or len(ok) != 1:
                continue  # no province or city named before it, or not in it: proves nothing
            if dist is not None and ok[0][2] != dist:
                two_districts = True
                continue
        elif not ok:
            return None  # two provinces or cities named
        elif len(ok) > 1:
            continue
        p, c, d = ok[0]
        prov, city, dist = prov or p, city or c, dist or d
        evidence.append(text[start:end])
    if prov is None:
        return None
    # Only a lead or bracketed short name: another province named anywhere makes it doubtful
    # (北京城建重庆地产, 上海大众汽车重庆中汽销售服务).
    if not any(e.endswith(("省", "市", "区", "县", "州", "盟", "旗")) or e in adm["tokens"] for e in evidence):
        for m in adm["short_re"].finditer(text):
            if not any(a <= m.start() < b for a, b in spans) and adm["short"][m.group(0)] != prov:
                return None
    # A place right after an organisation word names where a unit of it is
    # (北京理工大学重庆创新中心): the name then proves nothing unless that place agrees.
    for m in adm["after_org_re"].finditer(text):
        word = m.group(1)
        p = _province_full(word)
        places = [(p, None)] if p else [(pp, cc) for pp, cc, _ in adm["city_short"].get(word, [])]
        if not any(pp == prov and (cc is None or city is None or cc == city) for pp, cc in places):
            return None
    if two_districts:
        dist = None
    return prov, city, dist, "".join(dict.fromkeys(evidence))


def name_places(names: pd.Series) -> pd.DataFrame:
    """The place an organisation's own name proves.

    Accepted: a province or municipality at the start (full or short name), a province or
    city in brackets (``紫光展锐(重庆)科技``: the other place the enterprise-naming rules allow),
    a province or city written with its suffix anywhere (``国网重庆市电力公司``), and a district
    written with its suffix after its province or city (``重庆市江北区``). Refused: regions
    (中国, 华北), names without their suffix (``长安``, ``江北``), a district with no province or
    city before it (``江北区`` is in 重庆 and in 宁波), a second province or city (``四川外国语大学
    重庆南方翻译学院``; a bare lead ``重庆`` also yields to a province named anywhere later,
    as in ``北京城建重庆地产``), and for a branch (``…有限公司万州分公司``) everything in the
    parent's part of the name: only the branch's own words count.

    Parameters
    ----------
    names : Series of str

    Returns
    -------
    DataFrame
        ``province``, ``city``, ``district`` (null where not proven) and ``evidence`` (the
        place words found), aligned with ``names``.

    Examples
    --------
    >>> t = name_places(pd.Series(["重庆市江北区某某有限公司", "重庆长安汽车股份有限公司",
    ...     "长安大学", "江北区某厂", "北京理工大学重庆创新中心", "英业达(重庆)有限公司"]))
    >>> t.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['重庆市', '重庆市', '江北区', '重庆市江北区'], ['重庆市', '重庆市', <NA>, '重庆'],
     [<NA>, <NA>, <NA>, <NA>], [<NA>, <NA>, <NA>, <NA>], [<NA>, <NA>, <NA>, <NA>],
     ['重庆市', '重庆市', <NA>, '重庆']]
    """
    s = pd.Series(names, dtype="string").reset_index(drop=True)
    uniq = s.dropna().unique()
    table = {v: _name_place(v) for v in uniq}
    cols = ["province", "city", "district", "evidence"]
    rows = [table.get(v) if not pd.isna(v) else None for v in s.tolist()]
    out = pd.DataFrame([r if r else (None,) * 4 for r in rows], columns=cols)
    return out.astype("string")


# --------------------------------------------------------------------------- registers
_GENERIC = {
    "name": ("name", "名称", "企业名称", "单位名称", "机构名称", "申请人", "company", "organisation",
             "organization", "applicant"),
    "address": ("address", "addr", "地址", "注册地址", "住所", "通讯地址", "通信地址"),
    "district": ("district", "区县", "区/县", "所在区县", "county", "区"),
    "province": ("province", "省", "省份", "所在省份"),
    "city": ("city", "市", "城市", "地市"),
    "uscc": ("uscc", "统一社会信用代码", "信用代码", "credit_code"),
    "aliases": ("aliases", "alias", "别名", "曾用名"),
}
_CAMPUS_BRACKET = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_CAMPUS_PLAIN = re.compile(r"^(.+?(?:大学|学院))[\u4e00-\u9fffA-Za-z]{1,8}?(?:校区|分部|分校)(?:[A-Za-z]区)?$")


def _cell(v):
    if v is None:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    text = str(v).strip()
    return text or None


def _read(path: Path) -> pd.DataFrame:
    """All cells of the first table of ``path`` as text (None for empty)."""
    from .io import decode_text

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableInputError(path, exc.strerror or str(exc)) from None
    if size == 0:
        raise UnreadableInputError(path, "empty file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        except Exception as exc:  # calamine raises its own error types for damaged files
            raise UnreadableInputError(path, f"cannot read as a workbook: {exc}") from None
        rows = [[_cell(v) for v in r] for r in rows]
        while rows and not any(rows[0]):
            rows.pop(0)
        if not rows:
            raise UnreadableInputError(path, "the first sheet is empty")
        header = [str(h or f"column {i + 1}") for i, h in enumerate(rows[0])]
        body = [r + [None] * (len(header) - len(r)) for r in rows[1:]]
        return pd.DataFrame(body, columns=header, dtype=object)
    text = decode_text(path)
    if suffix == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise UnreadableInputError(path, f"not valid JSON ({exc})") from None
        if isinstance(doc, dict):
            lists = [v for v in doc.values() if isinstance(v, list)]
            doc = lists[0] if len(lists) == 1 else None
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise RegisterFileError(path, "JSON register must be a list of objects (one per place)")
        frame = pd.DataFrame.from_records(doc)
        return frame.map(_cell) if len(frame) else frame
    if suffix not in (".csv", ".tsv", ".txt", ""):
        raise RegisterFileError(path, f"unsupported register format {suffix!r}: use CSV, XLSX or JSON")
    import io

    head = text[:4096]
    sep = "\t" if head.count("\t") > head.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UnreadableInputError(path, f"cannot parse as CSV ({exc})") from None
    return frame.map(_cell)


def _column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    lookup = {str(c).strip().lstrip("\ufeff").casefold(): c for c in frame.columns}
    for n in names:
        if n.casefold() in lookup:
            return lookup[n.casefold()]
    return None


def _parse_addresses(address: pd.Series, province: pd.Series) -> pd.DataFrame:
    """Province / city / district proven by addresses, given the register's province.

    An address that names its province (or a city of it) gives that province; otherwise the
    register's province is put in front before parsing. A district counts only when its
    full name is written in the address (cpca also matches short county names, which a
    street name can contain); a city only when written, or implied by such a district.
    """
    addr = pd.Series(address, dtype="string").reset_index(drop=True)
    hint = pd.Series(province, dtype="string").reset_index(drop=True)
    first = parse_cn_addresses(addr)
    adm = _admin()

    def short(v):
        return None if v is None or pd.isna(v) else _PROV_SUFFIX.sub("", v)

    named = pd.Series([
        (a is not pd.NA and p is not pd.NA
         and (short(p) in a or (c is not pd.NA and short(c) in a)
              or (d is not pd.NA and d in a and len(adm["district_places"].get(d, [])) == 1)))
        for a, p, c, d in zip(addr.tolist(), first["province"].tolist(), first["city"].tolist(),
                              first["district"].tolist())
    ], dtype=bool)
    redo = ~named & hint.notna() & addr.notna()
    out = first.copy()
    out.loc[~named, list(LEVELS)] = pd.NA
    if redo.any():
        second = parse_cn_addresses(hint[redo] + addr[redo])
        second.index = addr[redo].index
        same = second["province"].eq(hint[redo]).fillna(False)
        for lvl in LEVELS:
            out.loc[redo[redo].index[same.to_numpy()], lvl] = second.loc[same, lvl]
    literal = pd.Series([
        d is pd.NA or (a is not pd.NA and d in a) for a, d in zip(addr.tolist(), out["district"].tolist())
    ], dtype=bool)
    out.loc[~literal, "district"] = pd.NA
    city_written = pd.Series([
        c is pd.NA or p in MUNICIPALITIES or (a is not pd.NA and short(c) in a)
        for a, p, c in zip(addr.tolist(), out["province"].tolist(), out["city"].tolist())
    ], dtype=bool)
    out.loc[~city_written & out["district"].isna(), "city"] = pd.NA
    return out.astype("string")


def _finish(path: Path, frame: pd.DataFrame, *, layout: str, dropped: int) -> pd.DataFrame:
    """Keys, types and column order of a register; raise if nothing usable is left."""
    frame = frame.copy()
    frame["name"] = frame["name"].astype("string").str.strip()
    muni = frame["province"].isin(MUNICIPALITIES).fillna(False)
    frame["city"] = frame["city"].astype("string").where(~muni, frame["province"])
    bad_name = frame["name"].isna() | frame["name"].str.contains("\ufffd", regex=False).fillna(False)
    frame = frame[~bad_name]
    frame["key"] = normalize_names(frame["name"]).set_axis(frame.index)
    placed = frame[["province", "city", "district", "zone"]].notna().any(axis=1)
    usable = frame["key"].notna() & (frame["key"] != "") & placed
    out = frame[usable]
    if out.empty:
        raise RegisterFileError(
            path, f"no usable row ({layout} layout): every row lacks a readable name or any place"
        )
    out = out.assign(register=path.stem)
    out = pd.DataFrame({c: out[c] if c in out else pd.NA for c in REGISTER_COLUMNS}, index=out.index)
    out = out.astype({c: "string" for c in REGISTER_COLUMNS if c != "row"}).astype({"row": "Int64"})
    out = out.sort_values("row", kind="stable").reset_index(drop=True)
    out.attrs.update(layout=layout, dropped=int(dropped + (~usable).sum() + bad_name.sum()))
    return out


def _listed(path, raw) -> pd.DataFrame:
    hint = raw["area"].map(_province_full).astype("string")
    addr = raw["addr_reg"].astype("string")
    parsed = _parse_addresses(addr, hint).set_axis(raw.index)
    note = pd.Series(pd.NA, index=raw.index, dtype="string")
    differs = parsed["province"].notna() & hint.notna() & parsed["province"].ne(hint).fillna(False)
    note[differs] = "area " + raw.loc[differs, "area"].astype(str) + " differs from addr_reg: addr_reg used"
    return pd.DataFrame({
        "name": raw["name"], "province": parsed["province"].fillna(hint), "city": parsed["city"],
        "district": parsed["district"], "zone": _zones(addr), "address": addr, "note": note,
        "row": np.arange(len(raw)),
    }, index=raw.index)


def _cn_registrations(path, raw) -> pd.DataFrame:
    prov = raw["所在省份"].map(_province_full).astype("string")
    keep = prov.notna()  # corrupted upstream lines carry money amounts in this column
    addr = raw["注册地址"].astype("string")
    parsed = _parse_addresses(addr, prov).set_axis(raw.index)
    hinted = [_district_full(p, d) if p is not None and not pd.isna(p) else (None, None)
              for p, d in zip(prov.tolist(), raw["地区"].tolist())]
    h_dist = pd.Series([h[0] for h in hinted], index=raw.index, dtype="string")
    h_zone = pd.Series([h[1] for h in hinted], index=raw.index, dtype="string")
    a_dist = parsed["district"].where(parsed["province"].eq(prov).fillna(False))
    other_prov = parsed["province"].notna() & parsed["province"].ne(prov).fillna(False)
    clash = h_dist.notna() & a_dist.notna() & h_dist.ne(a_dist).fillna(False)
    district = h_dist.fillna(a_dist).where(~clash & ~other_prov)
    note = pd.Series(pd.NA, index=raw.index, dtype="string")
    note[clash | other_prov] = "地区 " + raw["地区"].astype(str) + " disagrees with 注册地址: district left unknown"
    note[h_zone.notna() & district.isna() & note.isna()] = "地区 is a development zone; 注册地址 names no district"
    city = pd.Series([_city_of(p, d) if p is not pd.NA else None
                      for p, d in zip(prov.tolist(), district.tolist())], index=raw.index, dtype="string")
    # A registration whose address is in another province: where is it? Unknown (row dropped).
    prov = prov.where(~other_prov)
    city = city.where(~other_prov)
    out = pd.DataFrame({
        "name": raw["企业名称"], "province": prov, "city": city.fillna(parsed["city"].where(~other_prov)),
        "district": district, "zone": h_zone.fillna(_zones(addr)).where(~other_prov), "address": addr,
        "uscc": raw["统一社会信用代码"], "note": note, "row": np.arange(len(raw)),
    }, index=raw.index)
    return out[keep]


def _campus_base(name) -> str | None:
    if name is None or pd.isna(name):
        return None
    text = to_halfwidth(str(name))
    base = _CAMPUS_BRACKET.sub("", text)
    m = _CAMPUS_PLAIN.match(base)
    return m.group(1) if m else base


def _universities(path, raw) -> pd.DataFrame:
    prov = raw["province"].map(_province_full).astype("string")
    base = raw["name"].map(_campus_base).astype("string")
    campus = raw["name"].astype("string")
    addr = raw["address"].astype("string")
    dist = pd.Series([_district_full(p, d)[0] if p is not None and not pd.isna(p) else None
                      for p, d in zip(prov.tolist(), raw["area"].tolist())], index=raw.index, dtype="string")
    given = raw["area"].astype("string").str.strip()
    dist = dist.fillna(given.where(given.str.contains(r"[区县市旗]$", regex=True).fillna(False)))
    city = raw["city"].astype("string").str.strip()
    city = city.where(~prov.isin(MUNICIPALITIES), prov)
    note = ("campus " + campus).where(campus.ne(base).fillna(False))
    return pd.DataFrame({
        "name": base, "province": prov, "city": city, "district": dist, "zone": _zones(addr),
        "address": addr, "note": note, "row": np.arange(len(raw)),
    }, index=raw.index)


def _generic(path, raw, cols) -> pd.DataFrame:
    n = len(raw)
    get = {k: (raw[c].astype("string") if c else pd.Series([pd.NA] * n, index=raw.index, dtype="string"))
           for k, c in cols.items()}
    hint = get["province"].map(_province_full, na_action="ignore").astype("string")
    parsed = _parse_addresses(get["address"], hint).set_axis(raw.index)
    prov = hint.fillna(parsed["province"])
    hinted = [_district_full(p, d) if p is not None and not pd.isna(p) else (None, None)
              for p, d in zip(prov.tolist(), get["district"].tolist())]
    h_dist = pd.Series([h[0] for h in hinted], index=raw.index, dtype="string")
    h_zone = pd.Series([h[1] for h in hinted], index=raw.index, dtype="string")
    a_dist = parsed["district"].where(parsed["province"].eq(prov).fillna(False))
    clash = h_dist.notna() & a_dist.notna() & h_dist.ne(a_dist).fillna(False)
    district = h_dist.fillna(a_dist).where(~clash)
    city = get["city"].str.strip()
    city = city.where(~prov.isin(MUNICIPALITIES), prov)
    derived = pd.Series([_city_of(p, d) if p is not pd.NA and d is not pd.NA else None
                         for p, d in zip(prov.tolist(), district.tolist())], index=raw.index, dtype="string")
    note = pd.Series(pd.NA, index=raw.index, dtype="string")
    note[clash] = "district column disagrees with the address: district left unknown"
    aliases = get["aliases"].str.split(r"[;；]").map(
        lambda xs: ";".join(x.strip() for x in xs if x and x.strip()) if isinstance(xs, list) else None
    ).astype("string")
    return pd.DataFrame({
        "name": get["name"], "aliases": aliases.where(aliases != ""), "province": prov,
        "city": city.fillna(derived).fillna(parsed["city"]), "district": district,
        "zone": h_zone.fillna(_zones(get["address"])), "address": get["address"], "uscc": get["uscc"],
        "note": note, "row": np.arange(n),
    }, index=raw.index)


def load_register(path: str | Path) -> pd.DataFrame:
    """Read an analyst's register of places (companies, schools …) for :func:`locate`.

    Layouts are recognised by their columns: the A-share listed-company table (``name``,
    ``area`` = province, ``addr_reg`` = registered address, parsed), the Chongqing
    enterprise registrations (``企业名称``, ``所在省份``, ``地区`` = district without its
    suffix or a development zone, ``注册地址``), the school places list (JSON: ``name`` with
    the campus in brackets, ``province``, ``city``, ``area`` = district, ``address``), and a
    generic table: a name column plus an address and/or a district column, optional
    province, city, unified social credit code (``uscc`` / ``统一社会信用代码``) and
    ``aliases`` (former names, ``;``-separated). CSV in UTF-8, UTF-8 with BOM or GB18030,
    XLSX (first sheet, header on the first row) and JSON are read.

    Rules: a development zone (北部新区, 两江新区, 高新区 …) is kept in ``zone``, never as a
    district; the district is set only where a district column or the address names one
    (``地区`` 江北 → 江北区; an address ``重庆市北部新区金渝大道9号`` gives zone 北部新区 and
    no district); when they disagree it is left unknown (``note`` says so). For schools the
    name is the university's (``重庆大学(虎溪校区)`` → 重庆大学, campus in ``note``), one row
    per campus: :func:`locate` then finds all campuses of a name and keeps only the levels
    they agree on. Rows with unreadable names (U+FFFD) or no place at all are left out
    (their number is ``attrs["dropped"]``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
        Columns :data:`REGISTER_COLUMNS`: ``name``, ``key`` (the name normalised like
        ``name_norm``), ``aliases``, ``province``, ``city``, ``district`` (full names as
        :func:`~pipeline.places.parse_cn_addresses` gives them), ``zone``,
        ``address``, ``uscc``, ``register`` (file stem), ``row`` (0-based data row in the
        file), ``note``; ``attrs["layout"]`` names the layout.

    Raises
    ------
    pipeline.errors.UnreadableInputError
        Missing, empty or undecodable file.
    RegisterFileError
        Unknown layout, or no usable row; the message names the file.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "mine.csv")
    >>> _ = open(p, "w", encoding="utf-8").write("name,district,address\\n某某科技有限公司,,重庆市江北区建新东路1号\\n")
    >>> load_register(p)[["name", "key", "province", "district", "register", "row"]].values.tolist()
    [['某某科技有限公司', '某某科技', '重庆市', '江北区', 'mine', 0]]
    """
    path = Path(path)
    raw = _read(path)
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    cols = set(raw.columns)
    if {"name", "area", "addr_reg"} <= cols:
        layout, frame = "listed_companies", _listed(path, raw)
    elif {"企业名称", "地区", "注册地址", "所在省份"} <= cols:
        layout, frame = "cn_registrations", _cn_registrations(path, raw)
    elif {"name", "province", "city", "area", "address"} <= cols:
        layout, frame = "universities", _universities(path, raw)
    else:
        found = {k: _column(raw, v) for k, v in _GENERIC.items()}
        if not found["name"] or not (found["address"] or found["district"]):
            raise RegisterFileError(
                path,
                "cannot tell the register layout: expected a name column (name / 企业名称 …) and an "
                f"address or district column; found {', '.join(map(str, raw.columns)) or 'no columns'}",
            )
        layout, frame = "generic", _generic(path, raw, found)
    return _finish(path, frame, layout=layout, dropped=len(raw) - len(frame))


# --------------------------------------------------------------------------- helpers
def _str(s) -> pd.Series:
    return pd.Series(s, dtype="string")


def _member(values: pd.Series, keys) -> pd.Series:
    """Whether each of ``values`` is one of ``keys`` (a hash lookup; fast for large key sets)."""
    keys = pd.Index(pd.Series(keys, dtype="string").dropna().unique())
    return pd.Series(keys.get_indexer(pd.Series(values, dtype="string")) >= 0, index=values.index)


def _top(df: pd.DataFrame, by: str, col: str) -> pd.Series:
    """Most frequent non-null ``col`` per ``by`` (ties: the alphabetically first)."""
    d = df.loc[df[col].notna(), [by, col]]
    if d.empty:
        return pd.Series(dtype="string")
    c = d.groupby([by, col], sort=False).size().rename("n").reset_index()
    c = c.sort_values([by, "n", col], ascending=[True, False, True], kind="stable")
    return c.drop_duplicates(by).set_index(by)[col].astype("string")


def _agree(hits: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per ``by``: the levels every hit agrees on (nulls agree with anything).

    Returns ``province``, ``city``, ``district``, ``zone`` and ``conflict`` (the first
    level on which hits disagree, else null).
    """
    cols = ["province", "city", "district", "zone"]
    g = hits.groupby(by, sort=True)
    nun = g[cols].nunique()
    first = g[cols].first()
    p_ok = nun["province"] <= 1
    c_ok = p_ok & (nun["city"] <= 1)
    d_ok = c_ok & (nun["district"] <= 1)
    out = pd.DataFrame({
        "province": first["province"].where(p_ok),
        "city": first["city"].where(c_ok),
        "district": first["district"].where(d_ok),
        "zone": first["zone"].where(d_ok & (nun["zone"] <= 1)),
    }).astype("string")
    conflict = np.select([~p_ok, ~c_ok, ~d_ok], ["province", "city", "district"], "")
    out["conflict"] = pd.Series(conflict, index=out.index, dtype="string").replace("", pd.NA)
    return out


def _compatible(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=a.index)
    for lvl in LEVELS:
        x, y = a[lvl], b[lvl]
        ok &= (x.isna() | y.isna() | x.eq(y).fillna(False)).astype(bool)
    return ok


def _add_note(state: pd.DataFrame, where, text) -> None:
    """Append ``text`` (a str or a Series by index) to the ``note`` of rows ``where``."""
    idx = state.index[where] if isinstance(where, pd.Series) else pd.Index(where)
    if not len(idx):
        return
    text = pd.Series(text, index=idx, dtype="string") if isinstance(text, str) else text.reindex(idx)
    old = state.loc[idx, "note"]
    state.loc[idx, "note"] = text.where(old.isna(), old + "; " + text)


def _fill(state: pd.DataFrame, new: pd.DataFrame, route: str, match: pd.Series | None = None,
          score: pd.Series | None = None) -> pd.Series:
    """Fill ``state``'s empty levels from ``new`` where they agree; return where anything was set."""
    new = new.reindex(state.index)
    has = new[list(LEVELS)].notna().any(axis=1)
    compatible = _compatible(state, new)
    ok = compatible & has
    changed = pd.Series(False, index=state.index)
    for lvl in (*LEVELS, "zone"):
        take = ok & state[lvl].isna() & new[lvl].notna()
        state.loc[take, lvl] = new.loc[take, lvl]
        if lvl != "zone":
            state.loc[take, f"r_{lvl}"] = route
            changed |= take
    if match is not None:
        state.loc[changed, f"m_{route}"] = match.reindex(state.index)[changed]
    if score is not None:
        state.loc[changed, f"s_{route}"] = score.reindex(state.index)[changed]
    _add_note(state, has & ~compatible, f"{route} place disagrees with an earlier route: not applied")
    return changed


def _fmt_place(df: pd.DataFrame) -> pd.Series:
    parts = [df["province"], df["city"].where(df["city"].ne(df["province"]).fillna(True)), df["district"],
             df["zone"]]
    out = pd.Series("", index=df.index, dtype="string")
    for p in parts:
        p = p.astype("string")
        out = out + p.fillna("").where(p.isna(), "/" + p.fillna(""))
    return out.str.lstrip("/")


def _describe(hits: pd.DataFrame, score: pd.Series | None = None) -> pd.Series:
    """One candidate per hit: ``name: place (register:row)`` (with the score when given)."""
    place = _fmt_place(hits)
    text = hits["name"].astype("string") + ": " + place.replace("", "?") + " (" + hits["register"].astype(
        "string") + ":" + hits["row"].astype("string") + ")"
    if score is not None:
        text = text + " " + score.map(lambda s: f"{s:.2f}").astype("string")
    return text


def group_keys(parties: pd.DataFrame) -> pd.Series:
    """Applicant group key of each row: the normalised ``name_std`` when given, else ``name_norm``.

    ``name_norm`` missing or null falls back to the normalised ``name_raw``.

    Examples
    --------
    >>> p = pd.DataFrame({"name_raw": ["重庆长安汽车股份有限公司", "重庆大学"],
    ...                   "name_std": ["长安汽车-C", None], "name_norm": ["重庆长安汽车", None]})
    >>> group_keys(p).tolist()
    ['长安汽车C', '重庆大学']
    """
    n = len(parties)
    idx = parties.index
    raw = _str(parties["name_raw"]) if "name_raw" in parties else pd.Series([pd.NA] * n, index=idx, dtype="string")
    std = _str(parties["name_std"]) if "name_std" in parties else pd.Series([pd.NA] * n, index=idx, dtype="string")
    norm = _str(parties["name_norm"]) if "name_norm" in parties else pd.Series([pd.NA] * n, index=idx, dtype="string")
    std = std.where(std.str.strip().ne("").fillna(False))
    key = normalize_names(std).set_axis(idx)
    key = key.where(key.ne("").fillna(False))
    norm = norm.where(norm.str.strip().ne("").fillna(False))
    missing = key.isna() & norm.isna()
    if missing.any():
        norm = norm.copy()
        norm[missing] = normalize_names(raw[missing]).set_axis(raw[missing].index)
    return key.fillna(norm).astype("string")


# --------------------------------------------------------------------------- fuzzy route
_ANY = "*any province*"  # the block of queries whose province is unknown

def _fuzzy(queries: pd.DataFrame, cands: pd.DataFrame, fuzzy_min: float, chunk: int = 2048) -> pd.DataFrame:
    """Best :func:`rapidfuzz.fuzz.ratio` candidates per query key.

    ``queries``: ``qkey``, ``province`` (null: any); ``cands``: ``key``, ``province``.
    Only candidates of the query's province (or of no province) are compared, and only
    those that can reach ``fuzzy_min`` at all: a length within the ratio's bounds, and at
    least one of the query's ``m`` rarest characters, where ``m`` is one more than the
    number of characters the ratio allows to go unmatched (pigeonhole: a pair without any
    of them cannot score ``fuzzy_min``). Returns ``qkey``, ``province``, ``key``, ``score``
    for every candidate tied at the best score.
    """
    from rapidfuzz import fuzz
    from rapidfuzz.process import cpdist
    from scipy import sparse

    cols = ["qkey", "province", "key", "score"]
    if queries.empty or cands.empty:
        return pd.DataFrame(columns=cols)
    r = fuzzy_min / 100.0
    cands = cands.drop_duplicates(["key", "province"])
    out = []
    provs = queries["province"].astype(object).where(queries["province"].notna(), _ANY)
    for prov, block in queries.groupby(provs, sort=True):
        pool = cands if prov == _ANY else cands[cands["province"].isna() | cands["province"].eq(prov).fillna(False)]
        keys = sorted(set(pool["key"].tolist()))
        if not keys:
            continue
        vocab: dict[str, int] = {}
        rows_k, cols_k = [], []
        for j, k in enumerate(keys):
            for ch in set(k):
                rows_k.append(j)
                cols_k.append(vocab.setdefault(ch, len(vocab)))
        kmat = sparse.csr_matrix((np.ones(len(rows_k), dtype=np.int32), (rows_k, cols_k)),
                                 shape=(len(keys), len(vocab)))
        df = np.asarray(kmat.sum(axis=0)).ravel()
        klen = np.array([len(k) for k in keys])
        qk = sorted(set(block["qkey"].tolist()))
        for s in range(0, len(qk), chunk):
            part = qk[s:s + chunk]
            rows_q, cols_q, lo, hi = [], [], [], []
            for i, q in enumerate(part):
                n = len(q)
                low = math.ceil(n * r / (2 - r) - 1e-9)
                lo.append(low)
                hi.append(math.floor(n * (2 - r) / r + 1e-9))
                need = math.ceil(r * (n + low) / 2 - 1e-9)
                m = max(n - need + 1, 1)
                ranked = sorted(range(n), key=lambda t: (df[vocab[q[t]]] if q[t] in vocab else 0, t))[:m]
                for ch in {q[t] for t in ranked if q[t] in vocab}:
                    rows_q.append(i)
                    cols_q.append(vocab[ch])
            qmat = sparse.csr_matrix((np.ones(len(rows_q), dtype=np.int32), (rows_q, cols_q)),
                                     shape=(len(part), len(vocab)))
            pairs = (qmat @ kmat.T).tocoo()
            qi, kj = pairs.row, pairs.col
            lo_a, hi_a = np.array(lo), np.array(hi)
            fit = (klen[kj] >= lo_a[qi]) & (klen[kj] <= hi_a[qi])
            qi, kj = qi[fit], kj[fit]
            if not len(qi):
                continue
            score = cpdist([part[i] for i in qi], [keys[j] for j in kj], scorer=fuzz.ratio,
                           score_cutoff=fuzzy_min, dtype=np.float32)
            ok = score >= fuzzy_min
            if not ok.any():
                continue
            found = pd.DataFrame({"q": qi[ok], "k": kj[ok], "score": score[ok].astype(float)})
            found = found[found["score"] == found.groupby("q")["score"].transform("max")]
            for i, j, sc in found.itertuples(index=False, name=None):
                out.append((part[i], None if prov == _ANY else prov, keys[j], sc))
    return pd.DataFrame(out, columns=cols)


def _fuzzy_route(g: pd.DataFrame, q: pd.DataFrame, mt: pd.DataFrame, accept: Iterable[str],
                 fuzzy_min: float) -> None:
    """Record fuzzy suggestions in ``g`` (``m_fuzzy``, ``s_fuzzy``, ``candidates``); apply accepted ones."""
    if isinstance(accept, str):
        accept = [accept]
    qq = q.merge(g[["province"]], left_on="gk", right_index=True)
    qq["pk"] = qq["province"].fillna(_ANY)
    cands = mt[["mkey", "province"]].rename(columns={"mkey": "key"})
    best = _fuzzy(qq[["qkey", "province"]].drop_duplicates(), cands, fuzzy_min)
    if best.empty:
        return
    best["pk"] = best["province"].astype("string").fillna(_ANY)
    best = qq.merge(best.drop(columns="province"), on=["qkey", "pk"])
    best = best[best["score"] == best.groupby("gk")["score"].transform("max")].drop_duplicates(["gk", "key"])
    rows = best.drop(columns=["qkey", "pk"]).rename(columns={"province": "gprov", "key": "cand"})
    rows = rows.merge(mt, left_on="cand", right_on="mkey")
    same_prov = rows["gprov"].isna() | rows["province"].isna() | rows["province"].eq(rows["gprov"])
    rows = rows[same_prov.fillna(False).astype(bool)]
    rows = rows.sort_values(["gk", "register", "row"], kind="stable").drop_duplicates(["gk", "register", "row"])
    if rows.empty:
        return
    cand_text = join_by(rows["gk"], _describe(rows, rows["score"] / 100), "; ", sort=False).astype("string")
    nkeys = rows.groupby("gk")["cand"].nunique()
    firsts = rows.drop_duplicates("gk").set_index("gk")
    score = (firsts["score"] / 100).astype("Float64")
    acc_raw = {to_halfwidth(a).strip() for a in accept if isinstance(a, str) and a.strip()}
    acc_key = set(normalize_names(pd.Series(sorted(acc_raw), dtype="string")).dropna()) if acc_raw else set()
    is_acc = rows["name"].isin(acc_raw) | rows["cand"].isin(acc_key)
    single = nkeys == 1
    accepted = is_acc.groupby(rows["gk"]).any().reindex(nkeys.index).fillna(False).astype(bool) & single
    g.loc[single.index[single], "m_fuzzy"] = firsts.loc[single.index[single], "name"]
    g.loc[single.index[single], "s_fuzzy"] = score.loc[single.index[single]]
    yes = accepted.index[accepted]
    if len(yes):
        _fill(g, _agree(rows[_member(rows["gk"], yes)], "gk"), "fuzzy_accepted")
    no = accepted.index[~accepted]
    g.loc[no, "candidates"] = cand_text.reindex(no)
    _add_note(g, single.index[~single], "fuzzy: several candidates tie at the best score")


# --------------------------------------------------------------------------- locate
def _registers(registers) -> pd.DataFrame:
    if isinstance(registers, pd.DataFrame):
        registers = [registers]
    frames = list(registers)
    need = ["name", "key", "province", "city", "district", "register", "row"]
    for i, f in enumerate(frames):
        if not isinstance(f, pd.DataFrame):
            raise LocateInputError(f"registers[{i}] is a {type(f).__name__}, not a DataFrame from load_register")
        missing = [c for c in need if c not in f.columns]
        if missing:
            raise LocateInputError(f"registers[{i}] lacks column(s) {', '.join(missing)}: read it with load_register")
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in REGISTER_COLUMNS})
    reg = pd.concat([f.reindex(columns=list(REGISTER_COLUMNS)) for f in frames], ignore_index=True)
    return reg.astype({c: "string" for c in REGISTER_COLUMNS if c != "row"}).astype({"row": "Int64"})


def _match_table(reg: pd.DataFrame) -> pd.DataFrame:
    """Register rows by matching key: the name's key and each alias's key."""
    base = reg.assign(mkey=reg["key"], via=pd.NA)
    al = reg[reg["aliases"].notna()]
    if al.empty:
        t = base
    else:
        ex = al.assign(via=al["aliases"].str.split(";")).explode("via")
        ex = ex[ex["via"].notna() & (ex["via"].str.strip() != "")]
        ex["via"] = ex["via"].str.strip()
        ex["mkey"] = normalize_names(ex["via"]).set_axis(ex.index)
        t = pd.concat([base, ex], ignore_index=True)
    t = t[t["mkey"].notna() & (t["mkey"] != "")]
    return t.drop_duplicates(["mkey", "register", "row"]).reset_index(drop=True)


def locate(
    parties: pd.DataFrame,
    registers: pd.DataFrame | Sequence[pd.DataFrame],
    *,
    accept: Iterable[str] = (),
    fuzzy_min: float = 90,
    roles: tuple[str, ...] = ("applicant", "assignee"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill the place of applicants and assignees from their group, registers and names.

    Parameters
    ----------
    parties : DataFrame
        Canonical ``parties`` rows (at least ``pub_id``, ``role``, ``name_raw``; ``name_norm``,
        ``name_std``, ``country``, ``province``, ``city``, ``district``, ``address_raw``,
        ``located_by``, ``location_match``, ``location_score`` are used when present and
        added when absent). Rows of other roles pass through untouched. Places set by an
        earlier run of this function (``located_by`` other than ``address``) are recomputed.
    registers : DataFrame or sequence of DataFrames
        From :func:`load_register`.
    accept : iterable of str
        Register names (as written or normalised) the analyst accepts as fuzzy matches.
    fuzzy_min : float
        Smallest :func:`rapidfuzz.fuzz.ratio` (0–100) of normalised names to report.
    roles : tuple of str
        Roles located.

    Returns
    -------
    (parties, groups) : (DataFrame, DataFrame)
        ``parties`` in the input's row order with ``province``, ``city``, ``district``,
        ``located_by`` (a :data:`ROUTES` value, or ``fuzzy`` for a suggestion that placed
        nothing), ``location_match`` (the address, register name, or place words that
        located the row) and ``location_score`` (1.0 exact, ratio / 100 fuzzy) filled; a
        null ``country`` becomes ``CN`` where a Chinese place was found. ``groups``: one
        row per applicant group, columns :data:`GROUP_COLUMNS` — ``role`` the roles seen
        (``;``-joined), ``candidates`` the register rows of an ambiguous match or the fuzzy
        suggestions (``name: place (register:row) score``, ``; ``-joined), ``note`` what was
        refused and why; sorted by ``n_patents`` (descending) then ``group``.

    Raises
    ------
    LocateInputError
        A required column is missing or ``fuzzy_min`` is not in (0, 100].

    Examples
    --------
    >>> reg = pd.DataFrame({"name": ["甲科技有限公司"], "key": ["甲科技"], "province": ["重庆市"],
    ...     "city": ["重庆市"], "district": ["江北区"], "register": ["r"], "row": [0]})
    >>> parties = pd.DataFrame({"pub_id": ["CN1A", "CN2A", "CN2A"], "role": ["applicant"] * 3,
    ...     "seq": [0, 0, 1], "name_raw": ["甲科技有限公司", "重庆乙有限公司", "丙公司"]})
    >>> out, groups = locate(parties, reg)
    >>> out[["province", "district", "located_by"]].values.tolist()
    [['重庆市', '江北区', 'register'], ['重庆市', <NA>, 'name'], [<NA>, <NA>, <NA>]]
    """
    for c in ("pub_id", "role", "name_raw"):
        if c not in parties.columns:
            raise LocateInputError(f"parties lacks column {c!r}")
    if not (isinstance(fuzzy_min, int | float) and 0 < fuzzy_min <= 100):
        raise LocateInputError(f"fuzzy_min must be in (0, 100], got {fuzzy_min!r}")
    reg = _registers(registers)
    out = parties.copy()
    for c in ("name_norm", "name_std", "country", *LEVELS, "address_raw", "located_by", "location_match"):
        out[c] = _str(out[c]) if c in out else pd.Series(pd.NA, index=out.index, dtype="string")
    out["location_score"] = (out["location_score"].astype("Float64") if "location_score" in out
                             else pd.Series(pd.NA, index=out.index, dtype="Float64"))

    sel = out["role"].isin(roles).fillna(False).astype(bool) & _str(out["name_raw"]).notna()
    ours = sel & out["located_by"].notna() & out["located_by"].ne("address").fillna(True)
    out.loc[ours, [*LEVELS, "located_by", "location_match"]] = pd.NA
    out.loc[ours, "location_score"] = pd.NA

    p = out.loc[sel, ["pub_id", "role", "name_raw", "name_norm", "name_std", "country", *LEVELS, "address_raw"]]
    p = p.assign(gk=group_keys(p))
    p = p[p["gk"].notna() & (p["gk"] != "")]
    own = p[list(LEVELS)].notna().any(axis=1)
    p["zone"] = _zones(p["address_raw"]).where(own)

    # ---- group table skeleton
    names = _top(p, "gk", "name_raw")
    g = pd.DataFrame(index=pd.Index(sorted(p["gk"].unique()), name="gk", dtype="string"))
    g["name"] = names.reindex(g.index)
    g["role"] = join_by(p["gk"], p["role"], ";").reindex(g.index).astype("string")
    g["n_patents"] = p.groupby("gk")["pub_id"].nunique().reindex(g.index).astype("Int64")
    g["country"] = _top(p, "gk", "country").reindex(g.index)
    for c in (*LEVELS, "zone", "r_province", "r_city", "r_district", "m_group", "m_register", "m_name",
              "m_fuzzy", "candidates", "note"):
        g[c] = pd.Series(pd.NA, index=g.index, dtype="string")
    g["s_fuzzy"] = pd.Series(pd.NA, index=g.index, dtype="Float64")

    # ---- (a)+(b) the group's own records: hierarchical most frequent place
    po = p[own]
    if not po.empty:
        place = pd.DataFrame(index=g.index, columns=[*LEVELS, "zone"], dtype="string")
        place["province"] = _top(po, "gk", "province").reindex(g.index)
        m = po[po["province"].eq(place["province"].reindex(po["gk"]).to_numpy()).fillna(False)]
        place["city"] = _top(m, "gk", "city").reindex(g.index)
        m = m[m["city"].eq(place["city"].reindex(m["gk"]).to_numpy()).fillna(False)]
        place["district"] = _top(m, "gk", "district").reindex(g.index)
        same = po[_compatible(po[list(LEVELS)], place.reindex(po["gk"]).set_axis(po.index))]
        place["zone"] = _top(same, "gk", "zone").reindex(g.index)
        _fill(g, place, "group", match=_top(same, "gk", "address_raw"))

    # ---- (c) registers: exact key of the group or of any of its raw names
    no_norm = p["name_norm"].isna()
    q = pd.concat([
        pd.DataFrame({"gk": g.index, "qkey": g.index}),
        pd.DataFrame({"gk": p["gk"].to_numpy(), "qkey": p["name_norm"].to_numpy()}),
        pd.DataFrame({"gk": p.loc[no_norm, "gk"].to_numpy(),
                      "qkey": normalize_names(p.loc[no_norm, "name_raw"]).to_numpy()}),
    ]).dropna().drop_duplicates()
    q = q[q["qkey"] != ""].astype("string")
    mt = _match_table(reg) if len(reg) else None
    reg_hit = pd.Series(False, index=g.index)
    if mt is not None:
        hits = q.merge(mt, left_on="qkey", right_on="mkey").drop_duplicates(["gk", "register", "row"])
        hits = hits.sort_values(["gk", "register", "row"], kind="stable")
        if not hits.empty:
            reg_hit = _member(pd.Series(g.index), hits["gk"]).set_axis(g.index)
            agree = _agree(hits, "gk")
            firsts = hits.drop_duplicates("gk").set_index("gk")
            n = hits.groupby("gk").size()
            match = (firsts["name"] + " (" + firsts["register"] + ":" + firsts["row"].astype("string") + ")").where(
                n.reindex(firsts.index) == 1,
                firsts["name"] + " (" + n.reindex(firsts.index).astype("string") + " register rows)")
            _fill(g, agree, "register", match=match)
            amb = agree.index[agree["conflict"].notna()]
            if len(amb):
                h = hits[_member(hits["gk"], amb)]
                desc = join_by(h["gk"], _describe(h), "; ", sort=False)
                g.loc[amb, "candidates"] = desc.reindex(amb).astype("string")
                _add_note(g, amb, "register rows disagree on " + agree.loc[amb, "conflict"])

    # ---- (d) places written in the applicant's own names
    need = g.index[g["district"].isna()]
    if len(need):
        nm = p.loc[_member(p["gk"], need), ["gk", "name_raw"]].drop_duplicates()
        found = name_places(nm["name_raw"]).set_axis(nm.index)
        nm = pd.concat([nm, found], axis=1)
        nm = nm[nm["province"].notna()]
        if not nm.empty:
            agree = _agree(nm.assign(zone=pd.NA), "gk")
            ev = join_by(nm["gk"], nm["evidence"]).astype("string")
            _fill(g, agree.drop(columns="zone").assign(zone=pd.NA), "name", match=ev)

    # ---- (e) fuzzy suggestions for groups no register row carries
    cn = g["country"].isna() | g["country"].eq("CN").fillna(False)
    need = g.index[g["district"].isna() & ~reg_hit & cn]
    if len(need) and mt is not None:
        _fuzzy_route(g, q[_member(q["gk"], need)], mt, accept, fuzzy_min)

    # ---- apply to rows
    finest = np.select(
        [g["district"].notna(), g["city"].notna(), g["province"].notna()],
        [g["r_district"], g["r_city"], g["r_province"]], None)
    g["route"] = pd.Series(finest, index=g.index, dtype="string")
    M = g.reindex(p["gk"]).set_axis(p.index)
    own_lv = p[list(LEVELS)]
    comp = _compatible(own_lv, M)
    new = own_lv.copy()
    src = {}
    for lvl in LEVELS:
        take = own_lv[lvl].isna() & M[lvl].notna() & comp
        new[lvl] = own_lv[lvl].where(~take, M[lvl])
        src[lvl] = pd.Series(np.where(own_lv[lvl].notna(), "address",
                                      np.where(take, M[f"r_{lvl}"].fillna(""), "")), index=p.index)
    row_route = np.select([new["district"].notna(), new["city"].notna(), new["province"].notna()],
                          [src["district"], src["city"], src["province"]], "")
    row_route = pd.Series(row_route, index=p.index, dtype="string").replace("", pd.NA)
    suggest = row_route.isna() & M["m_fuzzy"].notna()
    row_route[suggest] = "fuzzy"
    matches = {"group": M["m_group"], "register": M["m_register"], "name": M["m_name"],
               "fuzzy_accepted": M["m_fuzzy"], "fuzzy": M["m_fuzzy"]}
    match = pd.Series(pd.NA, index=p.index, dtype="string")
    score = pd.Series(pd.NA, index=p.index, dtype="Float64")
    for route, m in matches.items():
        w = row_route.eq(route).fillna(False)
        match[w] = m[w]
        score[w] = M.loc[w, "s_fuzzy"] if route.startswith("fuzzy") else 1.0
    is_addr = row_route.eq("address").fillna(False)
    match[is_addr] = out.loc[is_addr[is_addr].index, "location_match"].fillna(p.loc[is_addr, "address_raw"])
    score[is_addr] = out.loc[is_addr[is_addr].index, "location_score"].fillna(1.0)

    idx = p.index
    for lvl in LEVELS:
        out.loc[idx, lvl] = new[lvl]
    out.loc[idx, "located_by"] = row_route
    out.loc[idx, "location_match"] = match
    out.loc[idx, "location_score"] = score
    placed = row_route.notna() & ~row_route.isin(["address", "fuzzy"]).fillna(False)
    fill_cn = placed & out.loc[idx, "country"].isna() & new["province"].notna()
    out.loc[fill_cn[fill_cn].index, "country"] = "CN"

    # ---- groups table
    used_group = row_route.eq("group").fillna(False).groupby(p["gk"]).any().reindex(g.index).fillna(False)
    located_by = g["route"].copy()
    own_route = located_by.eq("group").fillna(False)
    located_by[own_route & ~used_group.astype(bool)] = "address"
    located_by[located_by.isna() & g["m_fuzzy"].notna()] = "fuzzy"
    g["located_by"] = located_by
    lm = pd.Series(pd.NA, index=g.index, dtype="string")
    ls = pd.Series(pd.NA, index=g.index, dtype="Float64")
    for route, col in (("address", "m_group"), ("group", "m_group"), ("register", "m_register"),
                       ("name", "m_name"), ("fuzzy_accepted", "m_fuzzy"), ("fuzzy", "m_fuzzy")):
        w = located_by.eq(route).fillna(False)
        lm[w] = g.loc[w, col]
        ls[w] = g.loc[w, "s_fuzzy"] if route.startswith("fuzzy") else 1.0
    g["location_match"], g["location_score"] = lm, ls
    groups = g.reset_index().rename(columns={"gk": "group"})
    groups = groups.sort_values(["n_patents", "group"], ascending=[False, True], kind="stable")
    groups = groups[list(GROUP_COLUMNS)].reset_index(drop=True)
    groups = groups.astype({c: "string" for c in GROUP_COLUMNS if c not in ("location_score", "n_patents")})
    return out, groups


# --------------------------------------------------------------------------- counts
def _region_levels(region) -> tuple[str | None, str | None, str | None]:
    if isinstance(region, Mapping):
        vals = tuple(region.get(k) for k in LEVELS)
    elif isinstance(region, tuple | list):
        vals = tuple(region) + (None,) * (3 - len(region))
        if len(vals) != 3:
            raise LocateInputError(f"region must be (province, city, district), got {region!r}")
    elif all(hasattr(region, k) for k in LEVELS):
        vals = tuple(getattr(region, k) for k in LEVELS)
    else:
        raise LocateInputError(
            f"region must be a Region, a mapping or a (province, city, district) tuple, got {region!r}")
    vals = tuple(None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else str(v)
                 for v in vals)
    if vals[0] is None:
        raise LocateInputError(f"region {region!r} names no province: route counts need a province or finer")
    return vals


def route_counts(groups: pd.DataFrame, region) -> pd.DataFrame:
    """How the applicant groups of a region were located.

    A route row counts the groups located in ``region`` at district level by that route
    (for a province or city region: any district of it). ``unlocated`` counts the groups
    whose province is the region's (and city not another) but whose district is unknown:
    they may or may not be in the region. A group placed only by a fuzzy suggestion has no
    province and is in no row.

    Parameters
    ----------
    groups : DataFrame
        The groups table of :func:`locate`.
    region : Region, mapping or tuple
        A :class:`pipeline.places.Region`, a mapping with ``province``, ``city``,
        ``district``, or a tuple ``(province, city, district)`` (full names; trailing
        levels may be None).

    Returns
    -------
    DataFrame
        ``route`` (:data:`ROUTES` then ``unlocated``), ``groups``, ``patents`` (sum of the
        groups' ``n_patents``: a patent with two groups counts twice).

    Examples
    --------
    >>> g = pd.DataFrame({"located_by": ["register", "name", "name", None],
    ...     "province": ["重庆市", "重庆市", "重庆市", None], "city": ["重庆市"] * 3 + [None],
    ...     "district": ["江北区", "江北区", None, None], "n_patents": [3, 1, 2, 5]})
    >>> route_counts(g, ("重庆市", "重庆市", "江北区")).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['address', 0, 0], ['group', 0, 0], ['register', 1, 3], ['name', 1, 1],
     ['fuzzy_accepted', 0, 0], ['unlocated', 1, 2]]
    """
    for c in ("located_by", *LEVELS, "n_patents"):
        if c not in groups.columns:
            raise LocateInputError(f"groups lacks column {c!r}: pass the groups table of locate()")
    prov, city, dist = _region_levels(region)
    g = groups
    in_prov = g["province"].eq(prov).fillna(False)
    if city:
        in_prov &= (g["city"].isna() | g["city"].eq(city)).fillna(False)
    in_region = in_prov & g["district"].notna()
    if city:
        in_region &= g["city"].eq(city).fillna(False)
    if dist:
        in_region &= g["district"].eq(dist).fillna(False)
    unknown = in_prov & g["district"].isna()
    n = pd.to_numeric(g["n_patents"], errors="coerce").fillna(0).astype(int)
    rows = []
    for route in ROUTES:
        w = in_region & g["located_by"].eq(route).fillna(False)
        rows.append((route, int(w.sum()), int(n[w].sum())))
    rows.append(("unlocated", int(unknown.sum()), int(n[unknown].sum())))
    return pd.DataFrame(rows, columns=["route", "groups", "patents"])
