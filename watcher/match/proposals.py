"""Rule changes proposed from digest feedback, for a coordinator to read, backtest and accept.

Pure: it reads the votes (notice, relevant, reason) of one enterprise and the notices they are on,
and says what the "pas pour nous" ones have in common that the "pertinent" ones lack (a title
word to exclude, a region or a SEAO category to drop) and what the "pertinent" notices the
profile missed share (a title word to add as keyword). Each candidate names the notices it rests
on; the backtest of each is done by the caller with the same Judge as `rules test --diff`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..models import Enterprise, Notice
from ..text import term, terms, words

MIN_SUPPORT = 2  # a pattern seen in one vote is an anecdote, not a rule
MAX_PER_KIND = 3

# Words too common in notice titles to say anything about a trade (normalised, accents off).
STOPWORDS = frozenset("""
les des une pour par avec sans dans sur aux the and for with from that this services service travaux
fourniture fournitures acquisition achat contrat contrats appel offres offre projet programme ville
municipalite centre region regional quebec montreal laval annee ans phase lot lots divers diverses
general generale generaux generales entretien batiment batiments edifice edifices plusieurs
""".split())


@dataclass(frozen=True)
class Vote:
    notice: Notice
    relevant: bool
    reason: str | None
    matched: bool  # the profile flags it (any verdict but "no")


@dataclass(frozen=True)
class Candidate:
    field: str  # "match.exclude", "match.keywords", "match.regions", "match.categories"
    action: str  # "add" | "remove"
    value: str
    evidence: tuple[str, ...]  # notice ids the votes rest on
    fr: str
    en: str

    @property
    def key(self) -> str:
        return f"{self.field}:{self.action}:{self.value}"


def _words(notice: Notice) -> set[str]:
    # folded words as written (a proposal is read and accepted by a person), compared by their terms
    return {w for w in words(notice.title) if len(w) >= 5 and w not in STOPWORDS and not w.isdigit()}


def _profile_words(ent: Enterprise) -> set[str]:
    out: set[str] = set()
    for phrase in (*ent.keywords, *ent.exclude):
        out |= set(terms(phrase.replace("*", "")))
    return out


def candidates(ent: Enterprise, votes: list[Vote]) -> list[Candidate]:
    """What the votes suggest, strongest support first within each kind."""
    no = [v for v in votes if not v.relevant and v.matched]
    yes = [v for v in votes if v.relevant]
    missed = [v for v in yes if not v.matched]
    known = _profile_words(ent)
    yes_words = set().union(*(_words(v.notice) for v in yes)) if yes else set()
    out: list[Candidate] = []

    trade_no = [v for v in no if v.reason in (None, "trade")]
    out += _common(trade_no, _words, lambda w: w not in yes_words and term(w) not in known, "match.exclude", "add",
                   "« {v} » revient dans {n} avis marqués « pas pour nous » et dans aucun avis pertinent",
                   '"{v}" appears in {n} notices marked "not for us" and in no relevant one')
    yes_regions = {r for v in yes for r in v.notice.regions}
    if "*" not in ent.regions:
        out += _common([v for v in no if v.reason in (None, "region")], lambda n: set(n.regions),
                       lambda r: r in ent.regions and r not in yes_regions, "match.regions", "remove",
                       "la région {v} est celle de {n} avis « pas pour nous » et d'aucun avis pertinent",
                       'region {v} is that of {n} notices "not for us" and of no relevant one')
    yes_codes = {c for v in yes for c in v.notice.categories}
    out += _common(trade_no, lambda n: set(n.categories), lambda c: c in ent.categories and c not in yes_codes,
                   "match.categories", "remove",
                   "la catégorie {v} est celle de {n} avis « pas pour nous » et d'aucun avis pertinent",
                   'category {v} is that of {n} notices "not for us" and of no relevant one')
    no_words = set().union(*(_words(v.notice) for v in no)) if no else set()
    out += _common(missed, _words, lambda w: w not in no_words and term(w) not in known, "match.keywords", "add",
                   "« {v} » est dans {n} avis pertinents que le profil ne retenait pas",
                   '"{v}" is in {n} relevant notices the profile missed')
    return out


def _common(votes: list[Vote], features, keep, field: str, action: str, fr: str, en: str) -> list[Candidate]:
    counts: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for v in votes:
        for f in features(v.notice):
            if keep(f):
                counts[f] += 1
                where.setdefault(f, []).append(v.notice.id)
    best = sorted((f for f, n in counts.items() if n >= MIN_SUPPORT), key=lambda f: (-counts[f], f))[:MAX_PER_KIND]
    return [Candidate(field, action, f, tuple(where[f]), fr.format(v=f, n=counts[f]), en.format(v=f, n=counts[f]))
            for f in best]
