"""End to end: the ingest stage on the demo input (params.yaml) and on every real file in ../shared/data."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline import schema
from pipeline.errors import UnreadableInputError, UnsupportedFormatError
from pipeline.ingest.detect import detect

ROOT = Path(__file__).resolve().parents[1]


def test_sample_reconciles_per_file(sample_result):
    files = sample_result.report["files"]
    formats = {f["format"] for f in files}
    assert {"uspto_xml", "patentsview", "lens", "cn_export"} <= formats
    for f in files:
        assert f["records"] == f["accepted"] + f["merged_duplicates"] + f["rejected"], f
        assert f["reconciles"]
    rejects = sample_result.tables["rejects"]
    for f in files:  # every record-level reject names its file
        assert (rejects[rejects.level == "record"].source_file.isin([x["file"] for x in files])).all()


def test_sample_tables_are_valid_and_linked(sample_result):
    t = sample_result.tables
    for name in schema.TABLES:
        schema.validate(t[name], name)
    pubs = set(t["patents"].pub_id)
    for name in ("parties", "classifications", "citations", "npl", "events"):
        assert set(t[name].pub_id) <= pubs, name
    # the demo holds US grants with citations, Lens rows from several offices and the real
    # Chinese exports; Jiangbei applicants are located through the registers
    countries = t["patents"].country.value_counts()
    assert {"US", "CN", "WO", "EP"} <= set(countries.index)
    assert t["citations"].resolved_pub_id.notna().any()
    assert (t["parties"].district == "江北区").any()
    assert not t["patents"]["provenance"].str.contains("synthetic").any()


def test_sample_is_deterministic(sample_result):
    from pipeline.config import load_params
    from pipeline.ingest.run import run_stage

    again = run_stage(load_params(ROOT / "params.yaml")["ingest"], ROOT)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(sample_result.tables[name], again.tables[name])
    assert json.dumps(sample_result.report, sort_keys=True) == json.dumps(again.report, sort_keys=True)


def test_cli_ingest_writes_tables_report_and_summary(tmp_path):
    out = tmp_path / "canon"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", str(ROOT.parent / "shared" / "data" / "uspto-xml" / "ipgxml__ipg130416.small.xml"),
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "report →" in proc.stdout and str(out) in proc.stdout
    for name in schema.TABLES:
        assert (out / f"{name}.parquet").exists()
    report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["reconciles"] and report["totals"]["citations"] > 0
    patents = pipeline.read_table(out, "patents")
    assert len(patents) == report["totals"]["patents"]


def test_cli_unreadable_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "empty.csv" in lines[0] and "empty file" in lines[0]


@pytest.mark.parametrize(
    "name, what",
    [
        ("greenbook__US03932709.greenbook", "greenbook"),
        ("sgml__US06336130.xml", "SGML"),
        ("sgml__USD435854S1.xml", "SGML"),
        ("pap__US20010000044A1.xml", "pre-grant publication XML"),
        ("pap__US20010000943A1.xml", "pre-grant publication XML"),
        ("css_brs__css_brs_sample.txt", "BRS"),
        ("xml4ip__sample_XML4IP.ZIP", "ZIP"),
        ("cpcScheme__cpc-scheme-A01L.xml", "CPC classification scheme"),
    ],
)
def test_older_us_formats_are_refused_by_name(shared_data, name, what):
    with pytest.raises(UnsupportedFormatError, match=f"unsupported format.*{what}"):
        detect(shared_data / "uspto-formats" / name)


@pytest.mark.parametrize("name", ["xml2004__US06859910.xml", "xml2006__US07272630B2.xml", "xml2014__US08926509.xml", "xmlApp2004__US20050004437A1.xml"])
def test_v4_documents_from_uspto_formats_ingest(shared_data, name):
    res = pipeline.ingest([shared_data / "uspto-formats" / name])
    assert len(res.tables["patents"]) == 1 and res.report["reconciles"]


def test_binary_and_missing_inputs(tmp_path):
    blob = tmp_path / "x.xml"
    blob.write_bytes(bytes(range(256)) * 10)
    with pytest.raises((UnreadableInputError, UnsupportedFormatError)):
        detect(blob)
    with pytest.raises(UnreadableInputError, match="no such file"):
        detect(tmp_path / "missing.xml")


def _real_files(sub, pattern="*"):
    shared = ROOT.parent / "shared" / "data" / sub
    return sorted(p.name for p in shared.glob(pattern)) if shared.is_dir() else []


@pytest.mark.parametrize("name", _real_files("uspto-xml", "*.xml"))
def test_every_real_uspto_file_ingests_and_reconciles(shared_data, name):
    path = shared_data / "uspto-xml" / name
    try:
        res = pipeline.ingest([path])
    except UnsupportedFormatError as exc:  # the 2004 pre-grant file and a non-patent toy file
        assert name in ("xml__pa040101.two.xml", "xml__basic.xml"), exc
        return
    assert res.report["reconciles"], res.report["files"]


@pytest.mark.parametrize("name", _real_files("lens", "*.csv"))
def test_every_real_lens_file_ingests_and_reconciles(shared_data, name):
    res = pipeline.ingest([shared_data / "lens" / name])
    assert res.report["reconciles"] and len(res.tables["patents"]) > 1000


def test_real_patentsview_folder_ingests_and_reconciles(shared_data):
    res = pipeline.ingest([shared_data / "patentsview"])
    f = res.report["files"][0]
    assert f["format"] == "patentsview" and res.report["reconciles"]
    assert f["records"] == 4704


def test_folder_walk_does_not_follow_links_and_takes_odd_names(tmp_path):
    from tests.shared_data import shared_path, write_xml_documents

    (tmp_path / "a").mkdir()
    write_xml_documents(shared_path("uspto-xml", "xml__ipg120327.196.xml"), [12], tmp_path / "a" / "专利 file (1).xml")
    (tmp_path / "a" / "loop").symlink_to("..")
    (tmp_path / "a" / "passwd.csv").symlink_to("/etc/passwd")
    res = pipeline.ingest([tmp_path])
    assert [Path(f["file"]).name for f in res.report["files"]] == ["专利 file (1).xml"]
    skipped = {Path(s["file"]).name: s["reason"] for s in res.report["skipped"]}
    assert skipped == {"loop": "symbolic link not followed", "passwd.csv": "symbolic link not followed"}
