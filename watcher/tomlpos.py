"""Find the line of a key in TOML text, so errors can say file:line.

tomllib gives values, not positions; this scanner is enough for the flat files we read
(tables, dotted tables, `key = value` lines), which is all our config and rule files use.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import RuleError

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def key_line(text: str, dotted: str, nth: int = 0) -> int | None:
    """Line (1-based) where `a.b.key` is set, or where table `a.b` starts; None if not found.

    `nth` picks the nth occurrence, for keys of the nth `[[array.of.tables]]` row.
    """
    parts = dotted.split(".")
    seen = 0
    table_line = None
    current: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = _TABLE.match(line)
        if m:
            current = [p.strip().strip("\"'") for p in m.group(1).split(".")]
            if current == parts:
                table_line = table_line or number
            continue
        k = _KEY.match(line)
        if k:
            key = [p.strip().strip("\"'") for p in k.group(1).split(".")]
            if current + key == parts:
                if seen == nth:
                    return number
                seen += 1
    return table_line


def array_row_line(text: str, name: str, nth: int, key: str | None = None) -> int | None:
    """Line of `key` in the nth `[[name]]` row, or of the row's header when the key is absent."""
    seen, header = 0, None
    for number, line in enumerate(text.splitlines(), start=1):
        m = _TABLE.match(line)
        if m:
            if header is not None:
                break  # the row ended without the key
            if line.strip().startswith("[[") and m.group(1).strip() == name:
                if seen == nth:
                    header = number
                seen += 1
            continue
        k = _KEY.match(line)
        if header is not None and key is not None and k and k.group(1).strip().strip("\"'") == key:
            return number
    return header


def item_line(text: str, line: int, item: str) -> int:
    """Line of `item` inside a list that may span several lines, starting at its key's line."""
    basic = item.replace("\\", "\\\\").replace('"', '\\"')
    needles = (f"'{item}'", f'"{basic}"')
    lines = text.splitlines()
    for number in range(line, len(lines) + 1):
        current = lines[number - 1]
        if number > line and re.match(r"""\s*(\[|[A-Za-z0-9_.\"'-]+\s*=)""", current):
            break  # the next key or table: the list has ended
        if any(n in current for n in needles):
            return number
    return line


def read_toml(path: Path) -> tuple[str, dict[str, Any] | None, RuleError | None]:
    """(text, data, error) of a rule file: unreadable or invalid TOML becomes a RuleError at tomllib's line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        return "", None, RuleError(str(path), None, None, f"lecture impossible / cannot read: {reason}")
    try:
        return text, tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", str(exc))
        line = int(where.group(1)) if where and where.group(1) else max(1, len(text.splitlines()))
        detail = str(exc)[: where.start()].strip() if where else str(exc)
        return text, None, RuleError(str(path), line, None, f"syntaxe TOML invalide / invalid TOML syntax: {detail}")
