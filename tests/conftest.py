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
