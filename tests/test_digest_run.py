"""Weekly digests end to end on real SEAO notices (February 2018), delivered to a real SMTP server:
sections, .ics, both languages, reminders and amendments exactly once (the crash window: test_crash_window.py)."""

from __future__ import annotations

import email
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest
from icalendar import Calendar

from watcher import app
from watcher.config import load_config
from watcher.store import open_store, repo

ROOT = Path(__file__).resolve().parent.parent
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"
FIRST_RUN = datetime(2018, 2, 5, 12, 0, tzinfo=timezone.utc)


def _config(tmp_path, store_url, smtp_server, rules: Path = ROOT / "rules", extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{store_url}"\n[paths]\nrules = "{rules}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[delivery]\nbackend = "smtp"\nsender = "Veille <veille@example.org>"\n'
        f'[delivery.smtp]\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n' + extra, encoding="utf-8")
    return path


@pytest.fixture
def setup(tmp_path, store_url, smtp_server):
    path = _config(tmp_path, store_url, smtp_server)
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    return cfg, engine, app.load_rulebook(cfg), path


def _received(smtp_server) -> dict[str, email.message.EmailMessage]:
    """Arrived mails by enterprise id (the renderer names it in a header)."""
    out = {}
    for msg in smtp_server.messages:
        parsed = email.message_from_bytes(bytes(msg), policy=policy.default) if not hasattr(msg, "get_body") else msg
        out[parsed["X-Watcher-Enterprise"]] = parsed
    return out


def test_first_digest_has_sections_ics_and_both_languages(setup, smtp_server):
    cfg, engine, rulebook, _ = setup
    outcomes = app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)
    assert outcomes and all(o.ok for o in outcomes)
    mails = _received(smtp_server)
    assert set(mails) == {o.enterprise_id for o in outcomes}
    for ent_id, msg in mails.items():
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        english = rulebook.enterprise(ent_id).language == "en"
        assert ("== Realistic opportunities ==" if english else "== Occasions réalistes ==") in text or \
               ("Within reach" if english else "À votre portée") in text or "consortium" in text
        assert "List-Unsubscribe" in msg and msg["Content-Language"] == ("en" if english else "fr")
        assert ("Sureties and insurance" if english else "Garanties et assurances") in text
        assert "<table" in html and "<style" not in html
        for part in msg.iter_attachments():
            cal = Calendar.from_ical(part.get_content())
            assert all(str(e["uid"]).endswith("-closing@watcher") for e in cal.walk("VEVENT"))
    assert any(list(m.iter_attachments()) for m in mails.values()), "at least one realistic notice with a closing date"
    with_buyers = [k for k, m in mails.items() if "== Acheteurs à rencontrer ==" in m.get_body(("plain",)).get_content()]
    assert with_buyers  # buyers of the trade by gré à gré or invitation: one a week
    with engine.connect() as conn:
        keys = [k for k, reasons in repo.deliveries_by_notice(conn, with_buyers[0]).items() if "lead" in reasons]
    assert len([k for k in keys if k.startswith("buyer:")]) == 1 and not any("@" in k for k in keys if k.startswith("buyer:"))
    smtp_server.clear()
    assert app.run_digests(engine, cfg, rulebook, now=FIRST_RUN) == []  # nothing new: nothing sent
    assert smtp_server.messages == []
    # ... unless the profile asks for a "nothing this week" mail ([digest] empty = true)
    wants = replace(rulebook.enterprises[0], digest_empty=True)
    asked = replace(rulebook, enterprises=(wants, *rulebook.enterprises[1:]))
    [outcome] = app.run_digests(engine, cfg, asked, now=FIRST_RUN)
    [msg] = smtp_server.messages
    assert outcome.enterprise_id == wants.id and "Aucune nouvelle occasion" in msg.get_body(("plain",)).get_content()


def test_reminders_and_amendments_appear_once(setup, smtp_server):
    cfg, engine, rulebook, _ = setup
    app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)
    with engine.connect() as conn:
        sent = {n for e in rulebook.enterprises for n in repo.deliveries_by_notice(conn, e.id)}
        notices = {n.id: n for n in repo.load_notices(conn, ids=sorted(sent))}
    with_closing = sorted((n for n in notices.values() if n.closing_at), key=lambda n: n.id)
    assert with_closing, "the first digests carry notices with a closing date"
    target = with_closing[0]
    # The buyer moves the closing date of a notice already sent: a newer statement of it arrives.
    moved = replace(target, closing_at=target.closing_at + timedelta(days=3), as_of=datetime(2030, 1, 1, tzinfo=timezone.utc))
    with engine.begin() as conn:
        assert repo.save_notices(conn, [moved], origin="addendum", now=FIRST_RUN + timedelta(days=1)).updated == 1
    smtp_server.clear()
    second = moved.closing_at - timedelta(days=2)  # within a week of the new closing date
    app.run_digests(engine, cfg, rulebook, now=second)
    texts = {k: m.get_body(("plain",)).get_content() for k, m in _received(smtp_server).items()}
    with_amendment = [k for k, t in texts.items() if "date de fermeture déplacée" in t or "closing date moved" in t]
    with_reminder = [k for k, t in texts.items() if "Fermeture dans 7 jours" in t or "Closing within 7 days" in t]
    assert with_amendment and with_reminder
    assert all(target.title.split()[0] in texts[k] for k in with_amendment)
    smtp_server.clear()
    app.run_digests(engine, cfg, rulebook, now=second + timedelta(hours=1))
    assert smtp_server.messages == []  # each reminder and amendment went out once


