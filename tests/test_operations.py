"""Running for a year, as a real `watcher run` subprocess: a broken enterprise profile among good
ones (at start and made while running) is skipped and reported, its last good version serving;
`watcher status` and the Prometheus endpoint (scraped over HTTP) report it; SIGHUP reloads; `run
--now` collects before it builds digests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, select

from watcher.store.schema import digest_runs, source_runs

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "tests" / "data" / "canadabuys" / "openTenderNotice-excerpt.csv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "watcher.cli", "--config", str(config), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _wait(predicate, what: str, daemon: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert daemon.poll() is None, f"the daemon died while waiting for {what}"
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.3)


def _break(path: Path) -> None:
    """A coordinator's typo: an unknown key in [capacity]."""
    text = path.read_text(encoding="utf-8")
    assert "[capacity]\n" in text
    path.write_text(text.replace("[capacity]\n", "[capacity]\nmax_valeur = 10\n", 1), encoding="utf-8")


def _coordinator_alerts(outbox: Path) -> list[str]:
    found = []
    for eml in sorted(outbox.glob("coordinator-*.eml")):
        text = eml.read_text(encoding="utf-8", errors="replace")
        if "broken rule file" in text:
            found.append(text)
    return found


def test_broken_profiles_are_isolated_reported_and_reloaded(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/tenders.csv").respond_with_data(CSV.read_bytes(), content_type="text/csv")
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "cb.toml").write_text(
        f'kind = "canadabuys"\nurl = "{httpserver.url_for("/tenders.csv")}"\nschedule = "0 3 * * *"\n', encoding="utf-8")
    for profile in (rules / "enterprises").glob("*.toml"):  # a mail even in a quiet week: something to count
        profile.write_text(profile.read_text(encoding="utf-8") + "\n[digest]\nempty = true\n", encoding="utf-8")
    broken_at_start = rules / "enterprises" / "festin-solidaire.toml"
    broken_later = rules / "enterprises" / "reboot-montreal.toml"
    _break(broken_at_start)
    db, outbox, port = tmp_path / "watcher.db", tmp_path / "outbox", _free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[paths]\nsources = "{sources}"\nrules = "{rules}"\n'
        f'templates = "{ROOT / "templates"}"\n[delivery]\nbackend = "outbox"\noutbox = "{outbox}"\n'
        '[fetch]\nmin_interval = 0\nrespect_robots = false\n'
        '[daemon]\ncoordinator_email = "coordination@example.org"\nlog_format = "json"\n'
        f'[metrics]\nport = {port}\n', encoding="utf-8")
    # strict check still refuses; running does not
    assert _cli(config, "rules", "check").returncode == 1
    daemon = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), "run", "--now"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    engine = create_engine(f"sqlite:///{db}")

    def rows(table):
        try:
            with engine.connect() as conn:
                return conn.execute(select(table)).all()
        except Exception:
            return []  # not migrated yet

    try:
        _wait(lambda: any(r.finished_at for r in rows(digest_runs)), "the first digest run", daemon)
        [collected] = rows(source_runs)
        [digested] = rows(digest_runs)
        assert collected.ok and collected.finished_at <= digested.started_at  # --now collects first
        status = _cli(config, "status", "--json")
        assert status.returncode == 1
        report = json.loads(status.stdout)
        assert [b["file"] for b in report["rule_files"]["broken"]] == [str(broken_at_start)]
        [error] = report["rule_files"]["broken"][0]["errors"]
        assert error.startswith(f"{broken_at_start}:") and "capacity.max_valeur" in error  # file:line: field
        assert report["digests"]["last_run"]["sent"] >= 1 and report["digests"]["last_run"]["failed"] == 0
        assert len(_coordinator_alerts(outbox)) == 1
        # the others keep working: their digests went out, a CLI command on another profile works
        sent = {p.name.split("-20")[0] for p in outbox.glob("*.eml")}
        assert "festin-solidaire" not in sent and "coop-entretien-horizon" in sent
        match = _cli(config, "match", "--enterprise", "coop-entretien-horizon")
        assert match.returncode == 0 and "festin-solidaire.toml" in match.stderr

        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "watcher_rule_files_broken 1.0" in metrics
        assert 'watcher_source_runs_total{outcome="ok",source="cb"} 1.0' in metrics
        assert 'watcher_source_last_success_age_seconds{source="cb"}' in metrics
        assert "watcher_notices " in metrics and 'watcher_digests_total{outcome="sent"}' in metrics

        # while running: a profile that was good breaks, and a new source appears; SIGHUP reloads
        _break(broken_later)
        (sources / "cb2.toml").write_text((sources / "cb.toml").read_text(encoding="utf-8"), encoding="utf-8")
        daemon.send_signal(signal.SIGHUP)
        _wait(lambda: len(_coordinator_alerts(outbox)) == 2, "the alert about the second broken file", daemon)
        status = json.loads(_cli(config, "status", "--json").stdout)
        serving = {b["file"]: b["serving_last_good"] for b in status["rule_files"]["broken"]}
        assert serving == {str(broken_at_start): False, str(broken_later): True}
        kept = _cli(config, "match", "--enterprise", "reboot-montreal")  # its last good version serves
        assert kept.returncode == 0 and "reboot-montreal.toml" in kept.stderr, kept.stderr
        assert "watcher_rule_files_broken 2.0" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        daemon.send_signal(signal.SIGHUP)  # a second reload: no new alert for the same broken contents
        time.sleep(1.5)
        assert len(_coordinator_alerts(outbox)) == 2
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        engine.dispose()
    assert daemon.returncode == 0, out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)  # log_format = "json"
    assert any(x["message"].startswith("reloaded (SIGHUP)") and "source:cb2" in x["message"] for x in lines)
    warnings = [x for x in lines if x["level"] == "WARNING" and "festin-solidaire.toml" in x["message"]]
    assert warnings  # broken file: a warning an operator can filter on


