"""Isolation of broken rule and source files, for a daemon that must keep serving everyone.

`watcher rules check` is strict: any error, exit 1. Running is lenient: one enterprise's typo
must not stop the digests of the others. Each file of `rules/enterprises/` and `sources/` is
validated on its own; a broken one is skipped with its `file:line` errors, and the last version
of it that passed validation (kept by the caller, e.g. in the database) serves in its place.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import RuleError
from ..models import Enterprise
from ..sources import Source, _load as _load_source
from .enterprises import _check_file

LastGood = dict[str, tuple[str, str]]  # key ("enterprises/x.toml") -> (sha256, content)


@dataclass(frozen=True)
class BrokenFile:
    """A file that failed validation: its errors, and whether an older good version serves instead."""

    path: str
    key: str  # "enterprises/<name>.toml" or "sources/<name>.toml": stable across installs
    errors: tuple[str, ...]
    content_sha256: str
    serving_last_good: bool

    def as_json(self) -> dict:
        return {"file": self.path, "errors": list(self.errors), "serving_last_good": self.serving_last_good}


@dataclass
class Loaded:
    enterprises: list[Enterprise] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    broken: list[BrokenFile] = field(default_factory=list)
    good: dict[str, str] = field(default_factory=dict)  # key -> content that validated now (to keep as last good)


def load_isolated(rules_dir: Path, sources_dir: Path, last_good: LastGood | None = None) -> Loaded:
    """Every valid enterprise profile and source; the broken files with their errors."""
    last_good = last_good or {}
    out = Loaded()
    seen_ids: dict[str, str] = {}
    folder = Path(rules_dir) / "enterprises"
    for path in sorted(folder.glob("*.toml")):
        key = f"enterprises/{path.name}"
        text = _text(path)
        errors, ent, ident, line = _check_file(path)
        if ent is not None and ent.id in seen_ids:
            errors = [RuleError(str(path), line, "id", f"identifiant « {ent.id} » déjà utilisé dans {seen_ids[ent.id]}"
                                                       f' / id "{ent.id}" already used in {seen_ids[ent.id]}')]
            ent = None
        if ent is not None and not errors:
            out.enterprises.append(ent)
            seen_ids[ent.id] = str(path)
            out.good[key] = text
            continue
        old = _from_last_good(path, key, last_good, _enterprise_from)
        if old is not None and old.id in seen_ids:
            old = None
        if old is not None:
            out.enterprises.append(old)
            seen_ids[old.id] = str(path)
        out.broken.append(BrokenFile(str(path), key, tuple(str(e) for e in errors), sha256(text), old is not None))
    names: set[str] = set()
    for path in sorted(Path(sources_dir).glob("*.toml")):
        key = f"sources/{path.name}"
        text = _text(path)
        try:
            source, errors = _load_source(path)
        except (OSError, UnicodeDecodeError) as exc:
            source, errors = None, [RuleError(str(path), None, None, f"lecture impossible / cannot read: {exc}")]
        if source is not None and source.name in names:
            source, errors = None, [RuleError(str(path), None, "name", f"nom déjà utilisé / name already used: {source.name}")]
        if source is not None:
            out.sources.append(source)
            names.add(source.name)
            out.good[key] = text
            continue
        old = _from_last_good(path, key, last_good, _source_from)
        if old is not None and old.name not in names:
            out.sources.append(old)
            names.add(old.name)
        else:
            old = None
        out.broken.append(BrokenFile(str(path), key, tuple(str(e) for e in errors), sha256(text), old is not None))
    return out


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _enterprise_from(copy: Path, real: Path) -> Enterprise | None:
    errors, ent, _, _ = _check_file(copy)
    return None if errors or ent is None else replace(ent, source_file=str(real))


def _source_from(copy: Path, real: Path) -> Source | None:
    source, errors = _load_source(copy)
    return None if errors or source is None else replace(source, file=str(real))


def _from_last_good(path: Path, key: str, last_good: LastGood, build):
    """The object built from the kept good content of `path`, validated again (rules may have changed)."""
    kept = last_good.get(key)
    if kept is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name  # same file name: a source's name defaults to it
        copy.write_text(kept[1], encoding="utf-8")
        return build(copy, path)
