"""Digest feedback links and one-click unsubscribe, end to end: a real digest through the test SMTP
server, its signed links followed, forged and replayed tokens refused, and the mail really stopped."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import unescape
from pathlib import Path

import pytest

from watcher import app, console
from watcher.cli import main
from watcher.digest.links import BadToken, Links
from watcher.store import feedback as fb

ROOT = Path(__file__).resolve().parents[2]
FIRST_RUN = datetime(2018, 2, 5, 12, 0, tzinfo=timezone.utc)


def _send(site, smtp_server) -> dict:
    cfg, engine = site
    outcomes = app.run_digests(engine, cfg, app.load_rulebook(cfg), now=FIRST_RUN)
    assert outcomes and all(o.ok for o in outcomes)
    return {m["X-Watcher-Enterprise"]: m for m in smtp_server.messages}


def _links(msg) -> list[str]:
    html = msg.get_body(("html",)).get_content()
    return [unescape(u) for u in re.findall(r'href="(https://veille\.example\.org/f/[^"]+)"', html)]


def test_every_item_carries_signed_links_and_rfc8058_headers(site, smtp_server):
    mails = _send(site, smtp_server)
    links = Links(site[0].web.secret, site[0].web.base_url)
    for ent_id, msg in mails.items():
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        items = html.count("border-left:4px solid")
        found = _links(msg)
        assert len(found) == 2 * items and items > 0  # "pertinent" and "pas pour nous" on every item
        for url in found:
            token = url.split("/f/")[1].split("?")[0]
            assert links.read_feedback(token)[0] == ent_id  # signed for this enterprise
            assert url in text.replace("=\n", "")  # the text part carries the same links
        header = msg["List-Unsubscribe"]
        assert header.startswith("<https://veille.example.org/u/") and "mailto:" in header
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_click_shows_a_form_and_only_the_post_records_once(site, smtp_server, client):
    cfg, engine = site
    msg = next(iter(_send(site, smtp_server).values()))
    no_link = next(u for u in _links(msg) if u.endswith("?v=0"))
    path = no_link.replace("https://veille.example.org", "")
    page = client.get(path)
    assert page.status_code == 200 and 'value="0" checked' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"  # the token never leaks to the notice's site
    with engine.connect() as conn:
        assert fb.feedback_rows(conn) == []  # a mail scanner following the link records nothing
    assert client.post(path.split("?")[0], data={"vote": "0", "reason": "size"}).status_code == 200
    assert client.post(path.split("?")[0], data={"vote": "0", "reason": "size"}).status_code == 200  # replayed
    with engine.connect() as conn:
        rows = fb.feedback_rows(conn)
    assert len(rows) == 1 and rows[0]["relevant"] is False and rows[0]["reason"] == "size"
    assert client.post(path.split("?")[0], data={"vote": "1"}).status_code == 200  # changed their mind
    with engine.connect() as conn:
        rows = fb.feedback_rows(conn)
    assert len(rows) == 1 and rows[0]["relevant"] is True and rows[0]["reason"] is None
    label = next(console.export_labels(engine))
    assert set(label) == {"notice", "enterprise", "trade", "digest", "note", "week"}
    assert label["trade"] is True and label["digest"] is True


def test_forged_altered_and_cross_purpose_tokens_are_refused(site, client):
    cfg, engine = site
    good = Links(cfg.web.secret, cfg.web.base_url)
    forged = Links("another-secret-0123456789-abcdefghijk", cfg.web.base_url)
    token = good.feedback_token("coop-entretien-horizon", "seao:1133143")
    header, _, signature = token.rpartition(".")
    for bad in (forged.feedback_token("coop-entretien-horizon", "seao:1133143"),  # signed with another key
                token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature altered
                good.feedback_token("festin-solidaire", "x").split(".")[0] + token[token.index("."):],  # payload swapped
                good.unsubscribe_token("coop-entretien-horizon"),  # right key, wrong purpose
                "not-a-token"):
        assert client.post(f"/f/{bad}", data={"vote": "0"}).status_code == 403
        assert client.get(f"/f/{bad}?v=0").status_code == 403
    assert client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 403
    with engine.connect() as conn:
        assert fb.feedback_rows(conn) == [] and fb.unsubscribed(conn) == {}
    with pytest.raises(BadToken):
        good.read_feedback(token, max_age=-1)  # too old


def test_one_click_unsubscribe_really_stops_the_mail(site, smtp_server, client):
    cfg, engine = site
    mails = _send(site, smtp_server)
    ent_id, msg = next(iter(mails.items()))
    url = msg["List-Unsubscribe"].split(">")[0].lstrip("<").replace("https://veille.example.org", "")
    assert client.get(url).status_code == 200
    with engine.connect() as conn:
        assert fb.unsubscribed(conn) == {}  # GET shows a button, changes nothing
    # RFC 8058: the provider POSTs this body, without cookies
    r = client.post(url, content=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    with engine.connect() as conn:
        assert set(fb.unsubscribed(conn)) == {ent_id}
    smtp_server.clear()
    assert not app.import_paths(engine, [ROOT / "demo" / "seao" / "AvisRevisions_20180301_20180331.xml.gz"]).errors
    later = datetime(2018, 4, 2, 12, 0, tzinfo=timezone.utc)
    outcomes = app.run_digests(engine, cfg, app.load_rulebook(cfg), now=later)
    assert ent_id not in {o.enterprise_id for o in outcomes}
    assert ent_id not in {m["X-Watcher-Enterprise"] for m in smtp_server.messages}
    with engine.begin() as conn:
        fb.resubscribe(conn, ent_id)  # the coordinator subscribes it again: the waiting notices go out
    app.run_digests(engine, cfg, app.load_rulebook(cfg), now=later)
    assert ent_id in {m["X-Watcher-Enterprise"] for m in smtp_server.messages}


def test_public_pages_are_rate_limited(site, client):
    hits = [client.get("/f/not-a-token").status_code for _ in range(35)]
    assert hits[0] == 403 and hits[-1] == 429


def test_feedback_export_cli_writes_relevance_labels(site, tmp_path, capsys):
    cfg, engine = site
    with engine.begin() as conn:
        fb.record_feedback(conn, "coop-entretien-horizon", "seao:1133143", False, "trade", via="mail")
        fb.record_feedback(conn, "festin-solidaire", "seao:1133143", False, "region", via="mail")
    out = tmp_path / "labels.jsonl"
    assert main(["--config", str(cfg.path), "feedback", "export", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["enterprise"], r["trade"], r["digest"]) for r in rows] == [
        ("coop-entretien-horizon", False, False), ("festin-solidaire", True, False)]
