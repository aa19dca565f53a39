"""Rule classifier: IPC/CPC symbols → focus-industry branches of the taxonomy.

The rules are those of ``pipeline/data/taxonomy.yaml`` (CNIPA's SEI–IPC concordance 2021
with the project's corrections, plus extension branches). Each rule has include and
exclude patterns:

* ``H04L1*`` — main group H04L 1/ and all its subgroups (H04L1/00, H04L1/0045), not
  H04L12/28: groups are compared as whole fields, never as string prefixes;
* ``B41J*`` — the whole subclass;
* ``G06F9/44`` — exactly that symbol (SEI convention: no star, no subgroups).

A pattern may carry ``scheme: CPC``. Matching is by symbol: an IPC pattern matches IPC and
CPC rows alike (CPC shares the IPC symbols), and so does a CPC pattern of IPC form
(``G06V20/588``); a CPC pattern of CPC-only form (Y section, indexing groups numbered from
1000 such as ``B60W2420*``) matches only rows of scheme CPC.

Exclusions act within their rule (the SEI table's 不含 qualifies the codes of its own row):
a symbol excluded by rule r cannot fire r but may fire any other rule, of the same branch
or another one. The table relies on this — 1.1-r1 holds ``G06F*`` 不含 ``G06F1*`` while
1.1-r2 holds ``G06F1*`` 不含 ``G06F1/16``, which in turn is in 1.5-r2.

A bare subclass (PatentsView CPC gives only ``H01M``) cannot be placed inside the
subclass. It matches a rule with ``match = "subclass"`` when the rule includes the whole
subclass (``H01M*``) and excludes nothing inside it, and with ``match = "subclass_only"``
(a weak candidate) when the rule covers only part of the subclass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..yamlfile import parse_yaml
from ..errors import ConfigError

__all__ = ["RuleSet", "compile_rules", "load_rules", "rule_labels", "symbol_labels", "parse_pattern",
           "TAXONOMY_PATH", "taxonomy", "industry_ids", "LABEL_COLUMNS", "MATCH_LEVELS"]

TAXONOMY_PATH = Path(__file__).resolve().parents[1] / "data" / "taxonomy.yaml"
LABEL_COLUMNS = ["pub_id", "industry", "branch", "rule_id", "symbol", "match", "n_symbols", "explanation"]
MATCH_LEVELS = ("symbol", "main_group", "subclass", "subclass_only")
TEXT_CONDITIONS = ("require_keywords", "exclude_keywords")

_TOP_KEYS = {"version", "source", "generated", "industries", "text_conditions", "corrections", "reviewed", "ipc_check",
             "notes"}
_INDUSTRY_KEYS = {"zh", "en", "description", "off_scope", "branches"}
_BRANCH_KEYS = {"sei", "zh", "en", "short", "extension", "description", "keywords", "rules", "note"}
_RULE_KEYS = {"id", "include", "exclude", "keywords_zh", "text_condition", "origin", "source", "note"}
_PATTERN_KEYS = {"pattern", "scheme", "note"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")

_SUBCLASS_STAR = re.compile(r"^([A-HY]\d{2}[A-Z])\*$")
_GROUP_STAR = re.compile(r"^([A-HY]\d{2}[A-Z])([1-9]\d{0,3})\*$")
_SYMBOL = re.compile(r"^([A-HY]\d{2}[A-Z])([1-9]\d{0,3})/(\d{2,6})$")
# Canonical symbols of the classifications table: subclass, or subclass + group/subgroup.
_SYMBOL_PARTS = r"^(?P<subclass>[A-HY]\d{2}[A-Z])(?:(?P<group>[1-9]\d{0,3})/(?P<sub>\d{2,6}))?$"
_LEVEL_RANK = {"symbol": 0, "main_group": 1, "subclass": 2}

_PATTERN_COLUMNS = ["rule_id", "industry", "branch", "kind", "level", "key", "pattern", "scheme",
                    "subclass", "cpc_only", "order", "seq"]
_RULE_COLUMNS = ["rule_id", "order", "industry", "branch", "branch_zh", "branch_en", "keywords_zh",
                 "text_condition", "extension"]


@lru_cache(maxsize=4)
def taxonomy(path: Path = TAXONOMY_PATH) -> dict:
    """The focus-industry taxonomy (``pipeline/data/taxonomy.yaml``)."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def industry_ids(path: Path = TAXONOMY_PATH) -> list[str]:
    """Valid industry scopes: every industry id and every ``industry.branch`` id."""
    ids = []
    for ind, spec in taxonomy(path)["industries"].items():
        ids.append(ind)
        ids.extend(f"{ind}.{b}" for b in spec.get("branches", {}))
    return ids


