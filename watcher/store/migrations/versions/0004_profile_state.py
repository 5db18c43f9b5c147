"""Incremental matching: the profile hash each enterprise's verdicts were judged with, and the
content hash each notice's verdicts were judged on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_state",
        sa.Column("enterprise_id", sa.String(80), primary_key=True),
        sa.Column("profile_hash", sa.String(64), nullable=False),
        sa.Column("judged_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "notice_judged",
        sa.Column("notice_id", sa.String(80), sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notice_judged")
    op.drop_table("profile_state")
