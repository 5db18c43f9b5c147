"""Collect declared sources: discover their files, fetch politely, parse, store, record the run.

Why here and not in each parser: every source kind needs the same bookkeeping. A resource
(one URL, or one CKAN resource id) is fetched with the validators of its previous fetch, so an
unchanged source costs one request and no writes; identical bytes are not parsed again; a file
is stored in one transaction, so a truncated or malformed download stores nothing, is fetched
once more, and otherwise fails the run without touching what was stored before. One source's
failure is recorded and never stops the others.
"""

from __future__ import annotations

import gzip
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import Engine

from ..errors import ParseError, WatcherError
from ..limits import MAX_INFLATED, bounded
from ..models import Expense, FinalContract, Notice
from ..sources import KINDS, Source
from ..store import repo, runs, writing
from . import PARSERS
from .fetch import FetchResult, Fetcher, ckan_resources
from .html import next_page

log = logging.getLogger("watcher.collect")
CHUNK = 500


@dataclass
class RunReport:
    """What one run of one source did; `error` is None when it succeeded."""

    source: str
    http_status: int | None = None
    bytes: int = 0
    requests: int = 0
    resources: int = 0  # files fetched and parsed
    unchanged: int = 0  # files answered 304 or with bytes already read
    new: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)  # record-level errors, the rest of the file stored
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """The one log line of a run."""
        state = "ok" if self.ok else f"ÉCHEC / FAILED: {self.error}"
        return (f"{self.source}: {state} — {self.resources} fichier(s) lu(s) / file(s) read, {self.unchanged} inchangé(s) / unchanged, "
                f"{self.new} nouveaux / new, {self.updated} mis à jour / updated, {len(self.skipped)} enregistrement(s) ignoré(s) / "
                f"record(s) skipped, {self.requests} requête(s) / request(s), {self.bytes} octets / bytes")


@dataclass(frozen=True)
class Target:
    """One file to fetch: `key` identifies its state (URL, or CKAN resource id, never a reused file name)."""

    key: str
    url: str


def targets(source: Source, fetcher: Fetcher) -> Iterator[Target]:
    """The files a source is made of, per its kind's discovery rule (pages are followed by collect_source)."""
    discovery = KINDS[source.kind].discovery
    if discovery == "ckan":
        found = ckan_resources(fetcher, source.url, source.options["package"],
                               tuple(source.options.get("prefixes", ["hebdo_", "mensuel_"])))
        wanted = [r for r in found if not source.options.get("formats")
                  or (r.format or "").lower() in {f.lower() for f in source.options["formats"]}]
        limit = source.options.get("max_resources")
        if limit:
            wanted = wanted[-limit:]  # the newest ones, still oldest first so later statements win
        for r in wanted:
            yield Target(f"ckan:{r.id}", r.url)
    elif discovery == "urls":
        for url in source.options.get("urls") or [source.url]:
            yield Target(url, url)
    else:
        yield Target(source.url, source.url)


def collect_source(engine: Engine, source: Source, fetcher: Fetcher, stop: threading.Event | None = None,
                   now: datetime | None = None) -> RunReport:
    """Run one source once and record the run; never raises for a source problem (it is in the report)."""
    report = RunReport(source.name)
    with engine.begin() as conn:
        run_id = runs.start_run(conn, source.name, now)
    try:
        queue = list(targets(source, fetcher))
        report.requests += 1 if KINDS[source.kind].discovery == "ckan" else 0
        pages = 0
        while queue:
            if stop is not None and stop.is_set():
                report.error = "arrêté avant la fin / stopped before the end (the rest is fetched next run)"
                break
            target = queue.pop(0)
            body = _collect_target(engine, source, fetcher, target, report)
            if KINDS[source.kind].discovery == "pages" and body is not None:
                pages += 1
                follow = next_page(body, {**source.options, "base_url": source.options.get("base_url", target.url)})
                if follow and pages < int(source.options.get("max_pages", 10)):
                    queue.append(Target(follow, follow))
    except WatcherError as exc:  # FetchError, ParseError, StoreError...
        report.error = str(exc)
    except Exception as exc:  # a bug in one source must not stop the daemon: record it, go on
        log.error("%s: unexpected error: %s: %s", source.name, type(exc).__name__, exc)
        log.debug("%s: traceback", source.name, exc_info=True)  # the traceback at DEBUG (--verbose)
        report.error = f"{type(exc).__name__}: {exc}"
    with engine.begin() as conn:
        runs.finish_run(conn, run_id, report.ok, report.http_status, report.bytes, report.requests,
                        report.new, report.updated, report.error)
    log.log(logging.INFO if report.ok else logging.WARNING, report.line())  # failures: filterable at WARNING
    return report


