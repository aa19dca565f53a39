"""Legal status and legal-event history of patent exports (CN databases, INPADOC, Lens).

One home for reading what a database says about a publication's legal life:

* :func:`legal_status` — a status cell (incoPat 当前法律状态 / 专利有效性, PatSnap
  法律状态/事件 / 简单法律状态, Patentics 法律状态, CNIPA pss 法律状态, Lens "Legal
  Status") to a canonical status (:data:`pipeline.schema.STATUSES`) and whether the
  right is in force;
* :func:`flag_events` — the event words a status cell carries besides the status
  (PatSnap ``授权 | 权利转移 | 质押``), as undated events;
* :func:`parse_history` — a dated legal-event history (Patentics CN 法律描述, PatSnap
  INPADOC法律状态) to rows of the raw ``events`` table
  (:data:`pipeline.ingest.base.RAW_COLUMNS`), plus the cells that could not be read.

The words live in ``legal_status.yaml`` next to this module (data, not code); a copy
passed as ``vocab_path`` replaces it. Every function works once per distinct cell
value and maps the result back, so a national database costs what its distinct values
cost. Unknown words give ``<NA>``, never a guess.

``event_type_raw`` in the output already holds a canonical event type
(:data:`pipeline.schema.EVENT_TYPES`); the vendor's words are in ``detail``.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import schema
from ..errors import ConfigError
from .base import RAW_COLUMNS

__all__ = [
    "LEGAL_YAML",
    "Vocabulary",
    "load_vocabulary",
    "legal_status",
    "flag_events",
    "parse_history",
]

LEGAL_YAML = Path(__file__).with_name("legal_status.yaml")

#: A status cell longer than this is not a status (no vocabulary phrase comes near).
_MAX_STATUS_CHARS = 1_000
#: A history cell longer than this is reported, not parsed.
_MAX_HISTORY_CHARS = 200_000
#: ``raw_value`` of a problem row is cut to this many characters.
_MAX_RAW_VALUE = 500

_EVENT_COLUMNS = RAW_COLUMNS["events"]
_PROBLEM_COLUMNS = ["rec", "raw_value", "reason"]
_FIELD_NAMES = ("party_from", "party_to", "event_date", "amount")


# ----------------------------------------------------------------------- vocabulary


def _norm(text: str) -> str:
    """Lookup key: NFKC, case-folded, whitespace collapsed, no space around ``-``."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)  # dashes and minus signs
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*-\s*", "-", text)


@dataclass(frozen=True)
class Vocabulary:
    """The parsed ``legal_status.yaml`` (keys normalised as :func:`_norm` does)."""

    statuses: dict  # key -> (status | None, alive: bool | None)
    events: dict  # key -> event type
    flags: frozenset
    rank: dict  # status -> precedence (lower wins)
    split_re: re.Pattern
    cn_events: dict  # key -> event type
    cn_keywords: tuple  # ((event type, (substring, …)), …)
    fields: dict  # event type -> {column: (key, …)}
    owner_items: frozenset
    no_one: frozenset
    inpadoc_keywords: tuple  # ((event type, (UPPER SUBSTRING, …)), …)


def _fail(source, msg: str):
    raise ConfigError(f"{source}: {msg}")


def _mapping(doc, key: str, source) -> dict:
    value = doc.get(key)
    if not isinstance(value, dict) or not value:
        _fail(source, f"needs a non-empty {key!r} mapping")
    return value


def _keywords(rules, where: str, source, upper: bool) -> tuple:
    out = []
    if not isinstance(rules, list):
        _fail(source, f"{where} must be a list of [event type, [words]]")
    for rule in rules:
        if not (isinstance(rule, list) and len(rule) == 2 and isinstance(rule[1], list)):
            _fail(source, f"{where}: {rule!r} is not [event type, [words]]")
        etype, words = rule
        if etype not in schema.EVENT_TYPES:
            _fail(source, f"{where}: {etype!r} is not an event type ({', '.join(schema.EVENT_TYPES)})")
        words = tuple(str(w).upper() if upper else unicodedata.normalize("NFKC", str(w)) for w in words)
        out.append((etype, words))
    return tuple(out)


