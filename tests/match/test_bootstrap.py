"""`watcher profile suggest --csv`: 50 real NEQs in, 50 draft rule files with unique ids out, in one
run (the history read once), and `watcher rules check` accepts them all."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from watcher import app
from watcher.cli import main
from watcher.config import load_config
from watcher.match.bootstrap import read_neqs, unique_id
from watcher.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def test_read_neqs_names_the_bad_line():
    assert read_neqs("neq;id\n1143290618;valpro\n1143290618;\n\n1165091464;\n") == [("1143290618", "valpro"),
                                                                                     ("1165091464", None)]
    assert read_neqs("1143290618\n1165-091-464\n") == [("1143290618", None), ("1165091464", None)]
    with pytest.raises(ValueError, match=r"hub.csv:3: neq: 12345"):
        read_neqs("neq\n1143290618\n12345\n", "hub.csv")
    taken = {"coop"}
    assert [unique_id("coop", taken) for _ in range(3)] == ["coop-2", "coop-3", "coop-4"]


def test_fifty_neqs_from_a_csv_give_fifty_checked_drafts(tmp_path, capsys):
    rules = tmp_path / "rules"
    (rules / "enterprises").mkdir(parents=True)
    for name in ("thresholds.toml", "requirements.toml", "rates.toml"):
        if (ROOT / "rules" / name).exists():
            shutil.copy(ROOT / "rules" / name, rules / name)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n[paths]\nrules = "{rules}"\n', encoding="utf-8")
    engine = open_store(load_config(config).database_url)
    assert not app.import_paths(engine, [ROOT / "demo" / "seao"]).errors
    # The 50 NEQs that bid most often in the real 2018-2019 notices (a hub's list, as a spreadsheet).
    bids = Counter(b.neq for n in app.history(engine) for b in n.bidders if b.neq)
    neqs = [neq for neq, _ in bids.most_common(50)]
    csv = tmp_path / "hub.csv"
    csv.write_text("\ufeffNEQ;nom\n" + "".join(f"{n};x\n" for n in neqs), encoding="utf-8")
    code = main(["--config", str(config), "profile", "suggest", "--csv", str(csv), "--out", str(rules / "enterprises")])
    out, err = capsys.readouterr()
    files = sorted((rules / "enterprises").glob("*.toml"))
    assert code == 0 and len(files) == 50, err
    ids = [f.stem for f in files]
    assert len(set(ids)) == 50
    texts = [f.read_text(encoding="utf-8") for f in files]
    assert sorted(n for t in texts for n in neqs if f'neq = "{n}"' in t) == sorted(neqs)
    assert main(["--config", str(config), "rules", "check"]) == 0, capsys.readouterr()
    # A second run into the same folder never overwrites: every id is new.
    assert main(["--config", str(config), "profile", "suggest", "--neq", neqs[0], "--neq", neqs[1],
                 "--out", str(rules / "enterprises")]) == 0
    assert len(list((rules / "enterprises").glob("*.toml"))) == 52
