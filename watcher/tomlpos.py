"""Find the line of a key in TOML text, so errors can say file:line.

tomllib gives values, not positions; this scanner is enough for the flat files we read
(tables, dotted tables, `key = value` lines), which is all our config and rule files use.
"""

from __future__ import annotations

import re

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
