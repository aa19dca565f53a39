"""Typed view of ``params.yaml`` and the project's paths: the ground floor of the package.

Every stage's params are frozen dataclasses defined here, one per section of
``params.yaml`` (nested where a section nests); :func:`load_params` builds them once, in
the CLI and the project API, and passes them down. No stage reads ``params.yaml`` or
imports the loader. Defaults: a field's default in its class is what applies when
``params.yaml`` leaves it out; ``params.yaml`` states every value the pipeline runs with.
This module imports nothing of the package but :mod:`pipeline.errors`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .errors import ConfigError
from .yamlfile import parse_yaml

__all__ = ["ROOT", "find_root", "Limits", "IngestParams", "DatabaseParams", "ClassifyParams", "ClassifyStageParams",
           "TrainParams", "ExpandParams", "LandscapeParams", "NetworkParams", "ScoreParams", "Rules", "load_params", "project_dir"]

ROOT = Path(__file__).resolve().parents[1]

#: Knobs several stages share: each is set once, in the ``analysis`` section of params.yaml,
#: and carried by the loader into the params of the sections that use it (field -> sections),
#: so a report can never print one value while the scores used another.
SHARED = {
    "min_confidence": ("score", "landscape"),
    "growth_window": ("score", "landscape"),
    "window_years": ("network", "score"),
}


def find_root(start: str | Path | None = None) -> Path:
    """The PatNav project folder: the nearest folder at or above ``start`` (default: the
    working directory) holding both ``params.yaml`` and ``dvc.yaml``; else the checkout
    the package was installed from.

    DVC runs stage commands in the project folder and notebooks run in ``notebooks/``,
    so both find the right project even when the package is installed elsewhere.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").is_file() and (folder / "dvc.yaml").is_file():
            return folder
    return ROOT


@dataclass(frozen=True)
class Limits:
    """Bounds on what one input may make the ingest hold (``ingest.limits`` in params.yaml).

    Text limits (characters): ``title`` and ``abstract`` (also their English twins),
    ``name`` (a party's name) and ``other`` (status words, links, an NPL text) — a longer
    value is nulled (a name: its party row left out; an NPL text: cut) with a
    field-level reject. ``field`` bounds every other cell or XML text node: a longer one
    is cut to it, with a field-level reject; the record is always kept.

    Workbook limits, checked before a workbook is read (its ZIP central directory gives
    the sizes) and while its sheets are scanned; a file over one is refused with
    :class:`pipeline.errors.InputLimitError`, which names the file, the limit and its
    param: ``workbook_mb`` (MiB of all members uncompressed), ``workbook_ratio``
    (uncompressed / compressed size of one member larger than 1 MiB: a ZIP bomb),
    ``sheet_rows`` (rows of one sheet; Excel's own maximum by default) and ``sheet_cells``
    (rows × columns one sheet spans: the reader holds that many cells, empty or not).

    ``join_records`` bounds the PatentsView records whose tables are joined at once
    (rounded down to whole batches, at least one): the tables are spilled to disk and
    joined part by part, so the adapter's memory follows this number, not the input.
    """

    title: int = 2_000
    abstract: int = 20_000
    name: int = 500
    other: int = 2_000
    field: int = 100_000
    workbook_mb: int = 512
    workbook_ratio: int = 100
    sheet_rows: int = 1_048_576
    sheet_cells: int = 20_000_000
    join_records: int = 50_000

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ingest.limits.{f.name} must be a positive whole number, got {value!r}")


@dataclass(frozen=True)
class IngestParams:
    input: tuple[str, ...]
    out: str
    report: str
    metrics: str
    batch_size: int
    limits: Limits
    table_batch_size: int = 20000                  # records per batch of CSV / workbook exports
    skip: dict = field(default_factory=dict)       # path glob -> why it is not read
    allow_empty: bool = False                      # a file yielding no record is not an error
    registers: tuple[str, ...] = ()                # enterprise registers locating applicants
    locate: dict = field(default_factory=dict)     # pipeline.locate options (fuzzy_min, accept)
    workers: int | str = 1                         # reading processes: a whole number ≥ 1, or "auto" (one per core)

    def __post_init__(self):
        w = self.workers
        if w != "auto" and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise ConfigError(f"ingest.workers must be a whole number ≥ 1 or \"auto\", got {w!r}")


@dataclass(frozen=True)
class ClassifyParams:
    """Tunables of the classify stage (``params.yaml``, section ``classify``)."""

    # "model": the per-language thresholds the train stage chose on validation records and
    # stored in the model; or a mapping (industry → threshold, or language → such a mapping).
    thresholds: dict | str = field(default_factory=lambda: {"it": 0.5, "manufacturing": 0.5, "biomedicine": 0.5, "nev": 0.5})
    subclass_only_confidence: float = 0.5
    disagree_below: float = 0.05