@dataclass(frozen=True)
class RuleSet:
    """Rules compiled from the taxonomy, ready to join on classification symbols.

    Attributes
    ----------
    patterns : DataFrame
        One row per pattern: ``rule_id``, ``industry``, ``branch`` (``nev.components``),
        ``kind`` (``include`` | ``exclude``), ``level`` (``subclass`` | ``main_group`` |
        ``symbol``), ``key`` (the subclass / main group / symbol to join on), ``pattern``
        (as written), ``scheme``, ``subclass``, ``cpc_only`` (matches CPC rows only),
        ``order`` (rule position in the taxonomy) and ``seq`` (pattern position in its rule).
    version : str
        The taxonomy's ``version``.
    rules : DataFrame
        One row per rule: ``rule_id``, ``order``, ``industry``, ``branch``, ``branch_zh``,
        ``branch_en``, ``keywords_zh`` (SEI keyword text), ``text_condition``
        (``require_keywords`` | ``exclude_keywords`` | null: the SEI keyword cell is a
        condition the text must meet) and ``extension``.
    """

    patterns: pd.DataFrame
    version: str
    rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_RULE_COLUMNS))


# --------------------------------------------------------------------------- compiling
def parse_pattern(text: str, scheme: str = "IPC") -> tuple[str, str, str, bool]:
    """Parse one rule pattern.

    Returns
    -------
    (level, key, subclass, cpc_only)

    Raises
    ------
    ConfigError
        With the reason and, where one exists, the form to write instead (the caller
        adds where the pattern stands: :func:`compile_rules` names the branch and field).

    Examples
    --------
    >>> parse_pattern("H04L1*")
    ('main_group', 'H04L1', 'H04L', False)
    >>> parse_pattern("G06F9/44")
    ('symbol', 'G06F9/44', 'G06F', False)
    >>> parse_pattern("B60W2420*", "CPC")
    ('main_group', 'B60W2420', 'B60W', True)
    """
    if not isinstance(text, str) or not text:
        raise ConfigError(f"pattern must be a non-empty string, got {text!r}")
    if text != text.strip() or " " in text:
        raise ConfigError(f"write {text!r} without spaces, e.g. {text.replace(' ', '')!r}")
    if scheme not in ("IPC", "CPC"):
        raise ConfigError(f"scheme must be IPC or CPC, got {scheme!r}")
    if m := _SUBCLASS_STAR.match(text):
        level, key, subclass, group = "subclass", m.group(1), m.group(1), None
    elif m := _GROUP_STAR.match(text):
        level, key, subclass, group = "main_group", m.group(1) + m.group(2), m.group(1), m.group(2)
    elif m := _SYMBOL.match(text):
        sub = m.group(3)
        canonical = sub.rstrip("0").ljust(2, "0")
        if canonical != sub:
            raise ConfigError(f"write {text!r} in canonical form {m.group(1)}{m.group(2)}/{canonical}")
        level, key, subclass, group = "symbol", text, m.group(1), m.group(2)
    elif re.fullmatch(r"[A-HY]\d{2}[A-Z]", text):
        raise ConfigError(f"bare subclass {text!r}: write {text}* for the whole subclass")
    elif re.fullmatch(r"[A-HY]\d{2}[A-Z]\d{1,4}", text):
        raise ConfigError(f"bare main group {text!r}: write {text}* for the group and its subgroups "
                          f"or {text}/00 for the main group symbol only")
    elif re.fullmatch(r"[A-HY]\d{2}[A-Z]\d{1,4}/\d{1,6}\*", text):
        raise ConfigError(f"subgroup wildcard {text!r} is not supported (IPC subgroup numbers do not encode "
                          "the hierarchy): list the subgroups as exact symbols")
    elif re.fullmatch(r"[A-HY]\d{2}\*", text):
        raise ConfigError(f"class wildcard {text!r} is not supported: list its subclasses (e.g. {text[:3]}B*)")
    else:
        raise ConfigError(f"{text!r} is not an IPC/CPC pattern (H01M*, H01M10*, H01M10/0525)")
    cpc_form = subclass.startswith("Y") or (group is not None and int(group) >= 1000)
    if subclass.startswith("Y") and scheme != "CPC":
        raise ConfigError(f"{text!r} is a CPC (Y section) code: add scheme: CPC")
    return level, key, subclass, bool(scheme == "CPC" and cpc_form)


