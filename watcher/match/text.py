"""Text normalisation shared by keyword matching: case- and accent-insensitive, word-bounded."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z*]+")


def normalize(text: str) -> str:
    """'Entretien MÉNAGER, l'école' -> ' entretien menager l ecole ' (padded for word bounds)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " " + _NON_WORD.sub(" ", ascii_only).strip() + " "


class Phrase:
    """A keyword as a coordinator wrote it; a trailing '*' matches any word ending ('recycl*')."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        norm = normalize(raw).strip()
        self.prefix = norm.endswith("*")
        self.norm = norm.rstrip("*").strip()

    def found_in(self, normalized_text: str) -> bool:
        needle = " " + self.norm + ("" if self.prefix else " ")
        return needle in normalized_text