@dataclass(frozen=True)
class ClassifyStageParams:
    taxonomy: str
    model: str
    out: str
    metrics: str
    labels: ClassifyParams


@dataclass(frozen=True)
class TrainParams:
    ipc_titles_zh: str
    ipc_titles_en: str
    cn_dev: str
    metrics: str
    confusion: str
    random_state: int = 0
    model: dict | None = None
    en_text: str | None = None                     # US grant corpus (en-text/uspto-latam), training text
    predictions: str | None = None                 # per-row test predictions of the hold-outs
    evaluation: dict | None = None                 # hold-outs, validation share, bootstrap (classify/train.py)
    label_noise: str | None = None                 # the project's judgements of drawn disagreements


@dataclass(frozen=True)
class DatabaseParams:
    path: str
    metrics: str


@dataclass(frozen=True)
class ExpandParams:
    """Tunables of landscape expansion (``params.yaml``, section ``landscape.expand``)."""

    code_min_share: float = 0.05
    citation_levels: int = 2
    anti_seed_factor: float = 5.0
    prune_threshold: float = 0.5
    random_state: int = 0


@dataclass(frozen=True)
class LandscapeParams:
    """Tunables of the landscape stage (``params.yaml``, section ``landscape``)."""

    top_n: int = 20
    growth_window: int = 3
    min_confidence: float = 0.5
    pr_sample: int = 400
    random_state: int = 0
    expand: ExpandParams = field(default_factory=ExpandParams)
    exclude_doubtful: bool = True

    def __post_init__(self):
        if self.expand is None or isinstance(self.expand, dict):  # as params.yaml gives it
            raw = dict(self.expand or {})
            _refuse_unknown(raw, ExpandParams, "landscape.expand")
            object.__setattr__(self, "expand", ExpandParams(**raw))


