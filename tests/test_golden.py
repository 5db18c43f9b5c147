"""Every result identical before and after the scale work (issue 16): the verdicts of
`match --all`, the `notices --json` lines and the digests (text part) of the 5,979 real SEAO
notices of demo/seao, compared with golden files written before batching and streaming.

When a change of the matching rules or of the digest changes these results ON PURPOSE,
regenerate them and review the diff: WATCHER_REGEN_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import email
import hashlib
import json
import os
from datetime import datetime, timezone
from email import policy
from pathlib import Path

import pytest

from watcher import app
from watcher.config import load_config
from watcher.serialize import match_json, notice_json
from watcher.store import open_store, repo

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "golden"
REGEN = bool(os.environ.get("WATCHER_REGEN_GOLDEN"))
NOW = datetime(2019, 12, 20, 12, 0, tzinfo=timezone.utc)  # digests as sent that day, notices judged as published


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden")
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "w.db"}"\n[paths]\nrules = "{ROOT / "rules"}"\n'
                    f'templates = "{ROOT / "templates"}"\n', encoding="utf-8")
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [ROOT / "demo" / "seao"]).errors
    yield cfg, engine, app.load_rulebook(cfg), folder
    engine.dispose()


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:  # show the first differing line, not two 100 kB strings
        for i, (a, e) in enumerate(zip(actual.splitlines(), expected.splitlines()), 1):
            assert a == e, f"{name}:{i} differs (WATCHER_REGEN_GOLDEN=1 if on purpose)"
        assert len(actual.splitlines()) == len(expected.splitlines()), f"{name}: line count differs"


def test_match_all_verdicts_are_unchanged(demo):
    cfg, engine, rulebook, _ = demo
    lines = [json.dumps(match_json(m, "fr"), ensure_ascii=False, sort_keys=True)
             for _, m in app.matches(engine, rulebook, include_no=True)]
    assert len(lines) > 100
    _compare("match-all.jsonl", "\n".join(lines) + "\n")


def test_notices_json_is_unchanged(demo):
    _, engine, _, _ = demo
    digest = hashlib.sha256()
    count = 0
    with engine.connect() as conn:
        for n in repo.load_notices(conn):
            digest.update(json.dumps(notice_json(n), ensure_ascii=False, sort_keys=True).encode() + b"\n")
            count += 1
    assert count == 5979
    _compare("notices.sha256", f"{count} {digest.hexdigest()}\n")


def test_digests_are_unchanged(demo):
    cfg, engine, rulebook, folder = demo
    outcomes = app.run_digests(engine, cfg, rulebook, preview_dir=folder / "preview", now=NOW, judge_now=None)
    assert outcomes
    parts = []
    for o in sorted(outcomes, key=lambda o: o.enterprise_id):
        msg = email.message_from_bytes(Path(o.where).read_bytes(), policy=policy.default)
        parts.append(f"=== {o.enterprise_id} {o.notices} +{o.omitted}\nSubject: {msg['Subject']}\n"
                     + msg.get_body(("plain",)).get_content())
    _compare("digests.txt", "\n".join(parts))


def test_leads_of_the_run_pass_are_those_of_the_whole_history(demo):
    """A digest run reads the history once, keeps per enterprise only its candidates that may lead,
    and the buyers' regions from every notice (issue 16): each enterprise's weekly leads must be
    those computed from the whole history."""
    from watcher.match.awards import hub_neqs_of

    _, engine, rulebook, _ = demo
    hub = hub_neqs_of(list(rulebook.enterprises))
    whole, cut = app._BuyerLeads(engine, None), app._BuyerLeads(engine, None, judge=app.judge_for(engine, rulebook))
    shown = 0
    for ent in rulebook.enterprises:
        week = cut.week(ent, NOW, {}, hub)
        assert week == whole.week(ent, NOW, {}, hub), ent.id
        shown += len(week.awards) + len(week.renewals) + len(week.buyers)
    assert shown and sum(map(len, cut._by_enterprise.values())) < len(whole._history)  # compared on something, and cut
