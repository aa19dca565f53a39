"""Normalisation of identifiers, dates, classification symbols, names and addresses.

Every function here is pure and vectorised over a :class:`pandas.Series` (work is done
once per distinct value, then mapped back), so the same functions serve one file, a
whole national database, or a Dask partition.

Canonical forms (DOMAIN.md §4):

* publication numbers: ``CC`` + number + kind, no spaces — ``US8418361B2``,
  ``USD656296S1``, ``US2010018287A1`` (US pre-grant publications in the 4+6-digit
  DOCDB form), ``WO2019123456A1``, ``EP0123456B1``, ``CN112345678A``;
  ``doc_key`` is the same without the kind code and is what citations resolve on;
* CN application numbers: ``CN`` + 12 digits + ``.`` + check digit
  (``CN202010123456.7``), older 8-digit ones ``CN97123456.X``;
* IPC/CPC symbols: ``H01M10/0525`` (subclass, main group without leading zeros,
  ``/``, subgroup with at least two digits); a bare subclass stays ``H01M``.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "map_unique",
    "extract_groups",
    "to_halfwidth",
    "collapse_whitespace",
    "strip_controls",
    "show_controls",
    "normalize_pub_numbers",
    "normalize_app_numbers",
    "cn_check_digit",
    "patent_types",
    "parse_dates",
    "normalize_ipc",
    "ipc_subclass",
    "ipc_main_group",
    "uspto_ipc7_symbol",
    "split_multi",
    "normalize_names",
    "party_types",
    "neutralize_formula",
    "country_codes",
    "province_from_code",
]


def map_unique(s: pd.Series, fn: Callable, dtype="string") -> pd.Series:
    """Apply ``fn`` once per distinct non-null value of ``s`` and map the results back."""
    s = pd.Series(s, copy=False)
    # Codes index the distinct values; one slot past them (code -1) holds the null.
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    done = np.empty(len(uniq) + 1, dtype=object)
    done[:-1] = [fn(v) for v in uniq.to_numpy(dtype=object)]  # Arrow values one by one are slow
    done[-1] = None
    return pd.Series(done[codes], index=s.index, copy=False).astype(dtype)


def extract_groups(s: pd.Series, pattern: str | re.Pattern) -> pd.DataFrame:
    """Named groups of ``pattern`` matched in each value; equal to ``s.astype("string").str.extract(pattern)``.

    Plain ASCII values are matched by RE2 (pyarrow) in one pass; values with non-ASCII or
    control characters go through Python's ``re``, whose ``\\d`` and ``\\s`` reach beyond
    ASCII and whose ``$`` also matches before a final line feed. No group of ``pattern`` may
    match empty text (RE2 gives an unmatched group as empty text, taken here as null).

    Examples
    --------
    >>> extract_groups(pd.Series(["CN12A", "CN１２", "x", None]), r"^(?P<cc>[A-Z]{2})(?P<num>\\d+)(?P<kind>[A-Z])?$").values.tolist()
    [['CN', '12', 'A'], ['CN', '１２', <NA>], [<NA>, <NA>, <NA>], [<NA>, <NA>, <NA>]]
    """
    rx = re.compile(pattern)
    text = pd.Series(s, copy=False).astype("string")
    arr = pa.array(text.array)
    safe = pc.and_(pc.string_is_ascii(arr), pc.invert(pc.match_substring_regex(arr, r"[\x00-\x1f\x7f]")))
    safe = pc.fill_null(safe, False).to_numpy(zero_copy_only=False)
    got = pc.extract_regex(arr, rx.pattern)
    names = sorted(rx.groupindex, key=rx.groupindex.get)
    cols = {}
    for name in names:
        part = pc.struct_field(got, name)
        cols[name] = pc.if_else(pc.equal(part, ""), pa.scalar(None, part.type), part)
    out = pd.DataFrame({n: pd.array(c, dtype="string") for n, c in cols.items()}, index=text.index)
    rest = ~safe & text.notna().to_numpy(dtype=bool)
    if rest.any():
        out.loc[rest, names] = text[rest].str.extract(rx).astype("string")
    return out.astype("string")


# Every character Python's ``str.split()`` (and ``re``'s ``\\s``) takes as whitespace except the
# plain space, spelled out for RE2, whose ``\\s`` is ASCII only.
_RE2_SPACE = "\t\n\x0b\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NEEDS_COLLAPSE = f"[{_RE2_SPACE}]|  |^ | $"


def collapse_whitespace(s: pd.Series) -> pd.Series:
    """Runs of whitespace as one space, ends stripped; empty text as null.

    Equal to ``s.str.replace(r"\\s+", " ", regex=True).str.strip()``; only the values
    that need it are rewritten (found by one RE2 pass), as most exported text is clean.

    Examples
    --------
    >>> collapse_whitespace(pd.Series([" a \\n b ", "c\\u3000d", "e", "  ", None])).tolist()
    ['a b', 'c d', 'e', <NA>, <NA>]
    """
    text = pd.Series(s, copy=False).astype(pd.StringDtype("pyarrow"))
    need = pc.match_substring_regex(pa.array(text.array), _NEEDS_COLLAPSE)
    need = pc.fill_null(need, False).to_numpy(zero_copy_only=False)
    out = text.copy()
    if need.any():
        idx = need.nonzero()[0]
        out.iloc[idx] = [" ".join(v.split()) for v in text.iloc[idx].tolist()]
    return out.where(out != "").astype("string")


# Control characters other than tab, line feed and carriage return: C0, DEL and C1. XML 1.0
# forbids most of them, so a NUL in a title breaks every XLSX / XML writer downstream.
# Written with \\x escapes, which Python's re and RE2 (pyarrow) read alike.
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
# Those that Python counts as whitespace become a space (a unit separator between two
# words must not glue them); the others are removed.
_CONTROL_SPACES = r"[\x0b\x0c\x1c-\x1f\x85]"
_CONTROL_RE = re.compile(CONTROL_CHARS)


def strip_controls(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Control characters out of text values; non-text values (dates, numbers) untouched.

    Returns
    -------
    cleaned : Series
        ``s`` with :data:`CONTROL_CHARS` removed (whitespace-like ones as a space).
    changed : ndarray of bool
        Which values held one.

    Examples
    --------
    >>> out, changed = strip_controls(pd.Series(["a\\x00b", "c\\x1fd", "ok", None, 5], dtype=object))
    >>> out.tolist(), changed.tolist()
    (['ab', 'c d', 'ok', None, 5], [True, True, False, False, False])
    """
    s = pd.Series(s, copy=False)
    if isinstance(s.dtype, pd.StringDtype):
        found = s.str.contains(CONTROL_CHARS, regex=True)
        changed = found.fillna(False).to_numpy(dtype=bool)
        if not changed.any():
            return s, changed
        out = s.copy()
        fixed = s[changed].str.replace(_CONTROL_SPACES, " ", regex=True).str.replace(CONTROL_CHARS, "", regex=True)
        out[changed] = fixed
        return out, changed
    if s.dtype != object:
        return s, np.zeros(len(s), dtype=bool)
    texts = [v for v in s.to_numpy() if isinstance(v, str)]
    # One C-speed search over the whole column first: most columns hold no control at all.
    if not texts or not _CONTROL_RE.search("\n".join(texts)):
        return s, np.zeros(len(s), dtype=bool)
    changed = np.fromiter((isinstance(v, str) and _CONTROL_RE.search(v) is not None for v in s.to_numpy()),
                          dtype=bool, count=len(s))
    out = s.copy()
    out[changed] = [_CONTROL_RE.sub("", re.sub(_CONTROL_SPACES, " ", v)) for v in s[changed]]
    return out, changed


