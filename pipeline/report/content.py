"""What each navigation report says: sections, numbers, tables and charts.

Every sentence comes from ``text.yaml`` filled with numbers and names computed here
from the report data (:func:`pipeline.report.run.load_report_data`); nothing else is
written. Builders return a :class:`~pipeline.report.pdf.Report` and the tables behind
it (for the XLSX workbook), so every number of the PDF is also in the workbook.

Report types follow GB/T 39551: industry planning (.3; direction → positioning →
paths), enterprise operation (.4) and talent (.6).
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Rules
from ..yamlfile import parse_yaml
from ..growth import growth_rate, windows
from ..landscape import region_mask
from .. import lifecycle
from . import charts
from .. import recommend as rec
from .charts import shorten_label
from ..recommend import last_complete_year
from .pdf import Figure, Heading, KeyFigures, PageBreak, Paragraph, Report, Table

__all__ = ["build_report", "t", "fmt_share", "fmt_num", "branch_names"]

TEXT_PATH = Path(__file__).with_name("text.yaml")
_ORG_COLS = ("applicant", "holder", "top_rival", "group", "enterprise")  # table columns of organisation names
_PERSON_COLS = ("inventor",)
TOP = 10


@lru_cache(maxsize=1)
def _text() -> dict:
    return parse_yaml(TEXT_PATH.read_text(encoding="utf-8"))


def t(key: str, lang: str, **values) -> str:
    """The ``key`` (dotted path in ``text.yaml``) in ``lang``, filled with ``values``.

    Examples
    --------
    >>> t("col.year", "zh"), t("col.year", "en")
    ('年份', 'Year')
    """
    node = _text()
    for part in key.split("."):
        node = node[part]
    return node[lang].format(**values) if values else node[lang]


def fmt_num(x, digits: int = 2) -> str:
    """``1,234`` for whole numbers, ``0.57`` otherwise, ``–`` for missing.

    Examples
    --------
    >>> fmt_num(1234.0), fmt_num(0.5678), fmt_num(float("nan"))
    ('1,234', '0.57', '–')
    """
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return "–"
    x = float(x)
    return f"{int(round(x)):,}" if x.is_integer() else f"{x:,.{digits}f}"


def fmt_share(x) -> str:
    """``57.9%`` (``–`` for missing).

    Examples
    --------
    >>> fmt_share(0.5789), fmt_share(None)
    ('57.9%', '–')
    """
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{100 * float(x):.1f}%"


_PLACE = re.compile(r"(.+?(?:特别行政区|自治区|自治州|自治县|新区|省|市|区|县|旗))")
_PLACE_EN = {"特别行政区": " SAR", "自治区": "", "自治州": " Prefecture", "自治县": " County", "新区": " New Area",
             "省": "", "市": "", "区": " District", "县": " County", "旗": " Banner"}


_PLACE_READING = {"陕西": "Shaanxi", "内蒙古": "Inner Mongolia"}  # official spellings that plain pinyin misses


@lru_cache(maxsize=1 << 16)  # a report maps the same few hundred places over every inventor row
def place(text, lang: str) -> str:
    """A Chinese place name for the report's language: unchanged in Chinese, in pinyin in
    English, smallest unit first (``重庆市江北区`` → ``Jiangbei District, Chongqing``; a
    ``CN/重庆市/重庆市/江北区`` path likewise). Other text is returned as it is.

    Examples
    --------
    >>> place("重庆市江北区", "en"), place("CN/上海市/上海市/浦东新区", "en"), place("US", "en")
    ('Jiangbei District, Chongqing', 'Pudong New Area, Shanghai', 'US')
    >>> place("重庆市江北区", "zh")
    '重庆市江北区'
    """
    if lang != "en" or not isinstance(text, str) or not re.search(r"[\u4e00-\u9fff]", text):
        return text
    parts = []
    for piece in text.split("/"):
        if not re.search(r"[\u4e00-\u9fff]", piece):
            continue  # the country code of a path; the places say enough
        units = _PLACE.findall(piece) or [piece]
        rest = piece[sum(map(len, units)):]
        for unit in [*units, *([rest] if rest else [])]:
            suffix = next((k for k in _PLACE_EN if unit.endswith(k) and len(unit) > len(k)), "")
            base = unit[: len(unit) - len(suffix)] if suffix else unit
            name = _PLACE_READING.get(base) or _syllables(base).capitalize()
            name += _PLACE_EN.get(suffix, "")
            if name not in parts:
                parts.append(name)
    return ", ".join(reversed(parts)) or text


_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                      "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延")
_SURNAME_READING = {"单": "Shan", "曾": "Zeng", "解": "Xie", "仇": "Qiu", "区": "Ou", "查": "Zha", "朴": "Piao",
                    "盖": "Ge", "覃": "Qin", "尉": "Yu", "乐": "Yue", "缪": "Miao", "员": "Yun", "翟": "Zhai"}


def _syllables(text: str) -> str:
    """Hanyu pinyin of a word, syllables run together, an apostrophe before a syllable
    starting with a, o or e (``西安`` → ``xi'an``) as the pinyin rules write it."""
    from pypinyin import lazy_pinyin

    out = ""
    for k, syl in enumerate(lazy_pinyin(text, errors="default")):
        out += ("'" if k and syl[:1] in "aoe" else "") + syl
    return out


def romanize(name, *, person: bool = False) -> str:
    """A Chinese name in Hanyu pinyin for an English report, the original kept beside it.

    Persons: surname first, then the given name (``陈为`` → ``Chen Wei (陈为)``), with the
    readings of surnames that differ from the common reading (单 Shan, 曾 Zeng …).
    Organisations: word by word (``重庆长安汽车股份有限公司`` →
    ``Chongqing Chang'an Qiche Gufen Youxian Gongsi (…)``): the segmenter's words, long
    ones in two-character pieces, runs of single characters joined.
    Names without Chinese characters are returned as they are.

    Examples
    --------
    >>> romanize("陈为", person=True), romanize("欧阳明", person=True), romanize("单雄信", person=True)
    ('Chen Wei (陈为)', 'Ouyang Ming (欧阳明)', 'Shan Xiongxin (单雄信)')
    >>> romanize("西安电子科技大学")
    "Xi'an Dianzi Keji Daxue (西安电子科技大学)"
    >>> romanize("TOYOTA JIDOSHA KABUSHIKI KAISHA")
    'TOYOTA JIDOSHA KABUSHIKI KAISHA'
    """
    if not isinstance(name, str) or not re.search(r"[\u4e00-\u9fff]", name):
        return name
    text = name.strip()
    if person and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", text):
        n = 2 if text[:2] in _COMPOUND_SURNAMES else 1
        surname = _SURNAME_READING.get(text[:n]) or _syllables(text[:n]).capitalize()
        roman = f"{surname} {_syllables(text[n:]).capitalize()}"
    else:
        import rjieba

        words = []
        for w in (w for w in rjieba.cut(text) if w.strip()):
            if len(w) == 1 and words and len(words[-1]) == 1 and re.search(r"[\u4e00-\u9fff]", w + words[-1]):
                words[-1] += w  # a run of single characters is one word (讯 飞 -> 讯飞)
                continue
            if len(w) >= 4 and len(w) % 2 == 0 and re.fullmatch(r"[\u4e00-\u9fff]+", w):
                words += [w[k:k + 2] for k in range(0, len(w), 2)]  # 西北工业大学 -> 西北 工业 大学
                continue
            words.append(w)
        roman = " ".join(_syllables(w).capitalize() if re.search(r"[\u4e00-\u9fff]", w) else w for w in words)
        roman = re.sub(r"\s*([()（）])\s*", r" \1", roman).replace("（", "(").replace("）", ")").strip()
    return f"{roman} ({name})"


def branch_names(taxonomy: dict, lang: str, *, short: bool = False) -> dict[str, str]:
    """Branch id (``nev.components``) and industry id (``nev``) → name in ``lang``.

    ``short``: the taxonomy's short names (``short: {zh, en}``), for chart labels, where
    full names that share their first words (新能源汽车…) cannot be told apart.
    """
    out = {}
    for ind, spec in (taxonomy.get("industries") or {}).items():
        out[ind] = spec.get(lang) or ind
        for br, b in (spec.get("branches") or {}).items():
            name = b.get(lang) or br
            out[f"{ind}.{br}"] = ((b.get("short") or {}).get(lang) or name) if short else name
    return out


class _Builder:
    """Shared state of one report: language, names, numbering of charts, tables kept."""

    def __init__(self, d: dict, lang: str):
        self.d, self.lang = d, lang
        self.names = branch_names(d["taxonomy"], lang)
        self.short = branch_names(d["taxonomy"], lang, short=True)
        self.tables: dict[str, pd.DataFrame] = {}
        self.blocks: list = []
        self.source = t("src.db", lang, sources=", ".join(sorted(d["sources"])) or "–")
        self.n_fig = 0
        self.rules: Rules = d.get("rules") or Rules()
        self.facts: list[dict] = []  # scalars the text quotes that no table shows (workbook sheet "facts")
        self.section = ""
        self.complete_through: int = 9999  # last complete filing year; set by build_report

    # -- blocks
    def h(self, key: str, level: int = 1):
        self.section = t(f"h.{key}", self.lang)
        self.blocks.append(Heading(self.section, level))

    def fact(self, name: str, value):
        """Record a figure the text quotes that no table shows, and return it."""
        v = value.item() if isinstance(value, np.generic) else value
        self.facts.append({"section": self.section, "name": name, "value": v})
        return value

    def p(self, text: str, bullet: bool = False):
        self.blocks.append(Paragraph(text, bullet=bullet))

    def table(self, name: str, df: pd.DataFrame, cap: str, max_rows: int | None = None):
        """Add a table (columns renamed to the language) and keep it for the workbook."""
        self.tables[name] = df.reset_index(drop=True)
        # Years are labels, not quantities: "2022", never "2,022".
        years = [c for c in df.columns if c == "year" or str(c).endswith("_year")]
        df = df.assign(**{c: pd.to_numeric(df[c], errors="coerce").astype("Int64").astype("string") for c in years})
        if df.empty:
            return  # kept for the workbook; the report prints the reason instead of a bare header
        if self.lang == "en":  # Chinese names in pinyin beside the original
            df = df.assign(**{c: df[c].map(self.org) for c in _ORG_COLS if c in df},
                           **{c: df[c].map(self.person) for c in _PERSON_COLS if c in df})
        shown = df.rename(columns=lambda c: t(f"col.{c}", self.lang) if c in _text()["col"] else c)
        self.blocks.append(Table(shown.reset_index(drop=True), t(f"cap.{cap}", self.lang), self.source,
                                 max_rows=max_rows))

    def figure(self, name: str, fig, cap: str):
        self.n_fig += 1
        # Written by the report stage (charts.save_charts), not while the document is built.
        self.blocks.append(Figure(f"{self.n_fig:02d}_{name}_{self.lang}", t(f"cap.{cap}", self.lang), self.source,
                                  chart=fig))

    def bname(self, b) -> str:
        return self.names.get(b, b) if isinstance(b, str) else "–"

    def org(self, name):
        """An organisation's name as the report's language prints it: in English, its English
        name where the data has one (``names_en``), else pinyin, the original beside it."""
        if self.lang != "en":
            return name
        en = (self.d.get("names_en") or {}).get(name)
        return f"{en} ({name})" if en else romanize(name)

    def person(self, name):
        """A person's name as the report's language prints it (pinyin, surname first, in English)."""
        return romanize(name, person=True) if self.lang == "en" else name

    def sname(self, b) -> str:
        """Short branch name for chart labels."""
        return self.short.get(b, self.bname(b)) if isinstance(b, str) else self.bname(b)


# ----------------------------------------------------------------------------- shared sections


def _scope_counts(d: dict) -> dict:
    p = d["patents"]
    years = p["filing_year"].dropna()
    return {"n": len(p), "families": int(p["family_id"].fillna(p["pub_id"]).nunique()),
            "y0": int(years.min()) if len(years) else "–", "y1": int(years.max()) if len(years) else "–"}


def _scope_method(b: _Builder, project):
    d, lang = b.d, b.lang
    b.h("scope")
    b.h("scope_industry", 2)
    ind = project.industry.split(".")[0]
    b.p(t("p.industry_def", lang, industry=b.names.get(ind, ind), version=d["taxonomy"].get("version", "–")))
    rows = [{"branch": b.bname(f"{ind}.{br}"),
             "description": ((spec.get("description") or {}).get(lang) or "")}
            for br, spec in (d["taxonomy"]["industries"][ind].get("branches") or {}).items()
            if project.industry in (ind, f"{ind}.{br}")]
    b.table("branch_definitions", pd.DataFrame(rows, columns=["branch", "description"]), "branch_def")
    how = t("p.scope_how_search", lang) if project.search else \
        t("p.scope_how_labels", lang, c=d["params"]["analysis"]["min_confidence"])
    b.p(t("p.scope_rule", lang, how=how))
    if (n_doubt := d["metrics"].get("doubtful_excluded")) is not None:
        b.p(t("p.scope_doubtful", lang, n=fmt_num(b.fact("doubtful_excluded", n_doubt))))
    b.h("scope_data", 2)
    src = pd.DataFrame({"source": list(d["sources"]), "records": list(d["sources"].values())})
    b.table("data_sources", src, "sources")
    b.h("scope_quality", 2)
    q = (d["metrics"].get("search") or {})
    if q.get("sample"):
        b.p(t("p.quality_search", lang, p=fmt_share(b.fact("search_precision", q.get("precision"))),
              r=fmt_share(b.fact("search_recall", q.get("recall"))), n=b.fact("search_sample", q.get("sample")), judged=q.get("judged_by", "–")))
    # Text-model figures of the train stage (metrics/train.json): held out by source.
    tm = d.get("train_metrics") or {}
    f1 = {k: (tm.get(key) or {}).get("macro_f1") for k, key in
          (("en", "exports:en:title+abstract"), ("zh", "exports:zh:title+abstract"), ("dev", "zh_dev:random:title+abstract"))}
    b.p(t("p.quality_model", lang, **{k: fmt_num(b.fact(f"text_model_macro_f1_{k}", v)) for k, v in f1.items()}))
    b.h("scope_gaps", 2)
    p = d["patents"]
    if len(p):
        syn = float(p["synthetic"].fillna(False).astype(bool).mean()) if "synthetic" in p else 0.0
        if syn > 0:
            b.p(t("p.gap_synthetic", lang, share=fmt_share(b.fact("share_synthetic", syn))), bullet=True)
        nostatus = float(p["legal_status"].isna().mean())
        b.p(t("p.gap_status", lang, share=fmt_share(b.fact("share_no_status", nostatus))), bullet=True)
        if "abstract" in p:
            b.p(t("p.gap_abstract", lang, share=fmt_share(b.fact("share_no_abstract", float(p["abstract"].isna().mean())))),
                bullet=True)
        if "with_inventors" in d:
            b.p(t("p.gap_inventors", lang, share=fmt_share(b.fact("share_no_inventor", 1 - d["with_inventors"] / len(p)))),
                bullet=True)
    if located := d.get("located"):
        b.p(t("p.gap_located", lang, region=project.region.label,
              **{k: f"{b.fact(f'located_{k}', v):,}" for k, v in located.items()}),
            bullet=True)


def _appendix(b: _Builder):
    d, lang = b.d, b.lang
    b.blocks.append(PageBreak())
    b.h("appendix")
    b.p(t("p.appendix_text", lang))
    params = pd.DataFrame([{"param": k, "value": str(v)} for k, v in d["param_rows"].items()])
    b.table("parameters", params, "params")
    fp = pd.DataFrame([{"file": k, "md5": v} for k, v in d["fingerprints"].items()], columns=["file", "md5"])
    b.table("fingerprints", fp, "fingerprints")


# ----------------------------------------------------------------------------- industry direction


def _trend(b: _Builder, project) -> dict:
    d, lang = b.d, b.lang
    p = d["patents"]
    region = project.region
    yrs = p.dropna(subset=["filing_year"]).assign(filing_year=lambda x: x["filing_year"].astype(int))
    series = {"all": yrs, "CN": yrs[yrs["nationality"].eq("CN").fillna(False)],
              region.label: yrs[region_mask(yrs, region)]}
    labels = {"all": "全球" if lang == "zh" else "World", "CN": "中国申请人" if lang == "zh" else "Chinese applicants",
              region.label: region.label}
    trend = pd.concat([s.groupby("filing_year").size().rename("count").reset_index().assign(series=labels[k])
                       for k, s in series.items()], ignore_index=True).rename(columns={"filing_year": "year"})
    # Filings of the last ~18 months before the data's cut-off are not all published yet.
    trend["complete"] = trend["year"] <= b.complete_through
    b.h("trend", 2)
    per_year = series["all"].groupby("filing_year").size()
    complete = per_year[per_year.index <= b.complete_through]
    if len(complete):
        cutoff = b.fact("data_cutoff", pd.Timestamp(d["latest_publication"]).date().isoformat()) \
            if d.get("latest_publication") is not None else "–"
        b.p(t("p.trend_text", lang, peak=int(complete.idxmax()), max=int(complete.max()), last=b.complete_through,
              cutoff=cutoff, lag=b.rules.publication_lag_months,
              cn=b.fact("chinese_applicants", len(series["CN"])),
              cn_share=fmt_share(b.fact("chinese_applicants_share", len(series["CN"]) / max(len(yrs), 1)))))
        b.figure("trend", charts.trend_chart(trend, lang=lang, complete_through=b.complete_through), "trend")
    b.tables["trend"] = trend
    return {"per_year": per_year, "years": yrs}


def _lifecycle(b: _Builder, yrs: pd.DataFrame) -> dict:
    lang = b.lang
    b.h("lifecycle", 2)
    # Fitted on complete years only: the unpublished tail would read as a decline.
    yrs = yrs[yrs["filing_year"] <= b.complete_through]
    per_year = yrs.groupby("filing_year").size()
    applicants = yrs.groupby("filing_year")["first_applicant"].nunique()
    years = per_year.index.to_numpy()
    fit = lifecycle.fit_lifecycle(years, per_year.to_numpy())
    phases = lifecycle.phase_table(years, per_year.to_numpy(), applicants.reindex(per_year.index).to_numpy())
    stage = t(f"stage.{_stage_key(fit.stage)}", lang)
    last_phase = _phase_name(phases, lang)
    weak = False
    if fit.stage != "undetermined":
        t0 = int(round(fit.inflection_year)) if fit.inflection_year is not None and np.isfinite(fit.inflection_year) \
            else None
        b.p(t("p.lifecycle_text", lang, K=fmt_num(b.fact("logistic_K", fit.params.get("K"))),
              t0=str(b.fact("logistic_inflection_year", t0)) if t0 is not None else "–",
              sat=fmt_share(b.fact("logistic_saturation", fit.saturation)), phase=last_phase))
        # The fit's own caveats (K at its bound, a far inflection, a straight line as good):
        # the stage is then weakly supported and the text says so.
        if weak := any(n.startswith(("K at its upper bound", "inflection", "a straight line")) for n in fit.notes):
            b.p(t("p.lifecycle_caveat", lang))
    else:
        b.p(t("p.summary_stage_none", lang, reason=fit.reason))
    if len(years):
        if not weak:  # an S-curve drawn up to an unidentified K is scale, not information
            b.figure("lifecycle", charts.lifecycle_chart(fit, years, per_year.to_numpy(), lang=lang), "lifecycle")
        b.figure("phase", charts.phase_chart(phases, lang=lang), "phase")
    b.tables["lifecycle_phases"] = pd.DataFrame(phases)
    return {"fit": fit, "stage": stage, "weak": fit.stage != "undetermined" and weak}


def _stage_key(stage: str) -> str:
    s = str(stage).lower()
    for k in ("emerging", "growth", "maturity", "saturation"):
        if s.startswith(k):
            return k
    return "undetermined"


def _phase_name(phases, lang: str) -> str:
    df = pd.DataFrame(phases)
    col = f"phase_{lang}" if f"phase_{lang}" in df else ("phase" if "phase" in df else None)
    if col is None or df.empty:
        return "–"
    vals = df[col].dropna()
    return str(vals.iloc[-1]) if len(vals) else "–"


def _branches(b: _Builder, yrs: pd.DataFrame, window: int) -> pd.DataFrame:
    d, lang = b.d, b.lang
    b.h("branches", 2)
    lab = d["labels"].dropna(subset=["branch"]).merge(yrs[["pub_id", "filing_year"]], on="pub_id")
    per = lab.groupby(["filing_year", "branch"]).size().rename("count").reset_index()
    # Growth windows end at the last complete filing year: later years are not all published.
    last = min(int(yrs["filing_year"].max()), b.complete_through) if len(yrs) else 0
    in_recent, in_before = windows(lab["filing_year"], last, window)
    recent, before = lab[in_recent].groupby("branch").size(), lab[in_before].groupby("branch").size()
    tab = lab.groupby("branch")["pub_id"].nunique().rename("count").to_frame()
    tab["share"] = tab["count"] / max(yrs["pub_id"].nunique(), 1)
    tab["before"] = before.reindex(tab.index).fillna(0).astype(int)
    tab["growth"] = growth_rate(recent.reindex(tab.index).fillna(0), before.reindex(tab.index).fillna(0))
    tab = tab.sort_values(["count"], ascending=False, kind="stable").reset_index()
    if len(tab):
        fast = tab.dropna(subset=["growth"]).sort_values("growth", ascending=False, kind="stable")
        b.p(t("p.branches_text", lang, top=b.bname(tab.iloc[0]["branch"]), n=int(tab.iloc[0]["count"]),
              share=fmt_share(tab.iloc[0]["share"]), w=window,
              fast=b.bname(fast.iloc[0]["branch"]) if len(fast) else "–",
              growth=fmt_share(fast.iloc[0]["growth"]) if len(fast) else "–"))
        shown = per.assign(category=per["branch"].map(b.sname)).rename(columns={"filing_year": "year"})
        b.figure("branches", charts.stacked_bar(shown[["year", "category", "count"]], lang=lang), "branches")
    out = tab.assign(branch=tab["branch"].map(b.bname))
    b.table("branches", out[["branch", "count", "share", "growth"]], "branches")
    return tab


def _hotspots_paths(b: _Builder):
    d, lang = b.d, b.lang
    b.h("hotspots", 2)
    cl = d["clusters"].get(lang, pd.DataFrame()) if isinstance(d["clusters"], dict) else d["clusters"]
    if len(cl):
        fast = cl.dropna(subset=["growth"]).sort_values(["growth", "size"], ascending=False, kind="stable")
        top = fast.iloc[0] if len(fast) else cl.iloc[0]
        b.p(t("p.clusters_text", lang, n=len(cl), label=top.get("label", "–"), size=int(top["size"]),
              growth=fmt_share(top.get("growth"))))
        show = cl.head(TOP)[["label", "size", "in_scope", "growth"]] if "in_scope" in cl else \
            cl.head(TOP)[["label", "size", "growth"]]
        b.table("clusters", show, "clusters")
    else:
        b.p(t("p.clusters_none", lang))
    b.h("paths", 2)
    mp = d["main_paths"]
    glob = mp[mp["path"] == "global"].sort_values("order")
    if len(glob):
        # Order 0 is the oldest link: the path runs from its cited patent to the last citing one.
        b.p(t("p.paths_text", lang, n=len(glob), first=glob.iloc[0]["cited"], last=glob.iloc[-1]["citing"]))
        nodes = pd.Index(pd.unique(pd.concat([glob["cited"], glob["citing"]])))
        edges = pd.DataFrame({"src": glob["citing"].to_numpy(), "dst": glob["cited"].to_numpy(),
                              "weight": glob["weight"].to_numpy()})
        info = d.get("path_nodes", pd.DataFrame(columns=["pub_id", "title", "title_en", "year"])).set_index("pub_id")
        title = info["title_en"].fillna(info["title"]) if lang == "en" else info["title"].fillna(info["title_en"])
        year = info["year"]
        # Number, year and a short title per node (outside documents: the number alone).
        label = [f"{x} ({int(year[x])})\n{shorten_label(str(title[x]), 12)}" if x in info.index and pd.notna(year[x])
                 and pd.notna(title[x]) else x for x in nodes]
        nd = pd.DataFrame({"node": nodes, "label": label})
        if len(glob) >= 3:  # a diagram of one or two links says nothing the table does not
            b.figure("main_path", charts.network_chart(nd, edges, lang=lang, max_label=40), "main_path")
        shown = glob.assign(citing_year=glob["citing"].map(year), cited_year=glob["cited"].map(year),
                            title=glob["citing"].map(title))
        b.table("main_path", shown[["citing", "citing_year", "title", "cited", "cited_year", "weight"]], "main_path")
    else:
        b.p(t("p.paths_none", lang))


def _markets_applicants(b: _Builder, yrs: pd.DataFrame):
    lang = b.lang
    b.h("markets", 2)
    srcs = yrs["nationality"].value_counts()
    dst = yrs["country"].value_counts()
    m = pd.DataFrame({"applicants_n": srcs, "published_n": dst}).fillna(0).astype(int)
    m = m.sort_values(["applicants_n", "published_n"], ascending=False, kind="stable").head(TOP)
    m = m.rename_axis("country").reset_index()
    b.p(t("p.markets_text", lang, src=", ".join(srcs.head(3).index.astype(str)) or "–",
          dst=", ".join(dst.head(3).index.astype(str)) or "–"))
    # How each patent's source country was found (workbook table "source_routes"; the text quotes it).
    routes = yrs["nationality_by"].fillna("unknown").value_counts().reindex(
        ["applicant", "inventor", "priority", "unknown"], fill_value=0)
    b.tables["source_routes"] = pd.DataFrame({"route": routes.index, "patents": routes.to_numpy(),
                                              "share": (routes / max(len(yrs), 1)).round(4).to_numpy()})
    b.p(t("p.nationality_text", lang, n=fmt_num(len(yrs)), applicant=fmt_num(routes["applicant"]),
          inventor=fmt_num(routes["inventor"]), priority=fmt_num(routes["priority"]),
          unknown=fmt_num(routes["unknown"]), share=fmt_share(routes["unknown"] / max(len(yrs), 1))))
    b.table("markets", m, "markets")
    b.h("applicants", 2)
    app = yrs["first_applicant"].dropna().value_counts()
    share = app / max(app.sum(), 1)
    cr4, cr8, hhi = share.head(4).sum(), share.head(8).sum(), float((share**2).sum())
    level = "hhi_low" if hhi < 0.15 else ("hhi_mid" if hhi < 0.25 else "hhi_high")
    b.tables["concentration"] = pd.DataFrame({"measure": ["CR4", "CR8", "HHI"], "value": [cr4, cr8, hhi]})
    b.p(t("p.applicants_text", lang, cr4=fmt_share(cr4), cr8=fmt_share(cr8), hhi=fmt_num(hhi, 3),
          level=t(f"p.{level}", lang)))
    top = app.head(15).rename_axis("applicant").rename("count").reset_index()
    if len(top):
        b.figure("applicants", charts.bar_chart(top.rename(columns={"applicant": "label", "count": "value"}),
                                                lang=lang), "applicants")
    b.table("top_applicants", top, "applicants")
    return {"cr4": cr4, "cr8": cr8, "hhi": hhi}


# ----------------------------------------------------------------------------- positioning and paths


def _positioning(b: _Builder, project) -> dict:
    d, lang = b.d, b.lang
    b.h("positioning")
    pos = d["positioning"]
    region = project.region.label
    own = pos[pos["region"] == region] if len(pos) else pos
    b.h("position_branches", 2)
    b.p(t("p.positioning_text", lang, region=region, n=int(d["metrics"].get("region_publications", 0))))
    if len(pos):
        shown = pos.assign(branch=pos["branch"].map(b.bname))
        b.table("positioning", shown[["region", "branch", "count", "share", "rta", "high_value", "growth"]],
                "positioning")
        heat = pos.assign(branch=pos["branch"].map(b.sname)).pivot_table(
            index="region", columns="branch", values="rta", aggfunc="first", sort=False)
        if heat.shape[1] > 1:  # with one branch every RTA is 1 by definition: nothing to show
            b.figure("rta", charts.heatmap(heat, lang=lang), "rta")
    b.h("local_players", 2)
    p = d["patents"]
    local = p[region_mask(p, project.region)]
    apps = local["first_applicant"].dropna().value_counts().head(TOP).rename_axis("applicant").rename("count")
    b.table("local_applicants", apps.reset_index(), "local_applicants")
    inv = d["inventors_local"]
    if len(inv):
        shown = inv.head(TOP).assign(branches=lambda x: x["branches"].astype("string").fillna("").map(
            lambda v: ", ".join(b.bname(i) for i in v.split(";") if i)))
        b.table("local_inventors", shown[["name", "patents", "high_value", "citations_5y", "branches"]]
                .rename(columns={"name": "inventor", "patents": "count", "citations_5y": "citations",
                                 "branches": "branch"}), "local_inventors")
    b.h("strengths", 2)
    judged = rec.strengths(own, b.rules)
    strong, weak, few = ([b.bname(x) for x in judged[k]] for k in ("strong", "weak", "too_few"))
    join = "、" if lang == "zh" else ", "
    b.p(t("p.summary_strong", lang, region=region, branches=join.join(strong) or "–"))
    b.p(t("p.summary_weak", lang, branches=join.join(weak) or "–"))
    if few:
        b.p(t("p.too_few_rta", lang, branches=join.join(few), min=b.rules.min_region_patents))
    dep = d["metrics"].get("knowledge_dependence")
    if dep and dep.get("citations"):
        b.h("dependence", 2)
        top = ", ".join(f"{s['region']} ({s['citations']})" for s in dep.get("top_sources", [])[:3]) or "–"
        b.tables["dependence"] = pd.DataFrame(
            [{"measure": k, "value": dep.get(k)} for k in ("citations", "inside", "outside", "outside_share")]
            + [{"measure": f"source:{x['region']}", "value": x["citations"]} for x in dep.get("top_sources", [])])
        b.p(t("p.dependence_text", lang, region=region, cit=dep["citations"], inside=dep["inside"],
              outside=dep["outside"], share=fmt_share(dep.get("outside_share")), top=top))
    return {"strong": strong, "weak": weak, "own": own}


def _talent_sentence(b: _Builder, r: pd.Series) -> str:
    """One talent candidate as a recommendation, with the numbers behind it."""
    region = next((r[c] for c in ("city", "province", "country") if c in r and pd.notna(r[c]) and r[c]), "–")
    return t("p.rec_talent", b.lang, name=b.person(r["name"]), region=region, n=int(r["families"]),
             y0=int(r["first_year"]), y1=int(r["last_year"]),
             hv=int(r["high_value"]) if pd.notna(r["high_value"]) else 0,
             branches=", ".join(b.bname(x) for x in str(r.get("weak_branches") or "").split(";") if x))


def _titled(b: _Builder, rows: pd.DataFrame) -> pd.DataFrame:
    """``title`` in the report's language where the data has it (English titles of the exports)."""
    if b.lang == "en" and "title_en" in rows:
        return rows.assign(title=rows["title_en"].fillna(rows["title"]))
    return rows


def _why(b: _Builder, picked: rec.Picked) -> None:
    """An empty recommendation table says why it is empty, with the rule's minimums."""
    if not picked:
        b.p(t(picked.reason, b.lang, **(picked.values or {})))


def _development(b: _Builder, project, branch_tab: pd.DataFrame, own: pd.DataFrame) -> list[str]:
    """Development paths (rules in :mod:`pipeline.report.recommend`); returns the summary's sentences."""
    d, lang, rules = b.d, b.lang, b.rules
    recs = []
    b.h("paths_dev")
    w = d["params"]["analysis"]["growth_window"]
    p = d["patents"]
    end = b.complete_through
    local_mask = region_mask(p, project.region).to_numpy(dtype=bool)
    local_groups = set(p.loc[local_mask, "first_applicant"].dropna())
    types = rec.group_types(p)
    b.p(t("p.rules_text", lang, region_min=rules.min_region_patents, growth_min=rules.min_growth_base,
          firm_min=rules.min_firm_patents, inv_min=rules.min_inventor_patents, years=rules.active_years,
          end=end))
    # Branches to strengthen: weak here (RTA < 1), not shrinking in the field.
    b.h("dev_branches", 2)
    branches = rec.branches_to_strengthen(own, branch_tab, rules)
    for _, r in branches.rows.head(3).iterrows():
        growth = fmt_share(r["field_growth"]) if r["growth_judged"] else t("p.too_few", lang, n=int(r["field_before"]))
        s = t("p.rec_branch", lang, branch=b.bname(r["branch"]), count=int(r["count"]), rta=fmt_num(r["rta"]),
              w=w, growth=growth, end=end)
        b.p(s, bullet=True)
        recs.append(s)
    _why(b, branches)
    b.tables["dev_branches"] = branches.rows
    # Enterprises outside the region strong in those branches; local enterprises to cultivate.
    b.h("dev_firms", 2)
    attract = rec.firms_to_attract(d["portfolios_branch"], p, branches.rows["branch"], local_groups, types, end, rules)
    for _, r in attract.rows.head(3).iterrows():
        s = t("p.rec_attract", lang, name=b.org(r["group"]), branch=b.bname(r["branch"]), n=int(r["publications"]),
              value=fmt_num(r["mean_value_index"]), last=int(r["last_year"]))
        b.p(s, bullet=True)
        recs.append(s)
    b.table("dev_attract", attract.rows.assign(branch=attract.rows["branch"].map(b.bname))[
        ["group", "branch", "publications", "high_value", "mean_value_index", "last_year"]].rename(
        columns={"group": "applicant", "publications": "count", "mean_value_index": "value"}), "dev_attract")
    _why(b, attract)
    cultivate = rec.firms_to_cultivate(p, local_mask, types, end, rules)
    for _, r in cultivate.rows.head(2).iterrows():
        s = t("p.rec_cultivate", lang, name=b.org(r["group"]), n=int(r["count"]), hv=int(r["high_value"]),
              y0=int(r["first_year"]), y1=int(r["last_year"]))
        b.p(s, bullet=True)
        recs.append(s)
    b.table("dev_cultivate", cultivate.rows.rename(columns={"group": "applicant"}), "dev_cultivate")
    _why(b, cultivate)
    # Talent
    b.h("dev_talent", 2)
    talent = rec.talent_to_recruit(d["talent"], end, rules)
    for _, r in talent.rows.head(3).iterrows():
        s = _talent_sentence(b, r)
        b.p(s, bullet=True)
        recs.append(s)
    if talent:
        shown = talent.rows.assign(weak_branches=lambda x: x["weak_branches"].astype("string").fillna("").map(
            lambda v: ", ".join(b.bname(i) for i in v.split(";") if i)))
        b.table("dev_talent", shown[["name", "families", "high_value", "citations_5y", "first_year", "last_year", "city",
                                     "weak_branches"]]
                .rename(columns={"name": "inventor", "families": "count", "citations_5y": "citations",
                                 "city": "region", "weak_branches": "branch"}), "dev_talent")
    _why(b, talent)
    # Technology to license: alive, valuable patents of universities / institutes outside the region.
    b.h("dev_tech", 2)
    lic = rec.license_candidates(p, local_mask, tuple(project.years), rules, doubtful=d.get("doubtful"))
    for _, r in lic.rows.head(2).iterrows():
        s = t("p.rec_license", lang, pub=r["pub_id"], holder=b.org(r["first_applicant"]), value=fmt_num(r["value_index"]),
              year=int(r["filing_year"]))
        b.p(s, bullet=True)
        recs.append(s)
    b.table("dev_license", _titled(b, lic.rows)[["pub_id", "title", "first_applicant", "filing_year", "value_index"]].rename(
        columns={"pub_id": "patent", "first_applicant": "holder", "filing_year": "year", "value_index": "value"}),
        "dev_license")
    _why(b, lic)
    # High-value portfolios: the local organisations closest to the test.
    b.h("dev_portfolios", 2)
    close = rec.portfolios_near_test(d["portfolios_industry"], local_groups, types, rules)
    b.table("dev_portfolios", close.rows.rename(columns={"group": "applicant"}), "dev_portfolios")
    _why(b, close)
    return recs


# ----------------------------------------------------------------------------- report types


def _summary(b: _Builder, project, counts: dict, life: dict, pos: dict, recs: list[str],
             figures: list[tuple[str, str]] | None = None, lead: list[str] = ()):
    """The summary page; ``figures`` and ``lead`` replace the region's key figures (enterprise reports)."""
    d, lang = b.d, b.lang
    ind = project.industry
    blocks = []
    n_region = b.fact("region_publications", int(d["metrics"].get("region_publications", 0)))
    share = b.fact("region_share", d["metrics"].get("region_share"))
    blocks.append(Heading(t("h.summary", lang), 1))
    blocks.append(KeyFigures(figures or [(t("col.count", lang), fmt_num(counts["n"])),
                                         (project.region.label, f"{n_region} ({fmt_share(share)})"),
                                         (t("col.stage", lang), life.get("stage", "–"))]))
    blocks.append(Paragraph(t("p.summary_scope", lang, industry=b.bname(ind), n=fmt_num(b.fact("patents", counts["n"])),
                              families=fmt_num(b.fact("families", counts["families"])), y0=counts["y0"], y1=counts["y1"],
                              region=project.region.label, n_region=n_region, share=fmt_share(share))))
    blocks += [Paragraph(x) for x in lead]
    fit = life.get("fit")
    if fit is not None and fit.stage != "undetermined":
        blocks.append(Paragraph(t("p.summary_stage", lang, stage=life["stage"], r2=fmt_num(b.fact("lifecycle_r2", fit.r2), 3))
                                + (t("p.summary_stage_weak", lang) if life.get("weak") else "")))
    if pos.get("strong") is not None:
        join = "、" if lang == "zh" else ", "
        blocks.append(Paragraph(t("p.summary_strong", lang, region=project.region.label,
                                  branches=join.join(pos["strong"]) or "–")))
        blocks.append(Paragraph(t("p.summary_weak", lang, branches=join.join(pos["weak"]) or "–")))
    dep = d["metrics"].get("knowledge_dependence")
    if dep and dep.get("citations"):
        blocks.append(Paragraph(t("p.summary_dependence", lang, region=project.region.label,
                                  share=fmt_share(b.fact("outside_share", dep.get("outside_share"))))))
    blocks.append(Heading(t("h.recommendations", lang), 2))
    for s in recs[:6] or [t("p.rec_none", lang)]:
        blocks.append(Paragraph(s, bullet=True))
    blocks.append(PageBreak())
    return blocks


def _industry(b: _Builder, project):
    counts = _scope_counts(b.d)
    body_start = len(b.blocks)
    _scope_method(b, project)
    b.blocks.append(PageBreak())
    b.h("direction")
    tr = _trend(b, project)
    life = _lifecycle(b, tr["years"])
    window = b.d["params"]["analysis"]["growth_window"]
    branch_tab = _branches(b, tr["years"], window)
    _hotspots_paths(b)
    _markets_applicants(b, tr["years"])
    b.blocks.append(PageBreak())
    pos = _positioning(b, project)
    b.blocks.append(PageBreak())
    recs = _development(b, project, branch_tab, pos["own"])
    _appendix(b)
    b.blocks[body_start:body_start] = _summary(b, project, counts, life, pos, recs)


def _enterprise(b: _Builder, project):
    """GB/T 39551.4: the enterprise's portfolio, competitors, control, gaps, risks, candidates."""
    d, lang, rules = b.d, b.lang, b.rules
    counts = _scope_counts(d)
    body_start = len(b.blocks)
    _scope_method(b, project)
    b.blocks.append(PageBreak())
    b.h("enterprise_position")
    p = d["patents"]
    own_ids = set(p.loc[p["pub_id"].isin(d.get("enterprise_pubs") or []), "pub_id"])
    own = p[p["pub_id"].isin(own_ids)]
    recs = []
    b.tables["enterprise"] = pd.DataFrame([{"enterprise": project.enterprise, "group": d.get("enterprise_group"),
                                            "patents": len(own),
                                            "high_value": int(own["high_value"].fillna(False).astype(bool).sum()),
                                            "mean_value_index": own["value_index"].mean()}])
    b.p(t("p.enterprise_intro", lang, enterprise=b.org(project.enterprise), industry=b.bname(project.industry),
          n=len(own), hv=int(own["high_value"].fillna(False).astype(bool).sum()),
          value=fmt_num(own["value_index"].mean())))
    # Its portfolio by branch and year.
    lab = d["labels"][d["labels"]["pub_id"].isin(own_ids)].dropna(subset=["branch"])
    by_year = lab.merge(own[["pub_id", "filing_year"]], on="pub_id").dropna(subset=["filing_year"])
    by_year = by_year.groupby(["filing_year", "branch"])["pub_id"].nunique().rename("count").reset_index()
    if by_year["filing_year"].nunique() >= 3:
        shown = by_year.assign(category=by_year["branch"].map(b.sname)).rename(columns={"filing_year": "year"})
        b.figure("own_branches", charts.stacked_bar(shown[["year", "category", "count"]], lang=lang), "own_branches")
    # Competitors are applicant groups (one firm under its Chinese and English names); the
    # licensing table below names each patent's own applicant.
    by_applicant = p
    if "first_group" in p:
        p = p.assign(first_applicant=p["first_group"].fillna(p["first_applicant"]))
    types = rec.group_types(p)
    comp = rec.competitors(p, d["labels"], own_ids, types, rules)
    b.h("competitors", 2)
    b.p(t("p.competitors_text", lang, min=rules.min_firm_patents, y0=project.years[0], y1=project.years[1]))
    b.table("competitors", comp.rows[["group", "patents", "branches", "overlap"]].rename(
        columns={"group": "applicant", "patents": "count", "branches": "n_branches"}), "competitors")
    _why(b, comp)
    rivals = comp.rows["group"].tolist()
    b.h("control", 2)
    pos = rec.branch_position(p, d["labels"], own_ids, rivals)
    b.p(t("p.control_text", lang))
    b.table("control", pos.assign(branch=pos["branch"].map(b.bname), share=pos["share"].map(fmt_share),
                                  rpp=pos["rpp"].map(fmt_num)).rename(
        columns={"own": "own_count", "total": "count", "rival": "top_rival"}), "control")
    b.h("gaps", 2)
    gaps = pos.loc[(pos["own"] == 0) & pos["rival"].notna(), "branch"].tolist()
    s = t("p.gaps_text", lang, branches=("、" if lang == "zh" else ", ").join(b.bname(x) for x in gaps) or "–")
    b.p(s)
    if gaps:
        recs.append(s)
    b.h("risks", 2)
    edges = d.get("edges", pd.DataFrame(columns=["citing", "cited"]))
    risk = rec.risk_patents(p, own_ids, rivals, edges, rules)
    b.p(t("p.risks_text", lang))
    b.table("risks", _titled(b, risk.rows).assign(link=risk.rows["link"].map(lambda v: t(f"link.{v}", lang)))[
        ["pub_id", "title", "first_applicant", "filing_year", "value_index", "link"]].rename(
        columns={"pub_id": "patent", "first_applicant": "holder", "filing_year": "year", "value_index": "value"}),
        "risks")
    _why(b, risk)
    b.h("licensing", 2)
    # Technology to license in: the rules of the industry reports, the enterprise's own patents left out.
    lic = rec.license_candidates(by_applicant, by_applicant["pub_id"].isin(own_ids).to_numpy(dtype=bool),
                                 tuple(project.years), rules, doubtful=d.get("doubtful"))
    for _, r in lic.rows.head(3).iterrows():
        s = t("p.rec_license", lang, pub=r["pub_id"], holder=b.org(r["first_applicant"]), value=fmt_num(r["value_index"]),
              year=int(r["filing_year"]))
        b.p(s, bullet=True)
        recs.append(s)
    b.table("licensing", _titled(b, lic.rows)[["pub_id", "title", "first_applicant", "filing_year", "value_index"]].rename(
        columns={"pub_id": "patent", "first_applicant": "holder", "filing_year": "year", "value_index": "value"}),
        "licensing")
    _why(b, lic)
    _appendix(b)
    led = pos.loc[pos["rpp"] >= 1, "branch"].map(b.bname).tolist()
    figures = [(t("col.own_count", lang), fmt_num(len(own))), (t("h.competitors", lang), fmt_num(len(comp.rows))),
               (t("col.led_branches", lang), fmt_num(len(led)))]
    lead = [t("p.enterprise_intro", lang, enterprise=b.org(project.enterprise), industry=b.bname(project.industry),
              n=len(own), hv=int(own["high_value"].fillna(False).astype(bool).sum()),
              value=fmt_num(own["value_index"].mean())),
            t("p.enterprise_lead", lang, branches=("、" if lang == "zh" else ", ").join(led) or "–",
              rival=b.org(comp.rows["group"].iloc[0]) if len(comp.rows) else "–")]
    b.blocks[body_start:body_start] = _summary(b, project, counts, {"stage": "–"}, {}, recs, figures, lead)


def _talent(b: _Builder, project):
    d, lang = b.d, b.lang
    counts = _scope_counts(d)
    body_start = len(b.blocks)
    _scope_method(b, project)
    b.blocks.append(PageBreak())
    inv = d["inventors_scope"]
    local = d["inventors_local"]
    b.h("inventors")
    b.p(t("p.talent_intro", lang, industry=b.bname(project.industry), n=b.fact("inventors", len(inv)),
          region=project.region.label, n_region=b.fact("inventors_region", len(local))))
    rank = inv.sort_values(["high_value", "citations_5y", "patents", "inventor_id"],
                           ascending=[False, False, False, True], kind="stable").head(20)
    # The project's industry only, by short name (an inventor's branches elsewhere are not this report's).
    ind = project.industry.split(".")[0]
    rank = rank.assign(branches=rank["branches"].astype("string").fillna("").map(
        lambda v: ("、" if lang == "zh" else ", ").join(
            b.sname(i) for i in v.split(";") if i.split(".")[0] == ind) or "–"))
    b.table("inventors", rank[["name", "patents", "high_value", "citations_5y", "co_inventors", "branches", "city"]]
            .rename(columns={"name": "inventor", "patents": "count", "citations_5y": "citations",
                             "co_inventors": "members", "branches": "branch", "city": "region"}), "inventors")
    if len(rank) and rank.head(15)["patents"].nunique() > 1:  # equal bars say nothing the table does not
        b.figure("inventors", charts.bar_chart(rank.head(15).rename(columns={"name": "label", "patents": "value"})
                                               [["label", "value"]], lang=lang), "inventors")
    b.h("candidates")
    picked = rec.talent_to_recruit(d["talent"], b.complete_through, b.rules)
    tal = picked.rows
    recs = []
    for _, r in tal.head(5).iterrows():
        s = _talent_sentence(b, r)
        b.p(s, bullet=True)
        recs.append(s)
    _why(b, picked)
    b.table("candidates", tal.head(TOP)[["name", "families", "high_value", "citations_5y", "first_year", "last_year",
                                         "city"]].rename(
        columns={"name": "inventor", "families": "count", "citations_5y": "citations", "city": "region"})
        if len(tal) else pd.DataFrame(columns=["inventor"]), "candidates")
    b.h("teams")
    b.p(t("p.teams_text", lang))
    b.table("teams", d["teams"].head(TOP), "teams")
    _appendix(b)
    b.blocks[body_start:body_start] = _summary(b, project, counts, {"stage": "–"}, {}, recs)


def _text_table(blocks: list) -> pd.DataFrame:
    """Every sentence of the report under its heading, for the workbook: the PDF's text
    and numbers can be checked against the tables they come from."""
    rows, section = [], ""
    for blk in blocks:
        if isinstance(blk, Heading):
            section = blk.text
        elif isinstance(blk, Paragraph):
            rows.append({"section": section, "text": blk.text})
        elif isinstance(blk, KeyFigures):  # printed as a box: value above label
            rows += [{"section": section, "text": str(x)} for item in blk.items for x in item]
    return pd.DataFrame(rows, columns=["section", "text"])


def build_report(d: dict, project, lang: str) -> tuple[Report, dict[str, pd.DataFrame]]:
    """Build the report of ``project`` in ``lang`` from its data (see module docstring).

    Pure: nothing is written. The charts travel in the report's :class:`Figure` blocks
    until :func:`pipeline.report.charts.save_charts` writes them.

    Returns
    -------
    (Report, dict of DataFrame)
        The document and the tables behind it, by name.
    """
    # Display names of the places in the report's language (matching uses the parsed fields).
    loc = lambda r: dataclasses.replace(r, label=place(r.label, lang))  # noqa: E731
    project = dataclasses.replace(project, region=loc(project.region), compare=tuple(loc(r) for r in project.compare))
    d = dict(d)
    if len(d["positioning"]):
        d["positioning"] = d["positioning"].assign(region=d["positioning"]["region"].map(lambda v: place(v, lang)))
    for key in ("talent", "inventors_local", "inventors_scope"):
        if len(d[key]):
            d[key] = d[key].assign(**{c: d[key][c].map(lambda v: place(v, lang)) for c in ("city", "province", "district")
                                      if c in d[key]})
    dep = (d["metrics"] or {}).get("knowledge_dependence")
    if dep:
        d["metrics"] = {**d["metrics"], "knowledge_dependence": {**dep, "top_sources": [
            {**src, "region": place(src["region"], lang)} for src in dep.get("top_sources", [])]}}
    b = _Builder(d, lang)
    lag = last_complete_year(d.get("latest_publication"), b.rules.publication_lag_months)
    b.complete_through = min(project.years[1], lag) if lag is not None else project.years[1]
    kind = {"industry": _industry, "enterprise": _enterprise, "talent": _talent}[project.type]
    kind(b, project)
    names = {"industry": b.bname(project.industry), "enterprise": b.org(project.enterprise) or "–",
             "region": project.region.label}
    # Known keys (project, organisation, version) are labelled by the renderer; the
    # organisation also heads every page.
    meta = {"project": project.name, t("meta.region", lang): project.region.label,
            t("meta.years", lang): f"{project.years[0]}–{project.years[1]}",
            "organisation": t("meta.organisation_value", lang),
            t("meta.generated", lang): d["generated"], "version": d["version"]}
    b.tables["text"] = _text_table(b.blocks)
    b.tables["facts"] = pd.DataFrame(b.facts, columns=["section", "name", "value"]).drop_duplicates(["name"])
    report = Report(title=t(f"title.{project.type}", lang, **names), subtitle=t(f"subtitle.{project.type}", lang, **names),
                    lang=lang, meta=meta, blocks=b.blocks)
    return report, b.tables
