"""JSON views of records for `--json` outputs: dates in America/Montreal, ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from .models import Match, Notice

MONTREAL = ZoneInfo("America/Montreal")


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(MONTREAL).isoformat()
    return value.isoformat()


def notice_json(n: Notice) -> dict:
    return {
        "id": n.id, "source": n.source, "reference": n.reference, "url": n.url, "title": n.title,
        "buyer": {"name": n.buyer_name, "id": n.buyer_id, "municipal": n.municipal},
        "notice_type": n.notice_type, "method": n.method, "nature": n.nature,
        "categories": list(n.categories), "unspsc": list(n.unspsc), "regions": list(n.regions),
        "published_at": _iso(n.published_at), "closing_at": _iso(n.closing_at), "awarded_on": _iso(n.awarded_on),
        "estimated_value": n.estimated_value, "awarded_value": n.awarded_value,
        "bidders": [
            {"name": b.name, "neq": b.neq, "amount": b.amount, "winner": b.winner, "contract_amount": b.contract_amount}
            for b in n.bidders
        ],
    }


def match_json(m: Match, language: str = "fr") -> dict:
    return {
        "notice": m.notice_id, "enterprise": m.enterprise_id, "score": m.score, "verdict": m.verdict,
        "reasons": [{"criterion": r.criterion, "ok": r.ok, "text": r.text(language)} for r in m.reasons],
    }
