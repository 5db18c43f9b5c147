"""Read sureties, insurance, licences and other barriers from a notice's own words. Pure: no I/O.

The phrases live in rules/requirements.toml; this module knows numbers and how phrases combine:
- the text is folded (lower case, no accents, one whitespace per run) with a map back to the
  original, so every piece of evidence is a verbatim substring of the notice;
- hard negatives (product warranties, "assurance qualité", software licences...) are blanked first;
- a number (%, $, days, years) belongs to the nearest mention in its sentence (the one before it,
  else the one after), so in "pas de garantie de soumission, garantie d'exécution 5 %" the 5 % is
  the performance bond's; a number whose nearest mention cannot take it is dropped;
- a bond is "none" when a `none` phrase matches or a mention reads "… : Aucun" (none wins), else
  "required" when a `required` phrase matches or a mention carries a number, else "not_stated";
  an `unless` phrase (conditional wording) in the same sentence cancels a hit.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from text_to_num import text2num

from ..limits import MAX_EXTRACT
from ..rules.requirements import FLAGS, Group, RequirementRules, fold_text

__all__ = ["Requirements", "extract", "LABEL_KEYS", "parse_amount", "word_number"]

LABEL_KEYS = ("bid_bond", "bid_bond_percent", "bid_bond_amount", "bid_bond_forms", "bid_bond_valid_days",
              "performance_bond", "performance_bond_percent", "labour_materials_bond_percent",
              "insurance_liability_amount", "rbq_licence", "amp_authorisation", "revenu_quebec_attestation")


@dataclass(frozen=True)
class Requirements:
    """What a notice's text says a bidder must provide; `evidence` maps each found field to the
    exact words of the notice that say it."""

    bid_bond: str = "not_stated"  # required | none | not_stated
    bid_bond_percent: float | None = None
    bid_bond_amount: float | None = None
    bid_bond_forms: tuple[str, ...] = ()  # among rules.requirements.FORMS
    bid_bond_valid_days: int | None = None
    performance_bond: str = "not_stated"
    performance_bond_percent: float | None = None
    performance_bond_amount: float | None = None
    labour_materials_bond_percent: float | None = None
    insurance_liability_amount: float | None = None
    rbq_licence: bool = False
    amp_authorisation: bool = False
    revenu_quebec_attestation: bool = False
    min_experience_years: int | None = None
    site_visit_required: bool = False
    quality_price_weighting: bool = False
    # a requirement that applies only from a contract value ("… que pour les soumissions de plus de
    # 100 000 $"): field -> that value; the verdict applies it only when the value reaches it
    applies_from: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The label keys (as in the hand labels), the other fields, then evidence."""
        values = asdict(self)
        evidence = values.pop("evidence")
        values["applies_from"] = {k: int(v) if float(v).is_integer() else v for k, v in self.applies_from.items()}
        out = {k: values.pop(k) for k in LABEL_KEYS} | values
        out = {k: (list(v) if isinstance(v, tuple) else int(v) if isinstance(v, float) and v.is_integer() else v)
               for k, v in out.items()}
        return out | {"evidence": dict(evidence)}


# --- numbers ---------------------------------------------------------------------------------

# French number words ("vingt-cinq", "quatre-vingt-dix", "un million") are read by text2num; the
# regex only finds runs of number words, so offsets stay in the folded text. English: a small table.
_FR_TOKENS = ("un", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
              "treize", "quatorze", "quinze", "seize", "vingts?", "trente", "quarante", "cinquante", "soixante",
              "cents?", "mille", "millions?")
_EN_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "fifteen": 15, "twenty": 20,
             "thirty": 30, "sixty": 60, "ninety": 90}
_TOK = "|".join(sorted(_FR_TOKENS, key=len, reverse=True))
_W = (rf"(?<![a-z'-])(?:(?:{_TOK})(?:(?:-et-| et |[- ])(?:{_TOK}))*"
      rf"|{'|'.join(sorted(_EN_WORDS, key=len, reverse=True))})(?![a-z])")
