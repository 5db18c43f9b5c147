"""Opening a store whose schema is current costs one SELECT, not an Alembic run (issue 16);
an older schema is still migrated."""

from __future__ import annotations

import subprocess
import sys
import uuid

from alembic.script import ScriptDirectory
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, inspect, text

from watcher.store import MIGRATIONS, head_revisions, open_store


def test_head_read_from_the_scripts_is_alembics_head():
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(cfg).get_heads())


def test_a_current_store_opens_without_importing_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    open_store(url).dispose()  # created and migrated
    code = f"import sys; from watcher.store import open_store; open_store({url!r}); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_store_one_migration_behind_is_migrated(store_url):
    from alembic import command

    engine = open_store(store_url)
    (head,) = head_revisions()
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != head
    engine.dispose()
    engine = open_store(store_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert set(inspect(conn).get_table_names()) >= {"notices", "alembic_version"}
    engine.dispose()


def test_postgresql_statements_are_planned_on_each_run_never_kept_generic(pg_schema_url):
    """psycopg prepares a statement run 5 times, and PostgreSQL may keep its generic plan for the
    connection's life: one planned when an import began on an empty table scanned the whole table
    on every later batch (a 600k-notice import 33x slower than 60k). No statement stays prepared."""
    from watcher.store import repo

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_schema_url)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    try:
        engine = open_store(pg_schema_url + ("&" if "?" in pg_schema_url else "?") + f"options=-csearch_path%3D{schema}")
        with engine.connect() as conn:
            for _ in range(8):  # the import's lookup of stored notices, batch after batch
                repo._stored(conn, [f"seao:{i}" for i in range(500)])
            kept = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()
    assert kept == 0