def compile_rules(taxonomy: dict) -> RuleSet:
    """Compile the rules of a loaded taxonomy.

    Branches may be added, removed or edited in the taxonomy file without code changes;
    every problem found raises a :class:`~pipeline.errors.ConfigError` naming the branch
    and the field.

    Raises
    ------
    ConfigError
        Unknown keys, missing names, malformed or contradictory patterns, duplicate rule ids.
    """
    if not isinstance(taxonomy, dict):
        raise ConfigError("taxonomy: must be a mapping with version and industries")
    unknown = set(taxonomy) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"taxonomy: unknown top-level key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    if "version" not in taxonomy:
        raise ConfigError("taxonomy: version: missing")
    _check_text_conditions(taxonomy.get("text_conditions"))
    industries = taxonomy.get("industries")
    if not isinstance(industries, dict) or not industries:
        raise ConfigError("taxonomy: industries: must be a non-empty mapping")
    pats, rules, seen = [], [], {}
    for ind, ispec in industries.items():
        where = f"taxonomy: industry {ind!r}"
        if not isinstance(ind, str) or not _ID.match(ind):
            raise ConfigError(f"{where}: id must be lower-case letters, digits, '_'")
        if not isinstance(ispec, dict):
            raise ConfigError(f"{where}: must be a mapping with zh, en, branches")
        _check_keys(ispec, _INDUSTRY_KEYS, where)
        _check_names(ispec, where)
        _check_off_scope(ispec.get("off_scope"), where)
        branches = ispec.get("branches") or {}
        if not isinstance(branches, dict):
            raise ConfigError(f"{where}: branches: must be a mapping")
        for br, bspec in branches.items():
            bid = f"{ind}.{br}"
            where = f"taxonomy: branch {bid!r}"
            if not isinstance(br, str) or not _ID.match(br):
                raise ConfigError(f"{where}: id must be lower-case letters, digits, '_'")
            if not isinstance(bspec, dict):
                raise ConfigError(f"{where}: must be a mapping with zh, en, rules …")
            _check_keys(bspec, _BRANCH_KEYS, where)
            _check_names(bspec, where)
            _check_text_fields(bspec, where)
            brules = bspec.get("rules") or []
            if not isinstance(brules, list):
                raise ConfigError(f"{where}: rules: must be a list")
            for i, rule in enumerate(brules):
                fld = f"rules[{i}]"
                if not isinstance(rule, dict):
                    raise ConfigError(f"{where}: {fld}: must be a mapping with id and include")
                _check_keys(rule, _RULE_KEYS, f"{where}: {fld}")
                rid = rule.get("id")
                if not isinstance(rid, str) or not rid.strip():
                    raise ConfigError(f"{where}: {fld}.id: missing")
                if rid in seen:
                    raise ConfigError(f"{where}: {fld}.id: {rid!r} already used in branch {seen[rid]!r}")
                seen[rid] = bid
                cond = rule.get("text_condition")
                if cond is not None and cond not in TEXT_CONDITIONS:
                    raise ConfigError(f"{where}: {fld}.text_condition: must be one of {', '.join(TEXT_CONDITIONS)}")
                kw = rule.get("keywords_zh") or ""
                if not isinstance(kw, str):
                    raise ConfigError(f"{where}: {fld}.keywords_zh: must be text")
                order = len(rules)
                rules.append((rid, order, ind, bid, bspec["zh"], bspec["en"], kw, cond, bool(bspec.get("extension"))))
                keys = {}
                for kind in ("include", "exclude"):
                    items = rule.get(kind)
                    if kind == "include" and not items:
                        raise ConfigError(f"{where}: {fld}.include: needs at least one pattern")
                    if items is not None and not isinstance(items, list):
                        raise ConfigError(f"{where}: {fld}.{kind}: must be a list of patterns")
                    for j, item in enumerate(items or []):
                        text, scheme = _pattern_item(item, f"{where}: {fld}.{kind}[{j}]")
                        try:
                            level, key, subclass, cpc_only = parse_pattern(text, scheme)
                        except ConfigError as exc:
                            raise ConfigError(f"{where}: {fld}.{kind}[{j}]: {exc}") from None
                        other = keys.get((level, key))
                        if other and other != kind:
                            raise ConfigError(f"{where}: {fld}: {text} is both included and excluded")
                        keys[(level, key)] = kind
                        pats.append((rid, ind, bid, kind, level, key, text, scheme, subclass, cpc_only, order, j))
    patterns = pd.DataFrame(pats, columns=_PATTERN_COLUMNS)
    patterns = patterns.astype({c: "string" for c in _PATTERN_COLUMNS if c not in ("cpc_only", "order", "seq")})
    patterns = patterns.astype({"cpc_only": bool, "order": "int64", "seq": "int64"})
    table = pd.DataFrame(rules, columns=_RULE_COLUMNS)
    return RuleSet(patterns=patterns, version=str(taxonomy["version"]), rules=table)


