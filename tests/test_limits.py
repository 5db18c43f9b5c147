"""DepthGuard: the nesting limit for ijson's C object builder, checked on the bytes before they
are parsed (brackets inside strings do not count, escapes are read across read boundaries)."""

from __future__ import annotations

import io
import json
import random

import pytest

from watcher.limits import MAX_JSON_DEPTH, DepthGuard, TooLarge


class Dribble(io.RawIOBase):
    """A stream handing over a few bytes at a time: every split of an escape or a string is met."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.at, self.n = data, sizes, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.sizes[self.n % len(self.sizes)])
        self.n += 1
        chunk = self.data[self.at:self.at + size]
        self.at += len(chunk)
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _read(data: bytes, sizes: list[int] | None = None, limit: int = MAX_JSON_DEPTH) -> tuple[bytes, DepthGuard, bool]:
    guard = DepthGuard(Dribble(data, sizes) if sizes else io.BytesIO(data), limit)
    out = bytearray()
    try:
        while chunk := guard.read(8192):
            out += chunk
    except TooLarge:
        return bytes(out), guard, True
    return bytes(out), guard, False


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _random_value(rng: random.Random, depth: int):
    if depth <= 0 or rng.random() < 0.25:
        return "".join(rng.choice('ab[]{}"\\\\/é ') for _ in range(rng.randrange(6)))
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for _ in range(rng.randrange(1, 4))]
    return {_random_value(rng, 0): _random_value(rng, depth - 1) for _ in range(rng.randrange(1, 4))}


@pytest.mark.parametrize("seed", range(40))
def test_depth_is_that_of_the_parsed_value_whatever_the_strings_and_reads(seed: int) -> None:
    rng = random.Random(seed)
    value = _random_value(rng, 12)
    data = json.dumps(value, ensure_ascii=False).encode()
    limit = max(1, _depth(value) - rng.randrange(2))  # half of them pass by one level, half fit exactly
    out, guard, refused = _read(data, [rng.randrange(1, 9) for _ in range(7)], limit)
    assert refused == (_depth(value) > limit)
    if not refused:
        assert out == data and guard.values == (1 if isinstance(value, (dict, list)) else 0)
    else:  # handed over up to the bracket that opens level limit + 1
        assert out.count(b"[") + out.count(b"{") >= limit and data.startswith(out)
        assert data[len(out):len(out) + 1] in (b"[", b"{")


def test_brackets_and_escaped_quotes_in_strings_do_not_count() -> None:
    data = json.dumps({"a": ["[" * 500 + '\\"{{' + "\\" * 7, "]]]"]}).encode()
    out, guard, refused = _read(data, [3, 1, 2], limit=2)
    assert not refused and out == data and guard.values == 1


def test_deep_nesting_stops_at_the_bracket_past_the_limit() -> None:
    head = b'{"releases": [{"ocid": "a"}, {"b": '
    out, guard, refused = _read(head + b"[" * 40_000 + b"]" * 40_000 + b"}]}", limit=MAX_JSON_DEPTH)
    assert refused and out == head + b"[" * (MAX_JSON_DEPTH - 3)
    assert guard.passed == len(out)


def test_values_count_json_lines() -> None:
    out, guard, refused = _read(b'{"a": 1}\n{"b": [2]}\n[3]\n', [5])
    assert not refused and guard.values == 3


# --- clean_notice: the one-search check agrees with the field by field path -----------------

HOSTILE = ["", "ok", "tab\there", "line\nbreak", "cr\r\nlf", "nul\x00", "esc\x1b[31m", "c1\x85", "bidi\u202eevil",
           "sep\u2028", "bom\ufeff", "x" * 81, "y" * 2_001, "é" * 1_001, "  spaced  "]
URLS = [None, "", "https://seao.ca/a?b=1#c", "HTTP://EXAMPLE.org:8080/x", "javascript:alert(1)", "https://a b/",
        "https://[::1]/", "https://ex.org/\x00", "https:///nohost", " https://ex.org/", "https://ex.org/" + "a" * 2_000,
        "https://exämple.org/", "https://ex.org/[x]"]


def _variants():
    from dataclasses import replace

    from watcher.models import Bidder, Notice

    base = Notice(id="seao:1", source="seao", title="Titre", buyer_name="Ville", reference="R-1", notice_type="3",
                  description="Ligne 1\nLigne\t2", categories=("S3",), unspsc=("72101500",), regions=("06",),
                  bidders=(Bidder("A inc.", "1142700724"), Bidder("B", None)))
    yield base
    for text in HOSTILE:
        yield replace(base, id="seao:" + text)
        for name in ("source", "reference", "title", "buyer_name", "buyer_id", "notice_type", "description"):
            yield replace(base, **{name: text})
        for name in ("categories", "unspsc", "regions"):
            yield replace(base, **{name: (text,)})
        yield replace(base, bidders=(Bidder(text, text or None),))
    for url in URLS:
        yield replace(base, url=url)
    yield replace(base, categories=(6,))  # not text: made text
    yield replace(base, bidders=(Bidder(None, None),))


def test_clean_notice_check_agrees_with_the_field_by_field_path() -> None:
    from watcher.limits import _cleaned, clean_notice

    count = 0
    for notice in _variants():
        assert clean_notice(notice) == _cleaned(notice), notice
        count += 1
    assert count > 150


def test_real_notices_pass_the_check_unchanged() -> None:
    from pathlib import Path

    from watcher.collect import open_source_file, seao_xml
    from watcher.limits import _is_clean
    from watcher.models import Notice

    path = Path(__file__).parent.parent / "demo" / "seao" / "AvisRevisions_20180101_20180131.xml.gz"
    with open_source_file(path) as stream:
        notices = [n for n in seao_xml.parse(stream, path.name) if isinstance(n, Notice)]
    assert len(notices) > 100 and all(_is_clean(n) for n in notices)  # the usual case: one search, no copy
