"""The canonical schema: validation catches bad tables; the docs describe every column."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline import schema
from pipeline.errors import SchemaError

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_every_column_is_documented(table):
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {table}", 1)[1].split("\n## ", 1)[0]
    for col in schema.TABLES[table]:
        assert f"`{col}`" in section, f"{table}.{col} missing from docs/data-model.md"


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_empty_tables_validate(table):
    assert len(schema.validate(schema.empty(table), table)) == 0


def test_validation_names_table_column_and_value():
    df = schema.conform(pd.DataFrame({"pub_id": ["X1"], "role": ["boss"], "seq": [0], "name_raw": ["a"],
                                      "party_type": ["unknown"], "source": ["f"]}), "parties")
    with pytest.raises(SchemaError, match=r"parties.*role.*boss"):
        schema.validate(df, "parties")


def test_duplicate_keys_fail():
    df = schema.conform(pd.DataFrame({"pub_id": ["A", "A"], "doc_key": "A", "country": "US", "pub_number": "1",
                                      "patent_type": "invention", "sources": "x", "provenance": "p"}), "patents")
    with pytest.raises(SchemaError, match="patents"):
        schema.validate(df, "patents")


def test_conform_requires_non_nullable_columns():
    with pytest.raises(SchemaError, match="pub_id"):
        schema.conform(pd.DataFrame({"role": ["inventor"]}), "parties")


def test_filing_date_priority_then_application_then_publication():
    p = pd.DataFrame({"earliest_priority_date": [None, "2018-06-30", None, None, "not a date"],
                      "app_date": ["2020-01-02", "2020-03-01", None, None, "2021-07-01"],
                      "pub_date": ["2021-05-05", "2021-09-01", "2019-02-03", None, None]})
    d = schema.filing_date(p)
    assert d["date"].dt.strftime("%Y-%m-%d").tolist()[:3] == ["2020-01-02", "2018-06-30", "2019-02-03"]
    assert d["date"].isna().tolist() == [False, False, False, True, False]
    assert d["basis"].tolist() == ["app_date", "earliest_priority_date", "pub_date", pd.NA, "app_date"]
    assert schema.filing_year(p).tolist() == [2020, 2018, 2019, pd.NA, 2021]
    # The database's column, when present, is taken as it is.
    assert schema.filing_year(p.assign(filing_year=[1, 2, 3, None, 5])).tolist() == [1, 2, 3, pd.NA, 5]
    # Columns absent count as missing.
    assert schema.filing_year(pd.DataFrame({"pub_date": ["2001-01-01"]})).tolist() == [2001]


# ------------------------------------------------------------------ stage outputs
def test_every_stage_output_has_a_contract():
    from pipeline.network import TABLES as NETWORK
    from pipeline.score.run import TABLES as SCORE

    declared = set(schema.OUTPUTS)
    assert {f"network.{t}" for t in NETWORK} <= declared
    assert {f"score.{t}" for t in SCORE} <= declared
    assert {"labels", "project.scope", "project.search"} <= declared


def test_output_contract_names_the_broken_column():
    ok = pd.DataFrame({"branch": ["a", "b"], "applicants": [3, 1], "cr4": [0.5, 1.0], "hhi": [0.2, None],
                       "extra": ["allowed", "too"]})
    assert schema.validate_output(ok, "score.concentration") is not None
    with pytest.raises(SchemaError, match="'score.concentration'.*'branch'"):
        schema.validate_output(ok.assign(branch=["a", "a"]), "score.concentration")  # key repeated
    with pytest.raises(SchemaError, match="'applicants'.*kind Int64"):
        schema.validate_output(ok.assign(applicants=["3", "1"]), "score.concentration")  # text, not counts
    with pytest.raises(SchemaError, match="'applicants'"):
        schema.validate_output(ok.assign(applicants=pd.array([3, None], "Int64")), "score.concentration")  # null
    with pytest.raises(SchemaError, match="lacks column.*cr4"):
        schema.validate_output(ok.drop(columns="cr4").iloc[:0], "score.concentration")
    with pytest.raises(SchemaError, match="unknown output table"):
        schema.validate_output(ok, "score.nothing")


def test_stage_writer_refuses_a_broken_output_and_writes_nothing(tmp_path):
    from pipeline import io

    bad = pd.DataFrame({"pub_id": ["CN1A", "CN1A"], "filing_year": [2020, 2021], "country": ["CN", "CN"],
                        "patent_type": ["invention"] * 2, "family_id": [None, None]})
    with pytest.raises(SchemaError, match="project.scope"):
        io.write_frame(bad, tmp_path / "scope.parquet", "project.scope")
    assert not (tmp_path / "scope.parquet").exists()
    path = io.write_frame(bad.iloc[:1], tmp_path / "sub" / "scope.parquet", "project.scope")
    pd.testing.assert_frame_equal(pd.read_parquet(path), bad.iloc[:1])
