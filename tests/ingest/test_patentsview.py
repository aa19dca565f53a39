"""PatentsView adapter: 30 real patents of the shared sample plus generated tables.

The real part is cut at test time from ``../shared/data/patentsview`` (see
:func:`real_slice`): the header and every row of :data:`PATENT_IDS` in ``g_patent``,
``g_assignee_disambiguated``, ``g_inventor_disambiguated`` and ``g_cpc_current``, and every
location those rows refer to, byte for byte and in source order. Expected values were
looked up in those source rows. The generated tables (made-up values attached to these
patent ids) are ``tests/data/patentsview/synthetic``; see the README there.
"""

import csv
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import schema
from pipeline.errors import InputError, UnreadableInputError
from pipeline.ingest import patentsview
from pipeline.config import Limits
from pipeline.ingest.canonical import canonicalize
from pipeline.ingest.patentsview import PatentsViewAdapter, is_patentsview_dir, sniff_table
from tests.shared_data import shared_path, table_records, write_rows

SYNTHETIC = Path(__file__).resolve().parents[1] / "data" / "patentsview" / "synthetic"

# 30 patents covering the number series (utility, D design, PP plant, RE reissue, H statutory
# invention registration, T defensive publication), 1976-2025 grants, quoted titles (4748932
# and 5084789 quoted twice in the source, PP12432 once with HTML entities) and the records
# checked below (10163393, 10519222, D889892, 9999094, 6383488). In g_patent source order.
PATENT_IDS = (
    "3933213", "3933242", "RE28967", "3987981", "PP3999", "D243771", "T962005", "D245661",
    "4748932", "PP6643", "5084789", "H1121", "PP12432", "6383488", "PP15914", "D529346",
    "9225804", "9999094", "10011883", "RE47018", "10163393", "10519222", "10605538", "D889892",
    "11117883", "11372512", "12006890", "D1095846", "12429578", "12426669",
)
N_REAL = len(PATENT_IDS)
TSV = {"delimiter": "\t", "quoting": csv.QUOTE_NONE}  # one row per line, as PatentsView reads it


def read(path, **kw):
    """All batches of ``path`` and their tables concatenated."""
    batches = list(PatentsViewAdapter().read(path, **kw))
    tables = {
        name: pd.concat([b.get(name) for b in batches], ignore_index=True)
        for name in ("patents", "parties", "classifications", "citations", "rejects")
    }
    return batches, tables


def copy(dest: Path, *sources: Path) -> Path:
    dest.mkdir(exist_ok=True)
    for folder in sources:
        for f in folder.glob("*.tsv"):
            shutil.copy(f, dest / f.name)
    return dest


def append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def patent(tables, rec):
    p = tables["patents"]
    return p[p["rec"] == rec].iloc[0]


def parties(tables, rec, role):
    p = tables["parties"]
    return p[(p["rec"] == rec) & (p["role"] == role)].sort_values("seq")


def record_rejects_of_g_patent(rejects):
    return rejects[rejects["level"] == "record"]


@pytest.fixture(scope="module")
def real_slice(tmp_path_factory) -> Path:
    """The rows of :data:`PATENT_IDS` cut from ``../shared/data/patentsview`` (read-only: copy to change)."""
    src = shared_path("patentsview")
    folder = tmp_path_factory.mktemp("pv_real")
    ids = set(PATENT_IDS)
    for name in ("g_patent", "g_assignee_disambiguated", "g_inventor_disambiguated", "g_cpc_current"):
        write_rows(src / f"{name}.tsv", folder / f"{name}.tsv", lambda r: r["patent_id"] in ids, **TSV)
    locations = {
        fields[-1]
        for name in ("g_assignee_disambiguated", "g_inventor_disambiguated")
        for fields, _ in table_records(folder / f"{name}.tsv", **TSV)[2]
    }
    write_rows(src / "g_location_disambiguated.tsv", folder / "g_location_disambiguated.tsv",
               lambda r: r["location_id"] in locations, **TSV)
    return folder


@pytest.fixture(scope="module")
def full(tmp_path_factory, real_slice):
    """The real slice with the synthetic application, citation, IPC and abstract tables."""
    folder = copy(tmp_path_factory.mktemp("pv") / "full", real_slice, SYNTHETIC)
    return read(folder)[1]


