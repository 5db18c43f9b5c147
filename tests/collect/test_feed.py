"""RSS/Atom parser on a real Buyandsell excerpt and feeds derived from it (tests/data/feed/PROVENANCE.md).

Golden files `<input>.expected.json`: WATCHER_REGEN_GOLDEN=1 rewrites them after a deliberate change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from watcher.collect import feed
from watcher.errors import ParseError
from watcher.models import Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "feed"
EXCERPT = DATA / "buyandsell-excerpt.rss"
OPTIONS = {"id_prefix": "buyandsell", "reference": "label:Agreement number"}


def _json(item) -> dict:
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    return {"kind": type(item).__name__, **json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))}


def _parse(path: Path, options: dict | None = None) -> list:
    return list(feed.parse(path.open("rb"), path.name, options))


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.mark.parametrize("name", ["buyandsell-excerpt.rss", "buyandsell-duplicates.rss"])
def test_golden(name: str) -> None:
    got = [_json(x) for x in _parse(DATA / name, OPTIONS)]
    expected = DATA / name.replace(".rss", ".expected.json")
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert expected.exists(), f"{expected.name} missing: run with WATCHER_REGEN_GOLDEN=1"
    assert got == json.loads(expected.read_text(encoding="utf-8"))


def test_real_excerpt_mapping() -> None:
    items = _parse(EXCERPT, OPTIONS)
    assert len(items) == 6 and all(isinstance(n, Notice) for n in items)
    n = items[2]
    assert n.title == "STAPLES ADVANTAGE, A DIVISION OF CORPORATE EXPRESS CANADA INC (E60PQ-140003/049/PQ)"
    assert (n.source, n.reference, n.buyer_name) == ("buyandsell", "E60PQ-140003/049/PQ", "Public Works and Government Services Canada")
    assert n.id == "buyandsell:" + _sha1("data_data_sosa:48987:2023-07-28T04:05:02Z")
    assert n.url == "https://buyandsell.gc.ca/procurement-data/standing-offers-and-supply-arrangements/E60PQ-140003-049-PQ"
    assert n.published_at == n.as_of == datetime(2023, 7, 28, 4, 5, 2, tzinfo=timezone.utc)
    assert "<" not in n.description and "Agreement number\nE60PQ-140003/049/PQ" in n.description
    assert items[0].reference is None  # the event has no such label


def test_dedup_guid_changed_content_same_within_a_file() -> None:
    items = _parse(DATA / "buyandsell-duplicates.rss", OPTIONS)
    assert len(items) == 2  # item 3 twice (new guid) is read once
    first, reused = items
    assert first.id == "buyandsell:" + _sha1("data_data_sosa:48987:2023-07-28T04:05:02Z")
    assert reused.reference == "EN578-201971/002/FK"  # item 4 under item 3's guid: its own id
    assert reused.id == "buyandsell:" + _sha1(f"{reused.url}\n{reused.title}")


def test_ids_across_republication() -> None:
    before, after = _parse(EXCERPT, OPTIONS), _parse(DATA / "buyandsell-republished.rss", OPTIONS)
    assert [n.id for n in before] != [n.id for n in after]  # guid ids follow Buyandsell's volatile guids
    stable = {**OPTIONS, "id_from": "link"}
    before, after = _parse(EXCERPT, stable), _parse(DATA / "buyandsell-republished.rss", stable)
    assert [n.id for n in before] == [n.id for n in after]
    assert [dataclasses.replace(n, published_at=None, as_of=None) for n in before] == \
           [dataclasses.replace(n, published_at=None, as_of=None) for n in after]


def test_field_specs_dates_and_constants() -> None:
    text = EXCERPT.read_text(encoding="utf-8")
    # Derived in memory: a closing date in the description table, in French, as a municipal feed writes it.
    text = text.replace("<td>Canada</td> </tr>", "<td>Canada</td> </tr><tr><td><strong>Date de fermeture</strong></td>"
                        "<td>23 octobre 2025 à 11 h 00</td></tr>", 1)
    options = {"closing": "label:Date de fermeture", "closing_format": "%d %B %Y à %H h %M", "buyer": "regex:Supplier operating name\\n(.+)",
               "regions": ["Montérégie", "06"], "method": "invitation", "nature": "goods"}
    items = list(feed.parse(io.BytesIO(text.encode()), "f.rss", options))
    closing = [n for n in items if n.closing_at]
    assert len(closing) == 1 and closing[0].closing_at.isoformat() == "2025-10-23T11:00:00-04:00"
    assert {(n.regions, n.method, n.nature) for n in items} == {(("06", "16"), "invitation", "goods")}
    assert items[2].buyer_name == "Staples Business Advantage, a Division of Corporate Express Canada Inc."


def test_unreadable_date_keeps_the_notice() -> None:
    items = _parse(EXCERPT, {"closing": "label:Region of delivery"})  # not a date: an error, notice kept
    assert sum(isinstance(x, Notice) for x in items) == 6
    errors = [x for x in items if isinstance(x, ParseError)]
    assert len(errors) == 4 and all(re.fullmatch(r"item \d", e.position) and "closing" in e.message for e in errors)


def test_bad_options_and_not_a_feed() -> None:
    [error] = _parse(EXCERPT, {"method": "auction"})
    assert error.position == "options"
    [error] = _parse(EXCERPT, {"regions": ["Atlantide"]})
    assert "Atlantide" in error.message
    # the agreed vocabulary (issue 14): a province, all of Québec, a Québec region by name or code
    assert feed.fixed({"regions": ["Ontario", "QC", "Montérégie", "06", "CA-NU"]})["regions"] == (
        "06", "16", "CA-NU", "CA-ON", "QC")
    [error] = feed.parse(io.BytesIO(b"just some text"), "x.rss")
    assert isinstance(error, ParseError) and "not an RSS" in error.message


def test_parse_when_and_sniff() -> None:
    assert feed.parse_when("1er août 2025", "%d %B %Y").isoformat() == "2025-08-01T00:00:00-04:00"
    assert feed.parse_when("Tue, 01 Aug 2023 13:36:14 GMT").isoformat() == "2023-08-01T13:36:14+00:00"
    assert feed.parse_when("2025-12-03T14:00:00").isoformat() == "2025-12-03T14:00:00-05:00"
    with pytest.raises(ValueError):
        feed.parse_when("à confirmer", "%d %B %Y")
    assert feed.sniff(EXCERPT.read_bytes()[:2048], "x.rss")
    assert not feed.sniff(b"<!DOCTYPE html><html><body>", "x.html")


def test_truncated_feed_gives_items_read_then_error() -> None:
    data = EXCERPT.read_bytes()
    items = list(feed.parse(io.BytesIO(data[: len(data) // 2]), "cut.rss"))
    assert [type(x).__name__ for x in items] == ["Notice", "Notice", "Notice", "ParseError"]
    assert items[-1].position == 32 and "CDATA" in items[-1].message


def test_each_item_region_read_from_a_declared_field() -> None:
    """`region` names where an item states its place; what it names replaces the constant `regions`."""
    items = _parse(EXCERPT, {"region": "regex:(Montréal|Ottawa|Halifax|Québec|Gatineau|Toronto)", "regions": ["CA"]})
    notices = [x for x in items if isinstance(x, Notice)]
    assert notices and all(n.regions for n in notices)
    assert {n.regions for n in notices} - {("CA",)}  # some items name a place of their own
    assert feed.item_regions({"regions": ("CA",)}, "Laval; Longueuil") == {"regions": ("13", "16")}
    assert feed.item_regions({"regions": ("CA",)}, "nulle part") == {"regions": ("CA",)}
