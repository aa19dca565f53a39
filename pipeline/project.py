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

from .classify.expand import SearchStrategy
from .errors import ConfigError, RegionNameError

__all__ = ["Region", "ProjectConfig", "parse_region", "validate_project", "load_projects", "add_project",
           "taxonomy", "industry_ids", "PROJECT_TYPES", "LANGUAGES"]

PROJECT_TYPES = ("industry", "enterprise", "talent")
LANGUAGES = ("zh", "en")
TAXONOMY_PATH = Path(__file__).resolve().parent / "data" / "taxonomy.yaml"
# A project name is a path component under data/processed/ and reports/: keep it plain.
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CODE_PATTERN = re.compile(r"^[A-HY]\d{2}[A-Z](\d{1,4}(/\d{1,6})?)?\*?$")


@lru_cache(maxsize=4)
def taxonomy(path: Path = TAXONOMY_PATH) -> dict:
    """The focus-industry taxonomy (``pipeline/data/taxonomy.yaml``)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def industry_ids(path: Path = TAXONOMY_PATH) -> list[str]:
    """Valid industry scopes: every industry id and every ``industry.branch`` id."""
    ids = []
    for ind, spec in taxonomy(path)["industries"].items():
        ids.append(ind)
        ids.extend(f"{ind}.{b}" for b in spec.get("branches", {}))
    return ids


@dataclass(frozen=True)
class Region:
    """A place at one level: ``country`` (ISO code), ``province``, ``city`` or ``district``."""

    label: str
    level: str
    country: str
    province: str | None = None
    city: str | None = None
    district: str | None = None


def parse_region(text: str) -> Region:
    """Parse a region name: an ISO country code (``CN``, ``US``) or a Chinese place.

    Chinese places resolve through :mod:`cpca` and must resolve completely: every
    part named must be a real province / city / district.

    Raises
    ------
    RegionNameError
        Quoting the name, with what could not be recognised and what to write instead.

    Examples
    --------
    >>> parse_region("重庆市江北区")
    Region(label='重庆市江北区', level='district', country='CN', province='重庆市', city='重庆市', district='江北区')
    >>> parse_region("US").level
    'country'
    """
    text = str(text).strip()
    if re.fullmatch(r"[A-Z]{2}", text):
        return Region(text, "country", text)
    if text in ("中国", "全国"):
        return Region(text, "country", "CN")
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise RegionNameError(f"unknown region {text!r}: use an ISO country code (CN, US …) or a Chinese place name")
    from .ingest.normalize import parse_cn_addresses
    import pandas as pd

    parsed = parse_cn_addresses(pd.Series([text])).iloc[0]
    prov, city, dist = (None if pd.isna(v) else v for v in parsed)
    if not prov:
        raise RegionNameError(f"unknown region {text!r}: no Chinese province recognised")
    # Every character of the input must be accounted for by the recognised names
    # (cpca silently ignores what it does not know: 重庆市火星区 would pass as 重庆市).
    rest = text
    for part in (prov, city, dist):
        if part:
            for variant in (part, part.rstrip("省市区县")):
                if rest.startswith(variant):
                    rest = rest[len(variant):]
                    break
    if rest:
        raise RegionNameError(f"unknown region {text!r}: {rest!r} is not a recognised city or district")
    if dist and not any(p and (p in text or p.rstrip("省市") in text) for p in (prov, city)):
        # District names repeat across China (江北区 is in Chongqing and in Ningbo).
        raise RegionNameError(f"ambiguous region {text!r}: name its province or city too, e.g. 重庆市{text}")
    named_city = city and (city in text or city.rstrip("市") in text) and city != prov
    level = "district" if dist else ("city" if named_city else "province")
    return Region(text, level, "CN", prov, city if level != "province" else None, dist)


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


def run_state(name: str, root: Path) -> tuple[str | None, str]:
    """When the project's stage last ran, and whether DVC sees it as up to date.

    Returns
    -------
    (last_run, state)
        ``last_run`` is the time its metrics were written (None if never);
        ``state`` is ``up to date``, ``changed`` (params, code or data moved on since),
        ``never run`` or ``unknown`` (no DVC repository).
    """
    import datetime as dt

    metrics = root / "data" / "processed" / name / "metrics.json"
    last = (dt.datetime.fromtimestamp(metrics.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            if metrics.exists() else None)
    if not (root / ".dvc").is_dir():
        return last, "unknown"
    if last is None:
        return None, "never run"
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            status = repo.status(targets=[f"landscape@{name}"])
    except Exception:  # noqa: BLE001 - DVC raises many kinds; the list must still print
        return last, "unknown"
    return last, "up to date" if not status else "changed"


@dataclass
class Project:
    """A navigation project and its pipeline outputs, as notebooks and users see it.

    Outputs are read from ``<root>/data/processed/<name>/`` on first use; run ``dvc repro``
    (or ``dvc repro landscape@<name>``) to produce them.
    """

    config: ProjectConfig
    root: Path

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def dir(self) -> Path:
        return self.root / "data" / "processed" / self.name

    def _outputs(self) -> dict:
        from .io import read_project_outputs

        if not hasattr(self, "_cache"):
            out = read_project_outputs(self.dir)
            if "metrics" not in out:
                raise ConfigError(f"project {self.name!r}: no outputs in {self.dir}; run `dvc repro landscape@{self.name}`")
            self._cache = out
        return self._cache

    @property
    def metrics(self) -> dict:
        return self._outputs()["metrics"]

    @property
    def trend(self):
        """Filings per year: publications, families, split by patent type."""
        return self._outputs()["trend"]

    @property
    def regions(self):
        """The project region and its comparison regions: counts, share, growth."""
        return self._outputs()["regions"]

    @property
    def top_applicants(self):
        return self._outputs()["top_applicants"]

    @property
    def top_inventors(self):
        """Inventors of the project region, ranked by publications."""
        return self._outputs()["top_inventors"]

    @property
    def scope(self):
        """The project's publications (ids, filing year, office, type, family)."""
        return self._outputs()["scope"]

    def patents(self):
        """``patent_overview`` rows of the project's publications, from the database."""
        from . import db
        from .config import load_params

        params = load_params(self.root / "params.yaml")
        with db.connect(self.root / params["database"].path) as con:
            con.register("scope_ids", self.scope[["pub_id"]])
            return con.sql("SELECT o.* FROM patent_overview o JOIN scope_ids USING (pub_id) ORDER BY pub_id").df()


def load_project(name: str, root: Path | None = None) -> Project:
    """The project ``name`` of ``params.yaml`` with lazy access to its outputs.

    Examples
    --------
    >>> import pipeline
    >>> p = pipeline.load_project("jiangbei-nev")   # doctest: +SKIP
    >>> p.regions                                     # doctest: +SKIP
    """
    from .config import find_root, load_params

    root = Path(root) if root else find_root()
    projects = load_params(root / "params.yaml")["projects"]
    if name not in projects:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(projects) or 'none'}")
    return Project(projects[name], root)
