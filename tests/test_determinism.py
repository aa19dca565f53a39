"""The same inputs give the same bytes: on a re-run, on another day, in another process.

Each file is written twice, the second time under a clock moved 400 days on (``time``,
and the ``datetime`` openpyxl reads), and the bytes compared.
"""

import datetime
import hashlib
import os
import subprocess
import sys
import time
import types
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import db, io, schema

ROOT = Path(__file__).resolve().parents[1]
LATER = 400 * 86400  # seconds the clock moves on between two writes


@pytest.fixture
def later(monkeypatch):
    """A context in which every clock the writers read runs ``LATER`` seconds ahead."""
    import openpyxl.packaging.core
    import openpyxl.writer.excel

    real_time, real_localtime, real_gmtime, real_strftime = time.time, time.localtime, time.gmtime, time.strftime

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.fromtimestamp(real_time() + LATER, tz)

    @contextmanager
    def clock():
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: real_time() + LATER)
            m.setattr(time, "localtime", lambda s=None: real_localtime(real_time() + LATER if s is None else s))
            m.setattr(time, "gmtime", lambda s=None: real_gmtime(real_time() + LATER if s is None else s))
            m.setattr(time, "strftime", lambda f, t=None: real_strftime(f, real_localtime(real_time() + LATER)
                                                                           if t is None else t))
            fake = types.SimpleNamespace(datetime=Later, timezone=datetime.timezone)
            for module in (openpyxl.writer.excel, openpyxl.packaging.core):
                m.setattr(module, "datetime", fake)
            yield

    return clock


def test_the_fake_clock_moves(later):
    today = time.strftime("%Y-%m-%d")
    with later():
        assert time.strftime("%Y-%m-%d") != today and time.localtime()[:3] != time.localtime(time.time() - LATER)[:3]


# ----------------------------------------------------------------------------- XLSX, CSV


def _frame():
    return pd.DataFrame({"name": ["重庆甲", "=1+1", None], "n": [3, -1, 0], "share": [0.5, 0.25, np.nan]})


def test_xlsx_is_byte_identical_on_another_day(tmp_path, later):
    first = io.write_export(_frame(), tmp_path / "a.xlsx").read_bytes()
    with later():
        second = io.write_export(_frame(), tmp_path / "b.xlsx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert ">1980-01-01T00:00:00Z</dcterms:created>" in core and ">1980-01-01T00:00:00Z</dcterms:modified>" in core


def test_report_workbook_is_byte_identical_on_another_day(tmp_path, later):
    from pipeline.report.run import _write_workbook

    sheets = {"trend": _frame(), "regions": _frame().iloc[:1]}
    first = _write_workbook(sheets, tmp_path / "a.xlsx").read_bytes()
    with later():
        second = _write_workbook(sheets, tmp_path / "b.xlsx").read_bytes()
    assert first == second


def test_csv_is_byte_identical(tmp_path, later):
    first = io.write_export(_frame(), tmp_path / "a.csv").read_bytes()
    with later():
        assert io.write_export(_frame(), tmp_path / "b.csv").read_bytes() == first


# ----------------------------------------------------------------------------- the model


def _fit(C=20):
    from pipeline.classify.text import TextClassifier
    from tests.classify.test_text import EN, ZH, corpus

    texts, y = corpus(EN, ZH)
    return TextClassifier(min_df=1, estimator="logreg", C=C, calibration="none", random_state=0).fit(texts, y)


def test_model_file_is_byte_identical_across_runs_days_and_processes(tmp_path, later):
    from pipeline.classify.text import load_model, save_model

    first = save_model(_fit(), tmp_path / "a.skops")
    with later():  # other objects (other id()s), another day
        save_model(load_model(first), tmp_path / "b.skops")
    assert (tmp_path / "b.skops").read_bytes() == first.read_bytes()
    # Another process with other string hashes re-saves what it loads.
    code = ("import sys\nfrom pipeline.classify.text import load_model, save_model\n"
            "save_model(load_model(sys.argv[1]), sys.argv[2])\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(first), str(tmp_path / "c.skops")], check=True, env=env,
                   cwd=ROOT, timeout=300)
    assert (tmp_path / "c.skops").read_bytes() == first.read_bytes()
    # ... and a different model gives different bytes.
    assert save_model(_fit(C=5), tmp_path / "d.skops").read_bytes() != first.read_bytes()


def test_model_fitted_in_two_processes_gives_the_same_bytes(tmp_path):
    # A forced `dvc repro` of train wrote another file: scikit-learn caches id(stop_words)
    # on a vectorizer once it has been used, and that address differs between processes.
    from pipeline.classify.text import save_model

    code = ("import sys\nfrom tests.test_determinism import _fit\nfrom pipeline.classify.text import save_model\n"
            "m = _fit()\nm.predict_proba(['electric vehicle battery', '工业机器人'])\nsave_model(m, sys.argv[1])\n")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / f"{seed}.skops")], check=True, env=env,
                       cwd=ROOT, timeout=300)
    model = _fit()
    model.predict_proba(["electric vehicle battery"])
    here = save_model(model, tmp_path / "here.skops").read_bytes()
    assert (tmp_path / "1.skops").read_bytes() == (tmp_path / "2.skops").read_bytes() == here


