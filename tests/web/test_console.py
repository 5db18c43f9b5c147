"""The console through HTTP (Starlette's test client): login, sessions that expire, CSRF, nothing
writable without login, hostile notice text inert, profile editing with its safety net, and
proposals from feedback accepted into the rule file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from watcher.store import feedback as fb
from watcher.store import repo
from watcher.models import Notice

DATA = Path(__file__).resolve().parents[1] / "data" / "web"
COOP = "coop-entretien-horizon"


def _profile(site) -> Path:
    return site[0].rules_dir / "enterprises" / f"{COOP}.toml"


def test_console_pages_need_a_login(client):
    r = client.get("/console/notices", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/console").url.path == "/login"


def test_unauthenticated_writes_are_refused_and_change_nothing(site, client):
    before = _profile(site).read_text()
    for path, data in ((f"/console/enterprises/{COOP}/edit", {"text": "id = 'x'", "action": "save"}),
                       ("/console/feedback", {"notice": "seao:992292", "enterprise": COOP, "vote": "0"}),
                       (f"/console/enterprises/{COOP}/resubscribe", {}),
                       (f"/console/enterprises/{COOP}/proposals", {}),
                       ("/console/proposals/1", {"action": "accept"})):
        assert client.post(path, data=data, follow_redirects=False).status_code == 403, path
    assert _profile(site).read_text() == before
    with site[1].connect() as conn:
        assert fb.feedback_rows(conn) == []


def test_wrong_password_is_refused_and_login_rate_limited(client):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    codes = [client.post("/login", data={"csrf": token, "username": "coord", "password": "wrong password!"}).status_code
             for _ in range(11)]
    assert codes[0] == 401 and codes[-1] == 429


def test_csrf_is_required_on_every_console_post(site, client, csrf):
    before = _profile(site).read_text()
    text = before.replace('language = "fr"', 'language = "en"')
    for token in (None, "forged-token", csrf[:-1]):
        data = {"text": text, "action": "check"} | ({"csrf": token} if token else {})
        r = client.post(f"/console/enterprises/{COOP}/edit", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/console/feedback", data={"notice": "seao:992292", "enterprise": COOP, "vote": "0", "csrf": "x"})
    assert r.status_code == 403
    with site[1].connect() as conn:
        assert fb.feedback_rows(conn) == []
    assert _profile(site).read_text() == before
    # with the session's token it works
    r = client.post("/console/feedback", data={"notice": "seao:992292", "enterprise": COOP, "vote": "0", "csrf": csrf})
    assert r.status_code == 200
    with site[1].connect() as conn:
        assert len(fb.feedback_rows(conn)) == 1


def test_sessions_expire(client, csrf, monkeypatch):
    from watcher.web import security

    assert client.get("/console", follow_redirects=False).status_code == 200
    later = security.time.time() + 481 * 60  # [web] session_minutes defaults to 480
    monkeypatch.setattr(security.time, "time", lambda: later)
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_hostile_notice_text_is_shown_inert(site, client, csrf):
    from datetime import datetime, timezone

    hostile = Notice(id="seao:666", source="seao", reference="<b>ref</b>", url="javascript:alert(1)",
                     title='<script>alert("titre")</script> Entretien ménager', buyer_name='<img src=x onerror=alert(1)>',
                     notice_type="3 - Contrat", method="public", categories=("S9",), regions=("06",),
                     published_at=datetime(2018, 2, 1, tzinfo=timezone.utc), description='"><svg onload=alert(2)>')
    with site[1].begin() as conn:
        repo.save_notices(conn, [hostile], origin="test")
    for path in ("/console/notices/seao:666", "/console/notices?q=script"):
        body = client.get(path).text
        assert "<script>alert" not in body and "<img src=x" not in body and "<svg onload" not in body
        assert 'href="javascript:' not in body
    body = client.get("/console/notices/seao:666").text
    assert "&lt;script&gt;alert(&#34;titre&#34;)&lt;/script&gt;" in body
    assert "script-src" not in client.get("/console").headers["content-security-policy"]  # default-src 'none': no script


def test_edit_with_an_error_then_fix_see_the_diff_and_save(site, client, csrf):
    cfg, engine = site
    path = _profile(site)
    original = path.read_text()
    broken = original.replace("max_value = 250000", 'max_value = "beaucoup"')
    r = client.post(f"/console/enterprises/{COOP}/edit", data={"csrf": csrf, "text": broken, "action": "check"})
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if l.startswith("max_value"))
    assert r.status_code == 422 and f"{COOP}.toml:{line}: capacity.max_value" in r.text
    assert 'value="save"' not in r.text  # no save before a clean check
    fixed = original.replace('regions = ["06", "13", "15", "16"]', 'regions = ["06", "13", "16"]')  # no more Laurentides
    assert fixed != original
    r = client.post(f"/console/enterprises/{COOP}/edit", data={"csrf": csrf, "text": fixed, "action": "check"})
    assert r.status_code == 200 and "gains" in r.text and 'value="save"' in r.text
    checked = re.search(r'name="checked" value="([0-9a-f]{64})"', r.text).group(1)
    # saving another text than the one checked is refused
    r = client.post(f"/console/enterprises/{COOP}/edit",
                    data={"csrf": csrf, "text": fixed + "\n# autre\n", "action": "save", "checked": checked})
    assert r.status_code == 409 and path.read_text() == original
    r = client.post(f"/console/enterprises/{COOP}/edit",
                    data={"csrf": csrf, "text": fixed, "action": "save", "checked": checked, "summary": "entretien général"})
    assert r.status_code == 200 and "Profil enregistré" in r.text
    assert path.read_text() == fixed and "# Profil d'exemple (fictif)" in path.read_text()  # comments kept
    with engine.connect() as conn:
        (edit,) = fb.edits(conn, COOP)
    assert edit["username"] == "coord" and edit["summary"] == "entretien général"
    assert Path(edit["previous"]).read_text() == original  # the previous version is kept


def test_feedback_proposals_with_backtest_accepted_into_the_rule_file(site, client, csrf):
    cfg, engine = site
    path = cfg.rules_dir / "enterprises" / "atelier-renovation.toml"
    shutil.copy(DATA / "atelier-renovation.toml", path)
    with engine.begin() as conn:  # two "professional services" mandates are not for a renovation workshop
        fb.record_feedback(conn, "atelier-renovation", "seao:1113436", False, None, via="mail")
        fb.record_feedback(conn, "atelier-renovation", "seao:1113462", False, None, via="mail")
        fb.record_feedback(conn, "atelier-renovation", "seao:971635", True, None, via="mail")
    r = client.post("/console/enterprises/atelier-renovation/proposals", data={"csrf": csrf})
    assert r.status_code == 200
    with engine.connect() as conn:
        found = {p["value"]: p for p in fb.proposal_rows(conn, "atelier-renovation")}
    assert "entrainement" in found and found["entrainement"]["field"] == "match.exclude"
    p = found["entrainement"]
    assert p["backtest"]["losses"] >= 2 and set(p["evidence"]) == {"seao:1113436", "seao:1113462"}
    assert "12" in found and found["12"]["field"] == "match.regions" and found["12"]["action"] == "remove"
    assert "réaménagement" not in found  # words of "pertinent" notices are never proposed as exclusions
    r = client.post(f"/console/proposals/{p['id']}", data={"csrf": csrf, "action": "accept"})
    assert r.status_code == 200
    text = path.read_text()
    assert '"entrainement"' in text and "# pas de mot-clé" in text  # tomlkit kept the comments
    assert client.post(f"/console/proposals/{p['id']}", data={"csrf": csrf, "action": "accept"}).status_code == 409
    r = client.post(f"/console/proposals/{found['12']['id']}", data={"csrf": csrf, "action": "reject"})
    assert '"12"' in path.read_text()  # a rejected proposal changes nothing
    with engine.connect() as conn:
        assert {e["username"] for e in fb.edits(conn, "atelier-renovation")} == {"coord"}


def test_adduser_command_hashes_the_password(site, monkeypatch, capsys):
    import io

    from watcher.cli import main
    from watcher.web.security import check_password

    cfg, engine = site
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["--config", str(cfg.path), "web", "adduser", "marie", "--password-stdin"]) == 0
    with engine.connect() as conn:
        stored = fb.password_hash(conn, "marie")
    assert stored.startswith("$argon2id$") and "a long enough" not in stored
    assert check_password(stored, "a long enough password") and not check_password(stored, "wrong")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--config", str(cfg.path), "web", "adduser", "paul", "--password-stdin"]) == 1


def test_dashboard_shows_source_health_the_week_s_mail_and_precision(site, client, csrf, smtp_server):
    from datetime import datetime, timezone

    from watcher import app
    from watcher.store import runs

    cfg, engine = site
    with engine.begin() as conn:
        ok = runs.start_run(conn, "seao-ocds")
        runs.finish_run(conn, ok, True, 200, new=12)
        for _ in range(3):
            bad = runs.start_run(conn, "canadabuys")
            runs.finish_run(conn, bad, False, 503, error="HTTP 503 <b>Service Unavailable</b>")
    smtp_server.fail("direction@example.org", 550)
    app.run_digests(engine, cfg, app.load_rulebook(cfg), now=datetime.now(timezone.utc),
                    judge_now=None)  # as published: the 2018 notices go out this week
    with engine.begin() as conn:
        fb.record_feedback(conn, COOP, "seao:992292", True, None, via="mail")
        fb.record_feedback(conn, COOP, "seao:849011", False, "size", via="mail")
    body = client.get("/console").text
    assert "seao-ocds" in body and "canadabuys" in body and "⚠ 3" in body  # failing 3 times in a row
    assert "&lt;b&gt;Service Unavailable&lt;/b&gt;" in body
    assert COOP in body and "direction@example.org" in body  # sent this week, one address refused
    assert re.search(r"\d{4}-W\d\d</td><td data-label=\"Votes\">2</td><td data-label=\"Pertinents\">1</td>"
                     r"<td data-label=\"Précision\">50 %", body)


def test_digest_preview_of_one_enterprise(site, client, csrf):
    r = client.get(f"/console/enterprises/{COOP}/preview")  # live: the 2018 notices are closed
    assert r.status_code == 200 and "Rien à envoyer" in r.text
    r = client.get(f"/console/enterprises/{COOP}/preview?at=published")
    assert "Entretien ménager de l&#39;hotel de ville" in r.text and "Occasions réalistes" in r.text
    with site[1].connect() as conn:
        assert not repo.deliveries_by_notice(conn, COOP)  # a preview records nothing
    assert "script-src" not in r.headers["content-security-policy"]


def test_enterprise_page_shows_matches_buyers_and_teams(site, client, csrf):
    body = client.get(f"/console/enterprises/{COOP}").text
    # its large public call: a stretch as published (the 334 499 $ award came later: no look-ahead)
    assert "ACQUISITION DE SERVICES D&#39;ENTRETIEN MÉNAGER SANITAIRE" in body and "avec effort" in body
    assert "Acheteurs à contacter" in body


def test_relevant_notices_the_profile_missed_become_a_keyword_proposal(site, client, csrf):
    cfg, engine = site
    text = (DATA / "atelier-renovation.toml").read_text()
    text = text.replace('categories = ["S3"]', 'categories = ["S14"]').replace('regions = ["06", "12", "16"]', 'regions = ["*"]')
    (cfg.rules_dir / "enterprises" / "atelier-renovation.toml").write_text(text)
    # S3 renovation notices it misses (its profile now says S14), marked from the notice page. (Architects'
    # mandates about a room, « Services professionnels Salle d'entraînement », are not renovation work:
    # the matcher reads « Services professionnels » as another trade whatever word is added.)
    pair = ("seao:545498", "seao:971635")  # « Réaménagement de la bibliothèque », « Réaménagement de l'unité 3 E… »
    for notice_id in pair:
        r = client.post("/console/feedback", data={"csrf": csrf, "notice": notice_id, "enterprise": "atelier-renovation",
                                                   "vote": "1"})
        assert r.status_code == 200
    client.post("/console/enterprises/atelier-renovation/proposals", data={"csrf": csrf})
    with engine.connect() as conn:
        found = {(p["field"], p["value"]): p for p in fb.proposal_rows(conn, "atelier-renovation")}
    p = found[("match.keywords", "reamenagement")]
    assert set(p["evidence"]) == set(pair)
    assert set(pair) <= set(p["backtest"]["gained"])  # the backtest shows they now come
    assert not any(f == "match.exclude" for f, _ in found)  # nothing marked "not for us": nothing to exclude


def test_console_diff_equals_the_full_backtest_of_rules_test(site):
    """The console judges only each profile's candidates; `rules test --diff` judges every notice in
    full (app.backtest): both must find the same gains, losses and counts."""
    from dataclasses import replace as change

    from watcher import app, console
    from watcher.match import backtest as bt

    cfg, engine = site
    book = app.load_rulebook(cfg)
    moved = 0
    for ent in book.enterprises:
        edited = change(ent, max_value=(ent.max_value or 0) * 10 + 1, exclude=ent.exclude[1:],
                        regions=("*",), keywords=(*ent.keywords, "entretien", "services"))
        (fast,) = console.diffs(engine, book, ent, [edited])
        rows = list(app.backtest(engine, book, [ent, edited]))
        slow = bt.compare({n.id: o.verdict for n, (o, _) in rows}, {n.id: w.verdict for n, (_, w) in rows})
        assert [(l.notice.id, l.change.old, l.change.new) for l in fast.lines] == [(c.notice_id, c.old, c.new) for c in slow]
        assert fast.before == bt.tally(o.verdict for _, (o, _) in rows)
        assert fast.after == bt.tally(w.verdict for _, (_, w) in rows)
        assert fast.gains + fast.losses == len(slow)
        moved += len(slow)
    assert moved >= 5  # the edits do move verdicts: the comparison is not between two empty lists


def test_notice_search_by_text_buyer_region_code_and_dates(client, csrf):
    def ids(query: str) -> set[str]:
        return set(re.findall(r'href="/console/notices/(seao[^"]+)"', client.get("/console/notices?" + query).text))

    assert ids("q=entretien+ménager") >= {"seao%3A992292", "seao%3A849011"}
    assert ids("buyer=mont-laurier") >= {"seao%3A992292", "seao%3A849011"}
    assert ids("buyer=mont-laurier&region=15&code=S9") == {"seao%3A992292", "seao%3A849011"}
    assert "seao%3A849011" in ids("buyer=mont-laurier&code=9111")  # an UNSPSC prefix of its 91111601
    assert ids("buyer=mont-laurier&since=2016-01-01") == {"seao%3A992292"}
    before = ids("buyer=mont-laurier&until=2016-01-01")
    assert "seao%3A849011" in before and "seao%3A992292" not in before
    assert ids("buyer=mont-laurier&region=06") == set()
    # LIKE wildcards typed by a user match only themselves ("55330-523_RÉNO…"), not every one of the 119 notices
    assert len(ids("q=%25")) == 0 and 0 < len(ids("q=_")) < 10
    assert "Date invalide" in client.get("/console/notices?since=2016-13-45").text


def test_every_console_template_compiles(site):
    """A typo in a template rarely used (a proposal card, a refused mail) must fail here, not in use."""
    from watcher.web import Context

    env = Context(site[0], site[1]).templates.env
    names = [n for n in env.list_templates() if n.endswith(".html")]
    assert len(names) >= 10
    for name in names:
        env.get_template(name)
