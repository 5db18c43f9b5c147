"""Find the line of a key in TOML text, so errors can say file:line.

tomllib gives values, not positions; this scanner is enough for the flat files we read
(tables, dotted tables, `key = value` lines), which is all our config and rule files use.
"""

from __future__ import annotations

import re

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def key_line(text: str, dotted: str) -> int | None:
    """Line (1-based) where `a.b.key` is set, or where table `a.b` starts; None if not found."""
    parts = dotted.split(".")
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
                return number
    return table_line