def test_model_file_loads_back_with_the_same_predictions(tmp_path):
    from pipeline.classify.text import load_model, save_model

    model = _fit()
    again = load_model(save_model(model, tmp_path / "m.skops"))
    texts = ["electric vehicle battery", "工业机器人焊接", ""]
    pd.testing.assert_frame_equal(model.predict_proba(texts), again.predict_proba(texts))
    with zipfile.ZipFile(tmp_path / "m.skops") as z:  # no Python id() left in a name
        assert all(n == "schema.json" or (Path(n).stem.isdigit() and len(Path(n).stem) < 6) for n in z.namelist())


# ----------------------------------------------------------------------------- network exports


def _graph():
    nodes = pd.DataFrame({"node": ["A", "B", "C"], "title": ["电池", "Motor", None], "pagerank": [0.5, 0.3, 0.2],
                          "date": pd.to_datetime(["2020-01-01", "2021-06-30", None])})
    return 3, np.array([1, 2, 2]), np.array([0, 0, 1]), nodes


@pytest.mark.parametrize("writer", ["write_gexf", "write_graphml"])
def test_network_exports_are_byte_identical_on_another_day(tmp_path, later, writer):
    from pipeline.network import export

    write = getattr(export, writer)
    first = write(*_graph(), tmp_path / "a").read_bytes()
    with later():
        second = write(*_graph(), tmp_path / "b").read_bytes()
    assert first == second
    assert b"lastmodifieddate" not in first and b"A" in first


# ----------------------------------------------------------------------------- database


def test_database_content_fingerprint_is_identical_where_the_bytes_are_not(tmp_path):
    from tests.test_db_landscape import _tables

    io.write_tables(_tables(), tmp_path / "canon")
    a, b = tmp_path / "a" / "x.duckdb", tmp_path / "b" / "x.duckdb"
    db.build(tmp_path / "canon", a)
    db.build(tmp_path / "canon", b)
    # DuckDB writes a random database id into each new file ...
    assert hashlib.md5(a.read_bytes()).digest() != hashlib.md5(b.read_bytes()).digest()
    # ... the fingerprint the downstream stages depend on is the same.
    assert db.manifest_path(a).read_bytes() == db.manifest_path(b).read_bytes()
    assert all(f'"{t}"' in db.manifest_path(a).read_text(encoding="utf-8") for t in schema.TABLES)


# ----------------------------------------------------------------------------- PDF


def test_pdf_is_byte_identical_on_another_day(tmp_path, later):
    from pipeline.report.pdf import Heading, Paragraph, Report, Table, render_pdf

    report = Report("报告", "Report", "zh", {"date": "2025-12-31"},
                    [Heading("引言"), Paragraph("正文"), Table(_frame(), "表")])
    first = render_pdf(report, tmp_path / "a.pdf").read_bytes()
    with later():
        second = render_pdf(report, tmp_path / "b.pdf").read_bytes()
    assert first == second
