"""Buyer leads on real SEAO award notices (tests/data/history, see PROVENANCE.md there)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from watcher.collect.seao_xml import parse
from watcher.match.buyers import WEIGHTS, buyer_leads
from watcher.models import Enterprise, Notice

HISTORY = Path(__file__).resolve().parent.parent / "data" / "history"
KAMOURASKA = "Commission scolaire de Kamouraska - Rivière du Loup"
CTA = "1143148063"  # Chaîne de Travail Adapté CTA Inc., an adapted-work enterprise of Saguenay


@pytest.fixture(scope="module")
def history() -> list[Notice]:
    """Every version of every excerpted notice, as the SEAO parser reads them (revisions included)."""
    notices: list[Notice] = []
    for path in sorted(HISTORY.glob("AvisRevisions_*.xml")):
        with path.open("rb") as stream:
            notices += [x for x in parse(stream, path.name) if isinstance(x, Notice)]
    assert len({n.id for n in notices}) == 57
    return notices


def _cleaner(**fields) -> Enterprise:
    base = dict(id="coop-menage", name="Coop ménage", emails=("a@example.org",),
                unspsc=("911116", "761115", "761015"), keywords=("entretien ménager", "entretien sanitaire", "conciergerie"))
    return Enterprise(**{**base, **fields})


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def test_a_yearly_school_cleaning_purchase_is_announced(history):
    """Kamouraska's school board buys cleaning school by school every May (2018: 13 contracts, 2019: 1)."""
    leads = buyer_leads(history, _cleaner(), _at(date(2020, 2, 1)))
    lead = leads[0]
    assert lead.buyer == KAMOURASKA
    assert lead.purchases == 14 and lead.by_method == (("invitation", 14),)
    assert lead.median_amount == pytest.approx(23912.035)
    assert (lead.min_amount, lead.max_amount) == (6000.0, pytest.approx(77739.3))
    assert lead.last_purchase == date(2019, 5, 14)
    top = lead.incumbents[0]
    assert (top.name, top.neq, top.wins) == ("services d'entretien c & s", "3366533423", 3)
    (coming,) = lead.recurring
    assert (coming.years, coming.month, coming.expected) == ((2018, 2019), 5, date(2020, 5, 15))
    assert "seao:1268954" in coming.notice_ids
    assert "mai 2018 et 2019" in coming.evidence_fr and "May 2018 and 2019" in coming.evidence_en
    assert lead.reason_fr.startswith("14 achats de ce que vous offrez en 3 ans (14 sur invitation)")
    assert lead.reason_en.startswith("14 purchases of what you offer in 3 years (14 by invitation)")
    assert "prochain attendu vers mai 2020" in lead.reason("fr") and "next expected around May 2020" in lead.reason("en")


def test_incumbent_social_economy_enterprise_and_february_cycle(history):
    """Saguenay bought building cleaning in February 2017 and 2018; CTA won most of it."""
    leads = buyer_leads(history, _cleaner(), _at(date(2019, 1, 15)))
    lead = leads[0]
    assert lead.buyer == "Ville de Saguenay"
    assert lead.purchases == 9 and dict(lead.by_method) == {"invitation": 6, "public": 3}
    assert lead.median_amount == pytest.approx(66087.63)
    top = lead.incumbents[0]
    # 5 wins under its NEQ plus 1 (seao:1164496) published without NEQ, joined by name.
    assert (top.name, top.neq, top.wins) == ("Chaîne de Travail Adapté CTA Inc.", CTA, 6)
    assert [i.name for i in lead.incumbents].count("Chaîne de Travail Adapté CTA Inc.") == 1
    (coming,) = lead.recurring
    assert (coming.years, coming.expected) == ((2017, 2018), date(2019, 2, 15))


def test_no_peeking_after_now_and_one_year_is_not_a_cycle(history):
    """At 2019-01-15 the May 2019 contract is unknown: 13 purchases, all in May 2018, nothing recurring."""
    lead = next(x for x in buyer_leads(history, _cleaner(), _at(date(2019, 1, 15))) if x.buyer == KAMOURASKA)
    assert lead.purchases == 13 and lead.last_purchase == date(2018, 5, 8)
    assert lead.recurring == ()


def test_window_of_years(history):
    """Rimouski's 2014 contract (seao:744865) is outside a 3-year window, inside a 6-year one."""
    def rimouski(years: int):
        return next(x for x in buyer_leads(history, _cleaner(), _at(date(2019, 1, 15)), years=years) if x.buyer == "Ville de Rimouski")
    assert "seao:744865" not in rimouski(3).notice_ids
    assert "seao:744865" in rimouski(6).notice_ids


def test_region_and_exclusions_filter_as_matching_does(history):
    now = _at(date(2020, 2, 1))
    bas_saint_laurent = {x.buyer: x for x in buyer_leads(history, _cleaner(regions=("01",)), now)}
    assert set(bas_saint_laurent) == {KAMOURASKA, "Ville de Rimouski"}
    # Ville de Saguenay published seao:1164496 without a delivery region: a town buys for its own
    # territory, read from its address (Saguenay, 02), so it is not a buyer of Bas-Saint-Laurent.
    [saguenay] = [n for n in history if n.id == "seao:1164496"]
    assert saguenay.municipal and saguenay.regions == ("02",)
    rimouski = {x.buyer: x for x in buyer_leads(history, _cleaner(), now)}["Ville de Rimouski"]
    assert "seao:1250655" in rimouski.notice_ids  # « Produits d'entretien sanitaire »: goods, not a service
    rimouski = {x.buyer: x for x in buyer_leads(history, _cleaner(exclude=("produits",)), now)}["Ville de Rimouski"]
    assert "seao:1250655" not in rimouski.notice_ids and rimouski.purchases == 5


def test_only_purchases_of_what_the_profile_sells(history):
    now = _at(date(2020, 2, 1))
    cleaning = {i for x in buyer_leads(history, _cleaner(), now) for i in x.notice_ids}
    assert "seao:927396" not in cleaning  # « Enlèvement, transport et disposition des déchets »
    waste = Enterprise(id="coop-dechets", name="Coop déchets", emails=("a@example.org",), keywords=("déchets", "ordures"))
    assert {i for x in buyer_leads(history, waste, now, years=6) for i in x.notice_ids} == {"seao:927396", "seao:890345"}


def test_score_is_the_weighted_sum_of_its_parts_and_ranks(history):
    leads = buyer_leads(history, _cleaner(), _at(date(2020, 2, 1)))
    for lead in leads:
        parts = dict(lead.score_parts)
        assert set(parts) == set(WEIGHTS) and all(0 <= v <= 1 for v in parts.values())
        assert lead.score == pytest.approx(sum(WEIGHTS[k] * v for k, v in parts.items()), abs=0.002)
    assert [x.score for x in leads] == sorted((x.score for x in leads), reverse=True)


def test_as_json(history):
    lead = buyer_leads(history, _cleaner(), _at(date(2020, 2, 1)))[0]
    data = json.loads(json.dumps(lead.as_json()))
    assert data["by_method"] == {"invitation": 14}
    assert data["last_purchase"] == "2019-05-14" and data["recurring"][0]["expected"] == "2020-05-15"
    assert data["incumbents"][0] == {"name": "services d'entretien c & s", "neq": "3366533423", "wins": 3,
                                     "amount": pytest.approx(90274.82)}
