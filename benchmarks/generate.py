"""GENERATED patent data of any size, in the real input formats, fitted to the real files.

    python benchmarks/generate.py --patents 100000 --format cn-csv --out /tmp/gen
    python benchmarks/generate.py --patents 100000 --format uspto-xml --out /tmp/gen
    python benchmarks/generate.py --fit-only                 # print the fitted profiles

ALL DATA WRITTEN HERE IS GENERATED (not real): every title starts with ``GENERATED`` /
``生成数据``, every file name with ``generated_``, and every figure a benchmark prints
from it must say "generated". It exists for scale tests only; no report may rest on it.

What is fitted, and from what
-----------------------------
The distributions are measured on the canonical tables of real files in
``../shared/data`` (ingested with the project's own adapters at fit time; nothing of them
is copied into the output, and the profile holds only frequencies):

* ``CN`` — the incoPat, Patentics and PatSnap exports (``cn-exports/``, 12,509 rows);
  references per patent from Patentics (the one export listing its citations).
* ``US`` — the USPTO weekly XML slices (``uspto-xml/ipgxml__*.small.xml``) and the
  PatentsView tables (``patentsview/``); references from the XML.

Per office: patent types; filing years; publication and grant lags after filing; claims;
applicants, inventors and IPC codes per patent; references per patent and citation lags
(citing publication − cited publication); how often an applicant recurs (the share of
patents each distinct name holds, as a Zipf exponent fitted on the rank–frequency curve,
and distinct names per patent); the address mix of applicants (province / city /
district for CN, country for US); the IPC symbols in use and their frequencies. A fitted
profile is cached in ``data/generated/`` (git-ignored) and refitted when missing.

What is generated
-----------------
:func:`generate` draws ``n`` patents of one office from a profile with a seed (same seed,
same bytes): numbers in the office's real shapes (CN publication and application numbers
with valid check digits, US grant numbers), dates, types, claims, applicants from a
Zipf-weighted pool of made-up names with addresses drawn from the address mix, made-up
inventors, IPC symbols drawn by frequency, and references to earlier patents of the same
set picked at the fitted citation lag (``internal_share`` of them; the rest cite numbers
outside the set, as real reference lists mostly do).

Writers: :func:`write_cn_csv` / :func:`write_cn_xlsx` (an incoPat-style export),
:func:`write_uspto_xml` (red-book v4.3 grants, one document per patent in one file) and
:func:`write_patentsview` (the bulk TSV tables, citations in ``g_us_patent_citation``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "data" / "generated"
FORMATS = ("cn-csv", "cn-xlsx", "uspto-xml", "patentsview")
OFFICE_OF = {"cn-csv": "CN", "cn-xlsx": "CN", "uspto-xml": "US", "patentsview": "US"}
PROFILE_VERSION = 1


def fit_sources(office: str) -> list[Path]:
    """The real files a profile of ``office`` is fitted on."""
    if office == "CN":
        cn = SHARED / "cn-exports"
        return [cn / "incopat_autonomous_driving_10000.xlsx", cn / "patentics_zhongkechuangda_cn_511.xlsx",
                cn / "patsnap_green_aviation_1999.xlsx"]
    if office == "US":
        return sorted((SHARED / "uspto-xml").glob("ipgxml__*.small.xml")) + [SHARED / "patentsview"]
    raise ValueError(f"office must be CN or US, not {office!r}")


# ------------------------------------------------------------------------------ fitting
def _hist(counts: pd.Series, cap: int) -> dict[str, float]:
    """Shares of the values 0..cap (larger values folded into cap)."""
    c = counts.clip(upper=cap).value_counts(normalize=True).sort_index()
    return {str(int(k)): round(float(v), 6) for k, v in c.items()}


def _quantiles(values: pd.Series) -> list[float]:
    """101 quantiles (0 %, 1 %, … 100 %): a distribution small enough to keep, fine enough to draw from."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    return [round(float(q), 3) for q in np.quantile(v, np.linspace(0, 1, 101))] if len(v) else []


def _per_patent(rows: pd.DataFrame, ids: pd.Index) -> pd.Series:
    return rows.groupby("pub_id").size().reindex(ids, fill_value=0)


def _zipf(counts: pd.Series) -> float:
    """Exponent s of frequency ∝ rank^-s, least squares on the log–log rank–frequency
    curve of the names holding at least two patents (the tail of singletons is flat)."""
    f = np.sort(counts.to_numpy())[::-1]
    f = f[f >= 2]
    if len(f) < 3:
        return 1.0
    rank = np.arange(1, len(f) + 1)
    return round(float(-np.polyfit(np.log(rank), np.log(f), 1)[0]), 4)


