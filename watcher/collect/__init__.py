"""Collectors: turn source files into typed records (watcher.models).

Each parser is a pure function `parse(stream, name, options) -> Iterator[record | ParseError]`
in a module of this package (one module per format), registered in PARSERS under the name
source kinds use (watcher/sources.py). `options` is the source's [options] table (None for a
plain `watcher import`). detect_format picks the parser from the first bytes of a file.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..limits import MAX_INFLATED, bounded
from . import canadabuys, feed, html, ocds, seao_xml

Parser = Callable[[BinaryIO, str, "dict | None"], Iterator[object]]

PARSERS: dict[str, Parser] = {
    "seao_xml": seao_xml.parse,  # SEAO open data XML, 2009-2024 (both generations of the format)
    "ocds": ocds.parse,  # OCDS release/record packages, JSON or JSON Lines (SEAO since 2021)
    "canadabuys": canadabuys.parse,  # CanadaBuys tender notices CSV
    "feed": feed.parse,  # RSS / Atom
    "html": html.parse,  # an HTML list page read with CSS selectors from the source's options
}

SUFFIXES = (".xml", ".xml.gz", ".json", ".json.gz", ".csv", ".csv.gz", ".jsonl")
GZIP_MAGIC = b"\x1f\x8b"

_PROLOG = re.compile(rb"\s*(<\?xml[^>]*\?>\s*|<!--.*?-->\s*)*", re.S)
_SEAO_XML = re.compile(rb"<(export|avis|contrat)[\s>/]", re.I)


def open_source_file(path: str | Path) -> BinaryIO:
    """Open a file for reading bytes, decompressing it when it is gzip (by content, not name), up to
    limits.MAX_INFLATED bytes (TooLarge past it)."""
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:  # bounded: a small bomb must not inflate to gigabytes
        return bounded(gzip.open(path, "rb"), MAX_INFLATED, str(path))  # type: ignore[arg-type]
    return path.open("rb")


def _xml_root(head: bytes) -> bytes:
    """The head from its first element on: BOM, blanks, XML declaration and comments skipped."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head[_PROLOG.match(head).end():]


def _is_seao_xml(head: bytes, name: str) -> bool:
    """An <export> root (SEAO's), or <avis>/<contrat> records."""
    return _SEAO_XML.match(_xml_root(head)) is not None


# (kind, sniff) pairs, tried in order; the first sniff that says yes names the parser.
SNIFFERS: list[tuple[str, Callable[[bytes, str], bool]]] = [
    ("seao_xml", _is_seao_xml),
    ("ocds", ocds.sniff),
    ("canadabuys", canadabuys.sniff),
    ("feed", feed.sniff),
]  # html is never guessed: it needs the source's selectors


def detect_format(head: bytes, name: str) -> str | None:
    """The PARSERS key for a file starting with `head` (name as a hint), None if unknown."""
    for kind, sniff in SNIFFERS:
        if sniff(head, name):
            return kind
    return None


def detect_stream(stream: BinaryIO, name: str) -> str | None:
    """detect_format on the first 4 KB, then, for JSON that shows no OCDS key there (a long
    `publisher`, `extensions` or `planning` block first), reading on to the first release or record.
    The stream must be seekable; it is left where it was."""
    start = stream.tell()
    head = stream.read(4096)
    stream.seek(start)
    kind = detect_format(head, name)
    if kind is None and head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"[") and ocds.sniff_stream(stream):
        kind = "ocds"
    return kind


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named, and the data files under folders named (recursive, sorted, hidden ones skipped)."""
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            yield path  # a missing file is the caller's to report when it opens it
            continue
        for found in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
            if not hidden and found.is_file() and found.name.lower().endswith(SUFFIXES):
                yield found
