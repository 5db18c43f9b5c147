"""Matching: pure functions from (notice, enterprise) to a scored, reasoned Match. No I/O here.

A notice matches an enterprise when it asks for what the enterprise sells, read where a notice says
so (match/evidence.py: the title's head, the description's object statement, never boilerplate), as
phrases of terms (watcher/text.py: inflection, accents, ligatures and elisions do not matter); or by
an UNSPSC code of the profile, as a hierarchy (the code itself or below it; its parent one level up
counts less and is said); a SEAO category alone counts only for a profile that declares no keyword
and no UNSPSC, since categories such as S9 are very broad. What the enterprise sells (goods,
services, construction: `sells`, when the profile says) must be what the notice buys when the
source says it. Nothing excluded may appear; the notice must be delivered in one of the
enterprise's regions, its value fit the enterprise's range and its procurement method be one the
enterprise accepts. An unknown region is never a pass: such a notice goes "to check" (level
"check"), with the question to ask, and so does one whose only evidence of trade is weak.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..codes import METHOD_LABELS, REGIONS
from ..models import Enterprise, Match, Notice, Reason
from ..text import terms
from .evidence import NoticeText, find, read_notice
from .text import Phrase, normalize

__all__ = ["Profile", "as_profile", "capability", "capability_level", "compile_profile", "match_notice", "match_notice_scored", "match_all", "notice_text", "region_check",
           "NATURE_LABELS", "MATCHER_VERSION"]

NATURE_LABELS = {"goods": ("des biens", "goods"), "services": ("des services", "services"),
                 "construction": ("des travaux de construction", "construction work")}


def _code_version() -> str:
    """Stored verdicts are kept while profiles and rules do not change; a new version of the matcher
    must re-judge them too. The hash of its source files says when, without anyone remembering to."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), here.parent / "text.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


MATCHER_VERSION = _code_version()
WHOLE_QUEBEC = frozenset({"QC", "CA"})  # all of Québec, all of Canada: every Québec region is served


@dataclass(frozen=True)
class Profile:
    """An enterprise with its keywords compiled once (matching runs over thousands of notices)."""

    enterprise: Enterprise
    keywords: tuple[Phrase, ...]
    exclude: tuple[Phrase, ...]
    categories: frozenset[str]
    regions: frozenset[str] | None  # None = anywhere in Québec
    unspsc: tuple[str, ...] = ()  # codes without their trailing "00" levels: "76111500" -> "761115"
    sells: frozenset[str] | None = None  # goods / services / construction; None = any
    vocabulary: frozenset[str] = frozenset()  # every term of its keywords
    scheme_codes: tuple[tuple[str, str], ...] = ()  # (SCHEME, prefix) of other classification schemes


@lru_cache(maxsize=65_536)
def _code(code: str) -> str:
    """An UNSPSC code cut to its meaningful levels: "76111500" -> "761115", "9010" -> "9010".
    Cached: a digest run cuts each notice's codes for each of its candidate enterprises."""
    code = "".join(ch for ch in code if ch.isdigit())[:8]
    while len(code) > 2 and code.endswith("00") and len(code) % 2 == 0:
        code = code[:-2]
    return code


def as_profile(enterprise: Enterprise | Profile) -> Profile:
    """The profile compiled, unless it already is (a run compiles each once: Judge.profiles)."""
    return enterprise if isinstance(enterprise, Profile) else compile_profile(enterprise)


def compile_profile(enterprise: Enterprise) -> Profile:
    regions = None if "*" in enterprise.regions or not enterprise.regions else frozenset(enterprise.regions)
    return Profile(
        enterprise=enterprise,
        keywords=tuple({p.norm: p for p in reversed([Phrase(k) for k in enterprise.keywords])}.values())[::-1],
        exclude=tuple(Phrase(k) for k in enterprise.exclude),
        categories=frozenset(c.upper() for c in enterprise.categories),
        regions=regions,
        unspsc=tuple(_code(c) for c in enterprise.unspsc),
        sells=frozenset(enterprise.sells) or None,
        vocabulary=frozenset(t for k in enterprise.keywords for t in terms(k.rstrip("*"))),
        scheme_codes=tuple((c.split(":", 1)[0].upper(), c.split(":", 1)[1].upper()) for c in enterprise.codes if ":" in c),
    )


