"""Limits at the edge: what one hostile or broken record or file may cost, and how its text is
made harmless before it is stored, judged, printed or mailed.

Why here, once: every source kind and `watcher import` pass through the same few gates, so one
hostile notice (a NUL byte PostgreSQL refuses, a terminal escape, a right-to-left override, a
CR/LF in a URL, a 10 MB title) costs that notice a truncation or a dropped field, never the run.
Pure functions and constants; the numbers are measured in benchmarks/hostile_limits.py.
"""

from __future__ import annotations

import hashlib
import io
import re
from itertools import accumulate
from dataclasses import replace
from typing import BinaryIO
from urllib.parse import urlsplit

from .errors import WatcherError
from .models import Bidder, Notice

MiB = 1024 * 1024
MAX_TITLE = 1_000  # characters of a title (SEAO's longest real title is ~600)
MAX_TEXT = 100_000  # characters of a description (SEAO descriptions stay under 20,000)
MAX_FIELD = 2_000  # characters of any other text field: buyer, reference, notice type, bidder
MAX_URL = 2_000  # characters of a notice URL
MAX_EXTRACT = 50_000  # characters the requirement extractor reads (its regexes are linear but many)
MAX_JSON_DEPTH = 64  # levels of nesting in JSON (OCDS needs about 8)
JSON_BUFFER = 64 * 1024  # bytes ijson reads at once (a long string costs one copy per buffer: keep it large)
JSON_DENSE = 1024  # ... but a buffer with more brackets than this is handed over in JSON_SLICE pieces:
JSON_SLICE = 4096  # ijson builds every event of a buffer (with its prefix) before yielding the first, so
# 64 KB of nested brackets would cost (65536/8)² bytes of prefixes (750 MB) before limit_depth sees one
MAX_INFLATED = 1024 * MiB  # bytes a compressed file given to `watcher import` may inflate to (SEAO: < 300 MB)
MAX_FEED_BYTES = 64 * MiB  # an RSS/Atom document is parsed whole (feedparser): bytes read at most
ELLIPSIS = "…"

# C0 and C1 controls (terminal escapes start with ESC or CSI), DEL, bidirectional overrides and
# isolates (a right-to-left override reverses what a reader sees), the BOM. Tab and newline are
# kept in multi-line text only; CR is dropped (CRLF becomes LF).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_URL_SPACE = re.compile("[\x00-\x20\x7f-\x9f]")  # no space nor control of any kind in a URL (a regex: a loop was 4 % of rendering)
_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
# Any character clean_text would change in single-line text (a control, a bidi mark, a line break).
_NOT_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029]")
# A URL safe_url gives back as it is: http(s), a plain host name, printable ASCII only.
_PLAIN_URL = re.compile(r"(?i:https?)://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][!-~]*)?")


class TooLarge(WatcherError):
    """A file or a structure passed one of the limits above: refused, with the limit in the message."""

    hint = ("le fichier dépasse une limite de sécurité; s'il est légitime, découpez-le / the file passes a safety"
            " limit; if it is legitimate, split it")


def clean_text(value: str | None, limit: int = MAX_FIELD, multiline: bool = False) -> str:
    """Text without control or bidi characters, at most `limit` characters (an ellipsis marks a cut).
    Single-line text gets its line breaks and tabs turned into spaces."""
    if not value:
        return "" if value is None else value
    if len(value) > 4 * limit:  # cut before the regexes: a 10 MB title costs no more than a long one
        value = value[:4 * limit]
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    value = _CONTROLS.sub("", value.replace("\r\n", "\n"))
    if len(value) > limit:
        value = value[:limit - 1].rstrip() + ELLIPSIS
    return value


def safe_url(value: str | None) -> str | None:
    """The URL if it is a plain http(s) URL with a host, no space, no control character and not too
    long; else None (a javascript: link or a header-splitting CR/LF is dropped, never "repaired")."""
    if not value:
        return None
    url = value.strip()
    if len(url) > MAX_URL or _URL_SPACE.search(url) or _CONTROLS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def clean_notice(notice: Notice) -> Notice:
    """The notice with every text field cleaned and bounded and its URL kept only if safe. The same
    notice comes back (no copy) when nothing needed cleaning, the usual case, found by one search
    over its text (an import checks every notice: the field by field path cost a third of it)."""
    return notice if _is_clean(notice) else _cleaned(notice)


