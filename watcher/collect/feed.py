"""Any RSS or Atom feed of notices (feedparser) → Notice, with a field mapping in the options.

Publisher: any (Buyandsell.gc.ca / CanadaBuys, municipal sites, aggregators). The whole feed is
read (feeds are small; the fetching layer caps sizes); feedparser copes with ill-formed XML.
Quirks: publishers change an item's guid at each republication (Buyandsell appends a timestamp:
`data_data_sosa:48987:2023-07-28T04:05:02Z`) and some reuse one guid for several items. So: an
item whose content (title, link, description, closing, buyer, reference) was already read in the
file is skipped whatever its guid, and an item whose id is taken by another content gets the id of
its link and title instead. Across files, only `id_from = "link"` keeps ids stable for publishers
with volatile guids. Description = the text of the HTML <description> (or <content>), tags removed.
Dates without a time zone are read in America/Montreal; a date alone means midnight. A date that
does not read is an error for that item, but the notice is kept without it.
Options (all optional):
  id_prefix: prefix of the ids and the source name (default "feed"): ids are `<id_prefix>:<sha1>`.
  id_from: what the sha1 is taken of: "guid" (default; link+title when there is no guid), "link"
    (link+title when there is no link) or "link+title".
  buyer (default "author", i.e. <dc:creator>/<author>), closing, published (default the item's
    <pubDate>/<published>/<updated>), reference: where the value is, given as
    - an item key as feedparser names it: "author", "dc_date", "ev_enddate", "tags", ...;
    - "label:<Label>": the value beside <Label> in the HTML description (table row, dt/dd,
      "<strong>Label</strong> value" or a "Label: value" line), e.g. "label:Closing date";
    - "regex:<pattern>": the first group (else the match) of the pattern in the description text.
  closing_format: strptime format(s), separated by "|", for dates that are neither ISO 8601 nor
    RFC 822; French month names are accepted ("%d %B %Y à %H h %M").
  regions: region codes or names given to every item (a regional publisher): "06", "Montérégie",
    "QC", "CA-ON", "CA", a country; method, nature: one of the methods / natures, given to every item.
  region: where each item's place is read (same forms as buyer); the places found (Québec regions,
    cities, provinces, countries: collect/places.py) replace `regions` for that item.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
import time as _time
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import feedparser
from bs4 import BeautifulSoup

from ..errors import ParseError
from ..limits import MAX_FEED_BYTES
from ..models import METHODS, NATURES, Notice
from .ocds import clean, fold
from .places import places_in, vocabulary_code

MONTREAL = ZoneInfo("America/Montreal")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!ENTITY", re.I)
_MONTHS = {"janvier": "January", "janv": "January", "fevrier": "February", "fevr": "February", "fev": "February",
           "mars": "March", "avril": "April", "avr": "April", "mai": "May", "juin": "June", "juillet": "July",
           "juil": "July", "aout": "August", "septembre": "September", "sept": "September", "octobre": "October",
           "oct": "October", "novembre": "November", "nov": "November", "decembre": "December", "dec": "December"}


def html_text(value: str) -> str:
    """HTML or entity-escaped text → plain text, one line per block, spaces collapsed."""
    if re.search(r"<(?:[a-zA-Z][^>]*|/[a-zA-Z]+)>", value or ""):
        value = BeautifulSoup(value, "html.parser").get_text("\n")
    else:
        value = htmllib.unescape(value or "")
    lines = [" ".join(x.split()) for x in value.replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.replace("\u2019", "'")).encode("ascii", "ignore").decode()


def parse_when(value: Any, formats: str | None = None) -> datetime | None:
    """ISO 8601, RFC 822, feedparser time tuples or `formats` (strptime, '|'-separated) → aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, _time.struct_time):
        return datetime(*value[:6], tzinfo=timezone.utc)
    text = " ".join(str(value).split())
    when = None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            english = re.sub(r"\b(1)er\b", r"\1", _ascii(text), flags=re.I)
            english = re.sub(r"\b([a-z]+)\b\.?", lambda m: _MONTHS.get(m[1].lower(), m[0]), english, flags=re.I)
            for fmt in (formats or "").split("|"):
                try:
                    when = datetime.strptime(english, _ascii(fmt.strip()))
                    break
                except ValueError:
                    continue
    if when is None:
        raise ValueError(f"date illisible / unreadable date: {text!r}")
    return when if when.tzinfo else when.replace(tzinfo=MONTREAL)