def _build(doc, source) -> Vocabulary:
    if not isinstance(doc, dict):
        _fail(source, "is not a YAML mapping")
    alive = _mapping(doc, "alive", source)
    if set(alive) != set(schema.STATUSES) or any(v not in (True, False, None) for v in alive.values()):
        _fail(source, f"'alive' must give true / false / null for exactly the statuses {schema.STATUSES}")
    prec = doc.get("precedence")
    if not isinstance(prec, list) or sorted(prec) != sorted(schema.STATUSES):
        _fail(source, f"'precedence' must list each of {schema.STATUSES} once")
    seps = doc.get("separators")
    if not isinstance(seps, list) or not seps or not all(isinstance(s, str) and s for s in seps):
        _fail(source, "'separators' must be a list of strings")
    split_re = re.compile("|".join(re.escape(s) for s in sorted(seps, key=len, reverse=True)))

    statuses: dict = {}
    for word, entry in _mapping(doc, "statuses", source).items():
        if isinstance(entry, dict):
            status, live = entry.get("status"), entry.get("alive", alive.get(entry.get("status")))
            if set(entry) - {"status", "alive"} or live not in (True, False, None):
                _fail(source, f"statuses: {word!r}: give {{status: …, alive: true/false/null}}")
        else:
            status = entry
            live = alive.get(status) if status is not None else None
        if status is not None and status not in schema.STATUSES:
            _fail(source, f"statuses: {word!r}: {status!r} is not a status ({', '.join(schema.STATUSES)})")
        key = _norm(word)
        if key in statuses and statuses[key] != (status, live):
            _fail(source, f"statuses: {word!r} is listed twice with different statuses")
        statuses[key] = (status, live)

    events = {}
    for word, etype in _mapping(doc, "events", source).items():
        if etype not in schema.EVENT_TYPES:
            _fail(source, f"events: {word!r}: {etype!r} is not an event type ({', '.join(schema.EVENT_TYPES)})")
        events[_norm(word)] = etype

    hist = _mapping(doc, "history", source)
    cn_events = {}
    for name, etype in _mapping(hist, "cn_events", source).items():
        if etype not in schema.EVENT_TYPES:
            _fail(source, f"history.cn_events: {name!r}: {etype!r} is not an event type")
        cn_events[_norm(name)] = etype
    fields = {}
    for etype, spec in _mapping(hist, "fields", source).items():
        if etype not in schema.EVENT_TYPES or not isinstance(spec, dict) or set(spec) - set(_FIELD_NAMES):
            _fail(source, f"history.fields: {etype!r} must be an event type mapping {_FIELD_NAMES} to key lists")
        fields[etype] = {col: tuple(_norm(k) for k in keys) for col, keys in spec.items()}
    return Vocabulary(
        statuses=statuses,
        events=events,
        flags=frozenset(_norm(w) for w in doc.get("flags") or ()),
        rank={s: i for i, s in enumerate(prec)},
        split_re=split_re,
        cn_events=cn_events,
        cn_keywords=_keywords(hist.get("cn_keywords"), "history.cn_keywords", source, upper=False),
        fields=fields,
        owner_items=frozenset(_norm(w) for w in hist.get("owner_items") or ()),
        no_one=frozenset(_norm(w) for w in hist.get("no_one") or ()),
        inpadoc_keywords=_keywords(hist.get("inpadoc_keywords"), "history.inpadoc_keywords", source, upper=True),
    )


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Vocabulary:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the legal-status vocabulary: {exc}") from None
    return _build(doc, path)


def load_vocabulary(vocab_path: str | Path | None = None) -> Vocabulary:
    """The legal-status vocabulary of ``legal_status.yaml`` or a user's copy of it.

    Parameters
    ----------
    vocab_path : str or Path, optional
        A copy of ``legal_status.yaml``; it replaces the packaged file whole.

    Returns
    -------
    Vocabulary
        Read once per file version (an edited file is read again).

    Raises
    ------
    pipeline.errors.ConfigError
        When the file is missing, not YAML, or names a status or event type that is not
        in :data:`pipeline.schema.STATUSES` / :data:`pipeline.schema.EVENT_TYPES`.

    Examples
    --------
    >>> vocab = load_vocabulary()
    >>> vocab.statuses["授权"], vocab.events["权利转移"]
    (('granted', True), 'transfer')
    """
    path = Path(vocab_path or LEGAL_YAML).resolve()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the legal-status vocabulary: {exc.strerror}") from None
    return _load(str(path), mtime_ns)


# --------------------------------------------------------------------- status cells


