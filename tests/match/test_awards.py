"""Award sections from real SEAO data: the week's awards in the trade, a renewal dated by a real
contract's end date (and not before that date was published), the social-economy marks, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from watcher.collect import open_source_file
from watcher.collect.seao_xml import parse
from watcher.match import compile_profile
from watcher.match.awards import (BUYER_ACTIVE, BUYER_AGAIN, RENEWAL_FROM, RENEWAL_TO, buyers_to_meet, forecast, fresh_awards,
                                  in_trade, is_award, lead_key, may_lead, renewals, social_marks, stored_lead_key, week_leads,
                                  with_buyer_regions)
from watcher.match.buyers import buyer_leads
from watcher.models import FinalContract, Notice
from watcher.rules import load_enterprises

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "seao"
DATA = ROOT / "tests" / "data" / "awards"


def _read(path: Path) -> list:
    with open_source_file(path) as stream:
        return list(parse(stream, str(path)))


@pytest.fixture(scope="module")
def profiles():
    return {e.id: e for e in load_enterprises(ROOT / "rules")}


@pytest.fixture(scope="module")
def march_2018():
    return [n for n in _read(DEMO / "AvisRevisions_20180301_20180331.xml.gz") if isinstance(n, Notice)]


@pytest.fixture(scope="module")
def beauharnois():
    """Notice 1010541 (Ville de Beauharnois, cleaning of its city hall, invitation, 2015-12-09) and
    its final contract (ended 2017-11-30, published 2018-11-06)."""
    notices = [n for n in _read(DEMO / "AvisRevisions_20181101_20181130.xml.gz") if isinstance(n, Notice)]
    finals = [f for f in _read(DATA / "Contrats_20181101_20181130.excerpt.xml") if isinstance(f, FinalContract)]
    assert [f.notice_id for f in finals] == ["seao:1010541"]
    return notices, finals


def test_fresh_awards_of_the_week_are_real_awards_in_the_trade_and_regions(march_2018, profiles):
    coop = profiles["coop-entretien-horizon"]
    found = fresh_awards(march_2018, coop, date(2018, 1, 29), date(2018, 2, 5))
    [award] = [a for a in found if a.notice.id == "seao:1133143"]  # SAAQ, cleaning, invitation, 45 400 $
    assert award.suppliers == ("9348 3311 Québec Inc",) and award.amount == pytest.approx(45400)
    assert "a confié à 9348 3311 Québec Inc (appel d'offres sur invitation, 45 400 $)" in award.why_fr
    assert "gave it to 9348 3311 Québec Inc (invitation to tender, 45 400 $)" in award.why_en
    profile = compile_profile(coop)
    for a in found:  # every one is an award published that week, in the trade by the matcher's own test
        assert is_award(a.notice) and in_trade(a.notice, profile)
        assert date(2018, 1, 29) <= a.notice.published_at.date() < date(2018, 2, 5)
    # Outside the enterprise's regions: the same award is not shown.
    assert not [a for a in fresh_awards(march_2018, replace(coop, regions=("01",)), date(2018, 1, 29), date(2018, 2, 5))
                if a.notice.id == "seao:1133143"]


def test_renewal_forecast_from_a_real_contract_end_date(beauharnois, profiles):
    notices, finals = beauharnois
    coop = profiles["coop-entretien-horizon"]
    due = renewals(notices, finals, coop, date(2019, 3, 1))
    [r] = [r for r in due if r.notice_id == "seao:1010541"]
    # 2015-12-09 -> 2017-11-30 is 722 days: the successor, from 2017-11-30, ends about 2019-11-22.
    assert r.basis == "contract_end" and r.expected == date(2019, 11, 22)
    assert r.window == (date(2019, 10, 23), date(2019, 12, 22))
    assert date(2019, 3, 1) + RENEWAL_FROM <= r.expected <= date(2019, 3, 1) + RENEWAL_TO
    assert r.incumbent == "Les Services d'entretien Valpro inc." and r.buyer == "Ville de Beauharnois"
    assert "terminé le 2017-11-30, 24 mois" in r.why_fr and "ended on 2017-11-30, 24 months" in r.why_en
    # Before the Contrats file published that end date (2018-11-06), it is not used: no peeking.
    early = [r for r in forecast(notices, finals, coop, date(2018, 11, 1)) if r.notice_id == "seao:1010541"]
    assert all(r.basis != "contract_end" for r in early)
    # Too soon (under 3 months) or too far (over 9 months) is not "à renouveler bientôt".
    assert not [r for r in renewals(notices, finals, coop, date(2019, 10, 1)) if r.notice_id == "seao:1010541"]
    assert not [r for r in renewals(notices, finals, coop, date(2018, 12, 1)) if r.notice_id == "seao:1010541"]


def test_social_economy_marks_and_ranking(march_2018, profiles):
    notices = {n.id: n for n in _read(DEMO / "AvisRevisions_20180701_20180731.xml.gz") if isinstance(n, Notice)}
    # A real notice about the social economy's access to public markets is marked by its words.
    assert social_marks(notices["seao:1133264"]) == ("économie sociale",)
    coop = profiles["coop-entretien-horizon"]
    award = next(n for n in march_2018 if n.id == "seao:1133143")
    assert social_marks(award) == ()
    winner = next(b.neq for b in award.bidders if b.winner)
    assert winner, "the real winner has a NEQ"
    # With the winner among the hub's enterprises, the award is marked and ranked first.
    found = fresh_awards(march_2018, coop, date(2018, 1, 1), date(2018, 4, 1), hub_neqs=frozenset({winner}))
    assert found[0].notice.id == "seao:1133143" and found[0].social == (f"NEQ {winner}",)
    assert "économie sociale : NEQ" in found[0].why_fr
    # A buyer that already gave this trade to the hub comes first among buyers to meet.
    leads = buyer_leads(march_2018, coop, award.published_at)
    assert len(leads) >= 2
    ranked = buyers_to_meet(leads, frozenset({winner}))
    assert ranked[0].buyer.startswith("Société de l'assurance automobile du Québec")


def test_each_section_has_a_limit_a_more_count_and_goes_out_once(profiles):
    notices = [n for path in sorted(DEMO.glob("AvisRevisions_*.xml.gz")) for n in _read(path) if isinstance(n, Notice)]
    awards = max((fresh_awards(notices, replace(p, regions=("*",)), date(2018, 1, 1), date(2020, 1, 1))
                  for p in profiles.values()), key=len)  # two years of real awards in one trade
    assert len(awards) >= 3
    week = week_leads(awards, [], [], sent={}, limits={"awards": 2})
    assert len(week.awards) == 2 and dict(week.more) == {"awards": len(awards) - 2}
    sent = {lead_key(a): date(2019, 1, 1) for a in week.awards}
    again = week_leads(awards, [], [], sent=sent, limits={"awards": 2}, today=date(2025, 1, 1))
    assert not set(sent) & {lead_key(a) for a in again.awards}  # an award goes out once, however late
    assert again.awards[0] == awards[2]


def test_a_history_cut_to_what_may_lead_gives_the_same_leads(march_2018, beauharnois, profiles):
    """The digest run keeps, per enterprise, only the notices may_lead accepts (issue 16: a third of
    them): every section must come out the same as from the whole history, for every example profile
    (buyer leads over the 24 demo months: some purchases there are in the trade only as "check")."""
    from datetime import datetime, timezone

    from watcher.collect import iter_files

    november, finals = beauharnois
    demo = [n for path in sorted(iter_files([DEMO])) for n in _read(path) if isinstance(n, Notice)]
    as_of = datetime(2019, 12, 31, tzinfo=timezone.utc)
    found = {"awards": 0, "forecast": 0, "buyers": 0}
    for ent in profiles.values():
        profile = compile_profile(ent)
        kept = [n for n in march_2018 if may_lead(n, profile)]
        assert len(kept) < len(march_2018) / 2  # it does cut
        awards = fresh_awards(march_2018, profile, date(2018, 1, 29), date(2018, 2, 5))
        assert fresh_awards(kept, profile, date(2018, 1, 29), date(2018, 2, 5)) == awards
        leads = buyer_leads(demo, ent, as_of)
        assert buyer_leads([n for n in demo if may_lead(n, profile)], ent, as_of) == leads
        expected = forecast(november, finals, profile, date(2019, 3, 1))
        assert forecast([n for n in november if may_lead(n, profile)], finals, profile, date(2019, 3, 1)) == expected
        found = {"awards": found["awards"] + len(awards), "forecast": found["forecast"] + len(expected),
                 "buyers": found["buyers"] + len(leads)}
    assert all(found.values()), found  # each section compared on something


def test_one_buyer_a_week_new_ones_first_then_again_after_a_quarter(profiles):
    """Real buyers of cleaning over 2018-2019: one a week, by rank; a buyer comes back only after
    BUYER_AGAIN, and only once every buyer never proposed went out."""
    notices = [n for path in sorted(DEMO.glob("AvisRevisions_*.xml.gz")) for n in _read(path) if isinstance(n, Notice)]
    coop = profiles["coop-entretien-horizon"]
    buyers = buyers_to_meet(buyer_leads(notices, coop, datetime(2020, 1, 1, tzinfo=timezone.utc)))
    assert len(buyers) >= 4
    sent: dict[str, date] = {}
    day, shown = date(2020, 1, 7), []
    for _ in range(len(buyers)):
        week = week_leads([], [], buyers, sent, today=day)
        assert len(week.buyers) == 1
        shown.append(week.buyers[0])
        sent[lead_key(week.buyers[0])] = day
        day += timedelta(days=7)
    assert shown == buyers  # every buyer once, in rank order, before any comes back
    # The pool is spent: nothing until the first one sent is a quarter old, then the oldest first,
    # among the buyers still buying (a purchase within a year, or one expected).
    active = [b for b in buyers if b.recurring or b.last_purchase >= date(2020, 1, 7) + BUYER_AGAIN - BUYER_ACTIVE]
    stale = [b for b in buyers if b not in active]
    assert active and stale, "real buyers of both kinds"
    assert week_leads([], [], buyers, sent, today=date(2020, 1, 7) + BUYER_AGAIN - timedelta(days=1)).buyers == ()
    first_again = min(active, key=lambda b: sent[lead_key(b)])
    day_again = sent[lead_key(first_again)] + BUYER_AGAIN
    assert week_leads([], [], buyers, sent, today=day_again).buyers == (first_again,)
    late = week_leads([], [], buyers, sent, today=date(2020, 12, 31), limits={"buyers": 100}).buyers
    assert set(late) == {b for b in active if b.recurring or b.last_purchase >= date(2019, 12, 31)}
    assert not set(late) & set(stale)
    # A key stored by an earlier version (per quarter) still counts as that buyer sent.
    old = f"{lead_key(buyers[0])}@2019Q4"
    assert stored_lead_key(old) == lead_key(buyers[0]) and stored_lead_key("seao:1") == "seao:1"


def test_buyers_to_meet_are_within_reach_and_in_the_enterprise_regions(profiles):
    """Real 2016-2019 buyers of cleaning: a buyer known only from a public tender far above the
    enterprise's capacity is not one to meet; a notice with no region is read in its buyer's usual
    regions (seao:1201463, « Entretien ménager - 270, 14e Avenue Est, Senneterre », states none; the
    SQI's Abitibi direction delivers in Abitibi in its other notices)."""
    notices = [n for path in sorted(DEMO.glob("AvisRevisions_*.xml.gz")) for n in _read(path) if isinstance(n, Notice)]
    coop = profiles["coop-entretien-horizon"]
    now = datetime(2019, 2, 12, tzinfo=timezone.utc)
    senneterre = next(n for n in notices if n.id == "seao:1201463")
    assert senneterre.regions == ()
    filled = with_buyer_regions(notices)
    assert next(n for n in filled if n.id == "seao:1201463").regions == ("08",)
    assert sum(a.regions != b.regions for a, b in zip(notices, filled)) < len(notices) // 20  # only the unknown ones
    abitibi = "SQI-Direction immobilière Abitibi"
    assert any(b.buyer.startswith(abitibi) for b in buyer_leads(notices, coop, now))
    leads = buyer_leads(filled, coop, now)
    assert leads and not any(b.buyer.startswith(abitibi) for b in leads)
    # Capacity: the buyers kept bought by gré à gré or invitation, or once within 250 000 $.
    kept = buyers_to_meet(leads, capacity=coop.max_value)
    dropped = [b for b in leads if b not in kept]
    assert dropped and kept
    assert all(b.min_amount > coop.max_value and set(dict(b.by_method)) <= {"public", "other"} for b in dropped)
    assert all(set(dict(b.by_method)) & {"gre_a_gre", "invitation"} or (b.min_amount or 0) <= coop.max_value
               for b in kept)
    assert len(buyers_to_meet(leads)) == len(leads)  # no capacity stated: every buyer of the trade


def test_a_contract_won_by_another_trade_firm_is_not_in_the_trade(profiles):
    """seao:1242564 « Cafétéria de l'École nationale du meuble… », given by gré à gré to « Héloïse
    Thibodeau architecte inc »: the title names a cafeteria, the winner says it is an architect's work."""
    from watcher.match.evidence import supplier_trade

    notices = {n.id: n for n in _read(DEMO / "AvisRevisions_20191201_20191231.xml.gz") if isinstance(n, Notice)}
    cafeteria = notices["seao:1242564"]
    festin = profiles["festin-solidaire"]
    assert supplier_trade(b.name for b in cafeteria.bidders if b.winner) == "architecte"
    assert not in_trade(cafeteria, compile_profile(festin))
    assert not fresh_awards([cafeteria], festin, date(2019, 1, 1), date(2020, 1, 1))
    assert not buyer_leads([cafeteria], festin, datetime(2019, 6, 1, tzinfo=timezone.utc))
    # The same notice without its winner is read by its title, as the matcher reads an open call.
    assert in_trade(replace(cafeteria, bidders=()), compile_profile(festin))
    # Every supplier must say another trade; a cleaning firm's « professionnel » is no such word.
    assert supplier_trade(["Tremblay architectes", "Entretien ménager professionnel inc."]) is None
    assert supplier_trade(["Les Toitures Falardeau", "Lemay ingénieurs-conseils"]) == "toitures"
    assert supplier_trade([]) is None


def test_a_renewal_dated_by_an_ocds_contract_period(profiles):
    """The real SEAO JSON week of 2026-09-14: « Collecte, transport et valorisation des matelas et
    sommiers », awarded 2026-08-27 to RECYC-MATELAS INC., its contract's period ending 2029-02-26. The
    successor is due then: proposed 3 to 9 months before, not earlier."""
    from watcher.collect.ocds import parse as parse_ocds

    path = ROOT / "tests" / "data" / "ocds" / "hebdo_20260914_20260920_excerpt.json"
    with open_source_file(path) as stream:
        notices = [n for n in parse_ocds(stream, str(path)) if isinstance(n, Notice)]
    mattresses = next(n for n in notices if n.id == "seao:20170025")
    assert mattresses.contract_end == date(2029, 2, 26)
    recup = replace(profiles["recuperation-rive-sud"], regions=("*",))
    assert in_trade(mattresses, compile_profile(recup))
    [due] = [r for r in renewals(notices, [], recup, date(2028, 8, 1)) if r.notice_id == "seao:20170025"]
    assert (due.basis, due.expected, due.incumbent) == ("contract_end", date(2029, 2, 26), "RECYC-MATELAS INC.")
    assert "2029-02-26" in due.why_fr and "30 mois" in due.why_fr
    assert not [r for r in renewals(notices, [], recup, date(2028, 4, 1)) if r.notice_id == "seao:20170025"]


def test_region_gate_admits_exactly_the_profiles_whose_regions_lead_trade_accepts(march_2018, profiles):
    """The history pass asks RegionGate which profiles work where a notice is delivered, instead of
    asking lead_trade pair by pair: on real notices and the example profiles (one working anywhere
    added), the profiles it admits are those the region rule of lead_trade lets through."""
    from watcher.match.awards import RegionGate

    compiled = {e.id: compile_profile(e) for e in profiles.values()}
    anywhere = replace(next(iter(profiles.values())), id="anywhere", regions=("*",))
    compiled["anywhere"] = compile_profile(anywhere)
    gate = RegionGate(compiled)
    refused = 0
    for notice in march_2018:
        admitted = gate.admits(notice)
        if not notice.regions:
            assert admitted is None
            continue
        by_rule = {i for i, p in compiled.items()
                   if p.regions is None or p.regions.intersection(notice.regions)}
        assert admitted == by_rule
        assert "anywhere" in admitted
        refused += len(compiled) - len(admitted)
    assert refused  # some profiles were kept out somewhere