def test_immediate_alert_for_a_realistic_notice_closing_soon_goes_once(setup, smtp_server):
    cfg, engine, rulebook, _ = setup
    with engine.connect() as conn:
        notices = list(repo.load_notices(conn))
    judge = app.judge_for(engine, rulebook)
    realistic = [(n, m) for n in notices if n.closing_at for m in judge.judge_candidates(n) if m.verdict == "realistic"]
    assert realistic, "February 2018 has realistic notices for the example profiles"
    notice, m = realistic[0]
    now = notice.closing_at - timedelta(days=2)  # two days before it closes
    ent = replace(rulebook.enterprise(m.enterprise_id), alert_days=3)
    alerting = replace(rulebook, enterprises=tuple(ent if e.id == ent.id else e for e in rulebook.enterprises))
    outcomes = app.run_alerts(engine, cfg, alerting, now=now)
    assert [o.enterprise_id for o in outcomes] == [ent.id] and outcomes[0].ok
    [msg] = smtp_server.messages
    assert notice.url in msg.get_content() and msg["Subject"].startswith(("Fermeture proche", "Closing soon"))
    smtp_server.clear()
    assert app.run_alerts(engine, cfg, alerting, now=now) == [] and smtp_server.messages == []  # once


def test_coordinator_digest_reports_teams_and_refused_mails_once(setup, smtp_server):
    cfg, engine, rulebook, path = setup
    cfg = replace(cfg, daemon=replace(cfg.daemon, coordinator_email="coordination@example.org"))
    first_ent = rulebook.enterprises[0]
    assert len(first_ent.emails) > 1
    smtp_server.fail(first_ent.emails[0], code=550)  # one of its two addresses is refused for good
    outcomes = app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)
    assert outcomes[-1].enterprise_id == "coordinator" and outcomes[-1].ok
    report = next(m for m in smtp_server.messages if m["X-Watcher-Enterprise"] == "coordinator")
    body = report.get_content()
    assert "Envois refusés : 1" in body and first_ent.id in body and "définitif" in body
    assert all(f"({o.enterprise_id})" in body for o in outcomes[:-1] if o.ok)
    smtp_server.clear()  # also lifts the 550 rule: the mail server accepts that address again
    retry = app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)
    # the other address got the digest: it counts as delivered and is not sent again
    assert [o.enterprise_id for o in retry] == ["coordinator"]
    again = next(m for m in smtp_server.messages if m["X-Watcher-Enterprise"] == "coordinator").get_content()
    assert "Envois refusés : 0" in again  # reported once, in the first report
    with engine.connect() as conn:
        assert repo.unreported_failures(conn) == []


def test_coordinator_digest_lists_notices_with_no_partner_on_file(tmp_path, store_url, smtp_server):
    """A notice too big for the only cleaning co-op on file is not a consortium for it (a team of one):
    it is `no` with the reason no_partner, and the coordinator hears of it, where the hub can recruit."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    horizon = rules / "enterprises" / "coop-entretien-horizon.toml"
    horizon.write_text(horizon.read_text(encoding="utf-8").replace("max_value = 250000", "max_value = 20000"), encoding="utf-8")
    path = _config(tmp_path, store_url, smtp_server, rules, '[daemon]\ncoordinator_email = "coordination@example.org"\n')
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    app.run_digests(engine, cfg, app.load_rulebook(cfg), now=FIRST_RUN, judge_now=None)
    report = _received(smtp_server)["coordinator"].get_body(("plain",)).get_content()
    # seao:992292 « Entretien ménager de certains édifices municipaux », about 43 000 $ for a 20 000 $ co-op
    assert "Sans partenaire au dossier (à recruter) : 1" in report
    line = next(x for x in report.splitlines() if x.startswith("- seao:992292"))
    assert "coop-entretien-horizon" in line and "aucun partenaire possible" in line
    assert "Rien à proposer cette fois" in report


def test_a_dated_digest_reads_open_calls_and_this_weeks_notices_not_the_years_of_awarded_contracts(tmp_path, store_url):
    """A digest at a date (the daemon's: now) judges the notices still open then, and those stating no
    closing date (SEAO's awarded contracts: most of a long history) published in its week only."""
    engine = open_store(store_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    at = datetime(2018, 2, 20, tzinfo=timezone.utc)
    week = at - app.DIGEST_WEEK
    everything = list(app.matches(engine, rulebook, include_no=True, now=at))
    dated = list(app.matches(engine, rulebook, include_no=True, now=at, fresh_since=week))
    with engine.connect() as conn:
        stored = list(repo.load_notices(conn))
        live = {n.id for n in repo.load_live(conn, at, week)}
    expected = {n.id for n in stored if (n.closing_at and n.closing_at >= at)
                or (n.closing_at is None and n.published_at and n.published_at >= week)}
    assert live == expected
    older = {n.id for n, _ in everything} - live
    assert older and all(n.closing_at is None and n.published_at < week for n in stored if n.id in older)
    assert [(n.id, m) for n, m in dated] == [(n.id, m) for n, m in everything if n.id in live]