def _parts(text: str, vocab: Vocabulary) -> list[str]:
    """The words of a status cell as written (NFKC, stripped), empty ones dropped."""
    text = unicodedata.normalize("NFKC", text)
    return [p.strip() for p in vocab.split_re.split(text) if p.strip()]


def _lookup(key: str, table: dict):
    """``table[key]``, else ``table[head]`` for ``<head>-<qualifier>`` (PatSnap 撤回-视为撤回)."""
    if key in table:
        return True, table[key]
    head = key.split("-", 1)[0]
    if head != key and head in table:
        return True, table[head]
    return False, None


def _status_of(value, vocab: Vocabulary) -> tuple:
    text = str(value)
    if len(text) > _MAX_STATUS_CHARS:
        return (None, None)
    whole = _norm(text)
    if whole in vocab.statuses:
        return vocab.statuses[whole]
    best = None
    for part in _parts(text, vocab):
        found, entry = _lookup(_norm(part), vocab.statuses)
        if found and entry[0] is not None:
            if best is None or vocab.rank[entry[0]] < vocab.rank[best[0]]:
                best = entry
    return best or (None, None)


def _as_series(raw) -> pd.Series:
    s = raw if isinstance(raw, pd.Series) else pd.Series(raw)
    if len(s) and s.dtype == object:
        s = s.where(s.notna(), None)
    return s


def legal_status(raw: pd.Series, *, vocab_path: str | Path | None = None) -> pd.DataFrame:
    """Canonical legal status and in-force flag of status cells.

    A cell is looked up whole, then word by word (split on the vocabulary's separators:
    ``|``, ``;``, ``；``, ``,``, newline). Status words count; event words (权利转移,
    质押 …) and flags (一案双申) do not. Of several status words the one first in the
    vocabulary's ``precedence`` wins (an end of life beats granted beats pending).
    Unknown words, ``-``, empty cells and null give ``<NA>``.

    Parameters
    ----------
    raw : pandas.Series
        Status cells as the vendor wrote them (any dtype; non-strings are read as text).
    vocab_path : str or Path, optional
        A replacement for ``legal_status.yaml``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``raw``: ``status`` (string, one of :data:`pipeline.schema.STATUSES`
        or ``<NA>``) and ``alive`` (boolean: True in force, False dead, ``<NA>`` pending,
        international phase or unknown).

    Examples
    --------
    >>> s = pd.Series(["授权 | 权利转移", "撤回-视为撤回", "有效;审中", "PCT-有效期内",
    ...                "进入国家阶段-PCT有效期满", "EXPIRED", "-", "蓝色", None])
    >>> out = legal_status(s)
    >>> out["status"].tolist()
    ['granted', 'withdrawn', 'granted', 'pct_international', 'pct_expired', 'expired', <NA>, <NA>, <NA>]
    >>> out["alive"].tolist()
    [True, False, True, <NA>, <NA>, False, <NA>, <NA>, <NA>]
    """
    vocab = load_vocabulary(vocab_path)
    s = _as_series(raw)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    found = [_status_of(v, vocab) for v in uniques]
    status = np.array([f[0] for f in found] + [None], dtype=object)
    alive = np.array([f[1] for f in found] + [None], dtype=object)
    return pd.DataFrame(
        {
            "status": pd.array(status[codes], dtype="string"),
            "alive": pd.array(alive[codes], dtype="boolean"),
        },
        index=s.index,
    )


def _events_of(value, vocab: Vocabulary) -> list[tuple[str, str]]:
    text = str(value)
    if len(text) > _MAX_STATUS_CHARS:
        return []
    out = []
    for part in _parts(text, vocab):
        found, etype = _lookup(_norm(part), vocab.events)
        if found:
            out.append((etype, part))
    return out


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in _EVENT_COLUMNS})


def _expand(s: pd.Series, per_unique: list[list[dict]], uniques_codes: np.ndarray, columns) -> pd.DataFrame:
    """Rows of ``per_unique[u]`` for every element of ``s`` whose code is ``u``, in order."""
    rows = [dict(r, _u=u, _k=k) for u, rs in enumerate(per_unique) for k, r in enumerate(rs)]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    table = pd.DataFrame(rows)
    recs = pd.DataFrame({"rec": s.index, "_u": uniques_codes, "_pos": np.arange(len(s))})
    out = recs[recs["_u"] >= 0].merge(table, on="_u", how="inner").sort_values(["_pos", "_k"], kind="stable")
    for c in columns:
        if c not in out:
            out[c] = None
    out = out[list(columns)].reset_index(drop=True)
    return out.astype(object).where(out.notna(), None)


