"""Consortium proposals: needs, coverage, capacity, lead, willingness, regions and ranking."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from watcher.match import notice_text
from watcher.match.consortia import _items, propose
from watcher.match.verdict import notice_facts
from watcher.models import Enterprise, Notice
from watcher.rules.thresholds import load_thresholds

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = load_thresholds(ROOT / "rules" / "thresholds.toml")
MTL = ZoneInfo("America/Montreal")
EXTRACTED = dict(bid_bond="not_stated", bid_bond_percent=None, bid_bond_amount=None, performance_bond="not_stated",
                 performance_bond_percent=None, performance_bond_amount=None, labour_materials_bond_percent=None,
                 insurance_liability_amount=None, rbq_licence=False, amp_authorisation=False,
                 revenu_quebec_attestation=False, evidence={})

CLEANING = ("entretien ménager", "conciergerie", "entretien sanitaire", "salubrité")
# « service alimentaire » and « services alimentaires » are one phrase (inflection does not count): kept once.
CATERING = ("traiteur", "service alimentaire", "services alimentaires", "service de cafétéria", "repas", "cantine")


def _notice(title: str, value: float | None, regions: tuple[str, ...] = ("16",), buyer: str = "Centre de services scolaire des Patriotes",
            description: str = "", **kw) -> Notice:
    return Notice(id="seao:1", source="seao", title=title, buyer_name=buyer, method="public", nature="services",
                  regions=regions, published_at=datetime(2025, 1, 20, 9, tzinfo=MTL), closing_at=datetime(2025, 2, 24, 14, tzinfo=MTL),
                  estimated_value=value, description=description, **kw)


def _ent(id: str, keywords: tuple[str, ...], max_value: float, regions: tuple[str, ...] = ("*",), **kw) -> Enterprise:
    return Enterprise(id=id, name=id.replace("-", " ").title(), emails=(f"{id}@example.org",), keywords=keywords,
                      regions=regions, min_value=1000, max_value=max_value, **kw)


def _facts(notice: Notice, **stated):
    return notice_facts(notice, THRESHOLDS, SimpleNamespace(**{**EXTRACTED, **stated}) if stated else None)


HORIZON = _ent("coop-entretien-horizon", CLEANING, 250000, ("06", "13", "15", "16"))
FESTIN = _ent("festin-solidaire", CATERING, 75000)
IMPRIMERIE = _ent("imprimerie-capitale", ("impression", "reprographie"), 150000, ("03", "12"))
PROPRETE_LAVAL = _ent("proprete-laval", CLEANING, 400000, ("13",))  # right trade, wrong region


def test_two_capabilities_give_the_obvious_pair():
    notice = _notice("Entretien ménager et service alimentaire - Centre de services scolaire des Patriotes", 180000.0)
    p = propose(notice, _facts(notice), [HORIZON, FESTIN, IMPRIMERIE, PROPRETE_LAVAL])
    assert [n.label for n in p.needs] == ["entretien ménager", "service alimentaire"]
    assert p.alone == ()  # Horizon is realistic for cleaning, but the notice also asks for catering
    team = p.teams[0]
    assert set(team.members) == {"coop-entretien-horizon", "festin-solidaire"} and team.full_coverage
    assert team.covers == {"coop-entretien-horizon": ("entretien ménager",), "festin-solidaire": ("service alimentaire",)}
    assert team.lead == "coop-entretien-horizon"  # no surety asked: the largest capacity leads
    assert abs(sum(team.shares.values()) - 1) < 0.01
    assert team.shares["festin-solidaire"] * 180000 <= 75000  # nobody is given more than its capacity
    assert any("Festin Solidaire : service alimentaire — part 29 %" in r for r in team.reasons_fr)
    assert all(t.full_coverage for t in p.teams) and len(p.teams) == 1


def test_needs_follow_the_notice_items_and_the_same_phrase_is_one_need():
    notice = _notice("Entretien ménager et service de cafétéria", 180000.0,
                     description="Objet : entretien ménager des écoles, repas du midi et service de cafétéria.")
    text, _ = _items(notice)
    assert text == notice_text(notice)  # same words as the matcher: the same hits
    p = propose(notice, _facts(notice), [HORIZON, FESTIN])
    # « repas » is hit by the same enterprises as « service de cafétéria »: they cannot be told apart.
    assert [n.label for n in p.needs] == ["entretien ménager", "service de cafétéria / repas"]


def test_unspsc_codes_attach_to_the_trade_of_the_keyword_hitters():
    notice = _notice("Entretien ménager et service alimentaire - École secondaire du Mont-Bruno", 180000.0,
                     unspsc=("76111501", "90101700"))
    coded = replace(FESTIN, unspsc=("9010",))
    cafeteria = _ent("cafe-code-seulement", (), 90000, unspsc=("901017",))  # no keyword, only the UNSPSC code
    both = replace(HORIZON, id="multiservices", unspsc=("7611", "9010"), max_value=100000.0)  # two trades: must not fuse them
    p = propose(notice, _facts(notice), [HORIZON, coded, cafeteria, both])
    assert [n.label for n in p.needs] == ["entretien ménager", "service alimentaire"]
    team = next(t for t in p.teams if "cafe-code-seulement" in t.members)
    assert team.covers["cafe-code-seulement"] == ("service alimentaire",)
    assert next(t for t in p.teams if "multiservices" in t.members).covers["multiservices"] == ("entretien ménager", "service alimentaire")


def test_a_notice_too_large_for_each_gets_a_team_whose_capacity_reaches_its_value():
    notice = _notice("Entretien ménager des installations du CISSS de la Montérégie-Centre", 600000.0,
                     buyer="CISSS de la Montérégie-Centre")
    cleaners = [_ent(f"coop-{i}", CLEANING, cap, ("16",)) for i, cap in enumerate((250000, 200000, 180000, 90000))]
    p = propose(notice, _facts(notice), cleaners)
    assert p.teams and p.alone == ()
    caps = {e.id: e.max_value for e in cleaners}
    for team in p.teams:
        assert sum(caps[m] for m in team.members) >= 600000 and team.full_coverage
        assert all(team.shares[m] * 600000 <= caps[m] + 1 for m in team.members)
    assert set(p.teams[0].members) == {"coop-0", "coop-1", "coop-2"}  # three suffice, no pair does
    assert any("capacité réunie 630 000 $ pour 600 000 $" in r for r in p.teams[0].reasons_fr)
    p = propose(notice, _facts(notice), cleaners, max_size=2)
    assert p.teams == () and "les 2 plus grandes capacités (450 000 $) n'atteignent pas 600 000 $" in p.why_fr


def test_an_unwilling_enterprise_is_never_proposed():
    notice = _notice("Entretien ménager et service alimentaire - Centre de services scolaire des Patriotes", 180000.0)
    unwilling = _ent("cuisine-autonome", CATERING, 500000, consortium_willing=False)
    p = propose(notice, _facts(notice), [HORIZON, FESTIN, unwilling])
    assert p.teams and all("cuisine-autonome" not in t.members for t in p.teams)
    p = propose(notice, _facts(notice), [HORIZON, unwilling])
    assert p.teams == () and "cuisine-autonome" not in p.alone


def test_a_surety_nobody_can_carry_gives_no_team_and_says_why():
    notice = _notice("Entretien ménager des installations du CISSS de la Montérégie-Centre", 600000.0,
                     buyer="CISSS de la Montérégie-Centre")
    cleaners = [_ent(f"coop-{i}", CLEANING, 350000, ("16",), bid_bond=i == 0, max_bond=20000 if i == 0 else None) for i in range(3)]
    facts = _facts(notice, bid_bond="required", bid_bond_percent=10.0, evidence={"bid_bond": "garantie de soumission de 10 %"})
    p = propose(notice, facts, cleaners)
    assert p.teams == ()
    assert "ne peut fournir la garantie de soumission de 60 000 $" in p.why_fr and "60 000 $ bid bond" in p.why_en
    # One member able to carry it becomes the lead of every team.
    able = replace(cleaners[2], bid_bond=True, max_bond=100000.0, max_value=300000.0)
    p = propose(notice, facts, [*cleaners[:2], able])
    assert p.teams and all(t.lead == "coop-2" for t in p.teams)
    assert any("porte la garantie de soumission de 60 000 $" in r for r in p.teams[0].reasons_fr)


def test_ties_are_ranked_by_declared_partners_then_past_co_bidding():
    notice = _notice("Entretien ménager et service alimentaire - Centre de services scolaire des Patriotes", 180000.0)
    a, b = _ent("menage-a", CLEANING, 120000), _ent("menage-b", CLEANING, 120000, consortium_partners=("traiteur-d",))
    c, d = _ent("traiteur-c", CATERING, 120000), _ent("traiteur-d", CATERING, 120000)
    p = propose(notice, _facts(notice), [a, b, c, d], co_bids={frozenset(("menage-a", "traiteur-c"))})
    ranked = [set(t.members) for t in p.teams]
    assert ranked[:2] == [{"menage-b", "traiteur-d"}, {"menage-a", "traiteur-c"}] and len(ranked) == 4
    assert any("partenaires déclarés : Menage B et Traiteur D" in r for r in p.teams[0].reasons_fr)
    assert any("ont déjà soumissionné ensemble" in r for r in p.teams[1].reasons_fr)
    # A partnership declared by the other side counts the same.
    d2 = replace(d, consortium_partners=("menage-a",))
    p = propose(notice, _facts(notice), [a, replace(b, consortium_partners=()), c, d2])
    assert set(p.teams[0].members) == {"menage-a", "traiteur-d"}


def test_a_notice_one_enterprise_can_take_alone_yields_no_proposal():
    notice = _notice("Entretien ménager - Hôtel de ville de Longueuil", 120000.0, buyer="Ville de Longueuil", municipal=True)
    p = propose(notice, _facts(notice), [HORIZON, FESTIN, _ent("coop-menage-sud", CLEANING, 60000, ("16",))])
    assert p.teams == () and p.alone == ("coop-entretien-horizon",)
    assert "peut réaliser ce contrat seule" in p.why_fr


def test_delivery_regions_must_all_be_covered():
    notice = _notice("Entretien ménager des bureaux de Québec et de Lévis", 200000.0, regions=("03", "12"),
                     buyer="Société québécoise des infrastructures")
    quebec = _ent("menage-quebec", CLEANING, 250000, ("03",))
    quebec2 = _ent("menage-capitale", CLEANING, 260000, ("03",))
    levis = _ent("menage-levis", CLEANING, 150000, ("12",))
    p = propose(notice, _facts(notice), [quebec, quebec2, levis])
    assert p.alone == ()  # Québec is realistic for its region only
    assert p.teams and all("menage-levis" in t.members and t.full_coverage for t in p.teams)
    assert p.teams[0].regions["menage-levis"] == ("12",)
    p = propose(notice, _facts(notice), [quebec, quebec2])
    assert p.teams == () and "Chaudière-Appalaches" in p.why_fr


def test_a_partial_team_says_what_it_leaves_uncovered():
    notice = _notice("Entretien ménager et service alimentaire - Centre de services scolaire des Patriotes", 300000.0)
    small = [_ent(f"menage-{i}", CLEANING, 160000, ("16",)) for i in range(2)]
    p = propose(notice, _facts(notice), [*small, _ent("cuisine-autonome", CATERING, 500000, consortium_willing=False)])
    assert p.teams and not p.teams[0].full_coverage
    assert any(r.startswith("non couvert : « service alimentaire »") for r in p.teams[0].reasons_fr)


def test_a_pool_indexed_once_proposes_the_same_teams_as_the_whole_list():
    """The Judge proposes from a Pool: only the candidates of its index are tried, and only the
    profiles sharing a trade with a hitter may borrow (issue 16: 10,000 profiles cost 2 s a
    notice). Same teams and reasons as trying every profile, here and with unrelated profiles added."""
    from watcher.match import compile_profile
    from watcher.match.consortia import Pool
    from watcher.match.engine import CandidateIndex

    kin = _ent("menage-rive-nord", ("conciergerie", "nettoyage de bâtiments"), 90000, ("16",))  # borrows from Horizon
    others = [_ent(f"autre-{i}", (f"mot{i} rare",), 50000) for i in range(40)]
    profiles = [compile_profile(e) for e in (HORIZON, FESTIN, IMPRIMERIE, PROPRETE_LAVAL, kin, *others)]
    pool = Pool(profiles, CandidateIndex(profiles).candidates)
    notices = [_notice("Entretien ménager et service alimentaire - Centre de services scolaire des Patriotes", 180000.0),
               _notice("Entretien ménager des écoles", 300000.0),  # Horizon and its kin (borrowing)
               _notice("Nettoyage de bâtiments et repas", 300000.0, regions=("16", "13"))]
    teams = 0
    for notice in notices:
        expected = propose(notice, _facts(notice), profiles)
        assert propose(notice, _facts(notice), pool) == expected
        teams += len(expected.teams)
    assert teams  # compared on real teams
    borrowed = propose(notices[1], _facts(notices[1]), pool)  # the kin borrows Horizon's phrase: found through the pool
    assert any(set(t.members) == {"coop-entretien-horizon", "menage-rive-nord"} for t in borrowed.teams)
