"""The rules and sources a running command works with: every valid file, each broken one skipped
with its `file:line` errors (a warning) and replaced by its last good version when the store
keeps one. `watcher rules check` stays strict; this is for running (see rules/isolate.py)."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from .config import Config
from .money import load_rates
from .rules import load_requirement_rules, load_thresholds
from .errors import RuleErrors
from .rules.isolate import BrokenFile, Loaded, load_isolated, sha256
from .sources import Source
from .store import oplog

if TYPE_CHECKING:  # the matcher is imported when rules are loaded for judging, not by `watcher status`
    from .match.engine import Rulebook

log = logging.getLogger("watcher.rules")


@dataclass(frozen=True)
class RuleSet:
    rulebook: Rulebook
    sources: tuple[Source, ...]
    broken: tuple[BrokenFile, ...]


SHARED = (("thresholds.toml", load_thresholds), ("requirements.toml", load_requirement_rules), ("rates.toml", load_rates))


def load(cfg: Config, engine: Engine | None = None, quiet: bool = False) -> RuleSet:
    """Enterprise profiles and sources are isolated per file. Thresholds, requirement phrases and
    rates are shared by everyone: a broken one is replaced by its last good version when the store
    keeps one, else RuleErrors (nothing could judge without it)."""
    last_good = _last_good(engine)
    loaded: Loaded = load_isolated(cfg.rules_dir, cfg.sources_dir, last_good)
    shared = {name: _shared(cfg.rules_dir / name, name, loader, last_good, loaded) for name, loader in SHARED}
    _keep_good(engine, loaded, last_good)
    if not quiet:
        for b in loaded.broken:
            serving = ("la dernière version valide reste en service / its last good version keeps serving"
                       if b.serving_last_good else "ignoré / skipped")
            log.warning("fichier de règles invalide / broken rule file %s: %s — %s", b.path, "; ".join(b.errors), serving)
    from .match.engine import Rulebook

    rulebook = Rulebook(tuple(loaded.enterprises), shared["thresholds.toml"], shared["requirements.toml"], shared["rates.toml"])
    return RuleSet(rulebook, tuple(loaded.sources), tuple(loaded.broken))


def broken(cfg: Config, engine: Engine) -> tuple[BrokenFile, ...]:
    """The broken rule and source files, as `load` finds them, for `watcher status`. A shared file
    whose text is its last good version was validated when it was kept and is not compiled again:
    the requirement phrases' hundreds of patterns were most of the command's time (issue 16)."""
    last_good = _last_good(engine)
    loaded: Loaded = load_isolated(cfg.rules_dir, cfg.sources_dir, last_good)
    for name, loader in SHARED:
        path, kept = cfg.rules_dir / name, last_good.get(name)
        if kept is not None and path.exists() and path.read_text(encoding="utf-8", errors="replace") == kept[1]:
            continue
        _shared(path, name, loader, last_good, loaded)
    _keep_good(engine, loaded, last_good)
    return tuple(loaded.broken)


def _last_good(engine: Engine | None) -> dict:
    if engine is None:
        return {}
    with engine.connect() as conn:
        return oplog.good_files(conn)


def _keep_good(engine: Engine | None, loaded: Loaded, last_good: dict) -> None:
    """Store each file that validated now as its last good version (when it changed)."""
    if engine is not None and loaded.good:
        with engine.begin() as conn:
            for key, content in loaded.good.items():
                if last_good.get(key, (None, None))[1] != content:
                    oplog.save_good_file(conn, key, content)


def _shared(path: Path, key: str, loader, last_good: dict, loaded: Loaded):
    """One shared rule file, or its last good version (reported broken) when it fails validation."""
    try:
        value = loader(path)
    except RuleErrors as exc:
        kept = last_good.get(key)
        if kept is None:
            raise
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(kept[1], encoding="utf-8")
            value = loader(copy)
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        loaded.broken.append(BrokenFile(str(path), key, tuple(str(e) for e in exc.errors), sha256(text), True))
        return value
    if path.exists():
        loaded.good[key] = path.read_text(encoding="utf-8")
    return value
