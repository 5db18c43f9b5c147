"""Digest claims: before a digest goes out, the sending process claims its enterprise in the
database, so that two processes (two daemons after a split brain, a daemon and a manual
`digest --send`) never send the same digest.

A claim is a committed row (holder, claimed_at), taken row by row with FOR UPDATE SKIP LOCKED on
PostgreSQL (under SQLite's write lock there), and granted only if no other live holder has it and
none of the digest's (notice, reason) pairs was recorded as delivered meanwhile. It is released
in the transaction that records what the server accepted; the claim of a process that died is
taken over at once on the same host, after CLAIM_LEASE from another host.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import repo, writing
from .schema import digest_claims

CLAIM_LEASE = timedelta(minutes=30)  # longer than any digest run; a dead holder's claim expires then
CLAIM_LOCK = 0x77617466  # "watf": on SQLite, claims are taken under the write lock instead of row locks


def new_holder() -> str:
    """A name for one sending run of this process: host, pid and a random part."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claim(engine: Engine, enterprise_id: str, carries: dict[str, list[str]], holder: str,
          planned_at: datetime, lease: timedelta = CLAIM_LEASE) -> str | None:
    """Claim the enterprise's digest for `holder`, which planned it at `planned_at` (wall clock).
    None when granted, else why not: another live holder, a digest sent by someone else since
    `planned_at`, or part of what it carries already delivered."""
    now = datetime.now(timezone.utc)
    pg = engine.dialect.name == "postgresql"
    with (engine.begin() if pg else writing(engine, CLAIM_LOCK)) as conn:
        dialect_insert = postgresql.insert if pg else sqlite.insert
        conn.execute(dialect_insert(digest_claims).values(enterprise_id=enterprise_id).on_conflict_do_nothing())
        query = select(digest_claims).where(digest_claims.c.enterprise_id == enterprise_id)
        row = conn.execute(query.with_for_update(skip_locked=True) if pg else query).first()
        if row is None:
            return "un autre processus le réclame en ce moment / another process is claiming it right now"
        if row.holder and row.holder != holder and row.claimed_at and row.claimed_at > now - lease and _alive(row.holder):
            return (f"en cours d'envoi par {row.holder} depuis {row.claimed_at:%H:%M} UTC / being sent by"
                    f" {row.holder} since {row.claimed_at:%H:%M} UTC")
        if row.sent_at is not None and row.sent_at >= planned_at:
            return "déjà envoyé par un autre processus / already sent by another process"
        sent = repo.deliveries_by_notice(conn, enterprise_id)
        if any(reason in sent.get(n, {}) for reason, ids in carries.items() for n in ids):
            return "déjà envoyé par un autre processus / already sent by another process"
        conn.execute(update(digest_claims).where(digest_claims.c.enterprise_id == enterprise_id)
                     .values(holder=holder, claimed_at=now))
    return None


def _alive(holder: str) -> bool:
    """False when the holder is a process of this host that no longer runs (it crashed: its claim is
    taken over at once); True otherwise, and for other hosts (their claims expire after the lease)."""
    parts = holder.rsplit(":", 2)  # host:pid:token
    if len(parts) != 3 or not parts[1].isdigit():
        return True
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname()[:100]:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def release(conn: Connection, enterprise_ids: Iterable[str], holder: str, sent: bool = False) -> None:
    """Free the claims `holder` has on these enterprises (in the caller's transaction); `sent`: their
    digest went out, so a process that planned it before now must not send it again."""
    ids = list(enterprise_ids)
    if ids:
        values: dict = dict(holder=None, claimed_at=None)
        if sent:
            values["sent_at"] = datetime.now(timezone.utc)
        conn.execute(update(digest_claims).where(digest_claims.c.enterprise_id.in_(ids), digest_claims.c.holder == holder)
                     .values(**values))
