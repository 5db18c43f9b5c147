"""Load enterprise rule files (rules/enterprises/*.toml) and check them strictly.

Coordinators edit these files by hand, so every mistake must come back as one located,
bilingual line (file:line: field: message), and all of them at once: a coordinator should
fix a file in one pass, not run the tool ten times. The allowed keys live in one declarative
SCHEMA (table -> key -> Field), so adding a key later is one line here plus the matching
Enterprise attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..codes import CATEGORIES, REGIONS, category_code
from ..errors import RuleError, RuleErrors
from ..models import METHODS, Enterprise
from ..tomlpos import item_line, key_line, read_toml

Problem = tuple[str, str] | None  # (français, English), None when the value is fine


@dataclass(frozen=True)
class Kind:
    """A TOML value type, as a coordinator would name it."""

    test: Callable[[Any], bool]
    fr: str
    en: str


KINDS: dict[str, Kind] = {
    "text": Kind(lambda v: isinstance(v, str), "un texte entre guillemets", "a quoted string"),
    "texts": Kind(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                  'une liste de textes ["…"]', 'a list of strings ["…"]'),
    "number": Kind(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "un nombre", "a number"),
    "integer": Kind(lambda v: isinstance(v, int) and not isinstance(v, bool), "un nombre entier", "a whole number"),
    "bool": Kind(lambda v: isinstance(v, bool), "true ou false", "true or false"),
}


@dataclass(frozen=True)
class Field:
    """One allowed key: its type, a check of each value (each item for lists), what is allowed."""

    kind: str  # a KINDS key
    allowed: str  # shown after every message about this key
    check: Callable[[Any], Problem] | None = None
    required: bool = False
    nonempty: bool = False  # for lists: [] is an error
    attr: str | None = None  # Enterprise attribute; defaults to the key


def _pattern(regex: str, fr: str, en: str) -> Callable[[str], Problem]:
    """A check that the whole value matches `regex`; fr/en name what is invalid."""
    def check(v: str) -> Problem:
        return None if re.fullmatch(regex, v) else (f"{fr} invalide « {v} »", f'invalid {en} "{v}"')
    return check


def _nonblank(v: str) -> Problem:
    return ("texte vide", "empty string") if not v.strip() else None


def _one_of(*allowed: str) -> Callable[[str], Problem]:
    def check(v: str) -> Problem:
        return None if v in allowed else (f"valeur inconnue « {v} »", f'unknown value "{v}"')
    return check


def _category(v: str) -> Problem:
    if v in CATEGORIES:
        return None
    code = category_code(v)
    if code in CATEGORIES and " - " in v:  # the full label "S9 - Entretien…"
        return f"écrivez le code seul « {code} »", f'write the code only: "{code}"'
    if code in CATEGORIES:
        return f"écrivez « {code} » en majuscules", f'write "{code}" in upper case'
    return f"catégorie inconnue « {v} »", f'unknown category "{v}"'


def _cron(v: str) -> Problem:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(v)
    except ValueError as exc:
        return f"horaire cron invalide ({exc})", f"invalid cron schedule ({exc})"
    return None


def _region(v: str) -> Problem:
    if v == "*" or v in REGIONS:
        return None
    if v.isdigit() and len(v) == 1:
        return f"région « {v} » : écrivez deux chiffres « 0{v} »", f'region "{v}": write two digits "0{v}"'
    return f"région inconnue « {v} »", f'unknown region "{v}"'


def _amount(v: float) -> Problem:
    if not 0 <= v < float("inf"):  # also refuses nan and inf
        return f"montant invalide ({v})", f"invalid amount ({v})"
    return None


LICENCES = ("RBQ", "AMP", "MAPAQ", "SAAQ", "CNESST")  # licences a notice may require


def _days(v: int) -> Problem:
    return ("nombre de jours négatif", "negative number of days") if v < 0 else None


# Table ("" = top of the file) -> key -> Field. Anything not listed is refused, so typos show.
# A new key is one line here plus its Enterprise attribute, e.g. under "capacity":
#     "amp_authorised": Field("bool", "true or false"),
SCHEMA: dict[str, dict[str, Field]] = {
    "": {
        "id": Field("text", "lowercase letters, digits and hyphens, e.g. coop-entretien-est",
                   _pattern(r"[a-z0-9]+(-[a-z0-9]+)*", "identifiant", "id"), required=True),
        "name": Field("text", "the enterprise's name", _nonblank, required=True),
        "emails": Field("texts", 'e-mail addresses, e.g. ["ventes@example.org"]',
                       _pattern(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "adresse courriel", "e-mail address"),
                       required=True, nonempty=True),
        "language": Field("text", "fr, en", _one_of("fr", "en")),
        "neq": Field("text", "Québec enterprise number, 10 digits: links the profile to its bids in the award history",
                     _pattern(r"\d{10}", "NEQ (10 chiffres)", "NEQ (10 digits)")),
    },
    "match": {
        "categories": Field("texts", "SEAO category codes such as S9, G15, C01, listed in watcher/codes.py", _category),
        "unspsc": Field("texts", 'UNSPSC prefixes of 2 to 8 digits, e.g. "7611"',
                         _pattern(r"\d{2,8}", "préfixe UNSPSC", "UNSPSC prefix")),
        "codes": Field("texts", 'codes of other classification schemes as "SCHEME:prefix", e.g. "CPV:9091", "GSIN:N7050"',
                       _pattern(r"[A-Za-z][A-Za-z0-9_-]*:[A-Za-z0-9.]+", "code « SCHÉMA:préfixe »", '"SCHEME:prefix" code')),
        "keywords": Field("texts", "non-empty words or phrases", _nonblank),
        "exclude": Field("texts", "non-empty words or phrases", _nonblank),
        "sells": Field("texts", "goods, services, construction: what the enterprise sells (default: any)", _one_of("goods", "services", "construction"), nonempty=True),
        "regions": Field("texts", '01-17 or "*"', _region, nonempty=True),
    },
    "capacity": {
        "min_value": Field("number", "an amount in CAD, 0 or more", _amount),
        "max_value": Field("number", "an amount in CAD, 0 or more", _amount),
        "methods": Field("texts", ", ".join(METHODS), _one_of(*METHODS), nonempty=True),
        "bid_bond": Field("bool", "true if it can supply a bid guarantee (cautionnement de soumission)"),
        "max_bond": Field("number", "largest surety it can obtain, in CAD", _amount),
        "liability_insurance": Field("number", "civil liability insurance held, in CAD", _amount),
        "licences": Field("texts", ", ".join(LICENCES), _one_of(*LICENCES)),
        "amp_authorised": Field("bool", "true if authorised to contract by the AMP"),
        "min_lead_days": Field("integer", "days needed between publication and closing, 0 or more", _days),
    },
    "consortium": {
        "willing": Field("bool", "false: never proposed in a consortium"),
        "partners": Field("texts", "ids of enterprises it prefers to team up with",
                          _pattern(r"[a-z0-9]+(-[a-z0-9]+)*", "identifiant", "id")),
        "share_contact": Field("bool", "false: its contacts are never shown to consortium partners"),
    },
    "digest": {
        "schedule": Field("text", 'cron "minute hour day month weekday", America/Montreal, e.g. "0 7 * * mon"', _cron,
                          attr="digest_schedule"),
        "empty": Field("bool", 'true: send a "nothing this week" mail when there is nothing', attr="digest_empty"),
        "alert_days": Field("integer", "0 (off) or more: mail at once a realistic notice that closes within this many days",
                            _days, attr="alert_days"),
    },
}


def _whole_file(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Checks that span several keys: (dotted field, français, English). A table of the wrong
    type was already reported, so it is skipped here rather than reported twice."""
    out = []
    match, cap = data.get("match", {}), data.get("capacity", {})
    if isinstance(match, dict):
        if not any(match.get(k) for k in ("categories", "unspsc", "keywords", "codes")):
            out.append(("match", "indiquez au moins une catégorie, un préfixe UNSPSC ou un mot-clé",
                        "give at least one of match.categories, match.unspsc, match.keywords"))
        regions = match.get("regions")
        if isinstance(regions, list) and "*" in regions and len(regions) > 1:
            out.append(("match.regions", "« * » (partout) s'écrit seul", '"*" (anywhere) must be alone'))
    if isinstance(cap, dict):
        low, high = cap.get("min_value"), cap.get("max_value")
        valid = all(KINDS["number"].test(v) and not _amount(v) for v in (low, high))
        if valid and low > high:  # an invalid amount was already reported
            out.append(("capacity.max_value", f"max_value ({high}) est inférieur à min_value ({low})",
                        f"max_value ({high}) is below min_value ({low})"))
    return out


