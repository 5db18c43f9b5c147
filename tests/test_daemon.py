"""`watcher run` as a real subprocess: it collects on schedule, a second daemon on the same
database refuses, and SIGTERM stops it cleanly with consistent data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, func, select

from watcher.store.schema import notices, source_runs

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "tests" / "data" / "canadabuys" / "openTenderNotice-excerpt.csv"


def _watcher(config: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)


def _runs(db: Path) -> list:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return conn.execute(select(source_runs.c.finished_at, source_runs.c.ok, source_runs.c.notices_new)).all()
    except Exception:
        return []  # not migrated yet
    finally:
        engine.dispose()


def test_daemon_collects_refuses_a_second_instance_and_stops_on_sigterm(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/tenders.csv").respond_with_data(CSV.read_bytes(), content_type="text/csv")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "cb.toml").write_text(
        f'kind = "canadabuys"\nurl = "{httpserver.url_for("/tenders.csv")}"\nschedule = "* * * * *"\n', encoding="utf-8")
    db = tmp_path / "watcher.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[paths]\nsources = "{sources}"\nrules = "{ROOT / "rules"}"\n'
        f'templates = "{ROOT / "templates"}"\n[delivery]\nbackend = "outbox"\noutbox = "{tmp_path / "outbox"}"\n'
        '[fetch]\nmin_interval = 0\nrespect_robots = false\n', encoding="utf-8")
    daemon = _watcher(config, "run", "--now")
    try:
        deadline = time.monotonic() + 60
        while not any(r.finished_at for r in _runs(db)):
            assert daemon.poll() is None, daemon.stdout.read()
            assert time.monotonic() < deadline, "the daemon did not collect within 60 s"
            time.sleep(0.3)
        second = _watcher(config, "run")
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 1 and "lock" in out, out
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, out
    assert "daemon stopped" in out and "source:cb" in out
    runs = _runs(db)
    assert runs and all(r.finished_at is not None for r in runs)  # no run left half-recorded
    assert runs[0].ok and runs[0].notices_new > 0, out
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notices)).scalar() == sum(r.notices_new for r in runs)
    engine.dispose()
