"""Issue 14: what sources say beyond the first fields: currency, classification codes with their
scheme, contacts, built titles, expected contract period, trade agreements; and the buyers'
contact persons with when they were last seen and what changed.

Revision ID: 0005_14
Revises: 0004
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0005_14"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False, server_default="CAD"))
        batch.add_column(sa.Column("codes", sa.JSON))
        batch.add_column(sa.Column("contacts", sa.JSON))
        batch.add_column(sa.Column("title_built", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("contract_start", sa.Date))
        batch.add_column(sa.Column("contract_end", sa.Date))
        batch.add_column(sa.Column("trade_agreements", sa.JSON))
    op.create_table(
        "buyer_contacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("buyer_key", sa.String(300), nullable=False),
        sa.Column("buyer_name", sa.Text, nullable=False, server_default=""),
        sa.Column("person_key", sa.String(300), nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.String(300), nullable=False, server_default=""),
        sa.Column("phone", sa.String(100), nullable=False, server_default=""),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("notice_id", sa.String(80)),
        sa.UniqueConstraint("buyer_key", "person_key", name="uq_buyer_contacts_person"),
    )
    op.create_index("ix_buyer_contacts_buyer", "buyer_contacts", ["buyer_key", "last_seen"])
    op.create_table(
        "buyer_contact_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("buyer_contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.Column("notice_id", sa.String(80)),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    op.create_index("ix_buyer_contact_changes_contact", "buyer_contact_changes", ["contact_id"])


def downgrade() -> None:
    op.drop_table("buyer_contact_changes")
    op.drop_table("buyer_contacts")
    with op.batch_alter_table("notices") as batch:
        for name in ("trade_agreements", "contract_end", "contract_start", "title_built", "contacts", "codes", "currency"):
            batch.drop_column(name)