def show_controls(text: str) -> str:
    """``text`` with each control character written as an escape (``\\x00``), for reports.

    Examples
    --------
    >>> show_controls("a\\x00b")
    'a\\\\x00b'
    """
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def to_halfwidth(text: str) -> str:
    """Full-width to half-width, compatibility forms folded (NFKC), spaces collapsed."""
    # ASCII is its own NFKC form; NFKC turns U+3000 into a space, and ``split()`` takes the
    # same whitespace as ``re``'s ``\\s`` (so this equals ``re.sub(r"\\s+", " ", t).strip()``).
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


# --------------------------------------------------------------------------- numbers
_PUB_RE = re.compile(
    r"^(?P<cc>[A-Z]{2})[\s\-]*"
    r"(?P<num>(?:RE|PP|D|H|T|S)?[\d][\d\s/,.\-]*?)"
    r"[\s\-]*(?P<kind>[A-Z]\d?)?$"
)
_ALNUM_RE = re.compile(r"^(?P<cc>[A-Z]{2})\s+(?P<num>[A-Z0-9][A-Z0-9/.\-]*\d[A-Z0-9/.\-]*)\s+(?P<kind>[A-Z]\d?)$")
# Letters inside the number, written without spaces (BRPI0712345A2, IN1442CH2015A,
# TWI624754 — a Taiwanese invention patent without kind code).
_ALNUM_TIGHT_RE = re.compile(r"^(?P<cc>[A-Z]{2})(?P<num>[A-Z0-9]*?\d)(?P<kind>[A-Z]\d?)?$")
_NUM_ONLY_RE = re.compile(r"^(?P<num>(?:RE|PP|D|H|T)?\d[\d\s/,.\-]*?)[\s\-]*(?P<kind>[A-Z]\d?)?$")


def _canon_number(cc: str, num: str) -> str | None:
    prefix = re.match(r"^[A-Z]*", num).group(0)
    body = num[len(prefix):]
    if cc == "WO":
        m = re.match(r"^(\d{2}|\d{4})\s*/\s*(\d+)$", body)
        if m:
            year, serial = m.groups()
            if len(year) == 2:
                year = ("19" if int(year) >= 78 else "20") + year
            return f"{year}{int(serial):06d}"
    digits = re.sub(r"[\s/,.\-]", "", body)
    if not digits.isdigit():
        return None
    if cc == "US":
        if not prefix and len(digits) == 11 and digits[:2] in ("19", "20") and digits[4] == "0":
            return digits[:4] + digits[5:]  # US 2010/0018287 -> US2010018287 (DOCDB)
        return prefix + (digits.lstrip("0") or "0")
    if cc == "EP":
        return prefix + digits.lstrip("0").rjust(7, "0")
    if cc in ("CN", "WO", "JP", "KR", "TW"):
        return prefix + digits
    return prefix + (digits.lstrip("0") or "0")


