"""OCDS JSON: the SEAO open data (Québec, OCDS 1.1 based, since 2021) and any other OCDS publisher.

Publisher: SEAO (Secrétariat du Conseil du trésor, Données Québec, CC-BY 4.0) weekly `hebdo_` and
monthly `mensuel_` files; any publisher of the Open Contracting Data Standard 1.0 or 1.1.
Format: a release package (`releases[]`), a record package (`records[]`: `compiledRelease`, else
its embedded releases are merged), a single release, an array of releases, or JSON lines of any
of these. Read as a stream (ijson): a 40 MB weekly file is never held whole in memory. A release
package (the usual file) is read by ijson's C code, each release built as one object, its nesting
checked on the bytes first (limits.DepthGuard); other shapes are read event by event.
Several releases of one `ocid` in a file are merged with ocdsmerge, oldest first (by date, then
release id), so the latest statement wins field by field: one notice per ocid per file; a lone
release is its own compiled release (ocdsmerge would only drop its `id` and `tag`). The file
is read twice, first as bytes only (nesting checked, ocids counted by a regular expression),
then parsed once by ijson, so a release is held only until the last release of its ocid has been
read; a stream that cannot seek is first copied to a temporary file.
SEAO quirks: UTF-8 BOM; ocid `ocds-ec9k95-<SEAO number>` gives the notice id `seao:<number>` (the
one the SEAO XML collector uses); the release `date` of tender updates and cancellations is the
first publication date, the real statement time is the release `id` (a UTC timestamp), so `as_of`
is the later of the two; `bids` is a plain array; `details.neq` (key case varies); `tender.items[].id`
is the SEAO category; no delivery region is published (regions stay empty).
Mappings: `procurementMethodDetails` ("…gré à gré" → gre_a_gre, "…invitation" → invitation, "achat
mandaté / regroupement" → other, other "…appel d'offres…" → public), else `procurementMethod` open →
public, selective → invitation, limited/direct → gre_a_gre. Cancellation (tag `tenderCancellation` or
tender status cancelled) stays a notice with "annulé / cancelled" in `notice_type`. Other
publishers' ids are `ocds:<ocid>`. A truncated file gives its notices, then an error at the byte
where reading stopped. What every publisher states beyond that (ocds_fields.py): the title (never
the ocid alone; built from lots, items, award or description when `tender.title` has no words, and
marked so), multilingual names (`name_fr`), the currency (SEAO: CAD; amounts in another currency
than the notice's are dropped), every classification with its scheme, the buyer's contact points,
and regions in the agreed vocabulary from delivery addresses (postal code, city, province,
country) and locations, else the buyer's country outside Canada. The format is found by reading
on to the first release or record (sniff_stream), not within a fixed window.
Options: none.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import ijson
from ocdsmerge import CompiledRelease
from ocdsmerge.exceptions import DuplicateIdValueWarning, OCDSMergeError

from ..codes import REGIONS
from ..errors import ParseError
from ..limits import JSON_BUFFER, DepthGuard, PacedJson, TooLarge, limit_depth, too_deep
from ..models import Bidder, Notice
from . import ocds_fields as fields
from .places import remembered

SEAO_PREFIX = "ocds-ec9k95-"
BOM = b"\xef\xbb\xbf"
MONTREAL = ZoneInfo("America/Montreal")
_COUNTED = {"releases.item.ocid", "item.ocid", "ocid"}
# Explicit rules: ocdsmerge would otherwise download the OCDS schema (no network here). Lists of
# objects without `id` (SEAO documents, classifications, references) are replaced, not appended.
_RULES = {("tag",): "omitWhenMerged", ("id",): "omitWhenMerged", **{p: "wholeListMerge" for p in (
    ("tender", "documents"), ("tender", "tenderers"), ("tender", "items", "additionalClassifications"),
    ("tender", "items", "deliveryAddresses"), ("tender", "items", "deliveryLocations"), ("awards", "suppliers"))}}
_METHODS = {"open": "public", "selective": "invitation", "limited": "gre_a_gre", "direct": "gre_a_gre"}
_NATURES = {"goods": "goods", "services": "services", "consultingservices": "services", "works": "construction"}
_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-", "\xa0": " "})


def fold(text: Any) -> str:
    """Lower case, no accents, typographic apostrophes and dashes made plain: for comparisons.
    Strings are remembered: a file repeats the same statuses, schemes and methods."""
    if isinstance(text, str):
        return _fold_str(text)
    return _fold(text)


def _fold(text: Any) -> str:
    text = unicodedata.normalize("NFKD", str(text or "").translate(_PLAIN))
    return " ".join(text.encode("ascii", "ignore").decode().lower().split())


_fold_str = lru_cache(maxsize=4096)(_fold)


def clean(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def when_of(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime; a date or a naive time is read in America/Montreal."""
    try:
        when = datetime.fromisoformat(value.strip()) if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None
    return when.replace(tzinfo=MONTREAL) if when and not when.tzinfo else when


