"""The CLI end to end on real SEAO data: import, notices, rules check, match, digest (outbox and SMTP)."""

from __future__ import annotations

import email
import gzip
import json
import re
import shutil
from email import policy
from pathlib import Path

import pytest

from watcher.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"


def _distinct_numeroseao(path: Path) -> set[str]:
    return set(re.findall(r"<numeroseao>(\d+)</numeroseao>", gzip.open(path).read().decode("utf-8")))


@pytest.fixture
def config(tmp_path, store_url) -> Path:
    """A config.toml using the repo's rules and templates, a fresh database of each kind, a tmp outbox."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{store_url}"\n'
        f'[paths]\nrules = "{ROOT / "rules"}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[delivery]\nbackend = "outbox"\noutbox = "{tmp_path / "outbox"}"\nsender = "Veille <veille@example.org>"\n',
        encoding="utf-8",
    )
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_help():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert sub.description or subparsers._name_parser_map[name].format_help()
        helps = {a.dest: a.help for a in subparsers._choices_actions}
        assert helps.get(name), f"command {name} has no help text"


def test_import_is_idempotent_and_counts_distinct_notices(capsys, config):
    code, out, _ = run(capsys, "--config", str(config), "import", str(FEB_2018), "--json")
    first = json.loads(out)
    assert code == 0 and first["errors"] == [] and first["files"] == 1
    assert first["notices_new"] == len(_distinct_numeroseao(FEB_2018))
    code, out, _ = run(capsys, "--config", str(config), "import", str(FEB_2018), "--json")
    again = json.loads(out)
    assert (again["notices_new"], again["notices_updated"]) == (0, 0)

    code, out, _ = run(capsys, "--config", str(config), "notices", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == first["notices_new"]
    keys = {"id", "source", "url", "title", "buyer", "notice_type", "method", "nature", "categories", "unspsc",
            "regions", "published_at", "closing_at", "estimated_value", "bidders"}
    assert all(keys <= row.keys() for row in rows)
    assert all(row["id"].startswith("seao:") for row in rows)
    with_bidders = [r for r in rows if r["bidders"]]
    assert with_bidders and all({"name", "neq", "amount", "winner"} <= b.keys() for r in with_bidders for b in r["bidders"])
    assert any(r["published_at"] and r["published_at"][-6:] in ("-05:00", "-04:00") for r in rows)


def test_broken_file_is_reported_and_others_imported(capsys, config, tmp_path):
    good = tmp_path / "in" / "AvisRevisions_20180201_20180228.xml.gz"
    good.parent.mkdir()
    shutil.copy(FEB_2018, good)
    raw = gzip.open(FEB_2018).read()
    (tmp_path / "in" / "AvisRevisions_truncated.xml").write_bytes(raw[: len(raw) // 3])
    code, out, err = run(capsys, "--config", str(config), "import", str(tmp_path / "in"), "--json")
    report = json.loads(out)
    assert code == 1 and report["files"] == 2
    assert len(report["errors"]) == 1 and "AvisRevisions_truncated.xml:" in report["errors"][0]
    # the good file is complete; the truncated one kept what came before the cut
    assert report["notices_new"] >= len(_distinct_numeroseao(FEB_2018))


def test_rules_check_reports_file_line_field(capsys, tmp_path):
    rules = tmp_path / "rules" / "enterprises"
    rules.mkdir(parents=True)
    (rules / "bad.toml").write_text(
        'id = "coop-x"\nname = "Coop X"\nemails = ["a@example.org"]\n[match]\nkeywords = ["traiteur"]\nregions = ["18"]\n',
        encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[paths]\nrules = "{tmp_path / "rules"}"\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(cfg), "rules", "check")
    assert code == 1
    assert f"{rules / 'bad.toml'}:6: " in err and "regions" in err
    code, out, _ = run(capsys, "--config", str(ROOT / "config.example.toml"), "rules", "check")
    assert code == 0 and "ok:" in out


def test_match_json_lines(capsys, config):
    run(capsys, "--config", str(config), "import", str(FEB_2018))
    code, out, _ = run(capsys, "--config", str(config), "match", "--json")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and lines, "the example profiles must match real notices of February 2018"
    for m in lines:
        assert set(m) == {"notice", "enterprise", "score", "verdict", "reasons"}
        assert m["verdict"] in ("realistic", "stretch", "consortium") and 0 < m["score"] <= 1 and m["reasons"]
    one = lines[0]
    code, out, _ = run(capsys, "--config", str(config), "match", "--json", "--notice", one["notice"], "--enterprise", one["enterprise"])
    assert json.loads(out) == one


def test_unknown_enterprise_is_one_clear_line(capsys, config):
    code, _, err = run(capsys, "--config", str(config), "match", "--enterprise", "nobody")
    assert code == 1 and err.startswith("watcher: unknown enterprise 'nobody'") and "→" in err


def test_digest_preview_then_send_over_smtp_once(capsys, config, tmp_path, smtp_server):
    run(capsys, "--config", str(config), "import", str(FEB_2018))
    # Today every notice of 2018 is closed, so a live digest is empty; replay them as published.
    code, out, _ = run(capsys, "--config", str(config), "digest", "--preview", str(tmp_path / "live"))
    assert code == 0 and not list((tmp_path / "live").glob("*.eml")) and "no digest" in out
    code, out, _ = run(capsys, "--config", str(config), "digest", "--at", "published", "--preview", str(tmp_path / "preview"))
    previews = sorted((tmp_path / "preview").glob("*.eml"))
    assert code == 0 and previews
    pages = sorted((tmp_path / "preview").glob("*.html"))  # for a coordinator's browser
    assert [p.stem for p in pages] == [p.stem for p in previews] and "<html" in pages[0].read_text(encoding="utf-8")
    smtp_cfg = config.read_text().replace('backend = "outbox"', 'backend = "smtp"') + (
        f'[delivery.smtp]\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n')
    config.write_text(smtp_cfg)
    smtp_server.clear()
    code, out, err = run(capsys, "--config", str(config), "digest", "--at", "published", "--send")
    assert code == 0, err
    assert len(smtp_server.messages) == len(previews)  # preview recorded nothing, so all are sent now
    msg = smtp_server.messages[0]
    assert msg.get_content_type() == "multipart/alternative" or msg.is_multipart()
    parts = {p.get_content_type() for p in msg.walk()}
    assert {"text/plain", "text/html"} <= parts
    smtp_server.clear()
    code, out, _ = run(capsys, "--config", str(config), "digest", "--at", "published", "--send")
    assert code == 0 and smtp_server.messages == []  # nothing is sent twice


def test_demo_writes_one_digest_per_example_enterprise(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--dir", str(tmp_path / "demo"))
    assert code == 0, err
    emls = sorted((tmp_path / "demo" / "outbox").glob("*.eml"))
    profiles = sorted((ROOT / "rules" / "enterprises").glob("*.toml"))
    # reboot-montreal has no open call in its trade in 2018-2019 (the hand labels agree), but awards in
    # its trade (issue 17's sections) give it something to act on: everyone gets a digest.
    assert len(emls) == len(profiles) >= 4
    for path in emls:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["To"] and msg["Subject"]
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert "24 fichiers SEAO" in out and " 0 erreur" in out