@pytest.fixture
def real(tmp_path, real_slice):
    return copy(tmp_path / "real", real_slice)


# --------------------------------------------------------------------------- detection
def test_sniff_table_recognises_every_header():
    for f in [*shared_path("patentsview").glob("*.tsv"), *SYNTHETIC.glob("*.tsv")]:
        assert sniff_table(f.read_text(encoding="utf-8").split("\n", 1)[0]) == f.stem


def test_sniff_table_quotes_bom_and_strangers():
    assert sniff_table('\ufeff"patent_id"\t"patent_type"\t"patent_date"\t"patent_title"\r\n') == "g_patent"
    # An old g_patent carrying patent_abstract is still g_patent.
    assert sniff_table("patent_id\tpatent_type\tpatent_date\tpatent_title\tpatent_abstract") == "g_patent"
    assert sniff_table("patent_id\tpatent_abstract") == "g_patent_abstract"
    assert sniff_table("patent_id\tpatent_type") is None
    assert sniff_table("patent_id,patent_type,patent_date,patent_title") is None
    assert sniff_table("") is None


def test_is_patentsview_dir(tmp_path):
    real = shared_path("patentsview")  # the real folder, LICENSE included
    assert is_patentsview_dir(real)
    assert not is_patentsview_dir(real / "g_patent.tsv")
    (tmp_path / "LICENSE").write_text("MIT License\n")
    assert not is_patentsview_dir(tmp_path)


# --------------------------------------------------------------------------- real records
def test_patent_10163393(full):
    p = patent(full, "10163393")
    assert p["pub_raw"] == "10163393"
    assert p["country"] == "US"
    assert p["kind"] == "B2"
    assert p["pub_date"] == p["grant_date"] == "2018-12-25"
    assert p["title"] == "Display substrate, display equipment and regional compensation method"
    assert p["patent_type_hint"] == "invention"
    assert pd.isna(p["claims_count"])  # num_claims is empty throughout the shared sample
    assert p["row"] == 20


def test_parties_10163393(full):
    a = parties(full, "10163393", "assignee")
    # The source lists BOE ten times (once per inventor): collapsed into one.
    assert a["name_raw"].tolist() == ["BOE Technology Group Co., Ltd."]
    assert a["source_party_id"].tolist() == ["9844b584-946d-4f31-8b56-a402f3b5baca"]
    assert a["seq"].tolist() == [0]
    assert a["party_type_hint"].tolist() == ["organisation"]  # assignee_type 2: the name decides
    inv = parties(full, "10163393", "inventor")
    assert inv["name_raw"].tolist() == [
        "Dongni Liu", "Han Yue", "Jie Fu", "Jing Lv", "Lei Wang",
        "Li Xiao", "Pengcheng Lu", "Shengji Yang", "Xiaochuan Chen", "Xue Dong",
    ]
    assert inv["seq"].tolist() == list(range(10))
    assert (inv["party_type_hint"] == "individual").all()
    assert (inv["country"] == "CN").all() and (inv["address_raw"] == "CN").all()
    assert inv["source_party_id"].iloc[0] == "fl:do_ln:liu-61"
    cpc = full["classifications"].query("rec == '10163393' and scheme == 'CPC'")
    assert cpc[["symbol_raw", "is_main", "seq"]].values.tolist() == [["G09G", True, 0]]


def test_cross_product_of_10519222_collapsed(full):
    a = parties(full, "10519222", "assignee")
    assert a["name_raw"].tolist() == [
        "NATIONAL HEALTH LABORATORY SERVICE",
        "UNIVERSITY OF THE WITWATERSRAND, JOHANNESBURG",
        "The United States of America, as represented by the Secretary, Department of Health and Human Services",
        "CENTRE FOR THE AIDS PROGRAMME OF RESEARCH IN SOUTH AFRICA",
        "The Trustees of Columbia University in the City of New York",
    ]
    inv = parties(full, "10519222", "inventor")
    assert len(inv) == 9
    assert inv.set_index("name_raw").loc["Lynn Morris", "country"] == "ZA"
    rej = full["rejects"].query("record_id == '10519222'")
    # 45 assignee rows (5 assignees x 9 inventors) and 45 inventor rows in the source.
    assert (rej["field"] == "g_assignee_disambiguated.assignee_id").sum() == 40
    assert (rej["field"] == "g_inventor_disambiguated.inventor_id").sum() == 36
    assert (rej["level"] == "field").all()
    cpc = full["classifications"].query("rec == '10519222'")
    assert cpc["symbol_raw"].tolist() == ["A61K", "A61P", "C07K", "C12N", "G01N"]
    assert cpc["is_main"].tolist() == [True, False, False, False, False]


