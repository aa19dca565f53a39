"""The project API: a navigation project and its outputs, as notebooks and users see them.

The top of the package: it reads ``params.yaml`` (:func:`pipeline.config.load_params`),
the database and the project's stage outputs; no stage imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import find_root, load_params, project_dir
from .errors import ConfigError
from .project import ProjectConfig

__all__ = ["Project", "load_project", "run_state"]


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

    metrics = project_dir(name, root) / "metrics.json"
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
        return project_dir(self.name, self.root)

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

        params = load_params(self.root / "params.yaml")
        with db.connect(self.root / params["database"].path) as con:
            con.register("scope_ids", self.scope[["pub_id"]])
            return db.frame(con, "SELECT o.* FROM patent_overview o JOIN scope_ids USING (pub_id) ORDER BY pub_id")


def load_project(name: str, root: Path | None = None) -> Project:
    """The project ``name`` of ``params.yaml`` with lazy access to its outputs.

    Examples
    --------
    >>> import pipeline
    >>> p = pipeline.load_project("jiangbei-nev")   # doctest: +SKIP
    >>> p.regions                                     # doctest: +SKIP
    """
    root = Path(root) if root else find_root()
    projects = load_params(root / "params.yaml")["projects"]
    if name not in projects:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(projects) or 'none'}")
    return Project(projects[name], root)
