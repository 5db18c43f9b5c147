"""Verdict distribution of the enterprise profiles over stored notices, judged as on publication day.

Usage: python benchmarks/verdict_distribution.py [DATABASE] [--rules RULES_DIR] [--since YYYY-MM-DD] [--until YYYY-MM-DD]

DATABASE is a SQLite file or a database URL (default demo-output/watcher.db, as `watcher demo`
leaves it; `watcher demo --dir /tmp/demo4` then `... /tmp/demo4/watcher.db`). RULES_DIR defaults
to the repository's rules/. Why: a coordinator tuning thresholds or profiles needs to see whether
the verdicts are plausible in bulk (a profile with hundreds of "realistic" is too loose, one with
none too tight) before reading single notices with `watcher explain`.

Two tables: counts by verdict per profile (with "trade" = notices asking for what it sells, i.e.
the capability criterion passes); then, for the trade notices judged "no", the failing criterion
that decided it (the first failure at level "no"), e.g. value (too small), method, region, lead_time.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from watcher.app import judge_for
from watcher.match.backtest import VERDICTS, tally
from watcher.match.engine import Rulebook
from watcher.rules import load_enterprises, load_requirement_rules, load_thresholds
from watcher.store import open_store
from watcher.store import repo

REPO = Path(__file__).resolve().parent.parent
MTL = ZoneInfo("America/Montreal")


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=MTL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", default=str(REPO / "demo-output" / "watcher.db"))
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--since", type=_day, help="published on or after")
    parser.add_argument("--until", type=_day, help="published before")
    args = parser.parse_args(argv)
    url = args.database if "://" in args.database else f"sqlite:///{Path(args.database).resolve()}"
    rulebook = Rulebook(tuple(load_enterprises(args.rules)), load_thresholds(args.rules / "thresholds.toml"),
                        load_requirement_rules(args.rules / "requirements.toml"))
    engine = open_store(url)
    started = time.perf_counter()
    judge = judge_for(engine, rulebook)
    with engine.connect() as conn:
        notices = [n for n in repo.load_notices(conn, since=args.since)
                   if args.until is None or (n.published_at is not None and n.published_at < args.until)]
    verdicts: dict[str, list[str]] = {e.id: [] for e in rulebook.enterprises}
    trade: Counter[str] = Counter()
    deciding: dict[str, Counter[str]] = {e.id: Counter() for e in rulebook.enterprises}
    for notice in notices:
        for m in judge.judge(notice, now=None):
            verdicts[m.enterprise_id].append(m.verdict)
            if next(r for r in m.reasons if r.criterion == "capability").ok:
                trade[m.enterprise_id] += 1
                if m.verdict == "no":
                    first = next((r for r in m.reasons if not r.ok and r.level == "no"), None)
                    deciding[m.enterprise_id][first.criterion if first else "several gaps / no consortium"] += 1
    elapsed = time.perf_counter() - started
    first = min((n.published_at for n in notices if n.published_at), default=None)
    last = max((n.published_at for n in notices if n.published_at), default=None)
    print(f"{len(notices)} notices published {first:%Y-%m-%d} .. {last:%Y-%m-%d}, {len(rulebook.enterprises)} profiles, "
          f"judged as on publication day in {elapsed:.1f} s ({url})\n")
    print(f"{'profile':<26}" + "".join(f"{v:>12}" for v in VERDICTS) + f"{'trade':>8}")
    for ent_id, vs in verdicts.items():
        counts = tally(vs)
        print(f"{ent_id:<26}" + "".join(f"{counts[v]:>12}" for v in VERDICTS) + f"{trade[ent_id]:>8}")
    print("\ntrade notices judged 'no', by deciding criterion:")
    for ent_id, counts in deciding.items():
        print(f"  {ent_id:<26}" + ", ".join(f"{k} {c}" for k, c in counts.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
