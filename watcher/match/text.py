"""Keyword phrases over the project's one normaliser (watcher/text.py): a phrase is a sequence of
terms (stems of content words), found in a text's term line only at term boundaries, so inflection,
accents, ligatures, elisions and function words do not matter, and "formulaires" is never found
inside "formulairesenligne"."""

from __future__ import annotations

from ..text import term_line, terms, words

__all__ = ["Phrase", "normalize"]


def normalize(text: str) -> str:
    """'Entretien MÉNAGER de l'École' -> ' entretien menag ecol ' (terms, padded for boundaries)."""
    return term_line(text)


class Phrase:
    """A keyword as a coordinator wrote it; a trailing '*' matches any word ending ('recycl*').

    `norm` is its terms joined by spaces: "nettoyage des vitres" -> "nettoyag vitr"."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        text = raw.strip()
        self.prefix = text.endswith("*")
        if self.prefix:
            # the last word is a prefix as written (folded), not a stem: "recycl*" -> "recycl"
            body = text.rstrip("*")
            last = words(body)[-1:]
            self.norm = " ".join([*terms(" ".join(body.split()[:-1])), *last])
        else:
            self.norm = " ".join(terms(text))
        self.terms = tuple(self.norm.split())
        # what a term line holds where the phrase is: a prefix has no closing boundary
        self.needle = " " + self.norm + ("" if self.prefix else " ")

    def found_in(self, line: str) -> bool:
        """`line` is a term line (normalize / term_line)."""
        return bool(self.norm) and self.needle in line

    def positions(self, seq: list[str]) -> list[int]:
        """Where the phrase starts in a list of terms."""
        n = len(self.terms)
        if not n:
            return []
        out = []
        for i in range(len(seq) - n + 1):
            if self.prefix:
                if list(seq[i:i + n - 1]) == list(self.terms[:-1]) and seq[i + n - 1].startswith(self.terms[-1]):
                    out.append(i)
            elif tuple(seq[i:i + n]) == self.terms:
                out.append(i)
        return out

    def __repr__(self) -> str:
        return f"Phrase({self.raw!r})"