def test_design_D889892(full):
    p = patent(full, "D889892")
    assert p["title"] == "Drawer side panel"
    assert p["patent_type_hint"] == "design"
    assert pd.isna(p["kind"])  # the sample's "B2" is no design kind
    rej = full["rejects"].query("record_id == 'D889892' and field.str.startswith('g_patent.')", engine="python")
    assert (rej["row"] == 23).all() and (rej["level"] == "field").all()
    assert set(zip(rej["field"], rej["raw_value"])) == {
        ("g_patent.wipo_kind", "B2"), ("g_patent.patent_type", "utility"),
    }
    assert parties(full, "D889892", "assignee")["name_raw"].tolist() == [
        "King Slide Works Co., Ltd.", "King Slide Technology Co., Ltd.",
    ]
    inv = parties(full, "D889892", "inventor").set_index("name_raw")
    assert len(inv) == 6
    assert pd.isna(inv.loc["Shan-Yao Chen", "country"])  # no location_id in the source
    assert inv.loc["Shu-Chen Lin", "country"] == "TW"


def test_number_series_types_and_kinds(full):
    p = full["patents"].set_index("rec")
    assert p.loc[["3933213", "RE28967", "PP3999", "D243771", "H1121", "T962005"], "patent_type_hint"].tolist() == [
        "invention", "invention", "plant", "design", "other", "other",
    ]
    # B kinds start on 2001-01-02: every earlier "B2" of the sample is dropped.
    assert p.loc[p["pub_date"] < "2001-01-02", "kind"].isna().all()
    assert p.loc["6383488", "kind"] == "B2"
    assert p.loc["PP15914", "kind"] is pd.NA  # plant kinds are P…


def test_missing_patent_type_taken_from_number(real):
    path = real / "g_patent.tsv"
    path.write_text(path.read_text(encoding="utf-8").replace("T962005\tutility", "T962005\t"), encoding="utf-8")
    _, t = read(real)
    assert patent(t, "T962005")["patent_type_hint"] == "other"
    assert not t["rejects"].query("record_id == 'T962005' and field == 'g_patent.patent_type'").shape[0]


def test_titles_and_names_as_written(full):
    # Quoted twice in the source file: one level of quoting is the file's, undone here.
    assert patent(full, "4748932")["title"] == (
        '"Crucible for epitaxy from the liquid phase of semiconductor layers having a ""controlled"" composition"'
    )
    assert patent(full, "PP12432")["title"] == "Bromeliad plant named &#8216;GUZ 226&#8217;"
    assert patent(full, "PP15914")["title"] == "Veronica plant named ‘Amethyst’"
    assert parties(full, "9999094", "inventor")["name_raw"].tolist() == [
        "Mohammad Suhel Ashfaque", "Venkata A Naidu BABBADI", "Sagar",
    ]
    a = parties(full, "6383488", "assignee")["name_raw"].tolist()
    assert a == [
        "CENTRO DE INGENIERÍA GENÉTICA Y BIOTECNOLOGÍA",
        "Instituto de Medicina Tropical &#8220;Pedro Kouri&#8221;",  # quoted in the source file
    ]


def test_one_main_cpc_per_patent(full):
    cpc = full["classifications"].query("scheme == 'CPC'")
    assert (cpc.groupby("rec")["is_main"].sum() == 1).all()
    assert len(cpc) == 45
    assert cpc.duplicated(["rec", "seq"]).sum() == 0