def profile_from_tables(tables: dict[str, pd.DataFrame], office: str, cites_from: str) -> dict:
    """The distributions of one office's patents in canonical ``tables``.

    ``cites_from`` is a substring of ``patents.provenance`` naming the sources whose
    reference lists are complete (only their patents count for references per patent).
    """
    p = tables["patents"]
    p = p[p["country"] == office].drop_duplicates("pub_id")
    ids = pd.Index(p["pub_id"])
    app = pd.to_datetime(p["app_date"], errors="coerce")
    pub = pd.to_datetime(p["pub_date"], errors="coerce")
    grant = pd.to_datetime(p["grant_date"], errors="coerce")
    parties = tables["parties"][tables["parties"]["pub_id"].isin(ids)]
    # US grants name their owners as assignees (PatentsView has no applicants); an
    # individual inventor's grant has none, so zero is a real count there.
    role = "applicant" if office == "CN" else "assignee"
    appl = parties[parties["role"] == role]
    inv = parties[parties["role"] == "inventor"]
    ipc = tables["classifications"]
    ipc = ipc[ipc["pub_id"].isin(ids) & (ipc["scheme"] == "IPC")]
    cit = tables["citations"][tables["citations"]["pub_id"].isin(ids)]
    cite_ids = pd.Index(p.loc[p["provenance"].astype("string").str.contains(cites_from, regex=False).fillna(False),
                              "pub_id"])
    lag = (pd.Series(pub.to_numpy(), index=p["pub_id"]).reindex(cit["pub_id"]).to_numpy()
           - pd.to_datetime(cit["cited_date"], errors="coerce").to_numpy()) / np.timedelta64(1, "D")
    names = appl["name_norm"].dropna()
    first = appl.sort_values(["pub_id", "seq"]).drop_duplicates("pub_id")
    if office == "CN":
        place = first[["province", "city", "district"]].astype("string").fillna("")
    else:
        place = first[["country"]].astype("string").fillna("")
    place = place[place.ne("").any(axis=1)]
    mix = place.value_counts(normalize=True).head(80)
    symbols = ipc["symbol"].value_counts(normalize=True).head(3000)
    types = p["patent_type"].value_counts(normalize=True)
    return {
        "version": PROFILE_VERSION, "office": office,
        "fitted_on": {"patents": int(len(p)), "with_references": int(len(cite_ids)),
                      "citations_dated": int(np.isfinite(lag).sum())},
        "patent_type": {k: round(float(v), 6) for k, v in types.items()},
        "granted_share": {t: round(float(grant[(p["patent_type"] == t).to_numpy()].notna().mean()), 6)
                          for t in types.index},
        "app_year": {str(int(k)): round(float(v), 6)
                     for k, v in app.dt.year.dropna().value_counts(normalize=True).sort_index().items()},
        "pub_lag_days": _quantiles((pub - app).dt.days.where(lambda d: d >= 0)),
        "grant_lag_days": _quantiles((grant - app).dt.days.where(lambda d: d >= 0)),
        "claims": _hist(pd.to_numeric(p["claims_count"], errors="coerce").dropna().astype(int), 60),
        # Counted over the patents whose source lists the field at all (incoPat's export has
        # no inventors, PatentsView's no IPC): a missing column is not a count of zero.
        "applicants_per_patent": _hist(_per_patent(appl, ids), 10),
        "inventors_per_patent": _hist(_per_patent(inv, ids).loc[lambda c: c > 0], 20),
        "ipc_per_patent": _hist(_per_patent(ipc, ids).loc[lambda c: c > 0], 20),
        "refs_per_patent": _hist(_per_patent(cit, cite_ids), 100),
        "citation_lag_days": _quantiles(pd.Series(lag).where(lambda d: d > 0)),
        "name_zipf": _zipf(names.value_counts()),
        "names_per_patent": round(float(names.nunique() / max(len(ids), 1)), 6),
        "address_mix": [[*map(str, k if isinstance(k, tuple) else (k,)), round(float(v), 6)] for k, v in mix.items()],
        "ipc_symbols": {str(k): round(float(v), 8) for k, v in symbols.items()},
    }


def fit(office: str) -> dict:
    """Fit a profile of ``office`` on the real files (:func:`fit_sources`)."""
    from pipeline.config import load_params
    from pipeline.ingest.run import ingest, locate_applicants

    result = ingest(fit_sources(office), relative_to=SHARED, table_batch_size=20000)
    ing = load_params(ROOT / "params.yaml")["ingest"]
    if office == "CN":  # the exports locate few applicants by address: the registers place the rest
        locate_applicants(result, [ROOT / r for r in ing.registers], labels=list(ing.registers), **ing.locate)
    prof = profile_from_tables(result.tables, office, "patentics" if office == "CN" else "ipgxml")
    if not prof["citation_lag_days"]:
        # The Chinese exports list references without dates: their lags are the US grants'.
        prof["citation_lag_days"] = load_profile("US")["citation_lag_days"]
        prof["citation_lag_from"] = "US"
    return prof


def load_profile(office: str, cache: Path = CACHE) -> dict:
    """The cached profile of ``office``, fitted (and cached) when missing or outdated."""
    path = cache / f"profile_{office}.json"
    if path.exists():
        prof = json.loads(path.read_text(encoding="utf-8"))
        if prof.get("version") == PROFILE_VERSION:
            return prof
    prof = fit(office)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(prof, ensure_ascii=False, indent=1), encoding="utf-8")
    return prof


