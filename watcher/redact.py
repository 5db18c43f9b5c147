"""Secrets never printed: config.py registers each password it loads here, and every way text
leaves the process (error lines, log records, tracebacks under --verbose) goes through `redact`,
so a password cannot reach a terminal, the journal or a bug report, whatever the code path."""

from __future__ import annotations

import logging
from urllib.parse import quote

_SECRETS: set[str] = set()
MASK = "***"


def register(secret: str | None) -> None:
    """Remember a secret value (and its URL-quoted form, as it appears in a database URL)."""
    if secret and len(secret) >= 3:  # a 1-2 character "password" would mask half the output
        _SECRETS.add(secret)
        _SECRETS.add(quote(secret, safe=""))


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and traceback text before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info:
                import traceback

                record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
                record.exc_info = None
        return True