def notice_text(notice: Notice, texts: dict[tuple[str, str], NoticeText] | None = None) -> NoticeText:
    """The notice's words as the matcher reads them (title structure, description's object statement).
    `texts`: a run's memo (by title and description), so that a notice read for the leads of
    thousands of enterprises is read once (issue 16)."""
    if texts is None:
        return read_notice(notice.title, notice.description)
    key = (notice.title, notice.description)
    found = texts.get(key)
    if found is None:
        found = texts[key] = read_notice(notice.title, notice.description)
    return found


def _money(value: float) -> str:
    return f"{value:,.0f} $".replace(",", " ")


def _where(hit_where: str) -> tuple[str, str]:
    return {"title": ("titre", "title"), "title_detail": ("titre, en complément", "title, as a detail"),
            "description": ("description", "description")}[hit_where]


def _code_label(profile_code: str, notice_code: str, lang: str) -> str:
    if ":" in profile_code:  # another scheme: "CPV:9091"
        return profile_code
    if _code(notice_code).startswith(_code(profile_code)):
        return f"UNSPSC {profile_code}"
    return f"UNSPSC {profile_code} ({'code parent' if lang == 'fr' else 'parent code'} {notice_code})"


def unspsc_hits(profile: Profile, notice: Notice) -> list[tuple[str, str, float]]:
    """(profile code, notice code, weight): the code itself or below it 0.5 (a longer shared prefix
    a little more); the notice's code one level above the profile's 0.3 (a notice coded "building
    cleaning" 76111500 for a profile of "office cleaning" 76111501). Codes of other schemes the
    profile names ("CPV:9091", "GSIN:N7050") match by prefix within their scheme, weight 0.45."""
    out = []
    for scheme, prefix in profile.scheme_codes:
        for c in notice.codes:
            if c.scheme.upper() == scheme and c.code.upper().startswith(prefix):
                out.append((f"{scheme}:{prefix}", f"{scheme}:{c.code}", 0.45))
    for raw in notice.unspsc:
        n = _code(raw)
        for p, written in zip(profile.unspsc, profile.enterprise.unspsc):
            if not p or not n:
                continue
            if n.startswith(p):
                out.append((written, raw, 0.4 + 0.1 * min(1.0, len(p) / 8)))
            elif p.startswith(n) and len(p) - len(n) == 2:
                out.append((written, raw, 0.3))
    return out


@dataclass(frozen=True)
class _Evidence:
    """What the capability test found, and its outcome, before any reason is worded: a history pass
    asks only the outcome, for a million pairs."""

    outcome: str  # "ok", "weak" (to check), or why not: "other_trade", "code_only", "nature", "description", "category", "none"
    score: float
    hits: list
    codes: list
    cat_hits: list


def _evidence(notice: Notice, profile: Profile, text: NoticeText) -> _Evidence:
    ent = profile.enterprise
    hits = find(text, profile.keywords)
    codes = unspsc_hits(profile, notice) if notice.unspsc or notice.codes else []
    cat_hits = list(profile.categories.intersection(notice.categories)) if notice.categories else []
    category_only_profile = not ent.keywords and not ent.unspsc and not ent.codes
    desc_hits = sum(h.where == "description" for h in hits) if hits else 0
    title_hits = len(hits) > desc_hits
    if text.other_trade and not title_hits and ent.keywords:  # a profile of codes or categories only has no words to compare
        # The title asks for another trade's work (construction, snow removal…): codes or words of
        # the description do not make it ours.
        return _Evidence("other_trade", 0.0, hits, codes, cat_hits)
    shares_words = not text.head_terms.isdisjoint(profile.vocabulary)  # « Contrat d'entretien » and « entretien ménager »
    if not hits and (codes or cat_hits) and text.informative and profile.keywords and not shares_words:
        # A code alone, while the title says in words what is bought and none of them is the profile's
        # words: the code was chosen wide (on the dev labels, 13 of 18 such pairs were another trade).
        return _Evidence("code_only", 0.0, hits, codes, cat_hits)
    capable = bool(title_hits or desc_hits >= 2 or codes or (cat_hits and category_only_profile))
    nature = notice.nature if notice.nature in NATURE_LABELS else None
    if capable and nature and profile.sells is not None and nature not in profile.sells:
        return _Evidence("nature", 0.0, hits, codes, cat_hits)
    if capable:
        # Strong: the title says it; or the profile speaks in codes only and the notice has its code
        # (not only the parent); or the category of a category-only profile. A code or a description
        # alone for a profile that has words is weak: to check.
        weak = not (title_hits or desc_hits >= 2
                    or not ent.keywords and codes
                    or shares_words and any(w >= 0.4 for *_, w in codes)
                    or cat_hits and category_only_profile)
        score = 0.0
        if title_hits:
            title_weights = [h.weight for h in hits if h.where != "description"]
            score += min(0.7, 0.5 * max(title_weights) + 0.1 * (len(title_weights) - 1) + 0.1)
        score += min(0.3, 0.15 * desc_hits)
        if codes:
            score += max(w for *_, w in codes) * 0.5
        if cat_hits:
            score += 0.2 if category_only_profile else 0.05
        return _Evidence("weak" if weak else "ok", min(1.0, score), hits, codes, cat_hits)
    return _Evidence("description" if desc_hits else "category" if cat_hits else "none", 0.0, hits, codes, cat_hits)