_FOUND = ((bool, "un booléen", "a bool"), ((int, float), "un nombre", "a number"), (str, "un texte", "a string"),
          (list, "une liste", "a list"), (dict, "une table", "a table"))


def _kind_name(v: Any) -> tuple[str, str]:
    """How to name the value that was found, in a type error (bool first: it is an int)."""
    return next(((fr, en) for t, fr, en in _FOUND if isinstance(v, t)), ("une date", "a date"))


class _File:
    """One rule file being checked: its text (for line numbers) and the errors found so far."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text
        self.errors: list[RuleError] = []

    def error(self, dotted: str | None, fr: str, en: str, allowed: str = "", item: str | None = None) -> None:
        line = key_line(self.text, dotted) if dotted else None
        if line is None and dotted and "." in dotted:  # inline table: point at its parent
            line = key_line(self.text, dotted.rsplit(".", 1)[0])
        if line and item is not None:
            line = item_line(self.text, line, item)
        tail = f" (allowed: {allowed})" if allowed else ""
        self.errors.append(RuleError(str(self.path), line, dotted, f"{fr} / {en}{tail}"))

    def check(self, data: dict[str, Any]) -> None:
        tables = [t for t in SCHEMA if t]
        top = [*SCHEMA[""], *(f"[{t}]" for t in tables)]
        for key, value in data.items():
            if key in tables:
                if isinstance(value, dict):
                    self._table(key, value)
                else:
                    self.error(key, f"« {key} » doit être une table [{key}]", f'"{key}" must be a table [{key}]')
            elif key in SCHEMA[""]:
                self._value(key, SCHEMA[""][key], value)
            else:
                self._unknown(key, value, top)
        for t in SCHEMA:
            given = data.get(t, {}) if t else data
            for key, spec in SCHEMA[t].items():
                if spec.required and isinstance(given, dict) and key not in given:
                    name = f"{t}.{key}" if t else key
                    self.error(name, "clé obligatoire manquante", "required key is missing", spec.allowed)
        for dotted, fr, en in _whole_file(data):
            self.error(dotted, fr, en)

    def _table(self, table: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in SCHEMA[table]:
                self._value(f"{table}.{key}", SCHEMA[table][key], value)
            else:
                self._unknown(f"{table}.{key}", value, list(SCHEMA[table]))

    def _unknown(self, dotted: str, value: Any, allowed: list[str]) -> None:
        key = dotted.rsplit(".", 1)[-1]
        home = [t for t in SCHEMA if key in SCHEMA[t]]
        if home:  # a real key in the wrong table: say where it goes
            fr, en = (f"dans [{home[0]}]", f"in [{home[0]}]") if home[0] else ("en haut du fichier", "at the top of the file")
            self.error(dotted, f"« {key} » va {fr}", f'"{key}" belongs {en}')
        elif isinstance(value, dict):
            tables = [a for a in allowed if a.startswith("[")] or allowed
            self.error(dotted, f"table inconnue [{dotted}]", f"unknown table [{dotted}]", ", ".join(tables))
        else:
            self.error(dotted, f"clé inconnue « {key} »", f'unknown key "{key}"', ", ".join(allowed))

    def _value(self, dotted: str, spec: Field, value: Any) -> None:
        kind = KINDS[spec.kind]
        if not kind.test(value):
            fr, en = _kind_name(value)
            if isinstance(value, list) and spec.kind == "texts":
                fr, en = "une liste dont un élément n'est pas entre guillemets", "a list with an item not in quotes"
            self.error(dotted, f"doit être {kind.fr}, pas {fr}", f"must be {kind.en}, not {en}", spec.allowed)
            return
        if isinstance(value, list):
            if spec.nonempty and not value:
                self.error(dotted, "liste vide", "empty list", spec.allowed)
            for item in value:
                problem = spec.check(item) if spec.check else None
                if problem:
                    self.error(dotted, *problem, spec.allowed, item=item)
        elif spec.check and (problem := spec.check(value)):
            self.error(dotted, *problem, spec.allowed)


def _read(path: Path) -> tuple[_File, dict[str, Any] | None]:
    """Read and parse one file; a syntax error becomes a RuleError at tomllib's line."""
    text, data, error = read_toml(path)
    f = _File(path, text)
    if error:
        f.errors.append(error)
    return f, data


