"""Typed view of ``params.yaml`` and the project's paths.

Paths are derived once here; stages receive plain values, never read params themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ConfigError
from .ingest.canonical import Limits

__all__ = ["ROOT", "PARAMS", "IngestParams", "DatabaseParams", "load_params", "project_dir"]

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params.yaml"


@dataclass(frozen=True)
class IngestParams:
    input: str
    out: str
    report: str
    metrics: str
    batch_size: int
    limits: Limits


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


def load_params(path: str | Path = PARAMS) -> dict:
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
    from .landscape import LandscapeParams
    from .project import load_projects

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read params: {exc}") from None
    out = {}
    try:
        ing = _section(raw, "ingest", path)
        out["ingest"] = IngestParams(
            input=str(ing["input"]), out=str(ing["out"]), report=str(ing["report"]),
            metrics=str(ing["metrics"]), batch_size=int(ing.get("batch_size", 2000)),
            limits=Limits(**(ing.get("limits") or {})),
        )
        db = _section(raw, "database", path)
        out["database"] = DatabaseParams(path=str(db["path"]), metrics=str(db["metrics"]))
        out["landscape"] = LandscapeParams(**(raw.get("landscape") or {}))
    except KeyError as exc:
        raise ConfigError(f"{path}: required field {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if out["ingest"].batch_size < 1:
        raise ConfigError(f"{path}: ingest.batch_size must be ≥ 1, got {out['ingest'].batch_size}")
    out["projects"] = load_projects(raw)
    return out