def _split_pub(raw: str, country: str | None, kind: str | None) -> tuple | None:
    text = to_halfwidth(raw).upper()
    text = re.sub(r"\s+\d{8}$", "", text)  # Lens: amended EP "EP 0259054 B9 20031217"
    # With the country given apart, "RE045123" is a number, not country "RE".
    m = None if country and not text.startswith(country.upper()) else _PUB_RE.match(text)
    alnum = _ALNUM_RE.match(text) or (None if m else _ALNUM_TIGHT_RE.match(text))
    if m:
        cc, num, k = m.group("cc"), m.group("num"), m.group("kind")
    elif alnum and (not country or alnum.group("cc") == country.upper()):
        # Offices with letters inside the number (IN 1442CH2015 A, TW M415289 U,
        # IT PI20130081 A1, AU PO505497 D0): kept as written, separators removed.
        cc, k = alnum.group("cc"), alnum.group("kind")
        body = re.sub(r"[\s/,.\-]", "", alnum.group("num"))
        return (f"{cc}{body}{k or ''}", f"{cc}{body}", cc, body, k)
    else:
        m = _NUM_ONLY_RE.match(text)
        if not m or not country:
            return None
        cc, num, k = country.upper(), m.group("num"), m.group("kind")
    if kind and not k:
        k = to_halfwidth(kind).upper().replace(" ", "")
    number = _canon_number(cc, num.strip())
    if not number:
        return None
    k = k or None
    return (f"{cc}{number}{k or ''}", f"{cc}{number}", cc, number, k)


def normalize_pub_numbers(
    raw: pd.Series, country: pd.Series | None = None, kind: pd.Series | None = None
) -> pd.DataFrame:
    """Canonical publication numbers from any common spelling.

    Parameters
    ----------
    raw : Series of str
        Numbers as written: ``"US 2010/0018287 A1"``, ``"D0656308"``, ``"CN112345678A"``.
    country, kind : Series of str, optional
        Country and kind given in separate fields (USPTO XML, PatentsView); used when
        ``raw`` lacks them.

    Returns
    -------
    DataFrame
        Columns ``pub_id``, ``doc_key``, ``country``, ``pub_number``, ``kind``; all null
        where ``raw`` is not a recognisable publication number.

    Examples
    --------
    >>> normalize_pub_numbers(pd.Series(["US 2010/0018287 A1", "WO 97/12345"])).pub_id.tolist()
    ['US2010018287A1', 'WO1997012345']
    """
    raw = pd.Series(raw, dtype="string").reset_index(drop=True)
    n = len(raw)
    cc = pd.Series(country, dtype="string").reset_index(drop=True) if country is not None else pd.Series([None] * n, dtype="string")
    kd = pd.Series(kind, dtype="string").reset_index(drop=True) if kind is not None else pd.Series([None] * n, dtype="string")
    cols = ["pub_id", "doc_key", "country", "pub_number", "kind"]
    # Filled as object arrays and converted once: per-column .loc assignment and a
    # Series built from a list of n nulls cost more than the parsing itself.
    out = {c: np.full(n, None, dtype=object) for c in cols}
    # Fast path, vectorised: the common spelling "CC" + digits + kind (CN110298449A), with
    # no country given apart or the same one. Everything else goes value by value.
    m = extract_groups(raw, _FAST_PUB_RE)
    fast = m["cc"].notna() & (cc.isna() | (cc == m["cc"])).fillna(False) & (m["kind"].notna() | kd.isna()).fillna(False)
    fast = fast.to_numpy(dtype=bool)
    if fast.any():
        f = m[fast]
        number = _canon_digits(f["cc"], f["num"])
        doc = f["cc"] + number
        out["pub_id"][fast] = (doc + f["kind"].fillna("")).to_numpy()
        out["doc_key"][fast] = doc.to_numpy()
        out["country"][fast] = f["cc"].to_numpy()
        out["pub_number"][fast] = number.to_numpy()
        out["kind"][fast] = f["kind"].to_numpy()
    # Second fast path: digits alone with the country (and kind) given apart, as USPTO XML
    # and PatentsView cite; the value-by-value rules give the same for them.
    apart = (~fast & raw.str.fullmatch(r"[0-9]+").fillna(False).to_numpy(dtype=bool)
             & cc.str.fullmatch(r"[A-Z]{2}").fillna(False).to_numpy(dtype=bool)
             & (kd.isna() | kd.str.fullmatch(r"[A-Z][0-9]?")).fillna(False).to_numpy(dtype=bool))
    if apart.any():
        c, k = cc[apart], kd[apart]
        number = _canon_digits(c, raw[apart])
        doc = c + number
        out["pub_id"][apart] = (doc + k.fillna("")).to_numpy()
        out["doc_key"][apart] = doc.to_numpy()
        out["country"][apart] = c.to_numpy()
        out["pub_number"][apart] = number.to_numpy()
        out["kind"][apart] = k.to_numpy()
        fast = fast | apart
    slow = ~fast & raw.notna().to_numpy(dtype=bool)
    if slow.any():
        keys = pd.DataFrame({"r": raw[slow], "c": cc[slow], "k": kd[slow]})
        uniq = keys.drop_duplicates()
        parsed = {
            (r, c, k): _split_pub(r, None if pd.isna(c) else c, None if pd.isna(k) else k)
            for r, c, k in uniq.itertuples(index=False, name=None)
        }
        rows = [parsed.get((r, c, k)) or (None,) * 5 for r, c, k in keys.itertuples(index=False, name=None)]
        for j, c in enumerate(cols):
            out[c][slow] = [row[j] for row in rows]
    return pd.DataFrame({c: pd.Series(v, dtype="string") for c, v in out.items()})


# Upper-case ASCII "CC" + digits + optional kind, nothing else: the spelling of nearly every
# number in exports and citation lists, taken without per-value Python work.
_FAST_PUB_RE = r"^(?P<cc>[A-Z]{2})(?P<num>\d+)(?P<kind>[A-Z]\d?)?$"