_PCT_UNIT = r"(?:%|pour ?cent|pourcent|percent|per cent)"
_PERCENT = re.compile(
    rf"(?P<w>{_W}) ?{_PCT_UNIT}(?: ?\( ?\d+(?:[.,]\d+)? ?%? ?\))?"
    rf"|(?<![\d.,])(?P<d>\d{{1,3}}(?:[.,]\d+)?) ?{_PCT_UNIT}")
_COUNT = re.compile(
    rf"(?:(?P<w>{_W})(?: ?\( ?(?P<p>\d+) ?\))?|(?<![\d.,])(?P<d>\d{{1,4}})\)?) ?"
    r"(?P<unit>jours?|days?|ans?|annees?|years?)(?![a-z])")
_MONEY = re.compile(
    r"\$ ?(?P<en>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?: ?(?P<enm>millions?|m|k)(?![a-z]))?"
    r"|(?<![\d.,])(?P<fr>\d{1,3}(?:[ .,]\d{3})+(?:[,.]\d{1,2})?|\d+(?:[,.]\d{1,2})?) ?"
    r"(?P<frm>millions? de|millions?|m|k)? ?(?:\$|dollars|cad(?![a-z]))"
    rf"|(?P<w>{_W}) (?:de )?(?:\$|dollars)")


def word_number(words: str) -> float | None:
    """'vingt-cinq' -> 25, 'un million' -> 1000000, 'ten' -> 10; None when the run is not one number
    ("un six", or "un" alone before a noun is still 1: the caller only asks before a unit)."""
    if words in _EN_WORDS:
        return _EN_WORDS[words]
    try:
        return float(text2num(words.replace("-et-", " et "), "fr"))
    except ValueError:
        return None


def parse_amount(number: str, multiplier: str | None = None, english: bool = False) -> float:
    """'2 000 000,00' -> 2000000.0, '2,000,000' -> 2000000.0, '2,5' + 'm' -> 2500000.0.
    A separator followed by exactly three digits groups thousands; otherwise it is the decimal mark."""
    if english:
        value = float(number.replace(",", ""))
    else:
        grouped = re.sub(r"[ .,](?=\d{3}(?!\d))", "", number)
        value = float(grouped.replace(",", "."))
    if multiplier:
        value *= 1_000_000 if multiplier.startswith("m") else 1000
    return value


class _Value(NamedTuple):
    start: int
    end: int
    kind: str  # percent | money | days | years
    value: float


def _values(masked: str) -> list[_Value]:
    found = []
    for m in _PERCENT.finditer(masked):
        n = float(m["d"].replace(",", ".")) if m["d"] else word_number(m["w"])
        if n is not None:
            found.append(_Value(m.start(), m.end(), "percent", n))
    for m in _MONEY.finditer(masked):
        n = (word_number(m["w"]) if m["w"] else parse_amount(m["en"], m["enm"], True) if m["en"]
             else parse_amount(m["fr"], m["frm"]))
        if n is not None:
            found.append(_Value(m.start(), m.end(), "money", n))
    for m in _COUNT.finditer(masked):
        n = int(m["p"] or m["d"] or word_number(m["w"]) or 0)
        if n:
            found.append(_Value(m.start(), m.end(), "days" if m["unit"][0] in "jd" else "years", n))
    return sorted(found)


# Which numbers each group's mentions take, and the field each lands in.
_TAKES = {"bid_bond": {"percent": "bid_bond_percent", "money": "bid_bond_amount", "days": "bid_bond_valid_days"},
          "performance_bond": {"percent": "performance_bond_percent", "money": "performance_bond_amount"},
          "labour_materials_bond": {"percent": "labour_materials_bond_percent"},
          "insurance_liability": {"money": "insurance_liability_amount"},
          "min_experience": {"years": "min_experience_years"}}


# Flags whose name alone on a line is a section title, not a requirement ("Autorisation de contracter").
_PERMITS = ("rbq_licence", "amp_authorisation", "revenu_quebec_attestation")


