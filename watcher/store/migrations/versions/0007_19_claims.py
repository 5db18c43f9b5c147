"""Concurrency guards: a notice's revision numbers are unique (the last guard against two imports
recording one change twice; existing duplicates are dropped first, oldest kept), and digest claims
(one row per enterprise: which process is sending its digest, since when), so that two active
daemons never send the same digest.

Revision ID: 0007_19
Revises: 0005_18
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from watcher.store.schema import UTCDateTime

revision = "0007_19"
down_revision = "0005_18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("delete from notice_revisions where id not in"
               " (select min(id) from notice_revisions group by notice_id, version)")
    op.create_index("uq_notice_revisions_version", "notice_revisions", ["notice_id", "version"], unique=True)
    op.create_table(
        "digest_claims",
        sa.Column("enterprise_id", sa.String(80), primary_key=True),
        sa.Column("holder", sa.String(200)),  # host:pid:token of the process sending; NULL when free
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),  # when a digest of this enterprise last went out (wall clock)
    )


def downgrade() -> None:
    op.drop_table("digest_claims")
    op.drop_index("uq_notice_revisions_version", table_name="notice_revisions")