def _is_clean(notice: Notice) -> bool:
    """True when _cleaned would give `notice` back unchanged (False sends it there: it may still be)."""
    if len(notice.id) > 80 or not (notice.url is None or len(notice.url) <= MAX_URL and _PLAIN_URL.fullmatch(notice.url)):
        return False
    line = [notice.id]
    for name, limit, multiline in _TEXT_FIELDS:
        value = getattr(notice, name)
        if isinstance(value, str) and value:
            if len(value) > limit or multiline and _CONTROLS.search(value):
                return False
            if not multiline:
                line.append(value)
    for name in ("categories", "unspsc", "regions"):
        for code in getattr(notice, name):
            if not (isinstance(code, str) and 0 < len(code) <= 40):
                return False
            line.append(code)
    for b in notice.bidders:
        if not isinstance(b.name, str) or len(b.name) > MAX_FIELD or b.neq and not (isinstance(b.neq, str) and len(b.neq) <= 20):
            return False
        line.append(b.name)
        if b.neq:
            line.append(b.neq)
    return not _NOT_LINE.search("".join(line))


def _cleaned(notice: Notice) -> Notice:
    """clean_notice field by field."""
    changes: dict = {}
    key = clean_text(notice.id, 1_000)
    if len(key) > 80:  # the key column's width: keep it unique rather than cut it
        key = f"{key[:60]}~{hashlib.sha256(notice.id.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"
    if key != notice.id:
        changes["id"] = key
    for name, limit, multiline in _TEXT_FIELDS:
        value = getattr(notice, name)
        if isinstance(value, str) and value:
            cleaned = clean_text(value, limit, multiline)
            if cleaned != value:
                changes[name] = cleaned
    if notice.url is not None and safe_url(notice.url) != notice.url:
        changes["url"] = safe_url(notice.url)
    for name in ("categories", "unspsc", "regions"):
        codes = getattr(notice, name)
        kept = tuple(c for c in (clean_text(str(c), 40) for c in codes) if c)
        if kept != tuple(codes):
            changes[name] = kept
    bidders = tuple(_clean_bidder(b) for b in notice.bidders)
    if bidders != notice.bidders:
        changes["bidders"] = bidders
    return replace(notice, **changes) if changes else notice


_TEXT_FIELDS = (
    ("source", 40, False), ("reference", 120, False), ("title", MAX_TITLE, False), ("buyer_name", MAX_FIELD, False),
    ("buyer_id", 120, False), ("notice_type", 200, False), ("description", MAX_TEXT, True),
)


def _clean_bidder(b: Bidder) -> Bidder:
    name, neq = clean_text(b.name), clean_text(b.neq, 20) if b.neq else b.neq
    return b if (name, neq) == (b.name, b.neq) else replace(b, name=name, neq=neq)


class BoundedReader(io.RawIOBase):
    """A raw stream that raises TooLarge once more than `limit` bytes were read from `inner` (a
    decompressing stream): a 4 MB gzip bomb stops at the limit instead of filling memory."""

    def __init__(self, inner: BinaryIO, limit: int, name: str) -> None:
        self._inner, self._limit, self._name, self._read = inner, limit, name, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # a gzip file can seek (parsers that read twice need it)
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._read = self._inner.seek(offset, whence)  # the limit counts positions, not bytes re-read
        return self._read

    def tell(self) -> int:
        return self._read

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(buffer), self._limit + 1 - self._read) or 1)
        self._read += len(data)
        if self._read > self._limit:
            raise TooLarge(f"{self._name}: plus de {self._limit} octets une fois décompressé / more than {self._limit}"
                           " bytes once decompressed: refused (compression bomb?)")
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def limit_depth(events, name: str = "", limit: int = MAX_JSON_DEPTH):
    """Pass ijson (prefix, event, value) events through, raising TooLarge past `limit` levels of
    nesting: 40,000 nested brackets in an 80 KB file would otherwise cost gigabytes of prefixes."""
    depth = 0
    for item in events:
        event = item[1]
        if event in ("start_map", "start_array"):
            depth += 1
            if depth > limit:
                raise TooLarge(too_deep(limit))
        elif event in ("end_map", "end_array"):
            depth -= 1
        yield item


class PacedJson(io.RawIOBase):
    """A file-like for ijson: large reads, except where the bytes are dense with brackets, which are
    handed over in small slices so that limit_depth refuses deep nesting before it costs memory.
    (readinto, not read: ijson's C backend mis-parses short reads through read.)"""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner, self._pending = inner, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = self._inner.read(JSON_BUFFER)
        chunk = self._pending[:len(buffer)]
        if chunk.count(b"[") + chunk.count(b"{") > JSON_DENSE:
            chunk = chunk[:JSON_SLICE]
        self._pending = self._pending[len(chunk):]
        buffer[:len(chunk)] = chunk
        return len(chunk)