# --------------------------------------------------------------------------- synthetic tables
def test_synthetic_application_abstract_ipc_citations(full):
    p = patent(full, "10163393")
    assert (p["app_raw"], p["app_date"]) == ("15861234", "2017-01-16")
    assert p["abstract"].startswith("Synthetic abstract") and '"regional"' in p["abstract"]
    assert patent(full, "D889892")["app_raw"] == "29612345"
    ipc = full["classifications"].query("scheme == 'IPC'").set_index(["rec", "symbol_raw"])
    assert ipc.loc[("10163393", "G09G3/3208"), "is_main"]
    assert not ipc.loc[("10163393", "H01L27/32"), "is_main"]
    # 6383488: the row at symbol position F is main though it comes second.
    assert ipc.loc[("6383488", "A61K39/12"), "is_main"] and ipc.loc[("6383488", "A61K39/12"), "seq"] == 1
    cit = full["citations"].query("rec == '10163393'").sort_values("seq")
    assert cit[["cited_raw", "cited_country", "cited_kind", "cited_date", "category_raw"]].values.tolist() == [
        ["9225804", "US", "B2", "2015-12-29", "cited by examiner"],
        ["D529346", "US", "S1", "2006-10-00", "cited by applicant"],
        ["4748932", "US", "A", "1988-06-07", "cited by other"],
    ]
    assert full["citations"].query("rec == '12429578'")["cited_raw"].tolist() == ["10163393"]


def test_counts_reconcile(full):
    rej = full["rejects"]
    assert len(full["patents"]) + len(record_rejects_of_g_patent(rej)) == N_REAL
    assert (rej["level"] == "record").sum() == 0


def test_canonicalize_accepts_batches(tmp_path, real_slice):
    folder = copy(tmp_path / "pv", real_slice, SYNTHETIC)
    [batch] = PatentsViewAdapter().read(folder)
    out = canonicalize(batch, str(folder), "patentsview")
    pubs = set(out["patents"]["pub_id"])
    assert {"US10163393B2", "USD889892", "USPP15914", "US3933213"} <= pubs
    for table in ("patents", "parties", "classifications", "citations"):
        schema.validate(out[table], table)


# --------------------------------------------------------------------------- folders and files
def test_renamed_g_patent_still_detected(real):
    (real / "g_patent.tsv").rename(real / "data.txt")
    _, t = read(real)
    assert len(t["patents"]) == N_REAL
    assert len(parties(t, "10163393", "inventor")) == 10
    assert "g_patent[data.txt].wipo_kind" in set(t["rejects"]["field"])


def test_path_to_a_file_reads_its_folder(real):
    _, t = read(real / "g_cpc_current.tsv")
    assert len(t["patents"]) == N_REAL and len(t["classifications"]) == 45


def test_only_g_patent(tmp_path, real_slice):
    shutil.copy(real_slice / "g_patent.tsv", tmp_path / "g_patent.tsv")
    batches, t = read(tmp_path)
    assert sum(b.n_records for b in batches) == N_REAL == len(t["patents"])
    assert t["parties"].empty and t["classifications"].empty


def test_child_rows_without_patent_are_rejected(real):
    append(real / "g_cpc_current.tsv",
           "99999999\t1\tG\tG06\tG06F\t\tinventional",
           "\t2\tG\tG06\tG06F\t\tinventional")
    batches, t = read(real)
    assert sum(b.n_records for b in batches) == N_REAL
    rej = t["rejects"].query("field == 'g_cpc_current.patent_id'").sort_values("row")
    assert rej["row"].tolist() == [45, 46]
    assert rej["reason"].tolist() == ["no such patent in g_patent", "missing patent_id"]
    assert rej["record_id"].iloc[0] == "99999999" and pd.isna(rej["record_id"].iloc[1])
    assert (rej["level"] == "row").all()  # child rows are not records: reconciliation holds
    assert "99999999" not in set(t["classifications"]["rec"])


def test_malformed_rows(real):
    append(real / "g_patent.tsv", "99999998\tutility\t2020-01-01")
    append(real / "g_inventor_disambiguated.tsv", "10163393\t11\tonly-three-fields")
    batches, t = read(real)
    assert sum(b.n_records for b in batches) == N_REAL + 1
    rej = t["rejects"]
    bad = rej[rej["reason"] == "malformed TSV row"].sort_values("field")
    assert bad[["field", "row", "record_id", "level"]].values.tolist() == [
        ["g_inventor_disambiguated", 165, "10163393", "row"],
        ["g_patent", 30, "99999998", "record"],
    ]
    assert bad["raw_value"].iloc[1] == "99999998\tutility\t2020-01-01"
    assert len(t["patents"]) + len(record_rejects_of_g_patent(rej)) == N_REAL + 1
    assert len(parties(t, "10163393", "inventor")) == 10


