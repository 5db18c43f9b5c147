"""Choose and order what one enterprise receives. Pure: no I/O, no clock (the caller passes `now`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..models import Digest, DigestItem, Enterprise, Match, Notice


def build_digest(enterprise: Enterprise, items: Iterable[tuple[Notice, Match]], now: datetime,
                 max_items: int) -> Digest | None:
    """The enterprise's digest: its matches, best first, at most `max_items` (the rest counted in
    `omitted`, left for the next digest). None when there is nothing to send, so no empty mail goes out."""
    if max_items < 1:
        raise ValueError(f"max_items must be 1 or more, not {max_items}")
    kept = sorted((DigestItem(n, m) for n, m in items if m.is_match), key=_order)
    if not kept:
        return None
    return Digest(
        enterprise=enterprise,
        items=tuple(kept[:max_items]),
        generated_at=now,
        omitted=max(0, len(kept) - max_items),
        language=enterprise.language,
    )


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
