"""Reading and judging a page at a time (issue 16) gives exactly what reading everything at once
gave: the same notices in the same order, the same verdicts, the same buyer leads. Pages are made
tiny here so that real SEAO notices (February 2018) span many of them."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from watcher import app
from watcher.config import load_config
from watcher.match.buyers import buyer_leads
from watcher.serialize import notice_json
from watcher.store import repo

ROOT = Path(__file__).resolve().parents[2]
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"


@pytest.fixture
def filled(engine):
    assert not app.import_paths(engine, [FEB_2018]).errors
    return engine


def _read(engine, **kwargs) -> list[dict]:
    with engine.connect() as conn:
        return [notice_json(n) for n in repo.load_notices(conn, **kwargs)]


def test_pages_and_long_id_lists_change_nothing(filled, monkeypatch):
    whole = _read(filled)
    some = [n["id"] for n in whole[::3]]
    since = datetime(2018, 2, 10, tzinfo=timezone.utc)
    expected = (_read(filled, ids=some), _read(filled, ids=some, limit=5), _read(filled, since=since, limit=9))
    assert len(whole) > 100 and len(expected[0]) == len(some) and len(expected[1]) == 5
    monkeypatch.setattr(repo, "PAGE", 7)
    monkeypatch.setattr(repo, "IN_LIMIT", 10)  # `some` is then read by filtering the ordered stream
    assert _read(filled) == whole
    assert (_read(filled, ids=some), _read(filled, ids=some, limit=5), _read(filled, since=since, limit=9)) == expected


def test_verdicts_judged_in_pages_equal_one_pass(filled, monkeypatch, tmp_path):
    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    judged = app.refresh_verdicts(filled, rulebook)
    one_pass = [(n.id, m) for n, m in app.matches(filled, rulebook, include_no=True)]
    with filled.begin() as conn:  # forget every verdict: judged again, 4 notices a page
        from watcher.store.schema import match_results, notice_judged, profile_state

        for table in (match_results, notice_judged, profile_state):
            conn.execute(table.delete())
    monkeypatch.setattr(app, "VERDICT_PAGE", 4)
    assert app.refresh_verdicts(filled, rulebook) == judged > 0
    assert [(n.id, m) for n, m in app.matches(filled, rulebook, include_no=True)] == one_pass
    assert app.refresh_verdicts(filled, rulebook) == 0
    with filled.begin() as conn:  # again, a page cut as soon as it holds 3 verdicts (many profiles), read 3 notices at a time
        for table in (match_results, notice_judged, profile_state):
            conn.execute(table.delete())
    monkeypatch.setattr(app, "VERDICT_PAGE", 1000)
    monkeypatch.setattr(app, "VERDICT_PAIRS", 3)
    monkeypatch.setattr(app, "READ_PAGE", 3)
    assert app.refresh_verdicts(filled, rulebook) == judged
    assert [(n.id, m) for n, m in app.matches(filled, rulebook, include_no=True)] == one_pass


def test_buyer_leads_read_from_their_window_equal_a_scan_of_the_whole_history(filled):
    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    as_of = datetime(2018, 3, 1, tzinfo=timezone.utc)
    with filled.connect() as conn:
        everything = list(repo.load_notices(conn))
    found = 0
    for ent in rulebook.enterprises:
        expected = buyer_leads(everything, ent, as_of)
        assert app.buyers(filled, ent, as_of) == expected, ent.id
        found += len(expected)
    assert found > 0  # the check compared real leads, not empty lists


def test_weekly_award_leads_from_the_candidate_index_equal_a_scan_of_the_whole_history(filled):
    from watcher.match.awards import hub_neqs_of

    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    hub = hub_neqs_of(list(rulebook.enterprises))
    indexed = app._BuyerLeads(filled, None, judge=app.judge_for(filled, rulebook))
    scanned = app._BuyerLeads(filled, None)
    found = 0
    for day in (10, 20, 28):
        now = datetime(2018, 2, day, 12, tzinfo=timezone.utc)
        for ent in rulebook.enterprises:
            expected = scanned.week(ent, now, {}, hub)
            assert indexed.week(ent, now, {}, hub) == expected, (ent.id, day)
            found += len(expected.awards) + len(expected.renewals) + len(expected.buyers)
    assert found > 0  # real leads were compared