def _canon_digits(cc: pd.Series, digits: pd.Series) -> pd.Series:
    """:func:`_canon_number` for digit-only numbers, vectorised (same rules)."""
    out = digits.copy()
    stripped = digits.str.lstrip("0").replace("", "0")
    def mask(s):
        return s.fillna(False).to_numpy(dtype=bool)

    us = mask(cc == "US")
    docdb = us & mask(digits.str.len() == 11) & mask(digits.str[:2].isin(["19", "20"])) & mask(digits.str[4] == "0")
    keep = mask(cc.isin(["CN", "WO", "JP", "KR", "TW"]))
    ep = mask(cc == "EP")
    other = ~keep & ~ep & ~docdb
    out[other] = stripped[other]
    out[docdb] = (digits.str[:4] + digits.str[5:])[docdb]
    out[ep] = digits.str.lstrip("0").str.rjust(7, "0")[ep]
    return out


_CN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9)


def cn_check_digit(digits: str) -> str:
    """Check digit of a CN application number body (8 or 12 digits).

    The digits are weighted 2,3,4,5,6,7,8,9,2,3,4,5 …, summed, and taken modulo 11;
    a remainder of 10 is written ``X`` (CNIPA 《专利申请号标准》 ZC 0006-2003).

    Examples
    --------
    >>> cn_check_digit("201710601862")  # CN201710601862.3
    '3'
    """
    total = sum(int(d) * _CN_WEIGHTS[i % 8] for i, d in enumerate(digits))
    r = total % 11
    return "X" if r == 10 else str(r)


@lru_cache(maxsize=1 << 18)  # applicants and numbers recur across batches
def _canon_app(raw: str, country: str | None) -> tuple[str | None, str | None]:
    """Return (canonical number, problem) for one application number."""
    text = to_halfwidth(raw).upper().replace(" ", "")
    text = re.sub(r"^(ZL|CN)(?=\d)", "CN", text)
    m = re.match(r"^(CN)?(\d{12}|\d{8})\.?([\dX])?$", text)
    bare_cn = country in (None, "CN") and m is not None and m.group(3) is not None
    if m and (m.group(1) or country == "CN" or bare_cn):
        body, check = m.group(2), m.group(3)
        expected = cn_check_digit(body)
        if check is not None and check != expected:
            return None, f"CN check digit {check} does not match computed {expected}"
        return f"CN{body}.{expected}", None
    m = re.match(r"^([A-Z]{2})?(.*)$", text)
    cc = m.group(1) or (country.upper() if country else None)
    body = re.sub(r"[\s/,.\-]", "", m.group(2))
    if not body or not cc:
        return None, "not an application number"
    if cc == "CN" and body.isdigit():
        return None, f"CN application number must have 8 or 12 digits, got {len(body)}"
    return f"{cc}{body}", None


def normalize_app_numbers(raw: pd.Series, country: pd.Series | str | None = None) -> pd.DataFrame:
    """Canonical application numbers; CN check digits validated.

    Returns
    -------
    DataFrame
        ``app_id`` (null when invalid) and ``problem`` (why it was refused, else null).

    Examples
    --------
    >>> normalize_app_numbers(pd.Series(["2017106018624", "CN 201710601862.3"])).values.tolist()
    [[<NA>, 'CN check digit 4 does not match computed 3'], ['CN201710601862.3', <NA>]]
    """
    raw = pd.Series(raw, dtype="string").reset_index(drop=True)
    if isinstance(country, pd.Series):
        cc = country.astype("string").reset_index(drop=True)
    else:
        cc = pd.Series([country] * len(raw), dtype="string")
    app = np.full(len(raw), None, dtype=object)
    prob = np.full(len(raw), None, dtype=object)
    # Fast path, vectorised, for the two spellings of nearly every export: CN numbers with
    # their check digit (CN201910593937.7) and other offices' "CC" + digits (US15950587).
    # Checked equal to the per-value rules in tests/ingest/test_normalize.py.
    cn = raw.str.extract(r"^(?P<cc>CN)?(?P<body>\d{12}|\d{8})\.(?P<check>[\dX])$")
    is_cn = (cn["body"].notna() & (cn["cc"].notna() | cc.isna() | (cc == "CN"))).fillna(False).to_numpy(dtype=bool)
    if is_cn.any():
        body, check = cn.loc[is_cn, "body"], cn.loc[is_cn, "check"].to_numpy(dtype=object)
        expected = _cn_check_digits(body)
        good = check == expected
        app[is_cn] = np.where(good, "CN" + body.to_numpy(dtype=object) + "." + expected, None)
        prob[is_cn] = np.where(good, None, "CN check digit " + check + " does not match computed " + expected)
    other = raw.str.fullmatch(r"(?!CN|ZL)[A-Z]{2}\d+").fillna(False).to_numpy(dtype=bool) & ~is_cn
    app[other] = raw[other].to_numpy(dtype=object)
    slow = ~is_cn & ~other
    pairs = {}
    for i, r, c in zip(np.flatnonzero(slow), raw[slow].tolist(), cc[slow].tolist()):
        if r is pd.NA or r is None or not str(r).strip():
            continue
        key = (r, c)
        if key not in pairs:
            pairs[key] = _canon_app(r, None if c is pd.NA else c)
        app[i], prob[i] = pairs[key]
    return pd.DataFrame({"app_id": app, "problem": prob}, dtype="string")