def _check_keys(spec: dict, known: set, where: str) -> None:
    unknown = set(spec) - known
    if unknown:
        raise ConfigError(f"{where}: unknown field {sorted(map(str, unknown))[0]!r} (known: {', '.join(sorted(known))})")


def _check_names(spec: dict, where: str) -> None:
    for lang in ("zh", "en"):
        if not isinstance(spec.get(lang), str) or not spec[lang].strip():
            raise ConfigError(f"{where}: {lang}: missing name")


def _check_text_fields(spec: dict, where: str) -> None:
    short = spec.get("short")
    if short is not None and not (isinstance(short, dict) and set(short) == {"zh", "en"}
                                  and all(isinstance(v, str) and v.strip() for v in short.values())):
        raise ConfigError(f"{where}: short: must be a mapping {{zh: name, en: name}} (chart labels)")
    desc = spec.get("description")
    if desc is not None and not (isinstance(desc, dict) and set(desc) <= {"zh", "en"}
                                 and all(isinstance(v, str) for v in desc.values())):
        raise ConfigError(f"{where}: description: must be a mapping {{zh: text, en: text}}")
    kws = spec.get("keywords")
    if kws is not None and not (isinstance(kws, dict) and set(kws) <= {"zh", "en"} and all(
            isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v) for v in kws.values())):
        raise ConfigError(f"{where}: keywords: must be a mapping {{zh: [terms], en: [terms]}}")


