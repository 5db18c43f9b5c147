"""Awards as leads: the week's contracts given in an enterprise's trade, and the ones coming back.

Four contracts in five that social-economy enterprises win are given by mutual agreement (gré à
gré) or on invitation, never announced as a call. SEAO publishes them once given: buyer, supplier,
amount, mode, dates. Two weekly leads come from them:
- fresh awards: contracts in the trade and regions published as given this week (who buys what
  the enterprise sells, from whom, now);
- renewals: when such a contract should come back, from its own dates (the end date SEAO's
  Contrats files give: the successor runs as long as the contract it replaces) or, without one,
  from the buyer's rhythm for that trade (median gap between its purchases; a year by default).

Pure: notices and final contracts in, dated leads out. Whether a notice is "in the trade" is
decided by the matcher's own capability test through `in_trade` only, so an improvement of the
matcher improves these sections too.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ..codes import METHOD_LABELS, awarded_without_call
from ..models import Enterprise, FinalContract, Notice
from . import Profile, as_profile, capability_level, notice_text
from .buyers import BuyerLead, buyer_name_key
from .evidence import supplier_trade
from .suggest import latest_versions, notice_date
from .text import Phrase

__all__ = ["AwardLead", "Renewal", "WeekLeads", "in_trade", "may_lead", "lead_trade", "RegionGate", "fresh_awards", "forecast", "renewals", "social_marks",
           "buyers_to_meet", "with_buyer_regions", "buyer_regions", "week_leads", "lead_key", "stored_lead_key", "BUYER_AGAIN", "hub_neqs_of", "SOCIAL_PHRASES", "RENEWAL_FROM", "RENEWAL_TO"]

# Words of a notice that mark a social clause or a market reserved to the social economy.
SOCIAL_PHRASES = ("économie sociale", "entreprise d'insertion", "entreprises d'insertion", "clause sociale",
                  "clauses sociales", "entreprise adaptée", "entreprises adaptées", "marché réservé",
                  "organisme à but non lucratif", "OBNL", "coopérative")
_SOCIAL = tuple(Phrase(p) for p in SOCIAL_PHRASES)
# "À renouveler bientôt": far enough to be introduced before the buyer writes its specifications,
# near enough to be remembered.
RENEWAL_FROM = timedelta(days=91)
RENEWAL_TO = timedelta(days=274)
DEFAULT_PERIOD = timedelta(days=365)  # no dates nor rhythm, but bought twice or more: yearly, the commonest service contract
MIN_PERIOD = timedelta(days=60)  # below that, gaps are several lots of one purchase, not a rhythm
HORIZON = timedelta(days=3 * 365)
TOLERANCE = timedelta(days=30)  # a purchase expected on day D is expected within D ± 30 days  # forecasts beyond this are noise


@dataclass(frozen=True)
class AwardLead:
    """A contract in the trade just published as given: who bought, from whom, how, how much."""

    notice: Notice
    suppliers: tuple[str, ...]
    amount: float | None
    social: tuple[str, ...]  # why it is marked social economy (phrases found, hub supplier), empty if not
    why_fr: str
    why_en: str

    def why(self, language: str) -> str:
        return self.why_en if language == "en" else self.why_fr


@dataclass(frozen=True)
class Renewal:
    """A purchase in the trade expected back: when (a window), from whom now, for about how much."""

    buyer: str
    buyer_key: str
    title: str
    notice_id: str  # the contract it would replace
    incumbent: str | None
    value: float | None
    last: date  # award date of the contract it would replace
    expected: date
    window: tuple[date, date]
    basis: str  # "contract_end" | "contract_length" (the buyer's other contracts) | "rhythm" | "yearly"
    social: tuple[str, ...]
    why_fr: str
    why_en: str

    def why(self, language: str) -> str:
        return self.why_en if language == "en" else self.why_fr

    def as_json(self) -> dict:
        return {"buyer": self.buyer, "title": self.title, "notice": self.notice_id, "incumbent": self.incumbent,
                "value": self.value, "last": self.last.isoformat(), "expected": self.expected.isoformat(),
                "window": [self.window[0].isoformat(), self.window[1].isoformat()], "basis": self.basis,
                "social": list(self.social), "why_fr": self.why_fr, "why_en": self.why_en}


def in_trade(notice: Notice, profile: Profile, text: str | None = None, sure: bool | None = None) -> bool:
    """Does the notice ask for what the enterprise sells, where it works? The matcher's capability
    test, its exclusions and its region rule (unknown region counts): the single call into match/.
    Given, it was not won only by firms whose names say another trade (architects, engineers…).
    `sure`: the capability test's answer when a run already knows it (lead_trade)."""
    text = notice_text(notice) if text is None else text
    if profile.regions is not None and notice.regions and not profile.regions.intersection(notice.regions):
        return False
    if any(p.found_in(text) for p in profile.exclude):
        return False
    if supplier_trade(b.name for b in notice.bidders if b.winner):
        return False  # won only by firms of another trade: their work, whatever the title names
    return capability_level(notice, profile, text) == "" if sure is None else sure