def flag_events(raw: pd.Series, *, vocab_path: str | Path | None = None) -> pd.DataFrame:
    """Undated events named in status cells (PatSnap ``授权 | 权利转移 | 质押``).

    Each event word of a cell (the vocabulary's ``events``: 权利转移 → transfer, 质押 →
    pledge, 许可 → licence, 保全 → preservation, 复审 → reexamination, 无效 / 部分无效 /
    全部无效 → invalidation …) gives one row; the same word twice gives two rows. Use
    these only where no dated history (:func:`parse_history`) covers the record.

    Parameters
    ----------
    raw : pandas.Series
        Status cells; the index values become ``rec``.
    vocab_path : str or Path, optional
        A replacement for ``legal_status.yaml``.

    Returns
    -------
    pandas.DataFrame
        The raw ``events`` columns (:data:`pipeline.ingest.base.RAW_COLUMNS`): ``rec``,
        ``event_type_raw`` (a canonical event type), ``event_date`` (null: not known),
        ``party_from``, ``party_to``, ``amount`` (null), ``detail`` (the word).

    Examples
    --------
    >>> s = pd.Series(["授权 | 质押 | 一案双申 | 权利转移", "部分无效", "有效"], index=["a", "b", "c"])
    >>> flag_events(s)[["rec", "event_type_raw", "detail"]].values.tolist()
    [['a', 'pledge', '质押'], ['a', 'transfer', '权利转移'], ['b', 'invalidation', '部分无效']]
    """
    vocab = load_vocabulary(vocab_path)
    s = _as_series(raw)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    per_unique = [[{"event_type_raw": t, "detail": w} for t, w in _events_of(v, vocab)] for v in uniques]
    return _expand(s, per_unique, codes, _EVENT_COLUMNS)


# ------------------------------------------------------------------ dated histories

_INPADOC_START = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*\|")
_PATENTICS_START = re.compile(r"^\s*(?:\d+\s+(?:\S+\s+)?)?\d{4}[.\-/]\d{1,2}[.\-/]\d{1,2}\s+\S")
# "[<count>] [<number>] YYYY.MM.DD <event> [<sub-event> …]": the count of events leads the
# first line; some events carry the publication number before the date
# ("2 203965892 2014.11.26 授权 授权", "102331947 2013.12.11 授权 授权").
_PT_HEAD = re.compile(
    r"^\s*(?:(?P<a>\d+)\s+)?(?:(?P<b>[A-Z]{0,2}\d+[A-Z]?\d?)\s+)?"
    r"(?P<y>\d{4})[.\-/](?P<m>\d{1,2})[.\-/](?P<d>\d{1,2})\s+(?P<rest>\S.*?)\s*$"
)
_MAX_COUNT_DIGITS = 4  # a leading number this long is a count, longer is a publication number
_PT_KV = re.compile(r"^\s*(?P<key>[^=:：\s][^=:：]{0,39}?)\s*[=:：]\s*(?P<value>.*?)\s*$")
_VALUE_DATE = re.compile(r"^\s*(\d{4})\s*[.\-/年]?\s*(\d{1,2})\s*[.\-/月]?\s*(\d{1,2})\s*日?\s*$")
_EMPTY_HISTORY = {"", "-", "无", "n/a", "none", "null"}


def _iso(y, m, d) -> str | None:
    try:
        return datetime.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def _value_date(text: str) -> str | None:
    m = _VALUE_DATE.match(unicodedata.normalize("NFKC", text))
    return _iso(*m.groups()) if m else None


def _cn_event_type(tokens: list[str], vocab: Vocabulary) -> str:
    for tok in reversed(tokens):  # the sub-event is the more specific name
        etype = vocab.cn_events.get(_norm(tok))
        if etype:
            return etype
    text = unicodedata.normalize("NFKC", " ".join(tokens))
    for etype, words in vocab.cn_keywords:
        if any(w in text for w in words):
            return etype
    return "other"