def test_blank_lines_crlf_and_bad_utf8(real, real_slice):
    lines = (real_slice / "g_patent.tsv").read_bytes().split(b"\n")
    lines.insert(3, b"")  # a blank line after the second data row
    lines[6] = lines[6].replace(b"Chrysanthemum", b"Chrysanth\xffemum")
    (real / "g_patent.tsv").write_bytes(b"\r\n".join(lines))
    batches, t = read(real)
    assert sum(b.n_records for b in batches) == N_REAL
    p = t["patents"].set_index("rec")
    assert p.loc["3933242", "row"] == 1 and p.loc["RE28967", "row"] == 3  # line numbers keep the blank
    assert p.loc["3933213", "title"] == "Variable response snowmobile suspension system"
    assert p.loc["PP3999", "title"] == "Chrysanth\ufffdemum plant"
    assert not t["patents"]["title"].str.contains("\r").any()


def test_duplicate_and_withdrawn_patents(real):
    path = real / "g_patent.tsv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("10163393\tutility\t2018-12-25", "10163393\tutility\t2018-12-26")  # keep first below
    text = text.replace("Drawer side panel\tB2\t\t0", "Drawer side panel\tB2\t\t1")
    path.write_text(text, encoding="utf-8")
    append(path, "10163393\tutility\t2018-12-25\tSecond copy\tB2\t\t0\t")
    batches, t = read(real)
    assert sum(b.n_records for b in batches) == N_REAL + 1
    rej = record_rejects_of_g_patent(t["rejects"]).set_index("record_id")
    cols = ["row", "reason", "field"]
    assert rej.loc["10163393", cols].tolist() == [30, "duplicate patent_id in g_patent", "g_patent.patent_id"]
    assert rej.loc["D889892", cols].tolist() == [23, "withdrawn patent", "g_patent.withdrawn"]
    assert patent(t, "10163393")["pub_date"] == "2018-12-26"
    assert "D889892" not in set(t["patents"]["rec"]) | set(t["parties"]["rec"])
    # The withdrawn patent's child rows leave with it, unreported.
    assert not (t["rejects"]["reason"] == "no such patent in g_patent").any()
    assert len(t["patents"]) + len(rej) == N_REAL + 1


