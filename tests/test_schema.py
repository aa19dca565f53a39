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