def test_a_failing_job_logs_a_warning_and_its_traceback_at_debug_only(caplog):
    import logging
    import threading

    from watcher.schedule import _guarded

    def job(stop):
        raise ValueError("the SMTP relay is on fire")

    with caplog.at_level(logging.DEBUG, logger="watcher.daemon"):
        _guarded("digests:0", job, threading.Event())()
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "digests:0: failed" in warning.getMessage() and "on fire" in warning.getMessage() and not warning.exc_info
    [debug] = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug.exc_info and debug.exc_info[0] is ValueError


def test_metrics_textfile_for_the_node_exporter(tmp_path, engine):
    from datetime import datetime, timedelta, timezone

    from prometheus_client.parser import text_string_to_metric_families

    from watcher.metrics import registry_for, write_textfile
    from watcher.store import runs

    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        ok = runs.start_run(conn, "seao", now=now - timedelta(hours=2))
        runs.finish_run(conn, ok, True, 200, now=now - timedelta(hours=2))
        bad = runs.start_run(conn, "seao", now=now - timedelta(minutes=5))
        runs.finish_run(conn, bad, False, 503, error="HTTP 503", now=now - timedelta(minutes=5))
    target = tmp_path / "textfile" / "watcher.prom"
    write_textfile(registry_for(engine, lambda: 3), target)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(target.read_text(encoding="utf-8")) for s in family.samples}
    assert samples[("watcher_source_runs_total", (("outcome", "ok"), ("source", "seao")))] == 1
    assert samples[("watcher_source_runs_total", (("outcome", "failed"), ("source", "seao")))] == 1
    assert 7100 < samples[("watcher_source_last_success_age_seconds", (("source", "seao"),))] < 7400  # two hours
    assert samples[("watcher_rule_files_broken", ())] == 3 and samples[("watcher_notices", ())] == 0
    assert samples[("watcher_digests_total", (("outcome", "sent"),))] == 0


def test_a_broken_shared_rule_file_keeps_its_last_good_version_serving(tmp_path, engine):
    import shutil
    from dataclasses import replace

    import pytest

    from watcher import ruleset
    from watcher.config import load_config
    from watcher.errors import RuleErrors

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (tmp_path / "sources").mkdir()
    cfg = replace(load_config(None, base=tmp_path), rules_dir=rules, sources_dir=tmp_path / "sources")
    with pytest.raises(RuleErrors):  # broken before any good version was kept: nothing can judge
        broken_text = (rules / "thresholds.toml").read_text(encoding="utf-8")
        (rules / "thresholds.toml").write_text(broken_text + "\nnot toml [\n", encoding="utf-8")
        ruleset.load(cfg, engine, quiet=True)
    (rules / "thresholds.toml").write_text(broken_text, encoding="utf-8")
    good = ruleset.load(cfg, engine, quiet=True)  # kept as the last good version
    assert good.broken == ()
    (rules / "thresholds.toml").write_text(broken_text + "\nnot toml [\n", encoding="utf-8")
    served = ruleset.load(cfg, engine, quiet=True)
    [broken] = served.broken
    assert broken.path == str(rules / "thresholds.toml") and broken.serving_last_good
    assert broken.errors[0].startswith(f"{rules / 'thresholds.toml'}:")
    assert served.rulebook.thresholds == good.rulebook.thresholds and len(served.rulebook.enterprises) == 5


def test_status_checks_again_only_shared_files_that_changed_since_their_last_good_version(tmp_path, engine, monkeypatch):
    """`watcher status` (ruleset.broken) finds what `load` finds, without compiling again a shared
    file whose text was validated when it was kept (its ~800 requirement patterns)."""
    import shutil
    from dataclasses import replace

    from watcher import ruleset
    from watcher.config import load_config
    from watcher.errors import RuleError, RuleErrors

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (tmp_path / "sources").mkdir()
    cfg = replace(load_config(None, base=tmp_path), rules_dir=rules, sources_dir=tmp_path / "sources")
    assert ruleset.broken(cfg, engine) == ()  # validated in full (nothing kept yet), then kept
    calls: list[str] = []

    def refusing(loader):
        def load(path):  # the file in rules/ is refused; its last good copy (elsewhere) loads
            calls.append(path.name)
            if path.parent == rules:
                raise RuleErrors([RuleError(str(path), 1, "x", "refused")])
            return loader(path)
        return load

    monkeypatch.setattr(ruleset, "SHARED", tuple((name, refusing(loader)) for name, loader in ruleset.SHARED))
    assert ruleset.broken(cfg, engine) == () and calls == []  # unchanged: trusted as kept
    (rules / "requirements.toml").write_text((rules / "requirements.toml").read_text(encoding="utf-8") + "\n# edited\n",
                                             encoding="utf-8")
    assert len(ruleset.load(cfg, engine, quiet=True).broken) == 3  # `load` validates every file
    calls.clear()
    [broken] = ruleset.broken(cfg, engine)  # changed: validated again, reported, its last good one serving
    assert calls[0] == "requirements.toml" and broken.key == "requirements.toml" and broken.serving_last_good
