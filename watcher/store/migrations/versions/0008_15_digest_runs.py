"""Operations: one row per digest run (status, metrics), and the last good version of each rule
and source file (a broken edit leaves it serving).

Revision ID: 0008_15
Revises: 0007_19
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0008_15"
down_revision = "0007_19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_digest_runs_started", "digest_runs", ["started_at"])
    op.create_table(
        "good_rule_files",
        sa.Column("path", sa.String(500), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("saved_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("good_rule_files")
    op.drop_index("ix_digest_runs_started", table_name="digest_runs")
    op.drop_table("digest_runs")
