"""10,000 enterprises' digests sent over a 60k-notice history: `watcher digest --send`, whole.

    python benchmarks/send_bench.py                      # 10,000 profiles, 10x the 2018-2019 set (59,790 notices)
    python benchmarks/send_bench.py --profiles 1000 --factor 2   # smaller
    python benchmarks/send_bench.py --history DIR --db PATH      # reuse a make_history.py folder / an imported store

The history comes from make_history.py (the real SEAO files under new ids, dates moved back) and
is imported by `watcher import` (timed, for information). The profiles are run_all.py's
synthetic ones (title bigrams, UNSPSC prefixes and regions of the real notices, seed 2), written
as rule files. The mail server is aiosmtpd in its own process, counting what it accepts.
`watcher --verbose digest --send --at DAY` then runs as a child process, as a user (or the daemon,
with today's date) runs it: DAY is the day after the history's last publication, so the notices
still open that day are judged for every profile, then buyer and award leads over the whole
history, then each digest rendered and sent over 4 SMTP connections. `--at published` replays
instead the whole history as a first digest (every stored notice judged as on its publication
day for every profile): no weekly run does that; it is kept for information. Its wall time, CPU time and own peak RSS
come from /usr/bin/time -v; its stage times from the progress line it prints.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_history import make_history  # noqa: E402
from measure import ROOT, measured, smtp_sink  # noqa: E402

TARGETS = "< 120 s and < 500 MB in all; rendering <= 4 ms a digest"


def profile_toml(ent) -> str:
    """One synthetic profile as a rule file (the fields synthetic_profiles sets)."""
    def strings(values) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"
    return (f'id = "{ent.id}"\nname = "{ent.name}"\nemails = {strings(ent.emails)}\n\n[match]\n'
            f"keywords = {strings(ent.keywords)}\nunspsc = {strings(ent.unspsc)}\nregions = {strings(ent.regions)}\n\n"
            f"[capacity]\nmin_value = {ent.min_value:.0f}\nmax_value = {ent.max_value:.0f}\n")


def write_rules(folder: Path, count: int) -> Path:
    """The repository's shared rules (thresholds, requirement phrases, rates) and `count` synthetic profiles."""
    from run_all import real_notices, synthetic_profiles

    rules = folder / "rules"
    (rules / "enterprises").mkdir(parents=True, exist_ok=True)
    for shared in (ROOT / "rules").glob("*.toml"):
        shutil.copy(shared, rules / shared.name)
    for ent in synthetic_profiles(real_notices(), count, seed=2):
        (rules / "enterprises" / f"{ent.id}.toml").write_text(profile_toml(ent), encoding="utf-8")
    return rules


@dataclass
class SendFigures:
    wall: float
    cpu: float
    peak: float  # MB
    accepted: int  # mails the SMTP server accepted
    stages: str  # the run's own progress line
    render_ms: float | None  # a digest, from that line

    @property
    def met(self) -> bool:
        return self.wall < 120 and self.peak < 500 and self.render_ms is not None and self.render_ms <= 4

    def __str__(self) -> str:
        return (f"{self.wall:.1f} s, CPU {self.cpu:.1f} s, peak RSS {self.peak:.0f} MB; {self.accepted:,} mails accepted "
                f"by aiosmtpd; {self.stages}")


def last_day(db: Path) -> str:
    """The day after the store's last publication: `now` for this history."""
    import sqlite3
    from datetime import date, timedelta

    with sqlite3.connect(db) as conn:
        (last,) = conn.execute("SELECT max(published_at) FROM notices").fetchone()
    return (date.fromisoformat(str(last)[:10]) + timedelta(days=1)).isoformat()


def run(profiles: int, factor: int, tmp: Path, history: Path | None = None, db: Path | None = None,
        report=print, at: str | None = None) -> SendFigures:
    """The send run's figures; `report(name, figure)` is called for the import (when done here) and the run."""
    if history is None:
        history = tmp / f"history-{factor}x"
        if not history.exists():
            make_history(history, factor)
    base = db or tmp / f"history-{factor}x.db"
    if not base.exists():
        wall, cpu, peak = measured([sys.executable, "-m", "watcher.cli", "--config", str(_config(tmp, base, "import")),
                                    "import", str(history)])
        report("import (for information)", f"{wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB")
    work = tmp / "send.db"  # a copy: the run records verdicts and deliveries, the imported store stays as it was
    shutil.copy(base, work)
    rules = write_rules(tmp, profiles)
    at = at or last_day(work)
    with smtp_sink(tmp / "accepted.count") as (port, accepted):
        config = _config(tmp, work, "send", rules, port)
        log = tmp / "send.log"
        wall, cpu, peak = measured([sys.executable, "-m", "watcher.cli", "--config", str(config), "--verbose",
                                    "digest", "--send", "--at", at], stderr=log)
        sent = accepted()
    found = re.search(r"digest run: (.*)", log.read_text(encoding="utf-8"))
    stages = found[1] if found else "no stage line: " + log.read_text(encoding="utf-8")[-500:]
    each = re.search(r"rendering [0-9.]+ s \([0-9]+ digests, ([0-9.]+) ms each\)", stages)
    figures = SendFigures(wall, cpu, peak, sent, stages, float(each[1]) if each else None)
    report(f"digest --send --at {at}, {profiles:,} profiles x {factor * 5979:,} notices", f"{figures} (target {TARGETS}: "
           f"{'met' if figures.met else 'NOT met'})")
    return figures


def _config(tmp: Path, db: Path, name: str, rules: Path = ROOT / "rules", port: int = 25) -> Path:
    config = tmp / f"{name}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[paths]\nrules = "{rules}"\ntemplates = "{ROOT / "templates"}"\n'
                      f'sources = "{ROOT / "sources"}"\n[delivery]\nbackend = "smtp"\n'
                      f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {port}\nconnections = 4\n', encoding="utf-8")
    return config


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profiles", type=int, default=10_000)
    p.add_argument("--factor", type=int, default=10, help="history size: copies of the 2018-2019 set (10: 59,790 notices)")
    p.add_argument("--history", type=Path, help="an existing make_history.py folder (else made in a temp folder)")
    p.add_argument("--db", type=Path, help="an imported SQLite store to reuse, never modified (imported here if missing)")
    p.add_argument("--at", help="the digest's day (default: the day after the last publication), or 'published'")
    args = p.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        run(args.profiles, args.factor, Path(folder), args.history, args.db,
            report=lambda name, figure: print(f"  {name}: {figure}", flush=True), at=args.at)
    print(f"  ({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
