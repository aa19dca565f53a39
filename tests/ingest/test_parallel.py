"""Ingest with several worker processes: the same tables, rejects and report as with one.

Real files are read from ../shared/data (USPTO weekly slices, Chinese database exports,
PatentsView tables, a Lens CSV). The batch size is made small so that each XML file is
split into several batches, parsed by different workers. The byte-range plan of an XML
file is checked on a file built at test time from real documents, with a document
boundary on each side of a read-chunk edge.
"""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import IngestParams, Limits
from pipeline.errors import ConfigError, InputLimitError, UnreadableInputError
from pipeline.ingest.run import _Failure, _in_worker, _result, ingest, resolve_workers
from pipeline.ingest.uspto_xml import UsptoXmlAdapter
from tests.shared_data import shared_path, xml_documents


def _assert_same(a, b):
    assert set(a.tables) == set(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert a.report == b.report


def test_uspto_xml_same_tables_with_two_workers():
    files = [shared_path("uspto-xml", f) for f in ("ipgxml__ipg130416.small.xml", "xml__ipg120327.196.xml")]
    one = ingest(files, batch_size=40, workers=1)
    two = ingest(files, batch_size=40, workers=2)
    _assert_same(one, two)
    rejects = two.tables["rejects"]
    assert (rejects["level"] == "record").sum() == 2  # the sequence listings, with file and row
    assert rejects.loc[rejects["level"] == "record", ["source_file", "row"]].notna().all().all()
    assert sum(f["records"] for f in two.report["files"]) == 27 + 196


def test_tables_and_exports_same_tables_with_two_workers():
    paths = [shared_path("cn-exports", "patentics_zhongkechuangda_cn_511.xlsx"),
             shared_path("patentsview"),
             shared_path("lens", "drones_tac_1695_cleaned.csv")]
    one = ingest(paths, table_batch_size=200, workers=1)
    two = ingest(paths, table_batch_size=200, workers=2)
    _assert_same(one, two)
    assert [f["format"] for f in two.report["files"]] == ["patentsview", "cn_export", "lens_cleaned"]


def test_progress_reported_per_batch_with_workers():
    seen = []
    ingest([shared_path("uspto-xml", "xml__ipg120327.196.xml")], batch_size=50, workers=2,
           on_batch=lambda label, n: seen.append(n))
    assert seen == [50, 50, 50, 46]


def test_a_table_export_is_canonicalised_batch_by_batch_by_the_workers():
    # Parsed in the parent, each batch canonicalised by a worker: progress per batch, and
    # the sheets the reader took travel with the file's last unit.
    path = shared_path("cn-exports", "patentics_zhongkechuangda_cn_511.xlsx")
    seen = []
    two = ingest([path], table_batch_size=200, workers=2, on_batch=lambda label, n: seen.append(n))
    assert seen == [200, 200, 111]
    _assert_same(ingest([path], table_batch_size=200, workers=1), two)


@pytest.fixture(scope="module")
def three_docs(tmp_path_factory) -> tuple[Path, list[bytes]]:
    """Three real grants, the second preceded by a comment holding a quoted declaration."""
    docs = xml_documents(shared_path("uspto-xml", "ipgxml__ipg130416.small.xml"))[:3]
    at = docs[1].index(b"<us-patent-grant")
    docs[1] = docs[1][:at] + b'<!-- an example: <?xml version="1.0"?> -->\n' + docs[1][at:]
    path = tmp_path_factory.mktemp("parallel") / "three.xml"
    path.write_bytes(b"".join(docs))
    return path, docs


def _raw_equal(a, b):
    assert a.n_records == b.n_records
    for name in set(a.tables) | set(b.tables):
        pd.testing.assert_frame_equal(a.get(name), b.get(name), obj=name)


@pytest.mark.parametrize("shift", [-7, -6, -5, -1, 0, 1, 5, 6, 7, 30])
def test_plan_cuts_as_read_with_a_boundary_at_a_chunk_edge(three_docs, shift):
    path, docs = three_docs
    second = len(docs[0])
    quoted = second + docs[1].index(b"<?xml", 10)  # the declaration inside the comment
    for edge in (second, len(docs[0]) + len(docs[1]), quoted):
        adapter = UsptoXmlAdapter(chunk_bytes=max(1, edge + shift))
        plans = list(adapter.plan(path, batch_size=2))
        assert [p.first for p in plans] == [0, 2]
        assert [[(o, n) for o, n, _ in p.docs] for p in plans] == [
            [(0, len(docs[0])), (second, len(docs[1]))], [(second + len(docs[1]), len(docs[2]))]]
        for plan, batch in zip(plans, adapter.read(path, batch_size=2)):
            _raw_equal(adapter.read_batch(path, plan), batch)


def test_plan_of_an_oversize_document_and_of_an_empty_file(three_docs, tmp_path):
    path, docs = three_docs
    adapter = UsptoXmlAdapter(max_doc_bytes=min(map(len, docs)) // 2, chunk_bytes=4096)
    plans = list(adapter.plan(path, batch_size=10))
    assert [(o, n, big) for o, n, big in plans[0].docs][0] == (0, 4096, True)  # its first bytes only
    _raw_equal(adapter.read_batch(path, plans[0]), next(adapter.read(path, batch_size=10)))
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"  \n")
    with pytest.raises(UnreadableInputError, match="no XML document"):
        list(UsptoXmlAdapter().plan(empty))
    with pytest.raises(UnreadableInputError, match="empty file"):
        ingest([shared_path("uspto-xml", "xml__ipg120327.18.xml"), empty], workers=2)


def _limit_error():
    raise InputLimitError("book.xlsx", "a sheet of 9 rows", "sheet_rows", 5)


def test_named_errors_of_a_worker_come_back_as_themselves():
    out = _in_worker(_limit_error)
    assert isinstance(out, _Failure)

    class Done:
        def result(self):
            return out

    with pytest.raises(InputLimitError, match="ingest.limits.sheet_rows") as err:
        _result(Done())
    assert (err.value.path, err.value.limit, err.value.value) == ("book.xlsx", "sheet_rows", 5)


def _params(workers):
    return IngestParams(input=("x",), out="o", report="r", metrics="m", batch_size=10, limits=Limits(),
                        workers=workers)


@pytest.mark.parametrize("workers", [1, 2, "auto"])
def test_workers_knob_accepts_whole_numbers_and_auto(workers):
    assert _params(workers).workers == workers
    assert resolve_workers(workers) >= 1


@pytest.mark.parametrize("workers", [0, -1, "two", 1.5, True, None])
def test_workers_knob_refuses_anything_else(workers):
    with pytest.raises(ConfigError, match="ingest.workers"):
        _params(workers)


def test_workers_knob_read_from_params(tmp_path):
    from pipeline.config import load_params

    text = (Path(__file__).resolve().parents[2] / "params.yaml").read_text(encoding="utf-8")
    assert "  workers: auto" in text
    bad = tmp_path / "params.yaml"
    bad.write_text(text.replace("  workers: auto", "  workers: 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="ingest.workers must be a whole number"):
        load_params(bad)


# ---------------------------------------------------------------- locating applicants in parts
_REGISTERS = ["listed_companies_2015.csv", "chongqing_registrations_1980_2004.csv", "universities_poi_2019.json"]


@pytest.fixture(scope="module")
def real_parties_and_registers():
    """The parties of two real Chinese exports (without the registers' places) and the real registers."""
    from pipeline.locate import load_register

    paths = [shared_path("cn-exports", f) for f in ("incopat_iflytek_3816.xlsx", "patsnap_green_aviation_1999.xlsx")]
    parties = ingest(paths, workers=1).tables["parties"]
    return parties, [load_register(shared_path("registers", n)) for n in _REGISTERS]


@pytest.mark.parametrize("n_workers", [2, 3])
def test_applicants_located_in_parts_as_in_one(real_parties_and_registers, n_workers):
    from pipeline.ingest.run import _locate_parts
    from pipeline.locate import locate

    parties, regs = real_parties_and_registers
    # An index that is not 0..n-1, to check the rows come back in place.
    parties = parties.set_axis(parties.index * 3 + 7)
    one = locate(parties, regs, accept=[], fuzzy_min=90)
    parts = _locate_parts(parties, regs, n_workers, accept=[], fuzzy_min=90, min_rows=0)
    pd.testing.assert_frame_equal(parts[0], one[0], obj="parties")
    pd.testing.assert_frame_equal(parts[1], one[1], obj="groups")
    assert one[1]["located_by"].notna().any()
    # Down to the Arrow chunks, which Parquet pages follow: the files are the same bytes.
    for c in one[0].columns:
        a, b = one[0][c].array, parts[0][c].array
        if isinstance(a, pd.arrays.ArrowExtensionArray):
            assert [len(x) for x in a.__arrow_array__().chunks] == [len(x) for x in b.__arrow_array__().chunks], c


def test_parts_keep_the_arrow_chunks_of_their_input(real_parties_and_registers):
    from pipeline.ingest.run import _locate_parts

    parties, regs = real_parties_and_registers
    # Batches concatenated give a column of many chunks; locate keeps them.
    chunked = pd.concat([parties.iloc[i:i + 700] for i in range(0, len(parties), 700)], ignore_index=True)
    assert chunked["name_raw"].array.__arrow_array__().num_chunks > 1
    located, _ = _locate_parts(chunked, regs, 2, accept=[], fuzzy_min=90, min_rows=0)
    for c in ("name_raw", "province", "located_by"):
        want = [len(x) for x in chunked[c].array.__arrow_array__().chunks]
        assert [len(x) for x in located[c].array.__arrow_array__().chunks] == want, c


def test_an_applicant_group_lies_whole_in_one_part(real_parties_and_registers):
    from pipeline.ingest.run import locate_part_of
    from pipeline.locate import group_keys

    parties, _ = real_parties_and_registers
    part = pd.Series(locate_part_of(parties, 3), index=parties.index)
    placed = parties["role"].isin(["applicant", "assignee"])
    keys = group_keys(parties[placed])
    assert (part[placed].groupby(keys).nunique() == 1).all()
    assert set(part[placed]) == {0, 1, 2}
    assert (part[~placed] == 0).all()  # inventors pass through in this process


def test_registers_read_in_their_own_process_as_here(tmp_path):
    from pipeline.ingest.run import _RegisterLoader
    from pipeline.locate import RegisterFileError, load_register

    paths = [shared_path("registers", n) for n in _REGISTERS[::2]]
    with _RegisterLoader(paths, 2) as loader:
        got = loader.results()
    for a, path in zip(got, paths):
        pd.testing.assert_frame_equal(a, load_register(path))
    bad = tmp_path / "reg.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(RegisterFileError) as here:
        load_register(bad)
    with pytest.raises(RegisterFileError) as there, _RegisterLoader([paths[0], bad, paths[1]], 2) as loader:
        loader.results()
    assert str(there.value) == str(here.value)
