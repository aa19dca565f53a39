"""PatNav: reproducible patent navigation (专利导航) and analytics.

The public Python API, shared by the CLI, notebooks and users::

    from pipeline import ingest, read_tables
    result = ingest(["data/sample"])
    result.tables["patents"].head()
"""

from .ingest.run import IngestResult, ingest
from .io import read_table, read_tables

__all__ = ["ingest", "IngestResult", "read_tables", "read_table"]
__version__ = "0.1.0"
