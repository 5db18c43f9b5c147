"""Use cases of the web console and of the digest's feedback links, shared by `watcher web` and the
CLI (`watcher feedback export`). Wiring only, like app.py: the logic lives in match/ (backtest,
proposals), rules/edit.py (checking and saving a profile) and store/ (rows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine

from . import app
from .config import Config
from .errors import RuleError, WatcherError
from .match import backtest as bt
from .match.engine import Rulebook
from .match.proposals import Vote, candidates
from .models import Enterprise, Match, Notice, Reason
from .rules.edit import check_text, edit_list, profile_path, save_profile
from .store import feedback as fb
from .store import repo

MAX_LISTED = 200  # notices listed per side of a backtest diff; the counts are always whole


@dataclass(frozen=True)
class DiffLine:
    notice: Notice
    change: bt.Change
    why: tuple[Reason, ...]


@dataclass(frozen=True)
class Diff:
    """What an edited profile gains and loses on the stored notices, as `rules test --diff` prints it."""

    judged: int
    before: dict[str, int]
    after: dict[str, int]
    gains: int
    losses: int
    transitions: dict[tuple[str, str], int]
    lines: tuple[DiffLine, ...]  # at most MAX_LISTED gains then MAX_LISTED losses

    def as_json(self) -> dict:
        return {"judged": self.judged, "gained": [l.notice.id for l in self.lines if l.change.gained],
                "lost": [l.notice.id for l in self.lines if not l.change.gained], "gains": self.gains,
                "losses": self.losses, "transitions": {f"{o}>{n}": k for (o, n), k in self.transitions.items()}}


def diffs(engine: Engine, rulebook: Rulebook, old: Enterprise, news: list[Enterprise]) -> list[Diff]:
    """One pass over the stored notices for the old profile and every edited one, each notice judged
    as on its publication day. Only a profile's candidates (CandidateIndex: a keyword, UNSPSC code or
    category of its trade) are judged in full; any other notice is "no" on capability for it, as
    `rules test --diff` would find, and is judged in full only when its verdict changed (for the why)."""
    from .match.engine import AwardHistory, Judge

    with engine.connect() as conn:
        history = AwardHistory(repo.award_history(conn))
        notices = list(repo.load_notices(conn))
    profiles = [old, *news]
    judges = [Judge(replace(rulebook, enterprises=(p,)), history) for p in profiles]
    table: list[list[Match | None]] = [[(j.judge_candidates(n, None, now=None) or [None])[0] for j in judges] for n in notices]

    def verdict(m: Match | None) -> str:
        return "no" if m is None else m.verdict

    def full(i: int, k: int) -> Match:
        return table[i][k] or judges[k].judge(notices[i], now=None)[0]

    index = {n.id: i for i, n in enumerate(notices)}
    out = []
    for k in range(1, len(profiles)):
        changes = bt.compare({n.id: verdict(row[0]) for n, row in zip(notices, table)},
                             {n.id: verdict(row[k]) for n, row in zip(notices, table)})
        gains = [c for c in changes if c.gained]
        losses = [c for c in changes if not c.gained]
        lines = tuple(DiffLine(notices[index[c.notice_id]], c,
                               tuple(bt.changed_reasons(full(index[c.notice_id], 0), full(index[c.notice_id], k))))
                      for c in gains[:MAX_LISTED] + losses[:MAX_LISTED])
        out.append(Diff(len(notices), bt.tally(verdict(row[0]) for row in table), bt.tally(verdict(row[k]) for row in table),
                        len(gains), len(losses), bt.transitions(changes), lines))
    return out


def check_profile(cfg: Config, enterprise_id: str, text: str) -> tuple[Enterprise | None, list[RuleError]]:
    """The profile a submitted text describes, or its errors with line numbers; its id must stay the same."""
    name = f"{enterprise_id}.toml"
    profile, errors = check_text(text, name)
    if profile is not None and profile.id != enterprise_id:
        from .tomlpos import key_line

        errors = [RuleError(name, key_line(text, "id"), "id", f"l'identifiant doit rester « {enterprise_id} » "
                            f'/ the id must stay "{enterprise_id}" (copy the file to create another profile)')]
        profile = None
    return (replace(profile, source_file=str(profile_path(cfg.rules_dir, enterprise_id))) if profile else None), errors


def save_profile_text(engine: Engine, cfg: Config, enterprise_id: str, text: str, username: str,
                      summary: str = "", now: datetime | None = None) -> Path | None:
    """Check, then write the file the CLI reads (previous version kept), and record who and when."""
    profile, errors = check_profile(cfg, enterprise_id, text)
    if errors:
        raise WatcherError(errors[0].__str__(), hint="corrigez le profil / fix the profile")
    path = profile_path(cfg.rules_dir, enterprise_id)
    kept = save_profile(path, text, now)
    with engine.begin() as conn:
        fb.record_edit(conn, enterprise_id, username, str(kept) if kept else None, summary or "édition / edit", now)
    return kept


def votes(engine: Engine, rulebook: Rulebook, enterprise_id: str) -> list[Vote]:
    """The enterprise's feedback with each notice and whether the installed profile flags it."""
    with engine.connect() as conn:
        rows = fb.feedback_rows(conn, enterprise_id)
        found = {n.id: n for n in repo.load_notices(conn, ids=[r["notice_id"] for r in rows])}
    judge = app.judge_for(engine, rulebook)
    out = []
    for r in rows:
        notice = found.get(r["notice_id"])
        if notice is None:
            continue
        (m,) = judge.judge(notice, [enterprise_id], now=None)
        out.append(Vote(notice, r["relevant"], r["reason"], m.is_match))
    return out


