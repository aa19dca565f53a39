"""Fuzz tests: random bytes, random encodings and structured mutations of real records.

Every reader must either account for each record (canonical table or reject, counts
reconciling) or stop with a named :class:`~pipeline.errors.PatNavError` — never a traceback.
The real records come from ``../shared/data`` and are mutated in temporary folders; nothing
is committed. Hypothesis runs derandomised, so CI sees the same examples every run.
"""

from __future__ import annotations

import csv
import io as _io
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline import io  # noqa: E402
from pipeline.errors import PatNavError  # noqa: E402
from pipeline.ingest.run import ingest  # noqa: E402
from tests.shared_data import shared_path  # noqa: E402

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1", "big5", "shift_jis"]
SUFFIXES = [".xml", ".csv", ".tsv", ".xlsx", ".xls", ".txt", ".json", ""]


def _unaccounted(path: Path) -> list[str]:
    """Ingest ``path``; what does not add up (empty: a named error, or a report in which
    every file reconciles, a file yielding nothing is a failure, and patents are unique)."""
    try:
        res = ingest([path], batch_size=7, table_batch_size=7)
    except PatNavError:
        return []
    rep, problems = res.report, []
    if not rep["reconciles"]:
        problems.append(f"report does not reconcile: {rep['files']}")
    for f in rep["files"]:
        if f["records"] != f["accepted"] + f["merged_duplicates"] + f["rejected"]:
            problems.append(f"counts: {f}")
        if f["accepted"] + f["merged_duplicates"] == 0 and not any(x["file"] == f["file"] for x in rep["failures"]):
            problems.append(f"yields nothing but is no failure: {f['file']}")
    pats = res.tables["patents"]
    if not pats["pub_id"].is_unique:
        problems.append("pub_id repeated in patents")
    if len(pats) != sum(f["accepted"] for f in rep["files"]):
        problems.append(f"{len(pats)} patents, {sum(f['accepted'] for f in rep['files'])} accepted")
    return problems


def _mutate(data: bytes, draw) -> bytes:
    """One structured mutation: cut, duplicate, insert hostile bytes or flip a byte."""
    kind = draw(st.sampled_from(["truncate", "cut", "duplicate", "insert", "flip", "none"]))
    n = len(data)
    if kind == "none" or n == 0:
        return data
    i = draw(st.integers(0, n - 1))
    j = draw(st.integers(i, min(n, i + 4000)))
    if kind == "truncate":
        return data[:i]
    if kind == "cut":
        return data[:i] + data[j:]
    if kind == "duplicate":
        return data[:j] + data[i:j] + data[j:]
    if kind == "insert":
        junk = draw(st.sampled_from([b"\x00", b"\x00\x00\x00", "\u202e\ufeff".encode(), b"\r", b'"', b"<", b"]]>",
                                     b"<?xml version='1.0'?>", b"=HYPERLINK(\"x\")", b"\xff\xfe", "专利".encode("gb18030")]))
        return data[:i] + junk + data[i:]
    b = bytearray(data)
    b[i] ^= draw(st.integers(1, 255))
    return bytes(b)


# ---------------------------------------------------------------------------- random bytes

@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_crash_ingest(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        assert _unaccounted(path) == []


@FUZZ
@given(text=st.text(max_size=400), enc=st.sampled_from(ENCODINGS))
def test_random_text_in_random_encodings_never_crash_ingest(text, enc):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.csv"
        path.write_bytes(text.encode(enc, errors="replace"))
        assert _unaccounted(path) == []


# ------------------------------------------------------------- mutations of real records

@pytest.fixture(scope="module")
def real_csv() -> str:
    """The first 20 records of the real PatSnap export, as a CSV text (made at run time)."""
    df = pd.read_excel(shared_path("cn-exports", "patsnap_green_aviation_1999.xlsx"), dtype=str, nrows=20,
                       engine="calamine")
    return df.to_csv(index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def real_xml() -> bytes:
    return shared_path("uspto-formats", "xml2014__US08930553.xml").read_bytes()


@pytest.fixture(scope="module")
def real_tsv() -> bytes:
    lines = shared_path("patentsview", "g_patent.tsv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[:30])


@FUZZ
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_mutated_real_export_rows_are_accounted_for(real_csv, data, enc):
    raw = real_csv.encode(enc, errors="replace")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "patsnap.csv"
        path.write_bytes(_mutate(raw, data.draw))
        assert _unaccounted(path) == []


@FUZZ
@given(data=st.data())
def test_mutated_real_uspto_xml_is_accounted_for(real_xml, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grant.xml"
        path.write_bytes(_mutate(real_xml, data.draw))
        assert _unaccounted(path) == []


@FUZZ
@given(data=st.data())
def test_mutated_real_patentsview_rows_are_accounted_for(real_tsv, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g_patent.tsv"
        path.write_bytes(_mutate(real_tsv, data.draw))
        assert _unaccounted(path) == []


# ------------------------------------------------ the readers of `patnav classify` / `network`

@FUZZ
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_classify_list_reader_never_crashes(real_csv, data, enc):
    raw = real_csv.encode(enc, errors="replace")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.csv"
        path.write_bytes(_mutate(raw, data.draw))
        try:
            df, cols = io.read_list(path)
        except PatNavError:
            return
        assert cols["title"] in df.columns


def _edge_csv(rows) -> bytes:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["citing", "cited", "citing_date", "cited_date"])
    w.writerows(rows)
    return buf.getvalue().encode()


node = st.text(alphabet="ABC123-/ 专利\x00\t\"", min_size=0, max_size=6)
date = st.one_of(st.just(""), st.sampled_from(["2020-01-01", "1999-12-31", "2030-02-30", "yesterday", "0"]))


@FUZZ
@given(rows=st.lists(st.tuples(node, node, date, date), max_size=40), data=st.data())
def test_network_edge_list_reader_never_crashes(rows, data):
    from pipeline.network import run as net

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "edges.csv"
        path.write_bytes(_mutate(_edge_csv(rows), data.draw))
        try:
            edges = net.read_edge_list(path)
            graph, regions = net.graph_from_user_files(edges)
            tables = net.analyse(graph, net.NetworkParams())
        except PatNavError:
            return
        # one row per node of the graph, and every kept edge joins two of them
        assert sorted(tables["nodes"]["node"]) == sorted(graph.nodes["node"])
        assert set(graph.src) | set(graph.dst) <= set(range(len(graph.nodes)))
