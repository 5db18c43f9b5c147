"""The console and the digest's feedback links (issue 18): feedback, unsubscribes, console users,
profile edits and proposals.

Revision ID: 0005_18
Revises: 0005_14
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0005_18"
down_revision = "0005_14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(80), nullable=False),
        sa.Column("notice_id", sa.String(80), nullable=False),
        sa.Column("relevant", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(20)),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("enterprise_id", "notice_id", name="uq_feedback_pair"),
    )
    op.create_table(
        "unsubscribes",
        sa.Column("enterprise_id", sa.String(80), primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("via", sa.String(40), nullable=False),
    )
    op.create_table(
        "web_users",
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "profile_edits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(80), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("previous", sa.Text),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_profile_edits_enterprise", "profile_edits", ["enterprise_id", "at"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(80), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("backtest", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", UTCDateTime),
        sa.UniqueConstraint("enterprise_id", "key", name="uq_proposals_key"),
    )


def downgrade() -> None:
    op.drop_table("proposals")
    op.drop_index("ix_profile_edits_enterprise", table_name="profile_edits")
    op.drop_table("profile_edits")
    op.drop_table("web_users")
    op.drop_table("unsubscribes")
    op.drop_table("feedback")