def _cn_check_digits(body: pd.Series) -> np.ndarray:
    """:func:`cn_check_digit` of many bodies at once (digit strings of one or more lengths)."""
    out = np.empty(len(body), dtype=object)
    values = body.to_numpy(dtype=object)
    lengths = body.str.len().to_numpy()
    for n in np.unique(lengths):
        rows = lengths == n
        digits = np.frombuffer("".join(values[rows]).encode("ascii"), dtype=np.uint8).reshape(-1, n) - 48
        weights = np.array([_CN_WEIGHTS[i % 8] for i in range(n)])
        r = (digits.astype(np.int64) @ weights) % 11
        out[rows] = np.where(r == 10, "X", r.astype(str))
    return out


def patent_types(country: pd.Series, kind: pd.Series, pub_number: pd.Series, app_id=None, hint=None) -> pd.Series:
    """Patent type (invention / utility_model / design / plant / other).

    CN: from the application number's type digit (1 invention, 2 utility model,
    3 design, 8/9 PCT entering China as invention / utility model) or else the kind
    code (A/B/C invention, U/Y utility model, S/D design). US: number prefix D design,
    PP plant, H statutory invention registration (other), otherwise invention. Elsewhere
    kind U/Y is a utility model. ``hint`` (a source's own type, already mapped to the
    canonical words) wins where given.
    """
    n = len(country)
    cc = pd.Series(country, dtype="string").reset_index(drop=True).fillna("")
    kd = pd.Series(kind, dtype="string").reset_index(drop=True).fillna("").str.upper()
    num = pd.Series(pub_number, dtype="string").reset_index(drop=True).fillna("")
    app = (pd.Series(app_id, dtype="string").reset_index(drop=True) if app_id is not None else pd.Series([None] * n, dtype="string")).fillna("")
    out = pd.Series("invention", index=range(n), dtype="string")
    k0 = kd.str[:1]
    out[k0.isin(["U", "Y"])] = "utility_model"
    cn = cc == "CN"
    out[cn & k0.isin(["S", "D"])] = "design"
    # CN application-number type digit: 5th digit of 12-digit bodies, 3rd of 8-digit ones.
    body = app.str.extract(r"^CN(\d+)\.", expand=False).fillna("")
    digit = np.where(body.str.len() == 12, body.str[4], np.where(body.str.len() == 8, body.str[2], ""))
    digit = pd.Series(digit, dtype="string")
    by_digit = digit.map({"1": "invention", "8": "invention", "2": "utility_model", "9": "utility_model", "3": "design"})
    use = cn & by_digit.notna()
    out[use] = by_digit[use]
    us = cc == "US"
    out[us & num.str.startswith("D")] = "design"
    out[us & num.str.startswith("PP")] = "plant"
    out[us & num.str.startswith("H")] = "other"
    out[us & k0.eq("S")] = "design"
    out[~cn & ~us & k0.eq("S")] = "design"
    if hint is not None:
        h = pd.Series(hint, dtype="string").reset_index(drop=True)
        out[h.notna()] = h[h.notna()]
    return out


# --------------------------------------------------------------------------- dates
_DATE_RE = re.compile(
    r"^\s*(?P<y>\d{4})(?:[-/.年]\s*(?P<m1>\d{1,2})[-/.月]\s*(?P<d1>\d{1,2})日?|(?P<m2>\d{2})(?P<d2>\d{2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
)


