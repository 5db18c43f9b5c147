"""What an OCDS release says beyond the basics, read the same way for every publisher (issue 14):
a title that is never the ocid alone, the currency of its amounts, every classification code with
its scheme, the buyer's contact persons, and the places of delivery in the agreed region vocabulary.

Publishers differ (tests/data/ocds/publishers/README.md): Contracts Finder puts its CPV code in
`tender.classification`; SECOP I gives a contract number as the title and a classification
without `id`; CDMX states the award in USD and the tender in MXN; OCDS 1.0 keeps the contact in
`buyer.contactPoint`; multilingual fields come as `title_fr`, `name_es`… Pure functions.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from ..models import Code, Contact
from . import places
from .places import address_regions, country_code, normalise, place_regions

_WORDS = re.compile(r"[^\W\d_]{3,}")  # a title needs a word of 3 letters, not only a reference number
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_SUMMARY = 140  # a title built from a description keeps its first sentence, at most this long


def d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def lst(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def text(obj: dict, key: str, language: str = "fr") -> str:
    """A multilingual OCDS field: `key`, else its variant in `language`, else any variant (`title_es`)."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    prefix = key + "_"
    variants = [k for k in obj if isinstance(k, str) and k.startswith(prefix)]
    if not variants:  # the usual case: no multilingual variant
        return ""
    variants.sort(key=lambda k: (k != f"{key}_{language}", k))
    return next((" ".join(obj[k].split()) for k in variants if isinstance(obj[k], str) and obj[k].strip()), "")


def _worded(value: str) -> str:
    return value if _WORDS.search(value) else ""


def _summary(value: str) -> str:
    first = re.split(r"(?<=[.!?])\s", value, maxsplit=1)[0]
    return first if len(first) <= _SUMMARY else first[:_SUMMARY].rsplit(" ", 1)[0] + "…"


def title(release: dict, buyer_name: str, ocid: str) -> tuple[str, bool]:
    """(title, built): `tender.title` when it has words; else the lots' or items' descriptions, the
    award's or contract's title, the tender's description (first sentence); else the buyer and the
    tender's reference (or the ocid). `built` says the title is not the tender's own."""
    tender = d(release.get("tender"))
    own = _worded(text(tender, "title"))
    if own:
        return own, False
    lots = [text(d(x), "title") or text(d(x), "description") for x in lst(tender.get("lots"))]
    items = [text(d(x), "description") for x in lst(tender.get("items"))]
    for group in (lots, items):
        found = list(dict.fromkeys(_worded(x) for x in group if _worded(x)))
        if found:
            return _summary("; ".join(found[:3])), True
    for kind in ("awards", "contracts"):
        found = next((t for a in lst(release.get(kind)) if (t := _worded(text(d(a), "title")))), "")
        if found:
            return found, True
    description = _worded(text(tender, "description"))
    if description:
        return _summary(description), True
    reference = text(tender, "title") or " ".join(str(tender.get("id") or "").split())
    return " — ".join(x for x in (buyer_name or "Avis / notice", reference or ocid) if x), True


def currency(release: dict) -> str:
    """ISO 4217 code of the release's amounts: the tender's value, else an award's, a contract's, the
    budget's; "" when none is stated (the value is then unknown for judging)."""
    tender = d(release.get("tender"))
    values = [tender.get("value"), tender.get("minValue"), tender.get("maxValue")]
    values += [d(x).get("value") for k in ("awards", "contracts") for x in lst(release.get(k))]
    values.append(d(d(release.get("planning")).get("budget")).get("amount"))
    for value in values:
        code = d(value).get("currency")
        if isinstance(code, str) and _CURRENCY.match(code.strip()):
            return code.strip().upper()
    return ""


def in_currency(value: Any, wanted: str) -> Any:
    """The value object when its currency is `wanted` (or not stated), else None: an award in USD
    is not an amount of a notice in MXN."""
    code = d(value).get("currency")
    return value if not (isinstance(code, str) and code.strip() and wanted and code.strip().upper() != wanted) else None


def _scheme(value: Any) -> str:
    name = " ".join(str(value or "").split())
    return name.upper() if len(name) <= 12 and " " not in name else name


