"""The operations the CLI and the daemon share: import, match, digest. Wiring only; the logic
lives in collect/, store/, match/ and digest/."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .collect import PARSERS, detect_stream, iter_files, open_source_file
from .collect.fetch import Fetcher
from .collect.runner import RunReport, collect_all, failing_alerts
from .config import Config
from .digest.build import build_digest, describe_changes
from .digest.deliver import DeliveryResult, Outbox, deliver
from .digest.links import links_for
from .digest.render import Renderer
from .errors import ParseError, WatcherError
from .match import MATCHER_VERSION, compile_profile, notice_text
from .match.awards import (RegionGate, WeekLeads, buyers_to_meet, forecast, fresh_awards, hub_neqs_of, lead_key, lead_trade, may_lead,
                           renewals, buyer_regions, stored_lead_key, week_leads, with_buyer_regions)
from .match.buyers import BuyerLead, buyer_leads
from .match.consortia import Proposal, propose
from .match.engine import AwardHistory, Judge, Rulebook
from .match.suggest import SuggestedProfile, suggest_profile
from .models import Amendment, Digest, DigestItem, Enterprise, Expense, FinalContract, Match, Notice
from .money import load_rates
from .store.contacts import KnownContact, latest_contact_by_name
from .rules import load_enterprises, load_requirement_rules, load_thresholds
from . import ruleset
from .sources import load_sources  # noqa: F401  (strict loader, kept for callers; running uses ruleset)
from .store import feedback as feedback_store
from .store import IMPORTED_TABLES, JUDGED_TABLES, Analyzer, claims, repo, verdicts, writing
from .store.contracts import load_final_contracts

log = logging.getLogger("watcher.digest")

MONTREAL = ZoneInfo("America/Montreal")

CHUNK = 500
# Allocations (net of frees) between two runs of the cyclic garbage collector during an import
# (Python's default: 700). See _few_collections.
IMPORT_GC_THRESHOLD = 10_000


@dataclass
class ImportReport:
    files: int = 0
    notices_new: int = 0
    notices_updated: int = 0
    notices_unchanged: int = 0
    notices_stale: int = 0
    contracts: int = 0
    expenses: int = 0
    errors: list[str] = field(default_factory=list)
    titles_built: int = 0  # notices without a title in their file, given one built from their fields (a warning)

    def as_json(self) -> dict:
        return {"files": self.files, "notices_new": self.notices_new, "notices_updated": self.notices_updated,
                "notices_unchanged": self.notices_unchanged, "notices_stale": self.notices_stale,
                "contracts": self.contracts, "expenses": self.expenses, "errors": self.errors,
                "warnings": {"titles_built": self.titles_built}}


def import_paths(engine: Engine, paths: Iterable[str | Path],
                 progress: Callable[[int, int, Path, ImportReport], None] | None = None) -> ImportReport:
    """Import every file under `paths`; a bad file or record is reported and the rest goes on.
    `progress(done, total, path, report)` is called after each file (the CLI shows it on a terminal)."""
    report = ImportReport()
    files = list(iter_files(paths))
    analyzer = Analyzer(engine, IMPORTED_TABLES)  # the planner's statistics kept up with what is imported
    with _few_collections():
        _import_files(engine, files, report, progress, analyzer)
    analyzer.finish()
    return report


def _import_files(engine: Engine, files: list[Path], report: ImportReport,
                  progress: Callable[[int, int, Path, ImportReport], None] | None, analyzer: Analyzer) -> None:
    for index, path in enumerate(files, start=1):
        if progress is not None:
            progress(index - 1, len(files), path, report)
        report.files += 1
        try:
            _import_file(engine, path, report, analyzer)
        except ParseError as exc:
            report.errors.append(str(exc))
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror or exc}")
        except (WatcherError, MemoryError, RecursionError, ValueError, SQLAlchemyError) as exc:
            # one bad file (a store refusal, a bug a hostile file triggers) never stops the next files
            report.errors.append(f"{path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "))
    if progress is not None and files:
        progress(len(files), len(files), files[-1], report)


@contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector run every IMPORT_GC_THRESHOLD allocations, not every 700, while
    importing: a chunk of notices in hand is thousands of young objects, so the default ran it about
    a hundred times an import, each pass over them, and a full pass over every object of the process
    (modules, SQLAlchemy, a caller's data) when they piled up: 6 to 10 % of a SEAO XML import.
    Refcounting still frees every record as before; cyclic garbage waits a little longer."""
    old = gc.get_threshold()
    if old[0]:  # 0: automatic collection is off, and stays off
        gc.set_threshold(max(IMPORT_GC_THRESHOLD, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _import_file(engine: Engine, path: Path, report: ImportReport, analyzer: Analyzer) -> None:
    with open_source_file(path) as stream:
        kind = detect_stream(stream, path.name)
        if kind is None:
            raise ParseError(str(path), None, "format not recognised (expected SEAO XML, OCDS JSON, CanadaBuys CSV or RSS/Atom)")
        notices: list[Notice] = []
        finals: list[FinalContract] = []
        spent: list[Expense] = []
        for item in PARSERS[kind](stream, str(path), None):
            if isinstance(item, ParseError):
                report.errors.append(str(item))
            elif isinstance(item, Notice):
                notices.append(item)
                report.titles_built += item.title_built
            elif isinstance(item, FinalContract):
                finals.append(item)
            elif isinstance(item, Expense):
                spent.append(item)
            if len(notices) + len(finals) + len(spent) >= CHUNK:
                _flush(engine, path, notices, finals, spent, report, analyzer)
        _flush(engine, path, notices, finals, spent, report, analyzer)


def _flush(engine: Engine, path: Path, notices: list, finals: list, spent: list, report: ImportReport,
           analyzer: Analyzer) -> None:
    """Save one chunk in one transaction: a crash loses at most the chunk in hand, never a half-saved notice."""
    with writing(engine) as conn:  # serialised with other writers: one change is never recorded twice
        counts = repo.save_notices(conn, notices, origin=path.name)
        report.notices_new += counts.new
        report.notices_updated += counts.updated
        report.notices_unchanged += counts.unchanged
        report.notices_stale += counts.stale
        contracts, expenses = repo.save_final_contracts(conn, finals).new, repo.save_expenses(conn, spent).new
        report.contracts += contracts
        report.expenses += expenses
    analyzer.wrote(counts.new + counts.updated + contracts + expenses)
    notices.clear(), finals.clear(), spent.clear()


def load_rulebook(cfg: Config, engine: Engine | None = None) -> Rulebook:
    """Enterprise profiles, thresholds and requirement phrases from the rules folder. A broken profile
    is skipped with a warning naming file:line (its last good version serves when `engine` keeps
    one: watcher.ruleset); broken thresholds or requirement phrases raise RuleErrors."""
    return ruleset.load(cfg, engine).rulebook


def judge_for(engine: Engine, rulebook: Rulebook) -> Judge:
    """A Judge that knows the store's award history (to estimate values notices do not state)."""
    with engine.connect() as conn:
        history = AwardHistory(repo.award_history(conn))
    return Judge(rulebook, history)


def refresh_verdicts(engine: Engine, rulebook: Rulebook, judge: Judge | None = None) -> int:
    """Judge (as published) what changed since the stored verdicts: new or changed notices for every
    enterprise, every notice for an enterprise whose profile or the shared rules changed. Returns
    the number of (notice, enterprise) pairs judged: 0 when nothing changed."""
    shared = f"{MATCHER_VERSION}|{rulebook.thresholds!r}|{rulebook.requirements!r}" + (
        f"|{rulebook.rates!r}" if rulebook.rates.rows else "")
    hashes = verdicts.profile_hashes(rulebook.enterprises, shared)
    with engine.connect() as conn:
        changed_notices, changed_ents, gone = verdicts.stale(conn, hashes)
    if not (changed_notices or changed_ents or gone):
        return 0
    judge = judge or judge_for(engine, rulebook)
    stale_notices, everyone = set(changed_notices), list(hashes)
    now = datetime.now(timezone.utc)
    # A page at a time, each page's verdicts committed with it: memory stays flat on any history,
    # the write lock is held for one page, and a run that stops half-way leaves the rest stale.
    # Every write is serialised (writing): two processes judging at once replace, never duplicate.
    with writing(engine) as conn:
        verdicts.forget(conn, changed_ents | gone)
    count = 0
    analyzer = Analyzer(engine, JUDGED_TABLES)  # each page replaces its verdicts by IN (...): planned on fresh statistics
    with engine.connect() as read:
        targets = repo.load_notices(read) if changed_ents else repo.load_notices(read, ids=changed_notices)
        page: list[Notice] = []
        judged: list[Match] = []
        for notice in targets:
            ents = everyone if notice.id in stale_notices else [e for e in everyone if e in changed_ents]
            judged += judge.judge_candidates(notice, ents, now=None)
            page.append(notice)
            if len(page) >= VERDICT_PAGE or len(judged) >= VERDICT_PAIRS:  # 10,000 profiles: ~80 pairs a notice
                count += _save_verdicts(engine, page, judged, stale_notices, changed_ents, hashes, now, analyzer)
                page, judged = [], []
        if page:
            count += _save_verdicts(engine, page, judged, stale_notices, changed_ents, hashes, now, analyzer)
    with writing(engine) as conn:
        verdicts.remember(conn, changed_ents, hashes, now)
    analyzer.finish()
    return count


def _save_verdicts(engine: Engine, page: list[Notice], judged: list[Match], stale_notices: set[str],
                   changed_ents: set[str], hashes: dict[str, str], now: datetime, analyzer: Analyzer) -> int:
    with writing(engine) as conn:
        verdicts.save_page(conn, judged, [n.id for n in page if n.id in stale_notices], hashes, now,
                           rejudged=(changed_ents, [n.id for n in page]))
    analyzer.wrote(len(judged) + len(page))  # verdict rows and the page's notice_judged rows
    return len(judged)


VERDICT_PAGE = 1000  # notices judged, then saved, at a time...
VERDICT_PAIRS = 20_000  # ...or fewer when they make this many verdicts: memory bound by pairs, not notices
READ_PAGE = 250  # notices whose verdicts are read back at a time (each may have ~80 with 10,000 profiles)


def _pages(items: Iterable, size: int) -> Iterator[list]:
    page: list = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def matches(engine: Engine, rulebook: Rulebook, enterprise_id: str | None = None, notice_id: str | None = None,
            include_no: bool = False, now: datetime | None = None, since: datetime | None = None,
            judge: Judge | None = None, fresh_since: datetime | None = None) -> Iterator[tuple[Notice, Match]]:
    """Judge stored notices for the enterprises (optionally one of each). `now` None judges each notice
    as at its publication (backtests, the demo); the daemon passes the current time. Only the
    enterprises whose trade a notice asks for are judged (CandidateIndex): `include_no` adds their
    `no` verdicts, not the thousands of "not your trade" ones, except for one notice and one enterprise.
    With `now` and `fresh_since` (a digest), only notices still open or, with no closing date,
    published since `fresh_since` are read (repo.load_live)."""
    ids = [e.id for e in rulebook.enterprises if enterprise_id in (None, e.id)]
    full = bool(notice_id and enterprise_id)  # one pair asked for: judge it even outside its trade
    if now is None and not full:  # as published: verdicts do not depend on the clock, keep them
        refresh_verdicts(engine, rulebook, judge)  # builds a judge (reads the award history) only if needed
        order = {e: i for i, e in enumerate(ids)}
        who = None if enterprise_id is None else ids  # all: no list of thousands of ids in the query
        with engine.connect() as conn:  # a page of notices at a time, with their verdicts
            wanted = verdicts.notice_ids(conn, who, [notice_id] if notice_id else None, include_no)
            for page in _pages(repo.load_notices(conn, ids=wanted, since=since), READ_PAGE):
                kept: dict[str, list[Match]] = {}
                for m in verdicts.load(conn, who, [n.id for n in page], include_no):
                    if m.enterprise_id in order:  # not a profile removed since by another process
                        kept.setdefault(m.notice_id, []).append(m)
                for notice in page:
                    for m in sorted(kept.get(notice.id, ()), key=lambda m: order[m.enterprise_id]):
                        yield notice, m
        return
    judge = judge or judge_for(engine, rulebook)
    with engine.connect() as conn:
        found = (repo.load_live(conn, now, fresh_since, since) if fresh_since is not None and notice_id is None else
                 repo.load_notices(conn, ids=[notice_id] if notice_id else None, since=since))
        for notice in found:
            if not full and notice.closing_at is not None and notice.closing_at < now:
                continue  # closed before `now`: `no` on lead time for everyone, not worth judging
            judged = (judge.judge(notice, ids, now=now) if full else
                      judge.judge_candidates(notice, None if enterprise_id is None else ids, now=now))
            for m in judged:
                if m.is_match or include_no:
                    yield notice, m


@dataclass
class DigestOutcome:
    enterprise_id: str
    notices: int
    omitted: int
    where: str  # file path or "smtp"
    ok: bool = True
    error: str | None = None
    permanent: bool = False  # a failure retrying will not cure (5xx, bad address)
    refused: tuple[str, ...] = ()  # recipients that did not get it (the mail may have reached others)


REMIND_WITHIN = timedelta(days=7)
DIGEST_WEEK = timedelta(days=7)  # a dated digest's "this week": notices without a closing date, set-aside counts
LEADS_EVERY = timedelta(days=6)  # award sections at most once a week, even if digests run more often


def run_digests(engine: Engine, cfg: Config, rulebook: Rulebook, preview_dir: Path | None = None,
                since: datetime | None = None, now: datetime | None = None, judge_now: datetime | None = None,
                only: Iterable[str] | None = None) -> list[DigestOutcome]:
    """One digest per enterprise: new opportunities by verdict, reminders of notices sent before that
    close within a week, amendments to notices sent before, teams for consortium notices, and what
    was set aside. Preview writes .eml and .html files and records nothing; send delivers and records
    each (enterprise, notice, reason) as soon as the server accepted that message, so a crash or a
    restart never sends it twice and loses nothing. Then the coordinator's digest, if configured."""
    planned_at = datetime.now(timezone.utc)  # wall clock, even when `now` is given: digest claims compare it
    now = now or planned_at
    clock = _StageClock()
    judge = judge_for(engine, rulebook)
    renderer = Renderer(cfg.templates_dir, links_for(cfg.web))
    with engine.connect() as conn:
        stopped = feedback_store.unsubscribed(conn)  # one-click unsubscribes: no mail at all for them
    contacts = {e.id: (e.name, e.emails, e.consortium_share_contact) for e in rulebook.enterprises}
    coordinated = bool(cfg.daemon.coordinator_email)
    # What _plan_digest reads, and no more (issue 16: a replay of 600k notices held every pair):
    # the matches it may show; of the `no` in the trade, which criterion set each aside (counted
    # only); a `no` outside the trade is neither sent nor counted. With a coordinator, the pairs
    # with no partner on file (where the hub can recruit), in enterprise order.
    shown: dict[str, list[tuple[Notice, Match]]] = {e.id: [] for e in rulebook.enterprises}
    set_aside: dict[str, list[tuple[str, str]]] = {e.id: [] for e in rulebook.enterprises}
    no_partner: dict[str, list[tuple[Notice, Match]]] = {e.id: [] for e in rulebook.enterprises}
    # A digest at a date (the daemon's: now) reads the notices still open and this week's others: not
    # the years of awarded contracts, which state no closing date; its set-aside count says "this week".
    this_week = (since or judge_now - DIGEST_WEEK) if judge_now is not None else None
    for notice, m in matches(engine, rulebook, since=since, now=judge_now, include_no=True, judge=judge, fresh_since=this_week):
        in_trade = m.is_match or any(r.criterion == "capability" and r.ok for r in m.reasons)
        if m.is_match:
            shown[m.enterprise_id].append((notice, m))
        elif in_trade and (this_week is None or (notice.published_at is not None and notice.published_at >= this_week)):
            set_aside[m.enterprise_id].append((notice.id, next((r.criterion for r in m.reasons if not r.ok), "other")))
        if coordinated and in_trade and any(r.criterion == "no_partner" for r in m.reasons):
            no_partner[m.enterprise_id].append((notice, m))
    clock.lap("judging")
    co = co_bids(engine, rulebook.enterprises)
    hub = hub_neqs_of(rulebook.enterprises)  # once a run: 10,000 digests each walking 10,000 profiles took 29 s
    leads = _BuyerLeads(engine, judge_now, judge=judge, clock=clock)
    clock.lap("planning")
    chosen = set(only) if only is not None else None
    outcomes: list[DigestOutcome] = []
    helps = {"fr": cfg.digest.profile_help, "en": cfg.digest.profile_help_en}

    def rendered() -> Iterator[tuple[Digest, EmailMessage, dict[str, list[str]]]]:
        """Each enterprise's digest, planned and rendered when it is its turn: one at a time in memory."""
        for ent in rulebook.enterprises:
            if (chosen is not None and ent.id not in chosen) or ent.id in stopped:
                continue
            try:  # one enterprise's digest that cannot be built or rendered never stops the others
                clock.lap("sending")
                plan = _plan_digest(engine, cfg, judge, ent, shown[ent.id], set_aside[ent.id], co, contacts, now,
                                    judge_now, leads, hub)
                clock.lap("planning")
                if plan is None:
                    continue
                digest, reasons = plan
                msg = renderer.render(digest, cfg.delivery.sender, cfg.delivery.reply_to, helps)
                clock.lap("rendering", count=True)
            except Exception as exc:  # noqa: BLE001 - recorded for this enterprise and reported
                error = f"digest non construit / digest not built: {type(exc).__name__}: {exc}"
                outcomes.append(DigestOutcome(ent.id, 0, 0, "", ok=False, error=error))
                if preview_dir is None:
                    with engine.begin() as conn:
                        repo.record_failure(conn, ent.id, None, error, permanent=False)
                continue
            yield digest, msg, reasons
        clock.lap("sending")

    if preview_dir is not None:
        box = Outbox(preview_dir)
        for digest, msg, _ in rendered():
            where = box.deliver(msg)
            Path(where).with_suffix(".html").write_text(msg.get_body(("html",)).get_content(), encoding="utf-8")
            outcomes.append(DigestOutcome(digest.enterprise.id, len(digest.items), digest.omitted, where))
        clock.report()
        return outcomes
    holder = claims.new_holder()
    in_flight: dict[str, tuple[Digest, dict[str, list[str]]]] = {}  # claimed, result not yet known
    tried: list[Digest] = []  # for the coordinator's report: the digests (teams kept), not their mails

    def claimed() -> Iterator[EmailMessage]:
        """Claimed in the database just before sending: two active daemons never send the same digest."""
        for digest, msg, reasons in rendered():
            refused = claims.claim(engine, digest.enterprise.id, reasons, holder, planned_at)
            if refused is not None:
                outcomes.append(DigestOutcome(digest.enterprise.id, 0, 0, "", ok=False, error=refused))
                continue
            in_flight[msg["Message-ID"]] = (digest, reasons)
            yield msg

    def record(msg: EmailMessage, result: DeliveryResult) -> None:
        digest, reasons = in_flight.pop(msg["Message-ID"])
        with engine.begin() as conn:
            if result.ok:
                repo.record_deliveries(conn, digest.enterprise.id, reasons, msg["Message-ID"], now=now)
            if not result.ok or result.refused:
                repo.record_failure(conn, digest.enterprise.id, msg["Message-ID"], result.error or "refused", result.permanent)
            claims.release(conn, [digest.enterprise.id], holder, sent=result.ok)
        outcomes.append(DigestOutcome(digest.enterprise.id, len(digest.items), digest.omitted, result.where, result.ok,
                                      result.error, result.permanent, result.refused))
        if coordinated:  # what the report reads; the rest (facts, leads) goes with the mail
            tried.append(replace(digest, extra={"teams": digest.extra.get("teams", {})}))

    try:
        deliver(claimed(), cfg.delivery, on_result=record)
    finally:  # what was not sent (no connection at all, an error): free for the next run at once
        if in_flight:
            with engine.begin() as conn:
                claims.release(conn, [d.enterprise.id for d, _ in in_flight.values()], holder)
    clock.lap("sending")
    clock.report()
    order = {e.id: i for i, e in enumerate(rulebook.enterprises)}
    outcomes.sort(key=lambda o: order.get(o.enterprise_id, len(order)))  # as planned, whatever finished first
    if coordinated:
        # where the hub could recruit: notices too big for one enterprise with no partner on file;
        # and who had nothing to act on this time
        tried.sort(key=lambda d: order[d.enterprise.id])
        served = {d.enterprise.id for d in tried if d.items}
        idle = [e.id for e in rulebook.enterprises if e.id not in served and e.id not in stopped]
        msg = coordinator_digest(engine, cfg, tried, now, no_partner=[p for ps in no_partner.values() for p in ps], idle=idle)
        result = deliver([msg], cfg.delivery)[0]
        if result.ok:
            with engine.begin() as conn:
                repo.mark_failures_reported(conn, [int(x) for x in msg["X-Watcher-Failures"].split()] if msg["X-Watcher-Failures"] else [])
        outcomes.append(DigestOutcome("coordinator", sum(len(d.items) for d in tried), 0, result.where, result.ok, result.error))
    return outcomes


class _StageClock:
    """Wall time per stage of a digest run, for one progress line (`watcher --verbose digest`):
    planning, rendering and sending interleave (each digest is sent as it is rendered), so each
    lap is charged to the stage it ends; buyer leads are part of planning, also shown alone."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.spent: Counter[str] = Counter()
        self.rendered = 0

    def lap(self, stage: str, count: bool = False) -> None:
        now = time.perf_counter()
        self.spent[stage] += now - self.last
        self.last = now
        self.rendered += count

    def add(self, stage: str, seconds: float) -> None:
        self.spent[stage] += seconds

    def report(self) -> None:
        s = self.spent
        log.info("digest run: judging %.1f s, planning %.1f s (of which buyer and award leads %.1f s, their pass over "
                 "the history %.1f s), rendering %.1f s (%d digests, %.1f ms each), sending %.1f s", s["judging"],
                 s["planning"], s["leads"], s["history pass"], s["rendering"], self.rendered,
                 1000 * s["rendering"] / max(1, self.rendered), s["sending"])


def _plan_digest(engine: Engine, cfg: Config, judge: Judge, ent: Enterprise, shown: list[tuple[Notice, Match]],
                 set_aside: list[tuple[str, str]], co: set[frozenset[str]], contacts: dict, now: datetime,
                 judge_now: datetime | None, leads: _BuyerLeads | None = None,
                 hub: frozenset[str] = frozenset()) -> tuple[Digest, dict[str, list[str]]] | None:
    """The enterprise's digest and, per delivery reason, the notice ids it carries. `shown`: its
    matches; `set_aside`: (notice id, deciding criterion) of the `no` verdicts in its trade; `hub`:
    the hub's NEQs (hub_neqs_of)."""
    with engine.connect() as conn:
        sent = repo.deliveries_by_notice(conn, ent.id)
        revisions = repo.revisions_of(conn, sent)
        earlier = {n.id: n for n in repo.load_notices(conn, ids=list(sent))} if sent else {}
    fresh = [(n, m) for n, m in shown if "new" not in sent.get(n.id, {})]
    filtered = Counter(criterion for notice_id, criterion in set_aside if "new" not in sent.get(notice_id, {}))
    reminders, amendments = [], []
    for notice_id, reasons in sent.items():
        notice = earlier.get(notice_id)
        if notice is None or "new" not in reasons:
            continue
        m = judge.judge(notice, [ent.id], now=judge_now)[0]
        closing = notice.closing_at
        if "reminder" not in reasons and closing is not None and now < closing <= now + REMIND_WITHIN:
            reminders.append((notice, m))
        newer = [r for r in revisions.get(notice_id, []) if r["recorded_at"] > reasons["new"]]
        if newer and f"amendment:v{newer[-1]['version']}" not in reasons:
            fr, en = describe_changes(newer)
            amendments.append(Amendment(DigestItem(notice, m), newer[-1]["version"], fr, en))
    kept = sorted(fresh, key=lambda nm: -nm[1].score)[: cfg.digest.max_items]
    facts = {n.id: judge.facts(n) for n, _ in [*kept, *reminders] + [(a.item.notice, None) for a in amendments]}
    teams = {n.id: propose(n, facts[n.id], judge.pool, co, now=judge_now)
             for n, m in kept if m.verdict == "consortium"}
    week = leads.week(ent, now, sent, hub) if leads is not None else WeekLeads()
    digest = build_digest(ent, fresh, now, cfg.digest.max_items, reminders, amendments, dict(filtered),
                          extra={"facts": facts, "teams": teams, "contacts": contacts, "leads": week},
                          send_empty=ent.digest_empty or bool(week))
    if digest is None:
        return None
    reasons_map = {"new": [i.notice.id for i in digest.items], "reminder": [i.notice.id for i in digest.reminders],
                   "lead": [lead_key(x) for x in (*week.awards, *week.renewals, *week.buyers)]}
    if week:  # the buyers' latest known contact persons (store/contacts.py), for awards, renewals and buyers
        digest.extra["buyer_contacts"] = buyer_contacts(
            engine, [a.notice.buyer_name for a in week.awards] + [r.buyer for r in week.renewals] + [b.buyer for b in week.buyers])
    for a in digest.amendments:
        reasons_map.setdefault(f"amendment:v{a.version}", []).append(a.item.notice.id)
    return digest, reasons_map


def run_alerts(engine: Engine, cfg: Config, rulebook: Rulebook, now: datetime | None = None) -> list[DigestOutcome]:
    """Immediate mails, between weekly digests, for profiles with [digest] alert_days: each realistic
    notice closing within that many days, never mailed to them before, once (reason "alert")."""
    now = now or datetime.now(timezone.utc)
    with engine.connect() as conn:
        stopped = feedback_store.unsubscribed(conn)
    wanted = [e for e in rulebook.enterprises if e.alert_days > 0 and e.id not in stopped]
    if not wanted:
        return []
    sub = replace(rulebook, enterprises=tuple(wanted))
    found: dict[str, list[Notice]] = {}
    for notice, m in matches(engine, sub, now=now):
        ent = sub.enterprise(m.enterprise_id)
        if m.verdict == "realistic" and notice.closing_at and now < notice.closing_at <= now + timedelta(days=ent.alert_days):
            found.setdefault(ent.id, []).append(notice)
    outcomes = []
    for ent in wanted:
        with engine.connect() as conn:
            sent = repo.deliveries_by_notice(conn, ent.id)
        fresh = [n for n in found.get(ent.id, []) if not sent.get(n.id)]
        if not fresh:
            continue
        msg = _alert_message(cfg, ent, fresh)
        result = deliver([msg], cfg.delivery)[0]
        if result.ok:
            with engine.begin() as conn:
                repo.record_delivery(conn, ent.id, [n.id for n in fresh], msg["Message-ID"], reason="alert", now=now)
        outcomes.append(DigestOutcome(ent.id, len(fresh), 0, result.where, result.ok, result.error))
    return outcomes


def _alert_message(cfg: Config, ent: Enterprise, notices: list[Notice]) -> EmailMessage:
    english = ent.language == "en"
    lines = []
    for n in sorted(notices, key=lambda n: n.closing_at):
        closes = n.closing_at.astimezone(MONTREAL).strftime("%Y-%m-%d %H:%M")
        lines.append(f"- {' '.join(n.title.split())}\n  {n.buyer_name} — {'closes' if english else 'fermeture'} {closes}\n  {n.url or ''}")
    msg = EmailMessage()
    msg["Subject"] = (f"Closing soon: {len(notices)} realistic opportunity(ies) for {ent.name}" if english else
                      f"Fermeture proche : {len(notices)} occasion(s) réaliste(s) pour {ent.name}")
    msg["From"], msg["To"] = cfg.delivery.sender, ", ".join(ent.emails)
    msg["Message-ID"] = make_msgid(idstring=f"alert-{ent.id}")
    msg["X-Watcher-Enterprise"] = ent.id
    msg.set_content(("Realistic for your profile and closing soon:" if english else
                     "Réaliste pour votre profil et fermeture proche :") + "\n\n" + "\n".join(lines) + "\n")
    return msg


class _BuyerLeads:
    """Buyer leads for the monthly "buyers to contact" section, the history read once per run and
    only if some digest needs it. As of `as_of`, or of the newest stored notice when replaying history."""

    def __init__(self, engine: Engine, as_of: datetime | None, limit: int = 3, judge: Judge | None = None,
                 clock: _StageClock | None = None) -> None:
        self.engine, self.as_of, self.limit, self.judge, self.clock = engine, as_of, limit, judge, clock
        self._history: list[Notice] | None = None
        self._finals: list[FinalContract] | None = None
        self._by_enterprise: dict[str, list[Notice]] | None = None
        self._regions: dict[str, set[str]] | None = None  # buyer -> regions, from the whole history
        self._texts: dict = {}  # the kept notices' texts, read once for every enterprise (notice_text)
        self._sure: dict[str, dict[str, bool]] = {}  # enterprise -> kept notice -> capability sure (lead_trade)
        self._newest: datetime | None = None

    def _history_of(self, enterprise: Enterprise) -> list[Notice]:
        """The history `week` reads for one enterprise (issue 16: once per run, not once per enterprise).
        With the run's judge: the history read once for every enterprise, each notice kept for the
        enterprises its candidate index finds (a superset of those in the trade, in the same order)
        and that a lead section may use (may_lead: the loosest of their tests, so the same leads
        from a third of the notices); the buyers' regions gathered from every notice on the way, as
        from the whole history. Else the whole history."""
        if self.judge is None or enterprise.id not in self.judge.profiles:
            if self._history is None:
                self._history = history(self.engine)
            return self._history
        if self._by_enterprise is None:
            started = time.perf_counter()
            by_enterprise: dict[str, list[Notice]] = {}
            with self.engine.connect() as conn:
                self._newest = repo.newest_publication(conn)
                regions = buyer_regions(())
                gate = RegionGate(self.judge.profiles)
                for notice in repo.load_notices(conn):
                    buyer_regions((notice,), regions)
                    text = notice_text(notice)
                    found = self.judge.index.candidates(notice, text)
                    admitted = gate.admits(notice)
                    for ent_id in found if admitted is None else found & admitted:
                        sure = lead_trade(notice, self.judge.profiles[ent_id], text)
                        if sure is not None:
                            by_enterprise.setdefault(ent_id, []).append(notice)
                            self._sure.setdefault(ent_id, {})[notice.id] = sure
                            self._texts[(notice.title, notice.description)] = text
            self._by_enterprise, self._regions = by_enterprise, regions
            if self.clock is not None:
                self.clock.add("history pass", time.perf_counter() - started)
        return self._by_enterprise.get(enterprise.id, [])

    def top(self, enterprise: Enterprise) -> list[BuyerLead]:
        if self._history is None:
            self._history = history(self.engine)
            if self.as_of is None:
                dates = [n.published_at for n in self._history if n.published_at]
                self.as_of = max(dates) if dates else datetime.now(timezone.utc)
        return buyer_leads(self._history, enterprise, self.as_of)[: self.limit]

    def week(self, enterprise: Enterprise, now: datetime, sent: dict[str, dict[str, datetime]], hub: frozenset[str]) -> WeekLeads:
        """The weekly award sections (issue 17): the week's awards in the trade, renewals due in 3 to 9
        months, buyers to meet; as of the digest's date, or of the end of the stored history when
        replaying it. One buyer a week, again after a quarter at the earliest; awards and renewals once."""
        if any(r.get("lead") and r["lead"] > now - LEADS_EVERY for r in sent.values()):
            return WeekLeads()  # this week's leads went out already; the rest waits for next week
        started = time.perf_counter()
        try:
            return self._week(enterprise, now, sent, hub)
        finally:
            if self.clock is not None:
                self.clock.add("leads", time.perf_counter() - started)

    def _week(self, enterprise: Enterprise, now: datetime, sent: dict[str, dict[str, datetime]], hub: frozenset[str]) -> WeekLeads:
        history_ = with_buyer_regions(self._history_of(enterprise), self._regions)  # leads only: matching keeps unknown regions
        if self._finals is None:
            with self.engine.connect() as conn:
                self._finals = load_final_contracts(conn)
        if self.as_of is not None:  # live: as of the judging time
            at = self.as_of
        elif self._by_enterprise is not None:  # a replay: as of the digest's date, at most the end of the history
            at = min(now, self._newest or now)
        else:
            at = min(now, max((n.published_at for n in history_ if n.published_at), default=now))
        today = at.astimezone(MONTREAL).date()
        done: dict[str, date] = {}
        for k, reasons in sent.items():
            if "lead" in reasons:
                key, day = stored_lead_key(k), reasons["lead"].astimezone(MONTREAL).date()
                done[key] = max(done.get(key, day), day)
        profile = (self.judge.profiles.get(enterprise.id) if self.judge is not None else None) or compile_profile(enterprise)
        texts = self._texts
        sure = self._sure.get(enterprise.id) if self._by_enterprise is not None else None  # lead_trade's answers
        return week_leads(fresh_awards(history_, profile, today - timedelta(days=7), today + timedelta(days=1), hub, texts, sure),
                          renewals(history_, self._finals, profile, today, hub, texts, sure),
                          buyers_to_meet(buyer_leads(history_, profile, at, texts=texts, sure=sure), hub, enterprise.max_value),
                          done, hub,
                          today=today)


def coordinator_digest(engine: Engine, cfg: Config, plans: list[Digest], now: datetime,
                       no_partner: list[tuple[Notice, Match]] = (), idle: list[str] = ()) -> EmailMessage:
    """The coordinator's mail: per enterprise what went out, the teams proposed, the notices too big
    for one enterprise with no partner on file (where the hub can recruit: the enterprise is not told
    to team up with nobody), the enterprises with nothing to act on, failing sources, refused
    deliveries not yet reported (their ids ride in a header so they are marked once sent)."""
    from .store.runs import statuses

    lines_fr = [f"Envois de la veille — {now.astimezone(MONTREAL):%Y-%m-%d %H:%M}", ""]
    for digest in plans:
        counts = Counter(i.match.verdict for i in digest.items)
        lines_fr.append(f"- {digest.enterprise.name} ({digest.enterprise.id}) : {counts['realistic']} réalistes, "
                        f"{counts['stretch']} avec effort, {counts['consortium']} en consortium, "
                        f"{len(digest.reminders)} rappels, {len(digest.amendments)} modifications")
        for notice_id, proposal in digest.extra.get("teams", {}).items():
            for team in proposal.teams[:1]:
                lines_fr.append(f"    consortium proposé pour {notice_id} : {' + '.join(team.members)} (chef de file {team.lead})")
    lines_fr += ["", f"Sans partenaire au dossier (à recruter) : {len(no_partner)}"]
    for notice, m in no_partner:
        why = next(r.fr for r in m.reasons if r.criterion == "no_partner")
        lines_fr.append(f"- {notice.id} {notice.title[:90]} — {m.enterprise_id} : {why}")
    lines_fr += ["", f"Rien à proposer cette fois : {len(idle)}" + (f" ({', '.join(idle)})" if idle else "")]
    with engine.connect() as conn:
        failing = [s for s in statuses(conn) if s.consecutive_failures >= cfg.daemon.max_failures]
        failures = repo.unreported_failures(conn)
    lines_fr += ["", f"Sources en échec : {len(failing)}"]
    lines_fr += [f"- {s.source} : {s.consecutive_failures} échecs de suite ; {s.last_error}" for s in failing]
    lines_fr += ["", f"Envois refusés : {len(failures)}"]
    lines_fr += [f"- {f['enterprise_id']} ({'définitif' if f['permanent'] else 'temporaire'}) : {f['error']}" for f in failures]
    msg = EmailMessage()
    msg["Subject"] = f"[watcher] bilan de la veille / watch report — {len(plans)} courriel(s), {len(failing)} source(s) en échec"
    msg["From"], msg["To"] = cfg.delivery.sender, cfg.daemon.coordinator_email
    msg["Message-ID"] = make_msgid(idstring="coordinator")
    msg["X-Watcher-Enterprise"] = "coordinator"
    msg["X-Watcher-Failures"] = " ".join(str(f["id"]) for f in failures)
    msg.set_content("\n".join(lines_fr) + "\n")
    return msg


# --- coordinator tools (issue 4): explain one verdict, backtest a profile -----------------------

@dataclass(frozen=True)
class Explanation:
    """Everything one verdict rests on, for `watcher explain`: the notice, the verdict with one
    reason per criterion, the facts it was judged on, and what the extractor read in the text."""

    notice: Notice
    enterprise: Enterprise
    match: Match
    facts: object  # match.verdict.Facts
    extracted: object  # match.requirements.Requirements
    judged_at: datetime | None  # None: as on the notice's publication day


def explain(engine: Engine, rulebook: Rulebook, notice_id: str, enterprise_id: str,
            now: datetime | None = None) -> Explanation:
    """Judge one stored notice for one enterprise with the same Judge as `matches`, keeping the facts."""
    from .errors import WatcherError

    enterprise = rulebook.enterprise(enterprise_id)
    if enterprise is None:
        raise WatcherError(f"unknown enterprise {enterprise_id!r}", hint="watcher rules check lists the profiles")
    with engine.connect() as conn:
        found = list(repo.load_notices(conn, ids=[notice_id]))
    if not found:
        raise WatcherError(f"unknown notice {notice_id!r}", hint="watcher notices lists the stored notices (ids like seao:1234567)")
    judge = judge_for(engine, rulebook)
    notice = found[0]
    (m,) = judge.judge(notice, [enterprise_id], now=now)
    return Explanation(notice, enterprise, m, judge.facts(notice, as_published=now is None), judge.requirements(notice), now)


def backtest(engine: Engine, rulebook: Rulebook, profiles: list[Enterprise],
             since: datetime | None = None) -> Iterator[tuple[Notice, list[Match]]]:
    """Every stored notice judged as on its publication day for each given profile, installed or not
    (one Match per profile, "no" included). Judged here rather than through `matches`, because an
    edited copy keeps the installed id: no verdict stored for that id may stand in for it."""
    from dataclasses import replace

    with engine.connect() as conn:
        history = AwardHistory(repo.award_history(conn))
        notices = list(repo.load_notices(conn, since=since))
    judges = [Judge(replace(rulebook, enterprises=(p,)), history) for p in profiles]
    for notice in notices:
        yield notice, [j.judge(notice, now=None)[0] for j in judges]


def previous_profile(path: Path, rev: str | None = None) -> Enterprise:
    """The profile as it was before an edit: `rev` is a saved copy (an existing file) or a git
    revision of `path` (default HEAD), read with `git show` without touching the working tree."""
    import subprocess
    import tempfile
    from dataclasses import replace

    from .errors import WatcherError
    from .rules.enterprises import load_enterprise

    if rev and Path(rev).is_file():
        return load_enterprise(Path(rev))
    rev = rev or "HEAD"
    path = Path(path).resolve()

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(path.parent), *args], capture_output=True, text=True, check=False)

    try:
        top = git("rev-parse", "--show-toplevel")
    except OSError as exc:
        raise WatcherError(f"git introuvable / git not found: {exc}", hint="give a saved copy: --diff PATH") from exc
    if top.returncode != 0:
        raise WatcherError(f"{path.parent}: pas un dépôt git / not a git repository",
                           hint="give a saved copy of the profile: --diff PATH")
    relative = path.relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    shown = git("show", f"{rev}:{relative}")
    if shown.returncode != 0:
        raise WatcherError(f"{rev}:{relative}: introuvable dans git / not found in git ({shown.stderr.strip()})",
                           hint="a new profile has no previous version; give a saved copy: --diff PATH")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(shown.stdout, encoding="utf-8")
        return replace(load_enterprise(copy), source_file=f"{rev}:{relative}")


