"""Where the time goes: cProfile's top functions for the stages run_all.py measures.

    python benchmarks/profile_stages.py                 # every stage below
    python benchmarks/profile_stages.py import matching # some of them

Complements run_all.py (which gives the figures against their targets): when a target is missed,
this says which functions to look at. Stages:

- import:   the 24 SEAO XML files of demo/seao into a fresh SQLite file, through app.import_paths,
            next to the bare streaming parse of the same files (the ratio run_all.py reports);
- matching: 1,000 notices x 10,000 profiles through Judge.judge_candidates (the indexed path),
            and the naive loop `match_notice(notice, profile)` over every profile, timed on a few
            notices and extrapolated to 10,000 x 10,000 (said so in the output);
- delivery: 500 digests built and rendered with one Renderer (no SMTP: that part is I/O).

Data: real notices of demo/seao; synthetic profiles and replicated notices come from run_all.py's
seeded generators (seeds 1 and 2, the same as its matching benchmark).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import run_all  # noqa: E402  (its seeded generators and the bare parse)
from watcher import app  # noqa: E402
from watcher.collect import iter_files  # noqa: E402
from watcher.config import load_config  # noqa: E402
from watcher.digest.build import build_digest  # noqa: E402
from watcher.digest.render import Renderer  # noqa: E402
from watcher.match import match_notice  # noqa: E402
from watcher.match.engine import Judge  # noqa: E402
from watcher.store import open_store  # noqa: E402


def top(profile: cProfile.Profile, n: int = 10, sort: str = "tottime") -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start - 2:start + n + 1])


def profiled(label: str, fn):
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    result = fn()
    profile.disable()
    print(f"\n### {label}: {time.perf_counter() - start:.1f} s under cProfile (slower than unprofiled)")
    print("top 10 by own time:")
    print(top(profile, 10, "tottime"))
    print("top 10 by cumulative time:")
    print(top(profile, 10, "cumulative"))
    return result


def stage_import() -> None:
    xml = sorted(iter_files([run_all.DEMO]))
    start = time.perf_counter()
    parsed = run_all.bare_parse(xml)
    bare = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{Path(folder) / 'p.db'}")
        start = time.perf_counter()
        report = app.import_paths(engine, xml)
        plain = time.perf_counter() - start
        engine.dispose()
        print(f"\nimport (unprofiled): bare parse {parsed:,} notices {bare:.2f} s, import {plain:.2f} s "
              f"({report.notices_new:,} new, {report.notices_updated:,} updated): {bare / plain:.0%} of bare")
        engine = open_store(f"sqlite:///{Path(folder) / 'q.db'}")
        profiled("import of the 24 XML files into SQLite", lambda: app.import_paths(engine, xml))
        engine.dispose()


def stage_matching(rulebook) -> None:
    base = run_all.real_notices()
    notices = run_all.replicate(base, 10_000, seed=1)
    profiles = run_all.synthetic_profiles(base, 10_000, seed=2)
    start = time.perf_counter()
    judge = Judge(replace(rulebook, enterprises=tuple(profiles)))
    print(f"\nJudge built for 10,000 profiles (profiles compiled, index built): {time.perf_counter() - start:.1f} s")
    sample = notices[:1000]
    start = time.perf_counter()
    for n in sample:
        judge.judge_candidates(n)
    fast = time.perf_counter() - start
    print(f"judge_candidates, 1,000 notices x 10,000 profiles: {fast:.2f} s -> {fast * 10:.1f} s extrapolated to 10,000 notices")
    naive_sample = notices[:2]
    start = time.perf_counter()
    for n in naive_sample:
        for ent in profiles:
            match_notice(n, ent)
    naive = (time.perf_counter() - start) * 10_000 / len(naive_sample)
    print(f"naive match_notice(notice, enterprise) loop, 2 notices x 10,000 profiles timed: {naive:,.0f} s extrapolated "
          f"to 10,000 x 10,000 ({naive / (fast * 10):,.0f}x the indexed path)")
    profiled("judge_candidates, 1,000 notices x 10,000 profiles", lambda: [judge.judge_candidates(n) for n in sample])


def stage_delivery(rulebook) -> None:
    base = run_all.real_notices()
    judge = Judge(rulebook)
    pairs = [(n, m) for n in base[:400] for m in judge.judge_candidates(n) if m.is_match][:6]
    ent = rulebook.enterprises[0]
    now = datetime.now(timezone.utc)
    renderer = Renderer(ROOT / "templates")

    def render(count: int = 500) -> None:
        for i in range(count):
            digest = build_digest(replace(ent, id=f"{ent.id}-{i}", emails=(f"e{i}@example.org",)), pairs, now, 25, send_empty=True)
            renderer.render(digest, "Veille <veille@example.org>")

    profiled("500 digests built and rendered (6 items each)", render)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stages", nargs="*", help="import, matching, delivery (default: all)")
    args = p.parse_args()
    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    for stage in args.stages or ["import", "matching", "delivery"]:
        print(f"\n== {stage}", flush=True)
        if stage == "import":
            stage_import()
        elif stage == "matching":
            stage_matching(rulebook)
        else:
            stage_delivery(rulebook)


if __name__ == "__main__":
    main()
