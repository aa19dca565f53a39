"""Typed view of ``params.yaml`` and the project's paths.

Paths are derived once here; stages receive plain values, never read params themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError

__all__ = ["ROOT", "find_root", "IngestParams", "DatabaseParams", "ClassifyStageParams", "TrainParams",
           "load_params", "project_dir"]

ROOT = Path(__file__).resolve().parents[1]


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


@dataclass(frozen=True)
class ClassifyStageParams:
    taxonomy: str
    model: str
    out: str
    metrics: str
    labels: "ClassifyParams"


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


def project_dir(name: str, root: Path = ROOT) -> Path:
    """Where a project's stage outputs go: ``data/processed/<name>/``."""
    return root / "data" / "processed" / name


def _section(raw: dict, name: str, path) -> dict:
    sec = raw.get(name)
    if not isinstance(sec, dict):
        raise ConfigError(f"{path}: section {name!r} is missing or not a mapping")
    return sec


def load_params(path: str | Path | None = None) -> dict:
    """Read ``params.yaml`` into typed sections.

    Returns
    -------
    dict
        ``ingest`` (:class:`IngestParams`), ``database`` (:class:`DatabaseParams`),
        ``landscape`` (:class:`pipeline.landscape.LandscapeParams`) and ``projects``
        (name → :class:`pipeline.project.ProjectConfig`).

    Raises
    ------
    ConfigError
        Naming the section and field that is missing or wrong.
    """
    # Each section's own class, imported here: a stage depends on the classes of the
    # sections it reads, not on every stage (tests/test_dvc_deps.py).
    from .classify.labels import ClassifyParams
    from .ingest.base import Limits
    from .landscape import LandscapeParams
    from .project import load_projects

    path = Path(path) if path else find_root() / "params.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
            locate=dict(ing.get("locate") or {}),
        )
        db = _section(raw, "database", path)
        out["database"] = DatabaseParams(path=str(db["path"]), metrics=str(db["metrics"]))
        out["landscape"] = LandscapeParams(**(raw.get("landscape") or {}))
        cl = _section(raw, "classify", path)
        labels = {k: cl[k] for k in ("thresholds", "subclass_only_confidence", "disagree_below") if k in cl}
        out["classify"] = ClassifyStageParams(taxonomy=str(cl["taxonomy"]), model=str(cl["model"]), out=str(cl["out"]),
                                              metrics=str(cl["metrics"]), labels=ClassifyParams(**labels))
        tr = _section(raw, "train", path)
        out["train"] = TrainParams(**tr)
        from .network.params import NetworkParams

        out["network"] = NetworkParams.from_dict(_section(raw, "network", path))
        from .score.params import ScoreParams

        out["score"] = ScoreParams.from_dict(_section(raw, "score", path))
        from .report.recommend import Rules

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
