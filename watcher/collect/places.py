"""Places → region codes, the vocabulary every notice's `regions` uses.

Vocabulary: Québec's administrative regions "01".."17"; "QC" all of Québec; "CA-ON", "CA-NU"…
(ISO 3166-2) another province or territory; "CA" all of Canada; an ISO 3166 alpha-2 country
outside Canada ("US", "GB"; "ZZ" abroad, country not named); nothing = unknown. We never widen a
place: a street address in Québec whose region we cannot tell is unknown, not "QC" (which the
matcher reads as covering every region).

The tables are data files in watcher/data/places/ (their provenance is in its README.md):
CanadaBuys region labels, provinces with their postal code letters, city names, and the Québec
postal code prefixes (FSA) that lie in one region. Pure functions; tables are read once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from functools import cache, lru_cache, wraps
from importlib import resources
from typing import Any, TypeVar

_T = TypeVar("_T")


def remembered(function: Callable[[Any], _T]) -> Callable[[Any], _T]:
    """`function` of one value, remembered for short hashable values (by type too: 1 and "1"
    differ): a file repeats the same few countries, provinces, towns and postal codes on every
    notice. Long strings are not kept (a hostile file's 4,096 long names would fill memory)."""
    cached = lru_cache(maxsize=4096, typed=True)(function)

    @wraps(function)
    def call(value: Any) -> _T:
        if isinstance(value, str) and len(value) > _REMEMBERED_LENGTH:
            return function(value)
        try:
            return cached(value)
        except TypeError:  # unhashable (a list where a string was expected): computed each time
            return function(value)
    return call


_REMEMBERED_LENGTH = 200



def fold(text: Any) -> str:
    """collect.ocds.fold, imported at first use: ocds imports this module."""
    from .ocds import fold as ocds_fold

    return ocds_fold(text)


def region_code(text: Any) -> str | None:
    """collect.ocds.region_code (official code from a Québec region's number or name), at first use."""
    from .ocds import region_code as ocds_region_code

    return ocds_region_code(text)

# Names pycountry does not know by themselves (it knows the English short and official names).
_COUNTRY_ALIASES = {"uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                    "mexique": "MX", "etats unis": "US", "usa": "US", "u s a": "US", "espana": "ES",
                    "peru": "PE", "moldavie": "MD", "republica del paraguay": "PY", "republica de colombia": "CO"}
_POSTAL = re.compile(r"^\s*([A-CEGHJ-NPR-TVXY])(\d)([A-Z])\s*(\d[A-Z]\d)?\s*$", re.I)


@remembered
def _key(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("watcher.data.places").joinpath(name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def _tables() -> dict[str, dict]:
    provinces, letters, labels = {}, {}, {}
    for row in _rows("provinces.csv"):
        labels[row["code"]] = (row["name_fr"], row["name_en"])
        for n in row["names"].split("|"):
            provinces[_key(n)] = row["code"]
        for letter in row["postal_letters"]:
            letters[letter] = row["code"]
    return {
        "canadabuys": {_key(r["label"]): tuple(r["codes"].split()) for r in _rows("canadabuys-regions.csv")},
        "provinces": provinces, "letters": letters, "labels": labels,
        "cities": {_key(r["name"]): r["code"] for r in _rows("cities.csv")},
        "fsa": {r["prefix"].upper(): r["region"] for r in _rows("quebec-fsa.csv")},
    }


def canadabuys_regions(labels: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """CanadaBuys region labels ('Quebec (except NCR)', 'Montréal', 'World'…) → (codes, labels not
    understood). Cities are looked up in the city table."""
    t = _tables()
    codes: list[str] = []
    unknown = []
    for label in labels:
        key = _key(label)
        if key in t["canadabuys"]:
            codes += t["canadabuys"][key]
        elif key in t["cities"]:
            codes.append(t["cities"][key])
        else:
            unknown.append(label)
    return normalise(codes), unknown


def normalise(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Sorted, deduplicated; a Québec region made redundant by "QC" or "CA" is kept (it says where)."""
    return tuple(sorted(set(c for c in codes if c)))


@remembered
def country_code(name: Any) -> str | None:
    """'Canada', 'United Kingdom', 'GB', 'México' → ISO 3166 alpha-2; None when not a country we know."""
    text = str(name or "").strip()
    if not text:
        return None
    alias = _COUNTRY_ALIASES.get(_key(text))
    if alias:
        return alias
    import pycountry  # imported here: loading its tables costs time every other command would pay

    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        try:
            return pycountry.countries.lookup(fold(text)).alpha_2
        except LookupError:
            return None


@remembered
def postal_region(code: Any) -> str | None:
    """A Canadian postal code (or its first 3 characters) → a Québec region when its prefix lies in one,
    else its province ("QC" is never returned: an address is one place, not all of Québec)."""
    m = _POSTAL.match(str(code or ""))
    if not m:
        return None
    letter, fsa = m[1].upper(), (m[1] + m[2] + m[3]).upper()
    t = _tables()
    region = t["fsa"].get(fsa) or t["fsa"].get(fsa[:2])
    if region:
        return region
    province = t["letters"].get(letter)
    return None if province == "QC" else province


@remembered
def city_region(name: Any) -> str | None:
    """A Canadian municipality's name → its Québec region or its province; None when not in the table."""
    return _tables()["cities"].get(_key(name))


@remembered
def province_code(name: Any) -> str | None:
    """'Ontario', 'ON', 'Nouvelle-Écosse' → 'CA-ON'…; 'Québec' → 'QC'. None otherwise."""
    return _tables()["provinces"].get(_key(name))


def address_regions(address: dict) -> tuple[str, ...]:
    """An OCDS Address (streetAddress, locality, region, postalCode, countryName) → region codes.

    A country other than Canada gives that country. In Canada (said, or implied by a Canadian
    postal code or province), the most precise of: a Québec region named or numbered in `region`,
    the city, the postal code prefix; else the province when it is not Québec.
    """
    country = country_code(address.get("countryName") or address.get("country"))
    if country and country != "CA":
        return (country,)
    postal = postal_region(address.get("postalCode"))
    province = province_code(address.get("region"))
    canadian = country == "CA" or postal is not None or province is not None or bool(
        _POSTAL.match(str(address.get("postalCode") or "")))
    raw = str(address.get("region") or "")
    region = region_code(raw) if canadian or not raw.strip().isdigit() else None  # a bare number is ours only in Canada
    city = city_region(address.get("locality")) if canadian else None
    for found in (region, city if city and not city.startswith("CA-") else None, postal if postal and not postal.startswith("CA-") else None):
        if found:
            return (found,)
    for found in (city, postal, province if province != "QC" else None):
        if found:
            return (found,)
    return ()


def place_regions(text: Any) -> tuple[str, ...]:
    """A free-text place (an OCDS deliveryLocation description, a feed field): a Québec region by
    code or name, a city, a Canadian province or a country; () when none is recognised."""
    province = province_code(text)
    if province == "QC":  # "Québec" alone names the province more often than the city ("Ville de Québec": 03)
        return ("QC",)
    for found in (region_code(text), city_region(text)):
        if found:
            return (found,)
    if province:
        return (province,)
    country = country_code(text)
    return (country,) if country and country != "CA" else ("CA",) if country == "CA" else ()


_VOCABULARY = re.compile(r"^(0[1-9]|1[0-7]|QC|CA|CA-(AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|SK|YT)|ZZ)$")


def vocabulary_code(value: Any) -> str | None:
    """A region as a source file declares it: a code of the vocabulary ("06", "QC", "CA-ON", "CA",
    "US"), a Québec region's number or name, a province's or a country's name. None if none of these."""
    text = str(value or "").strip()
    if _VOCABULARY.match(text.upper()):
        return text.upper()
    found = region_code(text) or province_code(text)
    if found:
        return found
    country = country_code(text)
    return "CA" if country == "CA" else country


def places_in(text: Any) -> tuple[str, ...]:
    """Every place of a free-text list ("Montérégie, Estrie", "Laval; Longueuil"): each piece read by
    place_regions; the whole text when no piece is recognised."""
    pieces = [p for p in re.split(r"[,;/\n]+", str(text or "")) if p.strip()]
    found = [code for p in pieces for code in place_regions(p.strip())]
    return normalise(found) if found else place_regions(text)


_WIDE = {"QC": ("tout le Québec", "all of Québec"), "CA": ("tout le Canada", "all of Canada"),
         "ZZ": ("hors Canada", "outside Canada")}


def label(code: str, language: str = "fr") -> str:
    """A region code of the vocabulary as a reader says it: 'Montréal', 'tout le Québec', 'Ontario',
    'United Kingdom'; the code itself when unknown."""
    from ..codes import REGIONS

    i = 1 if language == "en" else 0
    if code in REGIONS:
        return REGIONS[code]
    if code in _WIDE:
        return _WIDE[code][i]
    if code in _tables()["labels"]:
        return _tables()["labels"][code][i]
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code) if country else code


_TOWN = re.compile(r"^(?:ville|municipalit[eé]|village|paroisse|canton|cit[eé])\s+(?:de\s+la\s+|de\s+l'|du\s+|des\s+|de\s+|d')?(.+)$",
                   re.IGNORECASE)


_TWO_DIGITS = re.compile(r"\d\d")


def municipality_region(name: str, address: dict) -> str | None:
    """A municipal buyer's Québec region ("01".."17"), for a notice that states no delivery place (a
    town buys for its own territory): from its address (town, postal code prefix), else from the
    town its name names (« Ville de Mascouche. » -> Mascouche -> "14"). None when neither tells one
    region: we never widen a place to all of Québec."""
    parts = _address_parts(name, address)
    return _municipality_region(name, address) if parts is None else _remembered_municipality(parts)


_ADDRESS_KEYS = ("countryName", "country", "postalCode", "region", "locality")


def _address_parts(name: Any, address: dict) -> tuple | None:
    """(name, the address fields places reads) when all are short strings or None: the key under
    which a buyer's region is remembered; else None (computed each time)."""
    parts = (name, *map(address.get, _ADDRESS_KEYS))
    size = 0
    for part in parts:
        if part is not None:
            if type(part) is not str:
                return None
            size += len(part)
    return parts if size <= 2 * _REMEMBERED_LENGTH else None


@lru_cache(maxsize=4096)
def _remembered_municipality(parts: tuple) -> str | None:
    """municipality_region of a buyer met before: a file names the same few hundred buyers."""
    return _municipality_region(parts[0], dict(zip(_ADDRESS_KEYS, parts[1:])))


def _municipality_region(name: str, address: dict) -> str | None:
    found = [r for r in address_regions(address) if _TWO_DIGITS.fullmatch(r)]
    if found:
        return found[0]
    match = _TOWN.match(" ".join(str(name or "").split()).rstrip(" ."))
    region = city_region(match.group(1)) if match else None
    return region if region and _TWO_DIGITS.fullmatch(region) else None
