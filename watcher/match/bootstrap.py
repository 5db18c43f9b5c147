"""Draft profiles for many enterprises at once: a hub's list of NEQs in, one rule file each out.

A coordinator joining the watch brings a spreadsheet of its members' NEQs. Each gets the draft
`suggest` writes for one, from one reading of the award history, with an id unique in the run and
against the ids already taken (the rules folder, the output folder). Pure: texts in, texts out.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..models import Notice
from .suggest import suggest_profiles, to_toml

__all__ = ["Draft", "drafts", "read_neqs", "slug", "unique_id"]

_NEQ = re.compile(r"\d{10}")


def slug(name: str) -> str:
    """'Coop d'entretien de l'Est inc.' -> 'coop-d-entretien-de-l-est-inc' (a valid profile id)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].strip("-") or "entreprise"


def unique_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`... the first not in `taken` (which it joins)."""
    out, n = wanted, 1
    while out in taken:
        n += 1
        out = f"{wanted}-{n}"
    taken.add(out)
    return out


def read_neqs(text: str, name: str = "csv") -> list[tuple[str, str | None]]:
    """(NEQ, wanted id or None) from a CSV: a `neq` column (and an optional `id` column) when the first
    row names it, else the first column. A value that is not 10 digits is an error naming the line;
    a NEQ given twice is kept once."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=_delimiter(text)))
    header = [c.strip().casefold() for c in rows[0]] if rows else []
    col, id_col, start = 0, None, 0
    if "neq" in header:
        col, start = header.index("neq"), 1
        id_col = header.index("id") if "id" in header else None
    out: dict[str, str | None] = {}
    errors = []
    for line, row in enumerate(rows[start:], start + 1):
        if not row or not any(c.strip() for c in row):
            continue
        value = re.sub(r"[\s-]", "", row[col] if col < len(row) else "")
        if not _NEQ.fullmatch(value):
            errors.append(f"{name}:{line}: neq: {value or '(vide / empty)'!s} n'est pas un NEQ de 10 chiffres / is not a 10-digit NEQ")
            continue
        wanted = row[id_col].strip() if id_col is not None and id_col < len(row) and row[id_col].strip() else None
        out.setdefault(value, wanted)
    if errors:
        raise ValueError("\n".join(errors))
    return list(out.items())


def _delimiter(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


@dataclass(frozen=True)
class Draft:
    """One enterprise's draft rule file, or why there is none."""

    neq: str
    id: str | None
    text: str | None  # the rule file, None when nothing can be suggested
    bids: int
    wins: int
    problem: str | None = None


def drafts(history: Iterable[Notice], neqs: Iterable[tuple[str, str | None]], until: date | None = None,
           taken: Iterable[str] = ()) -> list[Draft]:
    """A draft per NEQ from one reading of `history`; ids unique among themselves and `taken`."""
    wanted = list(neqs)
    profiles = suggest_profiles(history, [n for n, _ in wanted], until)
    used = set(taken)
    out = []
    for neq, asked in wanted:
        p = profiles[neq]
        if not p.bids:
            out.append(Draft(neq, None, None, 0, 0, "aucune soumission dans l'historique / no bid in the stored history"))
            continue
        ident = unique_id(slug(asked or p.name or neq), used)
        try:
            text = to_toml(p, ident)
        except ValueError as exc:
            used.discard(ident)
            out.append(Draft(neq, None, None, p.bids, p.wins, str(exc)))
            continue
        text = text.replace('language = "fr"\n', f'language = "fr"\nneq = "{neq}"\n', 1)
        out.append(Draft(neq, ident, text, p.bids, p.wins))
    return out
