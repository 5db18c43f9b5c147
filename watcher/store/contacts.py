"""Buyers' contact persons, kept across notices: who the buyer named, when first and last seen.

Buyers change staff often, and knowing today's person is half of a gré à gré sale: each (buyer,
person) is one row whose `last_seen` moves forward with every notice naming that person; a new
person gets a new row, the former one keeps its dates (so the history shows who came after whom);
a known person's new phone or name spelling is recorded in buyer_contact_changes. The "seen" date
is when the notice stated it (its `as_of`, else its publication), so importing old files never
makes a former contact look current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, or_, select, update

from ..models import Notice
from .schema import buyer_contact_changes, buyer_contacts


def fold(text: str) -> str:
    """Case and spacing folded: the same buyer or person written twice the same way is one key."""
    return " ".join(str(text or "").lower().split())


@dataclass(frozen=True)
class KnownContact:
    """A buyer's contact person as the store knows it."""

    buyer_key: str
    buyer_name: str
    name: str
    email: str
    phone: str
    first_seen: datetime
    last_seen: datetime
    notice_id: str | None


def buyer_key(notice: Notice) -> str:
    """'<source>:<buyer id>' when the source identifies its buyers, else 'name:<folded buyer name>'."""
    if notice.buyer_id:
        return f"{notice.source}:{notice.buyer_id}"[:300]
    return f"name:{fold(notice.buyer_name)}"[:300]


def _person_key(email: str, name: str) -> str:
    return (email.strip().lower() or fold(name))[:300]


def save_contacts(conn: Connection, items: Iterable[Notice], now: datetime | None = None) -> int:
    """Record the contacts these notices state; returns how many (buyer, person) rows were created."""
    now = now or datetime.now(timezone.utc)
    created = 0
    for notice in items:
        if not notice.contacts or not (notice.buyer_id or notice.buyer_name):
            continue
        seen = notice.as_of or notice.published_at or now
        key = buyer_key(notice)
        for c in notice.contacts:
            person = _person_key(c.email, c.name)
            if not person:
                continue
            row = conn.execute(select(buyer_contacts).where(buyer_contacts.c.buyer_key == key,
                                                            buyer_contacts.c.person_key == person)).first()
            if row is None:
                conn.execute(insert(buyer_contacts).values(
                    buyer_key=key, buyer_name=notice.buyer_name, person_key=person, name=c.name, email=c.email,
                    phone=c.phone, first_seen=seen, last_seen=seen, notice_id=notice.id))
                created += 1
                continue
            values: dict = {"first_seen": min(row.first_seen, seen)}
            if seen >= row.last_seen:  # a newer statement: it says what the contact is now
                changes = {f: [getattr(row, f), v] for f, v in (("name", c.name), ("email", c.email), ("phone", c.phone))
                           if v and v != getattr(row, f)}
                if changes:
                    conn.execute(insert(buyer_contact_changes).values(contact_id=row.id, seen_at=seen,
                                                                      notice_id=notice.id, changes=changes))
                    values.update({f: new for f, (_, new) in changes.items()})
                values.update(last_seen=seen, notice_id=notice.id, buyer_name=notice.buyer_name or row.buyer_name)
            conn.execute(update(buyer_contacts).where(buyer_contacts.c.id == row.id).values(**values))
    return created


def contacts_of(conn: Connection, keys: Iterable[str]) -> dict[str, list[KnownContact]]:
    """{buyer key: its contact persons, most recently seen first} (the first one is the current one)."""
    wanted = sorted(set(keys))
    out: dict[str, list[KnownContact]] = {}
    for start in range(0, len(wanted), 1000):
        query = (select(buyer_contacts).where(buyer_contacts.c.buyer_key.in_(wanted[start:start + 1000]))
                 .order_by(buyer_contacts.c.buyer_key, buyer_contacts.c.last_seen.desc(), buyer_contacts.c.id.desc()))
        for r in conn.execute(query):
            out.setdefault(r.buyer_key, []).append(KnownContact(r.buyer_key, r.buyer_name, r.name, r.email, r.phone,
                                                                r.first_seen, r.last_seen, r.notice_id))
    return out


def latest_contact_by_name(conn: Connection, buyer_names: Iterable[str]) -> dict[str, KnownContact]:
    """{buyer name: its most recently seen contact}, for views that know buyers by name only
    (`watcher buyers`, digests); a buyer stored under its id is found through its name too. One
    query a few hundred names (a digest asks for a few, 10,000 times a run)."""
    names = sorted({n for n in buyer_names if n})
    out: dict[str, KnownContact] = {}
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        keys = {f"name:{fold(n)}" for n in chunk}
        query = (select(buyer_contacts).where(or_(buyer_contacts.c.buyer_key.in_(sorted(keys)), buyer_contacts.c.buyer_name.in_(chunk)))
                 .order_by(buyer_contacts.c.last_seen.desc(), buyer_contacts.c.id.desc()))
        by_key: dict[str, KnownContact] = {}
        by_name: dict[str, KnownContact] = {}
        for r in conn.execute(query):  # latest first: the first row of a key or a name is its current contact
            contact = KnownContact(r.buyer_key, r.buyer_name, r.name, r.email, r.phone, r.first_seen, r.last_seen, r.notice_id)
            if r.buyer_key in keys:
                by_key.setdefault(r.buyer_key, contact)
            by_name.setdefault(r.buyer_name, contact)
        for name in chunk:  # the buyer's own key first, else any buyer stored under that exact name
            found = by_key.get(f"name:{fold(name)}") or by_name.get(name)
            if found is not None:
                out[name] = found
    return out


def contact_changes(conn: Connection, buyer: str) -> list[dict]:
    """Every recorded change of this buyer key's contacts, oldest first: {name, email, seen_at, changes}."""
    query = (select(buyer_contacts.c.name, buyer_contacts.c.email, buyer_contact_changes.c.seen_at,
                    buyer_contact_changes.c.notice_id, buyer_contact_changes.c.changes)
             .join(buyer_contacts, buyer_contacts.c.id == buyer_contact_changes.c.contact_id)
             .where(buyer_contacts.c.buyer_key == buyer).order_by(buyer_contact_changes.c.seen_at))
    return [dict(r._mapping) for r in conn.execute(query)]
