"""Judge many notices for many enterprises at once. Pure: the caller passes the rules and history.

One Judge per run: profiles are compiled once, and each notice's normalised text, extracted
requirements and facts (value or estimate, stated and inferred requirements) are computed once
and shared by every enterprise.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ..models import Enterprise, Match, Notice
from ..rules.requirements import RequirementRules
from ..rules.thresholds import Thresholds
from . import compile_profile, notice_text
from .requirements import Requirements, extract
from .verdict import PLACEHOLDER_AMOUNT, Facts, judge, notice_facts

__all__ = ["AwardHistory", "Judge", "Rulebook", "source_text"]


@dataclass(frozen=True)
class Rulebook:
    """Everything the coordinators' rule files say: profiles, thresholds, requirement phrases."""

    enterprises: tuple[Enterprise, ...]
    thresholds: Thresholds
    requirements: RequirementRules

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        return next((e for e in self.enterprises if e.id == enterprise_id), None)


class AwardHistory:
    """Past award amounts by (buyer, SEAO category), dated, to estimate a value the notice does not
    give. Only awards published before the notice count, so a backtest never peeks at the future."""

    def __init__(self, rows: Iterable[tuple[str, str, datetime, float]]) -> None:
        by_key: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for buyer, category, when, amount in rows:
            if amount <= PLACEHOLDER_AMOUNT:  # SEAO's 1 $ per winner of a framework agreement
                continue
            by_key.setdefault((buyer.casefold(), category), []).append((when.timestamp(), amount))
        self._by_key = {k: sorted(v) for k, v in by_key.items()}

    def before(self, notice: Notice) -> list[float]:
        if notice.published_at is None or not notice.buyer_name:
            return []
        limit = notice.published_at.timestamp()
        out: list[float] = []
        for category in notice.categories:
            rows = self._by_key.get((notice.buyer_name.casefold(), category), [])
            out += [amount for _, amount in rows[:bisect_left(rows, (limit, float("-inf")))]]
        return out


def source_text(notice: Notice) -> str:
    """The notice's own words the requirement extractor reads (title and description)."""
    return f"{notice.title}\n{notice.description}".strip()


class Judge:
    """Verdicts for every (notice, enterprise) pair asked for."""

    def __init__(self, rulebook: Rulebook, history: AwardHistory | None = None) -> None:
        self.rulebook = rulebook
        self.history = history
        self.profiles = {e.id: compile_profile(e) for e in rulebook.enterprises}

    def requirements(self, notice: Notice) -> Requirements:
        return extract(source_text(notice), self.rulebook.requirements)

    def facts(self, notice: Notice) -> Facts:
        past = self.history.before(notice) if self.history is not None else None
        return notice_facts(notice, self.rulebook.thresholds, self.requirements(notice), past)

    def judge(self, notice: Notice, enterprise_ids: Iterable[str] | None = None, now: datetime | None = None) -> list[Match]:
        """The notice judged for each enterprise (all by default). `now` None judges as at publication."""
        ids = list(self.profiles) if enterprise_ids is None else list(enterprise_ids)
        text = notice_text(notice)
        facts = self.facts(notice)
        return [judge(notice, self.profiles[i], facts, now=now, text=text) for i in ids]

    def judge_all(self, notices: Iterable[Notice], now: datetime | None = None,
                  include_no: bool = False) -> Iterator[tuple[Notice, Match]]:
        for notice in notices:
            for m in self.judge(notice, now=now):
                if include_no or m.is_match:
                    yield notice, m
