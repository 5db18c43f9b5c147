"""The operations the CLI and the daemon share: import, match, digest. Wiring only; the logic
lives in collect/, store/, match/ and digest/."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from .collect import PARSERS, detect_format, iter_files, open_source_file
from .config import Config
from .digest.build import build_digest
from .digest.deliver import Outbox, deliver
from .digest.render import Renderer
from .errors import ParseError
from .match.engine import AwardHistory, Judge, Rulebook
from .models import Enterprise, Expense, FinalContract, Match, Notice
from .rules import load_enterprises, load_requirement_rules, load_thresholds
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
