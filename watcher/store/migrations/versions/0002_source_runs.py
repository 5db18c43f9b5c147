"""Collection bookkeeping: one row per source run, conditional-request state per resource, alerts sent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("ok", sa.Boolean),
        sa.Column("http_status", sa.Integer),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("notices_new", sa.Integer, nullable=False),
        sa.Column("notices_updated", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_source_runs_source_started", "source_runs", ["source", "started_at"])
    op.create_table(
        "fetched_resources",
        sa.Column("source", sa.String(80), primary_key=True),
        sa.Column("resource", sa.String(500), primary_key=True),
        sa.Column("etag", sa.String(300)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("key", name="uq_alerts_key"),
    )


def downgrade() -> None:
    for table in ("alerts", "fetched_resources", "source_runs"):
        op.drop_table(table)
