"""The database views and the landscape functions on tiny hand-computed cases."""

import pandas as pd
import pytest

from pipeline import db, io, schema
from pipeline.errors import ConfigError, PatNavError
from pipeline.config import LandscapeParams
from pipeline.landscape import landscape, region_mask, top_parties
from pipeline.places import parse_region
from pipeline.project import validate_project


def _tables():
    pats = schema.conform(pd.DataFrame({
        "pub_id": ["CN1A", "CN2A", "US3B2"], "doc_key": ["CN1", "CN2", "US3"], "country": ["CN", "CN", "US"],
        "pub_number": ["1", "2", "3"], "patent_type": ["invention", "utility_model", "invention"],
        "app_date": pd.to_datetime(["2019-05-01", "2020-01-01", "2018-01-01"]),
        "earliest_priority_date": pd.to_datetime(["2019-05-01", "2020-01-01", "2017-03-01"]),
        "family_id": ["CN1", "CN2", "US3"], "sources": "t", "provenance": "t#0",
    }), "patents")
    parties = schema.conform(pd.DataFrame({
        "pub_id": ["CN1A", "CN1A", "CN2A", "US3B2", "CN1A"],
        "role": ["applicant", "applicant", "applicant", "assignee", "inventor"],
        "seq": [0, 1, 0, 0, 0],
        "name_raw": ["重庆甲公司", "乙大学", "重庆甲有限公司", "Acme Inc.", "张三"],
        "name_norm": ["重庆甲", "乙", "重庆甲", "ACME", "张三"],
        "party_type": ["enterprise", "university", "enterprise", "enterprise", "individual"],
        "country": ["CN", "CN", "CN", "US", "CN"], "province": ["重庆市", "四川省", "重庆市", None, "重庆市"],
        "city": ["重庆市", "成都市", "重庆市", None, "重庆市"], "district": ["江北区", None, "渝北区", None, "江北区"],
        "source": "t",
    }), "parties")
    cls = schema.conform(pd.DataFrame({
        "pub_id": ["CN1A", "CN1A"], "scheme": ["IPC", "IPC"], "symbol": ["H01M10/0525", "B60L58/12"],
        "subclass": ["H01M", "B60L"], "main_group": ["H01M10", "B60L58"], "is_main": [False, True], "seq": [0, 1], "source": "t",
    }), "classifications")
    cits = schema.conform(pd.DataFrame({
        "pub_id": ["CN2A", "CN2A", "CN1A"], "seq": [0, 1, 0], "cited_raw": ["CN1A", "US3", "US9"],
        "category": ["examiner", "applicant", "other"], "resolved_pub_id": ["CN1A", "US3B2", None], "source": "t",
    }), "citations")
    tables = {t: schema.empty(t) for t in schema.TABLES}
    tables.update(patents=pats, parties=parties, classifications=cls, citations=cits)
    return tables


@pytest.fixture
def tiny_db(tmp_path):
    io.write_tables(_tables(), tmp_path / "canon")
    path = tmp_path / "t.duckdb"
    counts = db.build(tmp_path / "canon", path)
    assert counts["patents"] == 3 and counts["citations"] == 3
    return path


def test_patent_overview_hand_computed(tiny_db):
    o = db.query("SELECT * FROM patent_overview ORDER BY pub_id", tiny_db).set_index("pub_id")
    assert o.loc["CN1A", "applicants"] == "重庆甲公司; 乙大学"
    assert o.loc["CN1A", "first_applicant"] == "重庆甲公司" and o.loc["CN1A", "applicant_district"] == "江北区"
    assert o.loc["US3B2", "first_applicant"] == "Acme Inc."  # no applicants: the assignee stands in
    assert o.loc["CN1A", "main_ipc"] == "B60L58/12" and o.loc["CN1A", "ipc"] == "B60L58/12; H01M10/0525"
    assert o.forward_citations_in_db.to_dict() == {"CN1A": 1, "CN2A": 0, "US3B2": 1}
    assert o.backward_citations.to_dict() == {"CN1A": 1, "CN2A": 2, "US3B2": 0}
    assert o.filing_year.to_dict() == {"CN1A": 2019, "CN2A": 2020, "US3B2": 2017}
    # The database and every stage give a patent one filing year (pipeline.schema.filing_date).
    p = db.query("SELECT pub_id, earliest_priority_date, app_date, pub_date FROM patents ORDER BY pub_id", tiny_db)
    assert schema.filing_year(p.set_index("pub_id")).to_dict() == o.filing_year.to_dict()


def test_count_views_hand_computed(tiny_db):
    y = db.query("SELECT filing_year, country, publications FROM yearly_counts", tiny_db)
    assert y.values.tolist() == [[2017, "US", 1], [2019, "CN", 1], [2020, "CN", 1]]
    r = db.query("SELECT district, sum(publications) AS n FROM region_counts WHERE country = 'CN' GROUP BY 1 ORDER BY 1", tiny_db)
    assert r.values.tolist() == [["江北区", 1], ["渝北区", 1]]
    t = db.query("SELECT name_norm, publications FROM top_applicants", tiny_db)
    assert t.values.tolist()[0] == ["重庆甲", 2]


