"""Verdicts kept between runs, so a run judges only new or changed notices and edited profiles.

Only the pairs a notice's trade brings up (the candidate index) are stored; an enterprise with no
row for a judged notice got `no` on capability. A notice is stale when its content hash differs
from the one its verdicts were judged on; an enterprise is stale when its profile hash changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import fields
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


def save(conn: Connection, judged: Iterable[Match], notice_ids: Iterable[str], enterprise_ids: Iterable[str],
         hashes: dict[str, str], gone: Iterable[str], now: datetime | None = None) -> None:
    """Replace the verdicts of the re-judged notices (for everyone) and re-judged enterprises (on every
    notice), in one transaction. A long run calls the three steps itself, a page at a time."""
    now = now or datetime.now(timezone.utc)
    enterprise_ids = set(enterprise_ids)
    forget(conn, enterprise_ids | set(gone))
    save_page(conn, judged, notice_ids, hashes, now)
    remember(conn, enterprise_ids, hashes, now)


def forget(conn: Connection, enterprise_ids: Iterable[str]) -> None:
    """Step 1: drop every verdict and the profile hash of enterprises about to be re-judged (or gone):
    until `remember`, they are stale, so a run that stops half-way is simply done again."""
    enterprise_ids = sorted(enterprise_ids)
    if enterprise_ids:
        conn.execute(delete(match_results).where(match_results.c.enterprise_id.in_(enterprise_ids)))
        conn.execute(delete(profile_state).where(profile_state.c.enterprise_id.in_(enterprise_ids)))


def save_page(conn: Connection, judged: Iterable[Match], notice_ids: Iterable[str], hashes: dict[str, str],
              now: datetime, rejudged: tuple[Iterable[str], Iterable[str]] | None = None) -> None:
    """Step 2, once per page: the verdicts of `notice_ids` (re-judged for everyone) replace their old
    ones, with the content hash they were judged on; `judged` also holds the re-judged enterprises'
    verdicts on other notices of the page: `rejudged` = (those enterprises, the page's notices),
    whose old rows (another process's, judging at the same time) are replaced too."""
    notice_ids = list(notice_ids)
    if rejudged is not None:
        ents, page = sorted(rejudged[0]), list(rejudged[1])
        for start in range(0, len(page), 5000):
            if ents:
                conn.execute(delete(match_results).where(match_results.c.enterprise_id.in_(ents),
                                                         match_results.c.notice_id.in_(page[start:start + 5000])))
    for start in range(0, len(notice_ids), 5000):
        chunk = notice_ids[start:start + 5000]
        conn.execute(delete(match_results).where(match_results.c.notice_id.in_(chunk)))
        conn.execute(delete(notice_judged).where(notice_judged.c.notice_id.in_(chunk)))
        hashes_now = conn.execute(select(notices.c.id, notices.c.content_hash).where(notices.c.id.in_(chunk))).all()
        if hashes_now:
            conn.execute(insert(notice_judged), [{"notice_id": i, "content_hash": h} for i, h in hashes_now])
    fresh = {(m.enterprise_id, m.notice_id): m for m in judged}  # a pair judged twice (both stale) once
    ids = sorted({m.notice_id for m in fresh.values()})
    content: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        content.update(conn.execute(select(notices.c.id, notices.c.content_hash).where(notices.c.id.in_(ids[start:start + 5000]))).all())
    rows = [{"enterprise_id": m.enterprise_id, "notice_id": m.notice_id, "notice_hash": content.get(m.notice_id, ""),
             "profile_hash": hashes[m.enterprise_id],
             "judged_at": now, "verdict": m.verdict, "score": m.score, "reasons": [_row(r) for r in m.reasons]}
            for m in fresh.values()]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(match_results), rows[start:start + 5000])


_REASON_FIELDS = tuple(f.name for f in fields(Reason))


def _row(reason: Reason) -> dict:
    """A reason as stored (JSON): its fields, all str or bool. dataclasses.asdict deep-copies each
    value and was 80 % of saving a page of verdicts for 10,000 profiles."""
    return {name: getattr(reason, name) for name in _REASON_FIELDS}


def remember(conn: Connection, enterprise_ids: Iterable[str], hashes: dict[str, str], now: datetime) -> None:
    """Step 3, after every page: the re-judged enterprises' profile hashes, so the next run skips them."""
    rows = [{"enterprise_id": e, "profile_hash": hashes[e], "judged_at": now} for e in sorted(enterprise_ids) if e in hashes]
    if rows:
        conn.execute(delete(profile_state).where(profile_state.c.enterprise_id.in_([r["enterprise_id"] for r in rows])))
        conn.execute(insert(profile_state), rows)


def load(conn: Connection, enterprise_ids: Iterable[str] | None, notice_ids: Iterable[str] | None = None,
         include_no: bool = False) -> Iterator[Match]:
    """Stored verdicts of these enterprises (None: all) on these notices (None: all)."""
    query = _where(select(match_results), enterprise_ids, notice_ids, include_no)
    for r in conn.execute(query):
        yield Match(r.notice_id, r.enterprise_id, r.score, r.verdict, tuple(Reason(**x) for x in r.reasons))


def notice_ids(conn: Connection, enterprise_ids: Iterable[str] | None, notice_ids: Iterable[str] | None = None,
               include_no: bool = False) -> set[str]:
    """The notices that have a stored verdict as `load` would select them: ids only, to page through."""
    query = _where(select(match_results.c.notice_id).distinct(), enterprise_ids, notice_ids, include_no)
    return {r.notice_id for r in conn.execute(query)}


def _where(query, enterprise_ids: Iterable[str] | None, notice_ids: Iterable[str] | None, include_no: bool):
    if enterprise_ids is not None:
        query = query.where(match_results.c.enterprise_id.in_(list(enterprise_ids)))
    if notice_ids is not None:
        query = query.where(match_results.c.notice_id.in_(list(notice_ids)))
    if not include_no:
        query = query.where(match_results.c.verdict != "no")
    return query