# ------------------------------------------------------------------------------ drawing
def _draw_hist(rng, hist: dict[str, float], n: int) -> np.ndarray:
    keys = np.array([int(k) for k in hist], dtype=np.int64)
    w = np.array(list(hist.values()), dtype=float)
    return rng.choice(keys, n, p=w / w.sum())


def _draw_quantiles(rng, q: list[float], n: int, default: float) -> np.ndarray:
    if not q:
        return np.full(n, default)
    return np.interp(rng.random(n), np.linspace(0, 1, len(q)), q)


def _draw_keys(rng, shares: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(shares), dtype=object)
    w = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=w / w.sum())]


_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红娟建国志文斌宇浩鹏飞俊凯")
_FIRMS = list("瑞华新达盛恒泰安和信通康科创智博宏远鑫隆源启明翔辰腾云海峰")
_TRADES = ["科技", "汽车", "电子", "智能", "新能源", "生物医药", "机械", "信息技术", "动力", "材料"]
_FIRST = ["James", "Mary", "Robert", "Linda", "Wei", "Yuki", "Hans", "Anna", "Carlos", "Priya", "Min-jun", "Olga"]
_LAST = ["Smith", "Johnson", "Tanaka", "Müller", "Kim", "Garcia", "Chen", "Ivanova", "Patel", "Rossi", "Brown", "Lee"]
_WORDS = ["battery", "vehicle", "sensor", "control", "module", "system", "method", "device", "network", "charging",
          "motor", "image", "signal", "drive", "power", "data", "unit", "assembly"]
_ZH_WORDS = ["电池", "车辆", "传感器", "控制", "模块", "系统", "方法", "装置", "网络", "充电", "电机", "图像", "信号",
             "驱动", "电源", "数据", "单元", "组件"]


