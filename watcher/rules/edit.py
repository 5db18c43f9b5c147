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


# Fields the console's form edits: (dotted key, kind). Everything else is edited as TOML.
FORM_FIELDS = (("name", "text"), ("emails", "list"), ("match.keywords", "list"), ("match.exclude", "list"),
               ("match.regions", "list"), ("match.categories", "list"), ("match.unspsc", "list"),
               ("capacity.min_value", "number"), ("capacity.max_value", "number"))


def form_values(text: str) -> dict[str, str]:
    """The form's initial contents: lists one item per line, numbers as written, "" when absent."""
    doc = tomlkit.parse(text)
    out = {}
    for dotted, kind in FORM_FIELDS:
        value = _get(doc, dotted)
        if value is None:
            out[dotted] = ""
        elif kind == "list":
            out[dotted] = "\n".join(str(v) for v in value)
        else:
            out[dotted] = str(value.unwrap() if hasattr(value, "unwrap") else value)
    return out


def apply_form(text: str, submitted: dict[str, str]) -> str:
    """`text` with the form's values written in with tomlkit: a field left as it was is not touched
    (its comments and layout stay), a changed one is replaced, an emptied number is removed. A value
    that is not a number is written as text, so the check names its line and field."""
    doc = tomlkit.parse(text)
    for dotted, kind in FORM_FIELDS:
        if dotted not in submitted:
            continue
        raw = submitted[dotted].replace("\r\n", "\n")
        if kind == "list":
            new: object = [line.strip() for line in raw.replace(",", "\n").split("\n") if line.strip()]
        elif kind == "number":
            raw = raw.strip().replace(" ", "").replace("\u00a0", "")
            new = None if raw == "" else _number(raw)
        else:
            new = raw.strip()
        current = _get(doc, dotted)
        current_plain = current.unwrap() if hasattr(current, "unwrap") else current
        if current_plain == new or (current is None and new in (None, [], "")):
            continue
        table_name, _, key = dotted.rpartition(".")
        table = doc if not table_name else doc.get(table_name)
        if table is None:
            table = tomlkit.table()
            doc[table_name] = table
        if new is None:
            del table[key]
        else:
            table[key] = new
    return tomlkit.dumps(doc)


def _get(doc, dotted: str):
    node = doc
    for part in dotted.split("."):
        if not hasattr(node, "get"):
            return None
        node = node.get(part)
        if node is None:
            return None
    return node


def _number(raw: str) -> object:
    try:
        value = float(raw)
    except ValueError:
        return raw  # left as text: `rules check` reports "must be a number" at its line
    return int(value) if value.is_integer() else value