def may_lead(notice: Notice, profile: Profile, text: str | None = None) -> bool:
    """Could any lead section use the notice for this profile? The loosest of their tests (buyer
    leads': region, exclusions, capability sure or only "check"; awards and renewals want it sure),
    so a history cut to these notices gives the same leads: what a run keeps of the history. A
    notice without a region passes (with_buyer_regions may give it its buyer's, tested later)."""
    return lead_trade(notice, profile, text) is not None


def lead_trade(notice: Notice, profile: Profile, text: str | None = None) -> bool | None:
    """may_lead, with its capability answer: None when no lead section can use the notice, else
    whether the trade is sure (awards, renewals) or only to check (buyer leads). A digest run keeps
    it for the leads of each enterprise: the capability test runs once a pair, not once a section."""
    text = notice_text(notice) if text is None else text
    if profile.regions is not None and notice.regions and not profile.regions.intersection(notice.regions):
        return None
    if profile.exclude and any(p.found_in(text) for p in profile.exclude):
        return None
    level = capability_level(notice, profile, text)
    return True if level == "" else False if level == "check" else None


class RegionGate:
    """lead_trade's region rule for every profile at once: which profiles work where a notice is
    delivered, by set operations per distinct set of regions rather than one test per pair (a
    history pass meets ~80 candidates a notice, four in five outside their regions)."""

    def __init__(self, profiles: Mapping[str, Profile]) -> None:
        self.anywhere = frozenset(i for i, p in profiles.items() if p.regions is None)
        self.by_region: dict[str, set[str]] = defaultdict(set)
        for ent_id, p in profiles.items():
            for region in p.regions or ():
                self.by_region[region].add(ent_id)
        self._admitted: dict[frozenset[str], frozenset[str]] = {}

    def admits(self, notice: Notice) -> frozenset[str] | None:
        """The profiles whose regions the notice's meet (or who state none); None: all of them,
        as a notice that states no region passes (lead_trade)."""
        if not notice.regions:
            return None
        key = frozenset(notice.regions)
        if key not in self._admitted:
            self._admitted[key] = self.anywhere.union(*(self.by_region.get(r, ()) for r in key))
        return self._admitted[key]


def social_marks(notice: Notice, hub_neqs: frozenset[str] = frozenset(), text: str | None = None) -> tuple[str, ...]:
    """Why the notice is a social-economy signal: its words (social clause, reserved market...) or a
    winner that is one of the hub's enterprises (by NEQ)."""
    text = notice_text(notice) if text is None else text
    marks = [p.raw for p in _SOCIAL if p.found_in(text)]
    marks += [f"NEQ {b.neq}" for b in notice.bidders if b.winner and b.neq and b.neq in hub_neqs]
    return tuple(marks)