# --- the document ----------------------------------------------------------------------------

class _Doc:
    """The notice folded, with hard negatives blanked, its sentences, and the way back to the original."""

    def __init__(self, text: str, rules: RequirementRules) -> None:
        self.text, self.rules = text, rules
        self.folded, self.origin = fold_text(text)
        chars = list(self.folded)
        for pattern in rules.negatives:
            for m in pattern.finditer(self.folded):
                chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
        self.masked = "".join(chars)
        cuts = [(m.start(), m.end()) for m in rules.sentence_end.finditer(fold_text(text, keep_case=True)[0])]
        self.cut_starts = [s for s, _ in cuts]
        self.cut_ends = [e for _, e in cuts]
        self.sentences = list(zip([0, *self.cut_ends], [*self.cut_starts, len(self.folded)]))

    def quote(self, start: int, end: int) -> str:
        """The original text behind folded [start, end)."""
        return self.text[self.origin[start]:self.origin[end - 1] + 1]

    def sentence_id(self, pos: int) -> int:
        return bisect_right(self.cut_ends, pos)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        i = bisect_right(self.cut_ends, start) - 1
        j = bisect_left(self.cut_starts, end)
        return (self.cut_ends[i] if i >= 0 else 0), (self.cut_starts[j] if j < len(self.cut_starts) else len(self.folded))

    def find(self, patterns: tuple[re.Pattern[str], ...]) -> list[re.Match[str]]:
        """Matches inside one sentence each, in text order (a quick whole-text search first)."""
        found = [m for p in patterns if p.search(self.masked)
                 for s, e in self.sentences for m in p.finditer(self.masked, s, e)]
        return sorted(found, key=lambda m: m.start())

    def vetoed(self, m: re.Match[str], group: Group) -> bool:
        """An `unless` phrase in the sentence of the hit (conditional or negated wording)."""
        s, e = self.sentence(m.start(), m.end())
        return any(p.search(self.masked, s, e) for p in group.unless)

    def heading(self, m: re.Match[str]) -> bool:
        """The hit is the whole of its line, a title ("Autorisation de contracter"), not a requirement."""
        s, e = self.sentence(m.start(), m.end())
        return not self.masked[s:m.start()].strip(" \n:-*") and not self.masked[m.end():e].strip(" \n:.-*")

    def thresholds(self, values: list["_Value"]) -> list[tuple["_Value", re.Match[str]]]:
        """Amounts a condition phrase puts right before ("pour les soumissions de plus de" 100 000 $):
        a contract value from which something applies, never a bond's or an insurance's amount."""
        out = []
        for m in self.find(self.rules.conditions):
            v = next((v for v in values if v.kind == "money" and m.end() <= v.start <= m.end() + 2), None)
            if v is not None:
                out.append((v, m))
        return out

    def says_none(self, m: re.Match[str]) -> re.Match[str] | None:
        return self.rules.none_after.match(self.masked, m.end())


class _Anchor(NamedTuple):
    start: int
    end: int
    group: str
    vetoed: bool


def _attach(doc: _Doc, anchors: list[_Anchor], values: list[_Value]) -> dict[str, tuple[_Value, _Anchor]]:
    """Give each number to the nearest mention of its sentence; keep the first number per field."""
    out: dict[str, tuple[_Value, _Anchor]] = {}
    window = doc.rules.window
    for v in values:
        inside = [a for a in anchors if a.start <= v.start and v.end <= a.end]
        same = [a for a in anchors if doc.sentence_id(a.start) == doc.sentence_id(v.start)]
        before = [a for a in same if a.end <= v.start and v.start - a.end <= window]
        after = [a for a in same if a.start >= v.end and a.start - v.end <= window]
        # nearest mention before, else after; a long `required` phrase around the number comes last
        best = sorted(before, key=lambda a: a.end)[-1:] or sorted(after, key=lambda a: a.start)[:1] or inside[:1]
        if not best or best[0].vetoed:
            continue
        a = best[0]
        name = _TAKES.get(a.group, {}).get(v.kind)
        if name is None or name in out:
            continue
        if v.kind == "days":  # a number of days counts only as the bond's validity period
            lo, hi = min(a.start, v.start), max(a.end, v.end)
            if not any(p.search(doc.masked, lo, hi) for p in doc.rules.groups[a.group].validity):
                continue
        out[name] = (v, a)
    return out