def _build(path: Path, data: dict[str, Any]) -> Enterprise:
    """Map checked data onto Enterprise: lists become tuples, amounts floats, text kept as written."""
    values: dict[str, Any] = {"source_file": str(path)}
    for table, fields in SCHEMA.items():
        given = data.get(table, {}) if table else data
        for key, spec in fields.items():
            if key in given:
                v = given[key]
                attr = spec.attr or (f"consortium_{key}" if table == "consortium" else key)
                values[attr] = tuple(v) if isinstance(v, list) else (
                    float(v) if spec.kind == "number" else v)
    return Enterprise(**values)


def _check_file(path: Path) -> tuple[list[RuleError], Enterprise | None, str, int | None]:
    """Errors of one file, its Enterprise when clean, and its id and id line for the duplicate check."""
    f, data = _read(path)
    if data is None:
        return f.errors, None, "", None
    f.check(data)
    ident = data.get("id") if isinstance(data.get("id"), str) else ""
    f.errors.sort(key=lambda e: e.line or 0)
    return f.errors, (None if f.errors else _build(path, data)), ident, key_line(f.text, "id")


def _check_folder(folder: Path) -> tuple[list[RuleError], list[Enterprise]]:
    where = folder / "enterprises"
    if not where.is_dir():
        return [RuleError(str(where), None, None, "dossier introuvable / folder not found")], []
    errors: list[RuleError] = []
    found: list[Enterprise] = []
    seen: dict[str, str] = {}  # id -> "file:line" of its first use
    for path in sorted(where.glob("*.toml")):
        file_errors, enterprise, ident, line = _check_file(path)
        errors += file_errors
        if ident and ident in seen:
            errors.append(RuleError(str(path), line, "id", f"identifiant « {ident} » déjà utilisé dans {seen[ident]}"
                                    f' / id "{ident}" already used in {seen[ident]}'))
        elif ident:
            seen[ident] = f"{path}:{line}" if line else str(path)
        if enterprise:
            found.append(enterprise)
    return errors, found


def check_rules(folder: Path) -> list[RuleError]:
    """Every problem in every file of `<folder>/enterprises/`, so all can be fixed in one pass."""
    return _check_folder(Path(folder))[0]


def load_enterprises(folder: Path) -> list[Enterprise]:
    """All enterprises of `<folder>/enterprises/*.toml`, sorted by file name; RuleErrors if any problem."""
    errors, found = _check_folder(Path(folder))
    if errors:
        raise RuleErrors(errors)
    return found


def load_enterprise(path: Path) -> Enterprise:
    """One rule file on its own (no duplicate-id check); RuleErrors listing all its problems."""
    errors, enterprise, _, _ = _check_file(Path(path))
    if errors or enterprise is None:
        raise RuleErrors(errors)
    return enterprise