def test_database_errors_are_named(tmp_path):
    with pytest.raises(PatNavError, match="canonical table"):
        db.build(tmp_path, tmp_path / "x.duckdb")
    with pytest.raises(PatNavError, match="no database yet"):
        db.connect(tmp_path / "missing.duckdb")


def test_landscape_on_the_tiny_database(tiny_db):
    overview = db.query("SELECT * FROM patent_overview", tiny_db)
    parties = db.query("SELECT * FROM parties", tiny_db)
    project = validate_project("t", {"type": "enterprise", "industry": "nev", "region": "重庆市江北区",
                                     "compare": ["重庆市"], "years": [2018, 2020], "enterprise": "重庆甲有限公司"})
    out = landscape(overview, parties, project, LandscapeParams(top_n=5, growth_window=1))
    assert out["scope"].pub_id.tolist() == ["CN1A", "CN2A"]  # US3B2 filed 2017: outside the window
    assert out["trend"].values.tolist() == [[2019, 1, 1, 1, 0, 0], [2020, 1, 1, 0, 1, 0]]
    regions = out["regions"].set_index("region")
    assert regions.loc["重庆市江北区", "publications"] == 1 and regions.loc["重庆市", "publications"] == 2
    assert regions.loc["重庆市江北区", "share"] == 0.5
    # growth, window 1, last year 2020: Chongqing 1 (2020) vs 1 (2019) -> 0.0; Jiangbei 0 vs 1 -> -1.0
    assert regions.loc["重庆市", "growth"] == 0.0 and regions.loc["重庆市江北区", "growth"] == -1.0
    assert out["top_applicants"].name_norm.tolist()[0] == "重庆甲"
    assert out["top_inventors"].name_norm.tolist() == ["张三"]
    assert out["metrics"]["enterprise_publications"] == 2  # both spellings of 重庆甲 group together


def test_top_parties_breaks_ties_by_name():
    parties = pd.DataFrame({"pub_id": ["a", "b"], "role": ["applicant"] * 2, "name_norm": ["Z", "A"],
                            "name_raw": ["Z", "A"], "party_type": ["enterprise"] * 2,
                            "country": [None] * 2, "province": [None] * 2, "city": [None] * 2, "district": [None] * 2})
    assert top_parties(parties, pd.Series(["a", "b"]), ("applicant",), 5).name_norm.tolist() == ["A", "Z"]
    assert top_parties(parties.iloc[:0], pd.Series([], dtype=str), ("applicant",), 5).empty


def test_region_mask_by_level():
    pats = pd.DataFrame({"applicant_country": ["CN", "CN", "US", None], "applicant_province": ["重庆市", "四川省", None, None],
                         "applicant_city": ["重庆市", "成都市", None, None], "applicant_district": ["江北区", None, None, None]})
    assert region_mask(pats, parse_region("CN")).tolist() == [True, True, False, False]
    assert region_mask(pats, parse_region("四川省成都市")).tolist() == [False, True, False, False]
    assert region_mask(pats, parse_region("重庆市江北区")).tolist() == [True, False, False, False]


@pytest.mark.parametrize("text, level", [("重庆市江北区", "district"), ("重庆市", "province"), ("四川省成都市", "city"),
                                         ("成都市", "city"), ("CN", "country"), ("中国", "country")])
def test_parse_region_levels(text, level):
    assert parse_region(text).level == level


@pytest.mark.parametrize("text", ["重庆市火星区", "江北区", "Atlantis", "cn"])
def test_parse_region_refuses_unknown_or_ambiguous(text):
    with pytest.raises(ValueError, match="region"):
        parse_region(text)


def test_validate_project_names_the_field():
    with pytest.raises(ConfigError, match=r"project 'x': industry: unknown industry"):
        validate_project("x", {"type": "industry", "industry": "nev.rockets", "region": "CN"})
    with pytest.raises(ConfigError, match=r": colour: unknown field"):
        validate_project("x", {"type": "industry", "industry": "nev", "region": "CN", "colour": "red"})


def test_scope_leaves_out_labels_the_text_contradicts():
    import pandas as pd

    from pipeline.landscape import scope
    from pipeline.project import validate_project

    project = validate_project("t", {"type": "industry", "industry": "nev", "region": "CN", "years": [2010, 2020]})
    overview = pd.DataFrame({"pub_id": ["A", "B", "C"], "filing_year": [2015, 2015, 2015]})
    labels = pd.DataFrame({"pub_id": ["A", "B", "C"], "industry": "nev", "branch": "nev.components",
                           "confidence": 1.0, "flag": [None, "text_disagrees", "subclass_only"]})
    assert scope(overview, project, labels).pub_id.tolist() == ["A", "B", "C"]
    assert scope(overview, project, labels, exclude_doubtful=True).pub_id.tolist() == ["A", "C"]