def codes(release: dict) -> tuple[Code, ...]:
    """Every classification with an id, in the tender, its items and lots, with its scheme."""
    tender = d(release.get("tender"))
    found = [d(tender.get("classification"))]
    for item in map(d, lst(tender.get("items"))):
        found += [d(item.get("classification"))] + [d(c) for c in lst(item.get("additionalClassifications"))]
    out: dict[tuple[str, str, str], None] = {}  # deduplicated as plain tuples: a Code hashes in Python
    for c in found:
        if c:
            ident = c.get("id")
            ident = " ".join(str(ident if ident is not None else "").split())
            if ident:
                out[(_scheme(c.get("scheme")) or "?", ident, text(c, "description"))] = None
    return tuple(map(_code, out))


@lru_cache(maxsize=4096)
def _remembered_code(key: tuple[str, str, str]) -> Code:
    return Code(*key)


def _code(key: tuple[str, str, str]) -> Code:
    """One Code per distinct classification (frozen: shared by every notice that states it); long
    labels are not remembered (a hostile file's 4,096 long labels would fill memory)."""
    return _remembered_code(key) if len(key[1]) + len(key[2]) <= 400 else Code(*key)


def contacts(*holders: dict) -> tuple[Contact, ...]:
    """The contact points of the buyer (party, or 1.0 reference) and the procuring entity, once each."""
    out = []
    for holder in holders:
        cp = d(holder.get("contactPoint"))
        if not cp:  # the usual case (SEAO states none): an empty contact would be dropped below
            continue
        contact = Contact(text(cp, "name"), str(cp.get("email") or "").strip(), str(cp.get("telephone") or "").strip())
        if contact.name or contact.email or contact.phone:
            out.append(contact)
    return tuple(dict.fromkeys(out))


@cache
def _publishers() -> dict[str, str]:
    with resources.files("watcher.data.places").joinpath("ocds-publishers.csv").open(encoding="utf-8") as f:
        return {r["prefix"].lower(): r["country"] for r in csv.DictReader(f)}


def regions(release: dict, buyer: dict, ocid: str, municipal: bool = False) -> tuple[str, ...]:
    """Delivery addresses and locations of the items; without any, the Québec region of a municipal
    buyer (its address, else the town its name names: a town buys for its own territory; SEAO's JSON
    states no delivery place at all), or the country of a buyer outside Canada (its address, else
    the publisher of the ocid prefix): a Bogotá tender is "CO", not unknown."""
    found: list[str] = []
    for item in map(d, lst(d(release.get("tender")).get("items"))):
        for key in ("deliveryAddresses", "deliveryAddress"):
            for address in map(d, lst(item.get(key))):
                found += address_regions(address)
        for key in ("deliveryLocations", "deliveryLocation"):
            for location in map(d, lst(item.get(key))):
                found += place_regions(text(location, "description")) or address_regions(d(location.get("address")))
    if found:
        return normalise(found)
    if municipal:
        home = places.municipality_region(text(buyer, "name"), d(buyer.get("address")))
        if home:
            return (home,)
    country = country_code(d(buyer.get("address")).get("countryName")) or _publishers().get(
        "-".join(ocid.lower().split("-")[:2]))
    return (country,) if country and country not in ("CA", "QC") else ()


def contract_period(release: dict) -> tuple[date | None, date | None]:
    """(start, end) of the contract as the release states it: its contracts' `period` (the latest
    end of those not cancelled: a contractTermination states the real end), else the awards'
    `contractPeriod`, else the tender's; an end from `startDate` + `durationInDays` when only those
    are given. Renewal forecasts date the next purchase from it (match/awards.forecast)."""
    contracts, awards = release.get("contracts"), release.get("awards")  # often none: no list built
    for periods in ([d(c.get("period")) for c in map(d, lst(contracts)) if str(c.get("status") or "") != "cancelled"]
                    if contracts else (),
                    [d(a.get("contractPeriod")) for a in map(d, lst(awards))
                     if str(a.get("status") or "") not in ("cancelled", "unsuccessful")] if awards else (),
                    (d(d(release.get("tender")).get("contractPeriod")),)):
        if not any(periods):  # an empty period states nothing
            continue
        starts = [x for p in periods if (x := _day(p.get("startDate")))]
        ends = [x for p in periods if (x := _day(p.get("endDate")))]
        if not ends and starts:
            ends = [s + timedelta(days=int(p["durationInDays"])) for p in periods
                    if (s := _day(p.get("startDate"))) and _whole(p.get("durationInDays"))]
        if starts or ends:
            return min(starts, default=None), max(ends, default=None)
    return None, None


def _day(value: Any) -> date | None:
    """The calendar day an OCDS date-time names, in its own offset ("2026-09-09T00:00:00-04:00")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


def _whole(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 100 * 366
