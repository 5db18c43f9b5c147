"""The operations the CLI and the daemon share: import, match, digest. Wiring only; the logic
lives in collect/, store/, match/ and digest/."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from .collect import PARSERS, detect_format, iter_files, open_source_file
from .collect.fetch import Fetcher
from .collect.runner import RunReport, collect_all, failing_alerts
from .config import Config
from .digest.build import build_digest
from .digest.deliver import Outbox, deliver
from .digest.render import Renderer
from .errors import ParseError, WatcherError
from .match.buyers import BuyerLead, buyer_leads
from .match.consortia import Proposal, propose
from .match.engine import AwardHistory, Judge, Rulebook
from .match.suggest import SuggestedProfile, suggest_profile
from .models import Enterprise, Expense, FinalContract, Match, Notice
from .rules import load_enterprises, load_requirement_rules, load_thresholds
from .sources import load_sources
from .store import repo

CHUNK = 500


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

    def as_json(self) -> dict:
        return {"files": self.files, "notices_new": self.notices_new, "notices_updated": self.notices_updated,
                "notices_unchanged": self.notices_unchanged, "notices_stale": self.notices_stale,
                "contracts": self.contracts, "expenses": self.expenses, "errors": self.errors}


def import_paths(engine: Engine, paths: Iterable[str | Path]) -> ImportReport:
    """Import every file under `paths`; a bad file or record is reported and the rest goes on."""
    report = ImportReport()
    for path in iter_files(paths):
        report.files += 1
        try:
            _import_file(engine, path, report)
        except ParseError as exc:
            report.errors.append(str(exc))
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror or exc}")
    return report


def _import_file(engine: Engine, path: Path, report: ImportReport) -> None:
    with open_source_file(path) as stream:
        head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        kind = detect_format(head, path.name)
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
            elif isinstance(item, FinalContract):
                finals.append(item)
            elif isinstance(item, Expense):
                spent.append(item)
            if len(notices) + len(finals) + len(spent) >= CHUNK:
                _flush(engine, path, notices, finals, spent, report)
        _flush(engine, path, notices, finals, spent, report)


def _flush(engine: Engine, path: Path, notices: list, finals: list, spent: list, report: ImportReport) -> None:
    """Save one chunk in one transaction: a crash loses at most the chunk in hand, never a half-saved notice."""
    with engine.begin() as conn:
        counts = repo.save_notices(conn, notices, origin=path.name)
        report.notices_new += counts.new
        report.notices_updated += counts.updated
        report.notices_unchanged += counts.unchanged
        report.notices_stale += counts.stale
        report.contracts += repo.save_final_contracts(conn, finals).new
        report.expenses += repo.save_expenses(conn, spent).new
    notices.clear(), finals.clear(), spent.clear()


def load_rulebook(cfg: Config) -> Rulebook:
    """Enterprise profiles, thresholds and requirement phrases from the rules folder (RuleErrors if any is wrong)."""
    return Rulebook(tuple(load_enterprises(cfg.rules_dir)), load_thresholds(cfg.rules_dir / "thresholds.toml"),
                    load_requirement_rules(cfg.rules_dir / "requirements.toml"))


def judge_for(engine: Engine, rulebook: Rulebook) -> Judge:
    """A Judge that knows the store's award history (to estimate values notices do not state)."""
    with engine.connect() as conn:
        history = AwardHistory(repo.award_history(conn))
    return Judge(rulebook, history)


def matches(engine: Engine, rulebook: Rulebook, enterprise_id: str | None = None, notice_id: str | None = None,
            include_no: bool = False, now: datetime | None = None, since: datetime | None = None,
            judge: Judge | None = None) -> Iterator[tuple[Notice, Match]]:
    """Judge stored notices for the enterprises (optionally one of each). `now` None judges each notice
    as at its publication (backtests, the demo); the daemon passes the current time."""
    judge = judge or judge_for(engine, rulebook)
    ids = [e.id for e in rulebook.enterprises if enterprise_id in (None, e.id)]
    with engine.connect() as conn:
        notices = list(repo.load_notices(conn, ids=[notice_id] if notice_id else None, since=since))
    for notice in notices:
        for m in judge.judge(notice, ids, now=now):
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


