"""Imports deferred to first use, so that a command loads only what it uses: `watcher --help`
must not pay for SQLAlchemy, Alembic, lxml, bs4 and ocdsmerge (issue 16: 1.3 s -> < 0.3 s)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class LazyModule:
    """Stands for module `name` and imports it at the first attribute read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        value = getattr(module, attr)
        setattr(self, attr, value)  # next reads skip __getattr__
        return value


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """A function of `module`, imported at its first call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module}.{name}, imported at its first call."
    return call
