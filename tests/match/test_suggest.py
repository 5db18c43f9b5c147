"""Profiles suggested from real SEAO bids (tests/data/history, see PROVENANCE.md there)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from watcher.collect.seao_xml import parse
from watcher.match import capability, compile_profile, notice_text
from watcher.match.suggest import GENERIC_WORDS, STOP_WORDS, suggest_profile, suggest_profiles, to_toml
from watcher.match.text import normalize
from watcher.models import Notice
from watcher.rules.enterprises import check_rules, load_enterprise

HISTORY = Path(__file__).resolve().parent.parent / "data" / "history"
CTA = "1143148063"  # Chaîne de Travail Adapté CTA Inc.: 8 bids for building cleaning, 2017
SEMPI = "1160414166"  # Coop de travail SEMPI (Mont-Joli): 5 bids to Ville de Rimouski, 2014-2019


@pytest.fixture(scope="module")
def history() -> list[Notice]:
    notices: list[Notice] = []
    for path in sorted(HISTORY.glob("AvisRevisions_*.xml")):
        with path.open("rb") as stream:
            notices += [x for x in parse(stream, path.name) if isinstance(x, Notice)]
    return notices


def test_profile_of_an_adapted_work_enterprise(history):
    p = suggest_profile(history, CTA)
    assert p.name == "Chaîne de Travail Adapté CTA Inc."
    assert (p.bids, p.wins) == (8, 6)
    assert (p.first_bid, p.last_bid) == (date(2017, 2, 22), date(2017, 10, 17))
    assert p.categories == ("S9",)
    # 76111500 twice (a family code, trimmed to 761115), 76101502 three times, 91111601 twice.
    assert p.unspsc == ("76101502", "761115", "91111601")
    assert p.regions == ("02",)
    assert p.methods == ("invitation", "public")
    assert (p.min_value, p.max_value) == (57000.0, 230000.0)
    assert p.buyers[0] == ("Ville de Saguenay", 7)
    assert p.keywords[0] == "entretien sanitaire"
    assert len(p.keywords) <= 12
    for k in p.keywords:  # human-readable: as written (accents kept), never a stop word alone
        assert k == k.strip() and normalize(k).strip() not in STOP_WORDS | GENERIC_WORDS


def test_keywords_keep_accents_and_prefer_the_phrase(history):
    p = suggest_profile(history, "3366533423")  # services d'entretien c & s, Kamouraska school board
    assert p.keywords == ("entretien ménager",)
    assert suggest_profile(history, SEMPI).keywords[0] == "conciergerie"


def test_until_and_neq_format(history):
    p = suggest_profile(history, "1143 148 063", until=date(2017, 3, 1))
    assert p.neq == CTA and p.bids == 6 and p.last_bid == date(2017, 2, 22)
    assert p.buyers == (("Ville de Saguenay", 6),)


def test_revisions_count_once(history):
    """seao:1240168 is in the June and November 2019 files (a revision): Nordikeau bid once."""
    assert sum(1 for n in history for b in n.bidders if b.neq == "1146107272") == 2
    p = suggest_profile(history, "1146107272")
    assert (p.name, p.bids, p.wins, p.regions) == ("Nordikeau inc.", 1, 1, ("03",))
    assert suggest_profiles(history, [SEMPI, CTA]) == {SEMPI: suggest_profile(history, SEMPI), CTA: suggest_profile(history, CTA)}


def test_rule_file_passes_the_checker_and_matches_its_own_bids(history, tmp_path):
    p = suggest_profile(history, CTA)
    text = to_toml(p, "chaine-travail-adapte")
    assert text.startswith("# Profil SUGGÉRÉ à partir de 8 soumissions au SEAO entre le 2017-02-22 et le 2017-10-17")
    assert "coordonnateur" in text
    folder = tmp_path / "enterprises"
    folder.mkdir()
    (folder / "x.toml").write_text(text, encoding="utf-8")
    assert check_rules(tmp_path) == []
    enterprise = load_enterprise(folder / "x.toml")
    assert enterprise.keywords == p.keywords and enterprise.unspsc == p.unspsc and enterprise.regions == ("02",)
    assert tomllib.loads(text)["capacity"]["max_value"] == 230000
    profile = compile_profile(enterprise)
    own = {n.id: n for n in history if any(b.neq == CTA for b in n.bidders)}
    assert len(own) == 8
    judged = {n.id: capability(n, profile, notice_text(n))[1] for n in own.values()}
    # in its trade, or "to check" where only a code says so (« PAVILLON MELLON (ARRONDISSEMENT DE
    # JONQUIERE) » names a building, not a trade)
    assert all(r.ok for i, r in judged.items() if i != "seao:1069588")
    assert judged["seao:1069588"].level == "check"
    assert p.keywords == ("entretien sanitaire",)  # not the places of its titles (« socioculturel », « jonquière »)


def test_nothing_to_suggest(history):
    p = suggest_profile(history, "0000000000")
    assert p.bids == 0 and p.name == "" and p.unspsc == () and p.keywords == ()
    with pytest.raises(ValueError):
        to_toml(p, "vide")
    with pytest.raises(ValueError):
        to_toml(suggest_profile(history, CTA), "Pas Un Id")
