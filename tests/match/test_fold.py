"""`fold` (translate + regexes, issue 16) gives exactly what the character loop of
`fold_with_offsets` gives: on every character up to U+2FFFF in several whitespace contexts, on
random strings of tricky characters, and on real notice titles and descriptions."""

from __future__ import annotations

import json
import random
from pathlib import Path

from watcher.text import fold, fold_with_offsets

DATA = Path(__file__).resolve().parent.parent / "data"


def _slow(text: str) -> str:
    return fold_with_offsets(text)[0]


def test_every_character_folds_as_the_character_loop_does():
    differ = []
    for code in range(0x30000):
        if 0xD800 <= code < 0xE000:
            continue
        c = chr(code)
        for text in (f"a{c} {c}b \n{c}", f"{c} x", f" {c}\t{c}{c}\u200b \u200b\n y{c}", c, f"\n{c}\r\n{c}  "):
            if fold(text) != _slow(text):
                differ.append((hex(code), text))
    assert differ == []


def test_random_strings_of_spaces_breaks_invisible_and_accented_characters():
    rng = random.Random(7)
    alphabet = [chr(rng.randrange(0xD800)) for _ in range(300)] + list(" \n\t\u00a0\u200b\r\u2028\u202féÉœ’-'¨\ufffe\uffff") * 5
    for _ in range(30_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert fold(text) == _slow(text), repr(text)


def test_real_notice_texts():
    rows = (DATA / "notices" / "seao-notices-fr-2025-01.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [v for row in rows for v in json.loads(row).values() if isinstance(v, str)]
    assert len(texts) >= 34
    for text in texts:
        assert fold(text) == _slow(text)
    assert fold("  Main-d’Œuvre  ÉQUIPEMENTS\u00a0\n x") == "main-d'oeuvre equipements\nx"


def test_the_table_of_folded_characters_stays_bounded_on_hostile_text():
    from watcher import text as text_module

    hostile = "".join(chr(c) for c in range(0x10000, 0x10000 + 3 * text_module._FOLD_TABLE_MAX))  # 60,000 distinct characters
    assert fold(hostile) == _slow(hostile)
    assert len(text_module._FOLD_TABLE) <= text_module._FOLD_TABLE_MAX
