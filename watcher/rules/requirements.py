"""Load rules/requirements.toml: the phrases that reveal sureties, insurance and licences in a notice.

Coordinators add phrases there, not in code, so the file is checked as strictly as an enterprise
file: an unknown key or table, a wrong type, a regex that does not compile (with Python's reason)
or that matches empty text each come back as one located, bilingual RuleError, all at once.
Patterns are compiled once, folded like the notice text (`fold_text`): accents optional, and a
space matches the one space or line break the folded text keeps for any run of whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable

from ..errors import RuleError, RuleErrors
from ..text import fold_char, fold_with_offsets
from ..tomlpos import item_line, key_line, read_toml

Pattern = re.Pattern[str]
Problem = tuple[str, str] | None  # (français, English), None when the value is fine

FORMS = ("bond", "certified_cheque", "bank_draft", "money_order", "letter_of_credit", "cash")
STATUSES = ("bid_bond", "performance_bond")  # required / none / not_stated
ANCHORS = ("labour_materials_bond", "insurance_liability", "min_experience")  # a number near a mention
FLAGS = ("rbq_licence", "amp_authorisation", "revenu_quebec_attestation", "site_visit_required",
         "quality_price_weighting")

# --- folding: one definition for patterns and text ------------------------------------------

# One normaliser for the whole project (watcher/text.py): the extractor folds like the matcher.
fold_text = fold_with_offsets
_fold_char = fold_char


def fold_pattern(raw: str) -> str:
    """A coordinator's regex made to match folded text: accents dropped (case is left alone, so
    \\D or \\S keep their meaning; patterns compile case-insensitive), spaces -> one \\s."""
    out: list[str] = []
    escaped = False
    for c in raw:
        if c.isspace() and not escaped:
            if not out or out[-1] != r"\s":
                out.append(r"\s")
            continue
        out.append(c if escaped or c == "\\" else _fold_char(c, False))
        escaped = not escaped and c == "\\"
    return "".join(out)


@cache
def compile_pattern(raw: str) -> Pattern:
    """Folded and compiled once a process: validating a file then building it compiles each of its
    ~800 patterns once, not twice (`re`'s own cache holds 512)."""
    return re.compile(fold_pattern(raw), re.IGNORECASE)


# --- the compiled rules --------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """The compiled patterns of one table. For a flag table, `required` holds its `patterns`."""

    mention: tuple[Pattern, ...] = ()
    required: tuple[Pattern, ...] = ()
    none: tuple[Pattern, ...] = ()
    unless: tuple[Pattern, ...] = ()
    validity: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class RequirementRules:
    """Everything the extractor needs, compiled once (extraction runs over thousands of notices)."""

    source: str
    sentence_end: Pattern  # matched on folded text with case kept: a line may go on in lower case
    window: int
    none_after: Pattern  # matched right after a mention: ' : Aucun', '\nnon'
    negatives: tuple[Pattern, ...]
    groups: dict[str, Group] = field(default_factory=dict)
    forms: tuple[tuple[str, tuple[Pattern, ...]], ...] = ()
    conditions: tuple[Pattern, ...] = ()  # each ends right before the contract value it sets


# --- schema --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One allowed key: its type ("text", "texts", "integer"), a check of each value, what is allowed."""

    kind: str
    allowed: str
    check: Callable[[Any], Problem] | None = None
    required: bool = False
    nonempty: bool = False


_KINDS: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "text": (lambda v: isinstance(v, str), "un texte entre guillemets", "a quoted string"),
    "texts": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              'une liste de textes ["…"]', 'a list of strings ["…"]'),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "un nombre entier", "a whole number"),
}


def _regex(v: str) -> Problem:
    """Compiles, as written (so the position in Python's message is the coordinator's) and folded."""
    try:
        re.compile(v)
        compiled = compile_pattern(v)
    except re.error as exc:
        return f"expression régulière invalide « {v} » : {exc}", f'invalid regular expression "{v}": {exc}'
    if compiled.search("") is not None:
        return (f"l'expression « {v} » trouve un texte vide (elle trouverait tout)",
                f'the expression "{v}" matches empty text (it would match everywhere)')
    return None


def _nonblank(v: str) -> Problem:
    return ("texte vide", "empty string") if not v.strip() else None


def _window(v: int) -> Problem:
    return None if 20 <= v <= 2000 else (f"hors limites ({v})", f"out of range ({v})")


RX = "regular expressions on lower-case text without accents"
_LIST = Field("texts", RX, _regex)
_NEEDED = Field("texts", RX, _regex, required=True, nonempty=True)
_STATUS = {"mention": _NEEDED, "required": _LIST, "none": _LIST, "unless": _LIST}

# Table (dotted) -> key -> Field. Every table is required; anything not listed is refused.
SCHEMA: dict[str, dict[str, Field]] = {
    "settings": {
        "sentence_end": Field("text", "a regular expression", _regex, required=True),
        "window": Field("integer", "a number of characters, 20 to 2000", _window, required=True),
        "none_words": Field("texts", "words meaning none: aucun, non, none", _nonblank, required=True, nonempty=True),
    },
    "negatives": {"patterns": _NEEDED},
    "conditions": {"patterns": _NEEDED},
    "bid_bond": {**_STATUS, "validity": _LIST},
    "bid_bond.forms": {form: _LIST for form in FORMS},
    "performance_bond": dict(_STATUS),
    **{name: {"mention": _NEEDED, "unless": _LIST} for name in ANCHORS},
    **{name: {"patterns": _NEEDED, "unless": _LIST} for name in FLAGS},
}


