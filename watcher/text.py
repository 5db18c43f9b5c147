"""The one text normaliser: matching, exclusions, requirement phrases and profile suggestions all fold
and cut words here, so "main-d'œuvre", "MAIN D'OEUVRE" and "main-d’oeuvre" are the same words
everywhere.

- `fold_char` / `fold_with_offsets`: case, accents, ligatures (œ → oe, æ → ae), typographic quotes
  and dashes, invisible characters; with the index of each folded character's origin, so the
  requirement extractor can quote the notice's own words back.
- `words`: folded words; elisions (l', d', qu', jusqu'…) dropped, hyphens and apostrophes cut words.
- `term`: a word's lemma (simplemma) with light inflection rules, so singular and plural, masculine
  and feminine meet ("écocentres" → "ecocentr", "ménagère" and "MÉNAGERS" → "menager") while
  derivations stay apart ("collecte" is not "collectif").
- `terms`: the stems of a text without its function words ("de", "des", "pour"…), so that
  "nettoyage de vitres" and "nettoyage des vitres" are the same sequence of terms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


_SAME = {"’": "'", "‘": "'", "ʼ": "'", "´": "'", "`": "'", "«": '"', "»": '"', "“": '"', "”": '"',
         "–": "-", "—": "-", "‑": "-", "‐": "-", "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss",
         "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u200b": "", "\ufeff": "", "\u00ad": "", "\u200e": "",
         "\u200f": ""}
_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


@lru_cache(maxsize=8192)
def fold_char(c: str, lower: bool = True) -> str:
    """One character folded: no accent, lower case (unless lower=False), ligatures spelled out."""
    if c in _SAME:
        out = _SAME[c]
        return out if lower else (c.upper()[:1] + out[1:] if c.isupper() and out else out)
    plain = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
    low = plain.lower()
    return low if lower and len(low) == len(plain) else plain  # same length either way: offsets agree


def fold_with_offsets(text: str, keep_case: bool = False) -> tuple[str, list[int]]:
    """Folded text with each whitespace run as one " " (or "\\n" if it held a line break), and for
    each folded character the index of the original character it came from. With or without
    keep_case the two results have the same length and offsets."""
    out: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        if c.isspace():
            if out and out[-1] in " \n":
                out[-1] = "\n" if c in _BREAKS else out[-1]
            elif out:
                out.append("\n" if c in _BREAKS else " ")
                origin.append(i)
            continue
        for x in fold_char(c, not keep_case):
            out.append(x)
            origin.append(i)
    return "".join(out), origin


def fold(text: str) -> str:
    """'Main-d’Œuvre  ÉQUIPEMENTS' -> "main-d'oeuvre equipements". The same text as
    fold_with_offsets, in C loops (str.translate, one regex) instead of a Python loop over
    characters: every title and description of a digest run's history is folded (issue 16)."""
    if _SPACE_MARK in text or _BREAK_MARK in text:  # the marks below would be ambiguous
        return fold_with_offsets(text)[0]
    marked = text.translate(_FOLD_TABLE)
    if _ANY_SPACE.search(marked):  # a character that folds to a space (« ¨ » -> " "): joined as text is
        return fold_with_offsets(text)[0]
    marked = marked.lstrip(_SPACE_MARK + _BREAK_MARK)  # whitespace before the first character: none
    if _BREAK_MARK in marked:
        marked = _BREAK_RUN.sub("\n", marked)  # a run that held a line break: one "\n"
    return _SPACE_RUN.sub(" ", marked)


