"""Delivery that survives failures, on a real SMTP server (aiosmtpd) and real databases.

The crash window: the SMTP server itself kills the sending `watcher digest --send` process right
after answering 250 to a mail, before the sender can record it. Guarantee proven here: at least
once, with at most one duplicate per SMTP connection in flight at the crash (one connection
here). Then: the server down at the start of a run and back a moment later (retried within the
run), down for a whole run (retried at the daemon's next tick, not a week later), and 4xx."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from watcher import app, operate
from watcher.config import load_config
from watcher.store import oplog, open_store
from watcher.store.schema import deliveries

ROOT = Path(__file__).resolve().parent.parent
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"
FIRST_RUN = datetime(2018, 2, 5, 12, 0, tzinfo=timezone.utc)


def _config(tmp_path: Path, store_url: str, host: str, port: int, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{store_url}"\n[paths]\nrules = "{ROOT / "rules"}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[delivery]\nbackend = "smtp"\nsender = "Veille <veille@example.org>"\n'
        f'[delivery.smtp]\nhost = "{host}"\nport = {port}\nconnections = 1\n{extra}', encoding="utf-8")
    return path


def _delivered(engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(select(deliveries.c.enterprise_id).distinct())}


def test_killed_right_after_the_servers_250_resends_only_the_mail_in_flight(tmp_path, store_url, smtp_server):
    path = _config(tmp_path, store_url, smtp_server.host, smtp_server.port)
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [ROOT / "demo" / "seao"]).errors  # 2018-2019: a digest for each example EÉS
    everyone = {e.id for e in app.load_rulebook(cfg).enterprises}
    command = [sys.executable, "-m", "watcher.cli", "--config", str(path), "digest", "--send", "--at", "published"]
    crashed = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    smtp_server.kill_after(2, crashed.pid)  # long before its first mail: it imports, judges and renders first
    out, err = crashed.communicate(timeout=180)
    assert crashed.returncode == -9, (out, err)  # SIGKILL from the server, after the 250 of the 2nd mail
    first, in_flight = (m["X-Watcher-Enterprise"] for m in smtp_server.messages)
    assert len(set(smtp_server.peers)) == 1  # one connection was in flight
    assert _delivered(engine) == {first}  # the 2nd was accepted by the server, never recorded

    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert again.returncode == 0, again.stderr
    per_enterprise = Counter(m["X-Watcher-Enterprise"] for m in smtp_server.messages)
    assert set(per_enterprise) == everyone
    duplicates = {e: n - 1 for e, n in per_enterprise.items() if n > 1}
    assert duplicates == {in_flight: 1}, per_enterprise  # at most one duplicate: the mail in flight
    assert _delivered(engine) == everyone

    final = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert final.returncode == 0 and sum(Counter(m["X-Watcher-Enterprise"] for m in smtp_server.messages).values()) == len(everyone) + 1


def test_production_code_has_no_crash_hook():
    for path in (ROOT / "watcher").rglob("*.py"):
        assert "WATCHER_TEST_CRASH" not in path.read_text(encoding="utf-8"), path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def late_server(smtp_server_session):
    """A second real SMTP server on a port nobody listens on yet; `start()` brings it up."""
    from aiosmtpd.controller import Controller

    server = type(smtp_server_session)()  # the conftest's SmtpTestServer
    server.port = _free_port()
    controller = Controller(server, hostname=server.host, port=server.port)
    server.start = controller.start
    yield server
    try:
        controller.stop()
    except (AssertionError, RuntimeError):
        pass  # never started


def test_smtp_down_at_the_start_of_a_run_then_up_is_retried_within_the_run(tmp_path, store_url, late_server):
    cfg = load_config(_config(tmp_path, store_url, late_server.host, late_server.port, "retries = 5\nretry_delay = 0.5\n"))
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    rulebook = app.load_rulebook(cfg)
    threading.Timer(1.2, late_server.start).start()  # refused at 0 s and 0.5 s, up before the try at 1.5 s
    outcomes = operate.send_digests(engine, cfg, rulebook, now=FIRST_RUN, judge_now=None)
    assert outcomes and all(o.ok for o in outcomes), outcomes
    assert len(late_server.messages) == len(outcomes)
    with engine.connect() as conn:
        run = oplog.last_digest_run(conn)
        assert (run.sent, run.refused, run.failed) == (len(outcomes), 0, 0)
        assert oplog.pending_retries(conn, datetime.now(timezone.utc), cfg_window(cfg)) == []


def cfg_window(cfg):
    from datetime import timedelta

    return timedelta(hours=cfg.daemon.retry_hours)


def test_smtp_down_for_a_whole_run_is_retried_at_the_next_tick(tmp_path, store_url, late_server):
    cfg = load_config(_config(tmp_path, store_url, late_server.host, late_server.port, "retries = 1\nretry_delay = 0.1\n"))
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    rulebook = app.load_rulebook(cfg)
    down = operate.send_digests(engine, cfg, rulebook, now=FIRST_RUN, judge_now=None)
    assert down and not any(o.ok for o in down) and not any(o.permanent for o in down)
    assert "cannot reach" in down[0].error
    with engine.connect() as conn:
        waiting = oplog.pending_retries(conn, datetime.now(timezone.utc), cfg_window(cfg))
        run = oplog.last_digest_run(conn)
    assert waiting == sorted(o.enterprise_id for o in down)
    assert (run.sent, run.failed) == (0, len(down))
    assert operate.retry_pending(engine, cfg, replace(rulebook, enterprises=()), judge_now=None) == []  # unknown: skipped
    late_server.start()
    cfg = replace(cfg, daemon=replace(cfg.daemon, coordinator_email="coordination@example.org"))
    retried = operate.retry_pending(engine, cfg, rulebook, now=datetime.now(timezone.utc), judge_now=None)
    assert sorted(o.enterprise_id for o in retried) == waiting and all(o.ok for o in retried)
    assert sorted(m["X-Watcher-Enterprise"] for m in late_server.messages) == waiting  # no coordinator report per retry
    with engine.connect() as conn:
        assert oplog.pending_retries(conn, datetime.now(timezone.utc), cfg_window(cfg)) == []
        assert oplog.last_digest_run(conn).kind == "retry"
    assert operate.retry_pending(engine, cfg, rulebook, judge_now=None) == []  # nothing waits any more
    assert len(late_server.messages) == len(waiting)


def test_a_4xx_every_time_waits_for_the_next_tick_a_5xx_does_not(tmp_path, store_url, smtp_server):
    cfg = load_config(_config(tmp_path, store_url, smtp_server.host, smtp_server.port, "retries = 2\nretry_delay = 0.05\n"))
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [ROOT / "demo" / "seao"]).errors  # a digest for each example EÉS
    rulebook = app.load_rulebook(cfg)
    with_digest = [o.enterprise_id for o in app.run_digests(engine, cfg, rulebook, preview_dir=tmp_path / "preview", now=FIRST_RUN, judge_now=None)]
    busy, gone = (rulebook.enterprise(i) for i in with_digest[:2])
    for address in busy.emails:
        smtp_server.fail(address, code=451)  # "try again later", every time this run
    for address in gone.emails:
        smtp_server.fail(address, code=550)
    outcomes = {o.enterprise_id: o for o in operate.send_digests(engine, cfg, rulebook, now=FIRST_RUN, judge_now=None)}
    assert not outcomes[busy.id].ok and not outcomes[busy.id].permanent
    assert not outcomes[gone.id].ok and outcomes[gone.id].permanent
    with engine.connect() as conn:
        assert oplog.pending_retries(conn, datetime.now(timezone.utc), cfg_window(cfg)) == [busy.id]
        run = oplog.last_digest_run(conn)
    assert (run.refused, run.failed) == (1, 1)
    smtp_server.clear()
    retried = operate.retry_pending(engine, cfg, rulebook, judge_now=None)
    assert [o.enterprise_id for o in retried] == [busy.id] and retried[0].ok


def test_pending_retries_give_up_when_the_streak_is_older_than_the_window(engine):
    from datetime import timedelta

    from watcher.store import repo

    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:
        repo.record_failure(conn, "a", "<1@x>", "451", False, now=now - timedelta(hours=50))  # streak began 50 h ago
        repo.record_failure(conn, "a", "<2@x>", "451", False, now=now - timedelta(minutes=15))
        repo.record_failure(conn, "b", "<3@x>", "451", False, now=now - timedelta(hours=1))
        repo.record_failure(conn, "c", "<4@x>", "451", False, now=now - timedelta(hours=1))
        repo.record_failure(conn, "c", "<5@x>", "550", True, now=now - timedelta(minutes=30))  # then refused: given up
        repo.record_failure(conn, "d", "<6@x>", "451", False, now=now - timedelta(hours=1))
        repo.record_delivery(conn, "d", ["n1"], "<7@x>", now=now - timedelta(minutes=10))  # then delivered
    with engine.connect() as conn:
        assert oplog.pending_retries(conn, now, timedelta(hours=48)) == ["b"]
