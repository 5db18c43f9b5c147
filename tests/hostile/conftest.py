"""Helpers of the hostile-input tests: small OCDS files written by the tests themselves."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest


def release(n: int, title: str = "Entretien ménager", url: str | None = None, **tender) -> dict:
    """A minimal OCDS release of another publisher (ocid ocds-test-<n>, notice id ocds:ocds-test-<n>)."""
    docs = [{"url": url, "documentType": "tenderNotice"}] if url is not None else []
    return {"ocid": f"ocds-test-{n}", "id": f"r{n}", "date": "2026-10-01T12:00:00Z", "tag": ["tender"],
            "tender": {"id": str(n), "title": title, "documents": docs,
                       "tenderPeriod": {"endDate": "2026-12-01T12:00:00Z"}, **tender}}


def package(*releases: dict) -> bytes:
    """An OCDS release package holding `releases`."""
    return json.dumps({"uri": "https://example.org/p", "releases": list(releases)}, ensure_ascii=False).encode()


@pytest.fixture
def ocds() -> SimpleNamespace:
    return SimpleNamespace(release=release, package=package)
