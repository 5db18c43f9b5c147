"""Digests against hostile stored data and concurrent senders, on SQLite and PostgreSQL: a bad URL
never reaches the calendar or stops the run, one enterprise that cannot be rendered is reported
while the others go out, and two processes sending at once never send one digest twice."""

from __future__ import annotations

import email
import os
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from email import policy
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update

from watcher import app
from watcher.config import load_config
from watcher.digest.render import Renderer
from watcher.store import claims, open_store, repo
from watcher.store.schema import delivery_failures, notices

ROOT = Path(__file__).resolve().parent.parent.parent
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"
FIRST_RUN = datetime(2018, 2, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(tmp_path, store_url):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{store_url}"\n[paths]\nrules = "{ROOT / "rules"}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[delivery]\nbackend = "outbox"\noutbox = "{tmp_path / "outbox"}"\nsender = "Veille <veille@example.org>"\n',
        encoding="utf-8")
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    rulebook = app.load_rulebook(cfg)  # every enterprise gets a mail, even with nothing new ("empty" digests)
    yield cfg, engine, replace(rulebook, enterprises=tuple(replace(e, digest_empty=True) for e in rulebook.enterprises))
    engine.dispose()


def _mails(cfg) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(cfg.delivery.outbox.glob("*.eml"))]


def test_hostile_urls_stored_earlier_never_reach_the_calendar(setup):
    cfg, engine, rulebook = setup
    with engine.begin() as conn:  # rows stored before the ingest checks existed: bypass them
        conn.execute(update(notices).where(notices.c.id < "seao:1600000").values(url="https://seao.example/a\r\nBcc: x@evil.example"))
        conn.execute(update(notices).where(notices.c.id >= "seao:1600000").values(url="javascript:alert(document.cookie)"))
    outcomes = app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)
    assert outcomes and all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    mails = _mails(cfg)
    assert len(mails) == len(outcomes)
    calendars = [part.get_content() for m in mails for part in m.iter_attachments()]
    assert calendars, "at least one calendar"
    for cal in calendars:
        text = cal.decode() if isinstance(cal, bytes) else cal
        assert "javascript" not in text and "evil.example" not in text
        assert all("url" not in event for event in Calendar.from_ical(cal).walk("VEVENT"))
    for m in mails:
        assert "Bcc" not in m and "javascript:" not in m.get_body(("html",)).get_content()


def test_one_enterprise_that_cannot_be_rendered_is_reported_and_the_others_go_out(setup, monkeypatch):
    cfg, engine, rulebook = setup
    real = Renderer.render
    victim = rulebook.enterprises[0].id

    def render(self, digest, *args, **kwargs):
        if digest.enterprise.id == victim:
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return real(self, digest, *args, **kwargs)
    monkeypatch.setattr(Renderer, "render", render)  # fault injection: no real input breaks the renderer any more
    outcomes = {o.enterprise_id: o for o in app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)}
    assert not outcomes[victim].ok and "UnicodeEncodeError" in outcomes[victim].error
    sent = {m["X-Watcher-Enterprise"] for m in _mails(cfg)}
    assert victim not in sent and sent == {e for e, o in outcomes.items() if o.ok} and len(sent) >= 3
    with engine.connect() as conn:
        failures = conn.execute(select(delivery_failures.c.enterprise_id, delivery_failures.c.error)).all()
    assert [f.enterprise_id for f in failures] == [victim] and "digest not built" in failures[0].error


def test_a_digest_claimed_by_a_live_process_is_not_sent_twice(setup):
    cfg, engine, rulebook = setup
    other = "other-host:1234:abcd"
    first = rulebook.enterprises[0].id
    assert claims.claim(engine, first, {}, other, datetime.now(timezone.utc)) is None
    outcomes = {o.enterprise_id: o for o in app.run_digests(engine, cfg, rulebook, now=FIRST_RUN)}
    assert not outcomes[first].ok and "being sent by other-host:1234:abcd" in outcomes[first].error
    assert first not in {m["X-Watcher-Enterprise"] for m in _mails(cfg)}
    with engine.connect() as conn:  # the others' claims were released when their mail was recorded
        held = conn.execute(select(claims.digest_claims.c.enterprise_id).where(claims.digest_claims.c.holder.is_not(None))).all()
    assert [h.enterprise_id for h in held] == [first]


def test_two_processes_sending_at_once_send_each_digest_once(setup):
    cfg, engine, rulebook = setup
    url = cfg.database_url
    engine.dispose()
    start = time.time() + 2.0
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                mine = open_store(url)
                time.sleep(max(0.0, start - time.time()))
                app.run_digests(mine, cfg, rulebook, now=FIRST_RUN)
            except BaseException as exc:  # noqa: BLE001
                os.write(2, f"child failed: {type(exc).__name__}: {exc}\n".encode())
                code = 1
            os._exit(code)
        pids.append(pid)
    assert [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids] == [0, 0]
    per_enterprise = Counter(m["X-Watcher-Enterprise"] for m in _mails(cfg))
    assert per_enterprise and set(per_enterprise.values()) == {1}, per_enterprise
    check = open_store(url)
    with check.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(repo.deliveries)).scalar()
    check.dispose()
    assert sent > 0