def refresh_proposals(engine: Engine, cfg: Config, rulebook: Rulebook, enterprise_id: str,
                      now: datetime | None = None) -> int:
    """Turn the enterprise's feedback into proposals, each with its backtest; returns how many are new."""
    ent = rulebook.enterprise(enterprise_id)
    if ent is None:
        raise WatcherError(f"unknown enterprise {enterprise_id!r}")
    found = candidates(ent, votes(engine, rulebook, enterprise_id))
    with engine.connect() as conn:
        known = {p["key"] for p in fb.proposal_rows(conn, enterprise_id)}
    found = [c for c in found if c.key not in known]
    if not found:
        return 0
    text = Path(ent.source_file).read_text(encoding="utf-8")
    edited = []
    for c in found:
        profile, errors = check_profile(cfg, enterprise_id, edit_list(text, c.field, c.action, c.value))
        if profile is not None:  # e.g. removing the last region would leave an invalid file: not proposed
            edited.append((c, profile))
    results = diffs(engine, rulebook, ent, [p for _, p in edited])
    made = 0
    with engine.begin() as conn:
        for (c, _), d in zip(edited, results):
            if not (d.gains or d.losses):
                continue  # it would change no verdict: nothing to decide
            data = d.as_json() | {"fr": c.fr, "en": c.en}
            made += fb.save_proposal(conn, enterprise_id, c.key, c.field, c.action, c.value, list(c.evidence), data, now)
    return made


def decide(engine: Engine, cfg: Config, proposal_id: int, accept: bool, username: str,
           now: datetime | None = None) -> Path | None:
    """Accept (edit the rule file with tomlkit, previous version kept, edit recorded) or reject."""
    with engine.connect() as conn:
        p = fb.proposal(conn, proposal_id)
    if p is None or p["status"] != "open":
        raise WatcherError("proposition inconnue ou déjà décidée / unknown or already decided proposal")
    kept = None
    if accept:
        path = profile_path(cfg.rules_dir, p["enterprise_id"])
        text = edit_list(path.read_text(encoding="utf-8"), p["field"], p["action"], p["value"])
        verb = "ajout" if p["action"] == "add" else "retrait"
        kept = save_profile_text(engine, cfg, p["enterprise_id"], text, username,
                                 f"proposition {proposal_id} acceptée : {verb} de « {p['value']} » dans {p['field']}", now)
    with engine.begin() as conn:
        fb.decide_proposal(conn, proposal_id, "accepted" if accept else "rejected", username, now)
    return kept


def notice_verdicts(engine: Engine, rulebook: Rulebook, notice_id: str) -> tuple[Notice, list[tuple[Enterprise, Match]], object]:
    """One notice judged (as published) for every enterprise, "no" included, with the facts."""
    with engine.connect() as conn:
        found = list(repo.load_notices(conn, ids=[notice_id]))
    if not found:
        raise WatcherError(f"avis inconnu / unknown notice {notice_id!r}")
    judge = app.judge_for(engine, rulebook)
    notice = found[0]
    judged = judge.judge(notice, None, now=None)
    order = {v: i for i, v in enumerate(bt.VERDICTS)}  # best first
    pairs = sorted(((rulebook.enterprise(m.enterprise_id), m) for m in judged),
                   key=lambda em: (order.get(em[1].verdict, len(order)), -em[1].score))
    return notice, pairs, judge.facts(notice)


def export_labels(engine: Engine) -> Iterator[dict]:
    """Feedback as relevance labels, in the format of the shared relevance files (notice, enterprise,
    trade, digest, note) plus the ISO week of the vote, so precision can be followed week by week.
    "pertinent" is trade and digest; "pas pour nous" for size, region or timing is the trade but
    not for the digest; otherwise neither."""
    with engine.connect() as conn:
        rows = fb.feedback_rows(conn)
    for r in rows:
        year, week, _ = r["updated_at"].isocalendar()
        trade = bool(r["relevant"] or r["reason"] in ("size", "region", "timing"))
        note = f"feedback {r['via']}" + (f": {r['reason']}" if r["reason"] else "")
        yield {"notice": r["notice_id"], "enterprise": r["enterprise_id"], "trade": trade, "digest": bool(r["relevant"]),
               "note": note, "week": f"{year}-W{week:02d}"}


def weekly_precision(engine: Engine, weeks: int = 12) -> list[dict]:
    """Per ISO week: votes, "pertinent" votes and their share (the precision digests had, as readers judge)."""
    per: dict[str, list[int]] = {}
    for label in export_labels(engine):
        per.setdefault(label["week"], [0, 0])
        per[label["week"]][0] += 1
        per[label["week"]][1] += label["digest"]
    return [{"week": w, "votes": v, "relevant": r, "precision": r / v} for w, (v, r) in sorted(per.items())[-weeks:]]


def week_overview(engine: Engine, now: datetime | None = None) -> dict:
    """What went out in the last 7 days, refused mails, and who unsubscribed."""
    from .store.console import deliveries_since, failures_since

    since = (now or datetime.now(timezone.utc)) - timedelta(days=7)
    with engine.connect() as conn:
        return {"sent": deliveries_since(conn, since), "failures": failures_since(conn, since),
                "unsubscribed": fb.unsubscribed(conn)}