def capability_level(notice: Notice, profile: Profile, text: str | None = None) -> str:
    """The capability reason's level without its wording: "" (sure), "check" (weak evidence) or "no"."""
    text = text if isinstance(text, NoticeText) else notice_text(notice)
    outcome = _evidence(notice, profile, text).outcome
    return "" if outcome == "ok" else "check" if outcome == "weak" else "no"


def capability(notice: Notice, profile: Profile, text: str | None = None) -> tuple[float, Reason]:
    """Does the notice ask for what the enterprise sells? Score 0..1 from the evidence, and the reason.

    The reason's level is "check" when the only evidence is weak (a parent code, a description)."""
    text = text if isinstance(text, NoticeText) else notice_text(notice)
    ev = _evidence(notice, profile, text)
    hits, codes, cat_hits = ev.hits, ev.codes, sorted(ev.cat_hits)
    found = [f"« {h.phrase} » ({_where(h.where)[0]})" for h in hits] + \
        [_code_label(p, n, "fr") for p, n, _ in codes] + \
        [f"catégorie {c}" for c in cat_hits]
    found_en = [f'"{h.phrase}" ({_where(h.where)[1]})' for h in hits] + \
        [_code_label(p, n, "en") for p, n, _ in codes] + \
        [f"category {c}" for c in cat_hits]
    if ev.outcome == "other_trade":
        another = sorted(set(text.other_trade))
        return 0.0, Reason("capability", False, "l'avis demande d'abord un autre métier : « " + " ".join(another) + " »",
                           "the notice first asks for another trade's work: \"" + " ".join(another) + "\"",
                           level="no")
    if ev.outcome == "code_only":
        words_fr = " ".join(text.head_words)
        return 0.0, Reason("capability", False, f"code {', '.join(found)} seulement ; le titre demande « {words_fr} »",
                           f"code {', '.join(found_en)} only; the title asks for \"{words_fr}\"", level="no")
    if ev.outcome == "nature":
        nature = notice.nature
        sold = ", ".join(NATURE_LABELS[s][0] for s in sorted(profile.sells) if s in NATURE_LABELS)
        sold_en = ", ".join(NATURE_LABELS[s][1] for s in sorted(profile.sells) if s in NATURE_LABELS)
        return 0.0, Reason("capability", False, f"l'avis achète {NATURE_LABELS[nature][0]}, vous vendez {sold} ({', '.join(found)})",
                           f"the notice buys {NATURE_LABELS[nature][1]}, you sell {sold_en} ({', '.join(found_en)})", level="no")
    if ev.outcome in ("ok", "weak"):
        weak = ev.outcome == "weak"
        return ev.score, Reason("capability", not weak, "correspond : " + ", ".join(found) +
                                (" — indice faible, à vérifier" if weak else ""),
                                "matches: " + ", ".join(found_en) + (" — weak evidence, to check" if weak else ""),
                                level="check" if weak else "")
    if ev.outcome == "description":
        desc = next(h for h in hits if h.where == "description")
        return 0.0, Reason("capability", False, f"« {desc.phrase} » dans la description seulement, pas dans l'objet",
                           f'"{desc.phrase}" in the description only, not in what is bought', level="no")
    if ev.outcome == "category":
        return 0.0, Reason("capability", False, f"catégorie {', '.join(cat_hits)} seulement, aucun mot-clé ni code UNSPSC",
                           f"category {', '.join(cat_hits)} only, no keyword or UNSPSC code", level="no")
    return 0.0, Reason("capability", False, "aucun mot-clé, code UNSPSC ni catégorie du profil",
                       "no keyword, UNSPSC code or category of the profile", level="no")