_REGION_KEYS = {re.sub(r"[^a-z]+", " ", fold(name)).strip(): code for code, name in REGIONS.items()}
_REGION_KEYS.update({"gaspesie": "11", "saguenay lac st jean": "02", "bas st laurent": "01"})


@remembered
def region_code(value: Any) -> str | None:
    """'06', '6', '06 - Montréal', 'Montérégie (16)', 'Saguenay-Lac-Saint-Jean' → official code; else None.

    Numbers are read as the official codes (Institut de la statistique du Québec); 'QC', 'Québec'
    (the province) and unknown names give None: we do not guess a region.
    """
    text = str(value or "").strip()
    m = re.match(r"(?:r[ée]gion\s*)?(\d{1,2})(?:\s*[-–:.)]|\s|$)", text, re.I) or re.search(r"\((\d{1,2})\)\s*$", text)
    if m and 1 <= int(m[1]) <= 17:
        return f"{int(m[1]):02d}"
    return _REGION_KEYS.get(re.sub(r"[^a-z]+", " ", fold(text)).strip())


def sniff(head: bytes, name: str) -> bool:
    """JSON whose first bytes show OCDS keys."""
    start = head.removeprefix(BOM).lstrip()[:1]
    return start in (b"{", b"[") and any(k in head for k in (b'"ocid"', b'"releases"', b'"records"'))


def sniff_stream(stream: BinaryIO, limit: int = 256 << 20) -> bool:
    """JSON read as a stream up to its first release, record or ocid, whatever comes before it
    (`publisher`, `extensions`, a long `planning`…): the first 4 KB may hold none of them. The
    stream is put back where it was."""
    start = stream.tell()
    try:
        if stream.read(3) != BOM:
            stream.seek(start)
        begin = stream.tell()
        for prefix, event, value in limit_depth(ijson.parse(PacedJson(stream), multiple_values=True, buf_size=JSON_BUFFER)):
            if prefix in _COUNTED or (event == "start_map" and prefix in ("releases.item", "records.item")):
                return True
            if stream.tell() - begin > limit:
                return False
        return False
    except (ijson.JSONError, ValueError, UnicodeDecodeError):
        return False
    except TooLarge:
        return True  # JSON all the same: the parser refuses it with the reason
    finally:
        stream.seek(start)


def parse(stream: BinaryIO, name: str, options: dict | None = None) -> Iterator[Notice | ParseError]:
    stream, start = _seekable(stream)
    if stream.read(3) != BOM:
        stream.seek(start)
    start = stream.tell()
    counts, refused_at = _package_counts(stream, name)  # first pass: how many releases each ocid has
    stream.seek(start)
    if counts is not None:  # a release package (the usual file): objects built by ijson's C code
        units = _package_releases(stream, refused_at)
    else:  # records, bare releases, arrays, JSON lines: read event by event
        counts = Counter()
        try:  # (errors are reported by the second pass)
            counts.update(v for p, e, v in limit_depth(ijson.parse(PacedJson(stream), multiple_values=True, buf_size=JSON_BUFFER), name)
                          if e == "string" and p in _COUNTED)
        except (ijson.JSONError, ValueError, TooLarge):  # reported by the second pass
            pass
        stream.seek(start)
        units = _units(stream, name)
    pending: dict[str, list[dict]] = {}
    error = None
    try:
        for label, release in units:
            if label.startswith("record"):  # one ocid, complete: no need to wait for other releases
                compiled = release.get("compiledRelease")
                full = [r for r in map(_d, _l(release.get("releases"))) if "tender" in r or "awards" in r]
                yield (_convert(name, label, [compiled] if isinstance(compiled, dict) else full) if compiled or full
                       else ParseError(name, label, "record vide / record without compiledRelease or releases"))
                continue
            ocid = release.get("ocid")
            if not isinstance(ocid, str) or not ocid.strip():
                if "url" not in release or "tender" in release:  # a linked release (url only) is no error
                    yield ParseError(name, label, "release sans ocid / release without an ocid")
                continue
            group = pending.setdefault(ocid, [])
            group.append(release)
            if len(group) >= counts.get(ocid, 1):
                yield _convert(name, label, pending.pop(ocid))
    except (ijson.JSONError, ValueError, TooLarge) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, TooLarge):
            message = f"JSON invalide ou tronqué / invalid or truncated JSON: {message}"
        error = ParseError(name, stream.tell(), message, fatal=True)
    for ocid, group in pending.items():  # ocids whose last release was cut off (truncated file)
        yield _convert(name, ocid, group)
    if error:
        yield error