def _names(pairs: list[tuple[str, str]], keys: tuple, vocab: Vocabulary) -> str | None:
    """Party names from an event's key=value pairs (see ``history.fields`` in the YAML)."""
    present = {k for k, _ in pairs}
    key = next((k for k in keys if k in present), None)
    if key is None:
        return None
    names: list[str] = []
    items = None
    for k, v in pairs:
        if k == "变更事项":
            items = [_norm(x) for x in v.split("/")]
            continue
        if k != key:
            continue
        parts = [x.strip() for x in v.split("/")]
        if items is None:
            chosen = parts[:1]
        elif len(parts) == len(items):
            chosen = [p for it, p in zip(items, parts) if it in vocab.owner_items]
        elif len(items) == 1:
            chosen = [v.strip()] if items[0] in vocab.owner_items else []
        else:
            chosen = parts[:1]
        names += [c for c in chosen if c and _norm(c) not in vocab.no_one]
    return "; ".join(dict.fromkeys(names)) or None


def _patentics_event(date: str | None, tokens: list[str], pairs, vocab: Vocabulary, problems: list) -> dict:
    etype = _cn_event_type(tokens, vocab)
    spec = vocab.fields.get(etype, {})
    normed = [(_norm(k), v) for k, v in pairs]
    first = {}
    for k, v in normed:
        first.setdefault(k, v)
    event_date = date
    for k in spec.get("event_date", ()):
        if k in first:
            parsed = _value_date(first[k])
            if parsed:
                event_date = parsed
            else:
                problems.append(f"{' '.join(tokens[:1])}: unreadable date {k}={first[k][:40]!r}")
            break
    amount = next((first[k] for k in spec.get("amount", ()) if first.get(k)), None)
    return {
        "event_type_raw": etype,
        "event_date": event_date,
        "party_from": _names(normed, spec.get("party_from", ()), vocab),
        "party_to": _names(normed, spec.get("party_to", ()), vocab),
        "amount": amount,
        "detail": " ".join(dict.fromkeys(tokens)),
    }


def _parse_patentics(text: str, vocab: Vocabulary) -> tuple[list[dict], list[str]]:
    events: list[dict] = []
    problems: list[str] = []
    declared = None
    block = None  # [date, tokens, pairs]

    def close():
        if block is not None:
            events.append(_patentics_event(block[0], block[1], block[2], vocab, problems))

    for n, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if not line.strip():
            continue
        head = _PT_HEAD.match(line)
        if head:
            if block is None and not events and head["a"] and len(head["a"]) <= _MAX_COUNT_DIGITS:
                declared = int(head["a"])
            close()
            date = _iso(head["y"], head["m"], head["d"])
            if date is None:
                problems.append(f"line {n + 1}: impossible date {head['y']}.{head['m']}.{head['d']}")
            block = [date, head["rest"].split(), []]
            continue
        kv = _PT_KV.match(line)
        if block is not None and kv:
            block[2].append((kv["key"], kv["value"]))
        elif block is not None and block[2]:
            k, v = block[2][-1]
            block[2][-1] = (k, f"{v} {line.strip()}")  # a value wrapped onto the next line
        else:
            problems.append(f"line {n + 1}: not an event line: {line.strip()[:40]!r}")
    close()
    if declared is not None and declared != len(events):
        problems.append(f"declares {declared} events, holds {len(events)}")
    return events, problems


def _inpadoc_type(text: str, vocab: Vocabulary) -> str:
    return _keyword_type(text.upper(), vocab.inpadoc_keywords)


@lru_cache(maxsize=1 << 16)  # the same few hundred event texts recur across a file
def _keyword_type(up: str, keywords: tuple) -> str:
    for etype, words in keywords:
        if any(w in up for w in words):
            return etype
    return "other"


def _parse_inpadoc(text: str, vocab: Vocabulary) -> tuple[list[dict], list[str]]:
    parts = [p.strip() for p in text.split("|")]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing separator
    events: list[dict] = []
    problems: list[str] = []
    # PatSnap lists the triples newest first: reversed on return, so that the events of one
    # day stay in their order once sorted by date
    n = len(parts) - len(parts) % 3
    for i in range(0, n, 3):
        date_raw, body, office = parts[i:i + 3]
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date_raw)
        date = _iso(*m.groups()) if m else None
        if date is None or not re.fullmatch(r"[A-Z]{2}", office) or not body.lstrip("+-").strip():
            problems.append(f"item {i // 3 + 1} is not 'date | text | office': {' | '.join(parts[i:i + 3])[:80]!r}")
            return events[::-1], problems  # the rest is out of step
        words = body.lstrip("+-").strip()
        events.append({
            "event_type_raw": _inpadoc_type(body, vocab),
            "event_date": date,
            "detail": f"{words} ({office})",
        })
    if len(parts) % 3:
        problems.append(f"{len(parts)} items, not date | text | office triples")
    return events[::-1], problems


