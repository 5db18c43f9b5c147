"""CanadaBuys tender notice CSV (federal government of Canada) → Notice.

Publisher: Public Services and Procurement Canada, CanadaBuys open data (OGL-Canada 2.0):
newTenderNotice / openTenderNotice / ... CSV files, one row per notice, 67 bilingual columns.
Format: UTF-8 with a BOM, RFC 4180 quoting; read row by row (never whole). Columns are found by
their English key and language suffix (`title-titre-eng` → title, eng) so a renamed French part
does not break the parser.
Quirks: coded values carry a leading `*` (`*43230000`, `*CNST`); multi-value cells are
newline-separated inside quotes; descriptions keep HTML entities and sometimes tags (decoded to
text here); `noticeURL` is often empty (then url is None: we do not build a URL we cannot prove);
dates have no time zone: they are read as Eastern time (America/Toronto), which is what the
closing times show (DCC's 14:00 local closings appear as 13:00 for Halifax and 17:00 for Comox).
Mappings: id `canadabuys:<referenceNumber>` (else solicitationNumber); reference = solicitation
number; buyer = contracting entity. Method: "Competitive - Open bidding" / "Traditional" → public,
"Competitive - Selective tendering" → invitation (only pre-qualified suppliers may bid), "Advance
contract award notice" (ACAN), "Non-competitive", "Limited tendering", "sole source" or a limited
tendering reason → gre_a_gre, else other. Nature from the procurement category: CNST →
construction, GD → goods, SRV and SRVTGD (services related to goods) → services; when several
are listed the first one is kept. UNSPSC codes from the `unspsc` column (`*` stripped).
Regions (collect/places.py, table watcher/data/places/canadabuys-regions.csv): regions of delivery
are provinces ("Quebec (except NCR)" → QC, "Ontario (except NCR)" → CA-ON), the NCR (07 and CA-ON),
"Canada" → CA, "Foreign" → ZZ, "World" → CA and ZZ, "Unspecified" → unknown, or cities (Montréal →
06, Edmonton → CA-AB). Regions of opportunity say where suppliers may be; when no delivery region
is given and they name provinces or cities (narrower than Canada), they are used instead: a
procurement reserved to suppliers of a province is delivered there. Most rows (26 of the 40
sample rows) give neither: regions unknown.
Also read: the contact person (`contactInfoName/Email/Phone`) as a Contact; the GSIN and UNSPSC
codes with their descriptions as Codes; the procurement category as codes of scheme
"CanadaBuys category" (CNST, GD, SRV, SRVTGD); trade agreements; the expected contract start and end
dates. Currency: CAD (federal notices do not state another).
Cancelled notices (status "Cancelled") stay notices with "annulé / cancelled" in notice_type.
Options: `language` = "fr" (default) or "en": the language of title, buyer, notice type and URL,
and which text comes first in the description (both are kept).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from ..errors import ParseError
from ..models import Code, Contact, Notice
from .feed import html_text
from .ocds import fold
from .places import canadabuys_regions

EASTERN = ZoneInfo("America/Toronto")
_NATURES = {"CNST": "construction", "GD": "goods", "SRV": "services", "SRVTGD": "services"}
_REQUIRED = ("title", "referenceNumber", "solicitationNumber", "tenderClosingDate")
csv.field_size_limit(max(csv.field_size_limit(), 16 << 20))  # some descriptions exceed the 128 KiB default


def sniff(head: bytes, name: str) -> bool:
    return b"referenceNumber-numeroReference" in head[:4096] or b'"title-titre-eng"' in head[:64]


def parse(stream: BinaryIO, name: str, options: dict | None = None) -> Iterator[Notice | ParseError]:
    language = str((options or {}).get("language", "fr")).lower()
    if language not in ("fr", "en"):
        yield ParseError(name, "options", f"language: 'fr' ou 'en' attendu / expected 'fr' or 'en': {language!r}", fatal=True)
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        yield from _rows(csv.reader(text), name, language)
    finally:
        text.detach()  # leave the caller's stream open


def _rows(reader, name: str, language: str) -> Iterator[Notice | ParseError]:
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        yield ParseError(name, 1, f"fichier vide ou illisible / empty or unreadable file: {exc or 'no header'}", fatal=True)
        return
    columns = {_key(h): i for i, h in enumerate(header)}
    missing = [k for k in _REQUIRED if not any(c[0] == k for c in columns)]
    if missing:
        yield ParseError(name, 1, "pas un CSV d'avis CanadaBuys / not a CanadaBuys tender notice CSV: "
                                  f"missing {', '.join(missing)}", fatal=True)
        return
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                yield ParseError(name, line, f"CSV illisible / unreadable CSV: {exc}", fatal=True)
                return
            # one oversized field costs its record only: the reader goes on at the next line
            yield ParseError(name, line, f"champ trop long, enregistrement ignoré / field too long, record skipped: {exc}")
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield ParseError(name, start, f"{len(row)} colonnes au lieu de {len(header)} / "
                                          f"{len(row)} columns, expected {len(header)}")
            continue
        try:
            yield _notice(_Row(row, columns, language), name, start)
        except ValueError as exc:
            yield ParseError(name, start, str(exc))


def _key(header: str) -> tuple[str, str]:
    """'title-titre-eng' → ('title', 'eng'); 'unspsc' → ('unspsc', '')."""
    parts = header.strip().lstrip("\ufeff").split("-")
    return parts[0], parts[-1] if len(parts) > 1 and parts[-1] in ("eng", "fra") else ""


class _Row:
    def __init__(self, row: list[str], columns: dict[tuple[str, str], int], language: str) -> None:
        self.row, self.columns = row, columns
        self.order = ("fra", "eng", "") if language == "fr" else ("eng", "fra", "")

    def get(self, key: str, lang: str | None = None) -> str:
        """The cell in `lang` when given, else in the preferred language, else in the other one."""
        for suffix in (lang,) if lang is not None else self.order:
            i = self.columns.get((key, suffix))
            if i is not None and self.row[i].strip():
                return self.row[i].strip()
        return ""

    def values(self, key: str, lang: str | None = None) -> list[str]:
        """A multi-value cell: one value a line, leading '*' removed."""
        values = (v.strip().lstrip("*").strip() for v in self.get(key, lang).splitlines())
        return [v for v in values if v]


def _when(value: str, field: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{field}: date illisible / unreadable date: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=EASTERN)


def _regions(row: _Row) -> tuple[str, ...]:
    """Delivery regions, else regions of opportunity narrower than Canada (see the docstring)."""
    delivery, _ = canadabuys_regions(row.values("regionsOfDelivery", "eng") or row.values("regionsOfDelivery", "fra"))
    if delivery:
        return delivery
    opportunity, _ = canadabuys_regions(row.values("regionsOfOpportunity", "eng") or row.values("regionsOfOpportunity", "fra"))
    return () if {"CA", "ZZ"} & set(opportunity) else opportunity


def _codes(row: _Row) -> tuple[Code, ...]:
    """UNSPSC and GSIN codes with their description (same line order in both cells), then the categories."""
    out = []
    for scheme, key, described in (("UNSPSC", "unspsc", "unspscDescription"), ("GSIN", "gsin", "gsinDescription")):
        labels = [v.strip().lstrip("*").strip() for v in row.get(described).splitlines()]
        labels = [v for v in labels if v]
        codes = row.values(key)
        out += [Code(scheme, c, labels[i] if len(labels) == len(codes) else "") for i, c in enumerate(codes)]
    out += [Code("CanadaBuys category", c.upper()) for c in row.values("procurementCategory")]
    return tuple(dict.fromkeys(out))


def _contacts(row: _Row) -> tuple[Contact, ...]:
    name = " ".join(row.get("contactInfoName").split())
    email = row.get("contactInfoEmail").strip()
    phone = " ".join(row.get("contactInfoPhone").replace("(    )", "").split())
    return (Contact(name, email, phone),) if name or email or phone else ()


def _day(value: str, field: str):
    when = _when(value, field)
    return when.date() if when else None


def _method(row: _Row) -> str:
    label = fold(row.get("procurementMethod", "eng") or row.get("procurementMethod"))
    if row.get("limitedTenderingReason") or any(w in label for w in ("advance contract award", "non-competitive",
                                                                    "non competitive", "limited", "sole source")):
        return "gre_a_gre"
    if "selective" in label:
        return "invitation"
    return "public" if "competitive" in label else "other"


def _notice(row: _Row, name: str, line: int) -> Notice:
    ident = row.get("referenceNumber") or row.get("solicitationNumber")
    if not ident:
        raise ValueError("ni referenceNumber ni solicitationNumber / no reference or solicitation number")
    title = row.get("title")
    if not title:
        raise ValueError(f"{ident}: titre vide / empty title")
    first, second = (html_text(row.get("tenderDescription", s)) for s in row.order[:2])
    categories = row.values("procurementCategory")
    status = fold(row.get("tenderStatus", "eng"))
    amendment = row.get("amendmentNumber").lstrip("0")
    notice_type = " - ".join(x for x in (
        row.get("noticeType") or row.get("procurementMethod"),
        f"modification / amendment {row.get('amendmentNumber')}" if amendment else "",
        "annulé / cancelled" if status.startswith("cancel") else "") if x)
    published = _when(row.get("publicationDate"), "publicationDate")
    return Notice(
        id=f"canadabuys:{ident}", source="canadabuys", title=html_text(title),
        buyer_name=html_text(row.get("contractingEntityName")),
        reference=row.get("solicitationNumber") or None, url=row.get("noticeURL") or None, notice_type=notice_type,
        method=_method(row), nature=_NATURES.get(categories[0].upper(), "other") if categories else "other",
        unspsc=tuple(dict.fromkeys(v for v in row.values("unspsc") if v.isdigit())),
        regions=_regions(row),
        published_at=published, closing_at=_when(row.get("tenderClosingDate"), "tenderClosingDate"),
        description="\n\n".join(dict.fromkeys(x for x in (first, second) if x)),
        as_of=_when(row.get("amendmentDate"), "amendmentDate") or published,
        codes=_codes(row), contacts=_contacts(row), trade_agreements=tuple(v for v in row.values("tradeAgreements") if fold(v) not in ("none", "aucun")),
        contract_start=_day(row.get("expectedContractStartDate"), "expectedContractStartDate"),
        contract_end=_day(row.get("expectedContractEndDate"), "expectedContractEndDate"),
    )
