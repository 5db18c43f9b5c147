"""Operations bookkeeping for a daemon that runs for a year: digest runs (for `watcher status` and
the metrics), deliveries that failed for a temporary reason and wait for a retry, and the last
good version of each rule and source file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, func, insert, select, update

from .schema import deliveries, delivery_failures, digest_runs, good_rule_files, notices, source_runs


@dataclass(frozen=True)
class DigestRun:
    kind: str
    started_at: datetime
    finished_at: datetime | None
    sent: int
    refused: int
    failed: int
    error: str | None

    def as_json(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"kind": self.kind, "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
                "sent": self.sent, "refused": self.refused, "failed": self.failed, "error": self.error}


def start_digest_run(conn: Connection, kind: str, now: datetime | None = None) -> int:
    result = conn.execute(insert(digest_runs).values(kind=kind, started_at=now or datetime.now(timezone.utc),
                                                     sent=0, refused=0, failed=0))
    return result.inserted_primary_key[0]


def finish_digest_run(conn: Connection, run_id: int, sent: int, refused: int, failed: int,
                      error: str | None = None, now: datetime | None = None) -> None:
    conn.execute(update(digest_runs).where(digest_runs.c.id == run_id).values(
        finished_at=now or datetime.now(timezone.utc), sent=sent, refused=refused, failed=failed, error=error))


def last_digest_run(conn: Connection, kind: str | None = None) -> DigestRun | None:
    query = select(digest_runs).order_by(digest_runs.c.started_at.desc(), digest_runs.c.id.desc()).limit(1)
    if kind:
        query = query.where(digest_runs.c.kind == kind)
    row = conn.execute(query).first()
    return DigestRun(row.kind, row.started_at, row.finished_at, row.sent, row.refused, row.failed, row.error) if row else None


def digest_totals(conn: Connection) -> dict[str, int]:
    """Mails sent, refused and failed by every finished digest run: counters for the metrics."""
    row = conn.execute(select(func.coalesce(func.sum(digest_runs.c.sent), 0), func.coalesce(func.sum(digest_runs.c.refused), 0),
                              func.coalesce(func.sum(digest_runs.c.failed), 0), func.count())).one()
    return {"sent": int(row[0]), "refused": int(row[1]), "failed": int(row[2]), "runs": int(row[3])}


def pending_retries(conn: Connection, now: datetime, within: timedelta) -> list[str]:
    """Enterprises whose digest failed for a temporary reason (server down, 4xx) and that received
    nothing since: the daemon tries them again at its next tick. Given up (left to the coordinator's
    report) once the first failure of that streak is older than `within`, or after a refusal (5xx)."""
    recent = [e for (e,) in conn.execute(select(delivery_failures.c.enterprise_id).distinct()
                                         .where(delivery_failures.c.permanent.is_(False),
                                                delivery_failures.c.failed_at >= now - within))]
    if not recent:
        return []
    last_sent = {e: _utc(at) for e, at in conn.execute(
        select(deliveries.c.enterprise_id, func.max(deliveries.c.sent_at))
        .where(deliveries.c.enterprise_id.in_(recent)).group_by(deliveries.c.enterprise_id)) if at is not None}
    streaks: dict[str, list[tuple[datetime, bool]]] = {}
    for e, at, permanent in conn.execute(select(delivery_failures.c.enterprise_id, delivery_failures.c.failed_at,
                                                delivery_failures.c.permanent)
                                         .where(delivery_failures.c.enterprise_id.in_(recent))
                                         .order_by(delivery_failures.c.failed_at)):
        at = _utc(at)
        if e not in last_sent or at > last_sent[e]:  # failures since its last delivery
            streaks.setdefault(e, []).append((at, bool(permanent)))
    return sorted(e for e, streak in streaks.items()
                  if streak and not streak[-1][1] and streak[0][0] >= now - within)


def _utc(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def collect_figures(conn: Connection) -> dict:
    """For the metrics: runs per source and outcome, the last successful run per source, notices stored."""
    runs = conn.execute(select(source_runs.c.source, source_runs.c.ok, func.count())
                        .where(source_runs.c.finished_at.is_not(None))
                        .group_by(source_runs.c.source, source_runs.c.ok)).all()
    last_ok = dict(conn.execute(select(source_runs.c.source, func.max(source_runs.c.finished_at))
                                .where(source_runs.c.ok.is_(True)).group_by(source_runs.c.source)).all())
    total = conn.execute(select(func.count()).select_from(notices)).scalar_one()
    return {"runs": [(s, bool(ok), int(n)) for s, ok, n in runs],
            "last_success": {s: _utc(d) for s, d in last_ok.items() if d is not None}, "notices": int(total)}


# --- last good version of rule and source files ------------------------------------------------

def good_files(conn: Connection) -> dict[str, tuple[str, str]]:
    """{path: (sha256, content)} of every rule or source file that last passed validation."""
    return {r.path: (r.sha256, r.content) for r in conn.execute(select(good_rule_files))}


def save_good_file(conn: Connection, path: str, content: str, now: datetime | None = None) -> None:
    """Remember this validated content of `path` (a no-op when it is already the one kept)."""
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    kept = conn.execute(select(good_rule_files.c.sha256).where(good_rule_files.c.path == path)).scalar()
    values = dict(sha256=digest, content=content, saved_at=now or datetime.now(timezone.utc))
    if kept is None:
        conn.execute(insert(good_rule_files).values(path=path, **values))
    elif kept != digest:
        conn.execute(update(good_rule_files).where(good_rule_files.c.path == path).values(**values))
