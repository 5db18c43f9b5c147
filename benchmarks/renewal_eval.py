"""Do forecast renewals come true? Forecast from 2018, check against 2019 awards.

Usage: python benchmarks/renewal_eval.py [SEAO_XML_DIR]   (default ../shared/data/seao-xml)

Protocol (no peeking):
- history = the notices of the AvisRevisions files (latest version of each) whose purchase date
  (award date, else publication) and publication are on or before 2018-12-31, and the final
  contracts (Contrats files) published on or before that day: their end dates;
- trades = the example profiles of rules/enterprises/ (trade and regions through the matcher's own
  test, `watcher.match.awards.in_trade`), and, for a larger sample, one profile suggested from the
  2018 bids of each NEQ that won at least 3 contracts in 2018 (`suggest_profile`, 2018 only);
- truth = the 2019 purchases (award notices with a winner, purchase date in 2019) in each trade,
  per (trade, buyer);
- a forecast is (trade, buyer, window) with its expected date in 2019; it is right when that
  buyer makes a purchase of that trade inside the window. Precision = right forecasts / forecasts;
  recall = (trade, buyer) pairs with a 2019 purchase caught by a right forecast / all such pairs.
- baseline "the buyer bought it last year": each 2018 purchase forecasts the same purchase one
  year later, with the same window width as ours (±30 days), and, printed too, the loosest form:
  "buys it again some time in 2019".
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from watcher.collect import open_source_file
from watcher.collect.seao_xml import parse
from watcher.errors import ParseError
from watcher.match import compile_profile, notice_text
from watcher.match.awards import _buyer_key, forecast, in_trade, is_award
from watcher.match.suggest import latest_versions, notice_date, suggest_profiles
from watcher.models import Enterprise, FinalContract, Notice
from watcher.rules import load_enterprises

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / ".." / "shared" / "data" / "seao-xml"
CUTOFF = date(2018, 12, 31)
YEAR = (date(2019, 1, 1), date(2019, 12, 31))
TOLERANCE = timedelta(days=30)


def load(folder: Path) -> tuple[list[Notice], list[FinalContract]]:
    notices: list[Notice] = []
    finals: list[FinalContract] = []
    for path in sorted(folder.glob("*.xml")):
        if not path.name.startswith(("AvisRevisions_", "Contrats_")):
            continue
        with open_source_file(path) as stream:
            for item in parse(stream, str(path)):
                if isinstance(item, Notice):
                    notices.append(item)
                elif isinstance(item, FinalContract):
                    finals.append(item)
                elif isinstance(item, ParseError):
                    print(f"  skipped: {item}", file=sys.stderr)
    return latest_versions(notices), finals


def trades(notices: list[Notice]) -> list[Enterprise]:
    """The example profiles, plus one suggested from 2018 for each NEQ with 3 wins or more in 2018."""
    profiles = list(load_enterprises(REPO / "rules"))
    wins: dict[str, int] = defaultdict(int)
    for n in notices:
        when = notice_date(n)
        if when and when <= CUTOFF:
            for b in n.bidders:
                if b.winner and b.neq:
                    wins[b.neq] += 1
    train = [n for n in notices if (d := notice_date(n)) and d <= CUTOFF]
    for neq, s in sorted(suggest_profiles(train, sorted(k for k, v in wins.items() if v >= 3), date(2019, 1, 1)).items()):
        if s.keywords or s.unspsc:
            profiles.append(s.to_enterprise(f"neq-{neq}"))
    return profiles


def truth(notices: list[Notice], ent: Enterprise) -> dict[str, list[date]]:
    """2019 purchases in the trade, by buyer."""
    profile = compile_profile(ent)
    out: dict[str, list[date]] = defaultdict(list)
    for n in notices:
        when = notice_date(n)
        if when is None or not YEAR[0] <= when <= YEAR[1]:
            continue
        if (any(b.winner for b in n.bidders) or is_award(n)) and in_trade(n, profile, notice_text(n)):
            out[_buyer_key(n)].append(when)
    return out


def baseline(notices: list[Notice], ent: Enterprise) -> list[tuple[str, date, date]]:
    """Each 2018 purchase in the trade comes back one year later."""
    profile = compile_profile(ent)
    out = []
    for n in notices:
        when = notice_date(n)
        if when is None or not date(2018, 1, 1) <= when <= CUTOFF or (n.published_at and n.published_at.date() > CUTOFF):
            continue
        if (any(b.winner for b in n.bidders) or is_award(n)) and in_trade(n, profile, notice_text(n)):
            again = when + timedelta(days=365)
            out.append((_buyer_key(n), again - TOLERANCE, again + TOLERANCE))
    return out


def merged(forecasts: list[tuple[str, str, date, date]]) -> list[tuple[str, str, date, date]]:
    """Overlapping windows of one (trade, buyer) merged into one claim, so a buyer with fifty 2018
    purchases counts as one forecast, not fifty, for every method alike."""
    out: list[tuple[str, str, date, date]] = []
    for trade, buyer, lo, hi in sorted(forecasts):
        if out and out[-1][:2] == (trade, buyer) and lo <= out[-1][3]:
            out[-1] = (trade, buyer, out[-1][2], max(hi, out[-1][3]))
        else:
            out.append((trade, buyer, lo, hi))
    return out


def score(forecasts: list[tuple[str, str, date, date]], actual: dict[str, dict[str, list[date]]]) -> tuple[int, int, int, int]:
    """(right forecasts, forecasts, caught (trade, buyer) pairs, pairs), overlapping windows merged."""
    forecasts = merged(forecasts)
    right, caught = 0, set()
    for trade, buyer, lo, hi in forecasts:
        if any(lo <= d <= hi for d in actual[trade].get(buyer, ())):
            right += 1
            caught.add((trade, buyer))
    pairs = sum(len(v) for v in actual.values())
    return right, len(forecasts), len(caught), pairs


def line(name: str, right: int, total: int, caught: int, pairs: int) -> str:
    p = right / total if total else 0.0
    r = caught / pairs if pairs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"{name:<44} {total:>9} {right:>6} {p:>9.1%} {caught:>5}/{pairs:<5} {r:>7.1%} {f1:>6.3f}"


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    t0 = time.perf_counter()
    notices, finals = load(folder)
    if not notices:
        print(f"{folder}: no AvisRevisions_*.xml file", file=sys.stderr)
        return 1
    profiles = trades(notices)
    print(f"{len(notices)} notices, {len(finals)} final contracts, {len(profiles)} trades "
          f"({sum(1 for p in profiles if not p.id.startswith('neq-'))} example profiles); loaded in {time.perf_counter() - t0:.1f} s")
    for label, chosen in (("example profiles", [p for p in profiles if not p.id.startswith("neq-")]), ("all trades", profiles)):
        actual = {p.id: truth(notices, p) for p in chosen}
        ours, base, loose = [], [], []
        by_basis: dict[str, list] = defaultdict(list)
        for p in chosen:
            for r in forecast(notices, finals, p, CUTOFF, YEAR[1]):
                if YEAR[0] <= r.expected <= YEAR[1]:
                    f = (p.id, r.buyer_key, r.window[0], r.window[1])
                    ours.append(f)
                    by_basis[r.basis].append(f)
            base += [(p.id, *b) for b in baseline(notices, p)]
            loose += [(p.id, b, *YEAR) for b in sorted({b for b, _, _ in baseline(notices, p)})]
        print(f"\n== {label}: {len(chosen)} trades ==")
        print(f"{'method':<44} {'forecasts':>9} {'right':>6} {'precision':>9} {'pairs':>11} {'recall':>7} {'F1':>6}")
        print(line("watcher forecast (contract dates, rhythm)", *score(ours, actual)))
        for basis, items in sorted(by_basis.items()):
            print(line(f"  of which basis = {basis}", *score(items, actual)))
        print(line("baseline: bought last year, same day ±30 d", *score(base, actual)))
        print(line("baseline: bought last year, any time 2019", *score(loose, actual)))
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
