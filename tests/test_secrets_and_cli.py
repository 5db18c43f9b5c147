"""Secrets from a file, systemd credentials or the environment, never printed (error lines, logs,
tracebacks, status); a warning for a world-readable config holding one. And CLI manners: one-line
--help per command, a quiet broken pipe, import progress on a terminal."""

from __future__ import annotations

import json
import logging
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from watcher.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"
SECRET = "Zq7-very-secret-pw"


def _cli(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "watcher.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_smtp_password_from_file_credentials_directory_or_environment(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[delivery.smtp]\nuser = "veille"\npassword_file = "smtp.secret"\n', encoding="utf-8")
    (tmp_path / "smtp.secret").write_text(SECRET + "\n", encoding="utf-8")
    cfg = load_config(config)
    assert cfg.delivery.smtp.password == SECRET and SECRET not in repr(cfg)
    config.write_text('[delivery.smtp]\nuser = "veille"\n', encoding="utf-8")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp_password").write_text("from-systemd\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("WATCHER_SMTP_PASSWORD", "from-env")
    assert load_config(config).delivery.smtp.password == "from-systemd"  # LoadCredential= wins over the environment
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert load_config(config).delivery.smtp.password == "from-env"
    config.write_text('[delivery.smtp]\npassword_file = "missing.secret"\n', encoding="utf-8")
    with pytest.raises(Exception) as err:
        load_config(config)
    assert f"{config}:2: delivery.smtp.password_file: cannot read" in str(err.value)


def test_database_password_from_file_goes_into_the_url(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://watcher@db.example.org/watcher"\npassword_file = "db.secret"\n',
                      encoding="utf-8")
    (tmp_path / "db.secret").write_text("p@ss:word\n", encoding="utf-8")
    from sqlalchemy.engine import make_url

    assert make_url(load_config(config).database_url).password == "p@ss:word"


def test_a_world_readable_config_holding_a_password_warns(tmp_path, caplog):
    config = tmp_path / "config.toml"
    config.write_text(f'[delivery.smtp]\npassword = "{SECRET}"\n', encoding="utf-8")
    config.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="watcher.config"):
        load_config(config)
    assert "readable by every user" in caplog.text and SECRET not in caplog.text
    caplog.clear()
    config.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="watcher.config"):
        load_config(config)
    assert caplog.text == ""


