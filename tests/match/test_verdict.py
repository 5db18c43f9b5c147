"""Verdicts and their reasons, data-driven from tests/data/match/verdicts.toml."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from watcher.match.verdict import judge, notice_facts
from watcher.models import Bidder, Enterprise, Notice
from watcher.rules.thresholds import load_thresholds

ROOT = Path(__file__).resolve().parents[2]
CASES = tomllib.loads((ROOT / "tests" / "data" / "match" / "verdicts.toml").read_text(encoding="utf-8"))
THRESHOLDS = load_thresholds(ROOT / "rules" / "thresholds.toml")
MTL = ZoneInfo("America/Montreal")
EXTRACTED_DEFAULTS = dict(bid_bond="not_stated", bid_bond_percent=None, bid_bond_amount=None, performance_bond="not_stated",
                          performance_bond_percent=None, performance_bond_amount=None, labour_materials_bond_percent=None,
                          insurance_liability_amount=None, rbq_licence=False, amp_authorisation=False,
                          revenu_quebec_attestation=False, evidence={})


def _notice(fields: dict) -> Notice:
    f = {**CASES["defaults"]["notice"], **fields}
    value = f["value"]
    return Notice(
        id="seao:1", source="seao", title=f["title"], buyer_name=f["buyer_name"], municipal=f["municipal"], nature=f["nature"],
        method=f["method"], regions=tuple(f["regions"]),
        published_at=datetime.fromisoformat(f["published"]).replace(tzinfo=MTL),
        closing_at=datetime.fromisoformat(f["closing"]).replace(tzinfo=MTL),
        estimated_value=None if value < 0 else value)


def _enterprise(fields: dict) -> Enterprise:
    f = {**CASES["defaults"]["enterprise"], **fields}
    return Enterprise(
        id="coop-test", name="Coop test", emails=("a@example.org",), keywords=tuple(f["keywords"]), regions=tuple(f["regions"]),
        min_value=f["min_value"], max_value=f["max_value"], methods=tuple(f["methods"]), bid_bond=f["bid_bond"],
        max_bond=None if f["max_bond"] < 0 else f["max_bond"], liability_insurance=f["liability_insurance"],
        licences=tuple(f["licences"]), amp_authorised=f["amp_authorised"], min_lead_days=f["min_lead_days"],
        consortium_willing=f["consortium_willing"])


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
def test_verdict_case(case):
    notice = _notice(case.get("notice", {}))
    extracted = SimpleNamespace(**{**EXTRACTED_DEFAULTS, **case.get("extracted", {})}) if "extracted" in case else None
    facts = notice_facts(notice, THRESHOLDS, extracted, case.get("past_awards"))
    m = judge(notice, _enterprise(case.get("enterprise", {})), facts)
    gaps = sorted(f"{r.criterion}:{r.level}" for r in m.reasons if not r.ok)
    assert (m.verdict, gaps) == (case["verdict"], sorted(case.get("gaps", []))), [r.fr for r in m.reasons]
    for name in case.get("inferred", []):
        assert facts.requirements[name].inferred
    if "estimated" in case:
        assert facts.estimated and case["estimated"] in facts.basis_fr + " " + next(r.fr for r in m.reasons if r.criterion == "value")
    assert {"capability", "region", "value", "method", "lead_time"} <= {r.criterion for r in m.reasons}
    assert (m.score > 0) == (m.verdict != "no")


def test_awarded_amount_is_used_when_there_is_no_estimate():
    notice = _notice({"value": -1})
    notice = Notice(**{**notice.__dict__, "bidders": (Bidder("Coop", None, 80000.0, True, 80000.0),)})
    facts = notice_facts(notice, THRESHOLDS)
    assert facts.value == 80000.0 and not facts.estimated and facts.basis_fr == "montant adjugé"


def test_stated_evidence_is_quoted_in_the_reason():
    extracted = SimpleNamespace(**{**EXTRACTED_DEFAULTS, "bid_bond": "required", "bid_bond_percent": 10.0,
                                   "evidence": {"bid_bond": "garantie de soumission de 10 %"}})
    notice = _notice({"value": 200000.0, "method": "public"})
    m = judge(notice, _enterprise({}), notice_facts(notice, THRESHOLDS, extracted))
    bond = next(r for r in m.reasons if r.criterion == "bid_bond")
    assert bond.ok and "20 000 $" in bond.fr and "« garantie de soumission de 10 % »" in bond.fr
    assert bond.evidence == "garantie de soumission de 10 %"


def test_now_closes_notices():
    notice = _notice({})
    m = judge(notice, _enterprise({}), notice_facts(notice, THRESHOLDS), now=datetime(2019, 4, 1, tzinfo=MTL))
    assert m.verdict == "no" and any(r.criterion == "lead_time" and "fermé" in r.fr for r in m.reasons)


def test_seao_one_dollar_placeholders_are_not_a_value():
    """Framework agreements list each winner at 1 $: judging on 3 $ would call the notice too small."""
    notice = _notice({"value": -1, "method": "public"})
    winners = tuple(Bidder(f"Fournisseur {i}", None, 1.0, True, 1.0) for i in range(3))
    facts = notice_facts(Notice(**{**notice.__dict__, "bidders": winners}), THRESHOLDS, past_awards=None)
    assert facts.estimated and facts.value == 101100 and "plus de 101 100 $" in facts.basis_fr
    mixed = (Bidder("A", None, 1.0, True, 1.0), Bidder("B", None, 80000.0, True, 80000.0))
    assert notice_facts(Notice(**{**notice.__dict__, "bidders": mixed}), THRESHOLDS).value == 80000.0


def test_award_history_ignores_one_dollar_placeholders():
    from watcher.match.engine import AwardHistory

    before = datetime(2018, 1, 1, tzinfo=MTL)
    history = AwardHistory([("Ville X", "S15", before, 1.0), ("Ville X", "S15", before, 1.0), ("Ville X", "S15", before, 40000.0)])
    notice = Notice(id="seao:2", source="seao", title="t", buyer_name="Ville X", categories=("S15",),
                    published_at=datetime(2019, 1, 1, tzinfo=MTL))
    assert history.before(notice) == [40000.0]


def test_open_ended_public_estimate_is_a_stretch_not_realistic():
    """'Public tender, value unknown' only says 'at least the threshold': real ones bid up to millions."""
    notice = _notice({"value": -1, "method": "public"})
    m = judge(notice, _enterprise({"max_value": 250000}), notice_facts(notice, THRESHOLDS))
    value = next(r for r in m.reasons if r.criterion == "value")
    assert (m.verdict, value.ok, value.level) == ("stretch", False, "stretch")
    assert "au moins 101 100 $" in value.fr and "no known ceiling" in value.en


@pytest.mark.parametrize("notice_type, verdict", [
    ("9 - Contrat octroyé de gré à gré", "no"),
    ("10 - Contrat adjugé suite à un appel d'offres sur invitation", "no"),
    ("16 - Contrat conclu à la suite d'un contrat à exécution sur demande", "no"),
    ("3 - Contrat adjugé suite à un appel d'offres public", "realistic"),
    ("14 - Contrat adjugé suite à un appel d'offres sur invitation publié au SEAO", "realistic"),
])
def test_awarded_without_a_published_call_is_a_lead_not_an_opportunity(notice_type, verdict):
    from dataclasses import replace
    notice = replace(_notice({}), notice_type=notice_type)
    m = judge(notice, _enterprise({}), notice_facts(notice, THRESHOLDS))
    assert m.verdict == verdict, [r.fr for r in m.reasons]
    failed = [r.criterion for r in m.reasons if not r.ok]
    assert failed == (["open_call"] if verdict == "no" else [])
