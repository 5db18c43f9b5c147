"""Where a notice says what it buys. Pure, no I/O.

A keyword found anywhere in a notice is weak evidence: "formulaires" in an application form's name,
"entreposage" in a site description, "écocentre" as the place to clear of snow. What a notice buys is
said in its title, and there in a known order: « Déneigement de l'écocentre LaSalle » buys snow
removal; the écocentre is where. So the title is read as French procurement titles are written:

- segments cut at dashes, colons, slashes, parentheses; reference codes (« 6803-18-0916 ») dropped;
- each segment cut into chunks at prepositions (de, des, du, d', pour, à, au, sur, dans…). The first
  chunk is the head: what is bought. A head made of a procurement word (« Services », « Fourniture »,
  « Contrat », « Travaux »…) passes the role on to the next chunk, so « Services d'entretien
  ménager » buys « entretien ménager »;
- a chunk whose words are another trade's work (construction, snow removal, paving, engineering,
  professional fees…: ANOTHER_TRADE) takes the role: what follows it is that work's object or place,
  not evidence for us: « Agrandissement de la salle à manger » is construction, not catering.

A phrase found in the head (or behind procurement words only) is strong evidence; one found later
in a title whose head is neither another trade nor ours is weaker (the second object of « Entretien
ménager d'une halte et exploitation d'une cantine »); one found behind another trade's work is no
evidence, and the reason says so. Descriptions (CanadaBuys, OCDS) are read only in their object
statement, the first paragraph, without boilerplate sentences (links, e-mail addresses, forms,
instructions to bidders, policy paragraphs), and a description alone needs two distinct phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from ..text import STOPWORDS, fold, known_word, term, words
from .text import Phrase

__all__ = ["NoticeText", "Hit", "read_notice", "find", "procurement_words", "another_trade", "supplier_trade"]

# Words that name the act of buying, not what is bought: a head made of them hands the role on.
_PROCUREMENT_WORDS = """
service services fourniture fournitures acquisition acquisitions achat achats approvisionnement
contrat contrats entente ententes location gestion exploitation operation operations programme
mandat mandats travaux offre offres demande demandes appel appels prestation prestations besoin
besoins octroi renouvellement projet projets activites solution solutions
securise securises specialise specialises divers diverses general generaux complet complets
annuel annuels saisonnier saisonniers
supply supplies purchase provision services service contract contracts management
"""

# Work of trades the social economy's enterprises do not sell (building, civil engineering,
# professional mandates, snow removal): heading a title, it makes the rest its object or place.
_ANOTHER_TRADE = """
construction constructions agrandissement renovation renovations refection reamenagement amenagement
demolition deneigement pavage planage asphaltage excavation honoraires ingenierie
architecture architectural arpentage reno forage rehabilitation reconstruction remplacement toiture
pulverisation scellement marquage plans devis professionnels decontamination desamiantage
surveillance-chantier electricite plomberie chauffage climatisation ventilation
"""

# A supplier's name that says its trade (a short list of firm-name words, not ANOTHER_TRADE: « Entretien
# ménager professionnel inc. » is ours): « … architecte inc », « … ingénieurs-conseils »,
# « Toitures … ». Professions and building trades only: a hauler named « Excavation … » or
# « Démolition … » may well carry recycling. A contract won only by such firms is their work,
# whatever its title names (« Cafétéria de l'École … » won by an architect: plans, not catering).
_SUPPLIER_TRADE = """
architecte architectes architecture ingenieur ingenieurs ingenierie arpenteur arpenteurs arpentage
geometre geometres avocat avocats notaire notaires toiture toitures couvreur couvreurs plomberie plombier
electricien electriciens paysagiste paysagistes
"""


@cache
def _term_set(listed: str) -> frozenset[str]:
    """A word list's terms, lemmatised on first use: the French lexicon takes 0.3-0.6 s to load, which
    commands that never read a notice (`watcher status`, `rules check`) should not pay at import."""
    return frozenset(term(w) for w in listed.split())


def procurement_words() -> frozenset[str]:
    return _term_set(_PROCUREMENT_WORDS)


def another_trade() -> frozenset[str]:
    return _term_set(_ANOTHER_TRADE)


def supplier_trade_words() -> frozenset[str]:
    return _term_set(_SUPPLIER_TRADE)


def supplier_trade(names: Iterable[str]) -> str | None:
    """The other trade every one of these suppliers names in its firm name, if they all do (the
    word found in the first); None when any supplier does not, or there is none."""
    found = None
    for name in names:
        hit = _firm_trade(name)
        if hit is None:
            return None
        found = found or hit
    return found


@lru_cache(maxsize=50_000)
def _firm_trade(name: str) -> str | None:
    """The first word of a firm's name that names another trade: the same firms win again and
    again, and a digest run asks for each of their wins once per enterprise (bounded cache)."""
    trade = supplier_trade_words()
    return next((w for w in words(name) if term(w) in trade), None)


_PREPOSITIONS = frozenset({"de", "des", "du", "d", "pour", "a", "au", "aux", "sur", "dans", "chez", "avec",
                           "par", "en", "of", "for", "at", "in", "on"})
_SEGMENT = re.compile(r"\s[-–—]\s|[:/|;]|\s[-–—]|[-–—]\s")
_CODE = re.compile(r"^[a-z]*\d[\w.-]*$")  # « 6803-18-0916 », « 234s », « cntr0026247 »
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_BOILERPLATE = re.compile(
    r"https?://|www\.|@|\bformulaire|\bsoumissionnaires?\s+(?:doivent|peuvent)|\bbidders?\b|\bsuppliers?\s+(?:must|may)|"
    r"\bdocuments?\s+d.appel|\bpolitique\b|\bpolicy\b|\baccord|\bagreement|\bt[ée]l[ée]phone|\bcourriel|\be-?mail|"
    r"\bmerx\b|\bachatsetventes|\bbuyandsell|\bcanadabuys|\bdemande d.adh[ée]sion|\bfrais\b|\bfees?\b", re.I)


@dataclass(frozen=True)
class Chunk:
    terms: tuple[str, ...]
    role: str  # "head" (what is bought), "procurement" (hands the role on), "other" (another trade), "after" (beyond the head)


class NoticeText(str):
    """A notice's words, read once for every profile. As a string it is the term line of the title
    and the description's object statement (where keywords and exclusions are looked for); its
    attributes keep the title's structure."""

    title_chunks: tuple[tuple[Chunk, ...], ...]  # per title segment
    object_line: str  # term line of the description's object statement
    other_trade: tuple[str, ...]  # words of another trade heading the title
    head_words: tuple[str, ...]  # the title's head in plain (folded) words, for reasons
    informative: bool  # the head says what is bought in words of the language (not only names or codes)

    def __new__(cls, line: str, title_chunks: tuple = (), object_line: str = " ", other_trade: tuple = (),
                head_words: tuple = (), informative: bool = False) -> "NoticeText":
        self = super().__new__(cls, line)
        self.title_chunks, self.object_line, self.other_trade = title_chunks, object_line, other_trade
        self.head_words, self.informative = head_words, informative
        return self

    @cached_property
    def segments(self) -> tuple[tuple[list[str], list[str]], ...]:
        """Each title segment's terms and the role of each term: what `find` walks, built once a
        notice rather than once a (phrase, profile) pair."""
        return tuple(([t for c in seg for t in c.terms], [c.role for c in seg for _ in c.terms]) for seg in self.title_chunks)

    @cached_property
    def head_terms(self) -> frozenset[str]:
        """The title head's terms past procurement words: what a profile's vocabulary is compared with."""
        return frozenset(term(w) for w in self.head_words) - procurement_words()


