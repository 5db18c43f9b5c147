"""Logging for the daemon and the CLI: to stderr (the journal under systemd), one line per event,
failures at WARNING or above, their tracebacks only at DEBUG; `[daemon] log_format = "json"` gives
one JSON object per line for log shippers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from .redact import RedactingFilter


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} plus "traceback" when one is attached."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and redacted) by RedactingFilter
            out["traceback"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def setup(level: str = "INFO", fmt: str = "text", verbose: bool = False) -> None:
    """Configure the root logger once per process (replacing earlier handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        # the journal adds its own timestamp; the level stays in the line so `grep WARNING` works
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())  # no password in the journal, whatever logs it
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel("DEBUG" if verbose else level)
    for noisy in ("apscheduler", "httpx", "httpcore", "aiosmtplib", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)
