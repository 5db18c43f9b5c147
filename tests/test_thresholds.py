"""rules/thresholds.toml: values at their effective-date boundaries, buyer types, file:line errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from watcher.errors import RuleErrors
from watcher.models import Notice
from watcher.rules.thresholds import buyer_type, load_thresholds

ROOT = Path(__file__).resolve().parent.parent
T = load_thresholds(ROOT / "rules" / "thresholds.toml")


@pytest.mark.parametrize(
    "buyer, nature, on, amount",
    [
        ("municipal", "services", date(2018, 4, 18), 100000),
        ("municipal", "services", date(2018, 4, 19), 101100),
        ("municipal", "goods", date(2019, 12, 31), 101100),
        ("municipal", "goods", date(2020, 1, 1), 105700),
        ("municipal", "construction", date(2022, 10, 6), 105700),
        ("municipal", "construction", date(2022, 10, 7), 121200),
        ("municipal", "services", date(2023, 12, 31), 121200),
        ("municipal", "services", date(2024, 1, 1), 133800),
        ("provincial", "goods", date(2023, 12, 31), 100000),
        ("provincial", "goods", date(2024, 1, 1), 33400),
        ("provincial", "services", date(2024, 1, 1), 133800),
        ("health", "goods", date(2025, 3, 1), 33400),
        ("education", "services", date(2025, 3, 1), 133800),
    ],
)
def test_public_tender_threshold_at_boundaries(buyer, nature, on, amount):
    assert T.public_threshold(buyer, nature, on).amount == amount


def test_method_implies_value_range():
    on = date(2019, 6, 1)
    assert T.value_range("gre_a_gre", "municipal", "services", on) == (None, 25000)
    assert T.value_range("invitation", "municipal", "services", on) == (25000, 101100)
    assert T.value_range("public", "municipal", "services", on) == (101100, None)
    assert T.value_range("other", "municipal", "services", on) == (None, None)
    assert T.public_threshold("federal", "goods", on) is None


def test_other_amount_rules():
    assert (T.revenu_quebec_from, T.amp_services_from, T.amp_construction_from, T.bid_bond_lcop_construction_from) == (
        25000, 1000000, 5000000, 500000)


@pytest.mark.parametrize(
    "buyer_name, municipal, source, expected",
    [
        ("Ville de Laval", True, "seao", "municipal"),
        ("CIUSSS du Centre-Sud-de-l'Île-de-Montréal", False, "seao", "health"),
        ("Centre de services scolaire de Montréal", False, "seao", "education"),
        ("Commission scolaire de Saint-Hyacinthe", False, "seao", "education"),
        ("Ministère des Transports", False, "seao", "provincial"),
        ("Public Works and Government Services Canada", None, "canadabuys", "federal"),
    ],
)
def test_buyer_type(buyer_name, municipal, source, expected):
    assert buyer_type(Notice(id="x", source=source, title="t", buyer_name=buyer_name, municipal=municipal)) == expected


def test_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "thresholds.toml"
    path.write_text(
        "[gre_a_gre]\nbelow = 25000\n\n"
        "[[public_tender]]\nbuyer = \"municipal\"\nnatures = [\"services\"]\nsince = 2018-04-19\namount = 101100\nsource = \"x\"\n\n"
        "[[public_tender]]\nbuyer = \"city\"\nnatures = [\"services\"]\nsince = \"2020-01-01\"\namount = 105700\n"
        "[revenu_quebec]\nfrom_amount = 25000\n[amp]\nservices_from = 1000000\nconstruction_from = 5000000\n"
        "[bid_bond]\nlcop_construction_from = 500000\nsurety = 1\n",
        encoding="utf-8")
    with pytest.raises(RuleErrors) as err:
        load_thresholds(path)
    text = str(err.value)
    assert f"{path}:12: public_tender.buyer: acheteur inconnu « city »" in text
    assert f"{path}:14: public_tender.since: date requise" in text
    assert f"{path}:11: public_tender.source: citez la source" in text
    assert f"{path}:23: bid_bond.surety: clé inconnue" in text
