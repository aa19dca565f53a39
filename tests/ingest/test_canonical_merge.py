"""Canonicalisation of raw batches and merging across sources, on tiny inline frames."""

import pandas as pd

from pipeline import schema
from pipeline.ingest.base import RawBatch, raw_frame
from pipeline.config import Limits
from pipeline.ingest.canonical import canonicalize
from pipeline.ingest.merge import assign_families, merge_sources


def _batch(patents, **tables):
    t = {"patents": raw_frame("patents", patents)}
    for name, rows in tables.items():
        t[name] = raw_frame(name, rows)
    return RawBatch(n_records=len(patents), tables=t)


def test_canonicalize_rejects_and_keeps_the_rest():
    b = _batch(
        [
            {"rec": 0, "row": 0, "pub_raw": "CN112345678A", "app_raw": "2017106018623", "app_date": "2017-07-21",
             "pub_date": "2018-01-02", "title": " 一种  电池 ", "claims_count": "10"},
            {"rec": 1, "row": 1, "pub_raw": "???"},
            {"rec": 2, "row": 2, "pub_raw": "CN212345678U", "app_raw": "2017206018624", "pub_date": "2018-02-30",
             "title": "x" * 50},
        ],
        parties=[{"rec": 0, "role": "applicant", "seq": 0, "name_raw": "重庆长安汽车股份有限公司", "address_raw": "重庆市江北区建新东路260号"},
                 {"rec": 1, "role": "applicant", "seq": 0, "name_raw": "lost with its record"}],
        classifications=[{"rec": 0, "scheme": "IPC", "symbol_raw": "H01M 10/0525(2010.01)", "is_main": True},
                         {"rec": 0, "scheme": "IPC", "symbol_raw": "rubbish"}],
    )
    out = canonicalize(b, "f.csv", "cn_export", Limits(title=20))
    p = out["patents"]
    assert p.pub_id.tolist() == ["CN112345678A", "CN212345678U"]
    assert p.title[0] == "一种 电池" and p.claims_count[0] == 10
    assert p.app_id[0] == "CN201710601862.3" and pd.isna(p.app_id[1])
    assert p.patent_type.tolist() == ["invention", "utility_model"]
    assert pd.isna(p.pub_date[1]) and pd.isna(p.title[1])
    assert p.provenance.tolist() == ["f.csv#0", "f.csv#2"]
    party = out["parties"].iloc[0]
    assert (party.name_norm, party.party_type, party.province, party.city, party.district, party.country) == (
        "重庆长安汽车", "enterprise", "重庆市", "重庆市", "江北区", "CN")
    assert len(out["parties"]) == 1
    assert out["classifications"].symbol.tolist() == ["H01M10/0525"]
    r = out["rejects"].set_index("field")
    assert r.loc["pub_raw", "level"] == "record" and r.loc["pub_raw", "row"] == 1
    assert "check digit" in r.loc["app_raw", "reason"]
    assert r.loc["pub_date", "raw_value"] == "2018-02-30"
    assert "longer than 20" in r.loc["title", "reason"]
    assert r.loc["classifications.symbol", "raw_value"] == "rubbish"
    assert (out["rejects"].source_file == "f.csv").all()
    for name in schema.TABLES:
        if name not in ("locations", "conflicts"):  # made after merging (pipeline.locate, merge)
            schema.validate(out[name], name)