def is_award(notice: Notice) -> bool:
    """A contract given without an open call on SEAO (gré à gré, invitation, order), with a winner."""
    return awarded_without_call(notice.notice_type, notice.source) or (
        notice.method != "public" and any(b.winner for b in notice.bidders))


def _money(value: float) -> str:
    return f"{value:,.0f} $".replace(",", " ")


def _winners(notice: Notice) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(b.name.split()) for b in notice.bidders if b.winner))


def fresh_awards(notices: Iterable[Notice], enterprise: Enterprise | Profile, start: date, end: date,
                 hub_neqs: frozenset[str] = frozenset(), texts: dict | None = None,
                 sure: Mapping[str, bool] | None = None) -> list[AwardLead]:
    """Contracts in the trade published as given in [start, end): social-economy ones first, then
    the largest. `texts`: the run's memo of notice texts (notice_text); `sure`: by notice id, the
    capability answers a run already has (lead_trade)."""
    profile = as_profile(enterprise)
    out = []
    for n in notices:
        if n.published_at is None or not start <= n.published_at.date() < end or not is_award(n):
            continue
        text = notice_text(n, texts)
        if not in_trade(n, profile, text, None if sure is None else sure.get(n.id)):
            continue
        social = social_marks(n, hub_neqs, text)
        suppliers = _winners(n)
        amount = n.awarded_value
        mode = METHOD_LABELS.get(n.method, METHOD_LABELS["other"])
        who = ", ".join(suppliers) or "?"
        fr = f"{' '.join(n.buyer_name.split()).rstrip(' .')} a confié à {who} ({mode['fr']}"
        en = f"{' '.join(n.buyer_name.split()).rstrip(' .')} gave it to {who} ({mode['en']}"
        if amount:
            fr += f", {_money(amount)}"
            en += f", {_money(amount)}"
        fr += ") : ce qu'il achète est ce que vous offrez"
        en += "): what it buys is what you offer"
        if social:
            fr += " ; économie sociale : " + ", ".join(social)
            en += "; social economy: " + ", ".join(social)
        out.append(AwardLead(n, suppliers, amount, social, fr + ".", en + "."))
    return sorted(out, key=lambda a: (not a.social, -(a.amount or 0), a.notice.id))


def _buyer_key(notice: Notice) -> str:
    return notice.buyer_id or buyer_name_key(notice.buyer_name)