class _File:
    """One rule file being checked: its text (for line numbers) and the errors found so far."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text
        self.errors: list[RuleError] = []

    def error(self, dotted: str | None, fr: str, en: str, allowed: str = "", item: str | None = None) -> None:
        line = key_line(self.text, dotted) if dotted else None
        if line is None and dotted and "." in dotted:  # a missing key: point at its table
            line = key_line(self.text, dotted.rsplit(".", 1)[0])
        if line and item is not None:
            line = item_line(self.text, line, item)
        tail = f" (allowed: {allowed})" if allowed else ""
        self.errors.append(RuleError(str(self.path), line, dotted, f"{fr} / {en}{tail}"))

    def check(self, data: dict[str, Any], path: str = "") -> None:
        for key, value in data.items():
            dotted = f"{path}.{key}" if path else key
            if dotted in SCHEMA:
                if isinstance(value, dict):
                    self.check(value, dotted)
                else:
                    self.error(dotted, f"« {key} » doit être une table [{dotted}]", f'"{key}" must be a table [{dotted}]')
            elif path and key in SCHEMA[path]:
                self._value(dotted, SCHEMA[path][key], value)
            else:
                tables = [t for t in SCHEMA if t.rpartition(".")[0] == path]
                allowed = [*(SCHEMA[path] if path else ()), *(f"[{t}]" for t in tables)]
                if isinstance(value, dict):
                    self.error(dotted, f"table inconnue [{dotted}]", f"unknown table [{dotted}]", ", ".join(allowed))
                else:
                    self.error(dotted, f"clé inconnue « {key} »", f'unknown key "{key}"', ", ".join(allowed))
        if path:
            for key, spec in SCHEMA[path].items():
                if spec.required and key not in data:
                    self.error(f"{path}.{key}", "clé obligatoire manquante", "required key is missing", spec.allowed)
        for table in SCHEMA:
            if table.rpartition(".")[0] == path and table.rpartition(".")[2] not in data:
                self.errors.append(RuleError(str(self.path), key_line(self.text, path) if path else None, table,
                                             f"table [{table}] manquante / table [{table}] is missing"))

    def _value(self, dotted: str, spec: Field, value: Any) -> None:
        test, fr, en = _KINDS[spec.kind]
        if not test(value):
            found = next((names for t, *names in _FOUND if isinstance(value, t)), ("une date", "a date"))
            self.error(dotted, f"doit être {fr}, pas {found[0]}", f"must be {en}, not {found[1]}", spec.allowed)
            return
        items = value if isinstance(value, list) else [value]
        if spec.nonempty and not items:
            self.error(dotted, "liste vide", "empty list", spec.allowed)
        for item in items:
            if spec.check and (problem := spec.check(item)):
                self.error(dotted, *problem, spec.allowed, item=item if isinstance(value, list) else None)


_FOUND = ((bool, "un booléen", "a bool"), ((int, float), "un nombre", "a number"), (str, "un texte", "a string"),
          (list, "une liste", "a list"), (dict, "une table", "a table"))


def _read(path: Path) -> tuple[_File, dict[str, Any] | None]:
    """Read and parse one file; a syntax error becomes a RuleError at tomllib's line."""
    text, data, error = read_toml(path)
    f = _File(path, text)
    if error:
        f.errors.append(error)
    return f, data


def _build(path: Path, data: dict[str, Any]) -> RequirementRules:
    def compiled(table: dict[str, Any], key: str) -> tuple[Pattern, ...]:
        return tuple(compile_pattern(p) for p in table.get(key, []))

    groups = {name: Group(*(compiled(data[name], k) for k in ("mention", "required", "none", "unless", "validity")))
              for name in (*STATUSES, *ANCHORS)}
    groups |= {name: Group(required=compiled(data[name], "patterns"), unless=compiled(data[name], "unless"))
               for name in FLAGS}
    settings = data["settings"]
    words = sorted((r"\s".join(re.escape(fold_pattern(part)) for part in w.split()) for w in settings["none_words"]),
                   key=len, reverse=True)
    return RequirementRules(
        source=str(path),
        sentence_end=re.compile(fold_pattern(settings["sentence_end"])),  # on text with case kept
        window=settings["window"],
        none_after=re.compile(r"\s*:?\s*(?:" + "|".join(words) + r")(?![\w-])", re.IGNORECASE),
        negatives=compiled(data["negatives"], "patterns"),
        groups=groups,
        forms=tuple((form, compiled(data["bid_bond"]["forms"], form)) for form in FORMS),
        conditions=compiled(data["conditions"], "patterns"),
    )


def _check(path: Path) -> tuple[list[RuleError], RequirementRules | None]:
    f, data = _read(Path(path))
    if data is None:
        return f.errors, None
    f.check(data)
    f.errors.sort(key=lambda e: e.line or 0)
    return f.errors, (None if f.errors else _build(Path(path), data))


def check_requirement_rules(path: Path) -> list[RuleError]:
    """Every problem of the requirement rule file, so all can be fixed in one pass."""
    return _check(Path(path))[0]


def load_requirement_rules(path: Path) -> RequirementRules:
    """The compiled rules of `path` (rules/requirements.toml); RuleErrors listing every problem."""
    errors, rules = _check(Path(path))
    if errors or rules is None:
        raise RuleErrors(errors)
    return rules
