"""[web] in config.toml (checked at the edge, errors as file:line: key) and the console served by
the daemon itself (`watcher run` with [web] enabled = true), as a real subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from watcher.config import load_config
from watcher.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 40


@pytest.mark.parametrize("body, message", [
    ('[web]\nenabled = true\nbase_url = "https://veille.example.org"\n', ":2: web.enabled: web.secret is required"),
    (f'[web]\nenabled = true\nsecret = "{SECRET}"\n', ":2: web.enabled: web.base_url is required"),
    ('[web]\nsecret = "short"\n', ":2: web.secret: at least 32 characters"),
    ('[web]\nbase_url = "veille.example.org"\n', ":2: web.base_url: 'veille.example.org' must be an absolute"),
    ('[web]\nport = 70000\n', ":2: web.port: must be between 1 and 65535"),
    ('[web]\nsession_minutes = 0\n', ":2: web.session_minutes: must be 1 or more"),
    ('[web]\nenable = true\n', ":2: web.enable: unknown key"),
    ('[web]\nport = "8080"\n', ":2: web.port: must be int"),
], ids=["no-secret", "no-base-url", "short-secret", "relative-base-url", "port", "session", "typo", "type"])
def test_web_config_errors_name_file_line_and_key(tmp_path, body, message):
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert f"{path}{message}" in str(exc.value)


def test_web_config_defaults_and_example():
    cfg = load_config(ROOT / "config.example.toml")
    assert cfg.web.enabled is False and cfg.web.host == "127.0.0.1" and cfg.web.session_minutes == 480


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_daemon_serves_the_console_when_enabled(tmp_path):
    port = _free_port()
    (tmp_path / "sources").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "watcher.db"}"\n[paths]\nsources = "{tmp_path / "sources"}"\n'
        f'rules = "{ROOT / "rules"}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[web]\nenabled = true\nport = {port}\nsecret = "{SECRET}"\nbase_url = "http://127.0.0.1:{port}"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    daemon = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(config), "run"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert daemon.poll() is None, daemon.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).text == "ok":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the console did not answer within 60 s"
            time.sleep(0.3)
        login = httpx.get(f"http://127.0.0.1:{port}/console", follow_redirects=True, timeout=5)
        assert login.status_code == 200 and "Connexion" in login.text
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, out
    assert "daemon stopped" in out
