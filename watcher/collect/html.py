"""An HTML list page of notices (a city's "appels d'offres" page, say), read with CSS selectors.

Publisher: any site that lists its calls for tenders as HTML (table rows, list items, cards).
Format: one page per call; the fetching layer follows `next_page()` up to `max_pages` pages.
Quirks: relative links are resolved against `base_url` (and a <base href> in the page); without
`base_url` a relative link gives no url (we do not guess a site's address). A declared selector
that finds nothing in an item leaves that field empty; an item without a title is an error for
that item only; a date that does not read ("à confirmer") is an error too, but the notice is
kept without that date; a page where `item` matches nothing is an
error (the page layout has probably changed). Dates without a time zone are read in
America/Montreal; a date alone means midnight.
Options (selectors are CSS, relative to the item; "selector@attr" reads an attribute instead of
the text, e.g. "time.fermeture@datetime"):
  item (required): one notice in the page, e.g. "table.appels tbody tr".
  title (required): the title inside the item.
  link: the notice's link (default: the title if it is a link, else the title's or the item's
    first a[href]); the attribute read is href unless "@attr" says otherwise.
  published, closing, buyer, reference: those values inside the item (buyer: default none).
  date_format: strptime format(s), "|"-separated, for dates that are not ISO 8601; French month
    names are accepted (use %B): "%d %B %Y à %H h %M|%d %B %Y".
  base_url: the page's address, for relative links.
  next: the "next page" link of the page (read by next_page(), not by parse()).
  max_pages: how many pages the fetching layer may follow (not read here).
  regions, method, nature: given to every notice (e.g. a city's page: regions = ["06"]).
  region: a selector for each item's place (region, city, province, country), which then replaces
    `regions` for that item (collect/places.py).
  id_prefix: ids are `<id_prefix>:<reference>`, else `<id_prefix>:<sha1 of the link, else title>`;
    default "html:<host of base_url>". Source name: "html".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from ..errors import ParseError
from ..models import Notice
from .feed import fixed, html_text, item_regions, read_dates, sha1
from .ocds import clean

_REQUIRED = ("item", "title")


def sniff(head: bytes, name: str) -> bool:
    start = head[:4096].lower()
    return b"<html" in start or b"<!doctype html" in start


def _split(spec: str) -> tuple[str, str | None]:
    """'a.lien@href' → ('a.lien', 'href'); 'td.titre' → ('td.titre', None)."""
    m = re.fullmatch(r"(.*?)@([A-Za-z_:][-\w:.]*)", spec.strip())
    return (m[1].strip(), m[2]) if m else (spec.strip(), None)


def _select(item: Tag, selector: str) -> Tag | None:
    """The first alternative of a selector list that matches ('td.titre a, td.titre': the link, else the cell)."""
    if not selector:
        return item
    for alternative in re.split(r",(?![^()\[\]]*[)\]])", selector):
        if alternative.strip() and (found := item.select_one(alternative.strip())) is not None:
            return found
    return None


def _read(item: Tag, spec: str | None) -> str | None:
    if not spec:
        return None
    selector, attr = _split(spec)
    found = _select(item, selector)
    if found is None:
        return None
    value = found.get(attr) if attr else html_text(found.decode_contents())
    value = " ".join(value) if isinstance(value, list) else value
    return clean(value) or None


def _base(soup: BeautifulSoup, base_url: str | None) -> str | None:
    tag = soup.find("base", href=True)
    href = str(tag["href"]).strip() if tag else ""
    if href and (base_url or urlsplit(href).scheme):
        return urljoin(base_url or "", href)
    return base_url or None


def _absolute(href: str | None, base: str | None) -> str | None:
    """A usable absolute URL, or None (fragments, javascript:, relative without a base)."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    if urlsplit(href).scheme in ("http", "https"):
        return href
    return urljoin(base, href) if base else None


def _link(item: Tag, options: dict) -> str | None:
    if options.get("link"):
        selector, attr = _split(options["link"])
        found = _select(item, selector)
        return str(found.get(attr or "href") or "") if found is not None else None
    title_el = _select(item, _split(options["title"])[0])
    for candidate in (title_el if title_el is not None and title_el.name == "a" else None,
                      title_el.find("a", href=True) if title_el is not None else None, item.find("a", href=True)):
        if candidate is not None and candidate.get("href"):
            return str(candidate["href"])
    return None


def _check(options: dict | None) -> dict:
    options = dict(options or {})
    if missing := [k for k in _REQUIRED if not options.get(k)]:
        raise ValueError(f"option(s) manquante(s) / missing option(s): {', '.join(missing)}")
    return options


def parse(stream: BinaryIO, name: str, options: dict | None = None) -> Iterator[Notice | ParseError]:
    try:
        options = _check(options)
        constants = fixed(options)
    except ValueError as exc:
        yield ParseError(name, "options", str(exc), fatal=True)
        return
    soup = BeautifulSoup(stream.read(), "html.parser")
    base = _base(soup, options.get("base_url"))
    host = urlsplit(options.get("base_url") or "").hostname
    prefix = str(options.get("id_prefix") or (f"html:{host}" if host else "html"))
    items = soup.select(options["item"])
    if not items:
        yield ParseError(name, None, f"aucun élément ne correspond à / nothing matches item = {options['item']!r} "
                                     "(mise en page changée ? / page layout changed?)", fatal=True)
        return
    fmt = options.get("date_format")
    for i, item in enumerate(items, 1):
        title = _read(item, options["title"])
        if not title:
            yield ParseError(name, f"item {i}", f"pas de titre / no title ({options['title']!r})")
            continue
        url = _absolute(_link(item, options), base)
        reference = _read(item, options.get("reference"))
        dates, problems = read_dates({k: _read(item, options.get(k)) for k in ("published", "closing")}, fmt)
        yield Notice(
            id=f"{prefix}:{reference or sha1(url or title)}", source="html", title=title, url=url, reference=reference,
            buyer_name=_read(item, options.get("buyer")) or "", published_at=dates["published"],
            closing_at=dates["closing"], description=html_text(item.decode_contents()),
            **item_regions(constants, _read(item, options.get("region"))),
        )
        for problem in problems:
            yield ParseError(name, f"item {i}", f"{reference or title}: {problem}")


def next_page(html: bytes, options: dict[str, Any]) -> str | None:
    """Absolute URL of the next page, or None: no `next` option, no such link, or a link to this same page."""
    if not options.get("next"):
        return None
    soup = BeautifulSoup(html, "html.parser")
    selector, attr = _split(options["next"])
    found = _select(soup, selector)
    if found is None:
        return None
    if not attr and found.name != "a":
        found = found.find("a", href=True) or found
    url = _absolute(str(found.get(attr or "href") or ""), _base(soup, options.get("base_url")))
    return None if url is None or url == options.get("base_url") else url