def _collect_target(engine: Engine, source: Source, fetcher: Fetcher, target: Target, report: RunReport) -> bytes | None:
    """Fetch one file and store it; returns its body when it was read (pages need it), None when unchanged."""
    with engine.connect() as conn:
        state = runs.resource_state(conn, source.name, target.key)
    result = fetcher.get(target.url, state.etag if state else None, state.last_modified if state else None)
    _count(report, result)
    if result.not_modified or (state is not None and state.sha256 == result.sha256):
        report.unchanged += 1
        with engine.begin() as conn:
            runs.save_resource_state(conn, source.name, target.key, runs.ResourceState(result.etag, result.last_modified,
                                                                                      state.sha256 if state else None))
        return None
    try:
        _store(engine, source, target, result, report, fetcher.max_bytes)
    except ParseError as first:
        # A truncated download looks like a malformed file: fetch it whole once more before failing.
        log.warning("%s: %s; second download", source.name, first)
        result = fetcher.get(target.url)
        _count(report, result)
        _store(engine, source, target, result, report, fetcher.max_bytes)
    report.resources += 1
    return result.body


def _count(report: RunReport, result: FetchResult) -> None:
    report.http_status = result.status
    report.bytes += result.bytes
    report.requests += result.attempts


def _store(engine: Engine, source: Source, target: Target, result: FetchResult, report: RunReport,
           max_inflated: int = MAX_INFLATED) -> None:
    """Parse and save one file in one transaction; a file the parser calls broken (a fatal ParseError:
    malformed, truncated, not this format) raises it and stores nothing."""
    body = result.body or b""
    stream = (bounded(gzip.GzipFile(fileobj=io.BytesIO(body)), max_inflated, target.url)  # the size cap holds inflated too
              if body[:2] == b"\x1f\x8b" else io.BytesIO(body))
    parse = PARSERS[KINDS[source.kind].parser]
    skipped: list[str] = []
    new = updated = 0
    with writing(engine) as conn:  # serialised with other writers: one change is never recorded twice
        notices: list[Notice] = []
        for item in parse(stream, target.url, dict(source.options)):
            if isinstance(item, ParseError):
                if item.fatal:
                    raise item  # rolls the whole file back
                skipped.append(str(item))
                continue
            if isinstance(item, Notice):
                notices.append(item)
            elif isinstance(item, FinalContract):
                repo.save_final_contracts(conn, [item])
            elif isinstance(item, Expense):
                repo.save_expenses(conn, [item])
            if len(notices) >= CHUNK:
                counts = repo.save_notices(conn, notices, origin=target.url)
                new, updated = new + counts.new, updated + counts.updated
                notices.clear()
        counts = repo.save_notices(conn, notices, origin=target.url)
        new, updated = new + counts.new, updated + counts.updated
        runs.save_resource_state(conn, source.name, target.key, runs.ResourceState(result.etag, result.last_modified, result.sha256))
    report.new += new
    report.updated += updated
    report.skipped += skipped


def collect_all(engine: Engine, sources: list[Source], fetcher: Fetcher, stop: threading.Event | None = None) -> list[RunReport]:
    """Every enabled source once, in order; each failure is recorded and the next source runs."""
    reports = []
    for source in sources:
        if stop is not None and stop.is_set():
            break
        reports.append(collect_source(engine, source, fetcher, stop))
    return reports


def failing_alerts(engine: Engine, max_failures: int, sender: str, coordinator: str,
                   now: datetime | None = None) -> list[EmailMessage]:
    """One alert mail per source that has failed `max_failures` times in a row, once per failure streak
    (the key names the streak's first failed run, so a source that recovers and fails again alerts again)."""
    messages = []
    with engine.begin() as conn:
        for status in runs.statuses(conn):
            if status.consecutive_failures < max_failures:
                continue
            streak = runs.failure_streak_start(conn, status.source)
            if not runs.claim_alert(conn, f"source-failing:{status.source}:{streak}", now):
                continue
            since = f"{status.last_success:%Y-%m-%d %H:%M} UTC" if status.last_success else "jamais / never"
            msg = EmailMessage()
            msg["From"], msg["To"] = sender, coordinator
            msg["Subject"] = f"[watcher] source en échec / source failing: {status.source} ({status.consecutive_failures}×)"
            msg.set_content(
                f"La source « {status.source} » a échoué {status.consecutive_failures} fois de suite "
                f"(dernier succès : {since}).\nDernière erreur : {status.last_error}\n\n"
                f"The source \"{status.source}\" failed {status.consecutive_failures} times in a row "
                f"(last success: {since}).\nLast error: {status.last_error}\n\n"
                "Détails / details: watcher status\n")
            messages.append(msg)
    return messages