def _seekable(stream: BinaryIO) -> tuple[BinaryIO, int]:
    """The stream itself when it can seek (read twice), else a copy in a temporary file."""
    try:
        if stream.seekable():
            return stream, stream.tell()
    except (AttributeError, OSError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool, 0  # type: ignore[return-value]


def _package_counts(stream: BinaryIO, name: str) -> tuple[Counter | None, int | None]:
    """For a single release package: (releases per ocid, the byte where nesting passes the limit or
    None), the bytes read once behind a DepthGuard, ocids found by a regular expression (no JSON
    parse: ijson reads the file once, in the second pass). (None, None) for any other shape: a
    first value whose keys before `releases` name `ocid`, `records` or `compiledRelease`, or
    several values (JSON lines). The stream is left anywhere."""
    start = stream.tell()
    try:
        events = limit_depth(ijson.parse(PacedJson(stream), buf_size=JSON_BUFFER), name)
        if next(events, None) != ("", "start_map", None):
            return None, None
        for prefix, event, value in events:
            if prefix == "" and event == "map_key" and value in ("ocid", "records", "compiledRelease"):
                return None, None
            if prefix == "" and event == "map_key" and value == "releases":
                break
        else:
            return None, None
    except (ijson.JSONError, ValueError, UnicodeDecodeError, TooLarge):
        return None, None
    stream.seek(start)
    guard = DepthGuard(stream)
    counter = _OcidCounter()
    try:
        while counter.feed(guard.read(JSON_BUFFER)):
            pass
    except TooLarge:  # reported by the second pass
        if guard.refused:  # too deep: the second pass reads up to there
            return counter.counts, start + guard.passed
    if guard.values > 1:
        return None, None
    if counter.escaped:  # an "ocid" key may be written with escapes: counted by ijson instead
        stream.seek(start)
        return _parsed_counts(stream)
    return counter.counts, None


def _parsed_counts(stream: BinaryIO) -> tuple[Counter, int | None]:
    """Releases per ocid as ijson reads them (behind a DepthGuard): for a file whose bytes may
    spell an `ocid` key with escapes."""
    start, guard, counts = stream.tell(), DepthGuard(stream), Counter()
    try:
        counts.update(o for o in ijson.items(guard, "releases.item.ocid", multiple_values=True, buf_size=JSON_BUFFER)
                      if isinstance(o, str))
    except (ijson.JSONError, ValueError, TooLarge):  # reported by the second pass
        if guard.refused:
            return counts, start + guard.passed
    return counts, None


# An "ocid" key and its string value, as JSON writes them (whitespace: space, tab, CR, LF).
_OCID_KEY = re.compile(rb'"ocid"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*(?:\\.[^"\\]*)*)"', re.S)
_OCID_CUT = re.compile(rb'"ocid"[ \t\r\n]*(?::[ \t\r\n]*(?:"[^"\\]*(?:\\.[^"\\]*)*\\?)?)?\Z', re.S)  # ... cut by the block's end
_ESCAPED_LETTER = re.compile(rb"\\u006[349fF]")  # "c", "d", "i" or "o" written \u0063…: a key could hide


class _OcidCounter:
    """Counts the string values of "ocid" keys in JSON bytes fed block by block (a key or value cut
    between two blocks is read whole). Exact for a release package whose releases alone have an
    `ocid` (an "ocid" key nested deeper is counted too: its ocid's releases are then merged at the
    end of the file, as those of a file cut off: the same notice). `escaped`: a key's letters or
    an ocid may be written with escapes (or not in UTF-8), which only ijson reads as it does."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.escaped = False
        self._carry = b""

    def feed(self, data: bytes) -> bool:
        """Count the ocids of `data` (b"": the end); False at the end."""
        if self.escaped:
            return bool(data)
        text = self._carry + data
        if b"\\" in text and _ESCAPED_LETTER.search(text):
            self.escaped = True
        end = 0
        for match in _OCID_KEY.finditer(text):
            value, end = match[1], match.end()
            if b"\\" in value:  # an escape in an ocid: decoded as ijson decodes it, by ijson
                self.escaped = True
                continue
            try:
                self.counts[value.decode()] += 1
            except UnicodeDecodeError:  # ijson stops there (or reads it its own way): let it count
                self.escaped = True
        cut = text.rfind(b'"ocid"', end)
        if cut < 0 or not _OCID_CUT.match(text, cut):
            cut = max(end, len(text) - 5)  # b'"ocid' or b'\\u006' may begin in the last 5 bytes
        self._carry = text[cut:]
        return bool(data)


def _package_releases(stream: BinaryIO, refused_at: int | None) -> Iterator[tuple[str, dict]]:
    """("release #n", release) of a release package, each built by ijson's C code; TooLarge at
    `refused_at`, the byte the first pass found nested too deep (the releases before it are read)."""
    source = _Until(stream, refused_at) if refused_at is not None else stream
    n = 0
    for release in ijson.items(source, "releases.item", multiple_values=True, use_float=True, buf_size=JSON_BUFFER):
        if isinstance(release, dict):  # as the event path: other items are not releases
            n += 1
            yield f"release #{n}", release


class _Until(io.RawIOBase):
    """The stream up to byte `end`; reading on raises TooLarge (nesting too deep there)."""

    def __init__(self, inner: BinaryIO, end: int) -> None:
        self._inner, self._end = inner, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        left = self._end - self._inner.tell()
        if left <= 0:
            raise TooLarge(too_deep())
        data = self._inner.read(min(len(buffer), left))
        buffer[:len(data)] = data
        return len(data)


def _units(stream: BinaryIO, name: str = "") -> Iterator[tuple[str, dict]]:
    """(label, object) in file order, one built at a time: releases, records, top-level releases."""
    builder = top = None
    unit, top_array, n = "", False, 0
    for prefix, event, value in limit_depth(ijson.parse(PacedJson(stream), multiple_values=True, use_float=True,
                                                                  buf_size=JSON_BUFFER), name):
        if builder is not None:
            builder.event(event, value)
            if prefix == unit and event == "end_map":
                n += 1
                yield f"{'record' if unit == 'records.item' else 'release'} #{n}", builder.value
                builder = None
            continue
        if prefix == "" and event in ("start_map", "start_array"):
            top_array, top = event == "start_array", None if event == "start_array" else ijson.ObjectBuilder()
        if event == "start_map" and (prefix == "item" if top_array else prefix in ("releases.item", "records.item")):
            unit, builder = prefix, ijson.ObjectBuilder()
            builder.event(event, value)
        elif top is not None:
            top.event(event, value)
            if prefix == "" and event == "end_map":
                obj, top = top.value, None
                if "ocid" in obj and ("compiledRelease" in obj or "releases" not in obj):
                    n += 1
                    yield f"{'record' if 'compiledRelease' in obj else 'release'} #{n}", obj


def _merge(releases: list[dict]) -> dict:
    merged = CompiledRelease(merge_rules=_RULES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicateIdValueWarning)
        for release in releases:  # already in order: append() does not re-sort on the raw date string
            merged.append(release)
    return merged.asdict()


_STAMP = re.compile(r"20\d{12}")


def _stated_at(release: dict) -> datetime | None:
    """The release date; for SEAO, the later of it and the release id (a UTC timestamp)."""
    when, rid = when_of(release.get("date")), str(release.get("id") or "")
    if _STAMP.fullmatch(rid) and str(release.get("ocid") or "").startswith(SEAO_PREFIX):
        stamp = _stamp(rid)
        when = max(when, stamp) if when else stamp
    return when


def _stamp(rid: str) -> datetime:
    """A 14-digit UTC timestamp read at fixed widths, as strptime("%Y%m%d%H%M%S") would, without its
    cost: by fromisoformat in C; a date it refuses goes through the constructor, whose error is raised."""
    try:
        return datetime.fromisoformat(f"{rid[:8]}T{rid[8:]}+00:00")
    except ValueError:
        return datetime(int(rid[:4]), int(rid[4:6]), int(rid[6:8]), int(rid[8:10]), int(rid[10:12]), int(rid[12:]),
                        tzinfo=timezone.utc)


def _convert(name: str, label: str, releases: list[dict]) -> Notice | ParseError:
    """One notice from the releases of one ocid: merged oldest first, the last one's tags. Each
    release's time is read once (it orders them and gives the notice's as_of)."""
    try:  # a release whose time cannot be read (an id that is no real time) fails its notice, not the file
        times = [_stated_at(r) for r in releases]
        order = sorted(range(len(releases)), key=lambda i: (times[i] or _EARLIEST, str(releases[i].get("id") or "")))
        releases = [releases[i] for i in order]
        as_of = max((t for t in times if t), default=None)
        compiled = _merge(releases) if len(releases) > 1 else releases[0]
        return _notice(compiled, releases[-1], as_of)
    except (OCDSMergeError, TypeError, ValueError, AttributeError) as exc:
        return ParseError(name, label, f"{releases[-1].get('ocid')}: release illisible / unreadable release: {exc}")


_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)  # a release without a time sorts first


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _amount(value: Any) -> float | None:
    value = value.get("amount") if isinstance(value, dict) else value
    try:
        return None if value in (None, "") or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _ci(mapping: dict, key: str) -> Any:
    """The value of the first key that is `key` in any case (`key` in lower case)."""
    for k, v in mapping.items():
        if k == key or str(k).lower() == key:
            return v
    return None


_FO = re.compile(r"^FO-(\d{10})$")
_NEQ = re.compile(r"\d{10}")
_NOT_DIGITS = re.compile(r"\D")
_CATEGORY = re.compile(r"[A-Z]{1,3}\d{1,2}")


def _neq(party: dict, ref: dict) -> str | None:
    """details.neq (any case), an identifier whose scheme says NEQ, or the SEAO party id FO-<NEQ>."""
    for holder in (party, ref):  # the first good one, in this order (most often the first)
        details = holder.get("details")
        if isinstance(details, dict) and (v := _good_neq(_ci(details, "neq"))):
            return v
    for holder in (party, ref):
        ident = holder.get("identifier")
        if isinstance(ident, dict) and "NEQ" in str(ident.get("scheme")) and (v := _good_neq(ident.get("id"))):
            return v
    return next((v for v in map(_good_neq, _FO.findall(str(ref.get("id") or party.get("id") or ""))) if v), None)


def _good_neq(value: Any) -> str | None:
    v = str(value or "").strip()
    return v if _NEQ.fullmatch(v) and v != "1234567890" else None  # SEAO's placeholder


def _method(tender: dict) -> str:
    details = fold(tender.get("procurementMethodDetails"))
    if "gre a gre" in details:
        return "gre_a_gre"
    if "invitation" in details:
        return "invitation"
    if "achat mandate" in details or "regroupement" in details:
        return "other"  # the tender was run by another body (group purchase), as SEAO XML type 16
    if "appel d'offres" in details:
        return "public"
    return _METHODS.get(fold(tender.get("procurementMethod")), "other")


def _bidders(release: dict, parties: dict[str, dict], currency: str) -> tuple[tuple[Bidder, ...], date | None]:
    """Award suppliers (winners), then other tenderers and bidders; SEAO publishes winners mostly.
    Amounts in another currency than the notice's are left out (not converted, not mislabelled)."""
    bids: dict[str, float | None] = {}
    refs: list[dict] = []
    given = release.get("bids")  # SEAO: mostly none (a falsy value holds no bid either)
    for bid in map(_d, _l(given) + _l(_d(given).get("details")) if given else ()):
        for ref in [_d(t) for t in _l(bid.get("tenderers"))] or ([{"id": bid["id"]}] if bid.get("id") else []):
            bids[str(ref.get("id"))] = _amount(fields.in_currency(bid.get("value"), currency))
            refs.append(ref)
    out: dict[str, Bidder] = {}
    awarded: list[date] = []
    contracts = [_d(c) for c in _l(release.get("contracts"))]
    for award in map(_d, _l(release.get("awards"))):
        status = fold(award.get("status"))
        if status in ("cancelled", "unsuccessful"):
            continue
        amount = _amount(fields.in_currency(award.get("value"), currency))
        if amount is None:
            amount = _amount(fields.in_currency(next((c.get("value") for c in contracts
                                                      if str(c.get("awardID")) == str(award.get("id"))), None), currency))
        if when := when_of(award.get("date")):
            awarded.append(when.date())
        for i, ref in enumerate(map(_d, _l(award.get("suppliers")))):
            key, party = str(ref.get("id") or ref.get("name")), parties.get(str(ref.get("id")), {})
            out[key] = Bidder(clean(ref.get("name") or party.get("name")), _neq(party, ref), bids.get(key),
                              status in ("", "active"), amount if i == 0 else None)  # one amount per award
    refs += _l(_d(release.get("tender")).get("tenderers"))
    refs += [p for p in parties.values() if "tenderer" in _l(p.get("roles"))]
    for ref in map(_d, refs):
        key, party = str(ref.get("id") or ref.get("name")), parties.get(str(ref.get("id")), {})
        if key not in out and (ref.get("name") or party.get("name")):
            out[key] = Bidder(clean(ref.get("name") or party.get("name")), _neq(party, ref), bids.get(key))
    return tuple(out.values()), min(awarded, default=None)


