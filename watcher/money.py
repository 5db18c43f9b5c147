"""Money with its currency: amounts are compared with an enterprise's capacity (in CAD) only through
a stated, dated conversion rate from the coordinators' `rules/rates.toml`; without one the value is
unknown for judging, never silently taken as dollars. Pure functions; the file is read by
`load_rates` (file:line errors like the other rule files).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .errors import RuleError, RuleErrors
from .tomlpos import array_row_line

BASE = "CAD"
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Rate:
    """1 unit of `currency` is worth `cad` Canadian dollars, from `since` on (until a later row)."""

    currency: str
    since: date
    cad: float
    source: str


@dataclass(frozen=True)
class Rates:
    rows: tuple[Rate, ...] = ()

    def rate(self, currency: str, on: date | None) -> Rate | None:
        """The row in force on `on` (the latest row when `on` is None); None before the first row."""
        rows = sorted((r for r in self.rows if r.currency == currency), key=lambda r: r.since)
        if not rows:
            return None
        current = [r for r in rows if on is None or r.since <= on]
        return current[-1] if current else None


def convert(value: float | None, currency: str | None, rates: Rates | None, to: str = BASE,
            on: date | None = None) -> float | None:
    """`value` in `currency` expressed in `to` (CAD), or None when it cannot be said: no value, no
    currency stated, or no rate for that currency in the table."""
    if value is None:
        return None
    currency = (currency or "").upper()
    if currency == to:
        return value
    if not currency or to != BASE or rates is None:
        return None
    rate = rates.rate(currency, on)
    return None if rate is None else value * rate.cad


def load_rates(path: Path) -> Rates:
    """rules/rates.toml: `[[rate]]` rows (currency, since, cad, source). A missing file is no rates."""
    path = Path(path)
    if not path.exists():
        return Rates()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RuleErrors([RuleError(str(path), int(m[1]) if m else None, None, f"TOML invalide / invalid TOML: {exc}")]) from exc
    errors: list[RuleError] = []

    def err(i: int, key: str, message: str) -> None:
        errors.append(RuleError(str(path), array_row_line(text, "rate", i, key), f"rate.{key}", message))

    for table in set(data) - {"rate"}:
        errors.append(RuleError(str(path), None, table, "table inconnue / unknown table (allowed: rate)"))
    rows = []
    for i, row in enumerate(data.get("rate", [])):
        for key in set(row) - {"currency", "since", "cad", "source"}:
            err(i, key, "clé inconnue / unknown key (allowed: cad, currency, since, source)")
        currency, since, cad = row.get("currency"), row.get("since"), row.get("cad")
        if not isinstance(currency, str) or not _CODE.match(currency) or currency == BASE:
            err(i, "currency", "code ISO 4217 requis, autre que CAD / an ISO 4217 code other than CAD is required (e.g. USD)")
        if not isinstance(since, date) or isinstance(since, datetime):
            err(i, "since", "date requise (AAAA-MM-JJ, sans guillemets) / a date is required (YYYY-MM-DD, unquoted)")
        if not isinstance(cad, (int, float)) or isinstance(cad, bool) or cad <= 0:
            err(i, "cad", "taux positif requis (CAD pour 1 unité) / a positive rate is required (CAD for 1 unit)")
        if not row.get("source"):
            err(i, "source", "citez la source du taux / cite the source of the rate")
        if not errors:
            rows.append(Rate(currency, since, float(cad), str(row["source"])))
    if errors:
        raise RuleErrors(errors)
    return Rates(tuple(rows))
