"""Money with its currency: a GBP value is never judged against a CAD capacity without a stated,
dated rate (rules/rates.toml); rate-file errors name file:line and the field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from watcher.errors import RuleErrors
from watcher.match.verdict import judge, notice_facts
from watcher.models import Enterprise, Notice
from watcher.money import Rate, Rates, convert, load_rates
from watcher.rules.thresholds import load_thresholds

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = load_thresholds(ROOT / "rules" / "thresholds.toml")
MTL = ZoneInfo("America/Montreal")
RATES = Rates((Rate("GBP", date(2025, 1, 1), 1.75, "test table"), Rate("GBP", date(2026, 1, 1), 1.85, "test table")))
COOP = Enterprise(id="coop", name="Coop", emails=("a@example.org",), keywords=("cleaning",), max_value=100000)


def _notice(currency: str, value: float | None = 90000) -> Notice:
    return Notice(id="ocds:x", source="ocds", title="Office cleaning services", buyer_name="A council", method="public",
                  nature="services", currency=currency, estimated_value=value,
                  published_at=datetime(2026, 3, 2, tzinfo=MTL), closing_at=datetime(2026, 4, 2, tzinfo=MTL))


def test_convert():
    assert convert(100.0, "CAD", None) == 100.0
    assert convert(100.0, "GBP", RATES, on=date(2025, 6, 1)) == pytest.approx(175.0)
    assert convert(100.0, "GBP", RATES, on=date(2026, 6, 1)) == pytest.approx(185.0)  # the row in force that day
    assert convert(100.0, "GBP", RATES, on=date(2024, 6, 1)) is None  # before the first row: no rate
    assert convert(100.0, "MXN", RATES) is None and convert(100.0, "", RATES) is None
    assert convert(None, "GBP", RATES) is None


def test_gbp_value_is_not_judged_against_a_cad_capacity():
    # 90 000 GBP: "within 100 000 $" if read as dollars; it is about 166 500 $.
    facts = notice_facts(_notice("GBP"), THRESHOLDS)
    assert facts.value is None and "GBP" in facts.basis_fr
    [value] = [r for r in judge(_notice("GBP"), COOP, facts).reasons if r.criterion == "value"]
    assert value.ok and value.fr.startswith("valeur inconnue (valeur en GBP sans taux")
    cad = notice_facts(_notice("CAD"), THRESHOLDS)
    assert cad.value == 90000 and [r.ok for r in judge(_notice("CAD"), COOP, cad).reasons if r.criterion == "value"] == [True]


def test_gbp_value_converted_with_a_stated_rate():
    facts = notice_facts(_notice("GBP"), THRESHOLDS, rates=RATES)
    assert facts.value == pytest.approx(166500) and "1.85" in facts.basis_fr and "2026-01-01" in facts.basis_fr
    [value] = [r for r in judge(_notice("GBP"), COOP, facts).reasons if r.criterion == "value"]
    assert not value.ok and value.level == "consortium"  # 166 500 $ > 125 % of 100 000 $


def test_rates_file(tmp_path):
    assert load_rates(tmp_path / "none.toml") == Rates()
    path = tmp_path / "rates.toml"
    path.write_text('[[rate]]\ncurrency = "USD"\nsince = 2025-01-01\ncad = 1.4\nsource = "x"\n\n'
                    '[[rate]]\ncurrency = "usd"\nsince = "2025"\ncad = -1\n', encoding="utf-8")
    with pytest.raises(RuleErrors) as exc:
        load_rates(path)
    found = {(e.line, e.field) for e in exc.value.errors}
    assert found == {(8, "rate.currency"), (9, "rate.since"), (10, "rate.cad"), (7, "rate.source")}  # source: the row


def test_shipped_rates_file_loads():
    rates = load_rates(ROOT / "rules" / "rates.toml")
    assert all(r.source for r in rates.rows)
