"""Matching: pure functions from (notice, enterprise) to a scored, reasoned Match. No I/O here.

A notice matches an enterprise when it asks for what the enterprise sells (a keyword or an
UNSPSC prefix; a SEAO category alone counts only for a profile that declares no keyword and no
UNSPSC, since categories such as S9 are very broad), nothing excluded appears, it is delivered
in one of the enterprise's regions, its value fits the enterprise's range and its procurement
method is one the enterprise accepts. Unknown region or value does not exclude: it is said.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..codes import METHOD_LABELS, REGIONS
from ..models import Enterprise, Match, Notice, Reason
from .text import Phrase, normalize

__all__ = ["Profile", "capability", "compile_profile", "match_notice", "match_all", "notice_text"]


@dataclass(frozen=True)
class Profile:
    """An enterprise with its keywords compiled once (matching runs over thousands of notices)."""

    enterprise: Enterprise
    keywords: tuple[Phrase, ...]
    exclude: tuple[Phrase, ...]
    categories: frozenset[str]
    regions: frozenset[str] | None  # None = anywhere


def compile_profile(enterprise: Enterprise) -> Profile:
    regions = None if "*" in enterprise.regions or not enterprise.regions else frozenset(enterprise.regions)
    return Profile(
        enterprise=enterprise,
        keywords=tuple(Phrase(k) for k in enterprise.keywords),
        exclude=tuple(Phrase(k) for k in enterprise.exclude),
        categories=frozenset(c.upper() for c in enterprise.categories),
        regions=regions,
    )


def notice_text(notice: Notice) -> str:
    """The normalised text keywords are searched in."""
    return normalize(f"{notice.title} {notice.description}")


def _money(value: float) -> str:
    return f"{value:,.0f} $".replace(",", " ")


def capability(notice: Notice, profile: Profile, text: str) -> tuple[float, Reason]:
    """Does the notice ask for what the enterprise sells? Score 0..1 from the evidence, and the reason."""
    ent = profile.enterprise
    hits = [p.raw for p in profile.keywords if p.found_in(text)]
    unspsc_hits = [p for p in ent.unspsc for code in notice.unspsc if code.startswith(p)]
    cat_hits = sorted(profile.categories.intersection(notice.categories))
    score = 0.0
    if hits:
        score += min(0.7, 0.5 + 0.1 * (len(hits) - 1))
    if unspsc_hits:
        score += 0.2 + 0.1 * min(1.0, max(len(p) for p in unspsc_hits) / 8)
    if cat_hits:
        score += 0.2
    category_only_profile = not ent.keywords and not ent.unspsc
    capable = bool(hits or unspsc_hits or (cat_hits and category_only_profile))
    found = [f"« {h} »" for h in hits] + [f"UNSPSC {p}" for p in unspsc_hits] + [f"catégorie {c}" for c in cat_hits]
    found_en = [f'"{h}"' for h in hits] + [f"UNSPSC {p}" for p in unspsc_hits] + [f"category {c}" for c in cat_hits]
    if capable:
        return min(1.0, score), Reason("capability", True, "correspond : " + ", ".join(found), "matches: " + ", ".join(found_en))
    if cat_hits:
        return 0.0, Reason("capability", False, f"catégorie {', '.join(cat_hits)} seulement, aucun mot-clé ni code UNSPSC",
                           f"category {', '.join(cat_hits)} only, no keyword or UNSPSC code")
    return 0.0, Reason("capability", False, "aucun mot-clé, code UNSPSC ni catégorie du profil",
                       "no keyword, UNSPSC code or category of the profile")


def match_notice(notice: Notice, profile: Profile | Enterprise, text: str | None = None) -> Match:
    """Judge one notice for one enterprise, with one reason per criterion."""
    if isinstance(profile, Enterprise):
        profile = compile_profile(profile)
    ent = profile.enterprise
    text = notice_text(notice) if text is None else text
    score, cap_reason = capability(notice, profile, text)
    capable = cap_reason.ok
    reasons: list[Reason] = [cap_reason]

    excluded = [p.raw for p in profile.exclude if p.found_in(text)]
    if excluded:
        reasons.append(Reason("exclude", False, "exclu : " + ", ".join(f"« {e} »" for e in excluded),
                              "excluded: " + ", ".join(f'"{e}"' for e in excluded)))

    # Region.
    if profile.regions is None:
        region_ok = True
        reasons.append(Reason("region", True, "toutes régions", "any region"))
    elif not notice.regions:
        region_ok = True
        reasons.append(Reason("region", True, "région non précisée", "region not stated"))
    else:
        common = sorted(profile.regions.intersection(notice.regions))
        region_ok = bool(common)
        names = ", ".join(REGIONS.get(r, r) for r in (common or notice.regions))
        reasons.append(Reason("region", region_ok, ("dans votre région : " if common else "hors de vos régions : ") + names,
                              ("in your region: " if common else "outside your regions: ") + names))

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
    return Match(notice.id, ent.id, round(min(1.0, score), 3) if ok else 0.0, "match" if ok else "no", tuple(reasons))


def match_all(notices: Iterable[Notice], enterprises: Iterable[Enterprise], only_matches: bool = True) -> Iterator[tuple[Notice, Match]]:
    """Every (notice, match) pair; each notice's text is normalised once for all profiles."""
    profiles = [compile_profile(e) for e in enterprises]
    for notice in notices:
        text = notice_text(notice)
        for profile in profiles:
            m = match_notice(notice, profile, text)
            if m.is_match or not only_matches:
                yield notice, m