def read_texts(raw: str, name: str) -> list[tuple[object, str]]:
    """(id or None, text) pairs for `watcher requirements`: JSON lines with a "text" field (an "id"
    passed through) when the first non-blank line is a JSON object, else the whole input as one text."""
    import json

    from .errors import WatcherError

    raw = raw.lstrip("\ufeff")
    first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
    if not first.startswith("{"):
        return [(None, raw)]
    out: list[tuple[object, str]] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WatcherError(f"{name}:{number}: JSON invalide / invalid JSON: {exc.msg}",
                               hint="one JSON object per line, or a plain text file") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise WatcherError(f'{name}:{number}: champ "text" manquant / missing "text" field',
                               hint='each line must be an object with a "text" string (and optionally an "id")')
        out.append((row.get("id"), row["text"]))
    return out


def collect(engine: Engine, cfg: Config, names: list[str] | None = None,
            stop: threading.Event | None = None) -> list[RunReport]:
    """Run the named sources (every enabled one by default) once, then alert the coordinator about
    sources that keep failing (one mail per failure streak)."""
    sources = ruleset.load(cfg, engine).sources  # a broken source file is skipped with a warning
    if names:
        unknown = sorted(set(names) - {s.name for s in sources})
        if unknown:
            raise WatcherError(f"source(s) inconnue(s) / unknown source(s): {', '.join(unknown)}",
                               hint=f"sources in {cfg.sources_dir}: {', '.join(s.name for s in sources)}")
        chosen = [s for s in sources if s.name in names]  # named explicitly: run even if disabled
    else:
        chosen = [s for s in sources if s.enabled]
    with Fetcher.from_config(cfg.fetch, stop=stop) as fetcher:  # SIGTERM ends a download at its next chunk
        reports = collect_all(engine, chosen, fetcher, stop)
    if cfg.daemon.coordinator_email:
        alerts = failing_alerts(engine, cfg.daemon.max_failures, cfg.delivery.sender, cfg.daemon.coordinator_email)
        if alerts:
            deliver(alerts, cfg.delivery)
    return reports


