"""Suggest an enterprise profile from its SEAO bidding history. Pure: notices in, profile out.

A coordinator writing a rule file from scratch guesses keywords; the award history already says
what an enterprise bid on (every bidder's NEQ is published). The suggestion is a draft for a
human: categories, UNSPSC prefixes, title keywords that are distinctive against the whole
history (TF-IDF-like), regions, a value range and the procurement methods it bid in.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ..models import METHODS, Enterprise, Notice
from ..text import fold, term
from .evidence import read_notice
from .text import normalize

__all__ = ["SuggestedProfile", "suggest_profile", "suggest_profiles", "to_toml", "title_words", "latest_versions",
           "notice_date", "STOP_WORDS", "GENERIC_WORDS"]

# Grammar words: never part of a keyword.
STOP_WORDS = frozenset("""
a au aux avec ce ces cet cette d dans de des du en et l la le les leur leurs ou par pour sa se ses
son sur un une y sans sous chez entre vers selon afin lors dont qui que quoi est sont etre
ainsi plus tout tous toute toutes autre autres chaque divers diverses differents differentes
etc incl inclusivement janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
""".split())
# Procurement boilerplate: never a keyword alone, allowed first in a two-word phrase
# ("services alimentaires", not "préventif région").
GENERIC_WORDS = frozenset("""
demande demandes execution relatif relatifs relative relatives avant preparation realisation remplacement
rue rues avenue boul boulevard chemin rang route arrondissement arrondissements ecole ecoles primaire
secondaire polyvalente espace espaces classes edifice immeuble site sites local locaux municipal municipaux
pavillon pavillons caserne bibliotheque arena hotel mairie
contrat contrats service services fourniture fournitures acquisition acquisitions achat achats travaux
projet projets appel appels offre offres lot lots numero annee annees an ans periode option options
renouvellement renouvelable mandat mandats besoin besoins programme dossier phase phases partie
ville municipalite commission scolaire centre ministere direction region regional regionale secteur
bloc item items articles article livraison location incluant inclus divers general generaux generale
ensemble type types nouveau nouvelle nouveaux nouvelles prolongation ajout modification annule annulation
hiver ete cahier charges public publics publique publiques materiel materiels produit produits equipement
equipements systeme systemes solution solutions appareil appareils accessoire accessoires piece pieces
recent recente recents recentes requis requise
""".split())
_EPOCH = datetime(1900, 1, 1, tzinfo=timezone.utc)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def title_words(title: str) -> list[tuple[str, str]]:
    """(folded, as written lower-cased) for each word of a title, in order; digits dropped."""
    return [(fold(w).replace("'", ""), w.casefold()) for w in _WORD.findall(title)]


def notice_date(notice: Notice) -> date | None:
    """When the purchase happened: the award date, else the publication date."""
    if notice.awarded_on:
        return notice.awarded_on
    return notice.published_at.date() if notice.published_at else None


def latest_versions(history: Iterable[Notice]) -> list[Notice]:
    """One version per notice id: SEAO republishes a notice at every revision (latest `as_of` wins)."""
    best: dict[str, Notice] = {}
    for n in history:
        old = best.get(n.id)
        if old is None or (n.as_of or _EPOCH) >= (old.as_of or _EPOCH):
            best[n.id] = n
    return list(best.values())


def _neq(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


@dataclass(frozen=True)
class SuggestedProfile:
    """A draft profile with the evidence it rests on (number of bids, dates, buyers)."""

    neq: str
    name: str
    bids: int
    wins: int
    first_bid: date | None
    last_bid: date | None
    categories: tuple[str, ...]
    unspsc: tuple[str, ...]
    keywords: tuple[str, ...]
    regions: tuple[str, ...]
    min_value: float | None
    max_value: float | None
    methods: tuple[str, ...]
    buyers: tuple[tuple[str, int], ...]  # (buyer name, bids), most frequent first

    def to_enterprise(self, id: str) -> Enterprise:
        """The profile as the matcher sees it (for ranking without writing a file)."""
        return Enterprise(id=id, name=self.name, emails=(), categories=self.categories, unspsc=self.unspsc,
                          keywords=self.keywords, regions=self.regions or ("*",), min_value=self.min_value,
                          max_value=self.max_value, methods=self.methods or ("gre_a_gre", "invitation", "public"))


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)


def _round_sig(value: float, up: bool) -> float:
    """Round outward to 2 significant digits (12 345 -> 12 000 down, 13 000 up): a range, not a price."""
    if value <= 0:
        return 0.0
    step = 10 ** max(0, math.floor(math.log10(value)) - 1)
    return float((math.ceil if up else math.floor)(value / step) * step)


def _unspsc_prefixes(codes: list[str], total: int) -> tuple[str, ...]:
    """Group codes by their 4-digit class and keep each group's longest common prefix (4-8 digits).

    Family codes end in zero pairs (76120000 = the 7612 family): those are trimmed so they match
    their children. Groups seen in a single bid out of many are left out as noise.
    """
    groups: dict[str, list[str]] = {}
    for c in codes:
        if len(c) >= 4 and c.isdigit():
            groups.setdefault(c[:4], []).append(c)
    ranked = sorted(groups.values(), key=len, reverse=True)
    out = []
    for group in ranked:
        if out and len(group) < 2 and len(group) / total < 0.2:
            continue
        prefix = group[0]
        for c in group[1:]:
            while not c.startswith(prefix):
                prefix = prefix[:-1]
        while len(prefix) > 4 and prefix.endswith("00"):
            prefix = prefix[:-2]
        out.append(prefix)
    return tuple(out)


def _proper_nouns(notices: list[Notice]) -> frozenset[str]:
    """Words written capitalised mid-title most of the time (places, schools): not what one sells."""
    caps: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for n in notices:
        words = _WORD.findall(n.title)
        if sum(w.isupper() for w in words) > len(words) / 2:
            continue  # an all-caps title says nothing about proper nouns
        for w in words[1:]:
            key = fold(w).replace("'", "")
            seen[key] += 1
            caps[key] += w[0].isupper()
    return frozenset(k for k, c in caps.items() if c > 0.6 * seen[k])


def _terms(title: str, proper: frozenset[str]) -> dict[str, str]:
    """Candidate keywords of a title: normalised form -> as written. Unigrams and adjacent bigrams."""
    words = title_words(title)
    out: dict[str, str] = {}
    # Only words of what the title buys (its heads, as the matcher reads them): « Entretien sanitaire
    # - Pavillon du parc de la Rivière-du-Moulin » gives « entretien sanitaire », not the place, and
    # « Déneigement de l'écocentre » gives « déneigement », never « écocentre ».
    # The first segment only: later ones name the place (« … - Centre socioculturel »).
    heads = {t for seg in read_notice(title).title_chunks[:1] for c in seg if c.role in ("head", "procurement") for t in c.terms}
    ok = [len(w) > 2 and w not in STOP_WORDS and w not in proper and term(w) in heads for w, _ in words]
    for i, (w, raw) in enumerate(words):
        if ok[i] and w not in GENERIC_WORDS:
            out.setdefault(w, raw)
        if i + 1 < len(words) and ok[i] and ok[i + 1] and words[i + 1][0] not in GENERIC_WORDS:
            out.setdefault(f"{w} {words[i + 1][0]}", f"{raw} {words[i + 1][1]}")
    return out


class _Corpus:
    """The history once: latest versions before `until`, title term counts, bids by NEQ."""

    def __init__(self, history: Iterable[Notice], until: date | None) -> None:
        notices = latest_versions(history)
        if until is not None:
            notices = [n for n in notices if (d := notice_date(n)) is not None and d < until]
        self.notices = notices
        self.proper = _proper_nouns(notices)
        self.terms = {n.id: _terms(n.title, self.proper) for n in notices}
        self.df: Counter[str] = Counter(k for t in self.terms.values() for k in t)
        self.by_neq: dict[str, list[Notice]] = {}
        for n in notices:
            for neq in {_neq(b.neq) for b in n.bidders} - {""}:
                self.by_neq.setdefault(neq, []).append(n)

    def keywords(self, mine: list[Notice], low: int = 5, high: int = 12) -> tuple[str, ...]:
        """Title terms frequent in the enterprise's bids and rare in the whole history, most distinctive first."""
        tf: Counter[str] = Counter()
        surface: dict[str, Counter[str]] = {}
        for n in mine:
            for key, raw in self.terms[n.id].items():
                tf[key] += 1
                surface.setdefault(key, Counter())[raw] += 1
        total = len(self.notices) + 1
        scored = sorted(tf, key=lambda k: (-tf[k] * math.log(total / (self.df[k] + 1)), k))
        need = 2 if len(mine) >= 3 else 1
        chosen: list[str] = []
        for min_tf in (need, 1):
            for k in scored:
                if len(chosen) >= (high if min_tf == need else low) or k in chosen or tf[k] < min_tf:
                    continue
                parts = k.split()
                if self.df[k] < 2 or (len(parts) == 1 and self.df[k] > max(0.05 * total, 10)):
                    continue  # a one-off (typo, cut word), or a word too common to tell anything ("entretien")
                if tf[k] / len(mine) < 2 * self.df[k] / total:
                    continue  # not distinctive: the enterprise's titles use it hardly more than anyone's
                if len(parts) == 2 and any(p in chosen for p in parts):
                    continue  # a selected word already matches every title of this phrase
                if len(parts) == 1 and any(k in c.split() and tf[c] >= tf[k] for c in chosen):
                    continue  # every title with this word is already matched by a phrase
                chosen.append(k)
        return tuple(surface[k].most_common(1)[0][0] for k in chosen)

    def profile(self, neq: str) -> SuggestedProfile:
        target = _neq(neq)
        mine = self.by_neq.get(target, [])
        names: Counter[str] = Counter()
        amounts: list[float] = []
        wins = 0
        for n in mine:
            for b in n.bidders:
                if _neq(b.neq) == target:
                    names[b.name.strip()] += 1
                    wins += b.winner
                    amount = b.amount or b.contract_amount
                    if amount and amount >= 500:  # below: a unit price or hourly rate, not a contract
                        amounts.append(amount)
        dates = sorted(d for n in mine if (d := notice_date(n)))
        cats = Counter(c for n in mine for c in n.categories)
        regions = Counter(r for n in mine for r in n.regions)
        methods = {n.method for n in mine}
        return SuggestedProfile(
            neq=target,
            name=names.most_common(1)[0][0] if names else "",
            bids=len(mine),
            wins=wins,
            first_bid=dates[0] if dates else None,
            last_bid=dates[-1] if dates else None,
            categories=tuple(c for c, k in cats.most_common() if k >= 2 or k >= 0.25 * len(mine)),
            unspsc=_unspsc_prefixes([c for n in mine for c in n.unspsc], max(1, len(mine))),
            keywords=self.keywords(mine),
            regions=("*",) if len(regions) > 5 or not regions else tuple(sorted(regions)),
            min_value=_round_sig(_quantile(amounts, 0.1), up=False) if amounts else None,
            max_value=_round_sig(_quantile(amounts, 0.9), up=True) if amounts else None,
            methods=tuple(m for m in METHODS if m in methods),
            buyers=tuple(Counter(n.buyer_name.strip() for n in mine).most_common()),
        )


