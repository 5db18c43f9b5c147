"""HTML list parser on a hand-made municipal "appels d'offres" page (tests/data/html/PROVENANCE.md).

Golden files `<input>.expected.json`: WATCHER_REGEN_GOLDEN=1 rewrites them after a deliberate change.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pytest

from watcher.collect import html
from watcher.errors import ParseError
from watcher.models import Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "html"
PAGE1, PAGE2 = DATA / "appels-offres-page1.html", DATA / "appels-offres-page2.html"
BASE = "https://www.val-des-exemples.example/fr/affaires/appels-offres/"
OPTIONS = {
    "base_url": BASE, "item": "table.appels-offres tbody tr.avis", "title": "td.titre a, td.titre",
    "reference": "td.numero", "buyer": "td.service", "published": "td.publication", "closing": "td.fermeture",
    "date_format": "%d %B %Y à %H h %M|%d %B %Y", "next": "a[rel=next]", "regions": ["16"], "method": "invitation",
}


def _json(item) -> dict:
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    return {"kind": type(item).__name__, **json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))}


def _parse(path: Path, options: dict | None = None) -> list:
    return list(html.parse(path.open("rb"), path.name, OPTIONS if options is None else options))


@pytest.mark.parametrize("path", [PAGE1, PAGE2], ids=lambda p: p.name)
def test_golden(path: Path) -> None:
    got = [_json(x) for x in _parse(path)]
    expected = path.with_suffix(".expected.json")
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert expected.exists(), f"{expected.name} missing: run with WATCHER_REGEN_GOLDEN=1"
    assert got == json.loads(expected.read_text(encoding="utf-8"))


def test_fields_and_links() -> None:
    items = _parse(PAGE1)
    notices = [x for x in items if isinstance(x, Notice)]
    assert [n.reference for n in notices] == ["AO-2025-031", "AO-2025-029", "AO-2025-027", None]
    first = notices[0]
    assert first.id == "html:www.val-des-exemples.example:AO-2025-031"
    assert first.title == "Entretien ménager de l'hôtel de ville et de la bibliothèque"
    assert (first.buyer_name, first.regions, first.method) == ("Service des immeubles", ("16",), "invitation")
    assert first.published_at.isoformat() == "2025-10-03T00:00:00-04:00"
    assert first.closing_at.isoformat() == "2025-10-23T11:00:00-04:00"
    assert "visite obligatoire" in first.description
    assert [n.url for n in notices] == [
        "https://www.val-des-exemples.example/fr/affaires/appels-offres/ao-2025-031",  # relative to the site root
        BASE + "details.aspx?id=2025-029&lang=fr",  # relative to the page, &amp; decoded
        "https://seao.gouv.qc.ca/avis-resultat-recherche/consulter?ItemId=00000000-0000-0000-0000-000000000000",
        None,  # no link in the row
    ]
    assert notices[2].published_at.isoformat() == "2025-10-01T00:00:00-04:00"  # "1er octobre"
    assert notices[3].id.startswith("html:www.val-des-exemples.example:") and notices[3].closing_at is None


def test_unreadable_date_keeps_the_notice() -> None:
    items = _parse(PAGE1)
    [error] = [x for x in items if isinstance(x, ParseError)]
    assert error.position == "item 4" and "date à confirmer" in error.message
    assert isinstance(items[items.index(error) - 1], Notice)


def test_next_page() -> None:
    assert html.next_page(PAGE1.read_bytes(), OPTIONS) == BASE + "?page=2"
    assert html.next_page(PAGE2.read_bytes(), OPTIONS) is None  # last page
    assert html.next_page(PAGE1.read_bytes(), {**OPTIONS, "next": "nav.pagination a.suivant"}) == BASE + "?page=2"
    assert html.next_page(PAGE1.read_bytes(), {k: v for k, v in OPTIONS.items() if k != "next"}) is None
    assert html.next_page(PAGE1.read_bytes(), {**OPTIONS, "next": "nav.pagination"}) == BASE + "?page=2"  # its first link


def test_without_base_url_no_guessed_links() -> None:
    options = {k: v for k, v in OPTIONS.items() if k != "base_url"}
    notices = [x for x in _parse(PAGE1, options) if isinstance(x, Notice)]
    assert [n.url for n in notices][:3] == [None, None, "https://seao.gouv.qc.ca/avis-resultat-recherche/consulter?ItemId="
                                                        "00000000-0000-0000-0000-000000000000"]
    assert notices[0].id == "html:AO-2025-031"
    page = b'<html><head><base href="https://ville.example/avis/"></head><body><ul><li><a href="a1">Avis 1</a></li></ul></body></html>'
    [n] = html.parse(io.BytesIO(page), "b.html", {"item": "li", "title": "a"})
    assert n.url == "https://ville.example/avis/a1"


def test_errors() -> None:
    [error] = _parse(PAGE1, {"item": "tr"})
    assert error.position == "options" and "title" in error.message
    [error] = _parse(PAGE1, {**OPTIONS, "item": "div.avis"})
    assert "layout" in error.message
    items = _parse(PAGE1, {**OPTIONS, "title": "td.titre a"})  # the row without a link has no title now
    assert [x.position for x in items if isinstance(x, ParseError)] == ["item 4"]
    assert html.sniff(PAGE1.read_bytes()[:512], "p.html") and not html.sniff(b"<rss version='2.0'>", "f.rss")