@pytest.fixture
def login_server():
    """A real SMTP server that requires a login and refuses every password."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, auth_required=True, auth_require_tls=False,
                            authenticator=lambda *a: AuthResult(success=False, handled=False))
    controller.start()
    yield port
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_secrets_never_printed_in_errors_logs_tracebacks_or_status(tmp_path, login_server):
    import shutil

    db, rules = tmp_path / "watcher.db", tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    for profile in (rules / "enterprises").glob("*.toml"):  # the daemon's live digests send even an empty week
        profile.write_text(profile.read_text(encoding="utf-8") + "\n[digest]\nempty = true\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[paths]\nrules = "{rules}"\ntemplates = "{ROOT / "templates"}"\n'
        f'sources = "{tmp_path / "sources"}"\n'
        '[delivery]\nbackend = "smtp"\n'
        f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {login_server}\nuser = "veille"\npassword_file = "smtp.secret"\n'
        'retries = 0\n[daemon]\nlog_level = "DEBUG"\n', encoding="utf-8")
    config.chmod(0o600)
    (tmp_path / "sources").mkdir()
    (tmp_path / "smtp.secret").write_text(SECRET, encoding="utf-8")
    assert _cli("--config", str(config), "import", str(FEB_2018)).returncode == 0
    sent = _cli("--config", str(config), "--verbose", "digest", "--send", "--at", "published")
    assert sent.returncode == 1 and "login refused" in sent.stderr, sent.stderr
    status = _cli("--config", str(config), "status", "--json")
    assert json.loads(status.stdout)["digests"]["last_run"]["refused"] >= 1
    daemon = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), "--verbose", "run", "--now"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    deadline = time.monotonic() + 90
    while json.loads(_cli("--config", str(config), "status", "--json").stdout)["digests"]["last_run"]["started_at"] \
            == json.loads(status.stdout)["digests"]["last_run"]["started_at"]:
        assert time.monotonic() < deadline and daemon.poll() is None
        time.sleep(0.5)
    time.sleep(1)
    daemon.send_signal(signal.SIGTERM)
    logs, _ = daemon.communicate(timeout=60)
    assert "DEBUG" in logs and "login refused" in logs  # verbose logs of the failed login
    # a traceback that would carry the password: a database URL holding it, unreachable
    broken = tmp_path / "broken.toml"
    broken.write_text(f'[database]\nurl = "postgresql+psycopg://watcher:{SECRET}@127.0.0.1:1/watcher"\n', encoding="utf-8")
    broken.chmod(0o600)
    crashed = _cli("--config", str(broken), "--verbose", "init")
    assert crashed.returncode == 1 and "Traceback" in crashed.stderr
    for out in (sent.stdout, sent.stderr, status.stdout, status.stderr, logs, crashed.stdout, crashed.stderr):
        assert SECRET not in out


def test_init_does_not_print_the_database_password(pg_schema_url, tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(pg_schema_url).set(password=SECRET).render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    config.chmod(0o600)
    done = _cli("--config", str(config), "init")
    assert done.returncode == 0 and "***" in done.stdout and SECRET not in done.stdout + done.stderr


def test_every_command_has_a_one_line_help():
    from watcher.cli import _one_line_help, build_parser

    parser = build_parser()
    _one_line_help(parser)
    seen = 0
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if hasattr(action, "_choices_actions"):
                for choice in action._choices_actions:
                    seen += 1
                    assert choice.help and "\n" not in choice.help and len(choice.help) <= 90, (choice.dest, choice.help)
                    stack.append(action.choices[choice.dest])
    assert seen >= 20
    top = _cli("--help", env={"COLUMNS": "200"})
    assert top.returncode == 0
    listed = [line for line in top.stdout.splitlines() if line.startswith("    ") and line.split()]
    assert all(len(line.split(None, 1)) == 2 for line in listed), listed  # name and its line, nothing wraps


def test_a_broken_pipe_ends_quietly(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n', encoding="utf-8")
    # A year of notices (about 200 kB of output): more than the pipe's buffer holds, so the command is
    # still writing when `head` leaves, however the two are scheduled (one month fitted in the buffer:
    # on a busy machine the command could finish before `head` read, and exit 0).
    year = sorted((ROOT / "demo" / "seao").glob("AvisRevisions_2018*.xml.gz"))
    assert _cli("--config", str(config), "import", *map(str, year)).returncode == 0
    command = f"{sys.executable} -m watcher.cli --config {config} notices | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert len(done.stdout.splitlines()) == 1
    assert done.stderr == "" and done.returncode == 141  # like a C tool killed by SIGPIPE, without a traceback


def test_import_shows_progress_on_a_terminal_only(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n', encoding="utf-8")
    files = sorted((ROOT / "demo" / "seao").glob("*.xml.gz"))[:2]
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), "import", *map(str, files)],
                            stdout=subprocess.PIPE, stderr=slave, cwd=ROOT)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "[0/2]" in text and "[1/2]" in text and "[2/2]" in text and files[1].name in text
    piped = _cli("--config", str(config), "import", *map(str, files))
    assert "[1/2]" not in piped.stderr  # not a terminal: no progress line


def test_log_records_and_tracebacks_holding_a_registered_secret_are_masked():
    import io

    from watcher import redact
    from watcher.logs import JsonFormatter

    redact.register("hunter2-abc")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(redact.RedactingFilter())
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError("login with hunter2-abc failed")
        except RuntimeError:
            log.error("sending with password %s", "hunter2-abc", exc_info=True)
    finally:
        log.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert "hunter2-abc" not in line and record["message"] == "sending with password ***"
    assert "RuntimeError: login with *** failed" in record["traceback"]