def test_empty_file_and_header_only_g_patent(tmp_path, real_slice):
    (tmp_path / "notes.tsv").write_bytes(b"")
    header = (real_slice / "g_patent.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
    (tmp_path / "g_patent.tsv").write_text(header + "\n", encoding="utf-8")
    shutil.copy(real_slice / "g_cpc_current.tsv", tmp_path / "g_cpc_current.tsv")
    batches, t = read(tmp_path)
    assert [b.n_records for b in batches] == [0]
    assert t["patents"].empty
    rej = t["rejects"]
    assert rej.query("level == 'file'")[["field", "reason"]].values.tolist() == [["notes.tsv", "empty file"]]
    assert (rej["reason"] == "no such patent in g_patent").sum() == 45


def test_folder_without_g_patent(tmp_path, real_slice):
    shutil.copy(real_slice / "g_cpc_current.tsv", tmp_path / "cpc.tsv")
    batches, t = read(tmp_path)
    assert [b.n_records for b in batches] == [0]
    rej = t["rejects"]
    assert len(rej) == 1
    assert rej.iloc[0]["level"] == "file" and rej.iloc[0]["field"] == "g_cpc_current[cpc.tsv]"
    assert "no g_patent" in rej.iloc[0]["reason"]


def test_unusable_folders_raise(tmp_path, real_slice):
    (tmp_path / "LICENSE").write_text("MIT License\n")
    with pytest.raises(UnreadableInputError, match="no PatentsView tables"):
        list(PatentsViewAdapter().read(tmp_path))
    with pytest.raises(UnreadableInputError, match="no such file"):
        list(PatentsViewAdapter().read(tmp_path / "missing"))
    shutil.copy(real_slice / "g_patent.tsv", tmp_path / "g_patent.tsv")
    shutil.copy(real_slice / "g_patent.tsv", tmp_path / "copy.txt")
    with pytest.raises(InputError, match="several files hold the g_patent table"):
        list(PatentsViewAdapter().read(tmp_path))


def test_batches_keep_children_with_their_patent(real):
    append(real / "g_patent.tsv", "broken line")
    batches = list(PatentsViewAdapter().read(real, batch_size=7))
    assert [b.n_records for b in batches] == [7, 7, 7, 7, 3]
    for b in batches:
        recs = set(b.get("patents")["rec"])
        for name in ("parties", "classifications"):
            assert set(b.get(name)["rec"]) <= recs
        field_rejects = b.get("rejects").query("level == 'field'")
        assert set(field_rejects["record_id"]) <= recs
    assert batches[-1].get("rejects").query("reason == 'malformed TSV row'")["row"].tolist() == [30]


# --------------------------------------------------------------------------- codes
def test_assignee_type_hints_and_locations(tmp_path, real_slice):
    shutil.copy(real_slice / "g_patent.tsv", tmp_path / "g_patent.tsv")
    header = (real_slice / "g_assignee_disambiguated.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
    rows = [  # synthetic: patent, seq, id, first, last, organization, type, location
        "10163393\t0\ta1\t\t\tAcme Corp.\t2\tl1",
        "10163393\t1\ta2\tJane\tDoe\t\t4\tl1",
        "10163393\t2\ta3\tJean\tDupont\t\t15\t",
        "10163393\t3\ta4\t\t\tState of Texas\t9\t",
        "10163393\t4\ta5\t\t\tMinistry of Defence\t17\t",
        "10163393\t5\ta6\t\t\tUniversity of Texas\t2.0\t",
        "10163393\t6\ta7\tAnn\tSmith\t\t\t",
        "10163393\t7\ta8\t\t\tUnassigned Holder\t1\t",
    ]
    (tmp_path / "g_assignee_disambiguated.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    loc_header = (real_slice / "g_location_disambiguated.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
    (tmp_path / "g_location_disambiguated.tsv").write_text(
        loc_header + "\nl1\tAustin\tTX\tUS\t30.26\t-97.74\tTravis\t48\t453\n", encoding="utf-8")
    _, t = read(tmp_path)
    a = parties(t, "10163393", "assignee")
    assert a["name_raw"].tolist() == [
        "Acme Corp.", "Jane Doe", "Jean Dupont", "State of Texas", "Ministry of Defence",
        "University of Texas", "Ann Smith", "Unassigned Holder",
    ]
    assert a["party_type_hint"].fillna("").tolist() == [
        "organisation", "individual", "individual", "government", "government", "organisation", "individual", "",
    ]
    first = a.iloc[0]
    assert first[["city", "province", "country", "address_raw"]].tolist() == ["Austin", "TX", "US", "Austin, TX, US"]


def test_brief_summary_fills_only_missing_abstracts(tmp_path, real_slice):
    copy(tmp_path, real_slice, SYNTHETIC)
    (tmp_path / "g_brf_sum_text_2018.tsv").write_text(
        "patent_id\tsummary_text\n10163393\tSynthetic summary A\n9999094\tSynthetic summary B\n", encoding="utf-8")
    _, t = read(tmp_path)
    assert patent(t, "10163393")["abstract"].startswith("Synthetic abstract")
    assert patent(t, "9999094")["abstract"] == "Synthetic summary B"


# --------------------------------------------------------------------------- joined in parts
def _same_batches(a, b):
    assert [x.n_records for x in a] == [y.n_records for y in b]
    for x, y in zip(a, b):
        for name in ("patents", "parties", "classifications", "citations", "rejects"):
            left, right = x.get(name), y.get(name)
            if left.empty and right.empty:
                continue  # a part without rows of a table leaves it out of its batches
            pd.testing.assert_frame_equal(left, right)


def test_parts_give_the_batches_of_one_join(tmp_path, real_slice, monkeypatch):
    folder = copy(tmp_path / "pv", real_slice, SYNTHETIC)
    # What a part cannot see alone: a repeat of the first patent in the last part, child rows
    # of the first patent listed last, an orphan, a row without patent_id, malformed lines.
    first = (folder / "g_patent.tsv").read_text(encoding="utf-8").split("\n")[1]
    append(folder / "g_patent.tsv", first.replace("Variable response", "Repeated"), "broken line")
    append(folder / "g_cpc_current.tsv", "3933213\t9\tG\tG06\tG06F\tG06F3/01\tadditional",
           "99999999\t1\tG\tG06\tG06F\t\tinventional", "\t2\tG\tG06\tG06F\t\tinventional", "short\tline")
    calls = []
    real_assemble = patentsview._assemble
    monkeypatch.setattr(patentsview, "_assemble", lambda *a: calls.append(1) or real_assemble(*a))
    whole = list(PatentsViewAdapter(Limits(join_records=10**6)).read(folder, batch_size=4))
    assert len(calls) == 1
    for join in (4, 8, 13):
        calls.clear()
        parts = list(PatentsViewAdapter(Limits(join_records=join)).read(folder, batch_size=4))
        assert len(calls) == -(-len(whole) // max(1, join // 4))  # 9, 5 and 3 parts
        _same_batches(whole, parts)
    # The repeat is rejected in its own (last) part; the child row listed last joins batch 0.
    last = parts[-1].get("rejects")
    assert "3933213" in set(last.query("reason == 'duplicate patent_id in g_patent'")["record_id"])
    cpc = parts[0].get("classifications")
    assert "G06F3/01" in set(cpc.loc[cpc["rec"] == "3933213", "symbol_raw"])
    assert {"no such patent in g_patent", "missing patent_id", "malformed TSV row"} <= set(last["reason"])


def test_lines_longer_than_a_block_are_parsed_with_a_larger_block(tmp_path, real_slice, monkeypatch):
    folder = copy(tmp_path / "pv", real_slice, SYNTHETIC)
    append(folder / "g_cpc_current.tsv", "short\tline")  # a malformed line's number survives the blocks
    whole = list(PatentsViewAdapter().read(folder, batch_size=4))
    longest = max(len(line) for f in folder.glob("*.tsv") for line in f.read_bytes().split(b"\n"))
    assert longest > 150
    # Blocks of 150 bytes: many blocks per file, and some lines longer than one block.
    monkeypatch.setattr(patentsview, "_BLOCK_SIZES", (150, 1 << 20))
    _same_batches(whole, list(PatentsViewAdapter().read(folder, batch_size=4)))
    # No block large enough: a named error, not a traceback.
    monkeypatch.setattr(patentsview, "_BLOCK_SIZES", (150,))
    with pytest.raises(UnreadableInputError, match="a line is longer than 150 bytes"):
        list(PatentsViewAdapter().read(folder, batch_size=4))


def test_data_line_of_well_formed_lines_skips_malformed_ones():
    # Lines 0..6 with 0, 1 and 4 malformed: the well-formed ones are 2, 3, 5, 6.
    spill = patentsview._Spill("g_patent", "g_patent", Path("g_patent.tsv"), Path("x.arrow"),
                               pd.DataFrame({"_row": [0, 1, 4], "text": ["a", "b", "c"]}))
    assert spill.rows(np.arange(4)).tolist() == [2, 3, 5, 6]
    none_bad = patentsview._Spill("g_patent", "g_patent", Path("g"), Path("x"), pd.DataFrame({"_row": []}))
    assert none_bad.rows(np.arange(3)).tolist() == [0, 1, 2]


def test_utf8_replacing_reader_keeps_a_character_split_between_chunks(tmp_path):
    raw = b"a" * ((1 << 22) - 1) + "é".encode() + b"\xff" + "中z".encode()  # é straddles the first chunk
    (tmp_path / "t.tsv").write_bytes(raw)
    with io.BufferedReader(patentsview._Utf8Replacing(tmp_path / "t.tsv")) as src:
        assert src.read() == raw.decode("utf-8", errors="replace").encode()


def test_spill_files_are_removed_even_when_reading_stops_early(tmp_path, real, monkeypatch):
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill_root))
    assert len(list(PatentsViewAdapter(Limits(join_records=7)).read(real, batch_size=7))) == 5
    assert not any(spill_root.iterdir())
    batches = PatentsViewAdapter(Limits(join_records=7)).read(real, batch_size=7)
    next(batches)
    assert any(spill_root.iterdir())  # parts on disk while reading
    batches.close()
    assert not any(spill_root.iterdir())
