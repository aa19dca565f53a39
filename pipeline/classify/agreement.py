"""Agreement of PatNav's rule labels with an independent vendor's SEI labels.

incoPat labels each record with the strategic-emerging-industry branches (SEI 2021
numbering, ``新兴产业分类``) that its own implementation of the SEI ↔ IPC concordance
assigns; ingest keeps them as ``source_labels`` (scheme ``sei``). PatNav applies the same
concordance through its taxonomy. On every record that carries both (codes, and a file
whose export has the vendor column — an empty cell there is the vendor's "no SEI
branch"), this module measures, with the vendor as reference:

* per focus industry and per SEI branch: precision, recall, F1, and the counts behind them;
* the confusion of disagreements: for records PatNav puts in an industry and the vendor
  does not (``rule_only``), what the vendor said instead; for the reverse
  (``vendor_only``), what PatNav said; and the codes most often involved.

Pure functions over DataFrames; the classify stage writes the result to its metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["sei_industry", "vendor_industries", "branch_sei_codes", "agreement_frame", "rule_vendor_agreement", "prf"]

INDUSTRY_ORDER = ("it", "manufacturing", "biomedicine", "nev")
# SEI 2021 numbering: first-level code → focus industry (2.1 alone is intelligent manufacturing).
_SEI_INDUSTRY = {"1": "it", "2.1": "manufacturing", "4": "biomedicine", "5": "nev"}


def sei_industry(code: str) -> str | None:
    """The focus industry of an SEI 2021 branch code, or None.

    Examples
    --------
    >>> [sei_industry(c) for c in ["1.4", "2.1", "2.3", "4.2", "5.1", "6.5"]]
    ['it', 'manufacturing', None, 'biomedicine', 'nev', None]
    """
    code = str(code).strip()
    if code in _SEI_INDUSTRY:
        return _SEI_INDUSTRY[code]
    first = code.split(".")[0]
    return None if first == "2" else _SEI_INDUSTRY.get(first)


def vendor_industries(source_labels: pd.DataFrame, scheme: str = "sei") -> pd.DataFrame:
    """Vendor SEI labels as (pub_id, sei, industry) rows (``1.4 (互联网…)`` → ``1.4``, ``it``).

    Examples
    --------
    >>> s = pd.DataFrame({"pub_id": ["a", "a", "b"], "scheme": "sei",
    ...                   "label": ["1.4 (互联网与云计算、大数据服务)", "7.1 (高效节能产业)", "5.2 (新能源汽车装置、配件制造)"]})
    >>> vendor_industries(s).values.tolist()
    [['a', '1.4', 'it'], ['a', '7.1', <NA>], ['b', '5.2', 'nev']]
    """
    s = source_labels[source_labels["scheme"] == scheme]
    code = s["label"].astype(str).str.extract(r"^\s*(\d+\.\d+)", expand=False)
    out = pd.DataFrame({"pub_id": s["pub_id"].astype(str).to_numpy(), "sei": code.to_numpy()}).dropna(subset=["sei"])
    out["industry"] = pd.array([sei_industry(c) for c in out["sei"]], dtype="string")
    return out.drop_duplicates().reset_index(drop=True)



def branch_sei_codes(taxonomy: Mapping) -> dict[str, str]:
    """Branch id (``it.networks``) → SEI code (``1.1``) of the taxonomy's SEI branches.

    Extension branches (no ``sei``) are absent.

    Examples
    --------
    >>> branch_sei_codes({"industries": {"nev": {"branches": {"vehicles": {"sei": "5.1"},
    ...     "intelligent": {"extension": True}}}}})
    {'nev.vehicles': '5.1'}
    """
    out = {}
    for ind, ispec in (taxonomy.get("industries") or {}).items():
        for br, bspec in (ispec.get("branches") or {}).items():
            if bspec.get("sei"):
                out[f"{ind}.{br}"] = str(bspec["sei"])
    return out


def prf(tp: int, fp: int, fn: int) -> dict:
    """Precision, recall and F1 from counts (0 where undefined).

    Examples
    --------
    >>> prf(8, 2, 4)
    {'precision': 0.8, 'recall': 0.6667, 'f1': 0.7273, 'tp': 8, 'fp': 2, 'fn': 4}
    """
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": int(tp), "fp": int(fp),
            "fn": int(fn)}


def agreement_frame(pub_ids: pd.Series, rule_lbls: pd.DataFrame, vendor: pd.DataFrame,
                    sei_of_branch: Mapping[str, str]) -> pd.DataFrame:
    """One row per record: its rule and vendor label sets (industries and SEI branches).

    Parameters
    ----------
    pub_ids : Series
        The records compared (with codes, from files with the vendor column).
    rule_lbls : DataFrame
        :func:`pipeline.classify.rules.rule_labels` of their codes.
    vendor : DataFrame
        :func:`vendor_industries` (pub_id, sei, industry).
    sei_of_branch : mapping
        :func:`branch_sei_codes`.

    Returns
    -------
    DataFrame
        ``pub_id``, ``rule_industries``, ``vendor_industries`` (frozensets of focus
        industries), ``rule_sei``, ``vendor_sei`` (frozensets of SEI codes; the vendor's
        include branches outside the focus), ``rule_branches`` (PatNav branch ids) and
        ``rule_symbols`` (the symbols that fired, ``;``-joined).
    """
    ids = pd.Index(pd.Series(pub_ids).astype(str).unique())
    r = rule_lbls[rule_lbls["pub_id"].astype(str).isin(ids)]
    v = vendor[vendor["pub_id"].astype(str).isin(ids)]

    def sets(df: pd.DataFrame, col: str) -> pd.Series:
        if df.empty:
            return pd.Series([frozenset()] * len(ids), index=ids)
        g = df.dropna(subset=[col]).groupby(df["pub_id"].astype(str))[col].agg(lambda s: frozenset(map(str, s)))
        return g.reindex(ids).map(lambda x: x if isinstance(x, frozenset) else frozenset())

    r = r.assign(sei=r["branch"].astype(str).map(sei_of_branch))
    out = pd.DataFrame({
        "pub_id": ids,
        "rule_industries": sets(r, "industry").to_numpy(),
        "vendor_industries": sets(v, "industry").to_numpy(),
        "rule_sei": sets(r, "sei").to_numpy(),
        "vendor_sei": sets(v, "sei").to_numpy(),
        "rule_branches": sets(r, "branch").to_numpy(),
    })
    sym = (r.groupby(r["pub_id"].astype(str))["symbol"].agg(lambda s: ";".join(sorted(set(map(str, s)))))
           if len(r) else pd.Series(dtype=str))
    out["rule_symbols"] = out["pub_id"].map(sym).fillna("")
    return out


def _label(s: frozenset) -> str:
    return "+".join(sorted(s)) if s else "none"


def rule_vendor_agreement(frame: pd.DataFrame, *, main_symbol: pd.Series | None = None, top: int = 8) -> dict:
    """Agreement metrics of an :func:`agreement_frame`, the vendor as reference.

    Parameters
    ----------
    frame : DataFrame
        :func:`agreement_frame`.
    main_symbol : Series, optional
        pub_id → the record's main IPC symbol, for the list of codes most involved in
        disagreements.
    top : int
        Entries kept in each list of disagreement labels and codes.

    Returns
    -------
    dict
        ``n``; ``per_industry`` and ``per_branch`` (SEI code) → :func:`prf` + ``f1``;
        ``macro_f1`` over industries; ``disagreements`` per industry: ``rule_only`` (what
        the vendor said instead → count), ``vendor_only`` (what PatNav said → count) and,
        with ``main_symbol``, the main groups most frequent on each side.

    Examples
    --------
    >>> f = pd.DataFrame({"pub_id": ["a", "b", "c"],
    ...     "rule_industries": [frozenset({"it"}), frozenset({"it"}), frozenset()],
    ...     "vendor_industries": [frozenset({"it"}), frozenset(), frozenset({"it"})],
    ...     "rule_sei": [frozenset({"1.1"}), frozenset({"1.2"}), frozenset()],
    ...     "vendor_sei": [frozenset({"1.1"}), frozenset({"7.1"}), frozenset({"1.5"})]})
    >>> out = rule_vendor_agreement(f)
    >>> out["per_industry"]["it"]["precision"], out["per_industry"]["it"]["recall"]
    (0.5, 0.5)
    >>> out["disagreements"]["it"]["rule_only"], out["disagreements"]["it"]["vendor_only"]
    ({'7.1': 1}, {'none': 1})
    """
    n = len(frame)
    out: dict = {"n": int(n), "per_industry": {}, "per_branch": {}, "disagreements": {}}
    mg = None
    if main_symbol is not None:
        mg = frame["pub_id"].map(main_symbol).astype("string").str.extract(r"^([A-H]\d{2}[A-Z]\d+)", expand=False)
    for ind in INDUSTRY_ORDER:
        r = frame["rule_industries"].map(lambda s, i=ind: i in s)
        v = frame["vendor_industries"].map(lambda s, i=ind: i in s)
        if not (r.any() or v.any()):
            continue
        out["per_industry"][ind] = prf(int((r & v).sum()), int((r & ~v).sum()), int((~r & v).sum()))
        d = {"rule_only": frame.loc[r & ~v, "vendor_sei"].map(_label).value_counts().head(top).to_dict(),
             "vendor_only": frame.loc[~r & v, "rule_industries"].map(_label).value_counts().head(top).to_dict()}
        if mg is not None:
            d["rule_only_main_groups"] = mg[r & ~v].value_counts().head(top).to_dict()
            d["vendor_only_main_groups"] = mg[~r & v].value_counts().head(top).to_dict()
        out["disagreements"][ind] = {k: {str(a): int(b) for a, b in x.items()} for k, x in d.items()}
    f1s = [s["f1"] for s in out["per_industry"].values() if s["tp"] + s["fn"] > 0]
    if "nev" in out["per_industry"]:
        # The project's intelligent-vehicle branch (nev.intelligent) has no SEI code.
        r = frame["rule_sei"].map(lambda s: any(c.startswith("5.") for c in s))
        v = frame["vendor_industries"].map(lambda s: "nev" in s)
        out["nev_sei_branches_only"] = prf(int((r & v).sum()), int((r & ~v).sum()), int((~r & v).sum()))
    out["macro_f1"] = round(sum(f1s) / len(f1s), 4) if f1s else float("nan")
    codes = sorted(set().union(*frame["rule_sei"], *frame["vendor_sei"]) if n else set(),
                   key=lambda c: tuple(int(x) for x in c.split(".")))
    focus = {c for s in frame["rule_sei"] for c in s}
    for code in codes:
        if code not in focus and not any(code == c for c in ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "4.1", "4.2",
                                                            "4.3", "4.4", "4.5", "5.1", "5.2", "5.3", "5.4")):
            continue
        r = frame["rule_sei"].map(lambda s, c=code: c in s)
        v = frame["vendor_sei"].map(lambda s, c=code: c in s)
        out["per_branch"][code] = prf(int((r & v).sum()), int((r & ~v).sum()), int((~r & v).sum()))
    return out


def vendor_agreement(patents: pd.DataFrame, classifications: pd.DataFrame, source_labels: pd.DataFrame, rules,
                     taxonomy: Mapping, *, scheme: str = "sei", top: int = 8) -> dict:
    """Rule–vendor agreement on every record that carries both codes and the vendor's column.

    A record is compared when it comes from a file that has the vendor's ``scheme``
    labels (its ``provenance`` names the file; an empty cell there is the vendor's "no
    branch") and has codes at group level.

    Returns
    -------
    dict
        ``all`` and one entry per file (its name): :func:`rule_vendor_agreement`.
    """
    from .rules import rule_labels

    files = sorted(source_labels.loc[source_labels["scheme"] == scheme, "source"].astype(str).unique())
    if not files:
        return {}
    vendor = vendor_industries(source_labels, scheme)
    sei_of = branch_sei_codes(taxonomy)
    prov_file = patents["provenance"].astype("string").str.split("#", n=1, regex=False).str[0]
    coded = classifications[classifications["main_group"].notna()]
    main = coded[coded["is_main"].astype("boolean").fillna(False) & (coded["scheme"] == "IPC")]
    main = main.drop_duplicates("pub_id").set_index(main.drop_duplicates("pub_id")["pub_id"].astype(str))["symbol"]
    out, frames = {}, []
    for f in files:
        ids = patents.loc[(prov_file == f).to_numpy(), "pub_id"].astype(str)
        ids = ids[ids.isin(set(coded["pub_id"].astype(str)))]
        cls = coded[coded["pub_id"].astype(str).isin(set(ids))]
        frame = agreement_frame(ids, rule_labels(cls, rules), vendor, sei_of)
        frames.append(frame)
        out[f.replace("\\", "/").rsplit("/", 1)[-1]] = rule_vendor_agreement(frame, main_symbol=main, top=top)
    both = pd.concat(frames, ignore_index=True).drop_duplicates("pub_id")
    return {"all": rule_vendor_agreement(both, main_symbol=main, top=top), **out}
