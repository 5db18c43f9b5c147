"""SEAO XML open data: Québec public contracts, 2009 to mid-2024.

Publisher: Secrétariat du Conseil du trésor du Québec, SEAO (Système électronique d'appel
d'offres), on Données Québec, licence CC-BY 4.0. Spec: « Format XML proposé pour les données
ouvertes du SEAO » (2013, revised 2014-12-01).

Format: one `<export datedebut="…" datefin="…">` root per file, holding records of one kind:
- `Avis_*.xml`, `AvisRevisions_*.xml`: `<avis>` notices with their bidders
  (`<fournisseurs><fournisseur>`) -> Notice (id "seao:<numeroseao>");
- `Contrats_*.xml`, `ContratsRevisions_*.xml`: `<contrat>` final amounts -> FinalContract;
- `Depenses_*.xml`, `DepensesRevisions_*.xml`: `<avis>` holding `<depenses><depense>` -> one
  Expense per `<depense>`.
Tag names are read case-insensitively. The 2013 layout (`<region>` instead of
`<regionlivraison>`, no `<neq>`) numbers regions its own way; it is mapped to the official codes.
Notice.as_of is the file's `datefin` at 23:59, America/Montreal; dates "YYYY-MM-DD HH:MM" are
Montréal local time.

Quirks handled: `0.000000` means "not applicable" (-> None); `1900-01-01` is an empty date;
NEQ `1234567890` is a placeholder and a NEQ that is not 10 digits is dropped; `regionlivraison`
is a comma-separated list ("6,13"), unknown codes (18, 19 = outside Québec) are dropped; only
bidders with `adjudicataire=1` won; titles and names carry stray spaces (stripped);
`<precision>` may hold free text (read only to build a missing title); notices carry no estimated
value. Files whose notices have no `<titre>` (older exports of the 2013 layout) get a title built from
the nature or precision, SEAO category, UNSPSC code and buyer, marked `title_built` (the import
summary counts them).

Safety: a document declaring entities in a DOCTYPE is refused (its first 64 KiB are checked and
must reach an element); entities are never resolved, no network, no DTD. A bad record gives a ParseError (file, line) and the next record is read; an
XML syntax error (truncated download) gives a ParseError with line and column and ends the file.

Options: none (the `seao_xml` source kind only lists the file URLs).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import BinaryIO
from zoneinfo import ZoneInfo

from lxml import etree

from ..codes import (
    CATEGORIES, REGIONS, REGIONS_2013, SEAO_NATURE_LABELS, SEAO_NATURES, SEAO_PRECISION_LABELS, SEAO_TYPES,
    category_code,
)
from ..errors import ParseError
from ..models import Bidder, Expense, FinalContract, Notice
from .places import municipality_region

Item = Notice | FinalContract | Expense | ParseError

MONTREAL = ZoneInfo("America/Montreal")
HEAD_SIZE = 64 * 1024  # the part of the file checked for a DOCTYPE before parsing
PLACEHOLDER_NEQ = "1234567890"
EMPTY_DATE = "1900-01-01"
ZERO = "0.000000"  # how SEAO writes "not applicable" in an amount
RECORDS = ("avis", "contrat")
# The record tags as written (lower case since 2014, capitalised in 2013), in any namespace.
RECORD_TAGS = tuple(f"{{*}}{variant}" for tag in RECORDS for variant in (tag, tag.capitalize(), tag.upper()))
_FLAGS = {"1": True, "0": False}  # <municipal>
# Official region codes by their unpadded number, as <regionlivraison> writes them ("6" -> "06").
OFFICIAL_REGIONS: dict[str, str] = {str(int(code)): code for code in REGIONS}
_DIGITS = re.compile(r"[0-9]+")
_NEQ = re.compile(r"[0-9]{10}")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!ENTITY", re.I)
_ELEMENT = re.compile(rb"<[A-Za-z_:]")


def parse(stream: BinaryIO, name: str, options: dict | None = None) -> Iterator[Item]:
    """Yield the records of one SEAO XML file, and a ParseError for each one that cannot be read."""
    head, stream = _peek(stream)
    refusal = _refusal(head)
    if refusal:
        yield ParseError(name, None, refusal, fatal=True)
        return
    events = etree.iterparse(  # events for the records only: lxml skips the fields' ends in C
        stream, events=("end",), tag=RECORD_TAGS, resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    as_of: datetime | None = None
    try:
        for _, element in events:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # the root itself, or an element of that name inside a record
            as_of = as_of or _as_of(parent)
            try:
                items = _record(element, as_of)
            except _Bad as bad:
                items = [bad]
            for item in items:
                yield ParseError(name, f"line {item.line}", item.message) if isinstance(item, _Bad) else item
            _release(element, parent)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        message = re.sub(r", line \d+, column \d+$", "", exc.msg or str(exc))
        yield ParseError(name, f"line {line}, column {column}" if line else None,
                         f"XML illisible / unreadable XML: {message}", fatal=True)


class _Bad(ValueError):
    """One record (or one of its fields) cannot be read."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


