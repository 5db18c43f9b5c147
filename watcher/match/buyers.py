"""Buyer leads from the award history. Pure: notices in, ranked leads out.

Most of what EÉS win is bought by mutual agreement (gré à gré) and never announced: the only way
to see such a purchase coming is that the same buyer bought the same thing before. The SEAO
award history says who bought what the enterprise sells, how (mode), for how much, from whom
(incumbents, with NEQ), and whether the purchase comes back every year around the same month.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from ..models import Enterprise, Notice
from . import Profile, as_profile, capability, notice_text
from .evidence import supplier_trade
from .suggest import GENERIC_WORDS, STOP_WORDS, latest_versions, notice_date, title_words
from .text import normalize

__all__ = ["BuyerLead", "Incumbent", "Recurring", "buyer_leads", "WEIGHTS"]

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
# Score = sum of weight x part, each part 0..1: volume = purchases / 10 (a buyer that bought often buys
# again); recency = 1 - age of the last purchase / window; direct = share bought by gré à gré or
# invitation (the buyer picks whom to ask: an introduction pays); value_fit = share of amounts within
# the enterprise's capacity (unknown = 0.5); upcoming = 1 when a recurring purchase is due within 6 months.
WEIGHTS: dict[str, float] = {"volume": 0.35, "recency": 0.15, "direct": 0.15, "value_fit": 0.1, "upcoming": 0.25}
_HOW = {"fr": {"gre_a_gre": "de gré à gré", "invitation": "sur invitation", "public": "sur appel d'offres public",
               "other": "autre mode"},
        "en": {"gre_a_gre": "by mutual agreement", "invitation": "by invitation", "public": "by public tender",
               "other": "other method"}}
HORIZON = timedelta(days=183)  # "likely to come back within 6 months"
GRACE = timedelta(days=45)  # an expected purchase this late may still be under way (award not yet published)


@dataclass(frozen=True)
class Incumbent:
    """A supplier that won this buyer's purchases of what the enterprise sells."""

    name: str
    neq: str | None
    wins: int
    amount: float  # sum of its contract amounts


@dataclass(frozen=True)
class Recurring:
    """A purchase the buyer makes around the same month in several years, and when it is expected next."""

    title: str  # title of the latest occurrence
    years: tuple[int, ...]
    month: int  # 1..12
    expected: date  # around the 15th of `month`
    notice_ids: tuple[str, ...]
    evidence_fr: str
    evidence_en: str


@dataclass(frozen=True)
class BuyerLead:
    """One buyer worth an introduction, with the figures and the score's parts to explain it."""

    buyer: str
    purchases: int
    by_method: tuple[tuple[str, int], ...]  # (method, count), METHODS order
    median_amount: float | None
    min_amount: float | None
    max_amount: float | None
    last_purchase: date | None
    incumbents: tuple[Incumbent, ...]
    recurring: tuple[Recurring, ...]  # expected within 6 months of `now`
    score: float  # 0..1
    score_parts: tuple[tuple[str, float], ...]  # (part, value 0..1) before weights, see WEIGHTS
    reason_fr: str
    reason_en: str
    notice_ids: tuple[str, ...]

    def reason(self, language: str) -> str:
        return self.reason_en if language == "en" else self.reason_fr

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["by_method"] = dict(self.by_method)
        data["score_parts"] = dict(self.score_parts)
        data["last_purchase"] = self.last_purchase.isoformat() if self.last_purchase else None
        for r in data["recurring"]:
            r["expected"] = r["expected"].isoformat()
        return data


def _money(value: float) -> str:
    return f"{value:,.0f} $".replace(",", " ")


@lru_cache(maxsize=50_000)
def _content(title: str) -> frozenset[str]:
    """A title's content words; cached, as a digest run groups the same purchases for each enterprise."""
    return frozenset(w for w, _ in title_words(title) if len(w) > 2 and w not in STOP_WORDS and w not in GENERIC_WORDS)