def _parse_cell(value, vocab: Vocabulary) -> tuple[list[dict], list[str]]:
    text = value if isinstance(value, str) else str(value)
    if _norm(text) in _EMPTY_HISTORY:
        return [], []
    if len(text) > _MAX_HISTORY_CHARS:
        return [], [f"longer than {_MAX_HISTORY_CHARS} characters"]
    if _INPADOC_START.match(text):
        events, problems = _parse_inpadoc(text, vocab)
    elif _PATENTICS_START.match(text):
        events, problems = _parse_patentics(text, vocab)
    else:
        return [], ["not a legal-event history (Patentics 法律描述 or INPADOC 'date | text | office')"]
    events.sort(key=lambda e: (e["event_date"] is None, e["event_date"] or ""))
    return events, problems


def parse_history(raw: pd.Series, *, vocab_path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dated legal events from history cells, and the cells that could not be read.

    Two formats are recognised per cell:

    * Patentics CN 法律描述 — ``"<n>  YYYY.MM.DD <event> <event>"`` then ``key=value``
      (or ``key:value``) lines per event. Event names map through the vocabulary's
      ``history.cn_events`` / ``cn_keywords``; transfers take ``party_from`` /
      ``party_to`` from 变更前权利人 / 变更后权利人 (names only, not addresses) and the
      date from 登记生效日; pledges and licences take 出质人 / 质权人, 许可人 (让与人) /
      被许可人 (受让人) and 合同金额 / 质押金额 when given.
    * PatSnap INPADOC法律状态 — ``"YYYY-MM-DD | ±TEXT | CC | …"`` triples, typed by the
      keywords of ``history.inpadoc_keywords``; ``detail`` is ``"TEXT (CC)"``.

    Empty cells and ``-`` hold no events. Events of a cell come oldest first.

    Parameters
    ----------
    raw : pandas.Series
        History cells; the index values become ``rec``.
    vocab_path : str or Path, optional
        A replacement for ``legal_status.yaml``.

    Returns
    -------
    events : pandas.DataFrame
        The raw ``events`` columns: ``rec``, ``event_type_raw`` (a canonical event
        type), ``event_date`` (ISO ``YYYY-MM-DD`` text or null), ``party_from``,
        ``party_to``, ``amount`` (as written), ``detail`` (the vendor's event name).
    problems : pandas.DataFrame
        ``rec``, ``raw_value`` (the cell, cut to 500 characters), ``reason``: one row per
        problem of a cell that is not a history or only partly readable (the readable
        events of such a cell are in ``events``).

    Examples
    --------
    >>> cell = ("2  2021.09.03 公开 公开\\n\\n2022.11.11 专利权的转移 专利权的转移\\n"
    ...         "变更事项=专利权人/地址\\n变更前权利人=甲公司/100083 北京市\\n"
    ...         "变更后权利人=乙公司/200000 上海市\\n登记生效日=2022.11.01")
    >>> events, problems = parse_history(pd.Series([cell, "2015-04-01 | +PATENT GRANT | CN", "?"]))
    >>> events[["rec", "event_type_raw", "event_date", "party_from", "party_to"]].values.tolist()
    [[0, 'publication', '2021-09-03', None, None], [0, 'transfer', '2022-11-01', '甲公司', '乙公司'], [1, 'grant', '2015-04-01', None, None]]
    >>> problems["rec"].tolist()
    [2]
    """
    vocab = load_vocabulary(vocab_path)
    s = _as_series(raw)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = [_parse_cell(v, vocab) for v in uniques]
    events = _expand(s, [p[0] for p in parsed], codes, _EVENT_COLUMNS)
    raw_cut = [str(v)[:_MAX_RAW_VALUE] for v in uniques]
    problems = _expand(
        s,
        [[{"raw_value": raw_cut[u], "reason": r} for r in p[1]] for u, p in enumerate(parsed)],
        codes,
        _PROBLEM_COLUMNS,
    )
    return events, problems
