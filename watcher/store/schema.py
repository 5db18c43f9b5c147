"""SQLAlchemy tables. The schema itself is created and changed only by Alembic migrations."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, Numeric, String,
    Table, Text, TypeDecorator, UniqueConstraint, false,
)

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime refused: {value!r}")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """Amounts in CAD as floats; SQLite would hand back ints for whole amounts."""

    impl = Numeric(16, 2, asdecimal=False)
    cache_ok = True

    def process_result_value(self, value, dialect) -> float | None:
        return None if value is None else float(value)


notices = Table(
    "notices", metadata,
    Column("id", String(80), primary_key=True),
    Column("source", String(40), nullable=False),
    Column("reference", String(120)),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("buyer_name", Text, nullable=False, default=""),
    Column("buyer_id", String(120)),
    Column("municipal", Boolean),
    Column("notice_type", String(200), nullable=False, default=""),
    Column("method", String(20), nullable=False),
    Column("nature", String(20), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("unspsc", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("published_at", UTCDateTime),
    Column("closing_at", UTCDateTime),
    Column("awarded_on", Date),
    Column("estimated_value", Money()),
    Column("description", Text, nullable=False, default=""),
    Column("as_of", UTCDateTime),
    Column("currency", String(3), nullable=False, default="CAD", server_default="CAD"),
    Column("codes", JSON),  # [[scheme, code, label]]
    Column("contacts", JSON),  # [[name, email, phone]]
    Column("title_built", Boolean, nullable=False, default=False, server_default=false()),
    Column("contract_start", Date),
    Column("contract_end", Date),
    Column("trade_agreements", JSON),
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_notices_published_at", "published_at"),
    Index("ix_notices_source", "source"),
)

bidders = Table(
    "bidders", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(80), ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("neq", String(20)),
    Column("amount", Money()),
    Column("winner", Boolean, nullable=False, default=False),
    Column("contract_amount", Money()),
    Index("ix_bidders_notice_id", "notice_id"),
    Index("ix_bidders_neq", "neq"),
)

notice_revisions = Table(
    "notice_revisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(80), ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("as_of", UTCDateTime),
    Column("origin", Text),
    Column("changes", JSON, nullable=False),  # {field: [old, new]}
    Index("ix_notice_revisions_notice_id", "notice_id"),
    Index("uq_notice_revisions_version", "notice_id", "version", unique=True),  # never one change twice
)

final_contracts = Table(
    "final_contracts", metadata,
    Column("notice_id", String(80), primary_key=True),  # no FK: Contrats files name older notices too
    Column("contractor_name", String(300), primary_key=True),
    Column("reference", String(120)),
    Column("contractor_neq", String(20)),
    Column("final_amount", Money()),
    Column("end_date", Date),
    Column("published_on", Date),
)

expenses = Table(
    "expenses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(80), nullable=False),
    Column("reference", String(120)),
    Column("spent_on", Date),
    Column("published_on", Date),
    Column("amount", Money()),
    Column("description", Text, nullable=False, default=""),
    Column("contractor_name", String(300), nullable=False, default=""),
    Column("contractor_neq", String(20)),
    Column("key", String(64), nullable=False),
    UniqueConstraint("key", name="uq_expenses_key"),
    Index("ix_expenses_notice_id", "notice_id"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(80), nullable=False),
    Column("notice_id", String(80), nullable=False),
    Column("reason", String(40), nullable=False),  # "new" now; "reminder", "amendment" later
    Column("sent_at", UTCDateTime, nullable=False),
    Column("message_id", String(300)),
    UniqueConstraint("enterprise_id", "notice_id", "reason", name="uq_deliveries_once"),
)

source_runs = Table(
    "source_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(80), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("ok", Boolean),
    Column("http_status", Integer),
    Column("bytes", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("notices_new", Integer, nullable=False, default=0),
    Column("notices_updated", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_source_runs_source_started", "source", "started_at"),
)

fetched_resources = Table(
    "fetched_resources", metadata,
    Column("source", String(80), primary_key=True),
    Column("resource", String(500), primary_key=True),  # URL, or CKAN resource id
    Column("etag", String(300)),
    Column("last_modified", String(100)),
    Column("sha256", String(64)),
    Column("fetched_at", UTCDateTime, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # e.g. "source-failing:seao-ocds:<first failed run id>"
    Column("sent_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", name="uq_alerts_key"),
)

# Verdicts kept between runs, so only new or changed notices and edited profiles are judged again:
# a row is stale when the notice's content_hash or the profile's hash differs from what it records.
match_results = Table(
    "match_results", metadata,
    Column("enterprise_id", String(80), primary_key=True),
    Column("notice_id", String(80), ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    Column("notice_hash", String(64), nullable=False),
    Column("profile_hash", String(64), nullable=False),
    Column("judged_at", UTCDateTime, nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", JSON, nullable=False),
    Index("ix_match_results_verdict", "enterprise_id", "verdict"),
    Index("ix_match_results_notice", "notice_id"),  # verdicts of a page of notices, for every enterprise
)

# Messages the mail server refused: kept for the coordinator's report and for retries.
delivery_failures = Table(
    "delivery_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(80), nullable=False),
    Column("message_id", String(300)),
    Column("failed_at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=False),
    Column("permanent", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("reported_at", UTCDateTime),  # when the coordinator was told
    Index("ix_delivery_failures_enterprise", "enterprise_id", "failed_at"),
)

# Per enterprise: the hash of its profile (and of the shared rules) its stored verdicts were judged
# with, and when; a new hash re-judges every notice for it.
profile_state = Table(
    "profile_state", metadata,
    Column("enterprise_id", String(80), primary_key=True),
    Column("profile_hash", String(64), nullable=False),
    Column("judged_at", UTCDateTime, nullable=False),
)

# Per notice: the content hash its stored verdicts were judged on (a new or changed notice differs).
notice_judged = Table(
    "notice_judged", metadata,
    Column("notice_id", String(80), ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
)


# Buyers' contact persons (issue 14): one row per (buyer, person), with when a notice first and last
# stated it; a person who leaves keeps their row (and its last date), the newcomer gets a new one.
buyer_contacts = Table(
    "buyer_contacts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("buyer_key", String(300), nullable=False),  # "<source>:<buyer id>" or "name:<folded name>"
    Column("buyer_name", Text, nullable=False, default=""),
    Column("person_key", String(300), nullable=False),  # lower-case e-mail, else folded name
    Column("name", Text, nullable=False, default=""),
    Column("email", String(300), nullable=False, default=""),
    Column("phone", String(100), nullable=False, default=""),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("notice_id", String(80)),  # the notice that stated it last
    UniqueConstraint("buyer_key", "person_key", name="uq_buyer_contacts_person"),
    Index("ix_buyer_contacts_buyer", "buyer_key", "last_seen"),
)

# What changed in a known contact person (new phone, new name spelling), with when it was seen.
buyer_contact_changes = Table(
    "buyer_contact_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("contact_id", Integer, ForeignKey("buyer_contacts.id", ondelete="CASCADE"), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("notice_id", String(80)),
    Column("changes", JSON, nullable=False),  # {field: [old, new]}
    Index("ix_buyer_contact_changes_contact", "contact_id"),
)

# --- issue 18: the console and the digest's feedback links --------------------------------------

# "pertinent" / "pas pour nous" from a digest link (or the console): one row per (enterprise,
# notice); a second click changes the vote, never adds a row.
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(80), nullable=False),
    Column("notice_id", String(80), nullable=False),
    Column("relevant", Boolean, nullable=False),
    Column("reason", String(20)),  # "trade" | "size" | "region" | "timing" | None
    Column("via", String(20), nullable=False),  # "mail" | "console:<user>"
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("enterprise_id", "notice_id", name="uq_feedback_pair"),
)

# Enterprises that asked (one-click List-Unsubscribe, RFC 8058) to receive no more mail.
unsubscribes = Table(
    "unsubscribes", metadata,
    Column("enterprise_id", String(80), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("via", String(40), nullable=False),  # "one-click" | "page" | "console:<user>"
)

web_users = Table(
    "web_users", metadata,
    Column("username", String(80), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", UTCDateTime, nullable=False),
)

# Who saved which profile when, and where the previous version was kept.
profile_edits = Table(
    "profile_edits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(80), nullable=False),
    Column("username", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("previous", Text),  # path of the kept previous version, None for a new profile
    Column("summary", Text, nullable=False, default=""),
    Index("ix_profile_edits_enterprise", "enterprise_id", "at"),
)

# Rule changes proposed from feedback, with their backtest, until a coordinator decides.
proposals = Table(
    "proposals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(80), nullable=False),
    Column("key", String(200), nullable=False),  # e.g. "exclude:amiante": proposed once
    Column("field", String(40), nullable=False),  # match.exclude | match.keywords | match.regions ...
    Column("action", String(10), nullable=False),  # "add" | "remove"
    Column("value", Text, nullable=False),
    Column("evidence", JSON, nullable=False),  # notice ids the feedback rests on
    Column("backtest", JSON, nullable=False),  # {"gained": [...], "lost": [...]}
    Column("status", String(10), nullable=False, default="open"),  # open | accepted | rejected
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(80)),
    Column("decided_at", UTCDateTime),
    UniqueConstraint("enterprise_id", "key", name="uq_proposals_key"),
)

# Per enterprise: which process is sending its digest right now (NULL holder: nobody). Claimed row by
# row (FOR UPDATE SKIP LOCKED on PostgreSQL) before a mail goes out, so two active daemons never
# send the same digest; a claim older than the lease is taken over (its process died).
digest_claims = Table(
    "digest_claims", metadata,
    Column("enterprise_id", String(80), primary_key=True),
    Column("holder", String(200)),
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),  # when a digest of this enterprise last went out (wall clock)
)

# One row per digest run (weekly digests, or a retry of temporary failures): what `watcher status`
# and the metrics report about delivery.
digest_runs = Table(
    "digest_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # "digest" | "retry"
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("sent", Integer, nullable=False, default=0),
    Column("refused", Integer, nullable=False, default=0),  # permanent: 5xx, bad address
    Column("failed", Integer, nullable=False, default=0),  # temporary: server down, 4xx; retried
    Column("error", Text),
    Index("ix_digest_runs_started", "started_at"),
)

# The last version of each rule or source file that passed validation, so that a broken edit
# leaves the previous version serving, even across a restart.
good_rule_files = Table(
    "good_rule_files", metadata,
    Column("path", String(500), primary_key=True),  # e.g. "enterprises/coop-x.toml", "sources/seao.toml"
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("saved_at", UTCDateTime, nullable=False),
)