@dataclass(frozen=True)
class NetworkParams:
    """Tunables of the network stage (``params.yaml``, section ``network``)."""

    out: str = "data/processed/network"
    exports: str = "data/processed/network/exports"
    metrics: str = "metrics/network.json"
    level: str = "patent"
    window_years: int = 5
    weights: tuple = ("spc", "splc", "spnp")
    main_path_weight: str = "spc"
    key_routes: int = 10
    pagerank: dict = field(default_factory=lambda: {"alpha": 0.85, "tol": 1e-10, "max_iter": 200})
    hits: dict = field(default_factory=lambda: {"tol": 1e-10, "max_iter": 500})
    clusters: dict = field(default_factory=lambda: {"similarity": "coupling", "method": "leiden", "resolution": 1.0,
                                                    "min_shared": 1, "max_degree": 100, "max_links": 2_000_000,
                                                    "min_size": 3, "seed": 0, "max_iterations": 10})
    cooccurrence: dict = field(default_factory=lambda: {"level": "subclass", "period_years": 5})
    export_top: int = 2000
    lang: str = "zh"

    @classmethod
    def from_dict(cls, raw: dict | None) -> NetworkParams:
        """Validate the ``network`` section; unknown keys and bad values raise ``ConfigError``."""
        raw = dict(raw or {})
        _refuse_unknown(raw, cls, "network")
        defaults = cls()
        for key in ("pagerank", "hits", "clusters", "cooccurrence"):
            given = raw.get(key) or {}
            if not isinstance(given, dict):
                raise ConfigError(f"network.{key} must be a mapping of {', '.join(getattr(defaults, key))}")
            unknown = set(given) - set(getattr(defaults, key))
            if unknown:
                raise ConfigError(f"network.{key}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                                  f"(known: {', '.join(getattr(defaults, key))})")
            raw[key] = {**getattr(defaults, key), **given}
        if "weights" in raw:
            raw["weights"] = tuple(raw["weights"])
        p = cls(**raw)
        bad = [w for w in (*p.weights, p.main_path_weight) if w not in ("spc", "splc", "spnp")]
        if bad:
            raise ConfigError(f"network.weights / main_path_weight: unknown method(s) {bad}; use spc, splc, spnp")
        if p.level not in ("patent", "family"):
            raise ConfigError(f"network.level must be 'patent' or 'family', not {p.level!r}")
        if p.lang not in ("zh", "en"):
            raise ConfigError(f"network.lang must be 'zh' or 'en', not {p.lang!r}")
        if p.clusters["similarity"] not in ("coupling", "cocitation"):
            raise ConfigError("network.clusters.similarity must be 'coupling' or 'cocitation'")
        md = p.clusters["max_degree"]
        if md is not None and (isinstance(md, bool) or not isinstance(md, int) or md < 1):
            raise ConfigError(f"network.clusters.max_degree must be a whole number ≥ 1 (or null: no limit), not {md!r}")
        ml = p.clusters.get("max_links")
        if ml is not None and (isinstance(ml, bool) or not isinstance(ml, int) or ml < 1):
            raise ConfigError(f"network.clusters.max_links must be a whole number ≥ 1 (or null: no limit), not {ml!r}")
        mi = p.clusters["max_iterations"]
        if isinstance(mi, bool) or not isinstance(mi, int) or mi == 0:
            raise ConfigError(f"network.clusters.max_iterations must be a whole number ≥ 1 (or -1: until the "
                              f"partition is stable), not {mi!r}")
        for key in ("pagerank", "hits"):
            if not (isinstance(getattr(p, key)["max_iter"], int) and getattr(p, key)["max_iter"] >= 1):
                raise ConfigError(f"network.{key}.max_iter must be a whole number ≥ 1")
        for key, least in (("window_years", 1), ("key_routes", 1), ("export_top", 0)):
            value = getattr(p, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"network.{key} must be a whole number ≥ {least}, not {value!r}")
        return p


@dataclass(frozen=True)
class ScoreParams:
    """Tunables of the score stage (``params.yaml``, section ``score``)."""

    out: str = "data/processed/score"
    metrics: str = "metrics/score.json"
    as_of: str = "2025-12-31"
    window_years: int = 5
    min_cohort: int = 30
    trim: float = 0.01
    weights: dict = field(default_factory=lambda: {
        "forward_5y": 0.25, "family_size": 0.15, "claims": 0.1, "scope": 0.1, "grant_lag_years": 0.05,
        "backward": 0.05, "npl_refs": 0.05, "generality": 0.05, "originality": 0.05, "radicalness": 0.05,
        "remaining_life_years": 0.1})
    min_confidence: float = 0.5
    growth_window: int = 3
    high_value_portfolio: dict = field(default_factory=lambda: {"inventions": 100, "pct": 30})
    strength: str = "pai"
    aliases: str | None = "pipeline/data/applicant_aliases.yaml"
    gni: str | None = "pipeline/data/gni_by_country.csv"
    pledge_list: str | None = None
    award_list: str | None = None
    pledge_min_amount: float | None = None
    talent_top: int = 20

    @classmethod
    def from_dict(cls, raw: dict | None) -> ScoreParams:
        """Validate the ``score`` section; unknown keys and bad values raise ``ConfigError``."""
        raw = dict(raw or {})
        _refuse_unknown(raw, cls, "score")
        if "as_of" in raw:
            raw["as_of"] = str(raw["as_of"])
        p = cls(**raw)
        try:
            dt.date.fromisoformat(p.as_of)
        except ValueError:
            raise ConfigError(f"score.as_of must be a date (YYYY-MM-DD), not {p.as_of!r}") from None
        if p.strength not in ("pai", "count_quality"):
            raise ConfigError("score.strength must be 'pai' or 'count_quality'")
        if not isinstance(p.weights, dict) or not p.weights or \
                any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in p.weights.values()):
            raise ConfigError("score.weights must map indicators to non-negative numbers")
        if not isinstance(p.high_value_portfolio, dict) or set(p.high_value_portfolio) - {"inventions", "pct"}:
            raise ConfigError("score.high_value_portfolio takes 'inventions' and 'pct'")
        return p

    @property
    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of)


@dataclass(frozen=True)
class Rules:
    """Minimums of the recommendation rules (``params.yaml`` ``report.recommend``)."""

    min_region_patents: int = 5       # region's patents in a branch before its RTA is read
    min_growth_base: int = 10         # patents in the earlier window before a growth rate is read
    min_firm_patents: int = 3         # a firm's patents (in the branch / set) before it is named
    min_inventor_patents: int = 3     # an inventor's patent families before they are named
    active_years: int = 5             # a filing within N years of the project's last year
    license_top_share: float = 0.2    # licence candidates: value index in the set's top 20 %
    publication_lag_months: int = 18  # filings this recent are not all published yet
    top: int = 10                     # rows per table
    min_enterprise_patents: int = 5   # an enterprise report needs this many of the firm's patents
    cutoff_min_share: float = 0.3     # sources with this share of a set decide its data cut-off

    @classmethod
    def from_params(cls, raw: dict | None) -> Rules:
        """Rules from the ``report.recommend`` mapping; unknown keys are refused."""
        raw = dict(raw or {})
        _refuse_unknown(raw, cls, "report.recommend")
        rules = cls(**raw)
        if not 0 < rules.license_top_share <= 1:
            raise ConfigError("report.recommend.license_top_share must be in (0, 1]")
        return rules