def suggest_profile(history: Iterable[Notice], neq: str, until: date | None = None) -> SuggestedProfile:
    """Draft profile for the enterprise with this NEQ from the notices it bid on before `until`."""
    return _Corpus(history, until).profile(neq)


def suggest_profiles(history: Iterable[Notice], neqs: Iterable[str], until: date | None = None) -> dict[str, SuggestedProfile]:
    """Same as suggest_profile for many NEQs, reading the history once (a whole region's EÉS)."""
    corpus = _Corpus(history, until)
    return {n: corpus.profile(n) for n in neqs}


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def to_toml(profile: SuggestedProfile, id: str) -> str:
    """A rule file for a coordinator to review; it passes watcher.rules.check_rules as written."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", id):
        raise ValueError(f"invalid id {id!r}: lowercase letters, digits and hyphens")
    if not (profile.categories or profile.unspsc or profile.keywords):
        raise ValueError(f"no category, UNSPSC code or keyword for NEQ {profile.neq}: nothing to suggest")
    span = f"entre le {profile.first_bid} et le {profile.last_bid}" if profile.first_bid else "sans date connue"
    lines = [
        f"# Profil SUGGÉRÉ à partir de {profile.bids} soumissions au SEAO {span}",
        f"# (NEQ {profile.neq}, {profile.wins} contrats obtenus). À faire vérifier par un coordonnateur :",
        "# catégories, codes, mots-clés, régions et montants sont déduits automatiquement des avis",
        "# d'adjudication ; ajoutez les exclusions (faux positifs) et remplacez l'adresse courriel.",
    ]
    if profile.buyers:
        top = ", ".join(f"{b} ({k})" for b, k in profile.buyers[:3])
        lines.append(f"# Principaux acheteurs : {top}.")
    lines += [
        f"id = {json.dumps(id)}",
        f"name = {json.dumps(profile.name or profile.neq, ensure_ascii=False)}",
        'emails = ["a-remplacer@example.org"]  # À REMPLACER',
        'language = "fr"',
        "",
        "[match]",
    ]
    if profile.categories:
        lines.append(f"categories = {_toml_list(profile.categories)}")
    if profile.unspsc:
        lines.append(f"unspsc = {_toml_list(profile.unspsc)}")
    if profile.keywords:
        lines.append(f"keywords = {_toml_list(profile.keywords)}")
    lines.append(f"regions = {_toml_list(profile.regions or ('*',))}")
    lines += ["", "[capacity]"]
    if profile.min_value is not None and profile.max_value is not None:
        lines.append(f"min_value = {profile.min_value:.0f}  # 10e centile des montants soumis, arrondi")
        lines.append(f"max_value = {profile.max_value:.0f}  # 90e centile des montants soumis, arrondi")
    lines.append(f"methods = {_toml_list(profile.methods or ('gre_a_gre', 'invitation', 'public'))}")
    return "\n".join(lines) + "\n"
