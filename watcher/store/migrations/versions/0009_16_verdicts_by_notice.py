"""Verdicts found by notice: a page of notices' verdicts for every enterprise (judging replaces
them, digests read them back) was a scan of the whole table, once per page (issue 16: with
10,000 profiles, 450,000 verdicts scanned 24 times for 6,000 notices).

Revision ID: 0009_16
Revises: 0008_15
Create Date: 2026-11-30
"""
from alembic import op

revision = "0009_16"
down_revision = "0008_15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_match_results_notice", "match_results", ["notice_id"])


def downgrade() -> None:
    op.drop_index("ix_match_results_notice", table_name="match_results")