def _is_true(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "oui", "yes")


def _notice(release: dict, latest: dict, as_of: datetime | None) -> Notice:
    ocid = str(release["ocid"]).strip()
    seao = ocid.startswith(SEAO_PREFIX)
    tender, period = _d(release.get("tender")), _d(_d(release.get("tender")).get("tenderPeriod"))
    parties = {str(p.get("id")): p for p in map(_d, _l(release.get("parties"))) if p.get("id")}
    ref = _d(release.get("buyer")) or _d(tender.get("procuringEntity"))
    buyer = parties.get(str(ref.get("id"))) or next((p for p in parties.values() if "buyer" in _l(p.get("roles"))), {})
    municipal = _ci(_d(buyer.get("details")), "municipal")
    items = [_d(i) for i in _l(tender.get("items"))]
    classes = [_d(tender.get("classification"))] + [_d(i.get("classification")) for i in items]
    classes += [_d(c) for i in items for c in _l(i.get("additionalClassifications"))]
    unspsc = [_NOT_DIGITS.sub("", str(c["id"])) for c in classes if fold(c.get("scheme")) == "unspsc" and c.get("id")]
    codes = [str(i.get("id", "")).strip().upper() for i in items] if seao else []
    categories = [c for c in codes if _CATEGORY.fullmatch(c)]
    tags = [str(t) for t in _l(latest.get("tag")) if t != "compiled"]
    cancelled = "tenderCancellation" in tags or fold(tender.get("status")) == "cancelled"
    parts = (",".join(tags), "annulé / cancelled" if cancelled else "", clean(tender.get("procurementMethodDetails")))
    nature = _NATURES.get(fold(tender.get("mainProcurementCategory")).replace(" ", ""), "other")
    if nature == "other" and categories:
        nature = {"C": "construction", "G": "goods", "S": "services"}.get(categories[0][0], "other")
    notice_kinds = ("tenderNotice", "awardNotice", "contractNotice")
    url = next((d["url"] for d in map(_d, _l(tender.get("documents"))) if d.get("url")
                and (seao and "seao" in str(d["url"]) or d.get("documentType") in notice_kinds)), None)
    currency = "CAD" if seao else fields.currency(release)
    bidders, awarded_on = _bidders(release, parties, currency)
    buyer_name = fields.text(ref, "name") or fields.text(buyer, "name")
    title, built = fields.title(release, buyer_name, ocid)
    contract_start, contract_end = fields.contract_period(release)
    contacts = fields.contacts(buyer, ref, parties.get(str(_d(tender.get("procuringEntity")).get("id")), {}),
                               _d(tender.get("procuringEntity")))
    return Notice(
        id=f"seao:{ocid[len(SEAO_PREFIX):]}" if seao else f"ocds:{ocid}", source="seao" if seao else "ocds",
        title=title, buyer_name=buyer_name, title_built=built, currency=currency, codes=fields.codes(release),
        contacts=contacts,
        buyer_id=clean(ref.get("id") or buyer.get("id") or _d(ref.get("identifier")).get("id")) or None,
        municipal=None if municipal in (None, "") else _is_true(municipal),
        reference=clean(tender.get("id")) or None, url=url, notice_type=" - ".join(x for x in parts if x),
        method=_method(tender), nature=nature, categories=tuple(dict.fromkeys(categories)),
        unspsc=tuple(dict.fromkeys(unspsc)), regions=fields.regions(release, buyer or ref, ocid, _is_true(municipal)),
        published_at=when_of(tender.get("datePublished") or period.get("startDate")) or when_of(release.get("date")),
        closing_at=when_of(period.get("endDate")), awarded_on=awarded_on,
        contract_start=contract_start, contract_end=contract_end,
        estimated_value=_amount(fields.in_currency(tender.get("value"), currency)),
        description=str(tender.get("description") or "").strip(), bidders=bidders, as_of=as_of,
    )
