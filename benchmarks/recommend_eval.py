"""Who will bid on this notice? Rank enterprises with profiles suggested from past bids, and measure.

Usage: python benchmarks/recommend_eval.py [SEAO_XML_DIR]   (default ../shared/data/seao-xml)

Protocol (no peeking at test bidders):
- train = the notices of the 2018 AvisRevisions files, test = those of the 2019 files, one version
  per notice (the latest revision); test notices already in the 2018 files are dropped (a revision
  of a 2018 notice would hand its bidders over).
- Every NEQ with at least 2 bids in train gets a profile from `suggest_profile` on train only; the
  counts the rankers use (bids by category, UNSPSC, region, buyer) also come from train only.
- A test notice counts when at least one of its bidders has a profile. Its bidders (and so the
  awarded value) are removed before ranking: rankers see what a notice says, not who answered.
- HR@10: share of test notices with at least one actual bidder (by NEQ) among the top 10.
  MRR@10: mean of 1/rank of the first actual bidder in the top 10 (0 when none).
- The weights of the variants were chosen on a validation split inside 2018 (January-August files
  to profile, September-December to validate), printed first; 2019 is the test.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from watcher.collect import open_source_file
from watcher.collect.seao_xml import parse
from watcher.errors import ParseError
from watcher.match import Profile, capability, compile_profile, notice_text
from watcher.match.suggest import latest_versions, suggest_profiles
from watcher.match.text import normalize
from watcher.models import Bidder, Notice

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / ".." / "shared" / "data" / "seao-xml"
PLACEHOLDER_NEQ = "1234567890"  # a known SEAO quirk: not an enterprise
K = 10


def load(paths: list[Path]) -> list[Notice]:
    """Notices of the given SEAO XML files (parse errors are counted and skipped)."""
    out: list[Notice] = []
    errors = 0
    for path in paths:
        with open_source_file(path) as stream:
            for item in parse(stream, path.name):
                if isinstance(item, Notice):
                    out.append(item)
                elif isinstance(item, ParseError):
                    errors += 1
    if errors:
        print(f"{errors} records could not be parsed", file=sys.stderr)
    return out


def _neq(value: str | None) -> str:
    neq = re.sub(r"\D", "", value or "")
    return "" if neq == PLACEHOLDER_NEQ else neq


@dataclass
class Stats:
    """What the training history says about one enterprise (all counts in bids)."""

    bids: int = 0
    cats: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)  # UNSPSC at 8, 6 and 4 digits
    regions: Counter = field(default_factory=Counter)
    buyers: Counter = field(default_factory=Counter)


def _codes(notice: Notice) -> set[str]:
    return {c[:k] for c in notice.unspsc for k in (4, 6, 8) if len(c) >= k}


def history_stats(train: list[Notice]) -> dict[str, Stats]:
    stats: dict[str, Stats] = {}
    for n in train:
        for neq in {_neq(b.neq) for b in n.bidders} - {""}:
            s = stats.setdefault(neq, Stats())
            s.bids += 1
            s.cats.update(n.categories)
            s.codes.update(_codes(n))
            s.regions.update(n.regions)
            s.buyers[normalize(n.buyer_name)] += 1
    return stats


class Index:
    """The profiles a notice can match at all (a keyword's first word, an UNSPSC prefix, a category):
    the matcher then runs on a few dozen profiles instead of a thousand."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.words: dict[str, set[str]] = {}
        self.codes: dict[str, set[str]] = {}
        self.cats: dict[str, set[str]] = {}
        for neq, p in profiles.items():
            for phrase in p.keywords:
                self.words.setdefault(phrase.norm.split()[0] if phrase.norm else "", set()).add(neq)
            for code in p.enterprise.unspsc:
                self.codes.setdefault(code, set()).add(neq)
            for cat in p.categories:
                self.cats.setdefault(cat, set()).add(neq)

    def candidates(self, notice: Notice, text: str) -> set[str]:
        found: set[str] = set()
        for word in set(text.split()):
            found |= self.words.get(word, set())
        for code in notice.unspsc:
            for k in range(2, len(code) + 1):
                found |= self.codes.get(code[:k], set())
        for cat in notice.categories:
            found |= self.cats.get(cat, set())
        return found


@dataclass(frozen=True)
class Variant:
    """A ranker. Score = cap_weight x match score + the log-likelihood of the notice's features under
    the enterprise's own bids (naive Bayes, smoothed towards the whole history) + prior x log(bids).
    Each row of the table adds one piece, so the gain of each shows."""

    name: str
    tie_popularity: bool = False  # break ties and fill the list with the popularity baseline
    soft_region: bool = False  # outside the profile's regions halves the match score instead of excluding
    cap_weight: float = 1.0
    prior: float = 0.0  # weight of log(bids): busy bidders bid again
    code: float = 0.0  # P(UNSPSC | enterprise), at the deepest level the notice has
    category: float = 0.0  # P(SEAO category | enterprise)
    buyer: float = 0.0  # P(buyer | enterprise): it bid for this very buyer before
    region: float = 0.0  # P(region | enterprise)
    everyone: bool = False  # rank enterprises whose profile does not match by their history too


_NB = dict(tie_popularity=True, soft_region=True, cap_weight=10.0, prior=1.0)
VARIANTS = (
    Variant("match score (capability, region, method)"),
    Variant("+ popularity breaks ties, fills the list", tie_popularity=True),
    Variant("+ soft region", tie_popularity=True, soft_region=True),
    Variant("+ prior: log(bids in 2018)", **_NB),
    Variant("+ P(UNSPSC, category | its bids)", **_NB, code=1, category=1),
    Variant("+ P(buyer | its bids): past buyers", **_NB, code=1, category=1, buyer=1),
    Variant("+ P(region | its bids)", **_NB, code=1, category=1, buyer=1, region=1),
    Variant("+ non-matching profiles ranked by history", **_NB, code=1, category=1, buyer=1, region=1, everyone=True),
)
ALPHA = 5.0  # pseudo-bids of the smoothing: an enterprise with 2 bids is mostly the background


def popularity(notice: Notice, stats: dict[str, Stats], overall: list[str]) -> list[str]:
    """Baseline: the most frequent bidders of the notice's SEAO category, then overall."""
    cat = notice.categories[0] if notice.categories else ""
    ranked = sorted((n for n, s in stats.items() if s.cats[cat]), key=lambda n: (-stats[n].cats[cat], -stats[n].bids, n))[:K]
    return (ranked + [n for n in overall if n not in ranked])[:K]


class Scorer:
    """Scores of one notice for every variant; background frequencies come from the training history."""

    def __init__(self, train: list[Notice], stats: dict[str, Stats], profiles: dict[str, Profile]) -> None:
        self.stats, self.profiles = stats, profiles
        self.total = len(train) + 1
        self.background = _background(train)

    def _log_p(self, count: int, seen: int, s: Stats) -> float:
        return math.log((count + ALPHA * (seen + 1) / self.total) / (s.bids + ALPHA))

    def score(self, v: Variant, notice: Notice, neq: str, cap: float) -> float | None:
        """None when the variant does not rank this enterprise for this notice."""
        s, profile, bg = self.stats[neq], self.profiles[neq], self.background
        region_ok = profile.regions is None or not notice.regions or bool(profile.regions.intersection(notice.regions))
        ok = cap > 0 and notice.method in profile.enterprise.methods and (region_ok or v.soft_region)
        if not ok and not v.everyone:
            return None
        x = v.cap_weight * cap * (1.0 if region_ok else 0.5) if ok else 0.0
        x += v.prior * math.log(s.bids)
        if v.category and notice.categories:
            c = notice.categories[0]
            x += v.category * self._log_p(s.cats[c], bg.cats[c], s)
        codes = _codes(notice)
        if v.code and codes:
            x += v.code * max(self._log_p(s.codes[c], bg.codes[c], s) for c in codes)
        if v.buyer:
            b = normalize(notice.buyer_name)
            x += v.buyer * self._log_p(s.buyers[b], bg.buyers[b], s)
        if v.region and notice.regions:
            x += v.region * max(self._log_p(s.regions[r], bg.regions[r], s) for r in notice.regions)
        return x


def _background(train: list[Notice]) -> Stats:
    """The whole history as one bidder: what the enterprise counts are smoothed towards."""
    return history_stats([replace(n, bidders=(Bidder("everyone", "0"),)) for n in train])["0"]


@dataclass(frozen=True)
class Outcome:
    """One scored test notice: the rank (1..10) of its first actual bidder per ranker, None if absent."""

    notice: Notice
    ranks: dict[str, int | None]
    matched: bool  # the profile of an actual bidder matches the notice


def evaluate(train: list[Notice], test: list[Notice], variants: tuple[Variant, ...] = VARIANTS) -> tuple[list[Outcome], int]:
    """Outcomes of the test notices that have a profiled bidder, and the number of profiles."""
    train = latest_versions(train)
    seen = {n.id for n in train}
    test = [n for n in latest_versions(test) if n.id not in seen]
    stats = {neq: s for neq, s in history_stats(train).items() if s.bids >= 2}
    suggested = suggest_profiles(train, stats)
    profiles = {neq: compile_profile(p.to_enterprise(f"e{neq}")) for neq, p in suggested.items()
                if p.categories or p.unspsc or p.keywords}
    stats = {neq: stats[neq] for neq in profiles}
    index, scorer = Index(profiles), Scorer(train, stats, profiles)
    overall = sorted(stats, key=lambda n: (-stats[n].bids, n))
    outcomes = []
    for truth_notice in test:
        truth = {_neq(b.neq) for b in truth_notice.bidders} & stats.keys()
        if not truth:
            continue
        notice = replace(truth_notice, bidders=())  # the ranker never sees who bid, nor the awarded value
        text = notice_text(notice)
        caps = {neq: capability(notice, profiles[neq], text)[0] for neq in index.candidates(notice, text)}
        base = popularity(notice, stats, overall)
        lists = {POPULARITY: base}
        for v in variants:
            pool = stats if v.everyone else caps
            scores = {n: x for n in pool if (x := scorer.score(v, notice, n, caps.get(n, 0.0))) is not None}
            top = sorted(scores, key=lambda n: (-scores[n], -stats[n].bids if v.tie_popularity else 0, n))[:K]
            if v.tie_popularity:
                top += [n for n in base if n not in top]
            lists[v.name] = top[:K]
        ranks = {name: next((i for i, n in enumerate(top, 1) if n in truth), None) for name, top in lists.items()}
        outcomes.append(Outcome(truth_notice, ranks, any(caps.get(n, 0) > 0 for n in truth)))
    return outcomes, len(profiles)


POPULARITY = "popularity (category, then overall)"


def table(title: str, outcomes: list[Outcome], profiles: int) -> str:
    """HR@10 and MRR@10 of each ranker over `outcomes`."""
    n = max(1, len(outcomes))
    matched = sum(o.matched for o in outcomes) / n
    lines = [f"{title}: {len(outcomes)} notices with a profiled bidder, {profiles} profiles;",
             f"the profile of an actual bidder matches the notice in {matched:.1%} of them",
             f"{'ranker':<48} {'HR@10':>6} {'MRR@10':>7}"]
    for name in outcomes[0].ranks if outcomes else []:
        ranks = [o.ranks[name] for o in outcomes]
        hr = sum(r is not None for r in ranks) / n
        mrr = sum(1 / r for r in ranks if r) / n
        lines.append(f"{name:<48} {hr:>6.3f} {mrr:>7.3f}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else DEFAULT_DIR
    started = time.monotonic()
    files = {y: sorted(folder.glob(f"AvisRevisions_{y}*.xml*")) for y in ("2018", "2019")}
    if not files["2018"] or not files["2019"]:
        sys.exit(f"{folder}: AvisRevisions_2018*.xml and AvisRevisions_2019*.xml are needed")
    early = [p for p in files["2018"] if p.name < "AvisRevisions_20180901"]
    late = [p for p in files["2018"] if p.name >= "AvisRevisions_20180901"]
    print(table("Validation (profiles from 2018-01..08, notices of 2018-09..12)", *evaluate(load(early), load(late))))
    outcomes, profiles = evaluate(load(files["2018"]), load(files["2019"]))
    print()
    print(table("Test (profiles from 2018, notices of 2019)", outcomes, profiles))
    print()
    recent = [o for o in outcomes if o.notice.awarded_on and o.notice.awarded_on.year >= 2019]
    print(table("Test, only notices awarded in 2019 (after every training award)", recent, profiles))
    print()
    print(table("Test, only gré à gré notices", [o for o in outcomes if o.notice.method == "gre_a_gre"], profiles))
    print("\nValue fit is neutral in every row: rankers do not see the awarded amounts and SEAO award"
          "\nnotices carry no estimate. MRR@10 counts 0 for a notice with no actual bidder in the top 10.")
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
