"""Alembic environment: run with the connection watcher hands over (watcher.store.migrate),
or, for `alembic revision --autogenerate` by a developer, with the URL of config.toml."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from watcher.store.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    from watcher.config import load_config

    url = config.get_main_option("sqlalchemy.url") or load_config(config.get_main_option("watcher_config") or None).database_url
    with create_engine(url).connect() as conn:
        _run_with(conn)
        conn.commit()


def _run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies to alter
    )
    with context.begin_transaction():
        context.run_migrations()


run()
