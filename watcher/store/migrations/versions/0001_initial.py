"""Initial schema: notices with bidders and revisions, final contracts, expenses, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(120)),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("buyer_name", sa.Text, nullable=False),
        sa.Column("buyer_id", sa.String(120)),
        sa.Column("municipal", sa.Boolean),
        sa.Column("notice_type", sa.String(200), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("nature", sa.String(20), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("unspsc", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.Column("closing_at", UTCDateTime),
        sa.Column("awarded_on", sa.Date),
        sa.Column("estimated_value", Money()),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("as_of", UTCDateTime),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_notices_published_at", "notices", ["published_at"])
    op.create_index("ix_notices_source", "notices", ["source"])
    op.create_table(
        "bidders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(80), sa.ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("neq", sa.String(20)),
        sa.Column("amount", Money()),
        sa.Column("winner", sa.Boolean, nullable=False),
        sa.Column("contract_amount", Money()),
    )
    op.create_index("ix_bidders_notice_id", "bidders", ["notice_id"])
    op.create_index("ix_bidders_neq", "bidders", ["neq"])
    op.create_table(
        "notice_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(80), sa.ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("as_of", UTCDateTime),
        sa.Column("origin", sa.Text),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    op.create_index("ix_notice_revisions_notice_id", "notice_revisions", ["notice_id"])
    op.create_table(
        "final_contracts",
        sa.Column("notice_id", sa.String(80), primary_key=True),
        sa.Column("contractor_name", sa.String(300), primary_key=True),
        sa.Column("reference", sa.String(120)),
        sa.Column("contractor_neq", sa.String(20)),
        sa.Column("final_amount", Money()),
        sa.Column("end_date", sa.Date),
        sa.Column("published_on", sa.Date),
    )
    op.create_table(
        "expenses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(80), nullable=False),
        sa.Column("reference", sa.String(120)),
        sa.Column("spent_on", sa.Date),
        sa.Column("published_on", sa.Date),
        sa.Column("amount", Money()),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("contractor_name", sa.String(300), nullable=False),
        sa.Column("contractor_neq", sa.String(20)),
        sa.Column("key", sa.String(64), nullable=False),
        sa.UniqueConstraint("key", name="uq_expenses_key"),
    )
    op.create_index("ix_expenses_notice_id", "expenses", ["notice_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("enterprise_id", sa.String(80), nullable=False),
        sa.Column("notice_id", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.Column("message_id", sa.String(300)),
        sa.UniqueConstraint("enterprise_id", "notice_id", "reason", name="uq_deliveries_once"),
    )


def downgrade() -> None:
    for table in ("deliveries", "expenses", "final_contracts", "notice_revisions", "bidders", "notices"):
        op.drop_table(table)