class _FoldTable(dict):
    """str.translate's table, filled on first sight of each character: fold_char, except that
    whitespace becomes a mark (a line break its own) so that runs are joined afterwards as
    fold_with_offsets joins them."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        out = (_BREAK_MARK if c in _BREAKS else _SPACE_MARK) if c.isspace() else fold_char(c)
        if len(self) >= _FOLD_TABLE_MAX:  # hostile text may hold every code point: memory stays bounded
            self.clear()
        self[code] = out
        return out


_SPACE_MARK, _BREAK_MARK = "\uffff", "\ufffe"  # Unicode non-characters: never in a notice's text
_FOLD_TABLE_MAX = 20_000  # characters remembered (French text uses a few hundred)
_FOLD_TABLE = _FoldTable()
_BREAK_RUN = re.compile("[\uffff\ufffe]*\ufffe[\uffff\ufffe]*")
_SPACE_RUN = re.compile("\uffff+")
_ANY_SPACE = re.compile(r"\s")


# French elisions: the letter(s) before an apostrophe that stand for a whole function word.
_ELIDED = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"}
_WORD = re.compile(r"[0-9a-z]+")

# Function words: never evidence of a trade, and skipped so phrases meet across them. Short on
# purpose (French and English articles, prepositions, conjunctions): content words all count.
STOPWORDS = frozenset("""
a au aux avec ce ces dans de des du en et la le les leur leurs ou par pour sur un une d l s y
the of and or for to in on at by with an from
""".split())


def words(text: str) -> list[str]:
    """Folded words, elided articles dropped: "l'Écocentre d'Anjou" -> ["ecocentre", "anjou"]."""
    folded = fold(text)
    out = []
    for m in _WORD.finditer(folded):
        w = m.group()
        end = m.end()
        if end < len(folded) and folded[end] == "'" and w in _ELIDED:
            continue
        out.append(w)
    return out


_LIGHT = (("aux", "al"), ("euses", "eu"), ("euse", "eu"), ("eux", "eu"), ("ives", "if"), ("ive", "if"),
          ("elles", "el"), ("elle", "el"), ("ennes", "en"), ("enne", "en"))


def _light(word: str) -> str:
    """Savoy's light French stemming, inflection only: plural, feminine, final -e/-é; derivations are
    kept apart ("collecte" / "collectif", "numérique" / "numérisation" are different trades)."""
    for end, to in _LIGHT:
        if word.endswith(end) and len(word) > len(end) + 2:
            return _light_tail(word[: -len(end)] + to)
    return _light_tail(word)


def _light_tail(word: str) -> str:
    if len(word) > 3 and word[-1] in "sx" and word[-2] != "s":
        word = word[:-1]
    if len(word) > 3 and word[-1] == "e":
        word = word[:-1]
    if len(word) > 3 and word[-1] == "e":  # -ée, -ées
        word = word[:-1]
    if len(word) > 5 and word.endswith("er"):  # lemmas of participles are infinitives: "assistés" -> "assister"
        word = word[:-2]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] in "nlt":  # reconditionn(é) / reconditionn(e)
        word = word[:-1]
    return word


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """One word's term: its dictionary lemma (simplemma, a maintained lemmatiser with a French
    lexicon, when it knows the word: "travaux" -> "travail") folded, then light inflection rules
    (which also cover unaccented or unknown words: "MENAGERES" -> "menager"). Digits kept whole."""
    if len(word) <= 2 or word.isdigit():
        return word
    lemma = fold(_lemmatize(word))
    return _light(lemma if lemma.isalnum() else word)


def known_word(word: str) -> bool:
    """Is this folded word in the French lexicon (a common word, not a name or a code)?"""
    import simplemma

    return simplemma.is_known(word, lang="fr")


def _lemmatize(word: str) -> str:
    import simplemma  # loaded on first use: `watcher --help` does not pay for the lexicon

    return simplemma.lemmatize(word, lang="fr")


def terms(text: str) -> list[str]:
    """Stems of the content words of a text, in order."""
    return [term(w) for w in words(text) if w not in STOPWORDS]


def term_line(text: str) -> str:
    """Terms joined and padded with spaces, so a phrase is found as " t1 t2 " inside it."""
    return " " + " ".join(terms(text)) + " "
