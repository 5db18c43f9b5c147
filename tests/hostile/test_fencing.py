"""Leadership on PostgreSQL, with two real `watcher run` processes: when the active daemon's lock
connection is terminated (as a server restart or a network blip would), it stops its jobs and
becomes a standby, the other takes over within a bounded time, exactly one holds the lock, no job
ran in both at once (source runs counted in the database), and SIGTERM ends both with exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text

from watcher.schedule import HEARTBEAT, LOCK_KEY
from watcher.store.schema import source_runs

ROOT = Path(__file__).resolve().parent.parent.parent
CSV = ROOT / "tests" / "data" / "canadabuys" / "openTenderNotice-excerpt.csv"


@pytest.fixture
def pg_schema(pg_schema_url):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_schema_url)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    yield admin, schema, pg_schema_url + ("&" if "?" in pg_schema_url else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


class Daemon:
    """A `watcher run --now` subprocess whose output is collected in a file (read at any time)."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), "run", "--now"],
                                     stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, words: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while words not in self.output():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{words!r} not seen within {seconds} s:\n{self.output()}"
            time.sleep(0.1)


def _holders(admin, schema: str) -> list[int]:
    with admin.connect() as conn:
        return list(conn.execute(text("select pid from pg_locks where locktype = 'advisory' and granted and classid = :k"
                                      " and objid = hashtext(:s)::oid and objsubid = 2"), {"k": LOCK_KEY, "s": schema}).scalars())


def test_terminated_lock_connection_fences_the_active_daemon(pg_schema, tmp_path: Path, httpserver: HTTPServer):
    admin, schema, url = pg_schema
    httpserver.expect_request("/tenders.csv").respond_with_data(CSV.read_bytes(), content_type="text/csv")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "cb.toml").write_text(
        f'kind = "canadabuys"\nurl = "{httpserver.url_for("/tenders.csv")}"\nschedule = "0 3 * * *"\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[paths]\nsources = "{sources}"\nrules = "{ROOT / "rules"}"\n'
        f'templates = "{ROOT / "templates"}"\n[delivery]\nbackend = "outbox"\noutbox = "{tmp_path / "outbox"}"\n'
        '[fetch]\nmin_interval = 0\nrespect_robots = false\n[daemon]\nstandby_poll = 0.5\n'
        'digest_schedule = "0 3 1 1 *"\n', encoding="utf-8")
    a = Daemon(config, tmp_path / "a.log")
    daemons = [a]
    try:
        a.wait_for("cb: ok", 60)  # A is active and ran its collection
        b = Daemon(config, tmp_path / "b.log")
        daemons.append(b)
        b.wait_for("standby", 60)
        [pid] = _holders(admin, schema)
        with admin.connect() as conn:
            conn.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
        lost_at = time.monotonic()
        a.wait_for("lock lost", HEARTBEAT + 10)
        b.wait_for("lock acquired", HEARTBEAT + 10)
        took_over = time.monotonic() - lost_at
        b.wait_for("cb: ok", 30)  # B runs the jobs now (its --now run)
        time.sleep(HEARTBEAT + 1)
        holders = _holders(admin, schema)
        assert len(holders) == 1 and holders[0] != pid  # exactly one active daemon: B
        assert "standby" in a.output().split("lock lost", 1)[1]  # A went back to standby, did not stop
        for d in daemons:
            d.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        codes = [d.proc.wait(timeout=30) for d in daemons]
        stopped_in = time.monotonic() - started
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
    assert codes == [0, 0], [d.output() for d in daemons]
    assert stopped_in < 10 and took_over < HEARTBEAT + 10
    assert "Traceback" not in a.output() + b.output()
    engine = create_engine(url)
    with engine.connect() as conn:
        runs = conn.execute(source_runs.select().order_by(source_runs.c.started_at)).all()
    engine.dispose()
    assert len(runs) == 2 and all(r.finished_at is not None for r in runs)  # A's run, then B's: not one more
    assert runs[0].finished_at <= runs[1].started_at  # never both at once
