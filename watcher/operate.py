"""What the daemon and `watcher digest --send` do around a digest run so that it can be watched and
survives failures: each run recorded (sent, refused, failed) for `watcher status` and the metrics,
digests that failed for a temporary reason sent again at the next retry tick (not a week later),
and the coordinator told once about each broken rule or source file."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Engine

from . import app
from .config import Config
from .digest.deliver import deliver
from .match.engine import Rulebook
from .rules.isolate import BrokenFile
from .store import oplog
from .store.runs import claim_alert

log = logging.getLogger("watcher.digest")


def send_digests(engine: Engine, cfg: Config, rulebook: Rulebook, kind: str = "digest", only: Iterable[str] | None = None,
                 since: datetime | None = None, judge_now: datetime | None = None,
                 now: datetime | None = None) -> list[app.DigestOutcome]:
    """app.run_digests, recorded as one digest run. A failure that retrying may cure stays pending
    (oplog.pending_retries) until a later run delivers that enterprise's digest."""
    with engine.begin() as conn:
        run_id = oplog.start_digest_run(conn, kind, now=now)
    error = None
    outcomes: list[app.DigestOutcome] = []
    try:
        outcomes = app.run_digests(engine, cfg, rulebook, since=since, judge_now=judge_now, only=only, now=now)
        return outcomes
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {exc}"
        raise
    finally:
        mails = [o for o in outcomes if o.enterprise_id != "coordinator"]
        sent = sum(1 for o in mails if o.ok)
        refused = sum(1 for o in mails if (not o.ok and o.permanent) or (o.ok and o.refused))
        failed = sum(1 for o in mails if not o.ok and not o.permanent)
        with engine.begin() as conn:
            oplog.finish_digest_run(conn, run_id, sent, refused, failed, error)
        for o in mails:
            if not o.ok:
                log.warning("digest %s: %s %s", o.enterprise_id,
                            "refusé / refused:" if o.permanent else "échec temporaire, nouvel essai au prochain passage / "
                            "temporary failure, retried at the next tick:", o.error)
        log.info("%s run: %d sent, %d refused, %d failed", kind, sent, refused, failed)


def retry_pending(engine: Engine, cfg: Config, rulebook: Rulebook, now: datetime | None = None,
                  judge_now: datetime | None = None) -> list[app.DigestOutcome]:
    """Send again the digests of enterprises whose last delivery failed for a temporary reason within
    [daemon] retry_hours; nothing (and no run recorded) when none waits. `judge_now` as in
    run_digests (the daemon passes the current time; None judges as published, for replays)."""
    now = now or datetime.now(timezone.utc)
    with engine.connect() as conn:
        waiting = oplog.pending_retries(conn, now, timedelta(hours=cfg.daemon.retry_hours))
    known = {e.id for e in rulebook.enterprises}
    waiting = [e for e in waiting if e in known]
    if not waiting:
        return []
    log.info("retry: %d digest(s) waiting after a temporary failure: %s", len(waiting), ", ".join(waiting))
    quiet = replace(cfg, daemon=replace(cfg.daemon, coordinator_email=None))  # the weekly report tells the coordinator
    return send_digests(engine, quiet, rulebook, kind="retry", only=waiting, judge_now=judge_now)


def alert_broken_files(engine: Engine, cfg: Config, broken: Iterable[BrokenFile]) -> int:
    """One mail to the coordinator per broken file content (a new typo in the same file is a new alert);
    returns the number of files reported."""
    if not cfg.daemon.coordinator_email:
        return 0
    fresh = []
    with engine.begin() as conn:
        for b in broken:
            if claim_alert(conn, f"rule-file:{b.key}:{b.content_sha256[:16]}"):
                fresh.append(b)
    if not fresh:
        return 0
    lines = ["Fichiers de règles ou de sources invalides, ignorés jusqu'à correction / "
             "broken rule or source files, skipped until fixed:", ""]
    for b in fresh:
        lines.append(f"- {b.path}" + (" (la dernière version valide reste en service / its last good version keeps serving)"
                                      if b.serving_last_good else " (ignoré / skipped)"))
        lines += [f"    {e}" for e in b.errors]
    lines += ["", "Vérifiez avec / check with: watcher rules check"]
    msg = EmailMessage()
    msg["Subject"] = f"[watcher] {len(fresh)} fichier(s) de règles invalide(s) / broken rule file(s)"
    msg["From"], msg["To"] = cfg.delivery.sender, cfg.daemon.coordinator_email
    msg["Message-ID"] = make_msgid(idstring="rules")
    msg["X-Watcher-Enterprise"] = "coordinator"
    msg.set_content("\n".join(lines) + "\n")
    result = deliver([msg], cfg.delivery)[0]
    if not result.ok:
        log.warning("broken rule files: the coordinator's alert failed: %s", result.error)
    return len(fresh)
