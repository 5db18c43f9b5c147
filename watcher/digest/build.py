"""Choose and order what one enterprise receives. Pure: no I/O, no clock (the caller passes `now`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..models import Amendment, Digest, DigestItem, Enterprise, Match, Notice


def build_digest(enterprise: Enterprise, items: Iterable[tuple[Notice, Match]], now: datetime,
                 max_items: int, reminders: Iterable[tuple[Notice, Match]] = (), amendments: Iterable[Amendment] = (),
                 filtered: dict[str, int] | None = None, extra: dict | None = None,
                 send_empty: bool = False) -> Digest | None:
    """The enterprise's digest: its matches, best first, at most `max_items` (the rest counted in
    `omitted`, left for the next digest), plus reminders and amendments of notices sent before.
    None when there is nothing to send, so no empty mail goes out (unless `send_empty`)."""
    if max_items < 1:
        raise ValueError(f"max_items must be 1 or more, not {max_items}")
    kept = sorted((DigestItem(n, m) for n, m in items if m.is_match), key=_order)
    soon = tuple(sorted((DigestItem(n, m) for n, m in reminders), key=_closing))
    changed = tuple(sorted(amendments, key=lambda a: _closing(a.item)))
    if not kept and not soon and not changed and not send_empty:
        return None
    return Digest(
        enterprise=enterprise,
        items=tuple(kept[:max_items]),
        generated_at=now,
        omitted=max(0, len(kept) - max_items),
        language=enterprise.language,
        extra=dict(extra or {}),
        reminders=soon,
        amendments=changed,
        filtered=tuple(sorted((filtered or {}).items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _closing(item: DigestItem) -> tuple:
    """Soonest closing first, unknown last, then the id: realistic notices and reminders are read by deadline."""
    closing = item.notice.closing_at
    return (closing is None, closing.timestamp() if closing else 0.0, item.notice.id)


def _order(item: DigestItem) -> tuple:
    """Best score first; among equals the soonest closing (unknown last), then the newest; the id
    last so that the same input always gives the same mail."""
    closing, published = item.notice.closing_at, item.notice.published_at
    return (
        -item.match.score,
        closing is None,
        closing.timestamp() if closing else 0.0,
        published is None,
        -published.timestamp() if published else 0.0,
        item.notice.id,
    )


def describe_changes(revisions: list[dict]) -> tuple[str, str]:
    """What changed in a notice, in words a manager reads: closing date moved, cancelled, other fields."""
    changes: dict[str, list] = {}
    for r in revisions:
        for name, (old, new) in (r["changes"] or {}).items():
            changes[name] = [changes.get(name, [old])[0], new]
    fr, en = [], []
    if "closing_at" in changes:
        old, new = (str(v)[:16].replace("T", " ") if v else "?" for v in changes.pop("closing_at"))
        fr.append(f"date de fermeture déplacée : {old} → {new}")
        en.append(f"closing date moved: {old} → {new}")
    kind = changes.pop("notice_type", None)
    if kind and "annul" in str(kind[1]).lower():
        fr.append("avis annulé")
        en.append("notice cancelled")
    elif kind:
        fr.append(f"type d'avis : {kind[1]}")
        en.append(f"notice type: {kind[1]}")
    if changes:
        names = ", ".join(sorted(changes))
        fr.append(f"autres champs modifiés (addenda) : {names}")
        en.append(f"other fields changed (addendum): {names}")
    return "; ".join(fr) or "avis republié", "; ".join(en) or "notice republished"