def read_dates(values: dict[str, Any], formats: str | None) -> tuple[dict[str, datetime | None], list[str]]:
    """Each value read as a date; an unreadable one becomes None and a problem "<key>: ...", so the notice is kept."""
    dates: dict[str, datetime | None] = {}
    problems: list[str] = []
    for key, value in values.items():
        try:
            dates[key] = parse_when(value, formats)
        except ValueError as exc:
            dates[key] = None
            problems.append(f"{key}: {exc}; avis gardé sans cette date / notice kept without it")
    return dates, problems


def fixed(options: dict) -> dict:
    """The values an options block gives to every notice (regions, method, nature), checked."""
    out: dict = {}
    if "regions" in options:
        codes = [(r, vocabulary_code(r)) for r in options["regions"]]
        if bad := [r for r, c in codes if c is None]:
            raise ValueError(f"regions: région inconnue / unknown region: {', '.join(map(str, bad))}")
        out["regions"] = tuple(sorted({c for _, c in codes}))
    for key, allowed in (("method", METHODS), ("nature", NATURES)):
        if key in options:
            if options[key] not in allowed:
                raise ValueError(f"{key}: {options[key]!r} pas dans / not in {', '.join(allowed)}")
            out[key] = options[key]
    return out


def item_regions(constants: dict, place: str | None) -> dict:
    """The constant fields, with `regions` read from the item's own place when it names one."""
    found = places_in(place) if place else ()
    return constants | {"regions": found} if found else constants


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def sniff(head: bytes, name: str) -> bool:
    start = head[:2048].lower()
    return any(tag in start for tag in (b"<rss", b"<feed", b"<rdf:rdf")) and b"<html" not in start


def parse(stream: BinaryIO, name: str, options: dict | None = None) -> Iterator[Notice | ParseError]:
    options = dict(options or {})
    try:
        constants = fixed(options)
        id_from = options.get("id_from", "guid")
        if id_from not in ("guid", "link", "link+title"):
            raise ValueError(f"id_from: 'guid', 'link' ou 'link+title' attendu / expected: {id_from!r}")
    except ValueError as exc:
        yield ParseError(name, "options", str(exc), fatal=True)
        return
    data = stream.read(MAX_FEED_BYTES + 1)
    if len(data) > MAX_FEED_BYTES:
        yield ParseError(name, None, f"flux de plus de {MAX_FEED_BYTES} octets / feed larger than {MAX_FEED_BYTES}"
                                     " bytes: refused", fatal=True)
        return
    doctype = _DOCTYPE.search(data)
    if doctype and _ENTITY.search(data, doctype.end()):  # feedparser would store "&lol9;" as a title
        yield ParseError(name, None, "déclarations d'entités refusées / entity declarations refused", fatal=True)
        return
    feed = feedparser.parse(data)
    problem = feed.get("bozo_exception") if feed.get("bozo") else None
    if problem is not None and isinstance(problem, feedparser.CharacterEncodingOverride):
        problem = None
    if not feed.entries and not feed.get("version"):
        yield ParseError(name, _line(problem), f"pas un flux RSS/Atom / not an RSS or Atom feed: {problem or 'empty'}",
                         fatal=True)
        return
    prefix = str(options.get("id_prefix") or "feed")
    seen_content: set[str] = set()
    seen_ids: set[str] = set()
    for i, entry in enumerate(feed.entries, 1):
        try:
            notice, problems = _notice(entry, options, constants, prefix)
        except ValueError as exc:
            yield ParseError(name, f"item {i}", str(exc))
            continue
        content = sha1("\x1f".join(str(x) for x in (notice.title, notice.url, notice.description, notice.closing_at,
                                                    notice.buyer_name, notice.reference)))
        if content in seen_content:
            continue  # the same item again, under another guid
        seen_content.add(content)
        guid, base = clean(entry.get("id")), f"{notice.url or ''}\n{notice.title}"
        key = {"guid": guid or base, "link": notice.url or base, "link+title": base}[id_from]
        nid = sha1(key)
        if nid in seen_ids:  # guid (or link) reused by another item
            nid = sha1(base) if sha1(base) not in seen_ids else content
        seen_ids.add(nid)
        yield replace(notice, id=f"{prefix}:{nid}")
        yield from (ParseError(name, f"item {i}", f"{notice.title}: {p}") for p in problems)
    if problem is not None:
        yield ParseError(name, _line(problem), f"flux mal formé, lu en partie / ill-formed feed, read in part: {problem}",
                         fatal=True)


