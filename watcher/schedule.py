"""The daemon: APScheduler 3 wiring only (which job runs when), plus the one-instance lock.

Jobs call the same functions as the CLI (watcher.app). Missed runs are coalesced into one; a
job never overlaps itself; SIGTERM/SIGINT let the running job finish its unit of work. On
PostgreSQL the active daemon is fenced: it runs a job only after checking that it still holds
its advisory lock, checks it every HEARTBEAT seconds, and on losing it stops its jobs and becomes
a standby (digests are also claimed row by row in the database, watcher.store.claims).
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
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from .errors import WatcherError

log = logging.getLogger("watcher.daemon")
TIMEZONE = "America/Montreal"
LOCK_KEY = 0x77617463  # "watc": the PostgreSQL advisory lock of the daemon (with the schema's hash)
HEARTBEAT = 2.0  # seconds between two checks that the PostgreSQL lock is still held


class AlreadyRunning(WatcherError):
    hint = "un autre « watcher run » utilise cette base / another `watcher run` uses this database: stop it first"


class Leadership:
    """The right to run jobs. On SQLite a lock file that cannot be lost; on PostgreSQL an advisory
    lock held by one connection, which a server restart, `pg_terminate_backend` or a network blip
    takes away: `check()` asks the server (before each job, and every heartbeat), and `lost` is set
    the moment it fails, which makes the running job stop at its next unit of work."""

    def __init__(self, conn: Connection | None = None) -> None:
        self.conn = conn
        self.lost = threading.Event()
        self._mutex = threading.Lock()  # the heartbeat and the jobs' checks share the connection

    def check(self) -> bool:
        if self.conn is None:
            return True
        if self.lost.is_set():
            return False
        with self._mutex:
            try:
                held = self.conn.execute(text(_HELD), {"k": LOCK_KEY}).scalar()
                self.conn.rollback()
            except Exception as exc:  # noqa: BLE001 - any failure of the lock's connection means: lost
                log.error("lock connection lost (%s): this daemon stops its jobs and becomes a standby",
                          str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                held = False
        if not held:
            self.lost.set()
        return bool(held)


_HELD = ("select exists(select 1 from pg_locks where pid = pg_backend_pid() and locktype = 'advisory'"
         " and granted and classid = :k and objsubid = 2)")


@contextmanager
def instance_lock(engine: Engine, standby_poll: float, stop: threading.Event) -> Iterator[Leadership]:
    """One active daemon per database. SQLite: a lock file beside the database, a second daemon refuses.
    PostgreSQL: an advisory lock (per schema); a second daemon waits as a standby and takes over when
    the first stops or loses its lock's connection."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database) + ".lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(f"{path} is locked: a daemon already runs on {engine.url.database}") from None
        try:
            yield Leadership()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    conn = _acquire(engine, standby_poll, stop)
    try:
        yield Leadership(conn)
    finally:
        try:
            conn.execute(text("select pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": LOCK_KEY})
            conn.commit()
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
            conn.invalidate()
        finally:
            conn.close()


def _acquire(engine: Engine, standby_poll: float, stop: threading.Event) -> Connection:
    """Wait as a standby until this process holds the advisory lock; a database that cannot be
    reached is tried again at the same pace (a server restart must not end the standby)."""
    waiting_said = False
    while True:
        try:
            conn = engine.connect()
            try:
                if conn.execute(text("select pg_try_advisory_lock(:k, hashtext(current_schema()))"), {"k": LOCK_KEY}).scalar():
                    conn.commit()
                    if waiting_said:
                        log.info("lock acquired: this daemon is now active")
                    return conn
                conn.rollback()
            except Exception:
                conn.invalidate()
                conn.close()
                raise
            conn.close()
            reason = "another daemon holds the lock"
        except SQLAlchemyError as exc:
            reason = f"database unreachable ({str(exc).splitlines()[0]})"
        if not waiting_said:
            log.info("standby: %s; retrying every %.0f s", reason, standby_poll)
            waiting_said = True
        if stop.wait(standby_poll):
            raise AlreadyRunning("stopped while waiting as standby")


Job = tuple[str, str, Callable[[threading.Event], None]]  # (name, cron, job(stop_event))