class _Fields:
    """The direct children of one element, by lower-case local name, read with SEAO's conventions.
    Runs for every record and every bidder: a child's text is read only when asked for, and the
    readers below settle the usual values (absent, empty, 0.000000) before any conversion."""

    __slots__ = ("element", "children")

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        known = _LOCAL.get  # _local inlined: this runs for every field of every record
        # reversed: when a field is repeated, the first one wins
        self.children = {known(child.tag) or _local(child.tag): child for child in reversed(element)}

    @property
    def line(self) -> int | None:
        return self.element.sourceline

    def has(self, key: str) -> bool:
        return key in self.children

    def raw(self, key: str) -> str:
        """The text as written (spaces kept), "" when the field is absent or empty."""
        child = self.children.get(key)
        return (child.text or "") if child is not None else ""

    def text(self, key: str) -> str:
        child = self.children.get(key)
        return (child.text or "").strip() if child is not None else ""

    def bad(self, key: str, message: str) -> _Bad:
        child = self.children.get(key)
        return _Bad(child.sourceline if child is not None else self.line, f"<{key}>: {message}")

    def items(self, wrapper: str, item: str) -> list[etree._Element]:
        """`<wrapper><item/>…</wrapper>` children, in file order."""
        holder = self.children.get(wrapper)
        return [] if holder is None else [c for c in holder if _local(c.tag) == item]

    def seao_id(self) -> str:
        value = self.text("numeroseao")
        if not _DIGITS.fullmatch(value):
            raise self.bad("numeroseao", f"numéro SEAO manquant ou non numérique / missing or non-numeric: {value!r}")
        return f"seao:{value}"

    def amount(self, key: str) -> float | None:
        """A number; 0 (written 0.000000) means "not applicable"."""
        value = self.raw(key)
        if not value or value == ZERO:  # the usual cases, decided without a conversion
            return None
        try:
            number = float(value)  # float() ignores surrounding spaces
        except ValueError:
            number = math.nan
        if not math.isfinite(number):  # also refuses "nan" and "inf", which float() accepts
            raise self.bad(key, f"nombre illisible / not a number: {value.strip()!r}")
        return number or None

    def moment(self, key: str) -> datetime | None:
        """'YYYY-MM-DD HH:MM' (or a bare date) in Montréal time, time zone aware."""
        value = self.raw(key)
        if not value:
            return None
        value = value.strip()
        if not value or value.startswith(EMPTY_DATE):
            return None
        try:
            return _montreal(value)
        except ValueError:
            raise self.bad(key, f"date illisible / not a date: {value!r}") from None

    def day(self, key: str) -> date | None:
        moment = self.moment(key)
        return moment.date() if moment else None

    def neq(self, key: str) -> str | None:
        """A Québec enterprise number: 10 digits, not the placeholder; anything else is unknown."""
        value = self.raw(key)
        if not value:  # most bidders state none
            return None
        value = "".join(value.split())
        return value if _NEQ.fullmatch(value) and value != PLACEHOLDER_NEQ else None


