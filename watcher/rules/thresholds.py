"""rules/thresholds.toml: dated procurement thresholds by buyer type, and the pure look-ups on them.

Coordinators add a dated row each year instead of a code change; a notice is judged with the
row in force on its publication date (a 2018 notice with the 2018 threshold).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..errors import RuleError, RuleErrors
from ..models import Notice
from ..tomlpos import array_row_line, key_line

BUYERS = ("municipal", "provincial", "health", "education", "federal")
NATURES = ("goods", "services", "construction")

_HEALTH = re.compile(r"\b(CISSS|CIUSSS|CHU|CHUM|hôpital|hopital|santé|sante|centre intégré|centre integre)\b", re.I)
_EDUCATION = re.compile(r"\b(commission scolaire|centre de services scolaire|cégep|cegep|collège|college|université|universite|école|ecole)\b", re.I)


@dataclass(frozen=True)
class PublicTender:
    buyer: str
    natures: tuple[str, ...]
    since: date
    amount: float
    source: str


@dataclass(frozen=True)
class Thresholds:
    gre_a_gre_below: float
    public_tender: tuple[PublicTender, ...]
    aliases: dict[str, str]
    revenu_quebec_from: float
    amp_services_from: float
    amp_construction_from: float
    bid_bond_lcop_construction_from: float

    def public_threshold(self, buyer: str, nature: str, on: date) -> PublicTender | None:
        """The public-tender threshold in force on `on` for this buyer type and nature (None if none is known)."""
        buyer = self.aliases.get(buyer, buyer)
        rows = [r for r in self.public_tender if r.buyer == buyer and nature in r.natures and r.since <= on]
        return max(rows, key=lambda r: r.since) if rows else None

    def value_range(self, method: str, buyer: str, nature: str, on: date) -> tuple[float | None, float | None]:
        """What the procurement method implies about the value: (low, high), None = open-ended."""
        row = self.public_threshold(buyer, nature, on)
        if method == "gre_a_gre":
            return None, self.gre_a_gre_below
        if method == "invitation":
            return self.gre_a_gre_below, row.amount if row else None
        if method == "public":
            return (row.amount if row else None), None
        return None, None


def buyer_type(notice: Notice) -> str:
    """municipal, health, education, provincial (other LCOP bodies) or federal, from what the source says."""
    if notice.source == "canadabuys":
        return "federal"
    if notice.municipal:
        return "municipal"
    if _HEALTH.search(notice.buyer_name):
        return "health"
    if _EDUCATION.search(notice.buyer_name):
        return "education"
    return "provincial"


def load_thresholds(path: Path) -> Thresholds:
    """Read and check thresholds.toml; every problem is reported at once with file:line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleErrors([RuleError(str(path), None, None, f"fichier illisible / cannot read file: {exc.strerror or exc}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RuleErrors([RuleError(str(path), int(m.group(1)) if m else None, None, f"TOML invalide / invalid TOML: {exc}")]) from exc
    errors: list[RuleError] = []

    def err(dotted: str, fr: str, en: str, nth: int = 0) -> None:
        table, _, key = dotted.partition(".")
        line = array_row_line(text, table, nth, key) if table == "public_tender" else key_line(text, dotted)
        errors.append(RuleError(str(path), line, dotted, f"{fr} / {en}"))

    def number(table: str, key: str, where: dict[str, Any], nth: int = 0) -> float:
        value = where.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            err(f"{table}.{key}", "montant positif requis", "a positive amount is required", nth)
            return 0.0
        return float(value)

    allowed = {"gre_a_gre": {"below"}, "public_tender": None, "aliases": None,
               "revenu_quebec": {"from_amount", "source"}, "amp": {"services_from", "construction_from", "source"},
               "bid_bond": {"lcop_construction_from", "source"}}
    for table, value in data.items():
        if table not in allowed:
            err(table, "table inconnue", f"unknown table (allowed: {', '.join(allowed)})")
        elif allowed[table] is not None:
            for key in set(value) - allowed[table]:
                err(f"{table}.{key}", "clé inconnue", f"unknown key (allowed: {', '.join(sorted(allowed[table]))})")

    rows = []
    for i, row in enumerate(data.get("public_tender", [])):
        unknown = set(row) - {"buyer", "natures", "since", "amount", "source"}
        for key in unknown:
            err(f"public_tender.{key}", "clé inconnue", "unknown key (allowed: amount, buyer, natures, since, source)")
        if row.get("buyer") not in BUYERS:
            err("public_tender.buyer", f"acheteur inconnu « {row.get('buyer')} »", f"unknown buyer (allowed: {', '.join(BUYERS)})", i)
        natures = row.get("natures", [])
        if not isinstance(natures, list) or not natures or any(n not in NATURES for n in natures):
            err("public_tender.natures", "natures invalides", f"invalid natures (allowed: {', '.join(NATURES)})", i)
        since = row.get("since")
        if not isinstance(since, date) or isinstance(since, datetime):
            err("public_tender.since", "date requise (AAAA-MM-JJ, sans guillemets)", "a date is required (YYYY-MM-DD, unquoted)", i)
        if not row.get("source"):
            err("public_tender.source", "citez la source de la valeur", "cite the source of the value", i)
        amount = number("public_tender", "amount", row, i)
        if isinstance(since, date) and row.get("buyer") in BUYERS:
            rows.append(PublicTender(row["buyer"], tuple(natures), since, amount, row.get("source", "")))
    aliases = data.get("aliases", {})
    for key, target in aliases.items():
        if key not in BUYERS or target not in BUYERS:
            err(f"aliases.{key}", "alias invalide", f"invalid alias (allowed buyer types: {', '.join(BUYERS)})")
    result = Thresholds(
        gre_a_gre_below=number("gre_a_gre", "below", data.get("gre_a_gre", {})),
        public_tender=tuple(rows),
        aliases=dict(aliases),
        revenu_quebec_from=number("revenu_quebec", "from_amount", data.get("revenu_quebec", {})),
        amp_services_from=number("amp", "services_from", data.get("amp", {})),
        amp_construction_from=number("amp", "construction_from", data.get("amp", {})),
        bid_bond_lcop_construction_from=number("bid_bond", "lcop_construction_from", data.get("bid_bond", {})),
    )
    if errors:
        raise RuleErrors(errors)
    return result
