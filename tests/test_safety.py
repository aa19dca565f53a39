"""Hostile values at the edges: Rich markup in paths and errors, formula cells in exports,
file-system access from the analyst's SQL.

Every hostile file is generated in ``tmp_path`` at run time.
"""

import os
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import db, io, schema
from pipeline.cli import app
from pipeline.errors import QueryError

ROOT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture
def runner():
    return CliRunner()


def _tiny_db(tmp_path):
    """A database of one patent whose applicant name is Rich markup and a formula."""
    tables = {t: schema.empty(t) for t in schema.TABLES}
    tables["patents"] = schema.conform(pd.DataFrame({
        "pub_id": ["CN1A"], "doc_key": ["CN1"], "country": ["CN"], "pub_number": ["1"], "patent_type": ["invention"],
        "app_date": pd.to_datetime(["2019-05-01"]), "family_id": ["CN1"], "sources": "t", "provenance": "t#0",
        "title": ["[bold red]x[/] and [/b]"],
    }), "patents")
    io.write_tables(tables, tmp_path / "canon")
    path = tmp_path / "t.duckdb"
    db.build(tmp_path / "canon", path)
    return path


# ----------------------------------------------------------------------------- Rich markup


@pytest.mark.parametrize("name", ["evil[/b].csv", "b[bold red]x.csv"])
def test_cli_prints_a_markup_file_name_literally_in_errors(runner, tmp_path, name):
    bad = tmp_path / name
    bad.parent.mkdir(exist_ok=True)  # "evil[/b].csv" is the file "b].csv" in the folder "evil["
    bad.write_text("a,b\n1,2\n", encoding="utf-8")  # no citing/cited columns: a named error
    res = runner.invoke(app, ["network", str(bad), "--params", str(ROOT_PARAMS)])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert f"{name}: missing column(s) citing, cited" in res.output


@pytest.mark.parametrize("name", ["evil[/b].csv", "b[bold red]x.csv"])
def test_cli_ingest_error_names_the_file_literally(runner, tmp_path, name):
    bad = tmp_path / name
    bad.parent.mkdir(exist_ok=True)
    bad.write_text("x,y\n1,2\n", encoding="utf-8")  # no known export header
    res = runner.invoke(app, ["ingest", str(bad), "--out", str(tmp_path / "out"), "--params", str(ROOT_PARAMS)])
    assert res.exit_code == 2, res.output
    assert f"{name}: unsupported format" in res.output


def test_cli_unknown_project_name_with_markup(runner):
    res = runner.invoke(app, ["report", "[/b]x", "--params", str(ROOT_PARAMS)])
    assert res.exit_code == 2, res.output
    assert "no project '[/b]x'" in res.output


def test_cli_missing_database_with_markup_name(runner, tmp_path):
    res = runner.invoke(app, ["sql", "SELECT 1", "--db", str(tmp_path / "evil[/b].duckdb")])
    assert res.exit_code == 2, res.output
    assert "evil[/b].duckdb: no database yet" in res.output


def test_cli_sql_prints_cells_headers_and_export_paths_literally(runner, tmp_path):
    path = _tiny_db(tmp_path)
    dest = tmp_path / "b[bold red]x.csv"
    res = runner.invoke(app, ["sql", 'SELECT title AS "[/b]h", \'[bold]y\' AS v FROM patents', "--db", str(path),
                              "--csv", str(dest)])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())  # the table may wrap a cell
    assert "[bold red]x[/] and [/b]" in out and "[/b]h" in out and "[bold]y" in out
    assert f"csv → {dest}" in res.output.replace("\n", "")
    assert dest.exists()


# ----------------------------------------------------------------------------- formula cells

EVIL = '=HYPERLINK("http://evil.example/?a","Evil Co")'


