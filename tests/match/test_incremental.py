"""Incremental matching on a real store (SQLite and PostgreSQL): a second run with nothing new
judges nothing; a changed notice is judged again for everyone; an edited profile on every notice;
and what is read back equals judging from scratch."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from watcher import app
from watcher.config import load_config
from watcher.store import open_store, repo

ROOT = Path(__file__).resolve().parents[2]
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"


def test_only_what_changed_is_judged_again(store_url, tmp_path):
    cfg = load_config(None, base=ROOT)
    rulebook = app.load_rulebook(cfg)
    engine = open_store(store_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    first = app.refresh_verdicts(engine, rulebook)
    assert first > 0
    assert app.refresh_verdicts(engine, rulebook) == 0  # nothing new: no matching work

    cached = sorted((n.id, m.enterprise_id, m.verdict, m.score) for n, m in app.matches(engine, rulebook, include_no=True))
    with engine.connect() as conn:
        notices = list(repo.load_notices(conn))
    # judged from scratch, with the same award history the store gives
    direct = app.judge_for(engine, rulebook)
    fresh = sorted((m.notice_id, m.enterprise_id, m.verdict, m.score) for n in notices for m in direct.judge_candidates(n))
    assert cached == fresh and len(cached) == first

    # One notice changes: judged again for every enterprise it concerns, nobody else.
    target = next(n for n in notices if direct.judge_candidates(n))
    with engine.begin() as conn:
        changed = replace(target, title=target.title + " (addenda 1)", as_of=None)
        assert repo.save_notices(conn, [changed], origin="test").updated == 1
    assert app.refresh_verdicts(engine, rulebook) == len(direct.judge_candidates(changed))

    # One profile is edited: judged again on every notice of its trade, the others untouched.
    edited_ent = replace(rulebook.enterprises[0], max_value=(rulebook.enterprises[0].max_value or 0) + 1)
    edited = replace(rulebook, enterprises=(edited_ent, *rulebook.enterprises[1:]))
    expected = sum(1 for n in notices for _ in direct.judge_candidates(n, [edited_ent.id]))
    assert app.refresh_verdicts(engine, edited) == expected
    assert app.refresh_verdicts(engine, edited) == 0


def test_a_first_match_refreshes_postgresql_statistics_of_the_verdicts(store_url, monkeypatch):
    """Each page replaces its verdicts by `IN (...)`: on a table filled since its last statistics,
    PostgreSQL would read all of it for every page. The run analyses the verdict tables as they grow."""
    import watcher.store as store
    from sqlalchemy import text

    cfg = load_config(None, base=ROOT)
    rulebook = app.load_rulebook(cfg)
    engine = open_store(store_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    calls: list[tuple[str, ...]] = []
    real = store.analyze
    monkeypatch.setattr(store, "ANALYZE_FROM", 2)
    monkeypatch.setattr(store, "analyze", lambda eng, tables: (calls.append(tables), real(eng, tables)))
    assert app.refresh_verdicts(engine, rulebook) > 2
    assert calls and all(tables == store.JUDGED_TABLES for tables in calls)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            known = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'match_results'::regclass")).scalar()
            stored = conn.execute(text("SELECT count(*) FROM match_results")).scalar()
        assert known == stored != 0
    engine.dispose()
