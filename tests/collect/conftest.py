"""A real local HTTP server (pytest-httpserver) for the collectors' tests, one per test module."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def _server():
    server = HTTPServer(threaded=True)  # threaded: a slow handler must not block the next test
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(_server: HTTPServer):
    _server.clear()
    yield _server
    _server.clear()
