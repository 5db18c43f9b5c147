"""`watcher notices --json` (issue 14 "Output"): regions in the agreed vocabulary, currency beside the
values, codes as {scheme, code}, contacts as {name, email, phone, seen}, the description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.cli import main

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "tests" / "data" / "canadabuys" / "openTenderNotice-excerpt.csv"


@pytest.fixture
def config(tmp_path, store_url) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{store_url}"\n[paths]\nrules = "{ROOT / "rules"}"\n', encoding="utf-8")
    return path


def test_canadabuys_fields_reach_the_json(capsys, config):
    assert main(["--config", str(config), "import", str(CSV)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "notices", "--json"]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    lto = rows["canadabuys:SSC-26-00034375:T"]
    assert lto["regions"] == ["QC"] and lto["currency"] == "CAD"
    assert {"scheme": "GSIN", "code": "N7050", "label": "Composants, traitement automatique de l'information"} in lto["codes"]
    assert lto["contacts"] == [{"name": "Eleanor,Cesare", "email": None, "phone": "613 219-8366", "seen": "2026-07-27"}]
    assert lto["description"].startswith("Biens")
    assert rows["canadabuys:cb-6-70690140"]["regions"] == ["06", "CA-AB"]
    assert rows["canadabuys:cb-902-90074001"]["regions"] == ["CA", "ZZ"]  # "World"
    assert all(set(r) >= {"regions", "currency", "codes", "contacts", "description", "title_built"} for r in rows.values())
