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


def run_daemon(jobs: list[tuple[str, str, Callable[[threading.Event], None]]], engine: Engine, standby_poll: float,
               stop: threading.Event | None = None, install_signals: bool = True, run_at_start: bool = False) -> None:
    """Run (name, cron, job(stop_event)) entries until SIGTERM/SIGINT or `stop` is set; with
    `run_at_start` every job also runs once right away (after a deployment, or to try a config)."""
    stop = stop or threading.Event()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: (log.info("signal %s: stopping after the current unit of work", signum), stop.set()))
    with instance_lock(engine, standby_poll, stop):
        scheduler = BackgroundScheduler(
            timezone=TIMEZONE,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        )
        first = {"next_run_time": datetime.now(ZoneInfo(TIMEZONE))} if run_at_start else {}
        for name, cron, job in jobs:
            scheduler.add_job(_guarded(name, job, stop), CronTrigger.from_crontab(cron, timezone=TIMEZONE), id=name, name=name,
                              **first)
        scheduler.start()
        log.info("daemon started: %s", ", ".join(f"{name} [{cron}]" for name, cron, _ in jobs))
        try:
            while not stop.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=True)  # the running job sees `stop` and ends its unit of work
            log.info("daemon stopped")


def _guarded(name: str, job: Callable[[threading.Event], None], stop: threading.Event) -> Callable[[], None]:
    """A job that logs one line and never lets an exception kill the scheduler."""
    def run() -> None:
        if stop.is_set():
            return
        started = time.monotonic()
        try:
            job(stop)
        except Exception as exc:  # one broken job must not stop the others
            log.error("%s: failed after %.1f s: %s", name, time.monotonic() - started, exc)
    return run