# ----------------------------------------------------------------------------- atomic builds


def test_a_killed_build_leaves_leftovers_the_next_build_cleans(tmp_path):
    """SIGKILL after the tables are written, before the file is closed: the half-built
    file and its WAL stay behind; the next build removes them and succeeds."""
    import os
    import subprocess
    import sys

    io.write_tables(_tables(), tmp_path / "canon")
    path = tmp_path / "t.duckdb"
    code = (
        "import os, signal, sys\n"
        "from pipeline import db\n"
        "class Die(dict):  # the views come last: the tables are written by then\n"
        "    def items(self):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "db.VIEWS = Die()\n"
        "db.build(sys.argv[1], sys.argv[2])\n"
    )
    root = str(db.Path(db.__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "canon"), str(path)], cwd=root, timeout=120,
                          env={**os.environ, "PYTHONPATH": root}, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("t.") and p.name != "t.duckdb")
    assert leftovers and all(".building" in n for n in leftovers) and any(n.endswith(".wal") for n in leftovers)
    assert not path.exists()
    counts = db.build(tmp_path / "canon", path)
    assert counts["patents"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canon", "t.duckdb", "t.duckdb.contents.json"]
    assert db.query("SELECT count(*) AS n FROM patents", path)["n"].tolist() == [3]


def test_readers_never_miss_the_database_while_it_is_rebuilt(tmp_path):
    """A reader thread polls while the database is rebuilt from alternating inputs: every
    query succeeds and sees one whole database or the other."""
    import threading

    small, big = _tables(), _tables()
    small["patents"] = small["patents"].iloc[:2]
    io.write_tables(small, tmp_path / "a")
    io.write_tables(big, tmp_path / "b")
    path = tmp_path / "t.duckdb"
    db.build(tmp_path / "a", path)
    seen, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.append(db.query("SELECT count(*) AS n FROM patent_overview", path)["n"].iloc[0])
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                errors.append(repr(exc))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(8):
            db.build(tmp_path / ("b" if i % 2 == 0 else "a"), path)
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert len(seen) > 8 and set(seen) == {2, 3}


def test_an_unchanged_rebuild_keeps_the_file_and_its_fingerprint(tmp_path):
    io.write_tables(_tables(), tmp_path / "canon")
    path = tmp_path / "t.duckdb"
    db.build(tmp_path / "canon", path)
    first, manifest = path.read_bytes(), (tmp_path / "t.duckdb.contents.json").read_bytes()
    db.build(tmp_path / "canon", path)
    assert path.read_bytes() == first
    assert (tmp_path / "t.duckdb.contents.json").read_bytes() == manifest
    changed = _tables()
    changed["patents"] = changed["patents"].iloc[:2]
    io.write_tables(changed, tmp_path / "canon")
    db.build(tmp_path / "canon", path)
    assert (tmp_path / "t.duckdb.contents.json").read_bytes() != manifest
    assert db.query("SELECT count(*) AS n FROM patents", path)["n"].tolist() == [2]


def test_dvc_never_deletes_the_database_and_downstream_follows_its_content():
    """DVC removes a stage's outputs before running it unless they persist: readers would
    find no database for the whole build. Downstream stages depend on the content
    fingerprint, not on the .duckdb bytes (a rebuild of equal content changes them)."""
    import yaml

    root = db.Path(db.__file__).resolve().parents[1]
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    outs = stages["database"]["outs"]
    assert {"${database.path}": {"persist": True, "cache": False}} in outs
    assert {"${database.path}.contents.json": {"cache": False}} in outs
    for name in ("landscape", "report"):
        deps = stages[name]["do"]["deps"]
        assert "${database.path}.contents.json" in deps and "${database.path}" not in deps, name


def test_frame_gives_what_df_gives_through_arrow():
    import duckdb

    from pipeline.db import frame

    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', NULL::VARCHAR, 1::BIGINT, 1::BIGINT, DATE '2020-01-02', TRUE, NULL::BOOLEAN, 1.5, 7::INTEGER, [1, 2]),
        (NULL, NULL, 2, NULL, NULL, FALSE, TRUE, NULL, NULL, NULL))
        t(s, s_null, i, i_null, d, b, b_null, f, i32_null, l)""")
    scalar = "SELECT s, s_null, i, i_null, d, b, b_null, f, i32_null FROM t"
    for sql in (scalar, scalar + " WHERE false", "SELECT * FROM t", "SELECT * FROM t WHERE i = ?"):
        args = [2] if "?" in sql else None
        pd.testing.assert_frame_equal(frame(con, sql, args), con.execute(sql, args or []).df(), check_exact=True)
    df = frame(con, scalar)
    # text with a value is str, without one object of None; nullable only where a null is
    assert df.dtypes.astype(str).tolist() == ["str", "object", "int64", "Int64", "datetime64[us]", "bool",
                                              "boolean", "float64", "Int32"]
    assert df["s_null"].tolist() == [None, None] and df["d"].isna().tolist() == [False, True]
