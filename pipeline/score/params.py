"""The score stage's params (section ``score`` of params.yaml), apart from the stage's code:
:func:`pipeline.config.load_params` builds them for every command, and a stage that reads
only ``score.out`` depends on this module, not on the scoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from ..errors import ConfigError

__all__ = ["ScoreParams"]


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
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"score: unknown key(s) {', '.join(sorted(unknown))}")
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