def _check_text_conditions(entries) -> None:
    if entries is None:
        return
    if not isinstance(entries, list):
        raise ConfigError("taxonomy: text_conditions: must be a list of {cell, reason, zh, en}")
    for i, e in enumerate(entries):
        where = f"taxonomy: text_conditions[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("cell"), str) or not e["cell"].strip():
            raise ConfigError(f"{where}: cell: must be the SEI keyword text the entry explains")
        _check_keys(e, {"cell", "reason", "zh", "en"}, where)
        for lang in ("zh", "en"):
            v = e.get(lang, [])
            if not (isinstance(v, list) and all(isinstance(t, str) and t.strip() for t in v)):
                raise ConfigError(f"{where}: {lang}: must be a list of terms")
        if not (e.get("zh") or e.get("en")):
            raise ConfigError(f"{where}: needs zh or en terms")


def _check_off_scope(spec, where: str) -> None:
    if spec is None:
        return
    def terms(v) -> bool:
        return isinstance(v, dict) and set(v) <= {"zh", "en"} and all(
            isinstance(x, list) and all(isinstance(t, str) and t.strip() for t in x) for x in v.values())

    if not (isinstance(spec, dict) and set(spec) <= {"reason", "terms", "unless"} and "terms" in spec
            and isinstance(spec.get("reason", ""), str) and terms(spec["terms"]) and terms(spec.get("unless", {}))):
        raise ConfigError(f"{where}: off_scope: must be a mapping {{reason: text, terms: {{zh: [terms], en: [terms]}}, "
                          "unless: {zh: [terms], en: [terms]}}")