def bounded(inner: BinaryIO, limit: int, name: str) -> io.BufferedReader:
    """`inner` behind a BoundedReader, buffered (peek works, parsers read it as any file)."""
    return io.BufferedReader(BoundedReader(inner, limit, name), buffer_size=64 * 1024)


# Bytes that are not brackets (deleted to leave the structure) and each bracket's step in depth.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'[]{}"')  # ... and quotes
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class DepthGuard(io.RawIOBase):
    """A file-like for ijson's C object builders (`ijson.items`), where no Python code sees the
    events limit_depth checks while the C code builds a prefix per level: the bytes are scanned
    first (brackets outside strings, in C: bytes.replace, translate, split on the few quotes left,
    pairs of brackets removed in rounds; a sixth of ijson's own time) and handed over only up to
    the bracket that passes `limit` levels, so the records before it are read; the next read
    raises TooLarge. `values` counts the top-level arrays and objects closed so far (more than
    one: JSON lines); `passed` the bytes handed over."""

    def __init__(self, inner: BinaryIO, limit: int = MAX_JSON_DEPTH) -> None:
        self._inner, self._limit = inner, limit
        self._pending, self.refused = b"", False
        self._depth, self._in_string, self._carry = 0, False, b""
        self.values = self.passed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._pending:
            if self.refused:
                raise TooLarge(too_deep(self._limit))
            self._pending = self._scan(self._inner.read(JSON_BUFFER))
            if not self._pending and self.refused:  # the first byte passes the limit: not an end of file
                raise TooLarge(too_deep(self._limit))
        chunk = self._pending[:len(buffer)]
        self._pending = self._pending[len(chunk):]
        self.passed += len(chunk)
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def _scan(self, data: bytes) -> bytes:
        """`data` as far as it stays within the limit; the scan state moves past it."""
        depth, in_string, carry = self._depth, self._in_string, self._carry
        text = carry + data
        body = text.rstrip(b"\\")  # a run of backslashes at the end is read with what follows it
        self._carry = text[len(body):]
        # Escapes gone, then every byte but brackets and quotes (a backslash left escapes another
        # character), then empty strings: most strings hold no bracket, and a pair of adjacent quotes
        # joins two stretches on the same side of a string. Few quotes are left to split on.
        if b"\\" in body:
            body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
        skeleton = body.translate(None, _NOT_SKELETON).replace(b'""', b"")
        parts = skeleton.split(b'"')
        brackets = b"".join(parts[1::2] if in_string else parts[0::2]) if len(parts) > 1 else b"" if in_string else skeleton
        if len(parts) % 2 == 0:
            self._in_string = not in_string
        if not brackets:
            return data
        if self._fits(brackets, depth):
            return data
        running = list(accumulate(map(_STEP.__getitem__, brackets), initial=depth))
        if max(running) > self._limit:
            self.refused = True
            return data[:_first_past(data, self._limit, depth, in_string, in_string and len(carry) % 2 == 1)]
        self.values += running.count(0) - (depth == 0)
        self._depth = running[-1]
        return data

    def _fits(self, brackets: bytes, depth: int) -> bool:
        """True (and the depth moved on) when `brackets`, read from `depth`, can neither pass the
        limit nor close a top-level value, shown without a step per bracket: innermost pairs are
        removed in rounds (as many rounds as the chunk's pairs nest), leaving closers then openers;
        the depth never passes `depth` + rounds + max(0, openers - closers) and never falls below
        `depth` - closers. False: the chunk is read bracket by bracket (near the limit, at the end
        of a value)."""
        rest, rounds = brackets.translate(_PARENS), 0
        while b"()" in rest:
            rounds += 1
            if depth + rounds > self._limit:
                return False
            rest = rest.replace(b"()", b"")
        closers = rest.count(b")")
        openers = len(rest) - closers
        if depth - closers <= 0 or depth + rounds + max(0, openers - closers) > self._limit:
            return False
        self._depth = depth - closers + openers
        return True


def _first_past(data: bytes, limit: int, depth: int, in_string: bool, escaped: bool) -> int:
    """The offset of the bracket of `data` that opens level `limit` + 1 (a byte at a time: only for
    the chunk of a refused file)."""
    for i, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return i
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return len(data)


def too_deep(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON imbriqué sur plus de {limit} niveaux / JSON nested deeper than {limit} levels: refused"
