"""Read-only queries of the console: notice search and the week's deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from .schema import deliveries, delivery_failures, notices


def search_notice_ids(conn: Connection, text: str = "", buyer: str = "", region: str = "", code: str = "",
                      since: datetime | None = None, until: datetime | None = None, limit: int = 100) -> list[str]:
    """Ids of the notices whose title, description or reference holds `text`, whose buyer holds
    `buyer`, delivered in `region`, with `code` as SEAO category or UNSPSC prefix, published
    between the dates; newest first. Text filters run in SQL (bound parameters, LIKE wildcards
    escaped); regions and codes are JSON lists, filtered here."""
    query = select(notices.c.id, notices.c.regions, notices.c.categories, notices.c.unspsc)
    for word in text.split():
        pattern = f"%{_escape(word)}%"
        query = query.where(or_(notices.c.title.ilike(pattern, escape="\\"), notices.c.description.ilike(pattern, escape="\\"),
                                notices.c.reference.ilike(pattern, escape="\\"), notices.c.id.ilike(pattern, escape="\\")))
    if buyer.strip():
        query = query.where(notices.c.buyer_name.ilike(f"%{_escape(buyer.strip())}%", escape="\\"))
    if since is not None:
        query = query.where(notices.c.published_at >= since)
    if until is not None:
        query = query.where(notices.c.published_at < until)
    query = query.order_by(notices.c.published_at.desc().nulls_last(), notices.c.id)
    code = code.strip().upper()
    out: list[str] = []
    for row in conn.execute(query):
        if region and region not in (row.regions or ()):
            continue
        if code and code not in (row.categories or ()) and not any(str(u).startswith(code) for u in row.unspsc or ()):
            continue
        out.append(row.id)
        if len(out) >= limit:
            break
    return out


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def deliveries_since(conn: Connection, since: datetime) -> list[dict]:
    """Per enterprise and reason: how many notices went out since `since`, and when last."""
    query = (select(deliveries.c.enterprise_id, deliveries.c.reason, func.count().label("notices"),
                    func.max(deliveries.c.sent_at).label("last"))
             .where(deliveries.c.sent_at >= since)
             .group_by(deliveries.c.enterprise_id, deliveries.c.reason)
             .order_by(deliveries.c.enterprise_id, deliveries.c.reason))
    return [dict(r._mapping) for r in conn.execute(query)]


def failures_since(conn: Connection, since: datetime) -> list[dict]:
    query = (select(delivery_failures).where(delivery_failures.c.failed_at >= since)
             .order_by(delivery_failures.c.failed_at.desc()))
    return [dict(r._mapping) for r in conn.execute(query)]
