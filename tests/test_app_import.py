"""app.import_paths: the collector's pace while importing, and the process left as it was found."""

from __future__ import annotations

import gc
from pathlib import Path

from watcher import app
from watcher.store import open_store

DATA = Path(__file__).parent / "data" / "seao_xml" / "AvisRevisions_20180101_20180131.excerpt.xml"


def _thresholds_during_import(tmp_path: Path) -> list[tuple[int, int, int]]:
    engine = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    seen: list[tuple[int, int, int]] = []
    report = app.import_paths(engine, [DATA], progress=lambda *_: seen.append(gc.get_threshold()))
    engine.dispose()
    assert report.notices_new > 0 and not report.errors
    return seen


def test_import_runs_the_cyclic_collector_less_often_and_restores_its_pace(tmp_path: Path):
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        seen = _thresholds_during_import(tmp_path)
        assert seen and all(t == (app.IMPORT_GC_THRESHOLD, 10, 10) for t in seen)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_import_leaves_a_switched_off_collector_off(tmp_path: Path):
    before = gc.get_threshold()
    try:
        gc.set_threshold(0)
        assert all(t[0] == 0 for t in _thresholds_during_import(tmp_path))
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_an_import_refreshes_postgresql_statistics_as_it_grows(engine, monkeypatch):
    """A table filled since PostgreSQL last gathered statistics is planned blind (autovacuum waits a
    minute, some servers run without it): each page's `IN (...)` read by a full scan. The import
    analyses what it filled: at ANALYZE_FROM rows, each doubling, and at the end."""
    import watcher.store as store
    from sqlalchemy import text

    calls: list[tuple[str, ...]] = []
    real = store.analyze
    monkeypatch.setattr(store, "ANALYZE_FROM", 2)
    monkeypatch.setattr(store, "analyze", lambda eng, tables: (calls.append(tables), real(eng, tables)))
    report = app.import_paths(engine, [DATA])
    assert report.notices_new > 2 and not report.errors
    assert calls and all(tables == store.IMPORTED_TABLES for tables in calls)
    if engine.dialect.name == "postgresql":  # the planner now knows the table's size (-1: never analysed)
        with engine.connect() as conn:
            known = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'notices'::regclass")).scalar()
            stored = conn.execute(text("SELECT count(*) FROM notices")).scalar()
        assert known == stored != 0
