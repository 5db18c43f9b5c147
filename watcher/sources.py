"""sources/*.toml: what to watch. One file per source; adding a source of a known kind needs no code.

A source names its kind (one entry of KINDS below, each backed by a parser module of
watcher/collect), where to fetch, when (cron, America/Montreal) and the kind's options.
Files are checked strictly: an unknown key or option is `file:line: key: message`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from .errors import RuleError, RuleErrors
from .tomlpos import key_line


@dataclass(frozen=True)
class Kind:
    """A source kind: the parser it feeds, how resources are discovered, the options it accepts."""

    parser: str  # key of watcher.collect.PARSERS
    discovery: str  # "url" (one URL), "urls" (options.urls), "ckan" (a CKAN package's resources), "pages" (url + next links)
    options: dict[str, type | tuple[type, ...]]
    doc: str


KINDS: dict[str, Kind] = {
    "seao_ocds": Kind("ocds", "ckan", {"package": str, "prefixes": list, "max_resources": int, "formats": list},
                      "SEAO JSON open data (OCDS) on Données Québec: weekly/monthly resources listed by the CKAN API"),
    "seao_xml": Kind("seao_xml", "urls", {"urls": list},
                     "SEAO XML open data files (2009-2024), for history backfills"),
    "ocds": Kind("ocds", "urls", {"urls": list},
                 "any OCDS publisher: release or record packages, single releases, JSON lines"),
    "canadabuys": Kind("canadabuys", "url", {"language": str},
                       "CanadaBuys tender notice CSV (federal)"),
    "feed": Kind("feed", "url", {"closing": str, "buyer": str, "published": str, "reference": str, "id_prefix": str, "id_from": str,
                                 "closing_format": str, "regions": list, "region": str, "method": str, "nature": str},
                 "any RSS/Atom feed, with a field mapping"),
    "html": Kind("html", "pages", {"base_url": str, "item": str, "title": str, "link": str, "published": str, "closing": str,
                                   "buyer": str, "reference": str, "date_format": str, "next": str, "max_pages": int,
                                   "regions": list, "region": str, "method": str, "nature": str, "id_prefix": str},
                 "any HTML list page, with CSS selectors"),
}

_TOP: dict[str, type | tuple[type, ...]] = {"name": str, "kind": str, "url": str, "schedule": str, "enabled": bool,
                                           "title": str, "options": dict}


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str
    schedule: str  # cron: minute hour day month day_of_week
    enabled: bool = True
    title: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    file: str = ""

    def trigger(self, timezone: str = "America/Montreal") -> CronTrigger:
        return CronTrigger.from_crontab(self.schedule, timezone=timezone)


def load_sources(folder: Path) -> list[Source]:
    """Every source of `folder/*.toml`, sorted by name; RuleErrors listing every problem."""
    errors: list[RuleError] = []
    found: list[Source] = []
    for path in sorted(Path(folder).glob("*.toml")):
        source, problems = _load(path)
        errors += problems
        if source:
            if any(s.name == source.name for s in found):
                errors.append(RuleError(str(path), key_line(path.read_text(encoding="utf-8"), "name"), "name",
                                        f"nom déjà utilisé / name already used: {source.name}"))
            found.append(source)
    if errors:
        raise RuleErrors(errors)
    return found


def check_sources(folder: Path) -> list[RuleError]:
    """Every problem of the source files, for `watcher rules check` (empty when all are right)."""
    try:
        load_sources(folder)
    except RuleErrors as exc:
        return list(exc.errors)
    return []


def _load(path: Path) -> tuple[Source | None, list[RuleError]]:
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, [RuleError(str(path), int(m.group(1)) if m else None, None, f"TOML invalide / invalid TOML: {exc}")]
    errors: list[RuleError] = []

    def err(dotted: str, message: str) -> None:
        errors.append(RuleError(str(path), key_line(text, dotted), dotted, message))

    for key, value in data.items():
        if key not in _TOP:
            err(key, f"clé inconnue / unknown key (allowed: {', '.join(_TOP)})")
        elif not _is(value, _TOP[key]):
            err(key, f"type invalide / wrong type: expected {_name(_TOP[key])}")
    for key in ("kind", "url", "schedule"):
        if key not in data:
            errors.append(RuleError(str(path), None, key, "clé obligatoire manquante / required key is missing"))
    kind = KINDS.get(data.get("kind", ""))
    if "kind" in data and kind is None:
        err("kind", f"type de source inconnu « {data['kind']} » / unknown kind (allowed: {', '.join(KINDS)})")
    if isinstance(data.get("url"), str) and not re.match(r"https?://", data["url"]):
        err("url", "URL http(s) attendue / an http(s) URL is expected")
    if isinstance(data.get("schedule"), str):
        try:
            CronTrigger.from_crontab(data["schedule"])
        except ValueError as exc:
            err("schedule", f"cron invalide / invalid cron (minute hour day month weekday): {exc}")
    options = data.get("options", {})
    if kind and isinstance(options, dict):
        for key, value in options.items():
            if key not in kind.options:
                err(f"options.{key}", f"option inconnue pour {data['kind']} / unknown option (allowed: {', '.join(kind.options)})")
            elif not _is(value, kind.options[key]):
                err(f"options.{key}", f"type invalide / wrong type: expected {_name(kind.options[key])}")
        if kind.discovery == "ckan" and "package" not in options:
            errors.append(RuleError(str(path), key_line(text, "options"), "options.package", "option obligatoire / required option"))
        if kind.discovery == "urls" and not options.get("urls"):
            errors.append(RuleError(str(path), key_line(text, "options"), "options.urls", "option obligatoire / required option"))
    if errors:
        return None, errors
    return Source(name=data.get("name", path.stem), kind=data["kind"], url=data["url"], schedule=data["schedule"],
                  enabled=data.get("enabled", True), title=data.get("title", ""), options=dict(options), file=str(path)), []


def _is(value: Any, expected: type | tuple[type, ...]) -> bool:
    return isinstance(value, expected) and not (isinstance(value, bool) and expected in (int, (int, float)))


def _name(expected: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
