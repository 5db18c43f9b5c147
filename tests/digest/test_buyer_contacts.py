"""The digest's "buyers to meet" shows each buyer's latest known contact person with its date."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from watcher.digest.build import build_digest
from watcher.match.awards import WeekLeads
from watcher.store.contacts import KnownContact


def test_buyer_line_carries_the_latest_contact(renderer, seao):
    digest = build_digest(seao.coop, seao.pairs, seao.now, max_items=25)
    lead = SimpleNamespace(buyer="Ville de Brossard", reason=lambda lang: "achète de l'entretien ménager chaque année",
                           incumbents=())
    other = SimpleNamespace(buyer="Ville de Laval", reason=lambda lang: "a acheté deux fois", incumbents=())
    digest.extra["leads"] = WeekLeads(buyers=(lead, other))
    digest.extra["buyer_contacts"] = {"Ville de Brossard": KnownContact(
        "name:ville de brossard", "Ville de Brossard", "Julie Tremblay", "julie.tremblay@example.org", "450 555-0100",
        datetime(2025, 1, 3, tzinfo=timezone.utc), datetime(2026, 9, 2, 15, tzinfo=timezone.utc), "canadabuys:x")}
    text = renderer.render(digest, seao.sender).get_body(("plain",)).get_content()
    flat = " ".join(text.split())
    assert ("1. Ville de Brossard contact : Julie Tremblay, julie.tremblay@example.org, 450 555-0100 (vu le 2 sept. 2026) "
            "Pourquoi : achète de l'entretien ménager chaque année") in flat
    assert "2. Ville de Laval Pourquoi : a acheté deux fois" in flat


def test_notice_contact_and_foreign_currency_in_the_item(renderer, seao):
    """Each notice shows the contact person it names (and when), and its value in its own currency."""
    from dataclasses import replace

    from watcher.models import Contact

    notice, match = seao.pairs[0]
    uk = replace(notice, contacts=(Contact("", "molly.morgan@placesforpeople.co.uk", "+4401772897200"),),
                 currency="GBP", estimated_value=175_000_000.0)
    digest = build_digest(seao.coop, [(uk, match)], seao.now, max_items=25)
    text = " ".join(renderer.render(digest, seao.sender).get_body(("plain",)).get_content().split())
    assert "contact : molly.morgan@placesforpeople.co.uk, +4401772897200 (vu le" in text
    assert "175 000 000 £" in text and "175 000 000 $" not in text