@dataclass(frozen=True)
class Hit:
    phrase: str  # as the coordinator wrote it
    where: str  # "title" (head), "title_detail" (further in the title), "description"
    weight: float


def _title_words(segment: str) -> list[str]:
    """Folded words with elided « d' » kept as « d » (a preposition), other elisions dropped."""
    out = []
    folded = fold(segment)
    for m in re.finditer(r"[0-9a-z]+('?)|[()\[\],]", folded):
        if m.group() == ",":
            out.append(",")
            continue
        if m.group() in "()[]":
            out.append("(")  # a parenthesis cuts a chunk, like a preposition: « (phase 2) » is a detail
            continue
        w = m.group().rstrip("'")
        if m.group(1) and w != "d":
            continue  # l', qu', j'…: articles and pronouns
        out.append(w)
    return out


def _chunks(segment: str) -> tuple[Chunk, ...]:
    """A title segment cut at prepositions, each chunk with its role (see the module docstring). A
    chunk coordinated with the head (« Service d'entretien et de conciergerie ») is a head too."""
    pieces: list[list[str]] = [[]]
    coordinated: list[bool] = [False]
    joined = False  # the last word was « et », « ou » or a comma: what follows is coordinated
    for w in _title_words(segment):
        if (w in _PREPOSITIONS or w == "(") and pieces[-1]:
            pieces.append([])
            coordinated.append(joined and w != "(")
        elif w in ("(", ","):
            pass
        elif w not in STOPWORDS and not _CODE.match(w):
            pieces[-1].append(term(w))
        joined = w in ("et", "ou", ",")
    out: list[Chunk] = []
    head_found = False
    buying, another = procurement_words(), another_trade()
    for p, coord in zip(pieces, coordinated):
        if not p:
            continue
        if head_found and coord and out and out[-1].role in ("head", "other"):
            out.append(Chunk(tuple(p), out[-1].role))  # « … et de conciergerie »: the same role
        elif head_found:
            out.append(Chunk(tuple(p), "after"))
        elif next((t for t in p if t not in buying), "") in another:  # « Services professionnels »
            out.append(Chunk(tuple(p), "other"))
            head_found = True
        elif all(t in buying for t in p) or p[0] in buying and len(p) <= 2:
            out.append(Chunk(tuple(p), "procurement"))
        else:
            out.append(Chunk(tuple(p), "head"))
            head_found = True
    return tuple(out)


