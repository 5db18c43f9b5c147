"""Buyers' contacts on SQLite and PostgreSQL: kept per buyer with the date last seen; a change of
person or of phone is kept, an older file never makes a former contact current."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from watcher.collect import canadabuys
from watcher.models import Contact, Notice
from watcher.store import contacts, repo

MTL = ZoneInfo("America/Montreal")
CSV = Path(__file__).resolve().parent.parent / "data" / "canadabuys" / "openTenderNotice-excerpt.csv"


def _real() -> Notice:
    """A real CanadaBuys row (Shared Services Canada, contact Eleanor,Cesare, 613 219-8366)."""
    return next(n for n in canadabuys.parse(CSV.open("rb"), CSV.name) if n.id == "canadabuys:SSC-26-00034375:T")


def test_contacts_stored_with_date_and_changes_kept(engine):
    first = _real()
    key = contacts.buyer_key(first)
    with engine.begin() as conn:
        repo.save_notices(conn, [first], "a.csv")
        [c] = contacts.contacts_of(conn, [key])[key]
    assert (c.name, c.phone, c.buyer_name) == ("Eleanor,Cesare", "613 219-8366", "Services partagés Canada")
    assert c.last_seen == first.as_of and c.notice_id == first.id

    later = datetime(2026, 9, 1, tzinfo=MTL)
    newcomer = dataclasses.replace(first, id="canadabuys:X-2", as_of=later, published_at=later,
                                   contacts=(Contact("Marc Tremblay", "marc.tremblay@ssc-spc.gc.ca", "613 555-0100"),))
    with engine.begin() as conn:
        repo.save_notices(conn, [newcomer], "b.csv")
        current, former = contacts.contacts_of(conn, [key])[key]
        latest = contacts.latest_contact_by_name(conn, ["Services partagés Canada"])["Services partagés Canada"]
    assert (current.name, current.last_seen) == ("Marc Tremblay", later)
    assert (former.name, former.last_seen) == ("Eleanor,Cesare", first.as_of)  # the change of person is kept
    assert latest.email == "marc.tremblay@ssc-spc.gc.ca"

    moved = dataclasses.replace(newcomer, id="canadabuys:X-3", as_of=datetime(2026, 10, 1, tzinfo=MTL),
                                contacts=(Contact("Marc Tremblay", "Marc.Tremblay@ssc-spc.gc.ca", "613 555-0199"),))
    older = dataclasses.replace(first, id="canadabuys:X-0", as_of=datetime(2025, 1, 1, tzinfo=MTL),
                                contacts=(Contact("Marc Tremblay", "marc.tremblay@ssc-spc.gc.ca", "613 000-0000"),))
    with engine.begin() as conn:
        repo.save_notices(conn, [moved, older], "c.csv")
        current = contacts.contacts_of(conn, [key])[key][0]
        changes = contacts.contact_changes(conn, key)
    assert current.phone == "613 555-0199"  # the older file's phone did not win
    assert current.first_seen == datetime(2025, 1, 1, tzinfo=MTL)  # but it tells since when the person is there
    assert [c["changes"] for c in changes] == [{"email": ["marc.tremblay@ssc-spc.gc.ca", "Marc.Tremblay@ssc-spc.gc.ca"],
                                                "phone": ["613 555-0100", "613 555-0199"]}]


def test_notice_fields_survive_the_store_and_old_hashes_stay(engine):
    n = _real()
    with engine.begin() as conn:
        repo.save_notices(conn, [n], "a.csv")
        [back] = repo.load_notices(conn, ids=[n.id])
        assert back == n
        assert repo.save_notices(conn, [n], "a.csv").unchanged == 1
    plain = dataclasses.replace(n, codes=(), contacts=(), trade_agreements=(), contract_start=None, contract_end=None)
    # a notice without the new fields hashes as it did before they existed
    assert not {"currency", "codes", "contacts", "title_built"} & set(repo.canonical(plain))
    assert {"codes", "contacts", "trade_agreements"} <= set(repo.canonical(n))