def run_digests(engine: Engine, cfg: Config, rulebook: Rulebook, preview_dir: Path | None = None,
                since: datetime | None = None, now: datetime | None = None, judge_now: datetime | None = None) -> list[DigestOutcome]:
    """Build one digest per enterprise from matches not yet sent; preview writes .eml files and
    records nothing, send delivers and records each notice as sent once the backend accepted it."""
    now = now or datetime.now(timezone.utc)
    enterprises = list(rulebook.enterprises)
    renderer = Renderer(cfg.templates_dir)
    by_enterprise: dict[str, list[tuple[Notice, Match]]] = {e.id: [] for e in enterprises}
    with engine.connect() as conn:
        already = {e.id: repo.delivered_notices(conn, e.id) for e in enterprises}
    for notice, m in matches(engine, rulebook, since=since, now=judge_now):
        if notice.id not in already[m.enterprise_id]:
            by_enterprise[m.enterprise_id].append((notice, m))
    digests, messages = [], []
    for ent in enterprises:
        digest = build_digest(ent, by_enterprise[ent.id], now, cfg.digest.max_items)
        if digest is None:
            continue
        digests.append(digest)
        messages.append(renderer.render(digest, cfg.delivery.sender, cfg.delivery.reply_to, cfg.digest.profile_help))
    outcomes: list[DigestOutcome] = []
    if preview_dir is not None:
        box = Outbox(preview_dir)
        for digest, msg in zip(digests, messages):
            outcomes.append(DigestOutcome(digest.enterprise.id, len(digest.items), digest.omitted, box.deliver(msg)))
        return outcomes
    results = deliver(messages, cfg.delivery)
    for digest, msg, result in zip(digests, messages, results):
        outcome = DigestOutcome(digest.enterprise.id, len(digest.items), digest.omitted, result.where, result.ok, result.error)
        if result.ok:
            with engine.begin() as conn:
                repo.record_delivery(conn, digest.enterprise.id, [i.notice.id for i in digest.items], msg["Message-ID"], now=now)
        outcomes.append(outcome)
    return outcomes


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
    return Explanation(notice, enterprise, m, judge.facts(notice), judge.requirements(notice), now)


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
    sources = load_sources(cfg.sources_dir)
    if names:
        unknown = sorted(set(names) - {s.name for s in sources})
        if unknown:
            raise WatcherError(f"source(s) inconnue(s) / unknown source(s): {', '.join(unknown)}",
                               hint=f"sources in {cfg.sources_dir}: {', '.join(s.name for s in sources)}")
        chosen = [s for s in sources if s.name in names]  # named explicitly: run even if disabled
    else:
        chosen = [s for s in sources if s.enabled]
    with Fetcher.from_config(cfg.fetch) as fetcher:
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
    return propose(found[0], judge.facts(found[0]), list(judge.profiles.values()), co_bids(engine, rulebook.enterprises),
                   max_size=max_size, limit=limit, now=now)


def history(engine: Engine) -> list[Notice]:
    """Every stored notice with its bidders: the award history buyer leads and profile suggestions read."""
    with engine.connect() as conn:
        return list(repo.load_notices(conn))


def buyers(engine: Engine, enterprise: Enterprise, now: datetime, years: int = 3) -> list[BuyerLead]:
    """The buyers who bought what the enterprise sells in the last `years` years, best lead first."""
    return buyer_leads(history(engine), enterprise, now, years)


def suggest(engine: Engine, neq: str, until: date | None = None) -> SuggestedProfile:
    """A draft profile for the enterprise with this NEQ, from its bids before `until`."""
    return suggest_profile(history(engine), neq, until)
