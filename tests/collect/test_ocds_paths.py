"""The two ways the OCDS parser reads a file give the same items: a release package through ijson's
C object builder (the usual file, fast), anything else event by event; and one release alone is
taken as its own compiled release (what ocdsmerge would give, without its cost)."""

from __future__ import annotations

import copy
import io
import json
import random
from pathlib import Path

import pytest

from watcher.collect import ocds
from watcher.models import Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "ocds"
PACKAGES = ["hebdo_20260914_20260920_excerpt.json", "package-republished.json", "truncated.json", "ocds10-tag-string.json",
            "publishers/mx-cdmx-release-package.json", "publishers/py-dncp-release-package-1.0.json"]


def _items(data: bytes, monkeypatch=None, event_path: bool = False) -> list:
    if event_path:
        monkeypatch.setattr(ocds, "_package_counts", lambda stream, name: (None, None))
    return [x if isinstance(x, Notice) else (type(x).__name__, x.position, str(x))  # errors have no ==
            for x in ocds.parse(io.BytesIO(data), "x.json")]


def _spied(monkeypatch) -> list:
    taken: list = []
    real = ocds._package_counts

    def spy(stream, name):
        counts, at = real(stream, name)
        taken.append(counts is not None)
        return counts, at
    monkeypatch.setattr(ocds, "_package_counts", spy)
    return taken


def _package(releases: list[dict]) -> bytes:
    return json.dumps({"uri": "x", "publisher": {"name": "[{\"]"}, "releases": releases}, ensure_ascii=False).encode()


def _mixed() -> bytes:
    """Several releases of one ocid far apart, strings full of brackets, quotes and backslashes."""
    meta, releases = json.loads((DATA / PACKAGES[0]).read_text(encoding="utf-8-sig")), []
    for i, release in enumerate(meta["releases"][:12]):
        release = copy.deepcopy(release)
        release.setdefault("tender", {})["description"] = '[[{{ "cité" \\ } ]] \\"' * (i + 1)
        releases.append(release)
    again = copy.deepcopy(releases[0])
    again["id"], again["tender"]["title"] = "29991231235959", "Titre révisé ]}"
    return _package(releases[:6] + [again] + releases[6:])


@pytest.mark.parametrize("name", PACKAGES)
def test_release_package_fast_path_gives_the_event_path_items(name: str, monkeypatch) -> None:
    data = (DATA / name).read_bytes()
    taken = _spied(monkeypatch)
    fast = _items(data)
    assert taken == [True], "a release package is read by ijson's C builder"
    monkeypatch.undo()
    assert fast == _items(data, monkeypatch, event_path=True)
    assert any(isinstance(x, Notice) for x in fast)


def test_fast_path_merges_an_ocid_stated_twice_and_reads_strings_with_brackets(monkeypatch) -> None:
    data = _mixed()
    fast = _items(data)
    assert fast == _items(data, monkeypatch, event_path=True)
    ocid = json.loads(data)["releases"][0]["ocid"]
    [merged] = [n for n in fast if n.id == "seao:" + ocid.removeprefix(ocds.SEAO_PREFIX)]
    assert merged.title == "Titre révisé ]}" and len(fast) == 12  # held until its last release, then merged


@pytest.mark.parametrize("data", [
    b'{"ocid": "ocds-x-1", "releases": []}',  # a top-level ocid: not a package
    b'{"records": []}',
    b'[{"ocid": "ocds-x-1", "tender": {"title": "a"}}]',
    (DATA / "record-package.json").read_bytes(),
    (DATA / "releases.jsonl").read_bytes(),
    _package([{"ocid": "ocds-x-1", "tender": {"title": "a"}}]) + b"\n" + b'{"ocid": "ocds-x-2", "tender": {"title": "b"}}',
], ids=["top-ocid", "records", "array", "record-package", "json-lines", "package-then-release"])
def test_other_shapes_take_the_event_path(data: bytes, monkeypatch) -> None:
    taken = _spied(monkeypatch)
    items = _items(data)
    assert taken in ([False], [])
    monkeypatch.undo()
    assert items == _items(data, monkeypatch, event_path=True)


def _real_releases() -> list[dict]:
    out = []
    for name in PACKAGES[:2] + PACKAGES[3:]:
        out += json.loads((DATA / name).read_text(encoding="utf-8-sig"))["releases"]
    return out


def test_single_release_is_its_own_compiled_release() -> None:
    """ocdsmerge on one release drops `id` and `tag` (the notice takes the tags from the release
    itself), drops null fields and merges objects of one id: the notice built is the same."""
    releases = _real_releases()
    nulls = copy.deepcopy(releases[0])
    nulls["tender"].update(title=None, description=None)
    nulls["buyer"] = None
    twice = copy.deepcopy(releases[0])
    twice["parties"] = twice["parties"] + [dict(twice["parties"][0], name="Autre nom")]
    for release in [*releases, nulls, twice]:
        when = ocds._stated_at(release)
        assert ocds._notice(release, release, when) == ocds._notice(ocds._merge([release]), release, when), release["ocid"]
    assert len(releases) > 50


def _ijson_counts(data: bytes):
    return ocds._parsed_counts(io.BytesIO(data.removeprefix(ocds.BOM)))


@pytest.mark.parametrize("seed", range(6))
def test_ocids_counted_on_the_bytes_are_those_ijson_reads_whatever_the_blocks(seed: int) -> None:
    """The first pass counts ocids with a regular expression, fed blocks of any size: a key or a
    value cut between two blocks is counted once, escaped quotes and brackets in strings are no key."""
    data = _mixed() + b" "
    data = data.replace(b'"ocid": ', b'"ocid"\n\t :  ', 3)  # JSON's whitespace around the colon
    expected, _ = _ijson_counts(data)
    rng, counter, at = random.Random(seed), ocds._OcidCounter(), 0
    while at < len(data):
        size = rng.choice([1, 2, 3, 5, 8, 64, 4096])
        counter.feed(data[at:at + size])
        at += size
    counter.feed(b"")
    assert counter.counts == expected and not counter.escaped and sum(expected.values()) == 13


@pytest.mark.parametrize("name", PACKAGES)
def test_byte_counts_match_ijson_on_real_packages(name: str) -> None:
    data = (DATA / name).read_bytes().removeprefix(ocds.BOM)
    assert ocds._package_counts(io.BytesIO(data), name) == _ijson_counts(data)


@pytest.mark.parametrize("key, ocid", [("\\u006fcid", "ocds-x-1"), ("ocid", "ocds-\\u0078-1")], ids=["key", "value"])
def test_escaped_ocid_key_or_value_is_counted_by_ijson(key: str, ocid: str, monkeypatch) -> None:
    """A key whose letters are escapes, or an ocid with escapes, is counted by ijson (the regular
    expression would miss it, and a notice would be given before its ocid's last release)."""
    first = '{"%s": "%s", "id": "1", "date": "2026-01-01T00:00:00Z", "tender": {"title": "Premier titre"}}' % (key, ocid)
    later = '{"ocid": "ocds-x-1", "id": "2", "date": "2026-02-01T00:00:00Z", "tender": {"title": "Titre révisé"}}'
    data = ('{"releases": [%s, {"ocid": "ocds-x-2", "tender": {"title": "Autre"}}, %s]}' % (first, later)).encode()
    counts, _ = ocds._package_counts(io.BytesIO(data), "x.json")
    assert counts == {"ocds-x-1": 2, "ocds-x-2": 1}
    items = _items(data)
    assert [n.title for n in items] == ["Autre", "Titre révisé"]
    assert items == _items(data, monkeypatch, event_path=True)
