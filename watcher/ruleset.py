"""The rules and sources a running command works with: every valid file, each broken one skipped
with its `file:line` errors (a warning) and replaced by its last good version when the store
keeps one. `watcher rules check` stays strict; this is for running (see rules/isolate.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from .config import Config
from .match.engine import Rulebook
from .money import load_rates
from .rules import load_requirement_rules, load_thresholds
from .rules.isolate import BrokenFile, Loaded, load_isolated
from .sources import Source
from .store import oplog

log = logging.getLogger("watcher.rules")


@dataclass(frozen=True)
class RuleSet:
    rulebook: Rulebook
    sources: tuple[Source, ...]
    broken: tuple[BrokenFile, ...]


def load(cfg: Config, engine: Engine | None = None, quiet: bool = False) -> RuleSet:
    """Thresholds and requirement phrases are shared by everyone: an error there still raises
    RuleErrors. Enterprise profiles and sources are isolated per file."""
    last_good = {}
    if engine is not None:
        with engine.connect() as conn:
            last_good = oplog.good_files(conn)
    loaded: Loaded = load_isolated(cfg.rules_dir, cfg.sources_dir, last_good)
    thresholds = load_thresholds(cfg.rules_dir / "thresholds.toml")
    requirements = load_requirement_rules(cfg.rules_dir / "requirements.toml")
    if engine is not None and loaded.good:
        with engine.begin() as conn:
            for key, content in loaded.good.items():
                if last_good.get(key, (None, None))[1] != content:
                    oplog.save_good_file(conn, key, content)
    if not quiet:
        for b in loaded.broken:
            serving = ("la dernière version valide reste en service / its last good version keeps serving"
                       if b.serving_last_good else "ignoré / skipped")
            log.warning("fichier de règles invalide / broken rule file %s: %s — %s", b.path, "; ".join(b.errors), serving)
    rulebook = Rulebook(tuple(loaded.enterprises), thresholds, requirements, load_rates(cfg.rules_dir / "rates.toml"))
    return RuleSet(rulebook, tuple(loaded.sources), tuple(loaded.broken))
