"""build_digest is pure: which matches go in, in which order, how many, and when there is no mail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from watcher.digest.build import build_digest


def ids(digest) -> list[str]:
    return [i.notice.id for i in digest.items]


def test_keeps_matches_only_best_first_then_soonest_closing_then_newest(seao):
    digest = build_digest(seao.coop, seao.pairs, seao.now, max_items=25)
    # 0.9: Montréal A52 closes (soonest known closing first); SQI Nord (no closing, published
    # 2019-02-06) before Mille-Îles (no closing, 2018-09-04); 0.55: Brossard; Rimouski is "no".
    assert ids(digest) == ["seao:1219234", "seao:1234102", "seao:1196654", "seao:1230947"]
    assert digest.omitted == 0 and digest.generated_at == seao.now and digest.enterprise == seao.coop


def test_order_does_not_depend_on_input_order(seao):
    forward = build_digest(seao.coop, seao.pairs, seao.now, 25)
    backward = build_digest(seao.coop, list(reversed(seao.pairs)), seao.now, 25)
    assert ids(forward) == ids(backward)


def test_caps_at_max_items_and_counts_the_rest(seao):
    digest = build_digest(seao.coop, seao.pairs, seao.now, max_items=2)
    assert ids(digest) == ["seao:1219234", "seao:1234102"]
    assert digest.omitted == 2  # the 2 other matches; the "no" verdict is not counted


def test_none_when_nothing_to_send(seao):
    assert build_digest(seao.coop, [], seao.now, 25) is None
    only_no = [(n, m) for n, m in seao.pairs if not m.is_match]
    assert only_no and build_digest(seao.coop, only_no, seao.now, 25) is None


def test_language_comes_from_the_enterprise(seao):
    english = replace(seao.coop, language="en")
    assert build_digest(english, seao.pairs, seao.now, 25).language == "en"
    assert build_digest(seao.coop, seao.pairs, seao.now, 25).language == "fr"


def test_accepts_a_generator_and_rejects_a_zero_cap(seao):
    assert len(build_digest(seao.coop, (p for p in seao.pairs), seao.now, 25).items) == 4
    with pytest.raises(ValueError):
        build_digest(seao.coop, seao.pairs, seao.now, 0)


def test_describe_changes_says_what_moved_in_words():
    from watcher.digest.build import describe_changes

    fr, en = describe_changes([
        {"changes": {"closing_at": ["2019-02-21T11:00:00-05:00", "2019-02-28T11:00:00-05:00"]}},
        {"changes": {"title": ["a", "b"], "notice_type": ["3 - Avis", "Avis annulé"]}},
    ])
    assert fr == ("date de fermeture déplacée : 2019-02-21 11:00 → 2019-02-28 11:00; avis annulé; "
                  "autres champs modifiés (addenda) : title")
    assert en.startswith("closing date moved: 2019-02-21 11:00 → 2019-02-28 11:00; notice cancelled")
    assert describe_changes([]) == ("avis republié", "notice republished")
