"""The real data set beside the checkout, and extraction of parts of it at test time.

The project commits no third-party data (see ``../shared/data/README.md``): tests read the
real files from ``../shared/data`` and, where they need a single document or a few rows,
write those byte-exact into a temporary folder while they run.

* :func:`shared_path` — a file or folder under ``../shared/data``; fails the test with a
  clear message when it is missing (CI always has it, so a missing file is an error,
  never a reason to skip);
* :func:`xml_documents` / :func:`write_xml_documents` — the documents of a concatenated
  USPTO XML file, each from its ``<?xml`` declaration to the byte before the next one;
* :func:`table_records` / :func:`write_rows` — the header and data records of a CSV/TSV
  file with their original bytes; ``write_rows`` writes the header and the selected
  records (by 0-based data-row index or by a predicate on the row), in source order.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pytest

# The one place the location of the real data is worked out (tests/conftest.py imports it):
# ../shared/data beside the project checkout.
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_DECLARATION = re.compile(rb"<\?xml\s")


def shared_path(*parts: str) -> Path:
    """``../shared/data/<parts>``, failing the calling test if it does not exist."""
    path = SHARED.joinpath(*parts)
    if not SHARED.is_dir():
        pytest.fail(
            f"the real data set is missing: expected the folder {SHARED} (../shared/data beside the "
            "project checkout, read-only; its README.md lists the files). Tests read real data from it.",
            pytrace=False,
        )
    if not path.exists():
        pytest.fail(f"{path} is missing from the real data set at {SHARED}", pytrace=False)
    return path


# --------------------------------------------------------------------------- XML
def xml_documents(src: Path) -> list[bytes]:
    """The documents of a concatenated XML file, byte-exact.

    A document runs from its ``<?xml`` declaration to the byte before the next one (the
    last to the end of the file). Bytes before the first declaration belong to no document.
    """
    data = Path(src).read_bytes()
    starts = [m.start() for m in _DECLARATION.finditer(data)]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)])]


def write_xml_documents(src: Path, indices: Sequence[int], dest: Path) -> Path:
    """Write documents ``indices`` (0-based, in the order given) of ``src`` to ``dest``."""
    docs = xml_documents(src)
    missing = [i for i in indices if not 0 <= i < len(docs)]
    if missing:
        pytest.fail(f"{src} holds {len(docs)} documents; no document {missing}", pytrace=False)
    dest.write_bytes(b"".join(docs[i] for i in indices))
    return dest


# --------------------------------------------------------------------------- CSV / TSV
def _lines(data: bytes) -> list[bytes]:
    """Physical lines, each with its own terminator (``\\n`` or ``\\r\\n``; the last may have none)."""
    return re.findall(rb"[^\n]*\n|[^\n]+$", data)


def table_records(
    src: Path,
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
) -> tuple[list[str], bytes, list[tuple[list[str], bytes]]]:
    """The header fields and bytes of ``src``, and every data record as (fields, original bytes).

    Records are parsed with the csv module (so a quoted field may span lines); the bytes of
    a record are the physical lines it was read from, terminator included. A blank line is
    a record with no fields. Pass ``quoting=csv.QUOTE_NONE`` for files whose rows are one
    line each whatever their quotes (PatentsView).
    """
    lines = _lines(Path(src).read_bytes())
    consumed = 0

    def text() -> Iterator[str]:
        nonlocal consumed
        for i, line in enumerate(lines):
            consumed = i + 1
            s = line.decode(encoding)
            yield s.removeprefix("\ufeff") if i == 0 else s

    old_limit = csv.field_size_limit(2**31 - 1)
    try:
        reader = csv.reader(text(), delimiter=delimiter, quoting=quoting)
        records: list[tuple[list[str], bytes]] = []
        start = 0
        for fields in reader:
            records.append((fields, b"".join(lines[start:consumed])))
            start = consumed
    finally:
        csv.field_size_limit(old_limit)
    if not records:
        pytest.fail(f"{src} is empty", pytrace=False)
    (header, header_bytes), data = records[0], records[1:]
    return header, header_bytes, data


def write_rows(
    src: Path,
    dest: Path,
    keep: Iterable[int] | Callable[[dict[str, str]], bool],
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
) -> Path:
    """Write the header of ``src`` and the records selected by ``keep`` to ``dest``, byte-exact.

    ``keep`` is either 0-based data-row indices or a predicate on a row as a dict keyed by
    header. Records are written in source order with their original bytes.
    """
    header, header_bytes, records = table_records(src, delimiter=delimiter, quoting=quoting, encoding=encoding)
    if callable(keep):
        chosen = [raw for fields, raw in records if fields and keep(dict(zip(header, fields)))]
    else:
        wanted = sorted(set(keep))
        missing = [i for i in wanted if not 0 <= i < len(records)]
        if missing:
            pytest.fail(f"{src} holds {len(records)} data rows; no row {missing}", pytrace=False)
        chosen = [records[i][1] for i in wanted]
    dest.write_bytes(header_bytes + b"".join(chosen))
    return dest
