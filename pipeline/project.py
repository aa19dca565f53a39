"""Navigation projects: definition, validation, and editing of ``params.yaml``.

A project is one entry of the ``projects:`` section of ``params.yaml``::

    projects:
      jiangbei-nev:
        type: industry              # industry | enterprise | talent
        industry: nev               # a focus industry, or a branch such as nev.components
        region: 重庆市江北区          # where the project positions itself
        compare: [重庆市渝北区, 四川省成都市]
        years: [2010, 2024]         # filing-year window (earliest priority)
        enterprise: null            # the target enterprise, for type enterprise
        languages: [zh, en]         # report languages
        search:                     # optional search strategy (landscape expansion)
          keywords: [动力电池, traction battery]
          codes: [H01M10*, B60L58*]
          seeds: [CN112345678A]

Every validation error is a :class:`~pipeline.errors.ConfigError` naming the project
and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .classify.rules import industry_ids
from .errors import ConfigError, RegionNameError
from .places import Region, parse_region

__all__ = ["ProjectConfig", "SearchStrategy", "validate_project", "load_projects", "add_project",
           "PROJECT_TYPES", "LANGUAGES"]

PROJECT_TYPES = ("industry", "enterprise", "talent")
LANGUAGES = ("zh", "en")
# A project name is a path component under data/processed/ and reports/: keep it plain.
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CODE_PATTERN = re.compile(r"^[A-HY]\d{2}[A-Z](\d{1,4}(/\d{1,6})?)?\*?$")


@dataclass(frozen=True)
class SearchStrategy:
    """A project's search strategy: any of seed publications, keywords, code patterns."""

    seeds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.seeds or self.keywords or self.codes)


@dataclass(frozen=True)
class ProjectConfig:
    """A validated navigation project."""

    name: str
    type: str
    industry: str
    region: Region
    compare: tuple[Region, ...] = ()
    years: tuple[int, int] = (1900, 2100)
    enterprise: str | None = None
    languages: tuple[str, ...] = ("zh",)
    search: SearchStrategy = SearchStrategy()
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def validate_project(name: str, spec: dict, existing: set[str] = frozenset()) -> ProjectConfig:
    """Validate one project definition.

    Raises
    ------
    ConfigError
        Naming the project and the offending field.
    """
    def bad(fld: str, msg: str):
        raise ConfigError(f"project {name!r}: {fld}: {msg}")

    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise ConfigError(
            f"project {name!r}: name: must be 1-64 characters of a-z, 0-9, '-', '_' starting with a letter or digit "
            "(it becomes a folder name)"
        )
    if name in existing:
        bad("name", "a project with this name already exists")
    if not isinstance(spec, dict):
        bad("definition", "must be a mapping of fields")
    known = {"type", "industry", "region", "compare", "years", "enterprise", "languages", "search"}
    unknown = set(spec) - known
    if unknown:
        bad(sorted(unknown)[0], f"unknown field (known: {', '.join(sorted(known))})")
    ptype = spec.get("type")
    if ptype not in PROJECT_TYPES:
        bad("type", f"must be one of {', '.join(PROJECT_TYPES)}, got {ptype!r}")
    industry = spec.get("industry")
    if industry not in industry_ids():
        bad("industry", f"unknown industry or branch {industry!r}; known: {', '.join(industry_ids())}")
    try:
        region = parse_region(spec.get("region"))
    except RegionNameError as exc:
        bad("region", str(exc))
    compare = []
    for i, r in enumerate(spec.get("compare") or []):
        try:
            compare.append(parse_region(r))
        except RegionNameError as exc:
            bad(f"compare[{i}]", str(exc))
    years = spec.get("years") or [1900, 2100]
    if not (isinstance(years, list | tuple) and len(years) == 2 and all(isinstance(y, int) for y in years)
            and 1800 <= years[0] <= years[1] <= 2100):
        bad("years", f"must be [first, last] filing years with first ≤ last, got {years!r}")
    enterprise = spec.get("enterprise")
    if ptype == "enterprise" and not (isinstance(enterprise, str) and enterprise.strip()):
        bad("enterprise", "required for an enterprise project (the target enterprise's name)")
    languages = spec.get("languages") or ["zh"]
    for lang in languages:
        if lang not in LANGUAGES:
            bad("languages", f"unknown language {lang!r}; use {', '.join(LANGUAGES)}")
    search = spec.get("search") or {}
    if not isinstance(search, dict) or set(search) - {"keywords", "codes", "seeds"}:
        bad("search", "must be a mapping with any of keywords, codes, seeds")
    for key in ("keywords", "codes", "seeds"):
        items = search.get(key) or []
        if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
            bad(f"search.{key}", "must be a list of non-empty strings")
    for code in search.get("codes") or []:
        if not _CODE_PATTERN.match(code):
            bad("search.codes", f"{code!r} is not a code pattern (H01M, H01M10*, H01M10/0525)")
    strategy = SearchStrategy(tuple(search.get("seeds") or ()), tuple(search.get("keywords") or ()),
                              tuple(search.get("codes") or ()))
    return ProjectConfig(name, ptype, industry, region, tuple(compare), tuple(years), enterprise,
                         tuple(languages), strategy, raw=dict(spec))


def load_projects(params: dict) -> dict[str, ProjectConfig]:
    """Validate the ``projects:`` section of loaded params."""
    projects = params.get("projects") or {}
    if not isinstance(projects, dict):
        raise ConfigError("projects: must be a mapping of project name -> definition")
    return {name: validate_project(name, spec) for name, spec in projects.items()}


def add_project(params_path: Path, name: str, spec: dict) -> ProjectConfig:
    """Validate a new project and append it to ``params.yaml``, keeping comments and order."""
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    doc = y.load(params_path.read_text(encoding="utf-8"))
    projects = doc.get("projects") or {}
    config = validate_project(name, spec, existing=set(projects))
    clean = {k: v for k, v in spec.items() if v not in (None, [], ())}
    if doc.get("projects") is None:
        doc["projects"] = {}
    doc["projects"][name] = clean
    with open(params_path, "w", encoding="utf-8") as fh:
        y.dump(doc, fh)
    return config
