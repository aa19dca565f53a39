"""Vectorised frame helpers (pipeline/frames.py), on cases small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.frames import mode_by


def test_mode_by_counts_and_breaks_ties_by_first_appearance():
    keys = ["b", "a", "a", "a", "b", "b", "c", "c"]
    values = ["p", "x", "y", "y", "q", "q", "u", "v"]
    # a: y twice, x once → y; b: q twice, p once → q; c: u and v once each → u (seen first)
    assert mode_by(keys, values).to_dict() == {"a": "y", "b": "q", "c": "u"}


def test_mode_by_skips_nulls_and_keys_without_a_value():
    keys = ["a", "a", "a", "b", None]
    values = [None, pd.NA, "x", np.nan, "z"]
    out = mode_by(keys, values)
    assert out.to_dict() == {"a": "x"}  # nulls are not a value; b has none; a null key is left out


def test_mode_by_agrees_with_value_counts_per_group():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 50, 2000).astype(str)
    values = rng.choice(list("abcdefg"), 2000, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])
    ref = pd.Series(values).groupby(keys).agg(lambda s: s.value_counts().index[0])
    pd.testing.assert_series_equal(mode_by(keys, values), ref, check_names=False, check_index_type=False,
                                   check_dtype=False)


def test_mode_by_of_nothing_is_empty():
    assert mode_by([], []).empty
