"""Backtests of one enterprise profile: counts by verdict, and what an edit of its file gains and loses.

A coordinator who widens keywords or raises `max_value` wants to see, before installing the file,
which past notices the enterprise would now hear about and which it would lose. The Judge gives
the verdicts (as on each notice's publication day); this module only counts and compares them, so
it stays pure and is tested on plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..models import Match, Reason
from .verdict import LEVELS

__all__ = ["VERDICTS", "Change", "changed_reasons", "compare", "tally", "transitions"]

VERDICTS = ("realistic", "stretch", "check", "consortium", "no")  # best first, the order every table uses


@dataclass(frozen=True)
class Change:
    """One notice whose verdict differs between the old and the new profile."""

    notice_id: str
    old: str
    new: str

    @property
    def gained(self) -> bool:
        """True when the new profile judges the notice better (e.g. no → stretch)."""
        return LEVELS[self.new] > LEVELS[self.old]


def tally(verdicts: Iterable[str]) -> dict[str, int]:
    """Count of each verdict, every verdict present (0 included), best first."""
    counts = dict.fromkeys(VERDICTS, 0)
    for v in verdicts:
        counts[v] += 1
    return counts


def compare(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Notices (id -> verdict) judged differently; a notice missing on one side counts as "no" there.
    Gains first, then losses; within each, the biggest moves first, then by notice id."""
    changes = [Change(i, old.get(i, "no"), new.get(i, "no")) for i in sorted({*old, *new})]
    changes = [c for c in changes if c.old != c.new]
    return sorted(changes, key=lambda c: (not c.gained, -abs(LEVELS[c.new] - LEVELS[c.old]), c.notice_id))


def transitions(changes: Iterable[Change]) -> dict[tuple[str, str], int]:
    """How many notices moved from each old verdict to each new one, e.g. {("no", "stretch"): 3}."""
    out: dict[tuple[str, str], int] = {}
    for c in changes:
        out[(c.old, c.new)] = out.get((c.old, c.new), 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (VERDICTS.index(kv[0][0]), VERDICTS.index(kv[0][1]))))


def changed_reasons(old: Match, new: Match) -> list[Reason]:
    """The new match's reasons that differ from the old one's (pass/fail, level or wording): why the
    verdict moved, e.g. the keyword that now matches or the capacity now exceeded."""
    before = {(r.criterion, r.ok, r.level, r.fr) for r in old.reasons}
    return [r for r in new.reasons if (r.criterion, r.ok, r.level, r.fr) not in before]
