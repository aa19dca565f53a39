"""Typed view of ``params.yaml`` and the project's paths.

Paths are derived once here; stages receive plain values, never read params themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ConfigError
from .ingest.canonical import Limits

__all__ = ["ROOT", "IngestParams", "load_params"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class IngestParams:
    inputs: tuple[str, ...]
    out: str
    report: str
    batch_size: int
    limits: Limits


def load_params(path: str | Path = ROOT / "params.yaml") -> dict:
    """Read ``params.yaml`` into typed sections.

    Raises
    ------
    ConfigError
        Naming the section and field that is missing or wrong.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read params: {exc}") from None
    ing = raw.get("ingest") or {}
    try:
        params = IngestParams(
            inputs=tuple(ing["inputs"]),
            out=str(ing["out"]),
            report=str(ing["report"]),
            batch_size=int(ing.get("batch_size", 2000)),
            limits=Limits(**(ing.get("limits") or {})),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: ingest.{exc.args[0]} is required") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: ingest: {exc}") from None
    if params.batch_size < 1:
        raise ConfigError(f"{path}: ingest.batch_size must be ≥ 1, got {params.batch_size}")
    return {"ingest": params}
