"""Shared fixtures: real databases (SQLite file per test, PostgreSQL when reachable), a real SMTP server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


PG_URL = os.environ.get("WATCHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def data_dir() -> Path:
    return DATA


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver error means: not reachable here
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_schema_url():
    """A PostgreSQL URL on a schema of our own, dropped at the end. In CI a missing server fails."""
    why = _pg_reachable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_URL}: {why}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({why}); set WATCHER_TEST_PG_URL to run these tests")
    yield PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind: a SQLite file per test; a clean PostgreSQL schema per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'watcher.db'}"
    url = request.getfixturevalue("pg_schema_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    request.addfinalizer(lambda: _drop_schema(admin, schema))
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def _drop_schema(admin, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


@pytest.fixture
def engine(store_url):
    from watcher.store import open_store

    eng = open_store(store_url)
    yield eng
    eng.dispose()


# --- SMTP server fixture (aiosmtpd) -------------------------------------------------------
# (owned by the digest work; keep the fixture name `smtp_server`)


class SmtpTestServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

    `messages` are parsed with the email package; `peers` holds, per message, the client's
    (host, port), so a test can tell whether one connection carried them all. `fail(rcpt, code,
    times)` makes the server refuse that recipient with `code` (`times` times, or always).
    `kill_after(n, pid)` kills the sending process right after the server answers 250 to the
    n-th message: the mail is accepted but the sender cannot have recorded it (the crash window).
    """

    def __init__(self) -> None:
        self.messages: list = []
        self.peers: list[tuple[str, int]] = []
        self.failures: dict[str, list] = {}
        self.kill: tuple[int, int] | None = None  # (n-th message, pid)
        self.host = "127.0.0.1"
        self.port = 0

    def fail(self, recipient: str, code: int = 550, times: int | None = None) -> None:
        self.failures[recipient.lower()] = [code, times]

    def kill_after(self, count: int, pid: int) -> None:
        self.kill = (count, pid)

    def clear(self) -> None:
        self.messages.clear()
        self.peers.clear()
        self.failures.clear()
        self.kill = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = self.failures.get(address.lower())
        if rule and (rule[1] is None or rule[1] > 0):
            if rule[1] is not None:
                rule[1] -= 1
            text = "Requested action aborted: try again later" if rule[0] < 500 else "No such user here"
            return f"{rule[0]} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.peers.append(tuple(session.peer[:2]))
        if self.kill and len(self.messages) == self.kill[0]:
            import signal

            pid, self.kill = self.kill[1], None
            os.kill(pid, signal.SIGSTOP)  # frozen first: it cannot record the mail before it dies
            await server.push("250 Message accepted for delivery")
            os.kill(pid, signal.SIGKILL)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server_session():
    """One aiosmtpd server for the whole session (starting one takes a moment)."""
    from aiosmtpd.controller import Controller

    server = SmtpTestServer()
    server.port = _free_port()
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def smtp_server(smtp_server_session):
    """The session's SMTP server, emptied of earlier tests' messages and failure rules."""
    smtp_server_session.clear()
    yield smtp_server_session
    smtp_server_session.clear()
