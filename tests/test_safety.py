"""Hostile values at the edges: Rich markup in paths and errors, formula cells in exports,
file-system access from the analyst's SQL.

Every hostile file is generated in ``tmp_path`` at run time.
"""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import db, io, schema
from pipeline.cli import app

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
