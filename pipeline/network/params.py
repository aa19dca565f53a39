"""The network stage's params (section ``network`` of params.yaml), apart from the stage's
code: :func:`pipeline.config.load_params` builds them for every command, and a stage that
reads only ``network.out`` depends on this module, not on the analyses."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..errors import ConfigError

__all__ = ["NetworkParams"]


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
                                                    "min_shared": 1, "min_size": 3, "seed": 0,
                                                    "max_iterations": 10})
    cooccurrence: dict = field(default_factory=lambda: {"level": "subclass", "period_years": 5})
    export_top: int = 2000
    lang: str = "zh"

    @classmethod
    def from_dict(cls, raw: dict | None) -> NetworkParams:
        """Validate the ``network`` section; unknown keys and bad values raise ``ConfigError``."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"network: unknown key(s) {', '.join(sorted(unknown))}")
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
