"""Schema changes and imports under crashes and concurrency, on SQLite and PostgreSQL: the first
migration killed at many statements leaves a database that opens; concurrent starts on an empty
database and concurrent imports of the same changes leave no error and no duplicate row.

Processes are forked (cheap: the modules are already loaded); a child "crashes" with os._exit,
like kill -9, at the Nth SQL statement it sends."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text

from watcher import app
from watcher.store import open_store, upgrade
from watcher.store.schema import metadata, notice_revisions, notices

TABLES = set(metadata.tables) | {"alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path) -> Iterator[Callable[[], str]]:
    """A maker of empty databases of one kind (a SQLite file, a PostgreSQL schema), dropped at the end."""
    made: list[str] = []
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:12]}.db'}"
        return
    base = request.getfixturevalue("pg_schema_url")
    admin = create_engine(base)

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
        made.append(schema)
        return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    yield make
    with admin.begin() as conn:
        for schema in made:
            conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


def _fork(work: Callable[[], None]) -> int:
    """Run `work` in a child process; returns its pid. The child exits 0, or 1 on an exception."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported through the exit status
            os.write(2, f"child failed: {type(exc).__name__}: {exc}\n".encode())
            code = 1
        os._exit(code)
    return pid


def _status(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _crash_at(n: int) -> None:
    """Die (no cleanup, like kill -9) just before the nth SQL statement of this process."""
    sent = 0

    def count(*_args) -> None:
        nonlocal sent
        sent += 1
        if sent >= n:
            os._exit(9)
    event.listen(Engine, "before_cursor_execute", count)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_first_migration_killed_at_many_statements_leaves_a_database_that_opens(fresh_url):
    probe = fresh_url()
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1
    engine = create_engine(probe)
    event.listen(engine, "before_cursor_execute", count)
    upgrade(engine)
    engine.dispose()
    assert statements > 20
    crashed = 0
    points = sorted({1, statements, *range(2, statements, max(1, statements // 14))})  # ~16 moments, first and last
    for n in points:
        url = fresh_url()
        code = _status(_fork(lambda: (_crash_at(n), open_store(url).dispose())))
        crashed += code == 9
        left = _tables(url)
        assert left in (set(), TABLES), f"killed before statement {n}: half a schema {sorted(left)}"
        open_store(url).dispose()  # opens, whatever the moment of the crash
        assert _tables(url) == TABLES
    assert crashed >= len(points) - 1  # the crash really happened at (almost) every point


def test_concurrent_starts_on_an_empty_database(fresh_url):
    url = fresh_url()
    start = time.time() + 1.0

    def start_together() -> None:
        time.sleep(max(0.0, start - time.time()))
        open_store(url).dispose()
    pids = [_fork(start_together) for _ in range(4)]
    assert [_status(p) for p in pids] == [0, 0, 0, 0]
    assert _tables(url) == TABLES


def test_concurrent_imports_record_each_change_once(fresh_url, tmp_path: Path, ocds):
    url = fresh_url()
    engine = open_store(url)
    first, second = tmp_path / "v1.json", tmp_path / "v2.json"
    first.write_bytes(ocds.package(*(ocds.release(i) for i in range(400))))
    second.write_bytes(ocds.package(*(ocds.release(i, f"Entretien ménager, révisé {i}") for i in range(400))))
    assert app.import_paths(engine, [first]).notices_new == 400
    engine.dispose()
    start = time.time() + 1.0

    def import_together() -> None:
        time.sleep(max(0.0, start - time.time()))
        child = open_store(url)
        report = app.import_paths(child, [second])
        assert report.errors == [], report.errors
        assert report.notices_updated + report.notices_unchanged == 400
    pids = [_fork(import_together) for _ in range(3)]
    assert [_status(p) for p in pids] == [0, 0, 0]
    engine = open_store(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notice_revisions)).scalar() == 400
        assert conn.execute(select(func.count()).select_from(notices).where(notices.c.version == 2)).scalar() == 400
    engine.dispose()


def test_the_migration_drops_revisions_recorded_twice_before_the_unique_guard(fresh_url):
    """Databases written by two concurrent imports before this fix hold duplicate revisions: the
    migration that adds the unique (notice, version) keeps the oldest of each and goes through."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from watcher.store import MIGRATIONS

    url = fresh_url()
    engine = open_store(url, migrate=False)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005_18")  # the schema before the guard
    with engine.begin() as conn:
        conn.execute(text("insert into notices (id, source, title, buyer_name, notice_type, method, nature, categories,"
                          " unspsc, regions, description, content_hash, version, first_seen, updated_at) values"
                          " ('x:1', 'x', 't', '', '', 'other', 'other', '[]', '[]', '[]', '', 'h', 2,"
                          " '2026-01-01', '2026-01-01')"))
        for origin in ("first import", "second import", "first import"):
            conn.execute(text("insert into notice_revisions (notice_id, version, recorded_at, origin, changes)"
                              " values ('x:1', 2, '2026-01-02', :o, '{}')"), {"o": origin})
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(notice_revisions.c.version, notice_revisions.c.origin)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(2, "first import")]