def _hostile() -> pd.DataFrame:
    return pd.DataFrame({
        "name": [EVIL, "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "plain", None],
        EVIL: [1, -5, 0, 2, 3, 4, 5, 6],          # a formula header over plain numbers
        "x": [0.5, -1.25, 2.0, 0.0, 1.0, 1.0, 1.0, float("nan")],
        # object, not str: an Arrow string column cannot hold the lone surrogate
        "ctl": pd.Series(["a\x00b", "c\x1fd", "e\x0bf", "ok", "\ud800", "tab\tin", "nl\nin", "é中"], dtype=object),
    })


NAMES = ["'" + EVIL, "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "plain", None]
CTL = ["a\ufffdb", "c\ufffdd", "e\ufffdf", "ok", "\ufffd", "tab\tin", "nl\nin", "é中"]  # XML 1.0 illegal -> U+FFFD


def test_csv_export_neutralises_cells_and_headers_numbers_stay_numbers(tmp_path):
    import csv

    path = io.write_export(_hostile(), tmp_path / "r.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the UTF-8
    rows = list(csv.reader(StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "'" + EVIL, "x", "ctl"]
    assert [r[0] for r in rows[1:]] == [n or "" for n in NAMES]
    assert [r[1] for r in rows[1:]] == ["1", "-5", "0", "2", "3", "4", "5", "6"]  # numbers untouched
    assert [r[2] for r in rows[1:]] == ["0.5", "-1.25", "2.0", "0.0", "1.0", "1.0", "1.0", ""]
    assert [r[3] for r in rows[1:]] == CTL


def test_xlsx_export_has_no_formula_and_no_illegal_character(tmp_path):
    import openpyxl

    path = io.write_export(_hostile(), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in ws[1]] == ["name", "'" + EVIL, "x", "ctl"]
    assert [ws.cell(r, 1).value for r in range(2, 10)] == NAMES
    assert [ws.cell(r, 2).value for r in range(2, 10)] == [1, -5, 0, 2, 3, 4, 5, 6]
    assert ws.cell(3, 3).value == -1.25 and ws.cell(3, 3).data_type == "n"
    assert [ws.cell(r, 4).value for r in range(2, 10)] == CTL


def test_project_csvs_are_neutralised(tmp_path):
    result = {"top_applicants": pd.DataFrame({"name_norm": [EVIL], "publications": [3]}),
              "top_inventors": pd.DataFrame({"name_norm": ["+cmd"], "publications": [-1]}),
              "metrics": {"publications": 3}}
    written = io.write_project_outputs(result, tmp_path)
    assert [p.name for p in written] == ["top_applicants.csv", "top_inventors.csv", "metrics.json"]
    assert (tmp_path / "top_applicants.csv").read_bytes().decode("utf-8") == \
        'name_norm,publications\r\n"\'=HYPERLINK(""http://evil.example/?a"",""Evil Co"")",3\r\n'
    assert (tmp_path / "top_inventors.csv").read_bytes() == b"name_norm,publications\r\n'+cmd,-1\r\n"


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = io.write_export(pd.DataFrame({"a": [1]}), tmp_path / "r.xlsx")
    before = path.read_bytes()
    bad = pd.DataFrame({"t": pd.to_datetime(["2024-01-01"]).tz_localize("UTC")})  # Excel refuses time zones
    with pytest.raises(ValueError):
        io.write_export(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


def test_report_workbook_is_neutralised(tmp_path):
    import openpyxl

    from pipeline.report.run import _write_workbook

    path = _write_workbook({"top": _hostile(), "a/b[1]": pd.DataFrame({"v": ["=1"]})}, tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["top", "a_b_1_"]
    assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert wb["top"]["B1"].value == "'" + EVIL and wb["a_b_1_"]["A2"].value == "'=1"


def test_cli_sql_xlsx_header_is_not_a_formula(runner, tmp_path):
    import openpyxl

    path = _tiny_db(tmp_path)
    dest = tmp_path / "r.xlsx"
    header = EVIL.replace('"', '""')  # a quoted SQL identifier
    res = runner.invoke(app, ["sql", f"SELECT 1 AS \"{header}\", '+cmd' AS b", "--db", str(path), "--xlsx", str(dest)])
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(dest).active
    assert [c.value for c in ws[1]] == ["'" + EVIL, "b"] and [c.value for c in ws[2]] == [1, "'+cmd"]
    assert ws["A1"].data_type == "s" and ws["A2"].data_type == "n"


# ----------------------------------------------------------------------------- sandboxed SQL


def test_sql_copy_to_is_refused_and_the_file_untouched(runner, tmp_path):
    path = _tiny_db(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    res = runner.invoke(app, ["sql", f"COPY (SELECT 1 AS x) TO '{victim}'", "--db", str(path)])
    assert res.exit_code == 2, res.output
    assert "reads the database only" in res.output and str(victim) in " ".join(res.output.split())
    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_sql_cannot_read_a_file(runner, tmp_path):
    path = _tiny_db(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n", encoding="utf-8")
    for q in (f"SELECT * FROM read_csv('{secret}')", f"SELECT * FROM '{secret}'", f"ATTACH '{path}' AS again"):
        res = runner.invoke(app, ["sql", q, "--db", str(path)])
        assert res.exit_code == 2, (q, res.output)
        assert "hunter2" not in res.output and "error:" in res.output


def test_sql_cannot_install_an_extension_nor_unlock(runner, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # where DuckDB would put a downloaded extension
    path = _tiny_db(tmp_path)
    for q in ("INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true", "SET lock_configuration = false"):
        res = runner.invoke(app, ["sql", q, "--db", str(path)])
        assert res.exit_code == 2, (q, res.output)
        assert "reads the database only" in res.output, q
    assert list(home.rglob("*")) == []


def test_sandboxed_query_still_reads_tables_and_views(tmp_path):
    import duckdb

    path = _tiny_db(tmp_path)
    assert db.query("SELECT pub_id, title FROM patents", path).values.tolist() == [["CN1A", "[bold red]x[/] and [/b]"]]
    assert db.query("SELECT filing_year, publications FROM yearly_counts", path).values.tolist() == [[2019, 1]]
    with duckdb.connect(str(path), read_only=True):  # an analyst's own connection in the same process
        assert db.query("SELECT count(*) AS n FROM patent_overview", path)["n"].tolist() == [1]
    assert db.query("CREATE TEMP TABLE t AS SELECT 1 AS x; SELECT x FROM t", path)["x"].tolist() == [1]
    with pytest.raises(QueryError, match="read-only"):
        db.query("DELETE FROM patents", path)


def test_a_list_with_a_cell_over_131072_characters_is_read(tmp_path):
    # The csv module's default field limit made `patnav classify` crash (_csv.Error).
    path = tmp_path / "long.csv"
    path.write_text("标题,摘要\n" + '"' + "长" * 200_000 + '",x\n', encoding="utf-8")
    df, found = io.read_list(path)
    assert found["title"] == "标题" and len(df.iloc[0]["标题"]) == 200_000


def test_xlsx_cells_over_excels_limit_are_cut_visibly(tmp_path):
    import openpyxl

    df = pd.DataFrame({"t": ["a" * 40_000, "short"], "n": [1, 2]})
    ws = openpyxl.load_workbook(io.write_export(df, tmp_path / "x.xlsx")).active
    assert len(ws["A2"].value) == io.XLSX_CELL_MAX and ws["A2"].value.endswith("…")
    assert ws["A3"].value == "short" and ws["B2"].value == 1


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    # A SIGKILL between writing the temporary file and the swap leaves it; pid 2**22+1 is
    # above Linux's pid_max, so that process is surely gone.
    dead = tmp_path / f".r[1].csv.{2**22 + 1}.ab12cd34.tmp"
    dead.write_text("half")
    alive = tmp_path / f".r[1].csv.{os.getpid()}.ef56ab78.tmp"  # a writer still at work
    alive.write_text("busy")
    io.write_export(pd.DataFrame({"a": [1]}), tmp_path / "r[1].csv")
    assert not dead.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "r[1].csv"])