def _pattern_item(item, where: str) -> tuple[str, str]:
    if isinstance(item, str):
        return item, "IPC"
    if isinstance(item, dict):
        _check_keys(item, _PATTERN_KEYS, where)
        if "pattern" not in item:
            raise ConfigError(f"{where}: pattern: missing")
        return item["pattern"], item.get("scheme", "IPC")
    raise ConfigError(f"{where}: must be a pattern string or {{pattern: …, scheme: CPC}}")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and compile the taxonomy at ``path`` (default ``pipeline/data/taxonomy.yaml``).

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or its rules are invalid.
    """
    path = Path(path) if path is not None else TAXONOMY_PATH
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"taxonomy: cannot read {path}: {exc.strerror}") from None
    return _load_cached(str(path.resolve()), stamp)


@lru_cache(maxsize=8)
def _load_cached(path: str, stamp: int) -> RuleSet:  # stamp: reload when the file changes
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"taxonomy: {path} is not valid YAML: {exc}") from None
    return compile_rules(data)


# --------------------------------------------------------------------------- matching
_CANDIDATE_DTYPES = {"symbol": "string", "rule_id": "string", "order": "int64", "industry": "string",
                     "branch": "string", "pattern": "string", "match": "string", "level_rank": "int64",
                     "cpc_only": "bool"}


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in _CANDIDATE_DTYPES.items()})


def _complete(pat: pd.DataFrame) -> pd.DataFrame:
    """Patterns with the helper columns a hand-built RuleSet may lack (from its 7 documented ones)."""
    missing = [c for c in ("scheme", "subclass", "cpc_only", "order", "seq") if c not in pat]
    if not missing:
        return pat
    pat = pat.copy()
    defaults = {"scheme": lambda: "IPC", "subclass": lambda: pat["key"].astype("string").str[:4],
                "cpc_only": lambda: False, "order": lambda: pd.factorize(pat["rule_id"])[0],
                "seq": lambda: pat.groupby("rule_id", sort=False).cumcount()}
    for c in missing:
        pat[c] = defaults[c]()
    return pat


def _symbol_candidates(symbols: pd.Series, rules: RuleSet) -> pd.DataFrame:
    """Every (symbol, rule, include pattern) that fires, for unique canonical symbols.

    Columns: symbol, rule_id, order, industry, branch, pattern, match, level_rank, cpc_only.
    Malformed symbols produce no rows.
    """
    cols = list(_CANDIDATE_DTYPES)
    syms = pd.Series(pd.unique(pd.Series(symbols, dtype="string").dropna()), dtype="string")
    parts = syms.str.extract(_SYMBOL_PARTS)
    ok = parts["subclass"].notna()
    frame = pd.DataFrame({"symbol": syms[ok], "subclass": parts.loc[ok, "subclass"],
                          "main_group": (parts.loc[ok, "subclass"] + parts.loc[ok, "group"])})
    pat = _complete(rules.patterns)
    if frame.empty or pat.empty:
        return _empty_candidates()
    full = frame[frame["main_group"].notna()]
    bare = frame[frame["main_group"].isna()]
    inc = pat[pat["kind"] == "include"]
    exc = pat[pat["kind"] == "exclude"]

    def hits(p: pd.DataFrame) -> pd.DataFrame:
        # One merge per level: the symbol's own key at that level against the pattern keys.
        parts = [full.merge(p[p["level"] == lvl], left_on=col, right_on="key", suffixes=("", "_p"))
                 for lvl, col in (("symbol", "symbol"), ("main_group", "main_group"), ("subclass", "subclass"))]
        return pd.concat(parts, ignore_index=True)

    strong = hits(inc)
    if len(strong):
        excluded = hits(exc)[["symbol", "rule_id"]].drop_duplicates()
        strong = strong.merge(excluded, on=["symbol", "rule_id"], how="left", indicator=True)
        strong = strong[strong["_merge"] == "left_only"]
        strong["match"] = strong["level"]

    # Bare subclasses: every rule with an include pattern inside the subclass is a candidate.
    weak = bare.merge(inc, on="subclass", suffixes=("", "_p"))
    if len(weak):
        partial = exc[["rule_id", "subclass"]].drop_duplicates().assign(_exc=True)
        weak = weak.merge(partial, on=["rule_id", "subclass"], how="left")
        weak["_whole"] = (weak["level"] == "subclass") & weak["_exc"].isna()
        weak["match"] = np.where(weak["_whole"], "subclass", "subclass_only")
        # A rule that covers the whole subclass reports that pattern, not a finer one.
        covered = weak.groupby(["symbol", "rule_id"])["_whole"].transform("any")
        weak = weak[~covered | weak["_whole"]]
    out = pd.concat([strong, weak], ignore_index=True)
    if out.empty:
        return _empty_candidates()
    out["level_rank"] = out["level"].map(_LEVEL_RANK).astype("int64") * 100_000 + out["seq"].astype("int64")
    return out[cols].reset_index(drop=True)


def _empty_labels() -> pd.DataFrame:
    dtypes = {"n_symbols": "Int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "string")) for c in LABEL_COLUMNS})


def _explain(best: pd.DataFrame, rules: RuleSet) -> pd.Series:
    info = rules.rules.set_index("rule_id") if len(rules.rules) else pd.DataFrame(
        columns=["branch_zh", "text_condition", "keywords_zh"])
    zh = best["rule_id"].map(info["branch_zh"]).astype("string").fillna(best["branch"])
    cond = best["rule_id"].map(info["text_condition"])
    kw = best["rule_id"].map(info["keywords_zh"]).astype("string").fillna("").str.slice(0, 24)
    bare = best["match"].isin(["subclass", "subclass_only"]) & ~best["symbol"].str.contains("/", regex=False)
    verb = pd.Series(np.where(best["match"].eq("subclass_only"), " partly covered by rule ", " matches rule "),
                     index=best.index)
    text = (best["symbol"] + pd.Series(np.where(bare, " (subclass only)", ""), index=best.index) + verb
            + best["rule_id"] + " pattern " + best["pattern"] + " (" + zh
            + pd.Series(np.where(best["match"].eq("subclass_only"), "；仅小类，待确认", ""), index=best.index) + ")")
    more = best["n_symbols"].astype("int64") - 1
    text = text + pd.Series(np.where(more > 0, "; +" + more.astype(str) + " more", ""), index=best.index)
    text = text + pd.Series(np.where(cond.notna(), " [text check: " + kw + "]", ""), index=best.index)
    return text.astype("string")


def rule_labels(classifications: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Label patents with every branch whose rules their symbols fire.

    Parameters
    ----------
    classifications : DataFrame
        Canonical classifications: ``pub_id``, ``symbol`` and, if present, ``scheme``
        (``IPC`` | ``CPC``), ``is_main``, ``seq``. Malformed symbols are ignored;
        subclass and main group are derived from the symbol.
    rules : RuleSet

    Returns
    -------
    DataFrame
        One row per (pub_id, industry, branch), sorted by these: ``pub_id``, ``industry``,
        ``branch`` (``nev.components``), ``rule_id``, ``symbol``, ``match`` (``symbol`` |
        ``main_group`` | ``subclass`` | ``subclass_only``: the level of the pattern that
        fired, or a bare subclass fully / partly covered), ``n_symbols`` (distinct symbols
        of the patent that fire this branch) and ``explanation``. The reported symbol is the
        patent's best one — strong matches before ``subclass_only``, then the main
        symbol, then ``seq``, IPC before CPC — and ``rule_id`` the first rule (in
        taxonomy order) that this symbol fires, so that symbol, rule and pattern explain
        each other.

    Examples
    --------
    >>> rs = compile_rules({"version": "t", "industries": {"nev": {"zh": "车", "en": "cars",
    ...     "branches": {"components": {"zh": "部件", "en": "parts",
    ...         "rules": [{"id": "r0", "include": ["H01M10*"], "exclude": ["H01M10/06"]}]}}}}})
    >>> cls = pd.DataFrame({"pub_id": ["a", "a", "b", "c"], "scheme": "IPC",
    ...     "symbol": ["H01M10/0525", "H01M4/13", "H01M10/06", "H01M"]})
    >>> rule_labels(cls, rs)[["pub_id", "branch", "symbol", "match"]].values.tolist()
    [['a', 'nev.components', 'H01M10/0525', 'main_group'], ['c', 'nev.components', 'H01M', 'subclass_only']]
    """
    if classifications is None or len(classifications) == 0:
        return _empty_labels()
    n = len(classifications)
    pub = classifications["pub_id"].astype("string")
    sym = classifications["symbol"].astype("string").str.strip()
    keep = (pub.notna() & sym.notna()).to_numpy()
    if not keep.any():
        return _empty_labels()
    # Work on integer codes: joins and sorts on Arrow-backed strings are several times slower.
    # sort=True keeps code order = string order, so ties break the same whatever the row order.
    pub_code, pubs = pd.factorize(pub[keep], sort=True)
    sym_code, syms = pd.factorize(sym[keep], sort=True)
    scheme = (classifications["scheme"].astype("string")[keep] if "scheme" in classifications
              else pd.Series(pd.NA, index=pub.index[keep], dtype="string"))
    rows = pd.DataFrame({
        "pub": pub_code, "sym": sym_code,
        "cpc_ok": scheme.fillna("CPC").eq("CPC").to_numpy(),      # unknown scheme may fire CPC-only rules
        "not_ipc": ~scheme.fillna("IPC").eq("IPC").to_numpy(),     # IPC rows report first
        "not_main": ~(classifications["is_main"].astype("boolean").fillna(False).to_numpy(dtype=bool)[keep]
                      if "is_main" in classifications else np.zeros(int(keep.sum()), dtype=bool)),
        "seq": (pd.to_numeric(classifications["seq"], errors="coerce").fillna(0).astype("int64").to_numpy()[keep]
                if "seq" in classifications else np.arange(n, dtype="int64")[keep]),
    })
    cand = _symbol_candidates(pd.Series(syms, dtype="string"), rules)
    if cand.empty:
        return _empty_labels()
    # Candidates as integer codes too: symbol, rule (taxonomy order), branch, pattern, match.
    cand = cand.assign(sym=pd.Index(syms).get_indexer(cand["symbol"]),
                       weak=cand["match"].eq("subclass_only").to_numpy())
    branch_code, branches = pd.factorize(cand["industry"] + "\t" + cand["branch"], sort=True)
    pattern_code, patterns = pd.factorize(cand["pattern"])
    match_code, matches = pd.factorize(cand["match"])
    rule_code, rule_ids = pd.factorize(cand["rule_id"])
    c = pd.DataFrame({"sym": cand["sym"].to_numpy(), "br": branch_code, "order": cand["order"].to_numpy(),
                      "rid": rule_code,
                      "rank": cand["level_rank"].to_numpy(), "weak": cand["weak"].to_numpy(),
                      "pat": pattern_code, "m": match_code, "cpc_only": cand["cpc_only"].to_numpy(dtype=bool)})
    hit = rows.merge(c, on="sym", how="inner")
    # CPC-only patterns (Y02T*, B60W2420*) fire on CPC rows only.
    hit = hit[~hit["cpc_only"].to_numpy() | hit["cpc_ok"].to_numpy()]
    if hit.empty:
        return _empty_labels()
    hit = hit.sort_values(["pub", "br", "weak", "not_main", "seq", "not_ipc", "sym", "order", "rank"], kind="stable")
    counts = hit.groupby(["pub", "br"], sort=False)["sym"].nunique().rename("n").reset_index()
    best = hit.drop_duplicates(["pub", "br"], keep="first").merge(counts, on=["pub", "br"], how="left")
    ind_br = pd.Series(branches, dtype="string").str.split("\t", n=1, expand=True)
    out = pd.DataFrame({
        "pub_id": pd.array(pubs, dtype="string")[best["pub"].to_numpy()],
        "industry": pd.array(ind_br[0], dtype="string")[best["br"].to_numpy()],
        "branch": pd.array(ind_br[1], dtype="string")[best["br"].to_numpy()],
        "rule_id": pd.array(rule_ids, dtype="string")[best["rid"].to_numpy()],
        "symbol": pd.array(syms, dtype="string")[best["sym"].to_numpy()],
        "match": pd.array(matches, dtype="string")[best["m"].to_numpy()],
        "n_symbols": pd.array(best["n"].to_numpy(), dtype="Int64"),
        "pattern": pd.array(patterns, dtype="string")[best["pat"].to_numpy()],
    })
    out["explanation"] = _explain(out, rules).to_numpy()
    return out[LABEL_COLUMNS]


