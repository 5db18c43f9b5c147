"""sources/*.toml: the shipped sources load; each mistake is file:line: key: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import RuleErrors
from watcher.sources import KINDS, load_sources

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_sources_load_with_real_urls():
    sources = {s.name: s for s in load_sources(ROOT / "sources")}
    assert {"seao-ocds", "canadabuys"} <= set(sources)
    assert all(s.url.startswith("https://") for s in sources.values())
    assert sources["seao-ocds"].options["package"] == "d23b2e02-085d-43e5-9e6e-e1d558ebfdd5"
    assert sources["seao-ocds"].trigger().fields  # the cron parses


def test_every_kind_is_documented():
    for name, kind in KINDS.items():
        assert kind.doc and kind.parser and kind.discovery in ("url", "urls", "ckan", "pages"), name


GOOD = 'kind = "canadabuys"\nurl = "https://example.org/x.csv"\nschedule = "0 6 * * *"\n'


@pytest.mark.parametrize(
    "text, line, field, message",
    [
        (GOOD + "schedul = \"x\"\n", 4, "schedul", "unknown key"),
        ('kind = "rss"\nurl = "https://example.org/x"\nschedule = "0 6 * * *"\n', 1, "kind", "unknown kind"),
        (GOOD.replace("0 6 * * *", "61 6 * * *"), 3, "schedule", "invalid cron"),
        (GOOD.replace("https://", "ftp://"), 2, "url", "http(s) URL"),
        (GOOD + "[options]\nlangue = \"fr\"\n", 5, "options.langue", "unknown option"),
        (GOOD + "enabled = \"yes\"\n", 4, "enabled", "wrong type"),
        ('kind = "canadabuys"\nschedule = "0 6 * * *"\n', None, "url", "required key"),
        ('kind = "seao_ocds"\nurl = "https://example.org"\nschedule = "0 6 * * *"\n[options]\nprefixes = ["hebdo_"]\n', 4,
         "options.package", "required option"),
    ],
    ids=["unknown-key", "unknown-kind", "bad-cron", "bad-url", "unknown-option", "wrong-type", "missing-url", "missing-package"],
)
def test_source_errors(tmp_path, text, line, field, message):
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleErrors) as err:
        load_sources(tmp_path)
    [error] = err.value.errors
    assert (error.file, error.line, error.field) == (str(path), line, field)
    assert message in error.message
