"""Judge many notices for many enterprises at once. Pure: the caller passes the rules and history.

One Judge per run: profiles are compiled once, and each notice's normalised text, extracted
requirements and facts (value or estimate, stated and inferred requirements) are computed once
and shared by every enterprise.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ..models import Enterprise, Match, Notice, Reason
from ..rules.requirements import RequirementRules
from ..money import Rates
from ..rules.thresholds import Thresholds
from . import Profile, compile_profile, notice_text
from . import _code as unspsc_levels
from .consortia import Pool, propose
from .requirements import Requirements, extract
from .verdict import PLACEHOLDER_AMOUNT, Facts, judge, notice_facts

__all__ = ["AwardHistory", "Judge", "Rulebook", "source_text"]


@dataclass(frozen=True)
class Rulebook:
    """Everything the coordinators' rule files say: profiles, thresholds, requirement phrases."""

    enterprises: tuple[Enterprise, ...]
    thresholds: Thresholds
    requirements: RequirementRules
    rates: Rates = Rates()  # rules/rates.toml: values in other currencies are judged only through these

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        return next((e for e in self.enterprises if e.id == enterprise_id), None)


class AwardHistory:
    """Past award amounts by (buyer, SEAO category), dated, to estimate a value the notice does not
    give. Only awards published before the notice count, so a backtest never peeks at the future.
    Kept as two arrays of floats per key (dates, amounts; sorted by date then amount): 16 bytes an
    award rather than ~110 for a tuple in a list, as every award of the store is held (issue 16)."""

    def __init__(self, rows: Iterable[tuple[str, str, datetime, float]]) -> None:
        by_key: dict[tuple[str, str], tuple[array, array]] = {}
        for buyer, category, when, amount in rows:
            if amount <= PLACEHOLDER_AMOUNT:  # SEAO's 1 $ per winner of a framework agreement
                continue
            key = (buyer.casefold(), category)
            if key not in by_key:
                by_key[key] = (array("d"), array("d"))
            dates, amounts = by_key[key]
            dates.append(when.timestamp())
            amounts.append(amount)
        for dates, amounts in by_key.values():  # one key at a time: never a second copy of the whole
            pairs = sorted(zip(dates, amounts))
            dates[:] = array("d", (d for d, _ in pairs))
            amounts[:] = array("d", (a for _, a in pairs))
        self._by_key = by_key

    def before(self, notice: Notice) -> list[float]:
        if notice.published_at is None or not notice.buyer_name:
            return []
        limit = notice.published_at.timestamp()
        out: list[float] = []
        for category in notice.categories:
            found = self._by_key.get((notice.buyer_name.casefold(), category))
            if found is not None:
                dates, amounts = found
                out += amounts[:bisect_left(dates, limit)].tolist()
        return out


def source_text(notice: Notice) -> str:
    """The notice's own words the requirement extractor reads (title and description)."""
    return f"{notice.title}\n{notice.description}".strip()


