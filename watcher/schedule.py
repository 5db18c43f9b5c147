"""The daemon: APScheduler 3 wiring only (which job runs when), plus the one-instance lock.

Jobs call the same functions as the CLI (watcher.app). Missed runs are coalesced into one; a
job never overlaps itself; SIGTERM/SIGINT let the running job finish its unit of work.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, text

from .errors import WatcherError

log = logging.getLogger("watcher.daemon")
TIMEZONE = "America/Montreal"
LOCK_KEY = 0x77617463  # "watc": the PostgreSQL advisory lock of the daemon


class AlreadyRunning(WatcherError):
    hint = "un autre « watcher run » utilise cette base / another `watcher run` uses this database: stop it first"


@contextmanager
def instance_lock(engine: Engine, standby_poll: float, stop: threading.Event) -> Iterator[None]:
    """One daemon per database. SQLite: a lock file beside the database, a second daemon refuses.
    PostgreSQL: an advisory lock; a second daemon waits as a standby and takes over when the first stops."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database) + ".lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(f"{path} is locked: a daemon already runs on {engine.url.database}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    conn = engine.connect()
    try:
        waiting_said = False
        while not conn.execute(text("select pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
            conn.rollback()
            if not waiting_said:
                log.info("standby: another daemon holds the lock; retrying every %.0f s", standby_poll)
                waiting_said = True
            if stop.wait(standby_poll):
                raise AlreadyRunning("stopped while waiting as standby")
        conn.commit()
        if waiting_said:
            log.info("lock acquired: this daemon is now active")
        yield
    finally:
        try:
            conn.execute(text("select pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
        finally:
            conn.close()


Job = tuple[str, str, Callable[[threading.Event], None]]  # (name, cron, job(stop_event))


def run_daemon(jobs: list[Job], engine: Engine, standby_poll: float,
               stop: threading.Event | None = None, install_signals: bool = True, run_at_start: bool = False,
               reload: Callable[[], list[Job]] | None = None, at_start: Callable[[threading.Event], None] | None = None,
               after_job: Callable[[], None] | None = None) -> None:
    """Run (name, cron, job(stop_event)) entries until SIGTERM/SIGINT or `stop` is set; with
    `run_at_start` every job also runs once right away (after a deployment, or to try a config).
    `at_start` runs once, in order, before the schedule starts (`run --now`: collect, then digests).
    SIGHUP calls `reload` for a new job list (rule and source files read again) without a restart;
    `after_job` runs after each job (e.g. writing the metrics textfile)."""
    stop = stop or threading.Event()
    wanted = threading.Event()  # a reload was asked for (SIGHUP)
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: (log.info("signal %s: stopping after the current unit of work", signum), stop.set()))
        if reload is not None:
            signal.signal(signal.SIGHUP, lambda signum, frame: wanted.set())
    with instance_lock(engine, standby_poll, stop):
        if at_start is not None:
            _guarded("start", at_start, stop, after_job)()
        scheduler = BackgroundScheduler(
            timezone=TIMEZONE,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        )
        first = {"next_run_time": datetime.now(ZoneInfo(TIMEZONE))} if run_at_start else {}
        _schedule(scheduler, jobs, stop, after_job, first)
        scheduler.start()
        log.info("daemon started: %s", ", ".join(f"{name} [{cron}]" for name, cron, _ in jobs))
        try:
            while not stop.wait(0.5):
                if wanted.is_set():
                    wanted.clear()
                    _reload(scheduler, reload, stop, after_job)
        finally:
            scheduler.shutdown(wait=True)  # the running job sees `stop` and ends its unit of work
            log.info("daemon stopped")


def _schedule(scheduler: BackgroundScheduler, jobs: list[Job], stop: threading.Event,
              after_job: Callable[[], None] | None, extra: dict | None = None) -> None:
    """Add or replace each job by name; a job of the same name keeps its "never overlaps itself"."""
    for name, cron, job in jobs:
        scheduler.add_job(_guarded(name, job, stop, after_job), CronTrigger.from_crontab(cron, timezone=TIMEZONE),
                          id=name, name=name, replace_existing=True, **(extra or {}))


def _reload(scheduler: BackgroundScheduler, reload: Callable[[], list[Job]] | None, stop: threading.Event,
            after_job: Callable[[], None] | None) -> None:
    """SIGHUP: read the rule and source files again and reschedule; on error keep the current jobs."""
    if reload is None:
        return
    try:
        jobs = reload()
    except Exception as exc:  # a broken shared rule file: keep serving with what runs now
        log.warning("reload failed, keeping the current jobs: %s", exc)
        log.debug("reload failed", exc_info=True)
        return
    names = {name for name, _, _ in jobs}
    for old in scheduler.get_jobs():
        if old.id not in names:
            scheduler.remove_job(old.id)
    _schedule(scheduler, jobs, stop, after_job)
    log.info("reloaded (SIGHUP): %s", ", ".join(f"{name} [{cron}]" for name, cron, _ in jobs))


def _guarded(name: str, job: Callable[[threading.Event], None], stop: threading.Event,
             after_job: Callable[[], None] | None = None) -> Callable[[], None]:
    """A job that logs one line and never lets an exception kill the scheduler: the failure at
    WARNING (what an operator filters on), its traceback at DEBUG."""
    def run() -> None:
        if stop.is_set():
            return
        started = time.monotonic()
        try:
            job(stop)
        except Exception as exc:  # one broken job must not stop the others
            log.warning("%s: failed after %.1f s: %s", name, time.monotonic() - started, exc)
            log.debug("%s: traceback", name, exc_info=True)
        if after_job is not None:
            try:
                after_job()
            except Exception as exc:  # metrics must never break a job
                log.warning("after %s: %s", name, exc)
    return run