def _refuse_unknown(raw: dict, cls, where: str) -> None:
    """Refuse keys of ``raw`` that are not fields of ``cls``, naming ``where`` and the known ones."""
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                          f"known: {', '.join(sorted(known))}")


def project_dir(name: str, root: Path = ROOT) -> Path:
    """Where a project's stage outputs go: ``data/processed/<name>/``."""
    return root / "data" / "processed" / name


def _section(raw: dict, name: str, path) -> dict:
    sec = raw.get(name)
    if not isinstance(sec, dict):
        raise ConfigError(f"{path}: section {name!r} is missing or not a mapping")
    return _with_shared(raw, name, sec, path)


def _with_shared(raw: dict, name: str, sec: dict | None, path) -> dict:
    """Section ``name`` with the :data:`SHARED` knobs it uses taken from ``analysis``."""
    sec = dict(sec or {})
    analysis = raw.get("analysis") or {}
    if not isinstance(analysis, dict):
        raise ConfigError(f"{path}: section 'analysis' must be a mapping of {', '.join(SHARED)}")
    unknown = set(analysis) - set(SHARED)
    if unknown:
        raise ConfigError(f"{path}: analysis: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                          f"(known: {', '.join(SHARED)})")
    for key, users in SHARED.items():
        if name not in users:
            continue
        if key in sec:
            raise ConfigError(f"{path}: {name}.{key} is set once for every stage as analysis.{key}; "
                              f"move it there")
        if key in analysis:
            sec[key] = analysis[key]
    return sec


def load_params(path: str | Path | None = None) -> dict:
    """Read ``params.yaml`` into typed sections.

    Returns
    -------
    dict
        ``ingest`` (:class:`IngestParams`), ``database`` (:class:`DatabaseParams`),
        ``landscape`` (:class:`pipeline.config.LandscapeParams`) and ``projects``
        (name → :class:`pipeline.project.ProjectConfig`).

    Raises
    ------
    ConfigError
        Naming the section and field that is missing or wrong.
    """
    # Projects are parsed by the project layer (regions, search strategies): the one
    # import of a higher layer, inside the loader only.
    from .project import load_projects

    path = Path(path) if path else find_root() / "params.yaml"
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read params: {exc}") from None
    out = {}
    try:
        ing = _section(raw, "ingest", path)
        inputs = ing["input"]
        inputs = (inputs,) if isinstance(inputs, str) else tuple(str(i) for i in inputs)
        skip = ing.get("skip") or {}
        if not isinstance(skip, dict):
            raise ConfigError(f"{path}: ingest.skip must map a path glob to the reason it is skipped")
        regs = ing.get("registers") or ()
        out["ingest"] = IngestParams(
            input=inputs, out=str(ing["out"]), report=str(ing["report"]),
            metrics=str(ing["metrics"]), batch_size=int(ing.get("batch_size", 2000)),
            table_batch_size=int(ing.get("table_batch_size", 20000)),
            limits=Limits(**(ing.get("limits") or {})),
            skip={str(k): str(v) for k, v in skip.items()}, allow_empty=bool(ing.get("allow_empty", False)),
            registers=(regs,) if isinstance(regs, str) else tuple(str(r) for r in regs),
            locate=dict(ing.get("locate") or {}), workers=ing.get("workers", 1),
        )
        db = _section(raw, "database", path)
        out["database"] = DatabaseParams(path=str(db["path"]), metrics=str(db["metrics"]))
        out["landscape"] = LandscapeParams(**_with_shared(raw, "landscape", raw.get("landscape"), path))
        cl = _section(raw, "classify", path)
        labels = {k: cl[k] for k in ("thresholds", "subclass_only_confidence", "disagree_below") if k in cl}
        out["classify"] = ClassifyStageParams(taxonomy=str(cl["taxonomy"]), model=str(cl["model"]), out=str(cl["out"]),
                                              metrics=str(cl["metrics"]), labels=ClassifyParams(**labels))
        tr = _section(raw, "train", path)
        out["train"] = TrainParams(**tr)
        out["network"] = NetworkParams.from_dict(_section(raw, "network", path))
        out["score"] = ScoreParams.from_dict(_section(raw, "score", path))
        out["report"] = {"recommend": Rules.from_params((raw.get("report") or {}).get("recommend"))}
    except KeyError as exc:
        raise ConfigError(f"{path}: required field {exc.args[0]!r} is missing") from None
    except ConfigError as exc:  # names the field; a ValueError too, so caught before the line below
        if str(exc).startswith(f"{path}: "):
            raise
        raise ConfigError(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if out["ingest"].batch_size < 1:
        raise ConfigError(f"{path}: ingest.batch_size must be ≥ 1, got {out['ingest'].batch_size}")
    out["projects"] = load_projects(raw)
    return out
