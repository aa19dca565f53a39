"""The generated Chinese export fixtures, written into a temporary folder at test time.

The files hold real KPPatent-ZH titles and abstracts (``../shared/data/cn-text/test_data_TAC.json``)
around a generated bibliography (``scripts/make_cn_fixtures.py``), so the project commits
none of them. A test module that needs them imports the fixture::

    from tests.fixtures_cn import CN_UTF8, cn_exports  # noqa: F401  (cn_exports is a fixture)

and asks for ``cn_exports``: file name -> path of the six files (the three ten-row forms
:data:`CN_UTF8`, :data:`CN_GBK`, :data:`CN_XLSX` and the three larger files
:data:`CN_SAMPLES`), generated once per test session.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.shared_data import shared_path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_cn_fixtures.py"

# File names, as make_fixtures writes them.
CN_UTF8 = "cn_tiny_synthetic_biblio_title_utf8bom.csv"  # 10 rows, UTF-8 with BOM, a title row
CN_GBK = "cn_tiny_synthetic_biblio_gbk.csv"  # the same 10 rows, GB18030, mixed header, no title row
CN_XLSX = "cn_tiny_synthetic_biblio_title.xlsx"  # the same 10 rows, a title row, Excel dates
CN_SAMPLES = {  # larger files on other texts: name -> rows
    "cn_export_synthetic_biblio.csv": 300,
    "cn_export_synthetic_biblio_gbk.csv": 100,
    "cn_export_synthetic_biblio.xlsx": 100,
}


def fixture_script() -> ModuleType:
    """``scripts/make_cn_fixtures.py`` as a module (``scripts`` is no package)."""
    name = "make_cn_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def write_cn_exports(out_dir: Path) -> dict[str, Path]:
    """Generate all six files into ``out_dir`` from the real text in ../shared/data."""
    text = shared_path("cn-text", "test_data_TAC.json")
    files = fixture_script().make_fixtures(out_dir, text_source=text, samples=True)
    assert set(files) == {CN_UTF8, CN_GBK, CN_XLSX, *CN_SAMPLES}, sorted(files)
    return files


@pytest.fixture(scope="session")
def cn_exports(tmp_path_factory) -> dict[str, Path]:
    """File name -> path of the generated Chinese export fixtures (one temporary folder per session)."""
    return write_cn_exports(tmp_path_factory.mktemp("cn_exports"))