def region_check(notice: Notice, profile: Profile) -> Reason:
    """Delivered where the enterprise works? Unknown is a question to ask, never a pass."""
    regions = tuple(notice.regions)
    quebec = [r for r in regions if r in REGIONS]
    whole = [r for r in regions if r in WHOLE_QUEBEC]
    if not regions:
        return Reason("region", False, "région de livraison non précisée : à vérifier", "delivery region not stated: to check",
                      level="check")
    if not quebec and not whole:
        return Reason("region", False, "livré hors Québec : " + ", ".join(regions), "delivered outside Québec: " + ", ".join(regions),
                      level="no")
    if profile.regions is None:
        return Reason("region", True, "toutes régions", "any region")
    if whole:
        label = "tout le Québec" if "QC" in whole else "tout le Canada"
        return Reason("region", True, f"{label}, vos régions comprises", f"{'all of Québec' if 'QC' in whole else 'all of Canada'}, "
                      "your regions included")
    common = sorted(profile.regions.intersection(quebec))
    names = ", ".join(REGIONS.get(r, r) for r in (common or quebec))
    if common:
        return Reason("region", True, "dans votre région : " + names, "in your region: " + names)
    return Reason("region", False, "hors de vos régions : " + names, "outside your regions: " + names, level="no")


def match_notice(notice: Notice, profile: Profile | Enterprise, text: str | None = None) -> Match:
    """Judge one notice for one enterprise, with one reason per criterion."""
    return match_notice_scored(notice, profile, text)[0]


def match_notice_scored(notice: Notice, profile: Profile | Enterprise, text: str | None = None) -> tuple[Match, float]:
    """match_notice, and the capability score it rests on (0..1, whatever the verdict): the verdict
    weighs it, and computing the capability evidence again was a second test of every judged pair."""
    if isinstance(profile, Enterprise):
        profile = compile_profile(profile)
    ent = profile.enterprise
    text = text if isinstance(text, NoticeText) else notice_text(notice)
    score, cap_reason = capability(notice, profile, text)
    capable = cap_reason.ok or cap_reason.level == "check"
    reasons: list[Reason] = [cap_reason]

    excluded = [p.raw for p in profile.exclude if p.found_in(text)]
    if excluded:
        reasons.append(Reason("exclude", False, "exclu : " + ", ".join(f"« {e} »" for e in excluded),
                              "excluded: " + ", ".join(f'"{e}"' for e in excluded), level="no"))

    region = region_check(notice, profile)
    region_ok = region.ok or region.level == "check"
    reasons.append(region)

    # Value vs capacity.
    value = notice.value
    value_ok = True
    if value is None:
        reasons.append(Reason("value", True, "valeur inconnue", "value unknown"))
    elif ent.max_value is not None and value > ent.max_value:
        value_ok = False
        reasons.append(Reason("value", False, f"{_money(value)} dépasse votre capacité ({_money(ent.max_value)})",
                              f"{_money(value)} is above your capacity ({_money(ent.max_value)})"))
    elif ent.min_value is not None and value < ent.min_value:
        value_ok = False
        reasons.append(Reason("value", False, f"{_money(value)} sous votre minimum ({_money(ent.min_value)})",
                              f"{_money(value)} is below your minimum ({_money(ent.min_value)})"))
    else:
        reasons.append(Reason("value", True, f"{_money(value)} dans votre capacité", f"{_money(value)} within your capacity"))

    # Procurement method.
    method_ok = notice.method in ent.methods
    label = METHOD_LABELS.get(notice.method, METHOD_LABELS["other"])
    reasons.append(Reason("method", method_ok, ("mode accepté : " if method_ok else "mode non retenu : ") + label["fr"],
                          ("accepted method: " if method_ok else "method not accepted: ") + label["en"]))

    ok = capable and not excluded and region_ok and value_ok and method_ok
    return Match(notice.id, ent.id, round(min(1.0, score), 3) if ok else 0.0, "match" if ok else "no", tuple(reasons)), score


def match_all(notices: Iterable[Notice], enterprises: Iterable[Enterprise], only_matches: bool = True) -> Iterator[tuple[Notice, Match]]:
    """Every (notice, match) pair; each notice's text is normalised once for all profiles."""
    profiles = [compile_profile(e) for e in enterprises]
    for notice in notices:
        text = notice_text(notice)
        for profile in profiles:
            m = match_notice(notice, profile, text)
            if m.is_match or not only_matches:
                yield notice, m