def buyer_regions(notices: Iterable[Notice], known: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """{buyer key: the regions its notices state}, these notices added to `known` when given (a
    digest run gathers it in its one pass over the history: a few thousand buyers, not the notices)."""
    known = defaultdict(set) if known is None else known
    for n in notices:
        if n.regions:
            known[_buyer_key(n)].update(n.regions)
    return known


def with_buyer_regions(notices: Iterable[Notice], known: dict[str, set[str]] | None = None) -> list[Notice]:
    """The notices, those that state no region given the regions their buyer states in the others
    (in `known`, from buyer_regions over the whole history, else in these notices).
    A notice without a region passes every region rule (unknown is not outside); 2 % of SEAO's do,
    and they would reach every enterprise's leads. A buyer delivers where it usually does: the
    SQI's Abitibi direction in Abitibi, a town in its town."""
    notices = list(notices)
    known = buyer_regions(notices) if known is None else known
    return [replace(n, regions=tuple(sorted(known[key]))) if not n.regions and (key := _buyer_key(n)) in known else n
            for n in notices]


def forecast(history: Iterable[Notice], finals: Iterable[FinalContract], enterprise: Enterprise | Profile,
             today: date, until: date | None = None, hub_neqs: frozenset[str] = frozenset(),
             texts: dict | None = None, sure: Mapping[str, bool] | None = None) -> list[Renewal]:
    """Every purchase in the trade expected after `today` (up to `until`, default 3 years), one per
    contract bought up to `today`, by date. Nothing published after `today` is read: a replay of
    history never peeks at the future. A contract the buyer already replaced (a later purchase in
    the trade by the same buyer around or after its expected date) forecasts nothing itself."""
    profile = as_profile(enterprise)
    until = until or today + HORIZON
    ends: dict[str, date] = {}
    for f in finals:
        if f.end_date and f.published_on and f.published_on <= today:
            ends[f.notice_id] = max(ends.get(f.notice_id, f.end_date), f.end_date)
    by_buyer: dict[str, list[tuple[date, Notice, str]]] = defaultdict(list)
    for n in latest_versions(history):
        when = notice_date(n)
        if when is None or when > today or (n.published_at and n.published_at.date() > today):
            continue
        if not any(b.winner for b in n.bidders) and not is_award(n):
            continue
        text = notice_text(n, texts)
        if in_trade(n, profile, text, None if sure is None else sure.get(n.id)):
            by_buyer[_buyer_key(n)].append((when, n, text))
    out: list[Renewal] = []
    for key, bought in by_buyer.items():
        bought.sort(key=lambda p: (p[0], p[1].id))
        days = sorted({d for d, _, _ in bought})
        gaps = [b - a for a, b in zip(days, days[1:]) if b - a >= MIN_PERIOD]
        rhythm = timedelta(days=statistics.median(g.days for g in gaps)) if gaps else None
        lengths = [e - d for d, n, _ in bought if (e := ends.get(n.id) or n.contract_end) and e - d >= MIN_PERIOD]
        length = timedelta(days=statistics.median(x.days for x in lengths)) if lengths else None
        for i, (when, n, text) in enumerate(bought):
            end = ends.get(n.id) or n.contract_end  # Contrats' end date, else the period the notice states
            if end is not None and end - when >= MIN_PERIOD:
                period, basis = end - when, "contract_end"
            elif length is not None:
                period, basis, end = length, "contract_length", None
            elif today - when <= DEFAULT_PERIOD + TOLERANCE and len(days) >= 2:  # a habit, not a one-off
                period, basis, end = DEFAULT_PERIOD, "yearly", None
            else:
                continue  # an old purchase with no date nor rhythm says nothing about next year
            out += _occurrences(key, n, text, when, end, period, basis, today, until, hub_neqs)
        if rhythm is not None and rhythm < DEFAULT_PERIOD:  # a buyer buying more often than yearly
            when, n, text = bought[-1]
            out += _occurrences(key, n, text, when, None, rhythm, "rhythm", today, until, hub_neqs)
    return sorted(out, key=lambda r: (r.expected, r.buyer, r.notice_id))


def _occurrences(key: str, n: Notice, text: str, when: date, end: date | None, period: timedelta, basis: str,
                 today: date, until: date, hub_neqs: frozenset[str]) -> list[Renewal]:
    """Each time the purchase should come back between `today` and `until`."""
    tolerance = TOLERANCE
    if today - when > max(2 * period, DEFAULT_PERIOD) + tolerance:
        return []  # two cycles missed: the buyer stopped buying it, or we lost track
    expected = when + period
    while expected + tolerance < today:
        expected += period
    out = []
    while expected <= until:  # every occurrence: a buyer buying each quarter comes back 4 times a year
        out.append(_renewal(key, n, text, when, end, expected, tolerance, basis, period, hub_neqs))
        expected += period
    return out


def _renewal(key: str, n: Notice, text: str, when: date, end: date | None, expected: date, tolerance: timedelta,
             basis: str, period: timedelta, hub_neqs: frozenset[str]) -> Renewal:
    winners = _winners(n)
    title = " ".join(n.title.split())
    buyer = " ".join(n.buyer_name.split()).rstrip(" .")
    months = round(period.days / 30.44)
    if basis == "contract_end":
        fr = f"contrat du {when.isoformat()} terminé le {end.isoformat()}, {months} mois : son successeur revient vers {expected.isoformat()}"
        en = f"contract of {when.isoformat()} ended on {end.isoformat()}, {months} months: its successor is due around {expected.isoformat()}"
    elif basis == "contract_length":
        fr = f"les contrats de cet acheteur pour ce que vous offrez durent environ {months} mois ; celui-ci date du {when.isoformat()}"
        en = f"this buyer's contracts for what you offer last about {months} months; this one is of {when.isoformat()}"
    elif basis == "rhythm":
        fr = f"cet acheteur achète ce que vous offrez environ tous les {months} mois ; dernier achat le {when.isoformat()}"
        en = f"this buyer buys what you offer about every {months} months; last purchase on {when.isoformat()}"
    else:
        fr = f"acheté le {when.isoformat()} ; un contrat de service revient souvent chaque année"
        en = f"bought on {when.isoformat()}; a service contract often comes back every year"
    if winners:
        fr += f" ; en place : {winners[0].rstrip('.')}"
        en += f"; incumbent: {winners[0].rstrip('.')}"
    social = social_marks(n, hub_neqs, text)
    return Renewal(buyer=buyer, buyer_key=key, title=title, notice_id=n.id, incumbent=winners[0] if winners else None,
                   value=n.awarded_value, last=when, expected=expected, window=(expected - tolerance, expected + tolerance),
                   basis=basis, social=social, why_fr=fr + ".", why_en=en + ".")


def renewals(history: Iterable[Notice], finals: Iterable[FinalContract], enterprise: Enterprise | Profile, today: date,
             hub_neqs: frozenset[str] = frozenset(), texts: dict | None = None,
             sure: Mapping[str, bool] | None = None) -> list[Renewal]:
    """Purchases expected 3 to 9 months from `today`: the moment to introduce the enterprise.
    Social-economy ones first, then those known from a contract's dates, then the soonest."""
    found = forecast(history, finals, enterprise, today, today + RENEWAL_TO, hub_neqs, texts, sure)
    rank = {"contract_end": 0, "contract_length": 1, "rhythm": 2, "yearly": 3}
    first: dict[str, Renewal] = {}
    for r in found:
        if r.expected >= today + RENEWAL_FROM and r.notice_id not in first:
            first[r.notice_id] = r  # the next occurrence only
    return sorted(first.values(), key=lambda r: (not r.social, rank[r.basis], r.expected, r.notice_id))


def hub_neqs_of(enterprises: Sequence[Enterprise]) -> frozenset[str]:
    """The NEQs of the hub's enterprises (profiles with `neq`): their wins mark a buyer as one that
    already contracts with the social economy."""
    return frozenset(e.neq for e in enterprises if e.neq)


def buyers_to_meet(leads: Iterable[BuyerLead], hub_neqs: frozenset[str] = frozenset(),
                   capacity: float | None = None) -> list[BuyerLead]:
    """"Acheteurs à rencontrer": buyers of the trade worth a call, most likely first. A buyer is worth
    it when it chooses whom to ask (it bought the trade by gré à gré or invitation, below the public
    threshold), or already gave it to the hub's enterprises, or made a purchase within the
    enterprise's `capacity` (its largest contract): a buyer that only ran public tenders far above
    what the enterprise can take is not one to meet. Those of the hub first, then the direct buyers."""
    def direct(lead: BuyerLead) -> bool:
        return any(m in ("gre_a_gre", "invitation") for m, _ in lead.by_method)

    def within_reach(lead: BuyerLead) -> bool:
        return capacity is None or lead.min_amount is None or lead.min_amount <= capacity

    kept = [lead for lead in leads if buyer_is_social(lead, hub_neqs) or direct(lead) or within_reach(lead)]
    return sorted(kept, key=lambda lead: (not buyer_is_social(lead, hub_neqs), not direct(lead), -lead.score, lead.buyer))


def buyer_is_social(lead: BuyerLead, hub_neqs: frozenset[str]) -> bool:
    """The buyer already gave a contract of this trade to one of the hub's social-economy enterprises."""
    return any(i.neq in hub_neqs for i in lead.incumbents if i.neq)


@dataclass(frozen=True)
class WeekLeads:
    """The three award sections of one weekly digest, each cut to its limit with the rest counted."""

    awards: tuple[AwardLead, ...] = ()
    renewals: tuple[Renewal, ...] = ()
    buyers: tuple[BuyerLead, ...] = ()
    more: tuple[tuple[str, int], ...] = ()  # (section, items left out)
    hub_neqs: frozenset[str] = frozenset()
    today: date | None = None  # as of when they were computed

    def __bool__(self) -> bool:
        return bool(self.awards or self.renewals or self.buyers)


# One buyer to meet a week: a call a small team can make, and a pool of buyers that lasts for weeks
# instead of a list sent once and then nothing. Awards and renewals are news: all of the week's, up to 5.
LIMITS = {"awards": 5, "renewals": 5, "buyers": 1}
BUYER_AGAIN = timedelta(days=91)  # a buyer already proposed comes back after a quarter at the earliest…
BUYER_ACTIVE = timedelta(days=365)  # …if it bought the trade within a year or a purchase of it is expected


def week_leads(awards: Sequence[AwardLead], renewals_due: Sequence[Renewal], buyers: Sequence[BuyerLead],
               sent: Mapping[str, date], hub_neqs: frozenset[str] = frozenset(), limits: dict[str, int] | None = None,
               today: date | None = None) -> WeekLeads:
    """Keep what the enterprise did not receive yet (`sent`: `lead_key` -> day last sent), each
    section cut to its limit; the count left out of each is said in the mail. An award or a renewal
    goes out once; a buyer again once `BUYER_AGAIN` has passed, after every buyer never proposed, if
    it is still buying (a purchase within `BUYER_ACTIVE`, or one expected)."""
    limits = {**LIMITS, **(limits or {})}
    chosen = {}
    more = []
    for name, items in (("awards", awards), ("renewals", renewals_due)):
        fresh = [i for i in items if lead_key(i) not in sent]
        chosen[name] = tuple(fresh[: limits[name]])
        if len(fresh) > limits[name]:
            more.append((name, len(fresh) - limits[name]))
    new = [b for b in buyers if lead_key(b) not in sent]
    again = sorted((b for b in buyers if lead_key(b) in sent and today is not None
                    and sent[lead_key(b)] <= today - BUYER_AGAIN and _still_buying(b, today)),
                   key=lambda b: sent[lead_key(b)])
    fresh_buyers = new + again  # the never proposed by rank, then the longest ago
    chosen["buyers"] = tuple(fresh_buyers[: limits["buyers"]])
    if len(fresh_buyers) > limits["buyers"]:
        more.append(("buyers", len(fresh_buyers) - limits["buyers"]))
    return WeekLeads(chosen["awards"], chosen["renewals"], chosen["buyers"], tuple(more), hub_neqs, today)


def _still_buying(lead: BuyerLead, today: date) -> bool:
    """Worth a reminder: the buyer bought the trade in the last year, or a purchase of it is expected
    (a buyer last seen buying it three years ago was worth one mention, not one a quarter)."""
    return bool(lead.recurring) or (lead.last_purchase is not None and lead.last_purchase >= today - BUYER_ACTIVE)


def lead_key(item: AwardLead | Renewal | BuyerLead) -> str:
    """What the delivery record remembers, so a lead reaches an enterprise once: the award notice,
    the contract to renew (once per expected year), the buyer (when, `week_leads` decides)."""
    if isinstance(item, AwardLead):
        return item.notice.id
    if isinstance(item, Renewal):
        return f"{item.notice_id}@{item.expected.year}"[:80]
    return ("buyer:" + buyer_name_key(item.buyer))[:70]


def stored_lead_key(key: str) -> str:
    """A key as `lead_key` writes it today: buyer keys of earlier versions carried a quarter
    ("buyer:...@2019Q1"), which must still count as that buyer sent."""
    return re.sub(r"@\d{4}Q[1-4]$", "", key) if key.startswith("buyer:") else key