class CandidateIndex:
    """Which enterprises can pass the capability test on a notice, found without trying them all.

    Capability needs a keyword of the profile in the text, an UNSPSC prefix of the profile on the
    notice, or (for a profile with neither) one of its SEAO categories. So: keywords indexed by
    their first word (one dictionary lookup per distinct word of the notice, prefix keywords by
    the prefix), UNSPSC prefixes by value (7 lookups per code), categories of category-only
    profiles by code. Profiles share phrases (« entretien ménager »): each distinct phrase is looked
    for once a notice, with the set of enterprises that wrote it. Only candidates are then judged in
    full; every other enterprise fails capability, which tests/match/test_index.py checks against
    the full loop on real notices."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        # first term -> {Phrase.needle: enterprise ids}: a multi-word phrase or a whole word
        self.words: dict[str, dict[str, set[str]]] = {}
        self.prefix_words: dict[str, set[str]] = {}  # a one-word prefix ("recycl*") -> enterprise ids
        self.unspsc: dict[str, set[str]] = {}
        self.unspsc_parent: dict[str, set[str]] = {}
        self.schemes: dict[tuple[str, str], set[str]] = {}  # ("CPV", "9091") -> enterprise ids
        self.categories: dict[str, set[str]] = {}
        for p in profiles:
            ent = p.enterprise
            for phrase in p.keywords:
                first = phrase.norm.split(" ", 1)[0]
                if phrase.prefix and " " not in phrase.norm:
                    self.prefix_words.setdefault(first, set()).add(ent.id)
                elif first:
                    self.words.setdefault(first, {}).setdefault(phrase.needle, set()).add(ent.id)
            for code in p.unspsc:  # cut to its levels: "76111500" -> "761115"
                self.unspsc.setdefault(code, set()).add(ent.id)
                if len(code) > 2:  # a notice coded one level above the profile's code is evidence too
                    self.unspsc_parent.setdefault(code[:-2], set()).add(ent.id)
            for scheme, prefix in p.scheme_codes:
                self.schemes.setdefault((scheme, prefix), set()).add(ent.id)
            if not ent.keywords and not ent.unspsc and not ent.codes:
                for category in p.categories:
                    self.categories.setdefault(category, set()).add(ent.id)
        self.prefix_lengths = sorted({len(w) for w in self.prefix_words})

    def candidates(self, notice: Notice, text: str) -> set[str]:
        found: set[str] = set()
        for word in set(text.split()):
            for needle, ids in self.words.get(word, {}).items():
                if needle in text:
                    found |= ids
            for length in self.prefix_lengths:
                if length <= len(word):
                    found |= self.prefix_words.get(word[:length], set())
        for raw in notice.unspsc:
            code = unspsc_levels(raw)
            for length in range(2, len(code) + 1):
                found |= self.unspsc.get(code[:length], set())
            found |= self.unspsc_parent.get(code, set())
        for category in notice.categories:
            found |= self.categories.get(category.upper(), set())
        if self.schemes:
            for c in notice.codes:
                code = c.code.upper()
                for length in range(1, len(code) + 1):
                    found |= self.schemes.get((c.scheme.upper(), code[:length]), set())
        return found


class Judge:
    """Verdicts for every (notice, enterprise) pair asked for."""

    def __init__(self, rulebook: Rulebook, history: AwardHistory | None = None) -> None:
        self.rulebook = rulebook
        self.history = history
        self.profiles = {e.id: compile_profile(e) for e in rulebook.enterprises}
        self.index = CandidateIndex(self.profiles.values())
        self._pool: Pool | None = None
        self.order = {e: i for i, e in enumerate(self.profiles)}  # rule-file order, for stable output

    def requirements(self, notice: Notice) -> Requirements:
        return extract(source_text(notice), self.rulebook.requirements)

    def facts(self, notice: Notice, as_published: bool = False) -> Facts:
        past = self.history.before(notice) if self.history is not None else None
        return notice_facts(notice, self.rulebook.thresholds, self.requirements(notice), past, self.rulebook.rates,
                            as_published)

    def judge(self, notice: Notice, enterprise_ids: Iterable[str] | None = None, now: datetime | None = None) -> list[Match]:
        """The notice judged for each enterprise (all by default). `now` None judges as at publication."""
        ids = list(self.profiles) if enterprise_ids is None else list(enterprise_ids)
        text = notice_text(notice)
        facts = self.facts(notice, as_published=now is None)
        return self._with_partners(notice, [judge(notice, self.profiles[i], facts, now=now, text=text) for i in ids], facts, now)

    @property
    def pool(self) -> Pool:
        """Every profile, indexed for team search (built at the first consortium verdict)."""
        if self._pool is None:
            self._pool = Pool(list(self.profiles.values()), self.index.candidates)
        return self._pool

    def judge_candidates(self, notice: Notice, enterprise_ids: Iterable[str] | None = None,
                         now: datetime | None = None) -> list[Match]:
        """Judgements of the enterprises whose trade the notice asks for (their `no` verdicts too);
        the others are `no` on capability and skipped: the fast path for matching many profiles."""
        text = notice_text(notice)
        found = self.index.candidates(notice, text)
        if enterprise_ids is None:  # all of them: walk the few candidates, not the thousands of profiles
            ids = sorted(found, key=self.order.__getitem__)
        else:
            ids = [i for i in enterprise_ids if i in found]
        if not ids:
            return []
        facts = self.facts(notice, as_published=now is None)
        return self._with_partners(notice, [judge(notice, self.profiles[i], facts, now=now, text=text) for i in ids], facts, now)

    def _with_partners(self, notice: Notice, matches: list[Match], facts: Facts, now: datetime | None) -> list[Match]:
        """A consortium verdict only where a team with this enterprise exists among the willing
        enterprises on file; otherwise `no`, with the reason "no_partner" (where the hub could recruit:
        the coordinator's digest lists them). Teams are searched only for such verdicts: they are few."""
        if not any(m.verdict == "consortium" for m in matches):
            return matches
        proposal = propose(notice, facts, self.pool, now=now)
        teamed = {e for t in proposal.teams for e in t.members}
        out = []
        for m in matches:
            if m.verdict == "consortium" and m.enterprise_id not in teamed:
                why_fr = proposal.why_fr or "aucune équipe ne réunit capacité, régions et chef de file"
                why_en = proposal.why_en or "no team brings together capacity, regions and a lead"
                m = Match(m.notice_id, m.enterprise_id, 0.0, "no", m.reasons + (Reason(
                    "no_partner", False, f"trop grand seul et aucun partenaire possible au dossier : {why_fr}",
                    f"too big alone and no possible partner on file: {why_en}", level="no"),))
            out.append(m)
        return out

    def judge_all(self, notices: Iterable[Notice], now: datetime | None = None,
                  include_no: bool = False) -> Iterator[tuple[Notice, Match]]:
        for notice in notices:
            for m in (self.judge(notice, now=now) if include_no else self.judge_candidates(notice, now=now)):
                if include_no or m.is_match:
                    yield notice, m
