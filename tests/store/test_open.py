"""Opening a store whose schema is current costs one SELECT, not an Alembic run (issue 16);
an older schema is still migrated."""

from __future__ import annotations

import subprocess
import sys

from alembic.script import ScriptDirectory
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text

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
