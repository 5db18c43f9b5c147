"""Matching rules, data-driven from tests/data/match/cases.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from watcher.match import match_all, match_notice
from watcher.match.text import Phrase, normalize
from watcher.models import Bidder, Enterprise, Notice

CASES = tomllib.loads((Path(__file__).parent.parent / "data" / "match" / "cases.toml").read_text(encoding="utf-8"))


def _notice(fields: dict) -> Notice:
    f = {**CASES["defaults"]["notice"], **fields}
    value = f.pop("value")
    bidders = () if value < 0 else (Bidder("Coop test", None, value, True, value),)
    return Notice(id="seao:1", source="seao", title=f["title"], categories=tuple(f["categories"]), unspsc=tuple(f["unspsc"]),
                  regions=tuple(f["regions"]), method=f["method"], bidders=bidders)


def _enterprise(fields: dict) -> Enterprise:
    f = {**CASES["defaults"]["profile"], **fields}
    return Enterprise(id="coop-test", name="Coop test", emails=("a@example.org",), categories=tuple(f["categories"]),
                      unspsc=tuple(f["unspsc"]), keywords=tuple(f["keywords"]), exclude=tuple(f["exclude"]),
                      regions=tuple(f["regions"]), min_value=f["min_value"], max_value=f["max_value"], methods=tuple(f["methods"]))


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
def test_case(case):
    m = match_notice(_notice(case.get("notice", {})), _enterprise(case.get("profile", {})))
    assert m.verdict == case["verdict"], [r.fr for r in m.reasons]
    failing = sorted(r.criterion for r in m.reasons if not r.ok)
    assert failing == sorted(case.get("failing", []))
    assert {r.criterion for r in m.reasons} >= {"capability", "region", "value", "method"}
    assert (m.score > 0) == (m.verdict == "match")


def test_reasons_are_bilingual_and_name_the_evidence():
    m = match_notice(_notice({}), _enterprise({}))
    cap = next(r for r in m.reasons if r.criterion == "capability")
    assert "« entretien ménager »" in cap.fr and '"entretien ménager"' in cap.en
    value = next(r for r in m.reasons if r.criterion == "value")
    assert value.fr == "80 000 $ dans votre capacité"


def test_more_evidence_scores_higher():
    weak = match_notice(_notice({"unspsc": [], "categories": []}), _enterprise({}))
    strong = match_notice(_notice({"title": "Entretien ménager et conciergerie"}), _enterprise({}))
    assert 0 < weak.score < strong.score <= 1


def test_normalize_and_phrases():
    assert normalize("L'ÉCOLE Saint-Jean—entretien") == " ecol saint jean entretien "
    assert Phrase("Récupération").found_in(normalize("Service de recuperation des matieres"))
    assert not Phrase("recup").found_in(normalize("Service de recuperation"))
    assert Phrase("recup*").found_in(normalize("Service de recuperation"))


def test_match_all_keeps_only_matches_unless_asked():
    notices = [_notice({}), _notice({"regions": ["03"]})]
    assert len(list(match_all(notices, [_enterprise({})]))) == 1
    assert len(list(match_all(notices, [_enterprise({})], only_matches=False))) == 2
