"""Verdicts kept between runs (incremental matching) and refused deliveries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_results",
        sa.Column("enterprise_id", sa.String(80), primary_key=True),
        sa.Column("notice_id", sa.String(80), sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("notice_hash", sa.String(64), nullable=False),
        sa.Column("profile_hash", sa.String(64), nullable=False),
        sa.Column("judged_at", UTCDateTime, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
    )
    op.create_index("ix_match_results_verdict", "match_results", ["enterprise_id", "verdict"])
    op.create_table(
        "delivery_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(300)),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("permanent", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reported_at", UTCDateTime),
    )
    op.create_index("ix_delivery_failures_enterprise", "delivery_failures", ["enterprise_id", "failed_at"])


def downgrade() -> None:
    op.drop_table("delivery_failures")
    op.drop_table("match_results")
