"""The store: one database (SQLite by default, PostgreSQL in production), migrated by Alembic on open.

Concurrency: several processes (the daemon, a manual import, a second command starting) may open
one database at once. A migration runs in one transaction under a lock (SQLite: BEGIN IMMEDIATE,
PostgreSQL: a transaction-level advisory lock), so a crash leaves the previous schema and two
starts never race. Writes of notices go through `writing()`, which serialises them the same way,
so two imports of one notice never both record its revision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATE_LOCK = 0x77617464  # "watd": PostgreSQL advisory lock taken by a migration (with the schema's hash)
WRITE_LOCK = 0x77617465  # "wate": PostgreSQL advisory lock taken by a transaction that saves notices
# A network blip must end a PostgreSQL connection in seconds, not at the kernel's two hours: the
# daemon's lock lives on one connection, and a silent one would keep it "active" (libpq options).
PG_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3,
                "tcp_user_timeout": 20_000}
# psycopg prepares a statement run 5 times, and PostgreSQL may then keep a generic plan for the
# connection's life. One planned when a bulk import began, on a near-empty table, scanned the whole
# table for every later batch (`id IN (...)` of 500 notices: 0.8 s a batch at 150k notices, a
# 600k import 33x the time of 60k). Planned on each run instead: a custom plan costs well under a
# millisecond for our statements.
PG_CONNECT = {**PG_KEEPALIVE, "prepare_threshold": None}
SQLITE_BUSY_SECONDS = 120  # how long a SQLite writer waits for another one (an import chunk, a migration)


def open_store(url: str, migrate: bool = True) -> Engine:
    """Connect and bring the schema to the latest migration (idempotent)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]  # psycopg 3, not psycopg2
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    try:
        args = {"timeout": SQLITE_BUSY_SECONDS} if url.startswith("sqlite") else PG_CONNECT if url.startswith("postgresql") else {}
        engine = create_engine(url, future=True, connect_args=args)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database {_redact(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Run pending Alembic migrations on `engine`; when the stored revision is already the head,
    one SELECT and no Alembic import (a command starts in a fraction of a second). Otherwise all of
    them in one transaction, under a lock, so a crash leaves the previous schema and a concurrent
    start waits, then finds the schema at head (Alembic reads the revision inside the lock)."""
    if _current(engine) in head_revisions():
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with writing(engine, MIGRATE_LOCK) as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open or migrate {_redact(str(engine.url))}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc


@contextmanager
def writing(engine: Engine, lock: int = WRITE_LOCK) -> Iterator[Connection]:
    """A transaction that holds the database's write lock from its first statement: SQLite's
    BEGIN IMMEDIATE (a plain transaction would read outside any lock and write later), or a
    PostgreSQL advisory lock scoped to the schema. Commits on success, rolls back on error."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(text("select pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": lock})
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


# What bulk writers fill, for analyze(). A table filled since PostgreSQL last gathered its statistics
# (autovacuum waits a minute, and some servers run without it) is planned blind: an `IN (...)` of a
# page of 2,000 notices is estimated to match every row and read by a full scan (the bidders of a
# page: 116 ms at 600k notices, every page of every `match`, `digest` and `notices`).
IMPORTED_TABLES = ("notices", "bidders", "notice_revisions", "final_contracts", "expenses", "buyer_contacts")
JUDGED_TABLES = ("match_results", "notice_judged", "profile_state")
ANALYZE_FROM = 20_000  # rows written before the first analysis; then each time the count doubles


def analyze(engine: Engine, tables: tuple[str, ...]) -> None:
    """Refresh PostgreSQL's planner statistics of `tables` (ANALYZE reads a sample of 30,000 rows a
    table: under a second at 600k notices). SQLite plans from its indexes alone: nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execute(text(f"ANALYZE {', '.join(tables)}"))  # our own table names, never user input
        conn.commit()


class Analyzer:
    """Calls analyze() as a bulk write goes: when its rows written reach ANALYZE_FROM, then each time
    they double (a handful of analyses for any size), and at the end for the rows written since.
    A smaller write (the daemon's weekly notices) is left to autovacuum: it changes little."""

    def __init__(self, engine: Engine, tables: tuple[str, ...]) -> None:
        self.engine, self.tables, self.written, self._at = engine, tables, 0, 0

    def wrote(self, rows: int) -> None:
        self.written += rows
        if self.written >= max(ANALYZE_FROM, 2 * self._at):
            self._run()

    def finish(self) -> None:
        if self.written >= ANALYZE_FROM and self.written > self._at:
            self._run()

    def _run(self) -> None:
        analyze(self.engine, self.tables)
        self._at = self.written


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


@cache
def head_revisions() -> frozenset[str]:
    """The migration scripts' heads, read from their `revision = ...` lines without importing Alembic."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"].strip("\"'"))
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", found.get("down_revision", "")))
    return frozenset(revisions - parents)


def _current(engine: Engine) -> str | None:
    """The revision stored in alembic_version, or None (no table yet, or several heads stored)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers (CLI) do not block the daemon's writes
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url