def test_merge_keeps_richer_values_both_provenances_and_best_children():
    a = canonicalize(_batch(
        [{"rec": "x", "row": 0, "pub_raw": "US8418361B2", "title": "Method of PCB", "abstract": None, "claims_count": "20"}],
        parties=[{"rec": "x", "role": "inventor", "seq": 0, "name_raw": "Kim Ann", "party_type_hint": "individual"}],
    ), "a.xml", "uspto_xml")
    b = canonicalize(_batch(
        [{"rec": 0, "row": 5, "pub_raw": "US 8418361 B2", "title": "Method of manufacturing PCB", "abstract": "An abstract.",
          "claims_count": "19", "legal_status": "active"},
         {"rec": 1, "row": 6, "pub_raw": "US 8418361 B2"}],
        parties=[{"rec": 0, "role": "inventor", "seq": 0, "name_raw": "KIM ANN"},
                 {"rec": 0, "role": "applicant", "seq": 0, "name_raw": "SAMSUNG ELECTRO-MECHANICS"}],
    ), "b.csv", "lens")
    tables, counts = merge_sources([a, b])
    p = tables["patents"].iloc[0]
    assert len(tables["patents"]) == 1
    assert p.title == "Method of manufacturing PCB"  # longest title wins
    assert p.abstract == "An abstract." and p.legal_status == "active"  # filled from the second source
    assert p.claims_count == 20  # first source wins where both have a value
    assert p.provenance == "a.xml#0 | b.csv#5 | b.csv#6" and p.sources == "uspto_xml | lens"
    parties = tables["parties"]
    assert parties[parties.role == "inventor"].name_raw.tolist() == ["Kim Ann"]  # best source only
    assert parties[parties.role == "applicant"].name_raw.tolist() == ["SAMSUNG ELECTRO-MECHANICS"]
    # reconciliation: a.xml 1 accepted; b.csv 2 records both merged; one value of each not kept
    assert counts.loc[0].tolist() == [1, 0, 1] and counts.loc[1].tolist() == [0, 2, 1]
    assert tables["conflicts"].values.tolist() == [
        ["US8418361B2", "title", "Method of manufacturing PCB", "Method of PCB", "b.csv#5", "a.xml#0", "longest text"],
        ["US8418361B2", "claims_count", "20", "19", "a.xml#0", "b.csv#5", "source precedence"],
    ]


def test_families_from_shared_application_priority_and_members():
    pats = pd.DataFrame({"pub_id": ["CN1A", "CN1B", "US9B2", "EP5A1", "JP7A"], "doc_key": ["CN1", "CN1", "US9", "EP5", "JP7"]})
    links = pd.DataFrame({
        "pub_id": ["CN1A", "CN1B", "US9B2", "EP5A1", "JP7A"],
        "key": ["A:CN1", "A:CN1", "A:CN1", "A:EP5", "A:JP7"],  # US9 claims CN1's priority
    })
    fam = assign_families(pats, links)
    assert fam.tolist() == ["CN1", "CN1", "CN1", "EP5", "JP7"]
    assert assign_families(pats.iloc[:0], links.iloc[:0]).tolist() == []


def test_citations_resolve_to_publications_in_the_data():
    a = canonicalize(_batch(
        [{"rec": 0, "row": 0, "pub_raw": "US8418361B2"}, {"rec": 1, "row": 1, "pub_raw": "US5351498A"}],
        citations=[{"rec": 0, "seq": 0, "cited_raw": "5351498", "cited_country": "US", "cited_kind": "A",
                    "cited_date": "19941000", "category_raw": "cited by examiner"},
                   {"rec": 0, "seq": 1, "cited_raw": "4674004", "cited_country": "US", "category_raw": "cited by applicant"}],
    ), "a.xml", "uspto_xml")
    tables, _ = merge_sources([a])
    c = tables["citations"]
    assert c.cited_pub_id.tolist() == ["US5351498A", "US4674004"]
    assert c.resolved_pub_id[0] == "US5351498A" and pd.isna(c.resolved_pub_id[1])
    assert c.category.tolist() == ["examiner", "applicant"]
    assert c.cited_date[0] == pd.Timestamp("1994-10-01")


def test_merge_of_nothing_gives_empty_valid_tables():
    tables, counts = merge_sources([])
    assert all(len(df) == 0 for df in tables.values()) and counts.empty


def test_wo_links_are_normalised_before_joining_families():
    # USPTO writes "WO00/29629"; cutting at the slash once merged unrelated patents (key "WO00").
    a = canonicalize(_batch([
        {"rec": 0, "row": 0, "pub_raw": "US1000001B1", "wo_pub": "WO00/29629"},
        {"rec": 1, "row": 1, "pub_raw": "US1000002B1", "wo_pub": "WO00/12345"},
        {"rec": 2, "row": 2, "pub_raw": "WO2000029629A1"},
    ]), "a.xml", "uspto_xml")
    assert a["patents"].wo_pub.tolist()[:2] == ["WO2000029629", "WO2000012345"]
    tables, _ = merge_sources([a])
    fam = tables["patents"].set_index("pub_id").family_id
    assert fam["US1000001B1"] == fam["WO2000029629A1"] != fam["US1000002B1"]