def parse_dates(raw: pd.Series, partial: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse dates in the forms patent sources use.

    Accepts ``20120327``, ``2012-03-27``, ``2012/3/27``, ``2012.03.27``,
    ``2012年3月27日``, a trailing time, datetime values (from XLSX cells) and Excel
    serial day numbers written as text (``43739`` → 2019-10-01; 20000–80000, i.e.
    1954–2119, counted from 1899-12-30 as Excel does).

    Parameters
    ----------
    raw : Series
    partial : bool
        Accept a zero month or day (``19870600`` in US citation lists) as the first
        of that month / year.

    Returns
    -------
    (dates, bad) : (Series of datetime64[s], Series of bool)
        ``bad`` is true where a value was given but is not a possible date (a reject
        reason for the caller, never an exception).

    Examples
    --------
    >>> d, bad = parse_dates(pd.Series(["20120327", "2012年3月7日", "20120231", None, "43739"]))
    >>> d.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2012-03-27', '2012-03-07', nan, nan, '2019-10-01'], [False, False, True, False, False])
    """
    s = pd.Series(raw).reset_index(drop=True)
    # A file holds far fewer distinct dates than records: parse each distinct value once.
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    if 0 < len(uniq) < 0.5 * len(s):
        d, b = _parse_dates(pd.Series(uniq, dtype=object), partial)
        d, b = d.to_numpy(), b.to_numpy()
        taken = np.where(codes >= 0, d[np.maximum(codes, 0)], np.datetime64("NaT", "s"))
        return (pd.Series(taken, dtype="datetime64[s]"),
                pd.Series(np.where(codes >= 0, b[np.maximum(codes, 0)], False), dtype=bool))
    return _parse_dates(s, partial)


def _parse_dates(s: pd.Series, partial: bool) -> tuple[pd.Series, pd.Series]:
    is_dt = s.map(lambda v: isinstance(v, datetime.date) and v is not pd.NaT).astype(bool)
    text = s.where(~is_dt).astype("string").str.strip()
    text = text.where(text != "")
    parts = extract_groups(text, _DATE_RE)
    y = pd.to_numeric(parts["y"], errors="coerce")
    m = pd.to_numeric(parts["m1"].fillna(parts["m2"]), errors="coerce")
    d = pd.to_numeric(parts["d1"].fillna(parts["d2"]), errors="coerce")
    if partial:
        m = m.where(m != 0, 1)
        d = d.where(d != 0, 1)
    ok = y.between(1800, 2100) & m.between(1, 12) & d.between(1, 31)
    frame = pd.DataFrame({"year": y.where(ok, 2000), "month": m.where(ok, 1), "day": d.where(ok, 1)})
    dates = pd.to_datetime(frame, errors="coerce").where(ok)
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5}(?:\.0+)?").fillna(False).astype(bool)), errors="coerce")
    serial = serial.where(serial.between(20_000, 80_000))
    if serial.notna().any():
        dates = dates.fillna(pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D"))
    if is_dt.any():
        dates[is_dt] = pd.to_datetime(s[is_dt].tolist(), errors="coerce")
    dates = dates.astype("datetime64[s]")
    given = text.notna() | is_dt
    bad = given & dates.isna()
    return dates, bad.astype(bool)


# --------------------------------------------------------------------------- IPC / CPC
_IPC_SLASH = re.compile(r"^([A-HY]\d{2}[A-Z])\s*0*(\d{1,4})\s*/\s*(\d{1,6})$")
_IPC_14 = re.compile(r"^([A-HY]\d{2}[A-Z])(\d{4})(\d{6})$")
_IPC_GROUP = re.compile(r"^([A-HY]\d{2}[A-Z])\s*0*(\d{1,4})$")
_IPC_SUBCLASS = re.compile(r"^([A-HY]\d{2}[A-Z])$")


def _subgroup(sub: str) -> str:
    sub = sub.rstrip("0")
    return sub.ljust(2, "0")


def _ipc_one(raw: str) -> str | None:
    text = to_halfwidth(raw).upper()
    text = re.sub(r"\(\d{4}\.\d{2}\)|\[\d{4}\.\d{2}\]", "", text)  # version marks
    text = re.sub(r"\s+[A-Z]{1,2}$", "", text.strip())  # trailing level/value flags ("I", "N")
    text = text.strip()
    if m := _IPC_SLASH.match(text):
        return f"{m.group(1)}{int(m.group(2))}/{_subgroup(m.group(3))}"
    if m := _IPC_14.match(text.replace(" ", "")):
        return f"{m.group(1)}{int(m.group(2))}/{_subgroup(m.group(3))}"
    if m := _IPC_GROUP.match(text):
        return f"{m.group(1)}{int(m.group(2))}/00"
    if m := _IPC_SUBCLASS.match(text):
        return m.group(1)
    return None


def normalize_ipc(raw: pd.Series) -> pd.Series:
    """Canonical IPC/CPC symbols; null where the value is not a symbol.

    Examples
    --------
    >>> normalize_ipc(pd.Series(["H01M 10/0525 (2010.01)", "H01M0010052500", "A63F2009/241", "H01M", "x"])).tolist()
    ['H01M10/0525', 'H01M10/0525', 'A63F2009/241', 'H01M', <NA>]
    """
    return map_unique(raw, _ipc_one)


def ipc_subclass(symbol: pd.Series) -> pd.Series:
    """The subclass (first four characters) of canonical symbols."""
    return pd.Series(symbol, dtype="string").str[:4]


def ipc_main_group(symbol: pd.Series) -> pd.Series:
    """The main group (``H01M10``) of canonical symbols; null for a bare subclass."""
    return pd.Series(symbol, dtype="string").str.extract(r"^([A-HY]\d{2}[A-Z]\d+)/", expand=False)


def uspto_ipc7_symbol(raw: str) -> str | None:
    """Convert USPTO's fixed-width IPC edition-7 field (``"F25D 2312"``) to ``F25D23/12``.

    The field is the subclass (4 characters), the main group right-aligned in 3, and
    the subgroup.
    """
    if raw is None:
        return None
    text = raw.rstrip()
    m = re.match(r"^([A-HY]\d{2}[A-Z])([ \d]{3})(\d{2,})$", text)
    if not m or not m.group(2).strip():
        return _ipc_one(raw)
    return f"{m.group(1)}{int(m.group(2))}/{_subgroup(m.group(3))}"


# --------------------------------------------------------------------------- multi-values
def split_multi(s: pd.Series, seps: str = r";;|;|；|\|") -> pd.Series:
    """Explode a multi-valued column; the index of each piece is its source row.

    Full-width separators are handled; empty pieces dropped; a ``seq`` (0-based order
    within its row) is the second index level.
    """
    pieces = pd.Series(s, dtype="string").str.split(seps, regex=True).explode()
    pieces = pieces.str.strip()
    pieces = pieces[pieces.notna() & (pieces != "")]
    seq = pieces.groupby(level=0).cumcount()
    pieces.index = pd.MultiIndex.from_arrays([pieces.index, seq.values], names=["row", "seq"])
    return pieces


# --------------------------------------------------------------------------- names
_CN_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "株式会社", "公司")
_PUNCT = re.compile(r"[\s,.;:'\"`()\[\]{}&+/\\\-_!?·、，。；：（）【】《》“”‘’]+")


@lru_cache(maxsize=1)
def _legal_terms() -> tuple[dict[str, list[tuple[int, int, list[str]]]], bool]:
    """Index cleanco's default legal-form terms by their last token.

    Returns
    -------
    by_last : dict
        Last normalised token -> ``(position, size, tokens)`` of every term ending in
        it, in cleanco's own term order (``position`` ascending).
    ascii_ok : bool
        Whether cleanco's normalisation of every ASCII character is plain
        ``str.lower`` (then an ASCII name splits into the same tokens before and after
        normalisation, and ``_basename`` may skip cleanco's per-character work).
    """
    from cleanco.clean import normalized, prepare_default_terms

    terms = prepare_default_terms()
    by_last: dict[str, list[tuple[int, int, list[str]]]] = {}
    for pos, (size, parts) in enumerate(terms):
        by_last.setdefault(parts[-1] if parts else "", []).append((pos, size, parts))
    # Guards for a future cleanco: an empty term or token would match in ways the
    # index cannot reproduce (``parts[-0:]`` is the whole list), and a non-trivial
    # ASCII mapping would make the ``str.lower`` shortcut wrong.
    ascii_ok = all(parts and all(parts) for _, parts in terms) and all(
        normalized(chr(c)) == chr(c).lower() for c in range(128)
    )
    return by_last, ascii_ok


def _basename(name: str) -> str:
    """``cleanco.basename(name)`` (suffixes only), same output, without its term scan.

    cleanco tries each of its ~300 terms in turn against the name's tail, normalising
    the name per character first; ~50 µs a call, and ``_name_one`` makes four or more
    calls per name. A term can only match if its last token equals the tail token, so
    for ASCII names only the few terms indexed under that token are tried, in cleanco's
    order and resuming after the last match exactly as its loop does. Other names go to
    cleanco itself.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    from cleanco.clean import basename, strip_punct, strip_tail

    by_last, ascii_ok = _legal_terms()
    if not (ascii_ok and name.isascii()):
        return basename(name)
    name = strip_tail(name)
    parts = name.split()
    nparts = [strip_punct(p) for p in name.lower().split()]
    pos = 0  # cleanco's loop never revisits a term: resume after the last match
    while nparts:
        for i, size, term in by_last.get(nparts[-1], ()):
            if i >= pos and nparts[-size:] == term:
                del nparts[-size:]
                del parts[-size:]
                pos = i + 1
                break
        else:
            break
    return strip_tail(" ".join(parts))


@lru_cache(maxsize=1 << 18)  # applicants and numbers recur across batches
def _name_one(raw: str) -> str:
    text = to_halfwidth(raw)
    if re.search(r"[\u4e00-\u9fff]", text):
        text = re.sub(r"\s+", "", text)
        for _ in range(2):
            for suf in _CN_SUFFIXES:
                if text.endswith(suf) and len(text) > len(suf) + 1:
                    text = text[: -len(suf)]
        return _PUNCT.sub("", text).upper()
    text = re.sub(r"([,;])(?=\S)", r"\1 ", text)  # "Co.,Ltd" -> "Co., Ltd"

    def strip_forms(t: str) -> str:
        prev = None
        while prev != t:  # cleanco strips one legal form per call: "Co., Ltd." needs two
            prev, t = t, _basename(t)
        return t

    text = strip_forms(text)
    text = strip_forms(_PUNCT.sub(" ", text).strip())  # again once "L.P" became "L P" etc.
    text = re.sub(r"^THE\s+", "", text.upper())
    return _PUNCT.sub(" ", text).strip()


@lru_cache(maxsize=1 << 18)  # applicants and numbers recur across batches
def _person_one(raw: str) -> str:
    text = to_halfwidth(raw)
    if re.search(r"[\u4e00-\u9fff]", text):
        return _PUNCT.sub("", text)
    return _PUNCT.sub(" ", text.upper()).strip()


def normalize_names(raw: pd.Series, person: pd.Series | None = None) -> pd.Series:
    """Grouping key for organisation and person names within a language.

    Full-width to half-width, case folded to upper, punctuation and legal-form
    suffixes removed (``Co., Ltd.``, ``Inc.``, ``GmbH`` via :mod:`cleanco`;
    ``有限公司``, ``股份有限公司`` …).

    Parameters
    ----------
    raw : Series of str
    person : Series of bool, optional
        Rows known to be persons (inventors): only case and punctuation are folded,
        which is also much faster than the legal-form search.

    Examples
    --------
    >>> normalize_names(pd.Series(["BOE Technology Group Co., Ltd.", "京东方科技集团股份有限公司"])).tolist()
    ['BOE TECHNOLOGY GROUP', '京东方科技集团']
    """
    raw = pd.Series(raw, dtype="string").reset_index(drop=True)
    if person is None:
        return map_unique(raw, _name_one)
    person = pd.Series(person).reset_index(drop=True).fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=raw.index, dtype="string")
    out[person] = map_unique(raw[person], _person_one)
    out[~person] = map_unique(raw[~person], _name_one)
    return out


_TYPE_RULES = [
    ("hospital", r"医院|卫生院|HOSPITAL|KLINIK|CLINIC\b|MEDICAL CENTER"),
    ("university", r"大学|(?<!科)学院|学校|UNIVERSITY|UNIV\b|COLLEGE|HOCHSCHULE|UNIVERSIT|INST(?:ITUTE)? OF TECHNOLOGY|\bMIT\b|POLYTECHNIC|SCHOOL"),
    ("research_institute", r"研究院|研究所|研究中心|科学院|实验室|INSTITUT|\bINST\b|ACADEMY|ACAD\b|LABORATOR|FRAUNHOFER|CNRS|RESEARCH (?:CENTER|CENTRE|COUNCIL|FOUNDATION)|\bCSIR|COMMISSARIAT"),
    ("government", r"人民政府|政府|管理局|委员会|部$|GOVERNMENT|MINISTRY|SECRETARY OF|DEPARTMENT OF|\bNAVY\b|\bARMY\b|AIR FORCE|UNITED STATES OF AMERICA|AGENCY|\bNASA\b"),
    ("enterprise", r"公司|企业|集团|厂|株式会社|\bCO\b|\bCORP|\bINC\b|\bLTD|\bLLC\b|\bGMBH\b|\bAG\b|\bSA\b|\bS\.?A\.?S\b|\bPLC\b|\bLP\b|\bL\.P\b|\bBV\b|\bN\.?V\b|\bAB\b|\bOY\b|\bSPA\b|\bSRL\b|\bKK\b|\bKABUSHIKI|COMPANY|CORPORATION|INCORPORATED|LIMITED|TECHNOLOG|INDUSTR|SYSTEMS|ELECTRONICS|HOLDING|GROUP|ENTERPRISE|INTERNATIONAL|PRODUCTS|\bAKTIENGESELLSCHAFT"),
]
_TYPE_RES = [(t, re.compile(p)) for t, p in _TYPE_RULES]


@lru_cache(maxsize=1 << 18)  # applicants and numbers recur across batches
def _type_one(raw: str) -> str:
    text = to_halfwidth(raw).upper()
    for t, rx in _TYPE_RES:
        if rx.search(text):
            return t
    if re.fullmatch(r"[\u4e00-\u9fff·]{2,4}", text):
        return "individual"  # a bare 2–4 character Chinese name
    return "unknown"


def party_types(name_raw: pd.Series, hint: pd.Series | None = None) -> pd.Series:
    """Party type from the name (``大学`` → university, ``Inst`` → research institute …).

    ``hint`` is the source's own classification (already mapped to the canonical
    words, e.g. PatentsView ``assignee_type`` or "a person's name in separate fields")
    and wins where it is given; the hint ``organisation`` only says "not a person".

    Examples
    --------
    >>> party_types(pd.Series(["重庆大学", "中国科学院重庆绿色智能技术研究院", "张三", "Dell Products L.P."])).tolist()
    ['university', 'research_institute', 'individual', 'enterprise']
    """
    out = map_unique(name_raw, _type_one).fillna("unknown").reset_index(drop=True)
    if hint is not None:
        h = pd.Series(hint, dtype="string").reset_index(drop=True)
        # "organisation" (e.g. PatentsView company/corporation): universities, institutes
        # and hospitals are filed as corporations too, so the name decides and only an
        # otherwise unknown organisation becomes an enterprise.
        org = (h == "organisation").fillna(False)
        out[org & (out.isin(["unknown", "individual"]))] = "enterprise"
        given = h.notna() & ~org
        out[given] = h[given]
    return out.astype("string")


# --------------------------------------------------------------------------- spreadsheets
def neutralize_formula(s: pd.Series) -> pd.Series:
    """Prefix cells that a spreadsheet would read as a formula with ``'``.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return are
    neutralised (OWASP CSV injection guidance).
    """
    s = pd.Series(s, dtype="string")
    risky = s.str.match(r"^[=+\-@\t\r]").fillna(False).astype(bool)
    return s.where(~risky, "'" + s)


# --------------------------------------------------------------------------- offices, provinces
_OFFICES_YAML = Path(__file__).with_name("offices.yaml")


@lru_cache(maxsize=1)
def _office_names() -> dict[str, str]:
    """Name → code: ISO 3166 names (English, Chinese), then the overrides of offices.yaml."""
    import gettext

    import pycountry
    import yaml

    table: dict[str, str] = {}
    try:
        zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    except OSError:
        zh = None
    for c in pycountry.countries:
        for name in {c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name)}:
            table[_office_key(name)] = c.alpha_2
            if zh is not None:
                table[_office_key(zh.gettext(name))] = c.alpha_2
    doc = yaml.safe_load(_OFFICES_YAML.read_text(encoding="utf-8")) or {}
    for name, code in (doc.get("names") or {}).items():
        table[_office_key(str(name))] = str(code).upper()
    return table


