"""Collection bookkeeping: source runs, conditional-request state per resource, alerts sent once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .schema import alerts, fetched_resources, source_runs


@dataclass(frozen=True)
class ResourceState:
    etag: str | None
    last_modified: str | None
    sha256: str | None


@dataclass(frozen=True)
class SourceStatus:
    source: str
    last_run: datetime | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    runs: int
    notices_new: int
    notices_updated: int

    def as_json(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"source": self.source, "last_run": iso(self.last_run), "last_success": iso(self.last_success),
                "last_error": self.last_error, "last_error_at": iso(self.last_error_at),
                "consecutive_failures": self.consecutive_failures, "runs": self.runs,
                "notices_new": self.notices_new, "notices_updated": self.notices_updated}


def start_run(conn: Connection, source: str, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    result = conn.execute(insert(source_runs).values(source=source, started_at=now, bytes=0, requests=0,
                                                     notices_new=0, notices_updated=0))
    return result.inserted_primary_key[0]


def finish_run(conn: Connection, run_id: int, ok: bool, http_status: int | None = None, nbytes: int = 0,
               requests: int = 0, new: int = 0, updated: int = 0, error: str | None = None,
               now: datetime | None = None) -> None:
    conn.execute(update(source_runs).where(source_runs.c.id == run_id).values(
        finished_at=now or datetime.now(timezone.utc), ok=ok, http_status=http_status, bytes=nbytes, requests=requests,
        notices_new=new, notices_updated=updated, error=error))


def resource_state(conn: Connection, source: str, resource: str) -> ResourceState | None:
    row = conn.execute(select(fetched_resources).where(fetched_resources.c.source == source,
                                                       fetched_resources.c.resource == resource)).first()
    return ResourceState(row.etag, row.last_modified, row.sha256) if row else None


def save_resource_state(conn: Connection, source: str, resource: str, state: ResourceState, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    values = dict(etag=state.etag, last_modified=state.last_modified, sha256=state.sha256, fetched_at=now)
    done = conn.execute(update(fetched_resources).where(fetched_resources.c.source == source,
                                                        fetched_resources.c.resource == resource).values(**values))
    if done.rowcount == 0:
        conn.execute(insert(fetched_resources).values(source=source, resource=resource, **values))


def statuses(conn: Connection) -> list[SourceStatus]:
    """Per source: last success, last error, failures in a row since the last success, totals."""
    out = []
    names = [r[0] for r in conn.execute(select(source_runs.c.source).distinct().order_by(source_runs.c.source))]
    for name in names:
        rows = conn.execute(select(source_runs).where(source_runs.c.source == name, source_runs.c.finished_at.is_not(None))
                            .order_by(source_runs.c.started_at.desc(), source_runs.c.id.desc())).all()
        failures = 0
        for r in rows:
            if r.ok:
                break
            failures += 1
        success = next((r for r in rows if r.ok), None)
        error = next((r for r in rows if not r.ok), None)
        totals = conn.execute(select(func.count(), func.coalesce(func.sum(source_runs.c.notices_new), 0),
                                     func.coalesce(func.sum(source_runs.c.notices_updated), 0))
                              .where(source_runs.c.source == name)).one()
        out.append(SourceStatus(name, rows[0].started_at if rows else None, success.finished_at if success else None,
                                error.error if error else None, error.finished_at if error else None, failures,
                                totals[0], totals[1], totals[2]))
    return out


def claim_alert(conn: Connection, key: str, now: datetime | None = None) -> bool:
    """True the first time `key` is claimed, False ever after: an alert goes out once."""
    try:
        with conn.begin_nested():
            conn.execute(insert(alerts).values(key=key, sent_at=now or datetime.now(timezone.utc)))
        return True
    except IntegrityError:
        return False


def failure_streak_start(conn: Connection, source: str) -> int | None:
    """Id of the first failed run of the source's current failure streak (None when its last run succeeded)."""
    rows = conn.execute(select(source_runs.c.id, source_runs.c.ok).where(source_runs.c.source == source,
                                                                          source_runs.c.finished_at.is_not(None))
                        .order_by(source_runs.c.started_at.desc(), source_runs.c.id.desc())).all()
    first = None
    for run_id, ok in rows:
        if ok:
            break
        first = run_id
    return first
