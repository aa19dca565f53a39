"""The GENERATED-data generator (benchmarks/generate.py): fitted to the real files, read
back by the project's own adapters record for record, the same bytes for the same seed."""

import numpy as np
import pandas as pd
import pytest

from benchmarks import generate as g
from pipeline.ingest.run import ingest


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    if not g.SHARED.is_dir():
        pytest.skip("../shared/data not present")
    cache = tmp_path_factory.mktemp("profiles")
    return {office: g.load_profile(office, cache) for office in ("CN", "US")}


def _mean(hist: dict) -> float:
    return sum(int(k) * v for k, v in hist.items()) / sum(hist.values())


def test_profiles_are_fitted_on_the_real_files(profiles):
    cn, us = profiles["CN"], profiles["US"]
    # CN patents of the three exports; only Patentics (511 rows) lists its references.
    assert cn["fitted_on"]["with_references"] == 511 and cn["fitted_on"]["patents"] > 8000
    assert set(cn["patent_type"]) == {"invention", "utility_model"}
    assert cn["citation_lag_from"] == "US"  # the exports give no dates of cited documents
    # US: every grant is granted; designs are ~10 % of the weekly slices and PatentsView sample.
    assert set(us["granted_share"].values()) == {1.0} and 0.05 < us["patent_type"]["design"] < 0.15
    assert 10 < _mean(us["refs_per_patent"]) < 40  # US grants cite ~20 documents
    for prof in (cn, us):
        for key in ("patent_type", "app_year", "applicants_per_patent", "ipc_per_patent", "refs_per_patent"):
            assert sum(prof[key].values()) == pytest.approx(1, abs=1e-4), key
        assert len(prof["pub_lag_days"]) == 101 and prof["pub_lag_days"] == sorted(prof["pub_lag_days"])
        assert 0 < prof["names_per_patent"] < 1 and prof["name_zipf"] > 0
        # A missing column is not a count of zero (incoPat lists no inventors, PatentsView no IPC).
        assert "0" not in prof["inventors_per_patent"] and "0" not in prof["ipc_per_patent"]


@pytest.mark.parametrize("fmt", g.FORMATS)
def test_every_format_is_read_back_record_for_record(fmt, profiles, tmp_path):
    t = g.generate(250, profiles[g.OFFICE_OF[fmt]], seed=3)
    path = g.write(t, fmt, tmp_path)
    assert path.name.startswith("generated_")
    got = ingest([path]).tables
    assert len(got["rejects"]) == 0
    for name in ("patents", "parties", "classifications", "citations"):
        assert len(got[name]) == len(t[name]), name
    assert set(got["patents"]["pub_id"]) == set(t["patents"]["pub_id"])
    assert got["patents"]["title"].str.startswith(("GENERATED ", "生成数据 ")).all()
    # References inside the set resolve to its patents: the citation network is real to the stages.
    resolved = got["citations"]["resolved_pub_id"].notna().sum()
    assert resolved == t["citations"]["internal"].sum() > 0


@pytest.mark.parametrize("fmt", ["cn-csv", "uspto-xml", "patentsview"])
def test_written_in_runs_as_at_once(fmt, profiles, tmp_path):
    t = g.generate(230, profiles[g.OFFICE_OF[fmt]], seed=5)
    whole, runs = g.write(t, fmt, tmp_path / "whole", chunk=10**6), g.write(t, fmt, tmp_path / "runs", chunk=40)
    files = sorted(p.name for p in whole.iterdir()) if whole.is_dir() else [""]
    for name in files:
        a, b = (whole / name, runs / name) if name else (whole, runs)
        if name == "g_location_disambiguated.tsv":  # countries in the order first met
            assert sorted(a.read_text().splitlines()) == sorted(b.read_text().splitlines())
        else:
            assert a.read_bytes() == b.read_bytes(), name


def test_the_same_seed_gives_the_same_bytes(profiles, tmp_path):
    a = g.write(g.generate(200, profiles["CN"], seed=7), "cn-csv", tmp_path / "a")
    b = g.write(g.generate(200, profiles["CN"], seed=7), "cn-csv", tmp_path / "b")
    c = g.write(g.generate(200, profiles["CN"], seed=8), "cn-csv", tmp_path / "c")
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_generated_distributions_follow_the_profile(profiles):
    prof = profiles["US"]
    t = g.generate(20000, prof, seed=0, internal_share=1.0)
    p = t["patents"]
    refs = t["citations"].groupby("pub_id").size().reindex(p["pub_id"], fill_value=0)
    # Duplicate targets are dropped, so the mean may fall a little below the profile's.
    assert refs.mean() == pytest.approx(_mean(prof["refs_per_patent"]), rel=0.1)
    shares = p["patent_type"].value_counts(normalize=True)
    assert shares["design"] == pytest.approx(prof["patent_type"]["design"], abs=0.01)
    # Every reference points back in time, and numbers rise with publication dates.
    c = t["citations"].merge(p[["pub_id", "pub_date"]], on="pub_id")
    assert (pd.to_datetime(c["cited_date"]) <= c["pub_date"]).all()
    assert p["pub_date"].is_monotonic_increasing
    # Applicants recur as fitted: distinct names per patent near the profile's.
    names = t["parties"].query("role == 'assignee'")["name"]
    assert names.nunique() / len(p) == pytest.approx(prof["names_per_patent"], rel=0.35)
    assert np.isin(t["citations"]["internal"], [True, False]).all()