def _org_names(i: np.ndarray, office: str) -> np.ndarray:
    """Made-up organisation names, one per index (index i always gives the same name)."""
    if office == "CN":
        a, b, c = np.array(_FIRMS, dtype=object), np.array(_TRADES, dtype=object), i // (len(_FIRMS) ** 2)
        return (a[i % len(_FIRMS)] + a[(i // len(_FIRMS)) % len(_FIRMS)] + b[c % len(_TRADES)]
                + np.char.mod("%d", c // len(_TRADES)).astype(object) + "号有限公司")
    return "Generated " + np.char.mod("%d", i).astype(object) + " Corp."


def _person_names(rng, n: int, office: str) -> np.ndarray:
    if office == "CN":
        s, g = np.array(_SURNAMES, dtype=object), np.array(_GIVEN, dtype=object)
        return s[rng.integers(0, len(s), n)] + g[rng.integers(0, len(g), n)] + g[rng.integers(0, len(g), n)]
    f, last = np.array(_FIRST, dtype=object), np.array(_LAST, dtype=object)
    return f[rng.integers(0, len(f), n)] + " " + last[rng.integers(0, len(last), n)]


def _titles(rng, n: int, office: str) -> np.ndarray:
    words = np.array(_ZH_WORDS if office == "CN" else _WORDS, dtype=object)
    k = len(words)
    head = "生成数据 " if office == "CN" else "GENERATED "
    sep = "" if office == "CN" else " "
    return (head + words[rng.integers(0, k, n)] + sep + words[rng.integers(0, k, n)] + sep
            + words[rng.integers(0, k, n)])


def _numbers(office: str, ptype: np.ndarray, app_year: np.ndarray, granted: np.ndarray, pub_year: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Publication numbers, kinds and application numbers in the office's real shapes."""
    from pipeline.ingest.normalize import cn_check_digit

    n = len(ptype)
    serial = np.arange(n)
    if office == "CN":
        kind = np.select([ptype == "utility_model", ptype == "design", granted], ["U", "S", "B"], "A")
        first = np.select([ptype == "utility_model", ptype == "design"], ["2", "3"], "1")
        pub = np.char.add(np.char.add("CN", np.char.mod("%09d", 100000000 + serial)), kind)
        body = np.char.add(np.char.add(app_year.astype(str), first), np.char.mod("%07d", serial % 10_000_000))
        check = np.array([cn_check_digit(b) for b in body])
        app = np.char.add(np.char.add(np.char.add("CN", body), "."), check)
        return pub.astype(object), kind.astype(object), app.astype(object)
    design = ptype == "design"
    modern = pub_year >= 2001  # USPTO kind codes since 2001: B1/B2, S1; before: A, S
    kind = np.where(design, np.where(modern, "S1", "S"), np.where(modern, "B2", "A"))
    # The canonical form: office, number, kind (US7000012B2, USD500001S1).
    number = np.where(design, np.char.add("D", np.char.mod("%06d", 500000 + serial)),
                      np.char.mod("%d", 7000000 + serial))
    pub = np.char.add(np.char.add("US", number), kind)
    app = np.char.add("US", np.char.mod("%d", 13000000 + serial))
    return pub.astype(object), kind.astype(object), app.astype(object)


def _pool_size(draws: int, distinct: float, s: float) -> int:
    """The number of names M whose Zipf(s) weights give ``distinct`` different names, in
    expectation, over ``draws`` draws (Σ 1 − (1 − w_i)^draws; bisection on M)."""
    def expected(m: int) -> float:
        w = 1.0 / np.arange(1, m + 1) ** s
        return float((-np.expm1(draws * np.log1p(-w / w.sum()))).sum())

    lo, hi = 1, max(2, int(distinct) + 1)
    while expected(hi) < distinct and hi < 50 * max(draws, 1):
        lo, hi = hi, hi * 2
    while hi - lo > max(1, hi // 1000):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if expected(mid) < distinct else (lo, mid)
    return hi


def generate(n: int, profile: dict, *, seed: int = 0, internal_share: float = 1.0) -> dict[str, pd.DataFrame]:
    """GENERATED tables of ``n`` patents of the profile's office.

    Parameters
    ----------
    n : int
        Patents.
    profile : dict
        From :func:`load_profile` / :func:`profile_from_tables`.
    seed : int
        Same seed, same tables.
    internal_share : float
        Share of references pointing at patents of the set (the rest cite numbers outside).

    Returns
    -------
    dict of DataFrame
        ``patents`` (pub_id, number — without office and kind —, kind, patent_type, app_id,
        app_date, pub_date, grant_date, title, claims), ``parties`` (pub_id, role, seq, name, province, city, district,
        country), ``classifications`` (pub_id, seq, symbol), ``citations`` (pub_id, seq,
        cited, cited_number, cited_kind, cited_date, internal) — in publication order.
    """
    office = profile["office"]
    rng = np.random.default_rng(seed)
    ptype = _draw_keys(rng, profile["patent_type"], n).astype(str)
    year = _draw_keys(rng, profile["app_year"], n).astype(int)
    app = pd.to_datetime(year.astype(str), format="%Y") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    pub = app + pd.to_timedelta(_draw_quantiles(rng, profile["pub_lag_days"], n, 540).round(), unit="D")
    share = np.array([profile["granted_share"].get(t, 0.0) for t in ptype])
    granted = rng.random(n) < share
    glag = np.maximum(_draw_quantiles(rng, profile["grant_lag_days"], n, 900), 0)
    grant = pd.Series(app + pd.to_timedelta(glag.round(), unit="D")).where(granted)
    if office == "US":  # a US grant is published on its grant date
        pub = pd.DatetimeIndex(grant.fillna(pd.Series(pub)))
    # Publication order: numbers rise with the publication date, as an office issues them.
    order = np.argsort(pub.to_numpy(), kind="stable")
    ptype, year, granted = ptype[order], year[order], granted[order]
    app, pub, grant = app[order], pub[order], grant.iloc[order].reset_index(drop=True)
    pub_id, kind, app_id = _numbers(office, ptype, year, granted, pub.year.to_numpy())
    number = np.array([i[2:len(i) - len(k)] for i, k in zip(pub_id, kind)], dtype=object)
    patents = pd.DataFrame({
        "pub_id": pub_id, "number": number, "kind": kind, "patent_type": ptype, "app_id": app_id, "app_date": app,
        "pub_date": pub, "grant_date": grant, "title": _titles(rng, n, office),
        # Claims only where the real files give them (the Chinese exports do not).
        "claims": pd.array(np.maximum(_draw_hist(rng, profile["claims"], n), 1) if profile["claims"] else [None] * n,
                           dtype="Int64"),
    })

    # Applicants: a Zipf-weighted pool of made-up organisations, each with one address.
    n_app = _draw_hist(rng, profile["applicants_per_patent"], n)
    if office == "CN":
        n_app = np.maximum(n_app, 1)
    pool = _pool_size(int(n_app.sum()), n * profile["names_per_patent"], profile["name_zipf"])
    w = 1.0 / np.arange(1, pool + 1) ** profile["name_zipf"]
    who = rng.choice(pool, int(n_app.sum()), p=w / w.sum())
    mix = profile["address_mix"]
    place_of = rng.choice(len(mix), pool, p=np.array([m[-1] for m in mix]) / sum(m[-1] for m in mix))
    places = np.array([m[:-1] for m in mix], dtype=object)[place_of[who]]
    applicants = pd.DataFrame({"pub_id": np.repeat(pub_id, n_app), "role": "applicant" if office == "CN" else "assignee",
                               "seq": np.concatenate([np.arange(k) for k in n_app]) + 1,
                               "name": _org_names(who, office)})
    if office == "CN":
        applicants[["province", "city", "district"]] = pd.DataFrame(list(places), index=applicants.index)
        applicants["country"] = "CN"
    else:
        applicants["country"] = places[:, 0]
    n_inv = _draw_hist(rng, profile["inventors_per_patent"], n)
    inventors = pd.DataFrame({"pub_id": np.repeat(pub_id, n_inv), "role": "inventor",
                              "seq": np.concatenate([np.arange(k) for k in n_inv]) + 1 if n_inv.sum() else [],
                              "name": _person_names(rng, int(n_inv.sum()), office)})
    # One listing per name and patent (as the sources de-duplicate), renumbered.
    parties = pd.concat([applicants, inventors], ignore_index=True).drop_duplicates(["pub_id", "role", "name"])
    parties["seq"] = parties.groupby(["pub_id", "role"]).cumcount() + 1
    # In the patents' order (owners first), as every other table: writers cut them in runs.
    at = pd.Index(pub_id).get_indexer(parties["pub_id"]) * 2 + (parties["role"] == "inventor").to_numpy()
    parties = parties.iloc[np.argsort(at, kind="stable")].reset_index(drop=True)

    n_ipc = np.maximum(_draw_hist(rng, profile["ipc_per_patent"], n), 1)
    if office == "US":
        n_ipc[ptype == "design"] = 0  # US design grants carry a Locarno class, no IPC
    symbols = _draw_keys(rng, profile["ipc_symbols"], int(n_ipc.sum()))
    classes = pd.DataFrame({"pub_id": np.repeat(pub_id, n_ipc),
                            "seq": np.concatenate([np.arange(k) for k in n_ipc]) + 1, "symbol": symbols})
    classes = classes.drop_duplicates(["pub_id", "symbol"]).reset_index(drop=True)
    classes["seq"] = classes.groupby("pub_id").cumcount() + 1

    # References: each at a lag drawn from the fitted lags, to a patent of the set published
    # about then (internal), or to a number outside the set.
    n_ref = _draw_hist(rng, profile["refs_per_patent"], n)
    src = np.repeat(np.arange(n), n_ref)
    lag = _draw_quantiles(rng, profile["citation_lag_days"], len(src), 2000)
    when = pub.to_numpy()[src] - pd.to_timedelta(np.maximum(lag, 1).round(), unit="D").to_numpy()
    # Any patent published within a month of that date (not always the same one of the day).
    dates = pub.to_numpy()
    month = np.timedelta64(15, "D")
    lo = np.searchsorted(dates, when - month, side="left")
    hi = np.minimum(np.searchsorted(dates, when + month, side="right"), src)  # never the citing patent or later
    target = np.where(hi > lo, lo + (rng.random(len(src)) * (hi - lo)).astype(np.int64),
                      np.searchsorted(dates, when, side="right") - 1)
    internal = (target >= 0) & (rng.random(len(src)) < internal_share)
    target = np.where(internal, np.minimum(target, src - 1), -1)
    internal &= target >= 0
    outside = (3000000 + np.arange(len(src)) % 3000000) if office == "US" else (10000000 + np.arange(len(src)) % 80000000)
    # One reference per citing and cited document (the first), found on integers: a number
    # outside the set never equals one inside it (7,000,000+ / 100,000,000+ inside).
    key = np.where(internal, target, -1 - outside)
    order = np.lexsort((key, src))
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[order][1:] != src[order][:-1]) | (key[order][1:] != key[order][:-1])
    keep = np.sort(order[first])
    src, target, internal, outside, when = src[keep], target[keep], internal[keep], outside[keep], when[keep]
    seq = np.arange(len(src)) - np.searchsorted(src, src, side="left") + 1  # src is ascending
    # Strings built in Arrow, not as Python objects: at 1M US patents there are ~20M references.
    outside = pc.cast(pa.array(outside), pa.string())
    if office == "CN":
        outside = pc.utf8_lpad(outside, 9, "0")
    at, mask = pa.array(np.maximum(target, 0)), pa.array(internal)
    cited_number = pc.if_else(mask, pa.array(number, pa.string()).take(at), outside)
    cited_kind = pc.if_else(mask, pa.array(kind, pa.string()).take(at), pa.scalar("A"))
    # A publication number is office + number + kind, inside the set as outside it.
    cited = pc.binary_join_element_wise(office, cited_number, cited_kind, "")
    cited_date = np.where(internal, pub.to_numpy()[np.maximum(target, 0)], when)

    def text(col):
        return pd.Series(col, dtype=pd.StringDtype("pyarrow", na_value=np.nan))

    citations = pd.DataFrame({"pub_id": text(pa.array(pub_id, pa.string()).take(pa.array(src))), "seq": seq,
                              "cited": text(cited), "cited_number": text(cited_number), "cited_kind": text(cited_kind),
                              "cited_date": cited_date, "internal": internal})
    return {"patents": patents, "parties": parties, "classifications": classes, "citations": citations}


# ------------------------------------------------------------------------------ writers
def _joined(rows: pd.DataFrame, col: str, ids: pd.Series, sep: str = "; ") -> pd.Series:
    return rows.groupby("pub_id", sort=False)[col].agg(sep.join).reindex(ids).fillna("")


def cn_export_frame(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The generated CN tables as the rows of an incoPat-style export (its headers)."""
    p = t["patents"]
    ids = p["pub_id"]
    parties = t["parties"]
    appl = parties[parties["role"] == "applicant"]
    first = appl[appl["seq"] == 1].set_index("pub_id").reindex(ids)
    doc_type = np.select([p["kind"] == "U", p["kind"] == "S", p["kind"] == "B"], ["实用新型", "外观设计", "发明授权"],
                         "发明申请")
    ipc = t["classifications"]
    return pd.DataFrame({
        "序号": np.arange(1, len(p) + 1),
        "标题": p["title"].to_numpy(),
        "申请人": _joined(appl, "name", ids).to_numpy(),
        "发明人": _joined(parties[parties["role"] == "inventor"], "name", ids).to_numpy(),
        "申请号": p["app_id"].to_numpy(),
        "申请日": p["app_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "公开（公告）号": ids.to_numpy(),
        "公开（公告）日": p["pub_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "公开类型": doc_type,
        "IPC主分类": ipc[ipc["seq"] == 1].set_index("pub_id")["symbol"].reindex(ids).fillna("").to_numpy(),
        "IPC": _joined(ipc, "symbol", ids).to_numpy(),
        "申请人地址": (first["province"].fillna("") + first["city"].where(first["city"] != first["province"], "")
                   .fillna("") + first["district"].fillna("") + "生成路1号").to_numpy(),
        "权利要求数量": p["claims"].astype("string").fillna("").to_numpy(),
        "引证专利": _joined(t["citations"], "cited", ids).to_numpy(),
    })


def write_cn_csv(t: dict[str, pd.DataFrame], path: Path, append: bool = False) -> Path:
    """An incoPat-style CSV export (UTF-8 with BOM, as Excel saves it); ``append`` adds rows."""
    df = cn_export_frame(t)
    if append:
        df["序号"] += _rows_in(path)
    df.to_csv(path, index=False, encoding="utf-8" if append else "utf-8-sig", mode="a" if append else "w",
              header=not append)
    return path


def _rows_in(path: Path) -> int:
    """Data rows already in a CSV written by :func:`write_cn_csv` (its last 序号)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - (1 << 16)))
        last = fh.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    return int(last.split(b",", 1)[0])


def write_cn_xlsx(t: dict[str, pd.DataFrame], path: Path) -> Path:
    """An incoPat-style XLSX export (openpyxl, write-only)."""
    from openpyxl import Workbook

    df = cn_export_frame(t)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("generated")
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
    wb.save(path)
    return path


_XML_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<!DOCTYPE us-patent-grant SYSTEM "us-patent-grant-v43-2012-12-04.dtd" [ ]>\n')


def _per_doc(rows: pd.DataFrame, fragment: pd.Series, ids: pd.Series) -> np.ndarray:
    """Each document's fragments joined in row order ('' for a document without rows)."""
    return fragment.groupby(rows["pub_id"].to_numpy(), sort=False).agg("".join).reindex(ids).fillna("").to_numpy()


def write_uspto_xml(t: dict[str, pd.DataFrame], path: Path, append: bool = False) -> Path:
    """Red-book v4.3 grant documents, concatenated in one file as USPTO ships a week
    (built column-wise: one string operation per element kind, not per document)."""
    p = t["patents"]
    ids = p["pub_id"]
    x = lambda s: s.astype(str).map(escape)  # noqa: E731
    ymd = lambda s: pd.to_datetime(s).dt.strftime("%Y%m%d")  # noqa: E731
    c = t["citations"]
    cites = _per_doc(c, '<us-citation>\n<patcit num="' + c["seq"].map("{:05d}".format) + '">\n<document-id>\n'
                     "<country>US</country>\n<doc-number>" + c["cited_number"] + "</doc-number>\n<kind>"
                     + c["cited_kind"] + "</kind>\n<date>" + ymd(c["cited_date"]) + "</date>\n</document-id>\n"
                     "</patcit>\n<category>cited by examiner</category>\n</us-citation>\n", ids)
    cls = t["classifications"]
    sym = cls["symbol"]
    group = sym.str[4:].str.partition("/")
    ipc = _per_doc(cls, "<classification-ipcr>\n<ipc-version-indicator><date>20060101</date></ipc-version-indicator>\n"
                   "<classification-level>A</classification-level>\n<section>" + sym.str[0] + "</section>\n<class>"
                   + sym.str[1:3] + "</class>\n<subclass>" + sym.str[3] + "</subclass>\n<main-group>"
                   + group[0].str.strip() + "</main-group>\n<subgroup>" + group[2].str.strip().replace("", "00")
                   + "</subgroup>\n<symbol-position>F</symbol-position>\n<classification-value>I</classification-value>\n"
                   "</classification-ipcr>\n", ids)
    parties = t["parties"]
    inv = parties[parties["role"] == "inventor"]
    first_last = inv["name"].str.partition(" ")
    inventors = _per_doc(inv, '<inventor sequence="' + inv["seq"].map("{:03d}".format) + '" designation="us-only">\n'
                         "<addressbook>\n<last-name>" + x(first_last[2]) + "</last-name>\n<first-name>"
                         + x(first_last[0]) + "</first-name>\n<address>\n<country>US</country>\n</address>\n"
                         "</addressbook>\n</inventor>\n", ids)
    asg = parties[parties["role"] == "assignee"]
    assignees = _per_doc(asg, "<assignee>\n<addressbook>\n<orgname>" + x(asg["name"]) + "</orgname>\n<role>02</role>\n"
                         "<address>\n<country>" + asg["country"].astype(str) + "</country>\n</address>\n</addressbook>\n"
                         "</assignee>\n", ids)
    design = (p["patent_type"] == "design").to_numpy()
    pub, app = ymd(p["pub_date"]), ymd(p["app_date"])
    claims = np.where(p["claims"].isna(), "", "<number-of-claims>" + p["claims"].astype("string").fillna("")
                      + "</number-of-claims>\n")
    docs = (_XML_HEAD + '<us-patent-grant lang="EN" dtd-version="v4.3 2012-12-04" file="US' + p["number"] + "-" + pub
            + '.XML" status="PRODUCTION" id="us-patent-grant" country="US" date-produced="' + pub + '" date-publ="'
            + pub + '">\n<us-bibliographic-data-grant>\n<publication-reference>\n<document-id>\n<country>US</country>\n'
            "<doc-number>" + p["number"] + "</doc-number>\n<kind>" + p["kind"] + "</kind>\n<date>" + pub
            + '</date>\n</document-id>\n</publication-reference>\n<application-reference appl-type="'
            + np.where(design, "design", "utility") + '">\n<document-id>\n<country>US</country>\n<doc-number>'
            + p["app_id"].str[2:] + "</doc-number>\n<date>" + app + "</date>\n</document-id>\n</application-reference>\n"
            + np.where(design, "", "<classifications-ipcr>\n" + ipc + "</classifications-ipcr>\n")
            + '<invention-title id="t1">' + x(p["title"]) + "</invention-title>\n<us-references-cited>\n" + cites
            + "</us-references-cited>\n" + claims + "<us-parties>\n<inventors>\n" + inventors
            + "</inventors>\n</us-parties>\n<assignees>\n" + assignees + "</assignees>\n</us-bibliographic-data-grant>\n"
            '<abstract id="abstract">\n<p id="p-0001">' + x(p["title"]) + ".</p>\n</abstract>\n</us-patent-grant>\n")
    with open(path, "a" if append else "w", encoding="utf-8") as fh:
        fh.writelines(docs)
    return path


def _stable_id(prefix: str, names: pd.Series) -> pd.Series:
    """The same id for the same name in every chunk written."""
    return prefix + pd.util.hash_pandas_object(names.astype(str), index=False).astype(str).str[:12]


def write_patentsview(t: dict[str, pd.DataFrame], folder: Path, append: bool = False) -> Path:
    """PatentsView bulk TSV tables (g_patent, g_application, g_assignee_disambiguated,
    g_inventor_disambiguated, g_location_disambiguated, g_ipc_at_issue, g_us_patent_citation)."""
    folder.mkdir(parents=True, exist_ok=True)
    p = t["patents"]
    pid = p["number"]
    to_pid = dict(zip(p["pub_id"], pid))
    opts = {"sep": "\t", "index": False, "quoting": csv.QUOTE_NONE, "escapechar": None,
            "mode": "a" if append else "w", "header": not append}
    pd.DataFrame({"patent_id": pid, "patent_type": np.where(p["patent_type"] == "design", "design", "utility"),
                  "patent_date": p["pub_date"].dt.strftime("%Y-%m-%d"), "patent_title": p["title"],
                  "wipo_kind": p["kind"], "num_claims": p["claims"], "withdrawn": 0}
                 ).to_csv(folder / "g_patent.tsv", **opts)
    pd.DataFrame({"patent_id": pid, "application_id": p["app_id"].str[2:],
                  "filing_date": p["app_date"].dt.strftime("%Y-%m-%d")}).to_csv(folder / "g_application.tsv", **opts)
    parties = t["parties"]
    appl = parties[parties["role"] == "assignee"]
    countries = sorted(appl["country"].dropna().unique())
    locations = folder / "g_location_disambiguated.tsv"
    seen = set(pd.read_csv(locations, sep="\t", dtype=str)["disambig_country"]) if append else set()
    new = [c for c in countries if c not in seen]
    pd.DataFrame({"location_id": [f"loc_{c}" for c in new], "disambig_city": "", "disambig_state": "",
                  "disambig_country": new}).to_csv(locations, **{**opts, "header": not append})
    loc_id = {c: f"loc_{c}" for c in countries}
    pd.DataFrame({"patent_id": appl["pub_id"].map(to_pid), "assignee_sequence": appl["seq"] - 1,
                  "assignee_id": _stable_id("a", appl["name"]),
                  "disambig_assignee_individual_name_first": "", "disambig_assignee_individual_name_last": "",
                  "disambig_assignee_organization": appl["name"], "assignee_type": 2,
                  "location_id": appl["country"].map(loc_id)}).to_csv(folder / "g_assignee_disambiguated.tsv", **opts)
    inv = parties[parties["role"] == "inventor"]
    first_last = inv["name"].str.split(" ", n=1, expand=True) if len(inv) else pd.DataFrame({0: [], 1: []})
    pd.DataFrame({"patent_id": inv["pub_id"].map(to_pid), "inventor_sequence": inv["seq"] - 1,
                  "inventor_id": _stable_id("i", inv["name"]),
                  "disambig_inventor_name_first": first_last[0].to_numpy(),
                  "disambig_inventor_name_last": first_last[1].to_numpy(), "location_id": ""}
                 ).to_csv(folder / "g_inventor_disambiguated.tsv", **opts)
    cls = t["classifications"]
    sym = cls["symbol"]
    group = sym.str[4:].str.partition("/")
    pd.DataFrame({"patent_id": cls["pub_id"].map(to_pid), "ipc_sequence": cls["seq"] - 1,
                  "section": sym.str[0], "ipc_class": sym.str[1:3], "subclass": sym.str[3],
                  "main_group": group[0].str.strip(), "subgroup": group[2].str.strip(),
                  "symbol_position": np.where(cls["seq"] == 1, "F", "L")}).to_csv(folder / "g_ipc_at_issue.tsv", **opts)
    c = t["citations"]
    pd.DataFrame({"patent_id": c["pub_id"].map(to_pid), "citation_sequence": c["seq"] - 1,
                  "citation_patent_id": c["cited_number"],
                  "citation_date": pd.to_datetime(c["cited_date"]).dt.strftime("%Y-%m-%d"),
                  "wipo_kind": c["cited_kind"], "citation_category": "cited by examiner"}
                 ).to_csv(folder / "g_us_patent_citation.tsv", **opts)
    return folder


WRITERS = {"cn-csv": (write_cn_csv, "generated_cn_export.csv"), "cn-xlsx": (write_cn_xlsx, "generated_cn_export.xlsx"),
           "uspto-xml": (write_uspto_xml, "generated_ipg.xml"), "patentsview": (write_patentsview, "generated_patentsview")}


def chunks(t: dict[str, pd.DataFrame], size: int):
    """The tables cut into runs of ``size`` patents (rows follow their patents' order)."""
    ids = t["patents"]["pub_id"]
    at = {name: pd.Index(ids).get_indexer(df["pub_id"]) for name, df in t.items() if name != "patents"}
    assert all((np.diff(pos) >= 0).all() for pos in at.values()), "rows out of their patents' order"
    for lo in range(0, len(ids), size):
        hi = lo + size
        part = {"patents": t["patents"].iloc[lo:hi]}
        for name, pos in at.items():
            a, b = np.searchsorted(pos, [lo, hi])
            part[name] = t[name].iloc[a:b]
        yield part


def write(t: dict[str, pd.DataFrame], fmt: str, out_dir: Path, chunk: int = 50_000) -> Path:
    """Write generated tables in ``fmt`` (one of :data:`FORMATS`) under ``out_dir``,
    ``chunk`` patents at a time (XLSX at once: its writer holds the sheet anyway)."""
    writer, name = WRITERS[fmt]
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "cn-xlsx":
        return writer(t, out_dir / name)
    for i, part in enumerate(chunks(t, chunk)):
        path = writer(part, out_dir / name, append=i > 0)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patents", type=int, default=10000)
    ap.add_argument("--format", choices=FORMATS, default="cn-csv")
    ap.add_argument("--out", type=Path, help="folder to write into (outside the repository or git-ignored)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--internal-share", type=float, default=1.0,
                    help="share of references citing patents of the generated set")
    ap.add_argument("--fit-only", action="store_true", help="fit (or load) both profiles and print their summaries")
    args = ap.parse_args()
    if args.fit_only:
        for office in ("CN", "US"):
            prof = load_profile(office)
            print(office, json.dumps({k: v for k, v in prof.items() if k not in ("ipc_symbols", "address_mix")},
                                     ensure_ascii=False)[:2000])
        return
    if args.out is None:
        ap.error("--out is required")
    t0 = time.perf_counter()
    prof = load_profile(OFFICE_OF[args.format])
    tables = generate(args.patents, prof, seed=args.seed, internal_share=args.internal_share)
    path = write(tables, args.format, args.out)
    print(f"GENERATED {len(tables['patents']):,} patents, {len(tables['citations']):,} references, "
          f"{len(tables['parties']):,} parties, {len(tables['classifications']):,} IPC codes "
          f"({args.format}, seed {args.seed}) in {time.perf_counter() - t0:.1f} s → {path}")


if __name__ == "__main__":
    main()