def symbol_labels(symbols: pd.Series, rules: RuleSet, scheme: str | None = None) -> pd.DataFrame:
    """Branches that bare symbols (IPC titles, a code list) fire.

    Parameters
    ----------
    symbols : Series
        Canonical symbols (``H01M10/0525``, ``H01M``); malformed ones are ignored.
    rules : RuleSet
    scheme : {None, "IPC", "CPC"}
        The scheme of the symbols; ``None`` lets CPC-only patterns fire too.

    Returns
    -------
    DataFrame
        ``symbol``, ``industry``, ``branch``, ``rule_id``, ``match`` — one row per
        (symbol, industry, branch), the first firing rule in taxonomy order, strong
        matches first; sorted by symbol, industry, branch.

    Examples
    --------
    >>> rs = compile_rules({"version": "t", "industries": {"it": {"zh": "信", "en": "IT",
    ...     "branches": {"networks": {"zh": "网", "en": "net", "rules": [{"id": "r0", "include": ["H04L1*"]}]}}}}})
    >>> symbol_labels(pd.Series(["H04L1/0045", "H04L12/28", "x"]), rs).values.tolist()
    [['H04L1/0045', 'it', 'it.networks', 'r0', 'main_group']]
    """
    cols = ["symbol", "industry", "branch", "rule_id", "match"]
    syms = pd.Series(symbols, dtype="string").str.strip()
    cand = _symbol_candidates(syms, rules)
    if scheme == "IPC":
        cand = cand[~cand["cpc_only"]]
    if cand.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    cand = cand.assign(_weak=cand["match"].eq("subclass_only"))
    cand = cand.sort_values(["symbol", "industry", "branch", "_weak", "order", "level_rank"], kind="stable")
    out = cand.drop_duplicates(["symbol", "industry", "branch"], keep="first")[cols]
    return out.astype("string").reset_index(drop=True)