class _Fence(threading.Event):
    """What the jobs of one leadership term get as their stop event: set when the daemon stops
    (SIGTERM) or when it loses the lock, whichever comes first."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def is_set(self) -> bool:
        return super().is_set() or self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                return False
            super().wait(left)
        return True


def run_daemon(jobs: list[Job], engine: Engine, standby_poll: float,
               stop: threading.Event | None = None, install_signals: bool = True, run_at_start: bool = False,
               reload: Callable[[], list[Job]] | None = None, at_start: Callable[[threading.Event], None] | None = None,
               after_job: Callable[[], None] | None = None, heartbeat: float = HEARTBEAT) -> None:
    """Run (name, cron, job(stop_event)) entries until SIGTERM/SIGINT or `stop` is set; with
    `run_at_start` every job also runs once right away (after a deployment, or to try a config).
    `at_start` runs once, in order, before the schedule starts (`run --now`: collect, then digests).
    SIGHUP calls `reload` for a new job list (rule and source files read again) without a restart;
    `after_job` runs after each job (e.g. writing the metrics textfile). A daemon that loses its
    lock stops its jobs (their stop event is set), goes back to standby (a waiting standby gets the
    first chance to take over) and runs them again only once it holds the lock again."""
    stop = stop or threading.Event()
    wanted = threading.Event()  # a reload was asked for (SIGHUP)
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: (log.info("signal %s: stopping after the current unit of work", signum), stop.set()))
        if reload is not None:
            signal.signal(signal.SIGHUP, lambda signum, frame: wanted.set())
    first = True
    while not stop.is_set():
        try:
            with instance_lock(engine, standby_poll, stop) as lead:
                jobs = _serve(jobs, lead, stop, wanted, reload, at_start if first else None, after_job,
                              run_at_start and first, heartbeat)
            if lead.lost.is_set():
                # Waiting standbys poll every standby_poll: give them two polls to take the lock before
                # this daemon, whose connection just failed, competes for it again.
                stop.wait(2 * standby_poll)
        except AlreadyRunning:
            if stop.is_set() and engine.dialect.name != "sqlite":
                break  # stopped while a standby: a clean exit
            raise
        first = False
    log.info("daemon stopped")


def _serve(jobs: list[Job], lead: Leadership, stop: threading.Event, wanted: threading.Event,
           reload: Callable[[], list[Job]] | None, at_start: Callable[[threading.Event], None] | None,
           after_job: Callable[[], None] | None, run_at_start: bool, heartbeat: float) -> list[Job]:
    """Schedule the jobs while this daemon leads; return (the jobs, reloaded or not) on `stop` or
    when the lock is lost."""
    fence = _Fence(stop)
    beats = threading.Thread(target=_heartbeat, args=(lead, fence, heartbeat), name="lock-heartbeat", daemon=True)
    beats.start()
    scheduler = BackgroundScheduler(
        timezone=TIMEZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    try:
        if at_start is not None:
            _guarded("start", at_start, fence, after_job, lead)()
        first = {"next_run_time": datetime.now(ZoneInfo(TIMEZONE))} if run_at_start else {}
        _schedule(scheduler, jobs, fence, after_job, first, lead)
        scheduler.start()
        log.info("daemon started: %s", ", ".join(f"{name} [{cron}]" for name, cron, _ in jobs))
        while not stop.wait(0.2) and not lead.lost.is_set():
            if wanted.is_set():
                wanted.clear()
                jobs = _reload(scheduler, reload, fence, after_job, lead) or jobs
    finally:
        fence.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)  # the running job sees `fence` and ends its unit of work
        beats.join()
        if lead.lost.is_set() and not stop.is_set():
            log.warning("lock lost: jobs stopped; standby until this daemon holds the lock again")
    return jobs


def _heartbeat(lead: Leadership, fence: threading.Event, every: float) -> None:
    """Check the lock every `every` seconds during a leadership term; on losing it, fence the jobs."""
    while not fence.wait(every):
        if not lead.check():
            fence.set()
            return


def _schedule(scheduler: BackgroundScheduler, jobs: list[Job], stop: threading.Event,
              after_job: Callable[[], None] | None, extra: dict | None = None, lead: Leadership | None = None) -> None:
    """Add or replace each job by name; a job of the same name keeps its "never overlaps itself"."""
    for name, cron, job in jobs:
        scheduler.add_job(_guarded(name, job, stop, after_job, lead), CronTrigger.from_crontab(cron, timezone=TIMEZONE),
                          id=name, name=name, replace_existing=True, **(extra or {}))


def _reload(scheduler: BackgroundScheduler, reload: Callable[[], list[Job]] | None, stop: threading.Event,
            after_job: Callable[[], None] | None, lead: Leadership | None = None) -> list[Job] | None:
    """SIGHUP: read the rule and source files again and reschedule; on error keep the current jobs.
    Returns the new jobs (None when nothing changed)."""
    if reload is None:
        return None
    try:
        jobs = reload()
    except Exception as exc:  # a broken shared rule file: keep serving with what runs now
        log.warning("reload failed, keeping the current jobs: %s", exc)
        log.debug("reload failed", exc_info=True)
        return None
    names = {name for name, _, _ in jobs}
    for old in scheduler.get_jobs():
        if old.id not in names:
            scheduler.remove_job(old.id)
    _schedule(scheduler, jobs, stop, after_job, lead=lead)
    log.info("reloaded (SIGHUP): %s", ", ".join(f"{name} [{cron}]" for name, cron, _ in jobs))
    return jobs


def _guarded(name: str, job: Callable[[threading.Event], None], stop: threading.Event,
             after_job: Callable[[], None] | None = None, lead: Leadership | None = None) -> Callable[[], None]:
    """A job that runs only while this daemon holds the lock (checked just before), logs one line
    and never lets an exception kill the scheduler: the failure at WARNING (what an operator
    filters on), its traceback at DEBUG."""
    def run() -> None:
        if stop.is_set():
            return
        if lead is not None and not lead.check():
            log.warning("%s: not run: this daemon no longer holds the lock", name)
            stop.set()
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
