"""USPTO red-book XML v4.x adapter: real records field by field, hostile input, streaming.

The real records are read from ../shared/data; single documents are cut from the weekly
files at test time, byte-exact (see :func:`uspto`). Expected values were read from the
source XML of each named record, not from the adapter.
"""

import re
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import UnreadableInputError
from pipeline.ingest.base import RAW_COLUMNS
from pipeline.ingest.uspto_xml import UsptoXmlAdapter, sniff
from tests.shared_data import shared_path, write_xml_documents

# name -> (file under ../shared/data, 0-based documents cut from it; None: the whole file)
SOURCES = {
    # grant v4.0 (2005), utility, IPC edition 7, DE priorities, PCT, 17 patent + 3 NPL citations
    "V40_GRANT": ("uspto-xml/ipgxml__ipg050104.small.xml", [14]),
    # grants v4.3 (2013): designs USD0680087, USD0680199 and utility US08418361 (bytes 0-83640)
    "V43_SLICE": ("uspto-xml/ipgxml__ipg130416.small.xml", [0, 1, 2]),
    # grant v4.2 (2012), design USD0656308
    "V42_DESIGN": ("uspto-xml/xml__ipg120327.196.xml", [12]),
    # pre-grant application v4.0 (2005), US20050004437A1
    "V40_APPLICATION": ("uspto-formats/xmlApp2004__US20050004437A1.xml", None),
    # a sequence-cwu sequence listing (not a patent), US08420317
    "SEQUENCE": ("uspto-xml/ipgxml__ipg130416.small.xml", [14]),
}
ALL = list(SOURCES)  # 7 documents: 6 patents and the sequence listing


@pytest.fixture(scope="module")
def uspto(tmp_path_factory) -> dict[str, Path]:
    """Each of :data:`SOURCES` as a file: the shared file itself, or its documents cut to a temporary file."""
    out = tmp_path_factory.mktemp("uspto")
    paths = {}
    for name, (rel, docs) in SOURCES.items():
        src = shared_path(*rel.split("/"))
        paths[name] = src if docs is None else write_xml_documents(src, docs, out / f"{name.lower()}.xml")
    return paths


def read(path, **kw) -> tuple[dict[str, pd.DataFrame], list]:
    """All batches of ``path`` concatenated per table, and the batches themselves."""
    batches = list(UsptoXmlAdapter().read(path, **kw))
    tables = {
        name: pd.concat([b.get(name) for b in batches], ignore_index=True) if batches else pd.DataFrame()
        for name in RAW_COLUMNS
    }
    return tables, batches


def of(table: pd.DataFrame, rec: int) -> pd.DataFrame:
    return table[table["rec"] == rec].reset_index(drop=True)