def _line(problem: Any) -> int | None:
    get = getattr(problem, "getLineNumber", None)
    return get() if callable(get) else None


def label_value(markup: str, label: str) -> str | None:
    """The value beside `label` in an HTML fragment: table row, dt/dd, <strong>Label</strong> value, 'Label: value'."""
    target = fold(label).rstrip(" :")
    soup = BeautifulSoup(markup or "", "html.parser")
    same = lambda tag: fold(tag.get_text(" ")).rstrip(" :") == target  # noqa: E731
    for row in soup.find_all("tr"):
        cells = row.find_all(["td", "th"], recursive=False)
        if len(cells) >= 2 and same(cells[0]):
            return cells[1].get_text(" ", strip=True)
    for dt in soup.find_all("dt"):
        if same(dt) and (dd := dt.find_next_sibling("dd")):
            return dd.get_text(" ", strip=True)
    for tag in soup.find_all(["strong", "b", "label", "span", "em"]):
        if same(tag) and isinstance(tag.next_sibling, str) and tag.next_sibling.strip(" :\xa0"):
            return tag.next_sibling.strip(" :\xa0")
    for line in html_text(markup).splitlines():
        head, sep, rest = line.partition(":")
        if sep and fold(head).strip() == target and rest.strip():
            return rest.strip()
    return None


def _value(entry: Any, markup: str, text: str, spec: str | None) -> Any:
    if not spec:
        return None
    if spec.startswith("label:"):
        return label_value(markup, spec[6:])
    if spec.startswith("regex:"):
        m = re.search(spec[6:], text, re.I)
        return (m.group(1) if m and m.re.groups else m.group(0) if m else None)
    value = entry.get(spec)
    if isinstance(value, list):
        value = ", ".join(str(v.get("term") or v.get("name") or v.get("value") or "") if isinstance(v, dict) else str(v)
                          for v in value)
    elif isinstance(value, dict):
        value = value.get("name") or value.get("value") or value.get("term")
    return value


def _notice(entry: Any, options: dict, constants: dict, prefix: str) -> tuple[Notice, list[str]]:
    markup = entry.get("summary") or next((c.get("value") for c in entry.get("content") or []), "") or ""
    text = html_text(markup)
    title, link = html_text(entry.get("title") or ""), clean(entry.get("link")) or None
    if not title and not link:
        raise ValueError("item sans titre ni lien / item without title or link")
    values = {k: _value(entry, markup, text, options.get(k)) for k in ("published", "closing") if options.get(k)}
    dates, problems = read_dates(values, options.get("closing_format"))
    # dict.get: feedparser's own get maps a missing updated_parsed to published_parsed, with a warning
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    published = dates.get("published") or parse_when(stamp)
    tags = ", ".join(clean(t.get("term")) for t in entry.get("tags") or [] if t.get("term"))
    notice = Notice(
        id=f"{prefix}:", source=prefix, title=title or link or "", url=link, description=text, notice_type=tags,
        buyer_name=clean(_value(entry, markup, text, options.get("buyer", "author"))),
        reference=clean(_value(entry, markup, text, options.get("reference"))) or None,
        closing_at=dates.get("closing"), published_at=published,
        as_of=parse_when(dict.get(entry, "updated_parsed")) or published,
        **item_regions(constants, _value(entry, markup, text, options.get("region"))),
    )
    return notice, problems
