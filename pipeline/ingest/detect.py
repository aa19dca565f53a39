"""Recognise a source's format from its content (never from its file name).

:func:`detect` returns the adapter for a file, or raises a named error whose message
says what the file is and why it cannot be taken: an empty or binary file, or a
recognised patent format PatNav does not read (USPTO greenbook text, SGML, the
2001–2004 pre-grant XML, BRS text, ZIP archives, CPC scheme files).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from ..config import Limits
from ..errors import UnreadableInputError, UnsupportedFormatError
from .base import HEAD_BYTES

__all__ = ["detect", "not_regular"]

# (pattern on the first bytes, description) of formats recognised but not read.
_UNSUPPORTED = [
    (rb"^PATN\r?\n", "USPTO greenbook (APS) text, 1976-2001"),
    (rb"<!DOCTYPE\s+PATDOC", "USPTO SGML/ST.32 grant, 2001-2004"),
    (rb"<patent-application-publication", "USPTO pre-grant publication XML v1.5/v1.6, 2001-2004"),
    (rb"\*\*\* BRS DOCUMENT BOUNDARY \*\*\*", "USPTO BRS text"),
    (rb"<class-scheme|CPCMasterClassificationFile", "CPC classification scheme / master file (not patent records)"),
]


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableInputError(path, exc.strerror or str(exc)) from None


def not_regular(path: Path) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder (a named pipe …), else None.

    Reading a named pipe blocks until another process writes to it, and a device may
    never end: such paths are reported, never opened.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kinds = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"))
    return next((what for test, what in kinds if test(mode)), "special file")


def detect(path: str | Path, limits: Limits = Limits()):
    """Return an adapter instance able to read ``path``.

    Parameters
    ----------
    path : path-like
        A file, or a folder of PatentsView tables.
    limits : Limits
        Given to the adapter; a workbook beyond them is refused here already.

    Raises
    ------
    UnreadableInputError
        Missing, empty, binary or undecodable input, or not a regular file (a named
        pipe, a device), which is never opened.
    UnsupportedFormatError
        A recognised format PatNav does not ingest; the message names it.
    pipeline.errors.InputLimitError
        A workbook beyond ``limits``.
    """
    from . import patentsview, tabular, uspto_xml

    path = Path(path)
    if path.is_dir():
        if patentsview.is_patentsview_dir(path):
            return patentsview.PatentsViewAdapter(limits=limits)
        raise UnreadableInputError(path, "folder holds no PatentsView tables")
    if not path.exists():
        raise UnreadableInputError(path, "no such file")
    if what := not_regular(path):
        raise UnreadableInputError(path, f"not a regular file but a {what}; not read")
    head = _head(path)
    if not head.strip():
        raise UnreadableInputError(path, "empty file")
    for pattern, what in _UNSUPPORTED:
        if re.search(pattern, head[:4096]):
            raise UnsupportedFormatError(path, f"unsupported format: {what}; PatNav reads USPTO XML v4.x (2005 on)")
    if uspto_xml.sniff(head):
        return uspto_xml.UsptoXmlAdapter(limits=limits)
    first_line = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    if patentsview.sniff_table(first_line):
        return patentsview.PatentsViewAdapter(limits=limits)
    profile = tabular.sniff(path, limits=limits)
    if profile:
        return tabular.TabularAdapter(profile=profile, limits=limits)
    if head.startswith(b"PK\x03\x04"):
        raise UnsupportedFormatError(path, "unsupported format: ZIP archive; unpack it and ingest its files")
    if head.lstrip().startswith(b"<"):
        m = re.search(rb"<([A-Za-z][\w:.-]*)[\s>]", head.lstrip().split(b"?>", 1)[-1])
        root = m.group(1).decode() if m else "?"
        raise UnsupportedFormatError(path, f"unsupported format: XML with root <{root}> is not a USPTO v4.x patent document")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 text (Excel's "Unicode text") has NUL bytes in every ASCII character:
        # text whose header is not known, not a binary file.
        raise UnsupportedFormatError(path, "unsupported format: UTF-16 text without a known patent export header "
                                           "(see pipeline/ingest/headers.yaml)")
    if b"\x00" in head[:1024]:
        raise UnreadableInputError(path, "binary file, not a patent data format")
    raise UnsupportedFormatError(path, "unsupported format: no known patent export header found (see pipeline/ingest/headers.yaml)")
