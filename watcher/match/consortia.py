"""Consortia: teams of enterprises for a notice none of them can take alone. Pure, no I/O.

Small EÉS lose contracts too big, too broad or too spread out for one of them; together they can
bid. `propose` looks for teams only when no enterprise is realistic alone (judge() says realistic
AND it covers every need and every delivery region of the notice).

Needs (what the notice asks for) come from the enterprises that hit it, read on the notice's own
structure. Title and description are cut into list items at « et », « ou », commas, dashes,
colons, slashes, parentheses. A keyword hit falls in an item; items hit by the same phrase, or
joined by one hit, are one need: « Entretien ménager et service alimentaire » hit on « entretien
ménager » and on « service alimentaire » asks for two. A notice UNSPSC family (4 digits) hit by an
enterprise attaches to the text needs its hitters share (hitters of that one code only, when there
are some, so a two-trade enterprise cannot fuse two trades); with no shared text need, the code is
a need of its own; the same for the SEAO category of category-only profiles. Needs covered by
exactly the same enterprises are merged: nothing tells them apart. Each enterprise covers the needs
it hits. Limits: a synonym one caterer lacks splits a need in two (a team then needs both
phrases); regions are covered by the team as a whole, not need by need.

A team is 2 to max_size willing enterprises that judge() does not reject, none redundant. It must
reach the value with the sum of its capacities (max_value; none = unlimited) and hold a lead that
passes, alone, every surety, insurance, RBQ and AMP criterion of judge(): the lead signs for the
whole contract. It should cover every need and region (full coverage); partial teams are shown only
when no full team exists, with what they leave uncovered. Rank: full coverage, more covered, fewer
members, more declared partner pairs (either direction), more past co-bid pairs, more pairs sharing
a region, most balanced shares (smallest largest share). Shares follow capacity, capped at the
value, so nobody is given more than it can do; the largest able lead leads.

Search: only enterprises covering something; per need and per region the BEAM largest capacities
and BEAM largest able leads, plus up to BEAM enterprises linked to those by a declared partnership
or a past co-bid. Depth-first by team size, candidates by decreasing capacity, bounded by what the
rest can still add (coverage, capacity, a lead); it stops at the first size giving `limit` full
teams, or after BUDGET nodes (then `truncated`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import combinations

from ..codes import REGIONS
from ..models import Enterprise, Match, Notice
from . import Profile, capability, compile_profile, notice_text
from .text import normalize
from .verdict import DEFAULT_PERFORMANCE_PERCENT, Facts, judge

__all__ = ["Need", "Team", "Proposal", "propose"]

BEAM = 8  # candidates kept per need and per region: enough alternatives, bounded search
BUDGET = 20000  # search nodes per notice
_SEP = re.compile(r"(\s+(?:et|ou|ainsi\s+que)\s+|\s+[-–—]\s+|[,;:/+()\[\]\n.!?•|]+)", re.I)


@dataclass(frozen=True)
class Need:
    """One capability the notice asks for; `label` is the phrases found, or the code."""

    key: str
    label: str


@dataclass(frozen=True)
class Team:
    members: tuple[str, ...]
    lead: str
    covers: dict[str, tuple[str, ...]]  # member id -> labels of the needs it covers
    regions: dict[str, tuple[str, ...]]  # member id -> notice regions it serves
    shares: dict[str, float]  # member id -> fraction of the value (sums to 1)
    score: float  # coverage x mean capability score, 0..1, for display (the rank is lexicographic)
    reasons_fr: tuple[str, ...]
    reasons_en: tuple[str, ...]
    full_coverage: bool


@dataclass(frozen=True)
class Proposal:
    notice_id: str
    needs: tuple[Need, ...] = ()
    teams: tuple[Team, ...] = ()
    alone: tuple[str, ...] = ()  # enterprises realistic alone: then no team is proposed
    why_fr: str = ""  # why there is no team
    why_en: str = ""
    truncated: bool = False  # the search budget ran out: a better team may exist


@dataclass(frozen=True)
class _Cand:
    """A judged enterprise: `mask` has one bit per need, then one per notice region, it covers."""

    ent: Enterprise
    profile: Profile
    match: Match
    score: float
    mask: int = 0
    cap: float = 0.0
    lead: bool = False


def _money(v: float) -> str:
    return f"{v:,.0f} $".replace(",", " ")


def _items(notice: Notice) -> tuple[str, list[int]]:
    """Normalised text (same words as notice_text) and the offset where each list item starts."""
    text, starts = " ", [0]
    for i, piece in enumerate(_SEP.split(f"{notice.title}\n{notice.description}")):
        if norm := normalize(piece).strip():
            if i % 2 == 0:
                starts.append(len(text))
            text += norm + " "
    return text, starts


def _hits(profile: Profile, text: str, starts: list[int]) -> list[tuple[str, str, int, int]]:
    """(normalised phrase, phrase as written, first item, last item) for every keyword occurrence."""
    out = []
    for p in profile.keywords:
        needle = " " + p.norm + ("" if p.prefix else " ")
        i = text.find(needle)
        while i >= 0:
            out.append((p.norm, p.raw, bisect_right(starts, i + 1) - 1, bisect_right(starts, i + len(p.norm)) - 1))
            i = text.find(needle, i + 1)
    return out


def _needs(notice: Notice, judged: dict[str, _Cand]) -> tuple[list[Need], dict[str, int]]:
    """The needs and, per enterprise, the bit mask of those it covers (see the module docstring)."""
    text, starts = _items(notice)
    parent = list(range(len(starts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = i = parent[parent[i]]
        return i
    hits = {e: _hits(c.profile, text, starts) for e, c in judged.items()}
    first: dict[str, int] = {}
    for h in hits.values():
        for norm, _, a, b in h:  # one hit spanning items, or the same phrase in two items: one need
            for j in range(a, b + 1):
                parent[find(j)] = find(a)
            parent[find(a)] = find(first.setdefault(norm, a))
    covers = {e: {f"text:{find(a):04d}" for _, _, a, _ in h} for e, h in hits.items()}
    phrases: dict[str, dict[str, str]] = {}
    for h in hits.values():
        for norm, raw, a, _ in h:
            phrases.setdefault(f"text:{find(a):04d}", {}).setdefault(norm, raw)
    codes: dict[str, list[str]] = {}
    for e, c in judged.items():
        for fam in sorted({code[:4] for code in notice.unspsc for q in c.ent.unspsc if code.startswith(q)}):
            codes.setdefault(f"UNSPSC {fam}", []).append(e)
        if not c.ent.keywords and not c.ent.unspsc:
            for cat in sorted(c.profile.categories.intersection(notice.categories)):
                codes.setdefault(f"catégorie {cat}", []).append(e)
    n_codes, text_covers = {e: sum(e in eids for eids in codes.values()) for e in judged}, {e: set(v) for e, v in covers.items()}
    for key, eids in codes.items():  # enterprises hitting this code only say best which trade it is
        texts = [text_covers[e] for e in ([e for e in eids if n_codes[e] == 1] or eids) if text_covers[e]]
        common = set.intersection(*texts) if texts else set()
        for e in eids:
            covers[e] |= common or {key}
    groups: dict[frozenset[str], list[str]] = {}  # needs covered by the same enterprises cannot be told apart
    for k in sorted({k for c in covers.values() for k in c}, key=lambda k: (not k.startswith("text:"), k)):
        groups.setdefault(frozenset(e for e in covers if k in covers[e]), []).append(k)
    needs, bit = [], {}
    for keys in groups.values():
        bit.update((k, 1 << len(needs)) for k in keys)
        needs.append(Need("+".join(keys), " / ".join(", ".join(phrases[k].values()) if k in phrases else k for k in keys)))
    return needs, {e: sum({bit[k] for k in covers[e]}) for e in judged}


def _requirement_labels(facts: Facts) -> dict[str, tuple[str, str]]:
    """What the lead must carry, worded as judge() computes it (criterion -> fr, en)."""
    reqs, value, out = facts.requirements, facts.value, {}
    for name, fr, en, default in (("bid_bond", "la garantie de soumission", "bid bond", None),
                                  ("performance_bond", "la garantie d'exécution", "performance bond", DEFAULT_PERFORMANCE_PERCENT)):
        req = reqs.get(name)
        if req and req.status == "required":
            percent = req.percent or default
            amount = req.amount or (percent / 100 * value if percent and value else None)
            out[name] = (f"{fr} de {_money(amount)}", f"the {_money(amount)} {en}") if amount else (fr, f"the {en}")
    ins = reqs.get("insurance")
    if ins and ins.amount:
        out["insurance"] = (f"l'assurance responsabilité de {_money(ins.amount)}", f"{_money(ins.amount)} liability insurance")
    if "rbq" in reqs:
        out["licences"] = ("la licence RBQ", "the RBQ licence")
    if "amp" in reqs:
        out["amp"] = ("l'autorisation de l'AMP", "the AMP authorisation")
    return out


def same_trade(a: Profile, b: Profile) -> bool:
    """Two profiles of one trade: a phrase in common (as terms: « conciergerie ») or an UNSPSC family."""
    return bool({k.norm for k in a.keywords} & {k.norm for k in b.keywords}
                or {c[:4] for c in a.unspsc if len(c) >= 4} & {c[:4] for c in b.unspsc if len(c) >= 4})


def _consider(judged: dict, notice: Notice, p: Profile, facts: Facts, now: datetime | None, text: str, score: float) -> None:
    m = judge(notice, p, facts, now, text)  # an unwilling enterprise still tells what the notice asks for
    if m.verdict != "no" or any(r.criterion == "consortium" and not r.ok for r in m.reasons):
        judged[p.enterprise.id] = _Cand(p.enterprise, p, m, score)


class Pool:
    """The profiles teams are drawn from, indexed once for many notices: which may pass capability
    (`candidates`, the matcher's CandidateIndex: a superset of those that do), and which share a
    trade with a given one (same_trade, by phrase and UNSPSC family). propose() then looks at
    those only, in the same order, instead of every profile and every pair (issue 16: with
    10,000 profiles a consortium verdict cost 2 s, most of judging)."""

    def __init__(self, profiles: Sequence[Profile], candidates: Callable[[Notice, str], Collection[str]] | None = None) -> None:
        self.profiles = list(profiles)
        self.candidates = candidates
        self._by_id = {p.enterprise.id: i for i, p in enumerate(self.profiles)}
        self._by_norm: dict[str, list[int]] = {}
        self._by_family: dict[str, list[int]] = {}
        for i, p in enumerate(self.profiles):
            for norm in {k.norm for k in p.keywords}:
                self._by_norm.setdefault(norm, []).append(i)
            for family in _families(p):
                self._by_family.setdefault(family, []).append(i)

    def may_hit(self, notice: Notice, text: str) -> list[Profile]:
        """The profiles that may pass capability on the notice, in pool order."""
        if self.candidates is None:
            return self.profiles
        return [self.profiles[i] for i in sorted(self._by_id[e] for e in self.candidates(notice, text) if e in self._by_id)]

    def kin_of(self, hitters: Sequence[Profile]) -> list[Profile]:
        """The profiles that share a trade with one of `hitters` (and so may borrow its phrases), in pool order."""
        found: set[int] = set()
        for h in hitters:
            for norm in {k.norm for k in h.keywords}:
                found.update(self._by_norm.get(norm, ()))
            for family in _families(h):
                found.update(self._by_family.get(family, ()))
        return [self.profiles[i] for i in sorted(found)]


def _families(p: Profile) -> set[str]:
    return {c[:4] for c in p.unspsc if len(c) >= 4}


def propose(notice: Notice, facts: Facts, enterprises: Sequence[Enterprise | Profile] | Pool,
            co_bids: Collection[frozenset[str]] = frozenset(), max_size: int = 4, limit: int = 5,
            now: datetime | None = None) -> Proposal:
    """Teams for one notice, best first; none (and why) when one enterprise can do it or no team can.

    Pass a Pool (or at least compiled Profiles) when proposing for many notices. `co_bids`: pairs of
    enterprise ids that bid together before. `now`: as for judge() (None judges as at publication)."""
    text, cats, judged = notice_text(notice), frozenset(notice.categories), {}
    pool = enterprises if isinstance(enterprises, Pool) else \
        Pool([e if isinstance(e, Profile) else compile_profile(e) for e in enterprises])
    hitters: list[Profile] = []
    for p in pool.may_hit(notice, text):
        if not (any(k.found_in(text) for k in p.keywords) or p.categories & cats
                or any(c.startswith(q) for q in p.enterprise.unspsc for c in notice.unspsc)):
            continue  # cheap test first: most enterprises do not sell what the notice asks for
        score, reason = capability(notice, p, text)
        if reason.ok:
            hitters.append(p)
            _consider(judged, notice, p, facts, now, text, score)
    # An enterprise of the same trade as one that matches covers what it covers, whatever its words:
    # two cleaning co-ops, one writing « nettoyage de bâtiments », the other « entretien ménager »,
    # together take a contract too big for either. It borrows the matching enterprise's phrases.
    for p in pool.kin_of(hitters):
        if p.enterprise.id in judged or not p.enterprise.consortium_willing:
            continue
        kin = [h for h in hitters if same_trade(p, h)]
        if kin:
            borrowed = replace(p, keywords=p.keywords + tuple(k for h in kin for k in h.keywords if k.found_in(text)),
                               unspsc=p.unspsc + tuple(c for h in kin for c in h.unspsc),
                               enterprise=replace(p.enterprise, unspsc=p.enterprise.unspsc + tuple(c for h in kin for c in h.enterprise.unspsc)))
            score, reason = capability(notice, borrowed, text)
            if reason.ok:
                _consider(judged, notice, borrowed, facts, now, text, score)
    if not judged:
        return Proposal(notice.id, why_fr="aucune entreprise ne correspond à cet avis", why_en="no enterprise matches this notice")
    needs, need_masks = _needs(notice, judged)
    regions = sorted(set(notice.regions))
    full = (1 << (len(needs) + len(regions))) - 1
    labels = _requirement_labels(facts)
    for e, c in judged.items():
        served = full >> len(needs) if c.profile.regions is None else \
            sum(1 << i for i, r in enumerate(regions) if r in c.profile.regions)
        judged[e] = _Cand(c.ent, c.profile, c.match, c.score, need_masks[e] | served << len(needs), c.ent.max_value or float("inf"),
                          all(r.ok for r in c.match.reasons if r.criterion in labels))

    def why(fr: str, en: str, truncated: bool = False) -> Proposal:
        return Proposal(notice.id, tuple(needs), (), alone, fr, en, truncated)
    alone = tuple(e for e, c in judged.items() if c.match.verdict == "realistic" and c.mask == full)
    if alone:
        names = ", ".join(judged[e].ent.name for e in alone)
        return why(f"{names} peut réaliser ce contrat seule", f"{names} can take this contract alone")
    pool = [c for c in judged.values() if c.ent.consortium_willing]
    if len(pool) < 2:
        return why(f"il faut deux entreprises prêtes à s'associer ; {len(pool)} sur {len(judged)} qui correspondent le sont",
                   f"a team needs two enterprises open to consortia; {len(pool)} of the {len(judged)} matching ones are")
    if not any(c.lead for c in pool):
        missing = [k for k in labels if not any(r.ok for c in pool for r in c.match.reasons if r.criterion == k)]
        if missing:
            return why(f"aucune des {len(pool)} entreprises prêtes à s'associer ne peut fournir "
                       + " ni ".join(labels[k][0] for k in missing),
                       f"none of the {len(pool)} enterprises open to a consortium can provide "
                       + " or ".join(labels[k][1] for k in missing))
        return why("aucune entreprise ne réunit à elle seule " + " et ".join(v[0] for v in labels.values())
                   + " (le chef de file porte tout)",
                   "no enterprise holds all of " + ", ".join(v[1] for v in labels.values()) + " (the lead carries them all)")
    value = facts.value or 0.0
    top = sum(sorted((c.cap for c in pool), reverse=True)[:max_size])
    if top < value:
        k = min(max_size, len(pool))
        return why(f"même réunies, les {k} plus grandes capacités ({_money(top)}) n'atteignent pas {_money(value)}",
                   f"even together, the {k} largest capacities ({_money(top)}) fall short of {_money(value)}")

    def linked(a: _Cand, b: _Cand) -> bool:
        return b.ent.id in a.ent.consortium_partners or a.ent.id in b.ent.consortium_partners
    pool.sort(key=lambda c: (-c.cap, c.ent.id))
    keep: set[str] = set()
    for i in range(len(needs) + len(regions)):  # per need and region: the largest capacities and able leads
        hitting = [c for c in pool if c.mask >> i & 1]
        keep.update(c.ent.id for c in hitting[:BEAM] + [c for c in hitting if c.lead][:BEAM])
    kept = [c for c in pool if c.ent.id in keep]
    ties = [c for c in pool if c.ent.id not in keep
            and any(linked(c, x) or frozenset((c.ent.id, x.ent.id)) in co_bids for x in kept)]  # declared or past partners
    cands = sorted(kept + ties[:BEAM], key=lambda c: (-c.cap, c.ent.id))
    found, nodes = _search(cands, value, full, max_size, limit)
    if not found:
        covered = 0
        for c in pool:
            covered |= c.mask
        gaps = [f"« {nd.label} »" for i, nd in enumerate(needs) if not covered >> i & 1]
        gaps += [REGIONS.get(r, r) for i, r in enumerate(regions) if not covered >> (len(needs) + i) & 1]
        if gaps:
            return why("aucune entreprise prête à s'associer ne couvre " + ", ".join(gaps),
                       "no enterprise open to a consortium covers " + ", ".join(gaps), nodes > BUDGET)
        return why(f"aucune équipe de 2 à {max_size} membres ne réunit la capacité et un chef de file",
                   f"no team of 2 to {max_size} members has both the capacity and a lead", nodes > BUDGET)

    def rank(team: tuple[_Cand, ...]) -> tuple:
        mask, pairs = _union(team), list(combinations(team, 2))
        shared = sum(a.profile.regions is None or b.profile.regions is None or bool(a.profile.regions & b.profile.regions)
                     for a, b in pairs)
        return (mask != full, -mask.bit_count(), len(team), -sum(linked(a, b) for a, b in pairs),
                -sum(frozenset((a.ent.id, b.ent.id)) in co_bids for a, b in pairs), -shared,
                max(_shares(team, value).values()), [c.ent.id for c in team])
    best = sorted(found, key=rank)[:limit]
    return Proposal(notice.id, tuple(needs), tuple(_team(t, needs, regions, labels, facts, value, full, linked, co_bids) for t in best),
                    truncated=nodes > BUDGET)


def _union(team: Sequence[_Cand]) -> int:
    mask = 0
    for c in team:
        mask |= c.mask
    return mask


def _search(cands: list[_Cand], value: float, full: int, max_size: int, limit: int) -> tuple[list[tuple[_Cand, ...]], int]:
    """Irredundant teams by increasing size: full ones; when there are none, any reaching the value with a lead.

    Candidates come by decreasing capacity, so the capacity bound is tight and good teams come first."""
    n = len(cands)
    suf_mask, suf_cap, suf_lead = [0] * (n + 1), [0.0] * (n + 1), [False] * (n + 1)
    for i in range(n - 1, -1, -1):
        suf_mask[i], suf_cap[i] = suf_mask[i + 1] | cands[i].mask, max(suf_cap[i + 1], cands[i].cap)
        suf_lead[i] = suf_lead[i + 1] or cands[i].lead
    found: list[tuple[_Cand, ...]] = []
    nodes = 0

    def redundant(team: list[_Cand]) -> bool:
        mask = _union(team)
        return any(_union(rest) == mask and sum(c.cap for c in rest) >= value and any(c.lead for c in rest)
                   for rest in ([c for c in team if c is not skip] for skip in team))

    def rec(start: int, team: list[_Cand], mask: int, total: float, lead: bool, k: int, need_full: bool) -> None:
        nonlocal nodes
        for i in range(start, n):
            nodes += 1
            if nodes > BUDGET:
                return
            c = cands[i]
            if not (c.mask & ~mask or total < value or (c.lead and not lead)):
                continue  # adds nothing: the team would be redundant
            mask2, total2, lead2, slots = mask | c.mask, total + c.cap, lead or c.lead, k - len(team) - 1
            if slots == 0:
                if total2 >= value and lead2 and (mask2 == full or not need_full) and not redundant(team + [c]):
                    found.append(tuple(team + [c]))
            elif ((mask2 | suf_mask[i + 1]) == full or not need_full) and total2 + slots * suf_cap[i + 1] >= value \
                    and (lead2 or suf_lead[i + 1]):
                rec(i + 1, team + [c], mask2, total2, lead2, k, need_full)

    for need_full in (True, False):
        for k in range(2, max_size + 1):
            rec(0, [], 0, 0.0, False, k, need_full)
            if need_full and len(found) >= limit:
                break
        if found:
            break
    return found, nodes


def _shares(team: Sequence[_Cand], value: float) -> dict[str, float]:
    """Proportional to capacity, each capped at the value: nobody is given more than it can do."""
    finite = [c.cap for c in team if c.cap != float("inf")]
    eff = [min(c.cap, value) if value else c.cap if c.cap != float("inf") else max(finite, default=1.0) for c in team]
    return {c.ent.id: round(x / sum(eff), 3) for c, x in zip(team, eff)}


def _team(team: tuple[_Cand, ...], needs: list[Need], regions: list[str], labels: dict[str, tuple[str, str]], facts: Facts,
          value: float, full: int, linked, co_bids: Collection[frozenset[str]]) -> Team:
    """A team with its split (who covers what, who leads, shares) and its reasons in both languages."""
    lead = max((c for c in team if c.lead), key=lambda c: (c.cap, c.ent.id))
    shares, mask, nn = _shares(team, value), _union(team), len(needs)
    covers = {c.ent.id: tuple(nd.label for i, nd in enumerate(needs) if c.mask >> i & 1) for c in team}
    fr, en = [], []
    for c in team:
        part = f"{shares[c.ent.id] * 100:.0f} %" + (f" ({_money(shares[c.ent.id] * value)})" if value else "")
        fr.append(f"{c.ent.name} : {', '.join(covers[c.ent.id])} — part {part}")
        en.append(f"{c.ent.name}: {', '.join(covers[c.ent.id])} — share {part}")
    fr.append(f"chef de file : {lead.ent.name}" + (" — porte " + ", ".join(v[0] for v in labels.values()) if labels else ""))
    en.append(f"lead: {lead.ent.name}" + (" — carries " + ", ".join(v[1] for v in labels.values()) if labels else ""))
    if value:
        total = sum(c.cap for c in team)
        fr.append(f"capacité réunie {_money(total) if total != float('inf') else 'illimitée'} pour {_money(value)} ({facts.basis_fr})")
        en.append(f"combined capacity {_money(total) if total != float('inf') else 'unlimited'} for {_money(value)} ({facts.basis_en})")
    if regions:
        names = ", ".join(REGIONS.get(r, r) for i, r in enumerate(regions) if mask >> (nn + i) & 1)
        fr.append(f"régions couvertes : {names}")
        en.append(f"regions covered: {names}")
    pairs = list(combinations(team, 2))
    def co_bid(a: _Cand, b: _Cand) -> bool:
        return frozenset((a.ent.id, b.ent.id)) in co_bids
    for test, lfr, len_ in ((linked, "partenaires déclarés", "declared partners"),
                            (co_bid, "ont déjà soumissionné ensemble", "have bid together before")):
        if hits := [(a.ent.name, b.ent.name) for a, b in pairs if test(a, b)]:
            fr.append(f"{lfr} : " + " ; ".join(f"{a} et {b}" for a, b in hits))
            en.append(f"{len_}: " + "; ".join(f"{a} and {b}" for a, b in hits))
    missing = [nd.label for i, nd in enumerate(needs) if not mask >> i & 1]
    gone = [REGIONS.get(r, r) for i, r in enumerate(regions) if not mask >> (nn + i) & 1]
    if missing or gone:
        fr.append("non couvert : " + ", ".join([f"« {m} »" for m in missing] + gone))
        en.append("not covered: " + ", ".join([f'"{m}"' for m in missing] + gone))
    score = round(mask.bit_count() / max(1, full.bit_count()) * sum(c.score for c in team) / len(team), 3)
    return Team(tuple(c.ent.id for c in team), lead.ent.id, covers,
                {c.ent.id: tuple(r for i, r in enumerate(regions) if c.mask >> (nn + i) & 1) for c in team},
                shares, score, tuple(fr), tuple(en), mask == full)
