"""Editing a profile from the console: check a TOML text as `rules check` would, save it where the
CLI reads it with the previous version kept, and apply one list change (a proposal) with tomlkit
so the coordinator's comments and layout survive.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from ..errors import RuleError, RuleErrors
from ..models import Enterprise
from .enterprises import load_enterprise

HISTORY = ".history"  # rules/enterprises/.history/<id>/<UTC time>.toml: not read by load_enterprises (*.toml at top only)


def check_text(text: str, name: str) -> tuple[Enterprise | None, list[RuleError]]:
    """The profile a TOML text describes, or every problem as name:line: field: message."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        try:
            found = load_enterprise(path)
        except RuleErrors as exc:
            return None, [RuleError(name, e.line, e.field, e.message) for e in exc.errors]
    return found, []


def profile_path(rules_dir: Path, enterprise_id: str) -> Path:
    return Path(rules_dir) / "enterprises" / f"{enterprise_id}.toml"


def save_profile(path: Path, text: str, now: datetime | None = None) -> Path | None:
    """Write `text` to `path` atomically, first copying the current file to the history folder.
    Returns the kept copy (None for a new file); `watcher rules test ID --diff <copy>` compares with it."""
    now = now or datetime.now(timezone.utc)
    path = Path(path)
    kept = None
    if path.exists():
        folder = path.parent / HISTORY / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / f"{now:%Y%m%dT%H%M%S%fZ}.toml"
        kept.write_bytes(path.read_bytes())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.replace(tmp, path)  # readers see the old file or the new one, never half of it
    return kept


def edit_list(text: str, dotted: str, action: str, value: str) -> str:
    """`text` with `value` added to or removed from the list at `dotted` (e.g. "match.exclude"),
    comments and layout kept; the table and the list are created when missing."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ValueError(f"TOML invalide / invalid TOML: {exc}") from exc
    table_name, key = dotted.split(".", 1)
    table = doc.get(table_name)
    if table is None:
        table = tomlkit.table()
        doc[table_name] = table
    items = table.get(key)
    if items is None:
        items = tomlkit.array()
        table[key] = items
    current = [str(v) for v in items]
    if action == "add" and value not in current:
        items.append(value)
    elif action == "remove" and value in current:
        del items[current.index(value)]
    return tomlkit.dumps(doc)