def co_bids(engine: Engine, enterprises: Iterable[Enterprise]) -> set[frozenset[str]]:
    """Pairs of enterprise ids whose NEQs bid on the same notice in the stored history."""
    by_neq = {e.neq: e.id for e in enterprises if e.neq}
    with engine.connect() as conn:
        pairs = repo.co_bidders(conn, by_neq)
    return {frozenset(by_neq[n] for n in pair) for pair in pairs}


def consortia(engine: Engine, rulebook: Rulebook, notice_id: str, max_size: int = 4, limit: int = 5,
              now: datetime | None = None) -> Proposal:
    """Candidate teams for one stored notice (WatcherError when the notice is unknown)."""
    with engine.connect() as conn:
        found = list(repo.load_notices(conn, ids=[notice_id]))
    if not found:
        raise WatcherError(f"avis inconnu / unknown notice {notice_id!r}", hint="watcher notices lists the stored notices")
    judge = judge_for(engine, rulebook)
    return propose(found[0], judge.facts(found[0]), judge.pool, co_bids(engine, rulebook.enterprises),
                   max_size=max_size, limit=limit, now=now)


def history(engine: Engine) -> list[Notice]:
    """Every stored notice with its bidders: the award history buyer leads and profile suggestions read."""
    with engine.connect() as conn:
        return list(repo.load_notices(conn))


