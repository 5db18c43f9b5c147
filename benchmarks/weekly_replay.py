"""Does each example profile get something to act on every week? Replay 2019 week by week.

Usage: python benchmarks/weekly_replay.py [SEAO_XML_DIR]   (default ../shared/data/seao-xml)

For each week of 2019 (52 weeks from Tuesday 2019-01-01) and each example profile of
rules/enterprises/, the digest's sections are rebuilt as the weekly run would have built them,
seeing only what was published by the end of that week (notices by their publication date, final
contracts by theirs), with what went out in earlier weeks remembered (each lead once; one buyer a
week, again after a quarter at the earliest), and the same limits as the mail:
- open calls: notices published that week, not already awarded, judged as on their publication
  day by the digest's Judge (thresholds, requirement phrases, award history) as realistic,
  stretch or consortium;
- awards: this week's contracts in the trade and regions given by gré à gré, invitation or order;
- renewals: contracts in the trade expected back 3 to 9 months later (contract dates, rhythm);
- buyers: buyers of the trade to meet.
A week is actionable when at least one section has an item. The table says, per profile, in how
many weeks each section had one, and the share of actionable weeks with and without the buyers
section (a buyer lead is the weakest signal: it says whom to meet, not that a purchase is near).

Caveat: the bundled AvisRevisions files hold only the notices revised in each month (about
6,000 over two years, a small part of what SEAO publishes): fewer awards per week than live.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from renewal_eval import DEFAULT_DIR, REPO, load  # noqa: E402  (same loader and data)

from watcher.codes import awarded_without_call  # noqa: E402
from watcher.match import compile_profile, notice_text  # noqa: E402
from watcher.match.awards import (buyers_to_meet, fresh_awards, hub_neqs_of, in_trade, lead_key, renewals,  # noqa: E402
                                  with_buyer_regions,
                                  week_leads)
from watcher.match.buyers import buyer_leads  # noqa: E402
from watcher.match.engine import AwardHistory, Judge, Rulebook  # noqa: E402
from watcher.money import load_rates  # noqa: E402
from watcher.rules import load_enterprises, load_requirement_rules, load_thresholds  # noqa: E402

MONTREAL = ZoneInfo("America/Montreal")
START = date(2019, 1, 1)
WEEKS = 52
SECTIONS = ("open", "awards", "renewals", "buyers")


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    t0 = time.perf_counter()
    notices, finals = load(folder)
    # The leads read notices without a region in their buyer's usual regions, as the digest does (a
    # buyer's regions are taken from both years: they do not depend on the week).
    lead_notices = with_buyer_regions(notices)
    enterprises = load_enterprises(REPO / "rules")
    rules = REPO / "rules"
    rulebook = Rulebook(tuple(enterprises), load_thresholds(rules / "thresholds.toml"),
                        load_requirement_rules(rules / "requirements.toml"), load_rates(rules / "rates.toml"))
    awards_rows = [(n.buyer_name, c, n.published_at, b.contract_amount) for n in notices if n.published_at
                   for b in n.bidders if b.winner and b.contract_amount for c in n.categories]
    judge = Judge(rulebook, AwardHistory(awards_rows))
    hub = hub_neqs_of(enterprises)
    # The trade test does not depend on the week: each profile's notices in its trade, once.
    trade = {e.id: [n for n in lead_notices if in_trade(n, compile_profile(e), notice_text(n))] for e in enterprises}
    print(f"{len(notices)} notices, {len(finals)} final contracts, {len(enterprises)} profiles; "
          f"in trade: {', '.join(f'{k} {len(v)}' for k, v in trade.items())}; loaded in {time.perf_counter() - t0:.1f} s")
    counts: dict[str, dict[str, int]] = {e.id: defaultdict(int) for e in enterprises}
    sent: dict[str, dict[str, date]] = {e.id: {} for e in enterprises}
    examples: dict[str, list[str]] = defaultdict(list)
    for week in range(WEEKS):
        start = START + timedelta(days=7 * week)
        end = start + timedelta(days=7)  # exclusive
        today = end - timedelta(days=1)
        at = datetime.combine(today, dtime(23, 59), MONTREAL)
        published = lambda n: n.published_at is not None and n.published_at.astimezone(MONTREAL).date() <= today  # noqa: E731
        seen_finals = [f for f in finals if f.published_on and f.published_on <= today]
        fresh_calls = [n for n in notices if n.published_at and start <= n.published_at.astimezone(MONTREAL).date() < end
                       and not awarded_without_call(n.notice_type, n.source)]
        for ent in enterprises:
            history = [n for n in trade[ent.id] if published(n)]
            opens = [n for n in fresh_calls for m in judge.judge_candidates(n, [ent.id]) if m.is_match]
            leads = week_leads(fresh_awards(history, ent, start, end, hub),
                               renewals(history, seen_finals, ent, today, hub),
                               buyers_to_meet(buyer_leads(history, ent, at), hub, ent.max_value), sent[ent.id], hub,
                               today=today)
            sent[ent.id].update({lead_key(x): today for x in (*leads.awards, *leads.renewals, *leads.buyers)})
            got = {"open": bool(opens), "awards": bool(leads.awards), "renewals": bool(leads.renewals),
                   "buyers": bool(leads.buyers)}
            for k, v in got.items():
                counts[ent.id][k] += v
            counts[ent.id]["any"] += any(got.values())
            counts[ent.id]["any_but_buyers"] += got["open"] or got["awards"] or got["renewals"]
            if week % 13 == 6:  # a few items to check by hand
                for a in leads.awards[:1]:
                    examples[ent.id].append(f"{start} award   {a.notice.id} {a.why_en}")
                for r in leads.renewals[:1]:
                    examples[ent.id].append(f"{start} renewal {r.notice_id} \"{r.title[:60]}\" {r.why_en}")
                for b in leads.buyers[:1]:
                    examples[ent.id].append(f"{start} buyer   {b.buyer[:60]}: {b.reason_en}")
                for n in opens[:1]:
                    examples[ent.id].append(f"{start} open    {n.id} \"{n.title[:70]}\"")
    print(f"\nWeeks with at least one item, {WEEKS} weeks from {START}:")
    print(f"{'profile':<26} {'open':>5} {'awards':>7} {'renewals':>9} {'buyers':>7} {'any':>5} {'any %':>6} "
          f"{'without buyers':>15}")
    for ent in enterprises:
        c = counts[ent.id]
        print(f"{ent.id:<26} {c['open']:>5} {c['awards']:>7} {c['renewals']:>9} {c['buyers']:>7} {c['any']:>5} "
              f"{c['any'] / WEEKS:>6.0%} {c['any_but_buyers'] / WEEKS:>15.0%}")
    print("\nSome items, to check by hand:")
    for ent_id, lines in examples.items():
        for line in lines[:6]:
            print(f"  {ent_id}: {line}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