def extract(text: str, rules: RequirementRules) -> Requirements:
    """The requirements stated in `text` (a notice's description), each with its evidence. Only the
    first MAX_EXTRACT characters are read: a 1 MB text would cost tens of seconds in the patterns."""
    doc = _Doc(text[:MAX_EXTRACT], rules)
    groups = rules.groups
    evidence: dict[str, str] = {}
    result: dict[str, Any] = {}

    hits = {name: [m for m in doc.find(groups[name].required) if not doc.vetoed(m, groups[name])]
            for name in _TAKES}
    anchors = sorted({_Anchor(m.start(), m.end(), name, doc.vetoed(m, groups[name]))
                      for name in _TAKES for m in [*doc.find(groups[name].mention), *hits[name]]})
    values = _values(doc.masked)
    thresholds = doc.thresholds(values)
    values = [v for v in values if v not in {t for t, _ in thresholds}]
    attached = _attach(doc, anchors, values)

    for name in ("bid_bond", "performance_bond"):
        group = groups[name]
        nones = [(m.start(), m.end()) for m in doc.find(group.none)]
        nones += [(m.start(), w.end()) for m in doc.find(group.mention) if (w := doc.says_none(m))]
        numbers = [(min(v.start, a.start), max(v.end, a.end)) for v, a in attached.values() if a.group == name]
        stated = [(m.start(), m.end()) for m in hits[name]] + sorted(numbers)
        if nones:
            result[name] = "none"
            evidence[name] = doc.quote(*min(nones, key=lambda n: (n[0], -n[1])))  # first, longest
        elif stated:
            result[name] = "required"
            evidence[name] = doc.quote(*stated[0])

    for name, (v, a) in attached.items():
        owner = a.group
        if owner in ("bid_bond", "performance_bond") and result.get(owner) != "required":
            continue  # a bond's numbers only count when the bond is required
        result[name] = int(v.value) if v.kind in ("days", "years") else v.value
        evidence[name] = doc.quote(min(v.start, a.start), max(v.end, a.end))

    if result.get("bid_bond") == "required":
        spans = [doc.sentence(a.start, a.end) for a in anchors if a.group == "bid_bond" and not a.vetoed]
        found: dict[str, re.Match[str]] = {}
        for form, patterns in rules.forms:
            ms = [m for s, e in spans for p in patterns for m in [p.search(doc.masked, s, e)] if m]
            if ms:
                found[form] = min(ms, key=lambda m: m.start())
        if found:
            result["bid_bond_forms"] = tuple(found)
            first = min(found.values(), key=lambda m: m.start())
            evidence["bid_bond_forms"] = doc.quote(first.start(), first.end())

    for name in FLAGS:
        group = groups[name]
        ok = [m for m in doc.find(group.required)  # a title names a permit, a line "Visite obligatoire" asks it
              if not doc.vetoed(m, group) and not doc.says_none(m) and not (name in _PERMITS and doc.heading(m))]
        if ok:
            result[name] = True
            evidence[name] = doc.quote(ok[0].start(), ok[0].end())

    applies_from = {}
    for v, m in thresholds:  # the condition holds for what its sentence requires
        sid = doc.sentence_id(m.start())
        spans = [(a.start, a.group) for a in anchors if not a.vetoed]
        spans += [(h.start(), name) for name in FLAGS for h in doc.find(groups[name].required)]
        for start, name in spans:
            if doc.sentence_id(start) == sid and result.get(name) in ("required", True) and name not in applies_from:
                applies_from[name] = v.value
                evidence[f"applies_from.{name}"] = doc.quote(m.start(), v.end)
    return Requirements(**result, applies_from=applies_from, evidence=evidence)