def buyers(engine: Engine, enterprise: Enterprise, now: datetime, years: int = 3) -> list[BuyerLead]:
    """The buyers who bought what the enterprise sells in the last `years` years, best lead first
    (only that window of the history is read)."""
    today = now.date()
    with engine.connect() as conn:
        return buyer_leads(repo.load_purchases_since(conn, date(today.year - years, today.month, min(today.day, 28))),
                           enterprise, now, years)


def buyer_contacts(engine: Engine, names: Iterable[str]) -> dict[str, KnownContact]:
    """{buyer name: its latest known contact person, with the date last seen} (store/contacts.py)."""
    with engine.connect() as conn:
        return latest_contact_by_name(conn, names)


def expected_purchases(engine: Engine, enterprise: Enterprise, today: date, months: int = 12) -> dict[str, list]:
    """{folded buyer name: purchases of the enterprise's trade expected within `months`, each with its
    window} from contract dates and buyers' rhythm (match/awards.forecast), for `watcher buyers`."""
    profile = compile_profile(enterprise)
    with engine.connect() as conn:  # only the notices the forecast may use are kept (may_lead): same forecast
        finals = load_final_contracts(conn)
        kept = [n for n in repo.load_notices(conn) if may_lead(n, profile)]
    out: dict[str, list] = {}
    for r in forecast(kept, finals, profile, today, today + timedelta(days=round(months * 30.44)),
                      hub_neqs_of([enterprise])):
        out.setdefault(" ".join(r.buyer.casefold().replace(".", " ").split()), []).append(r)
    return out


def suggest(engine: Engine, neq: str, until: date | None = None) -> SuggestedProfile:
    """A draft profile for the enterprise with this NEQ, from its bids before `until`."""
    return suggest_profile(history(engine), neq, until)