def _office_key(text: str) -> str:
    return re.sub(r"[\s()（）]+", "", to_halfwidth(str(text))).casefold()


def _country_one(raw: str) -> str | None:
    text = to_halfwidth(raw).strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    return _office_names().get(_office_key(text))


def country_codes(raw: pd.Series) -> pd.Series:
    """Two-letter office / country codes from codes or names in English or Chinese.

    Codes pass through upper-cased; names (``中国``, ``世界知识产权组织``, ``欧洲专利局``,
    ``United States``) are looked up in ``offices.yaml`` and pycountry's ISO 3166 names;
    anything else is null (the publication number's own prefix then decides).

    Examples
    --------
    >>> country_codes(pd.Series(["中国", "世界知识产权组织", "欧洲专利局", "us", "中国台湾", "火星", None])).tolist()
    ['CN', 'WO', 'EP', 'US', 'TW', <NA>, <NA>]
    """
    return map_unique(pd.Series(raw, dtype="string"), _country_one)


# GB/T 2260 province codes (the first two digits of an administrative division code),
# which CNKI / SooPAT (国省代码) and incoPat (申请人省市代码) give for Chinese applicants.
_PROVINCE_CODES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}


def province_from_code(raw: pd.Series) -> pd.Series:
    """Province from a GB/T 2260 code (``50`` or ``500105`` → 重庆市); null otherwise.

    Examples
    --------
    >>> province_from_code(pd.Series(["50", "500105", "11", "99", None])).tolist()
    ['重庆市', '重庆市', '北京市', <NA>, <NA>]
    """
    s = pd.Series(raw, dtype="string").str.strip()
    code = s.str.extract(r"^(\d{2})(?:\d{4})?$", expand=False)
    return code.map(_PROVINCE_CODES).astype("string")
