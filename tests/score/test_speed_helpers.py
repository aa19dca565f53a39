"""Helpers the score stage uses for speed at 1M patents, on cases small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.frames import join_by, sorted_codes
from pipeline.score.talent import _hier_mode, _rows
from pipeline.score.value import _fixed2


def test_join_by_sorts_dedupes_and_indexes_by_sorted_key():
    out = join_by(["b", "a", "b", "b", None, "a"], ["y", "x", "x", "y", "z", None], ";")
    # b: {y, x} sorted → "x;y"; a: "x" (its null value left out); the null key left out
    assert out.to_dict() == {"a": "x", "b": "x;y"}
    assert out.index.tolist() == ["a", "b"] and str(out.dtype) == "string"


def test_join_by_keeps_order_of_appearance_and_repeats_when_asked():
    out = join_by([2, 1, 2, 2], ["q", "p", "a", "q"], " | ", unique=False, sort=False)
    assert out.to_dict() == {1: "p", 2: "q | a | q"}
    assert out.index.dtype == object  # integer keys come back as objects, as before


def test_join_by_text_of_non_string_values_and_empty_input():
    assert join_by(["k", "k", "k"], [3, 10, 3]).to_dict() == {"k": "10, 3"}  # as text: "10" < "3"
    empty = join_by([], [])
    assert empty.empty and str(empty.dtype) == "string"


def test_sorted_codes_rank_distinct_values():
    codes, uniq = sorted_codes(pd.Series(["c", "a", "c", "b"]))
    assert codes.tolist() == [2, 0, 2, 1] and uniq.tolist() == ["a", "b", "c"]
    codes, uniq = sorted_codes(pd.Series(["z", None, "y"], dtype="string"))
    assert codes.tolist() == [1, 2, 0] and uniq.tolist() == ["y", "z"]  # null last


def test_fixed2_is_percent_two_f_including_ties_and_odd_values():
    v = np.array([0.0, 0.004999, 0.005, 0.125, 0.375, 0.999, 1.0, 2.675, -0.0, -0.016, 12.3456, np.nan])
    assert _fixed2(v).tolist() == ["%.2f" % x for x in v]
    # by hand: 0.005 and 2.675 are stored just below their ties, 0.125 rounds half to even
    assert _fixed2(np.array([0.005, 2.675, 0.125, 0.375])).tolist() == ["0.01", "2.67", "0.12", "0.38"]


def test_hier_mode_chooses_each_level_within_the_chosen_parent():
    rows = pd.DataFrame({
        "iid": [7, 7, 7, 7, 3, 3],
        "country": ["CN", "CN", "CN", "US", None, None],
        "city": ["重庆市", "成都市", "成都市", "Austin", "x", "y"],
    }).astype({"country": "string", "city": "string"})
    out = _hier_mode(rows, "iid", ["country", "city"])
    # 7: CN (3 of 4); among CN rows 成都市 twice → 成都市. 3: no country → no city either.
    assert out["iid"].tolist() == [7, 3]
    assert out["country"].tolist() == ["CN", pd.NA] and out["city"].tolist() == ["成都市", pd.NA]


def test_hier_mode_breaks_count_ties_alphabetically():
    rows = pd.DataFrame({"iid": [1, 1], "city": ["b", "a"]}).astype({"city": "string"})
    assert _hier_mode(rows, "iid", ["city"])["city"].tolist() == ["a"]


def test_rows_filters_only_the_columns_asked_for_that_exist():
    p = pd.DataFrame({"pub_id": ["P1", "P2", "P3"], "role": ["inventor", "applicant", "inventor"],
                      "seq": [0, 0, 1], "extra": [1, 2, 3]})
    out = _rows(p, p["role"] == "inventor", ["pub_id", "seq", "city", "seq"])
    assert out.columns.tolist() == ["pub_id", "seq"]
    assert out.index.tolist() == [0, 2] and out["pub_id"].tolist() == ["P1", "P3"]


def test_inventor_ids_built_column_wise_keep_the_clash_suffix():
    from pipeline.score.talent import disambiguate_inventors

    parties = pd.DataFrame({"pub_id": ["P1", "P1", "P2", "P2"], "role": "inventor", "seq": [0, 1, 0, 1],
                            "name_raw": ["John Smith", "Smith, John", "John Smith", "--"],
                            "source_party_id": ["a", "b", "a", None]})
    out = disambiguate_inventors(parties)
    # Trusted ids a and b: two inventors keyed "john smith" whose first patent is P1 → "#seq"
    # tells them apart; the unusable name "--" gets no id.
    assert out["inventor_id"].tolist() == ["inv:john smith:P1#0", "inv:john smith:P1#1",
                                           "inv:john smith:P1#0", pd.NA]
    assert out["rule"].tolist() == ["source_id", "source_id", "source_id", "unusable_name"]
