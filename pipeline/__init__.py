"""PatNav: reproducible patent navigation (专利导航) and analytics.

The public Python API, shared by the CLI, notebooks and users::

    import pipeline
    result = pipeline.ingest(["data/raw/my_exports"])  # canonical tables + ingest report
    tables = pipeline.read_tables("data/interim/canonical")
    con = pipeline.db.connect()                     # the industry database, read-only
    project = pipeline.load_project("jiangbei-nev")  # a project's outputs
    project.trend, project.regions, project.patents()
"""

from . import db
from .ingest.run import IngestResult, ingest
from .io import read_table, read_tables
from .api import Project, load_project

__all__ = ["ingest", "IngestResult", "read_tables", "read_table", "db", "load_project", "Project"]
__version__ = "0.1.0"
