"""Rows of the console and of the digest's feedback links: votes, unsubscribes, console users,
profile edits and proposals. Plain functions over a Connection, like repo.py."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .schema import feedback, profile_edits, proposals, unsubscribes, web_users

REASONS = ("trade", "size", "region", "timing")  # why "pas pour nous": the optional reason of a vote


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def record_feedback(conn: Connection, enterprise_id: str, notice_id: str, relevant: bool, reason: str | None,
                    via: str, now: datetime | None = None) -> bool:
    """Keep one vote per (enterprise, notice): the latest click wins. True when a new row was made."""
    now = _now(now)
    reason = reason if reason in REASONS and not relevant else None
    row = conn.execute(select(feedback.c.id).where(feedback.c.enterprise_id == enterprise_id,
                                                   feedback.c.notice_id == notice_id)).first()
    if row is not None:
        conn.execute(update(feedback).where(feedback.c.id == row.id)
                     .values(relevant=relevant, reason=reason, via=via, updated_at=now))
        return False
    try:
        with conn.begin_nested():
            conn.execute(insert(feedback).values(enterprise_id=enterprise_id, notice_id=notice_id, relevant=relevant,
                                                 reason=reason, via=via, created_at=now, updated_at=now))
        return True
    except IntegrityError:  # a second click raced the first: it becomes an update
        return record_feedback(conn, enterprise_id, notice_id, relevant, reason, via, now)


def feedback_rows(conn: Connection, enterprise_id: str | None = None) -> list[dict[str, Any]]:
    query = select(feedback).order_by(feedback.c.updated_at, feedback.c.id)
    if enterprise_id is not None:
        query = query.where(feedback.c.enterprise_id == enterprise_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def unsubscribe(conn: Connection, enterprise_id: str, via: str, now: datetime | None = None) -> None:
    """Stop every mail to this enterprise (digests and alerts) until a coordinator resubscribes it."""
    if conn.execute(select(unsubscribes.c.enterprise_id).where(unsubscribes.c.enterprise_id == enterprise_id)).first():
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(unsubscribes).values(enterprise_id=enterprise_id, at=_now(now), via=via))
    except IntegrityError:
        pass  # unsubscribed twice at once: once is enough


def resubscribe(conn: Connection, enterprise_id: str) -> None:
    conn.execute(delete(unsubscribes).where(unsubscribes.c.enterprise_id == enterprise_id))


def unsubscribed(conn: Connection) -> dict[str, datetime]:
    """Enterprise id -> when it unsubscribed."""
    return {r.enterprise_id: r.at for r in conn.execute(select(unsubscribes))}


def add_user(conn: Connection, username: str, password_hash: str, now: datetime | None = None) -> bool:
    """Create the account or change its password; True when it is new."""
    if conn.execute(select(web_users.c.username).where(web_users.c.username == username)).first():
        conn.execute(update(web_users).where(web_users.c.username == username).values(password_hash=password_hash))
        return False
    conn.execute(insert(web_users).values(username=username, password_hash=password_hash, created_at=_now(now)))
    return True


def password_hash(conn: Connection, username: str) -> str | None:
    return conn.execute(select(web_users.c.password_hash).where(web_users.c.username == username)).scalar()


def record_edit(conn: Connection, enterprise_id: str, username: str, previous: str | None, summary: str,
                now: datetime | None = None) -> None:
    conn.execute(insert(profile_edits).values(enterprise_id=enterprise_id, username=username, at=_now(now),
                                              previous=previous, summary=summary))


def edits(conn: Connection, enterprise_id: str) -> list[dict[str, Any]]:
    query = (select(profile_edits).where(profile_edits.c.enterprise_id == enterprise_id)
             .order_by(profile_edits.c.at.desc(), profile_edits.c.id.desc()))
    return [dict(r._mapping) for r in conn.execute(query)]


def save_proposal(conn: Connection, enterprise_id: str, key: str, field: str, action: str, value: str,
                  evidence: list[str], backtest: dict[str, Any], now: datetime | None = None) -> bool:
    """Store a proposal once per (enterprise, key): a rejected one is not proposed again. True if new."""
    if conn.execute(select(proposals.c.id).where(proposals.c.enterprise_id == enterprise_id, proposals.c.key == key)).first():
        return False
    conn.execute(insert(proposals).values(enterprise_id=enterprise_id, key=key, field=field, action=action, value=value,
                                          evidence=evidence, backtest=backtest, status="open", created_at=_now(now)))
    return True


def proposal_rows(conn: Connection, enterprise_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    query = select(proposals).order_by(proposals.c.created_at.desc(), proposals.c.id.desc())
    if enterprise_id is not None:
        query = query.where(proposals.c.enterprise_id == enterprise_id)
    if status is not None:
        query = query.where(proposals.c.status == status)
    return [dict(r._mapping) for r in conn.execute(query)]


def proposal(conn: Connection, proposal_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(proposals).where(proposals.c.id == proposal_id)).first()
    return dict(row._mapping) if row else None


def decide_proposal(conn: Connection, proposal_id: int, status: str, username: str, now: datetime | None = None) -> bool:
    """Accept or reject an open proposal; False when it was already decided (a double submit)."""
    done = conn.execute(update(proposals).where(proposals.c.id == proposal_id, proposals.c.status == "open")
                        .values(status=status, decided_by=username, decided_at=_now(now)))
    return done.rowcount == 1