def _series(purchases: list[tuple[date, Notice]]) -> list[list[tuple[date, Notice]]]:
    """Group purchases of the same thing: same UNSPSC code, or titles sharing half their words."""
    parent = list(range(len(purchases)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [_content(n.title) for _, n in purchases]
    for i in range(len(purchases)):
        for j in range(i):
            a, b = purchases[i][1], purchases[j][1]
            same_code = bool(set(a.unspsc) & set(b.unspsc))
            union = words[i] | words[j]
            similar = bool(union) and len(words[i] & words[j]) / len(union) >= 0.5
            if same_code or similar:
                parent[root(i)] = root(j)
    groups: dict[int, list[tuple[date, Notice]]] = defaultdict(list)
    for i, p in enumerate(purchases):
        groups[root(i)].append(p)
    return list(groups.values())


def _month_gap(a: int, b: int) -> int:
    d = abs(a - b) % 12
    return min(d, 12 - d)


def _cycle_year(day: date, month: int) -> int:
    """The year of the yearly cycle a purchase belongs to: December 2018 is January 2019's cycle."""
    if day.month - month > 6:
        return day.year + 1
    if month - day.month > 6:
        return day.year - 1
    return day.year


def _recurring(series: list[tuple[date, Notice]], today: date) -> Recurring | None:
    """A yearly (or every-k-years) purchase due between `today - GRACE` and `today + HORIZON`, else None."""
    best: tuple[int, int, int, list[int]] | None = None  # (-years, -purchases in the month, month, years)
    for month in range(1, 13):
        years = sorted({_cycle_year(d, month) for d, _ in series if _month_gap(d.month, month) <= 1})
        key = (-len(years), -sum(d.month == month for d, _ in series), month)
        if len(years) >= 2 and (best is None or key < best[:3]):
            best = (*key, years)
    if best is None:
        return None
    month, years = best[2], best[3]
    gaps = [b - a for a, b in zip(years, years[1:])]
    period = max(1, round(statistics.median(gaps)))
    expected = date(years[-1] + period, month, 15)
    if not today - GRACE <= expected <= today + HORIZON:
        return None
    near = sorted((p for p in series if _month_gap(p[0].month, month) <= 1), key=lambda p: p[0])
    label = f"{years[0]}" + "".join(f", {y}" for y in years[1:-1]) + f" et {years[-1]}"
    label_en = f"{years[0]}" + "".join(f", {y}" for y in years[1:-1]) + f" and {years[-1]}"
    every_fr = "chaque année" if period == 1 else f"tous les {period} ans"
    every_en = "every year" if period == 1 else f"every {period} years"
    title = " ".join(near[-1][1].title.split())
    return Recurring(
        title=title, years=tuple(years), month=month, expected=expected, notice_ids=tuple(n.id for _, n in near),
        evidence_fr=f"« {title} » : attribué vers {MONTHS_FR[month - 1]} {label} ({every_fr}), "
                    f"prochain attendu vers {MONTHS_FR[month - 1]} {expected.year}",
        evidence_en=f'"{title}": awarded around {MONTHS_EN[month - 1]} {label_en} ({every_en}), '
                    f"next expected around {MONTHS_EN[month - 1]} {expected.year}",
    )


def _incumbents(notices: list[Notice]) -> tuple[Incumbent, ...]:
    """Winners by NEQ; a row without NEQ joins the NEQ its name has elsewhere (SEAO often omits it)."""
    rows = [b for n in notices for b in n.bidders if b.winner]
    # firms keyed by their names as buyers are (buyer_name_key: normalised once, as the same firms win again and again)
    neq_of = {buyer_name_key(b.name): b.neq for b in rows if b.neq}
    wins: dict[str, list[tuple[str, str | None, float]]] = defaultdict(list)
    for b in rows:
        neq = b.neq or neq_of.get(buyer_name_key(b.name))
        wins[neq or buyer_name_key(b.name)].append((b.name.strip(), neq, b.contract_amount or 0.0))
    out = [Incumbent(Counter(r[0] for r in rows).most_common(1)[0][0], rows[0][1], len(rows), sum(r[2] for r in rows))
           for rows in wins.values()]
    return tuple(sorted(out, key=lambda i: (-i.wins, -i.amount, i.name)))


def _lead(buyer: str, purchases: list[tuple[date, Notice]], enterprise: Enterprise, today: date, years: int) -> BuyerLead:
    notices = [n for _, n in purchases]
    methods = Counter(n.method for n in notices)
    amounts = sorted(v for n in notices if (v := n.awarded_value) is not None)
    last = max(d for d, _ in purchases)
    recurring = tuple(r for s in _series(purchases) if (r := _recurring(s, today)))
    fits = [0.5 if (v := n.awarded_value) is None else float((enterprise.min_value or 0) <= v <= (enterprise.max_value or float("inf")))
            for n in notices]
    parts = {
        "volume": min(1.0, len(notices) / 10),
        "recency": max(0.0, 1 - (today - last).days / (365.25 * years)),
        "direct": (methods["gre_a_gre"] + methods["invitation"]) / len(notices),
        "value_fit": sum(fits) / len(fits),
        "upcoming": 1.0 if recurring else 0.0,
    }
    score = round(sum(WEIGHTS[k] * v for k, v in parts.items()), 3)
    incumbents = _incumbents(notices)
    modes = [(m, methods[m]) for m in ("gre_a_gre", "invitation", "public", "other") if methods[m]]
    modes_fr = ", ".join(f"{k} {_HOW['fr'][m]}" for m, k in modes)
    modes_en = ", ".join(f"{k} {_HOW['en'][m]}" for m, k in modes)
    s = "s" if len(notices) > 1 else ""
    fr = f"{len(notices)} achat{s} de ce que vous offrez en {years} ans ({modes_fr}), dernier le {last.isoformat()}"
    en = f"{len(notices)} purchase{s} of what you offer in {years} years ({modes_en}), last on {last.isoformat()}"
    if amounts:
        fr += f", médiane {_money(statistics.median(amounts))}"
        en += f", median {_money(statistics.median(amounts))}"
    if incumbents:
        fr += f" ; en place : {incumbents[0].name} ({incumbents[0].wins})"
        en += f"; incumbent: {incumbents[0].name} ({incumbents[0].wins})"
    if recurring:
        fr += f" ; à venir : {recurring[0].evidence_fr}"
        en += f"; coming: {recurring[0].evidence_en}"
    return BuyerLead(
        buyer=buyer, purchases=len(notices), by_method=tuple(modes),
        median_amount=statistics.median(amounts) if amounts else None,
        min_amount=amounts[0] if amounts else None, max_amount=amounts[-1] if amounts else None,
        last_purchase=last, incumbents=incumbents, recurring=recurring, score=score,
        score_parts=tuple((k, round(v, 3)) for k, v in parts.items()), reason_fr=fr + ".", reason_en=en + ".",
        notice_ids=tuple(n.id for _, n in sorted(purchases, key=lambda p: p[0])),
    )


def buyer_leads(history: Iterable[Notice], enterprise: Enterprise | Profile, now: datetime, years: int = 3,
                texts: dict | None = None, sure: Mapping[str, bool] | None = None) -> list[BuyerLead]:
    """Buyers that bought what the enterprise sells in the last `years` years, best lead first.

    A purchase counts when the matcher's capability test passes, no excluded phrase appears and it
    was delivered in one of the enterprise's regions (unknown region counts, as in matching).
    """
    profile = as_profile(enterprise)
    enterprise = profile.enterprise
    today = now.date()
    start = date(today.year - years, today.month, min(today.day, 28))
    by_buyer: dict[str, list[tuple[date, Notice]]] = defaultdict(list)
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for n in latest_versions(history):
        when = notice_date(n)
        if when is None or not start < when <= today:
            continue
        if profile.regions is not None and n.regions and not profile.regions.intersection(n.regions):
            continue
        text = notice_text(n, texts)
        known = n.id in sure if sure is not None else False  # a run's lead_trade: sure or to check, in the trade
        if any(p.found_in(text) for p in profile.exclude) or not (known or _in_trade(capability(n, profile, text)[1])):
            continue
        if supplier_trade(b.name for b in n.bidders if b.winner):
            continue  # won only by architects, engineers…: their work, not a purchase of the trade
        key = n.buyer_id or buyer_name_key(n.buyer_name)
        by_buyer[key].append((when, n))
        names[key][n.buyer_name.strip().rstrip(" .")] += 1
    leads = [_lead(names[k].most_common(1)[0][0], p, enterprise, today, years) for k, p in by_buyer.items()]
    return sorted(leads, key=lambda lead: (-lead.score, -lead.purchases, lead.buyer))


@lru_cache(maxsize=65_536)
def buyer_name_key(name: str) -> str:
    """A buyer's name as a key (a few thousand buyers, each named in many notices: normalised once)."""
    return normalize(name).strip()


def _in_trade(reason) -> bool:
    """In the trade for the buyer's history: sure, or weakly evidenced ("check": a code alone)."""
    return reason.ok or reason.level == "check"