@lru_cache(maxsize=4096)
def _montreal(value: str) -> datetime:
    """A SEAO date or time in Montréal time, remembered: a file repeats the same dates and closing
    times, and attaching the time zone cost more than reading the text. ValueError if not a date."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=MONTREAL) if moment.tzinfo is None else moment.astimezone(MONTREAL)


def _record(element: etree._Element, as_of: datetime | None) -> list[Notice | FinalContract | Expense | _Bad]:
    fields = _Fields(element)
    if _local(element.tag) == "contrat":
        return [_final(fields)]
    if fields.has("depenses"):
        return _expenses(fields)
    return [_notice(fields, as_of)]


def _notice(f: _Fields, as_of: datetime | None) -> Notice:
    text = f.text
    code = text("type")
    label, method = SEAO_TYPES.get(code, ("", "other"))
    category = category_code(text("categorieseao"))
    unspsc = text("unspscprincipale")
    title = text("titre")
    return Notice(
        id=f.seao_id(),
        source="seao",
        title=title or _built_title(f, category, unspsc),
        title_built=not title,
        buyer_name=text("organisme"),
        municipal=_FLAGS.get(text("municipal")),
        reference=text("numero") or None,
        url=text("hyperlienseao") or None,
        notice_type=f"{code} - {label}" if label else code,
        method=method,
        nature=SEAO_NATURES.get(text("nature"), "other"),
        categories=(category,) if category else (),
        unspsc=(unspsc,) if unspsc else (),
        regions=_regions(f),
        published_at=f.moment("datepublication"),
        closing_at=f.moment("datefermeture"),
        awarded_on=f.day("dateadjudication"),
        bidders=tuple(map(_bidder, f.items("fournisseurs", "fournisseur"))),
        as_of=as_of,
    )


def _built_title(f: _Fields, category: str | None, unspsc: str) -> str:
    """A readable title for a notice without one (files of the 2013 format): what it buys (precision,
    else nature; SEAO category), its UNSPSC code and the buyer, e.g. « Services de nature technique —
    UNSPSC 76121500 — Ville de Terrebonne ». Marked as built (Notice.title_built)."""
    nature, precision = f.text("nature"), f.text("precision")
    what = (SEAO_PRECISION_LABELS.get(precision) if nature == "2" else precision if nature == "5" else None) \
        or SEAO_NATURE_LABELS.get(nature) or "Avis"
    parts = [what, CATEGORIES.get(category or "", ""), f"UNSPSC {unspsc}" if unspsc else "", f.text("organisme")]
    return " — ".join(p for p in parts if p)


def _bidder(element: etree._Element) -> Bidder:
    f = _Fields(element)
    return Bidder(name=f.text("nomorganisation"), neq=f.neq("neq"), amount=f.amount("montantsoumis"),
                  winner=f.text("adjudicataire") == "1", contract_amount=f.amount("montantcontrat"))


def _regions(f: _Fields) -> tuple[str, ...]:
    """Official codes, sorted, unique. <regionlivraison> (2014) uses them unpadded; <region> (2013) does not.
    None stated (2 % of notices): a municipal buyer's own region, from its address or name, as for
    SEAO's JSON (places.municipality_region); any other buyer's stays unknown."""
    table = OFFICIAL_REGIONS if f.has("regionlivraison") else REGIONS_2013
    raw = f.raw("regionlivraison") if f.has("regionlivraison") else f.raw("region")
    codes = {table.get(part.strip().lstrip("0")) for part in raw.split(",")}
    found = tuple(sorted(code for code in codes if code))
    if found or f.text("municipal") != "1":
        return found
    home = municipality_region(f.text("organisme"), {"locality": f.text("ville"), "postalCode": f.text("codepostal"),
                                                     "region": f.text("province"), "countryName": f.text("pays")})
    return (home,) if home else ()


def _final(f: _Fields) -> FinalContract:
    return FinalContract(
        notice_id=f.seao_id(), reference=f.text("numero") or None, final_amount=f.amount("montantfinal"),
        end_date=f.day("datefinale"), published_on=f.day("datepublicationfinale"),
        contractor_name=f.text("nomcontractant"), contractor_neq=f.neq("neqcontractant"),
    )


def _expenses(f: _Fields) -> list[Expense | _Bad]:
    """One Expense per <depense>; a bad one is reported alone and its siblings are kept."""
    notice_id, reference = f.seao_id(), f.text("numero") or None
    out: list[Expense | _Bad] = []
    for element in f.items("depenses", "depense"):
        d = _Fields(element)
        try:
            out.append(Expense(
                notice_id=notice_id, reference=reference, spent_on=d.day("datedepense"),
                published_on=d.day("datepublicationdepense"), amount=d.amount("montantdepense"),
                description=d.text("description"), contractor_name=d.text("nomcontractant"),
                contractor_neq=d.neq("neqcontractant"),
            ))
        except _Bad as bad:
            out.append(bad)
    return out


def _as_of(root: etree._Element) -> datetime | None:
    """The export's period end (`datefin`), at 23:59 Montréal time: when the file stated its records."""
    attributes = {_local(k): v for k, v in root.attrib.items()}
    try:
        end = date.fromisoformat(attributes.get("datefin", "").strip()[:10])
    except ValueError:
        return None
    return datetime(end.year, end.month, end.day, 23, 59, tzinfo=MONTREAL)


_LOCAL: dict[object, str] = {}


def _local(tag: object) -> str:
    """'{ns}Avis' -> 'avis'; '' for comments and processing instructions. Remembered: a file
    repeats the same few dozen tags hundreds of thousands of times."""
    local = _LOCAL.get(tag)
    if local is None:
        local = tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
        if len(_LOCAL) < 4096:  # a hostile file with endless distinct tags cannot grow it
            _LOCAL[tag] = local
    return local


def _release(element: etree._Element, parent: etree._Element) -> None:
    """Drop a finished record and its predecessors, so memory stays flat on large files."""
    element.clear(keep_tail=False)
    while element.getprevious() is not None:
        del parent[0]


def _refusal(head: bytes) -> str | None:
    """Why the document must not be parsed, or None: entity declarations, or a prolog too long to check.

    NUL bytes are dropped first so that UTF-16/32 text is searched as ASCII too.
    """
    text = head.replace(b"\x00", b"")
    doctype = _DOCTYPE.search(text)
    if doctype and _ENTITY.search(text, doctype.end()):
        return "déclarations d'entités refusées / entity declarations refused"
    if len(head) >= HEAD_SIZE and not _ELEMENT.search(text, doctype.end() if doctype else 0):
        return f"pas d'élément dans les premiers {HEAD_SIZE} octets / no element in the first {HEAD_SIZE} bytes: refused"
    return None


def _peek(stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """Read the head of `stream` and give back a stream that replays it: nothing is consumed."""
    head = b""
    while len(head) < HEAD_SIZE and (chunk := stream.read(HEAD_SIZE - len(head))):
        head += chunk
    return head, io.BufferedReader(_Replay(head, stream), buffer_size=HEAD_SIZE)


class _Replay(io.RawIOBase):
    """A raw stream serving `head` first, then the rest of the underlying stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
