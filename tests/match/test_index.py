"""The candidate index must not change a single verdict: on real notices and many profiles, the
indexed path judges exactly the pairs that pass capability, with the same verdicts."""

from __future__ import annotations

from pathlib import Path

from watcher.collect import PARSERS, open_source_file
from watcher.match.engine import Judge, Rulebook
from watcher.models import Notice
from watcher.rules import load_enterprises, load_requirement_rules, load_thresholds

ROOT = Path(__file__).resolve().parents[2]


def _rulebook() -> Rulebook:
    enterprises = load_enterprises(ROOT / "rules") + load_enterprises(ROOT / "demo" / "profiles-derived")
    return Rulebook(tuple(enterprises), load_thresholds(ROOT / "rules" / "thresholds.toml"),
                    load_requirement_rules(ROOT / "rules" / "requirements.toml"))


def _notices() -> list[Notice]:
    out = []
    for name in ("AvisRevisions_20180201_20180228.xml.gz", "AvisRevisions_20180801_20180831.xml.gz"):
        with open_source_file(ROOT / "demo" / "seao" / name) as stream:
            out += [n for n in PARSERS["seao_xml"](stream, name, None) if isinstance(n, Notice)]
    return out


def test_indexed_judging_equals_the_full_loop_on_real_notices():
    judge = Judge(_rulebook())
    notices = _notices()
    assert len(notices) > 350 and len(judge.profiles) == 13
    judged = skipped = 0
    for notice in notices:
        full = {m.enterprise_id: m for m in judge.judge(notice)}
        fast = {m.enterprise_id: m for m in judge.judge_candidates(notice)}
        assert all(fast[i] == full[i] for i in fast), notice.id
        for ent_id, m in full.items():
            if ent_id not in fast:
                assert m.verdict == "no" and not next(r for r in m.reasons if r.criterion == "capability").ok, (notice.id, ent_id)
                skipped += 1
        passing = {i for i, m in full.items() if next(r for r in m.reasons if r.criterion == "capability").ok}
        assert passing <= set(fast), notice.id
        judged += len(fast)
    assert skipped > 10 * judged  # the index is what makes thousands of profiles affordable