def _object_statement(description: str) -> str:
    """The description's first paragraph without boilerplate sentences (bounded: 1,500 characters)."""
    if not description:
        return ""
    first = _PARAGRAPH.split(description.strip(), 1)[0][:1500]
    return " ".join(s for s in _SENTENCE.split(first) if s and not _BOILERPLATE.search(s))


def read_notice(title: str, description: str = "") -> NoticeText:
    segments = [s for s in _SEGMENT.split(title or "") if s and s.strip()]
    chunked = tuple(c for c in (_chunks(s) for s in segments) if c)
    other = tuple(t for seg in chunked for c in seg if c.role == "other"
                  for t in c.terms if t in another_trade())[:3]
    obj = _object_statement(description)
    object_line = " " + " ".join(term(w) for w in words(obj) if w not in STOPWORDS) + " "
    head = _head_words(segments[0]) if segments else []
    title_line = " | ".join(" ".join(t for c in seg for t in c.terms) for seg in chunked)  # "|": no phrase spans segments
    return NoticeText(" " + title_line + object_line, chunked, object_line, other, tuple(head),
                      _says_what(head))


def _says_what(head: list[str]) -> bool:
    """Does the head say in common words what is bought? « Vidange et disposition des boues » does;
    « Pavillon Mellon » or « Chantal Brouillette » (a place, a person) does not."""
    content = [w for w in head if term(w) not in procurement_words() and not w.isdigit()]
    return bool(content) and all(known_word(w) for w in content)


def _head_words(segment: str) -> list[str]:
    """The first segment's words up to its first preposition, past procurement words."""
    out: list[str] = []
    buying = procurement_words()
    for w in _title_words(segment):
        if w in _PREPOSITIONS or w == "(":
            if out and not all(term(x) in buying for x in out):
                break
            continue
        if w == ",":
            continue
        if w not in STOPWORDS and not _CODE.match(w):
            out.append(w)
    return out


def find(text: NoticeText, phrases: Iterable[Phrase]) -> list[Hit]:
    """Every phrase found, each once, at its best place (title head > title detail > description)."""
    hits: list[Hit] = []
    another = another_trade()
    for p in phrases:
        if not p.found_in(text):
            continue  # nowhere in the term line, which holds the title's terms in order and the object line
        best: Hit | None = None
        own_trade = any(t in another for t in p.terms)  # a renovation co-op's « rénovation » is its trade
        for seq, roles in text.segments:
            for i in p.positions(seq):
                end_role = roles[min(i + len(p.terms), len(roles)) - 1]
                role = roles[i]
                if own_trade and role == "other":
                    role = "head"
                elif role == "other" or end_role == "other":
                    continue  # another trade's work: « recyclage » in « Pavage et recyclage »
                elif "other" in roles[:i]:
                    continue  # its object or place: « Déneigement de l'écocentre »
                hit = Hit(p.raw, "title", 1.0) if role in ("head", "procurement") else Hit(p.raw, "title_detail", 0.6)
                if best is None or hit.weight > best.weight:
                    best = hit
        if best is None and p.found_in(text.object_line):
            best = Hit(p.raw, "description", 0.3)
        if best is not None:
            hits.append(best)
    return hits
