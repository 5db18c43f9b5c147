"""JSON views of records for `--json` outputs: dates in America/Montreal, ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from .codes import CATEGORIES
from .models import Match, Notice

MONTREAL = ZoneInfo("America/Montreal")


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(MONTREAL).isoformat()
    return value.isoformat()


def notice_json(n: Notice) -> dict:
    """A notice for `watcher notices --json`: regions in the agreed vocabulary (collect/places.py),
    amounts with their `currency`, `codes` as {scheme, code, label}, `contacts` as {name, email, phone,
    seen} (seen: when the notice stated it), the description, and whether the title was built."""
    seen = n.as_of or n.published_at
    return {
        "id": n.id, "source": n.source, "reference": n.reference, "url": n.url, "title": n.title,
        "buyer": {"name": n.buyer_name, "id": n.buyer_id, "municipal": n.municipal},
        "notice_type": n.notice_type, "method": n.method, "nature": n.nature,
        "categories": list(n.categories), "unspsc": list(n.unspsc), "regions": list(n.regions),
        "published_at": _iso(n.published_at), "closing_at": _iso(n.closing_at), "awarded_on": _iso(n.awarded_on),
        "estimated_value": n.estimated_value, "awarded_value": n.awarded_value, "currency": n.currency or None,
        "codes": codes_json(n),
        "contacts": [{"name": c.name or None, "email": c.email or None, "phone": c.phone or None,
                      "seen": _iso(seen.astimezone(MONTREAL).date()) if seen else None} for c in n.contacts],
        "title_built": n.title_built, "description": n.description or None,
        "contract_start": _iso(n.contract_start), "contract_end": _iso(n.contract_end),
        "trade_agreements": list(n.trade_agreements),
        "bidders": [
            {"name": b.name, "neq": b.neq, "amount": b.amount, "winner": b.winner, "contract_amount": b.contract_amount}
            for b in n.bidders
        ],
    }


def codes_json(n: Notice) -> list[dict]:
    """Every code of the notice with its scheme: those the source gave with their labels, then its
    UNSPSC codes and SEAO categories not among them (SEAO XML keeps those in their own fields)."""
    pairs = [(c.scheme, c.code, c.label) for c in n.codes]
    seen = {(scheme, code) for scheme, code, _ in pairs}
    pairs += [("UNSPSC", u, "") for u in n.unspsc if ("UNSPSC", u) not in seen]
    pairs += [("SEAO", c, CATEGORIES.get(c, "")) for c in n.categories if ("SEAO", c) not in seen]
    return [{"scheme": scheme, "code": code, "label": label or None} for scheme, code, label in pairs]


def match_json(m: Match, language: str = "fr") -> dict:
    return {
        "notice": m.notice_id, "enterprise": m.enterprise_id, "score": m.score, "verdict": m.verdict,
        "reasons": [{"criterion": r.criterion, "ok": r.ok, "text": r.text(language)} for r in m.reasons],
    }


def explanation_json(x: object) -> dict:
    """`watcher explain --json`: every criterion with pass/fail, level and evidence, then the facts
    (value and its basis; each requirement stated with evidence or inferred with its basis).
    `x` is an app.Explanation."""
    n, m, f = x.notice, x.match, x.facts
    return {
        "notice": {"id": n.id, "title": n.title, "buyer": n.buyer_name, "method": n.method, "nature": n.nature,
                   "categories": list(n.categories), "regions": list(n.regions), "published_at": _iso(n.published_at),
                   "closing_at": _iso(n.closing_at), "estimated_value": n.estimated_value, "awarded_value": n.awarded_value},
        "enterprise": m.enterprise_id,
        "judged_at": _iso(x.judged_at) if x.judged_at else "published",
        "verdict": m.verdict, "score": m.score,
        "criteria": [{"criterion": r.criterion, "ok": r.ok, "level": r.level or None, "fr": r.fr, "en": r.text("en"),
                      "evidence": r.evidence or None} for r in m.reasons],
        "facts": {
            "value": f.value, "low": f.low, "high": f.high, "estimated": f.estimated,
            "basis_fr": f.basis_fr, "basis_en": f.basis_en, "buyer_type": f.buyer,
            "requirements": {name: {"status": r.status, "amount": r.amount, "percent": r.percent,
                                    "source": "inferred" if r.inferred else "stated",
                                    "evidence": r.evidence or None,
                                    "basis_fr": r.basis_fr or None, "basis_en": r.basis_en or None}
                             for name, r in f.requirements.items()},
        },
        "extracted": x.extracted.to_json(),
    }


def requirements_json(text: str, found: object, ident: object = None) -> dict:
    """`watcher requirements`: the extractor's fields (label keys first), `evidence` quotes, and
    `spans`: [start, end) of each quote in `text` (the first place it occurs; the quote is verbatim)."""
    out = ({"id": ident} if ident is not None else {}) | found.to_json()
    spans = {}
    for key, quote in out["evidence"].items():
        start = text.find(quote)
        if start >= 0:
            spans[key] = [start, start + len(quote)]
    return out | {"spans": spans}