GRANT_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<us-patent-grant lang="EN" dtd-version="v4.2 2006-08-23" country="US">
<us-bibliographic-data-grant>
<publication-reference><document-id><country>US</country><doc-number>{number}</doc-number><kind>B2</kind><date>20060103</date></document-id></publication-reference>
<application-reference appl-type="utility"><document-id><country>US</country><doc-number>10999999</doc-number><date>20040101</date></document-id></application-reference>
<invention-title id="t1">{title}</invention-title>
<number-of-claims>1</number-of-claims>
</us-bibliographic-data-grant>
</us-patent-grant>
"""


def grant(title: str, doctype: str = "", number: str = "07000001") -> str:
    return GRANT_TEMPLATE.format(doctype=doctype, number=number, title=title)


# --------------------------------------------------------------------------- sniff
@pytest.mark.parametrize("name", ALL)
def test_sniff_recognises_v4_documents(uspto, name):
    assert sniff(uspto[name].read_bytes()[:65_536]) == "uspto_xml"


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE patent-application-publication SYSTEM "pap-v16-2002-01-01.dtd" >\n<patent-application-publication>',
        b'<?xml version="1.0"?><us-patent-grant dtd-version="v2.5 2002-01-01">',
        b"<a><b><c>hello</c></b></a>",
        b"pub_number,title\nUS1,<us-patent-grant>\n",
        b"",
    ],
)
def test_sniff_rejects_other_content(head):
    assert sniff(head) is None


# --------------------------------------------------------------------------- real records
def test_us06837544_v40_2005_utility_grant(uspto):
    t, batches = read(uspto["V40_GRANT"])
    assert [b.n_records for b in batches] == [1]
    p = t["patents"].iloc[0]
    assert (p.rec, p.row, p.offset) == (0, 0, 0)
    assert (p.pub_raw, p.country, p.kind) == ("06837544", "US", "B2")
    assert (p.app_raw, p.app_date, p.pub_date, p.grant_date) == ("10433724", "20011206", "20050104", "20050104")
    assert p.patent_type_hint == "invention" and p.language == "en"
    assert p.title == "Adjuster mechanism for setting the height of an armrest on a motor vehicle door"
    assert p.abstract.startswith("An adjuster mechanism for setting the height of an armrest")
    assert int(p.claims_count) == 17 and p.independent_claims == 2  # claims 1 and 8
    assert p.pct_app == "PCTDE01/04678"
    assert p.wo_pub == "WO0245996A"

    pr = t["priorities"]
    assert pr[["number_raw", "country", "date_raw"]].values.tolist() == [
        ["100 60 857", "DE", "20001206"],
        ["101 04 077", "DE", "20010129"],
    ]
    # v4.0: the four applicant-inventors are applicants and inventors
    pa = t["parties"]
    assert pa["role"].value_counts().to_dict() == {"applicant": 4, "inventor": 4, "assignee": 1}
    inv = pa[pa.role == "inventor"].iloc[0]
    assert (inv.seq, inv.name_raw, inv.party_type_hint) == (0, "Thomas Börnchen", "individual")
    assert (inv.country, inv.address_raw) == ("DE", "Bamberg, DE")
    assert pd.isna(inv.province)  # the state is taken as province only for US addresses
    asg = pa[pa.role == "assignee"].iloc[0]
    assert asg.name_raw == "Brose Fahrzeugteile GmbH & Co. KG, Coburg"
    assert pd.isna(asg.party_type_hint) and asg.address_raw == "Coburg, DE"

    # IPC edition 7 in USPTO fixed width: "A47C  754" main, "B62D 3900" further
    c = t["classifications"]
    assert c[["scheme", "symbol_raw", "is_main", "seq"]].values.tolist() == [
        ["IPC", "A47C7/54", True, 0],
        ["IPC", "B62D39/00", False, 1],
    ]

    ci, npl = t["citations"], t["npl"]
    assert len(ci) == 17 and len(npl) == 3
    first = ci.iloc[0]
    assert (first.seq, first.cited_raw, first.cited_country, first.cited_kind, first.cited_date) == (
        0, "4619478", "US", "A", "19861000"
    )
    assert first.category_raw == "cited by examiner"
    de = ci[ci.cited_country == "DE"].iloc[0]
    assert (de.cited_raw, de.cited_kind, de.category_raw) == ("40 02 242", "A1", "cited by other")
    # patent and NPL citations share one numbering
    assert npl["seq"].tolist() == [17, 18, 19]
    assert npl.iloc[1].text == "International Search Report of PCT/DE01/04678, dated Jun. 4, 2002."
    assert t["rejects"].empty


def test_us08418361_v43_2013_utility_grant_with_npl(uspto):
    t, _ = read(uspto["V43_SLICE"])
    p = t["patents"]
    assert p["pub_raw"].tolist() == ["D0680087", "D0680199", "08418361"]
    r = p.iloc[2]
    assert (r.rec, r.row, r.kind, r.app_raw, r.app_date, r.pub_date) == (2, 2, "B2", "13299685", "20111118", "20130416")
    assert r.title == "Method of manufacturing printed circuit board having landless via hole"
    assert r.abstract.startswith("Method of manufacturing printed circuit board, including: providing a substrate")
    assert int(r.claims_count) == 5 and r.independent_claims == 1
    assert pd.isna(r.pct_app) and pd.isna(r.wo_pub)
    assert of(t["priorities"], 2)[["number_raw", "country", "date_raw"]].values.tolist() == [
        ["10-2008-0034874", "KR", "20080415"]
    ]
    assert of(t["classifications"], 2)[["scheme", "symbol_raw", "is_main"]].values.tolist() == [
        ["IPC", "H05K 3/02", True]
    ]
    # v4.3: us-applicants and inventors are listed apart
    pa = of(t["parties"], 2)
    assert pa.groupby("role").size().to_dict() == {"applicant": 3, "assignee": 1, "inventor": 3}
    assert pa[pa.role == "inventor"]["name_raw"].tolist() == ["Suk Won Lee", "Chang Gun Oh", "Mi Sun Hwang"]
    assert pa[pa.role == "inventor"].iloc[0].address_raw == "Gyunggi-do, KR"
    asg = pa[pa.role == "assignee"].iloc[0]
    assert (asg.name_raw, asg.country, asg.address_raw) == ("Samsung Electro-Mechanics Co., Ltd.", "KR", "Suwon, KR")

    ci, npl = of(t["citations"], 2), of(t["npl"], 2)
    assert len(ci) == 7 and len(npl) == 3
    assert ci[["cited_raw", "cited_country", "cited_kind", "category_raw"]].iloc[:2].values.tolist() == [
        ["5817405", "US", "A", "cited by applicant"],
        ["6490170", "US", "B2", "cited by examiner"],
    ]
    assert ci.iloc[4].cited_raw == "2005/0139391"
    jp = ci.iloc[5]
    assert (jp.cited_raw, jp.cited_country, jp.cited_date) == ("2005-167154", "JP", "20050600")
    assert pd.isna(jp.cited_kind)
    assert npl["seq"].tolist() == [7, 8, 9]
    assert npl.iloc[0].text.startswith("Korean Office Action issued Feb. 3, 2010")
    assert npl.iloc[0].category_raw == "cited by applicant"


def test_usd0680087_usd0680199_v43_design_grants(uspto):
    t, _ = read(uspto["V43_SLICE"])
    p = t["patents"].iloc[:2]
    assert p["title"].tolist() == ["Television set", "Faucet spout"]
    assert p["kind"].tolist() == ["S1", "S1"]
    assert p["patent_type_hint"].tolist() == ["design", "design"]
    assert p["abstract"].isna().all()  # design grants carry no abstract
    assert [int(x) for x in p["claims_count"]] == [1, 1] and p["independent_claims"].tolist() == [1, 1]
    assert of(t["classifications"], 0).empty  # Locarno and US classes only
    assert (len(of(t["citations"], 0)), len(of(t["npl"], 0))) == (81, 5)
    assert of(t["priorities"], 0)[["number_raw", "country"]].values.tolist() == [["2011-015204", "JP"]]
    pa = of(t["parties"], 0)
    assert pa[pa.role == "inventor"].iloc[0].name_raw == "Yoshito Fujii"
    assert pa[pa.role == "assignee"].iloc[0].name_raw == "Sharp Kabushiki Kaisha"
    # a US address: the state is the province
    inv = of(t["parties"], 1).query("role == 'inventor'").iloc[0]
    assert (inv.name_raw, inv.province, inv.address_raw) == ("Celine Kwok", "IN", "Indianapolis, IN, US")


def test_usd0656308_v42_design_grant(uspto):
    t, _ = read(uspto["V42_DESIGN"])
    p = t["patents"].iloc[0]
    assert (p.pub_raw, p.kind, p.app_raw, p.app_date, p.pub_date) == ("D0656308", "S1", "29379369", "20101118", "20120327")
    assert p.patent_type_hint == "design"
    assert p.title == "Replaceable cartridge for a pain management system"
    pa = t["parties"]
    assert pa[["role", "name_raw", "province", "address_raw"]].values.tolist() == [
        ["applicant", "Kin-Joe Sham", "MN", "Shoreview, MN, US"],
        ["inventor", "Kin-Joe Sham", "MN", "Shoreview, MN, US"],
        ["assignee", "OrthoCor Medical, Inc.", "MN", "Minneapolis, MN, US"],
    ]
    ci = t["citations"]
    assert len(ci) == 4 and t["npl"].empty
    assert (ci.iloc[0].cited_raw, ci.iloc[0].cited_kind, ci.iloc[0].category_raw) == ("D621603", "S", "cited by examiner")


def test_us20050004437a1_v40_application(uspto):
    t, _ = read(uspto["V40_APPLICATION"])
    p = t["patents"].iloc[0]
    assert (p.pub_raw, p.kind, p.app_raw, p.app_date, p.pub_date) == ("20050004437", "A1", "10830857", "20040423", "20050106")
    assert pd.isna(p.grant_date)  # an application is not granted
    assert p.title == "Simulation device for playful evaluation and display of blood sugar levels"
    assert p.claims_count == 10 and p.independent_claims == 1  # counted: applications state no number
    assert t["priorities"][["number_raw", "country", "date_raw"]].values.tolist() == [["1974/01", "CH", "20011026"]]
    assert t["classifications"][["symbol_raw", "is_main"]].values.tolist() == [["A61B5/00", True]]
    pa = t["parties"]
    assert pa[pa.role == "inventor"]["name_raw"].tolist() == ["Heiner Kaufmann", "Thomas Vering"]
    assert (pa.role == "assignee").sum() == 0
    assert t["citations"].empty


def test_us08420317_sequence_listing_is_rejected_not_a_patent(uspto):
    t, batches = read(uspto["SEQUENCE"])
    assert batches[0].n_records == 1 and t["patents"].empty
    r = t["rejects"].iloc[0]
    assert (r.row, r.offset, r.record_id, r.level) == (0, 0, "08420317", "record")
    assert r.reason == "not a patent record: sequence listing"
    assert pd.isna(r.field) and r.raw_value.startswith('<?xml version="1.0"')


def test_offsets_point_at_each_documents_declaration(uspto):
    data = uspto["V43_SLICE"].read_bytes()
    t, _ = read(uspto["V43_SLICE"])
    offsets = t["patents"]["offset"].tolist()
    assert offsets == [0, 35488, 42780]
    for off, number in zip(offsets, t["patents"]["pub_raw"]):
        doc = data[off:off + 1000]
        assert doc.startswith(b"<?xml") and f"<doc-number>{number}</doc-number>".encode() in doc


# --------------------------------------------------------------------------- hostile input
def test_xxe_entities_are_never_resolved(tmp_path):
    passwd = Path("/etc/passwd")
    f = tmp_path / "xxe.xml"
    f.write_text(
        grant("Title &xxe; end", '<!DOCTYPE us-patent-grant [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "07000001")
        + grant("Plain", '<!DOCTYPE us-patent-grant SYSTEM "file:///etc/passwd">', "07000002")
        + grant("Param", '<!DOCTYPE us-patent-grant [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', "07000003")
    )
    t, batches = read(f)
    assert batches[0].n_records == 3
    assert len(t["patents"]) + len(t["rejects"]) == 3
    titles = dict(zip(t["patents"]["pub_raw"], t["patents"]["title"]))
    assert titles.get("07000001", "&xxe;").count("&xxe;") == 1  # kept as the literal reference
    if passwd.exists():
        secret_lines = [ln for ln in passwd.read_text().splitlines() if len(ln) > 8]
        everything = " ".join(str(v) for df in t.values() for v in df.to_numpy().ravel())
        assert not any(ln in everything for ln in secret_lines)
        assert "root:" not in everything


def test_billion_laughs_is_not_expanded(tmp_path):
    decls = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE us-patent-grant [\n" + "\n".join(decls) + "\n]>"
    f = tmp_path / "lol.xml"
    f.write_text(grant("&lol9;", doctype) + grant("Survivor", number="07000002"))
    start = time.perf_counter()
    t, _ = read(f)
    assert time.perf_counter() - start < 5
    assert t["patents"]["title"].str.len().max() < 100  # nothing expanded
    assert "Survivor" in t["patents"]["title"].tolist()
    assert len(t["patents"]) + len(t["rejects"]) == 2
    assert t["rejects"]["reason"].str.startswith("malformed XML").all()


def test_truncated_middle_document_is_one_reject(uspto, tmp_path):
    data = uspto["V43_SLICE"].read_bytes()
    second, third = 35488, 42780  # offsets of documents 1 and 2 (also in the weekly file: 0-2 are its first)
    f = tmp_path / "cut.xml"
    f.write_bytes(data[:second] + data[second:second + 3000] + data[third:])
    t, batches = read(f)
    assert sum(b.n_records for b in batches) == 3
    assert t["patents"]["pub_raw"].tolist() == ["D0680087", "08418361"]
    assert t["patents"]["row"].tolist() == [0, 2]
    r = t["rejects"]
    assert len(r) == 1
    assert (r.iloc[0].row, r.iloc[0].offset, r.iloc[0].record_id) == (1, second, "D0680199")
    assert r.iloc[0].reason.startswith("malformed XML: ")
    assert len(r.iloc[0].raw_value) == 200


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_empty_file_is_unreadable(tmp_path, content):
    f = tmp_path / "empty.xml"
    f.write_bytes(content)
    with pytest.raises(UnreadableInputError, match="empty file"):
        list(UsptoXmlAdapter().read(f))


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableInputError, match="missing.xml"):
        list(UsptoXmlAdapter().read(tmp_path / "missing.xml"))


def test_one_megabyte_title_does_not_crash(tmp_path):
    f = tmp_path / "long.xml"
    f.write_text(grant("A" * 1_000_000))
    t, _ = read(f)
    assert len(t["patents"].iloc[0].title) == 1_000_000  # the length limit is canonicalize's job


def test_text_before_first_declaration_and_unknown_roots_are_rejected(tmp_path):
    f = tmp_path / "odd.xml"
    f.write_text("<a><b>hello</b></a>\n" + grant("Kept") + '<?xml version="1.0"?>\n<other-doc/>\n')
    t, batches = read(f)
    assert batches[0].n_records == 3
    assert t["patents"]["row"].tolist() == [1]
    assert t["rejects"][["row", "reason"]].values.tolist() == [
        [0, "unsupported document type a"],
        [2, "unsupported document type other-doc"],
    ]


def test_oversize_document_is_rejected_without_holding_it(tmp_path):
    f = tmp_path / "big.xml"
    big = grant("B" * 300_000, number="07000009")
    f.write_text(grant("Before") + big + grant("After", number="07000002"))
    batches = list(UsptoXmlAdapter(max_doc_bytes=100_000, chunk_bytes=8192).read(f))
    t = {name: pd.concat([b.get(name) for b in batches], ignore_index=True) for name in ("patents", "rejects")}
    assert t["patents"]["title"].tolist() == ["Before", "After"]
    r = t["rejects"].iloc[0]
    assert (r.row, r.record_id, r.reason) == (1, "07000009", "document larger than 100000 bytes")


# --------------------------------------------------------------------------- streaming
def test_concatenated_file_streams_in_batches(uspto, tmp_path):
    # every test document (7) concatenated, the whole 10 times
    one = b"".join(uspto[name].read_bytes() for name in ALL)
    f = tmp_path / "x10.xml"
    f.write_bytes(one * 10)
    reader = UsptoXmlAdapter().read(f, batch_size=50)
    first = next(reader)  # yielded before the rest of the file is parsed
    assert first.n_records == 50
    assert max(first.get("patents")["row"].max(), first.get("rejects")["row"].max()) == 49
    rest = list(reader)
    batches = [first, *rest]
    assert [b.n_records for b in batches] == [50, 20]
    patents = pd.concat([b.get("patents") for b in batches], ignore_index=True)
    rejects = pd.concat([b.get("rejects") for b in batches], ignore_index=True)
    assert len(patents) == 60 and len(rejects) == 10  # 6 patents + 1 sequence listing, x10
    assert sorted(patents["row"].tolist() + rejects["row"].tolist()) == list(range(70))
    assert patents["rec"].is_unique
    in_one = patents["offset"].iloc[:6].tolist()
    assert patents["offset"].tolist() == [k * len(one) + o for k in range(10) for o in in_one]


def test_weekly_file_10x_streams(tmp_path):
    weekly = shared_path("uspto-xml", "ipgxml__ipg130416.small.xml")
    f = tmp_path / "weekly_x10.xml"
    data = weekly.read_bytes()
    f.write_bytes(data * 10)
    n_docs = len(re.findall(rb"<\?xml\s", data))
    batches = list(UsptoXmlAdapter().read(f, batch_size=50))
    assert len(batches) > 1 and all(b.n_records == 50 for b in batches[:-1])
    assert sum(b.n_records for b in batches) == 10 * n_docs


# --------------------------------------------------------------------------- the real corpus
def test_every_real_document_is_accounted_for():
    for path in sorted(shared_path("uspto-xml").glob("*.xml")):
        data = path.read_bytes()
        n_docs = len(re.findall(rb"<\?xml\s", data)) or 1  # xml__basic.xml has no declaration
        t, batches = read(path)
        assert sum(b.n_records for b in batches) == n_docs, path.name
        assert len(t["patents"]) + len(t["rejects"]) == n_docs, path.name
        assert not t["rejects"]["reason"].str.startswith("malformed").any(), path.name


def test_us08927118_v45_2014_cpc():
    t, _ = read(shared_path("uspto-formats", "xml2014__US08927118.xml"))
    c = t["classifications"]
    cpc = c[c.scheme == "CPC"]
    assert len(cpc) == 14 and cpc["seq"].tolist() == list(range(14))
    assert cpc[cpc.is_main]["symbol_raw"].tolist() == ["C07D 493/04"]
    assert "C09K 2211/1029" in cpc["symbol_raw"].tolist()
    ipc = c[c.scheme == "IPC"]
    assert ipc[ipc.is_main]["symbol_raw"].tolist() == ["H05B 33/14"]
