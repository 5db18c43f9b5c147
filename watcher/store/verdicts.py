"""Verdicts kept between runs, so a run judges only new or changed notices and edited profiles.

Only the pairs a notice's trade brings up (the candidate index) are stored; an enterprise with no
row for a judged notice got `no` on capability. A notice is stale when its content hash differs
from the one its verdicts were judged on; an enterprise is stale when its profile hash changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone

from sqlalchemy import Connection, delete, insert, select

from ..models import Match, Reason
from .schema import match_results, notice_judged, notices, profile_state


def profile_hashes(enterprises: Iterable[object], shared: str) -> dict[str, str]:
    """A hash per enterprise of its whole profile plus the shared rules (thresholds, phrases)."""
    return {e.id: hashlib.sha256(f"{e!r}|{shared}".encode()).hexdigest() for e in enterprises}


def stale(conn: Connection, hashes: dict[str, str]) -> tuple[list[str], set[str], set[str]]:
    """(notices to judge for everyone, enterprises to judge on every notice, enterprises gone)."""
    rows = conn.execute(select(notices.c.id).select_from(notices.outerjoin(notice_judged, notice_judged.c.notice_id == notices.c.id))
                        .where((notice_judged.c.content_hash.is_(None)) | (notice_judged.c.content_hash != notices.c.content_hash)))
    changed_notices = [r.id for r in rows]
    known = {r.enterprise_id: r.profile_hash for r in conn.execute(select(profile_state))}
    changed = {e for e, h in hashes.items() if known.get(e) != h}
    gone = set(known) - set(hashes)
    return changed_notices, changed, gone


def save(conn: Connection, judged: list[Match], notice_ids: Iterable[str], enterprise_ids: Iterable[str],
         hashes: dict[str, str], gone: Iterable[str], now: datetime | None = None) -> None:
    """Replace the verdicts of the re-judged notices (for everyone) and re-judged enterprises (on every notice)."""
    now = now or datetime.now(timezone.utc)
    notice_ids, enterprise_ids = list(notice_ids), sorted(set(enterprise_ids) | set(gone))
    for start in range(0, len(notice_ids), 5000):
        chunk = notice_ids[start:start + 5000]
        conn.execute(delete(match_results).where(match_results.c.notice_id.in_(chunk)))
        conn.execute(delete(notice_judged).where(notice_judged.c.notice_id.in_(chunk)))
        hashes_now = conn.execute(select(notices.c.id, notices.c.content_hash).where(notices.c.id.in_(chunk))).all()
        if hashes_now:
            conn.execute(insert(notice_judged), [{"notice_id": i, "content_hash": h} for i, h in hashes_now])
    if enterprise_ids:
        conn.execute(delete(match_results).where(match_results.c.enterprise_id.in_(enterprise_ids)))
        conn.execute(delete(profile_state).where(profile_state.c.enterprise_id.in_(enterprise_ids)))
        rows = [{"enterprise_id": e, "profile_hash": hashes[e], "judged_at": now} for e in enterprise_ids if e in hashes]
        if rows:
            conn.execute(insert(profile_state), rows)
    fresh = {(m.enterprise_id, m.notice_id): m for m in judged}  # a pair judged twice (both stale) once
    ids = sorted({m.notice_id for m in fresh.values()})
    content: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        content.update(conn.execute(select(notices.c.id, notices.c.content_hash).where(notices.c.id.in_(ids[start:start + 5000]))).all())
    rows = [{"enterprise_id": m.enterprise_id, "notice_id": m.notice_id, "notice_hash": content.get(m.notice_id, ""),
             "profile_hash": hashes[m.enterprise_id],
             "judged_at": now, "verdict": m.verdict, "score": m.score, "reasons": [asdict(r) for r in m.reasons]}
            for m in fresh.values()]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(match_results), rows[start:start + 5000])


def load(conn: Connection, enterprise_ids: Iterable[str], notice_ids: Iterable[str] | None = None,
         include_no: bool = False) -> Iterator[Match]:
    query = select(match_results).where(match_results.c.enterprise_id.in_(list(enterprise_ids)))
    if notice_ids is not None:
        query = query.where(match_results.c.notice_id.in_(list(notice_ids)))
    if not include_no:
        query = query.where(match_results.c.verdict != "no")
    for r in conn.execute(query):
        yield Match(r.notice_id, r.enterprise_id, r.score, r.verdict, tuple(Reason(**x) for x in r.reasons))
