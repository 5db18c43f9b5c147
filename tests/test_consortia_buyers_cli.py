"""consortia, buyers and profile suggest on real SEAO data (the bundled demo files), end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from watcher.cli import main

ROOT = Path(__file__).resolve().parent.parent
AUG_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180801_20180831.xml.gz"  # holds seao:907947


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """The whole demo history (24 real files) in one SQLite database, imported once for the module."""
    folder = tmp_path_factory.mktemp("history")
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "w.db"}"\n[paths]\nrules = "{ROOT / "rules"}"\n'
                    f'templates = "{ROOT / "templates"}"\n', encoding="utf-8")
    assert main(["--config", str(path), "import", str(ROOT / "demo" / "seao")]) == 0
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cleaning_and_canteen_notice_gets_the_cleaning_coop_and_the_caterer(capsys, config):
    # "Entretien ménager d'une halte routière et exploitation d'une cantine mobile" (MTQ, 78 960 $):
    # two trades, neither enterprise sells both.
    code, out, _ = run(capsys, "--config", str(config), "consortia", "seao:907947", "--json")
    assert code == 0
    proposal = json.loads(out)
    assert len(proposal["needs"]) == 2
    best = proposal["teams"][0]
    assert set(best["members"]) == {"coop-entretien-horizon", "festin-solidaire"} and best["full_coverage"]
    assert abs(sum(best["shares"].values()) - 1) < 1e-6
    code, out, _ = run(capsys, "--config", str(config), "consortia", "seao:907947")
    assert "coop-entretien-horizon + festin-solidaire" in out and "chef de file" in out


def test_consortia_says_why_there_is_no_team(capsys, config):
    code, out, _ = run(capsys, "--config", str(config), "consortia", "seao:1158999")  # one caterer only
    assert code == 0 and "aucune équipe / no team" in out
    code, _, err = run(capsys, "--config", str(config), "consortia", "seao:1")
    assert code == 1 and "unknown notice" in err


def test_buyers_of_cleaning_with_modes_amounts_and_incumbents(capsys, config):
    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2019-12-31", "--json")
    assert code == 0
    leads = [json.loads(line) for line in out.splitlines()]
    assert leads and leads == sorted(leads, key=lambda x: -x["score"])
    top = leads[0]
    assert top["purchases"] >= 1 and sum(top["by_method"].values()) == top["purchases"]
    assert top["incumbents"] and top["last_purchase"] <= "2019-12-31"
    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2030-01-01")
    assert code == 0 and "no buyer" in out  # nothing in the 3 years before 2030


def test_profile_suggest_writes_a_rule_file_that_passes_rules_check(capsys, config, tmp_path):
    rules = tmp_path / "rules"
    (rules / "enterprises").mkdir(parents=True)
    for name in ("thresholds.toml", "requirements.toml"):
        shutil.copy(ROOT / "rules" / name, rules / name)
    out_file = rules / "enterprises" / "coforce.toml"
    code, _, err = run(capsys, "--config", str(config), "profile", "suggest", "--neq", "1142142398", "--id", "coforce",
                       "--out", str(out_file))
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    assert 'id = "coforce"' in text and 'neq = "1142142398"' in text and "entretien ménager" in text
    checked = tmp_path / "config.toml"
    checked.write_text(f'[paths]\nrules = "{rules}"\nsources = "{ROOT / "sources"}"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(checked), "rules", "check")
    assert code == 0, err
    code, _, err = run(capsys, "--config", str(config), "profile", "suggest", "--neq", "0000000000")
    assert code == 1 and "no bid" in err


def test_buyers_show_the_latest_contact_with_its_date(capsys, config):
    """A buyer's contact person (CanadaBuys, OCDS contactPoint) is shown with the date a notice last named it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from watcher.config import load_config
    from watcher.models import Contact, Notice
    from watcher.store import contacts, open_store

    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2019-12-31", "--json")
    buyer = json.loads(out.splitlines()[0])["buyer"]
    assert json.loads(out.splitlines()[0])["contact"] is None  # SEAO XML names no contact person
    engine = open_store(load_config(config).database_url)
    mtl = ZoneInfo("America/Montreal")
    with engine.begin() as conn:  # contacts only: the award history the other tests read is left as it is
        for day, person in ((datetime(2019, 3, 1, tzinfo=mtl), Contact("Ancienne Personne", "ancienne@example.org", "")),
                            (datetime(2019, 9, 2, tzinfo=mtl), Contact("Julie Tremblay", "julie.tremblay@example.org", "418 555-0100"))):
            contacts.save_contacts(conn, [Notice(id=f"test:{day:%m}", source="test", title="x", buyer_name=buyer,
                                                 as_of=day, contacts=(person,))])
    engine.dispose()
    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2019-12-31", "--json")
    assert json.loads(out.splitlines()[0])["contact"] == {
        "name": "Julie Tremblay", "email": "julie.tremblay@example.org", "phone": "418 555-0100", "seen": "2019-09-02"}
    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2019-12-31")
    assert "contact : Julie Tremblay, julie.tremblay@example.org, 418 555-0100 (vu le / seen 2019-09-02)" in out


def test_buyers_json_lists_expected_purchases_with_a_window(capsys, config):
    """Issue 17: `buyers --at DATE --json` gives each buyer's expected purchases of the trade, dated
    by contract periods or the buyer's rhythm, each with its window, all after DATE."""
    code, out, _ = run(capsys, "--config", str(config), "buyers", "coop-entretien-horizon", "--at", "2019-06-30", "--json")
    assert code == 0
    leads = [json.loads(line) for line in out.splitlines()]
    expected = [e for lead in leads for e in lead["expected"]]
    assert expected, "some cleaning purchase is expected back within a year"
    for e in expected:
        assert "2019-06-30" < e["window"][1] and e["window"][0] <= e["expected"] <= e["window"][1] <= "2020-07-31"
        assert e["basis"] in ("contract_end", "contract_length", "rhythm", "yearly") and e["why_en"]
