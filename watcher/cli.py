"""Command line: one small function per command, each calling watcher.app (what the daemon uses)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import sys
import time
from datetime import datetime, time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import __version__
from .config import Config, load_config
from .errors import RuleErrors, WatcherError
from .lazy import LazyModule, lazy_function

# Everything heavy is imported at first use: `watcher --help` loads none of it, `watcher status`
# only SQLAlchemy (issue 16). Add new imports of watcher modules the same way.
app = LazyModule("watcher.app")
repo = LazyModule("watcher.store.repo")
backtest = LazyModule("watcher.match.backtest")
open_store = lazy_function("watcher.store", "open_store")
check_requirement_rules = lazy_function("watcher.rules", "check_requirement_rules")
check_rules = lazy_function("watcher.rules", "check_rules")
load_thresholds = lazy_function("watcher.rules", "load_thresholds")
load_rates = lazy_function("watcher.money", "load_rates")
load_requirement_rules = lazy_function("watcher.rules", "load_requirement_rules")
load_enterprise = lazy_function("watcher.rules.enterprises", "load_enterprise")
check_sources = lazy_function("watcher.sources", "check_sources")
match_json = lazy_function("watcher.serialize", "match_json")
notice_json = lazy_function("watcher.serialize", "notice_json")
explanation_json = lazy_function("watcher.serialize", "explanation_json")
requirements_json = lazy_function("watcher.serialize", "requirements_json")
extract = lazy_function("watcher.match.requirements", "extract")
known_value = lazy_function("watcher.match.verdict", "known_value")

MONTREAL = ZoneInfo("America/Montreal")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _config(args: argparse.Namespace) -> Config:
    if args.config:
        return load_config(args.config)
    default = Path.cwd() / "config.toml"
    return load_config(default if default.exists() else None)


def _date(text: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), dtime(0, 0), MONTREAL)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date YYYY-MM-DD") from None


def _at(text: str) -> datetime | str:
    """--at: 'now', 'published' (judge each notice as on its publication day) or a date."""
    return text if text in ("now", "published") else _date(text)


def _judge_now(at: datetime | str) -> datetime | None:
    return None if at == "published" else datetime.now(MONTREAL) if at == "now" else at


def cmd_init(args: argparse.Namespace) -> int:
    """Create or migrate the database to the latest schema; --system lays out /etc/watcher and /var/lib/watcher for the systemd unit."""
    if args.system:
        from .deploy import init_system

        layout = init_system(Path(args.root), Path(args.source_tree) if args.source_tree else PROJECT_ROOT, args.user)
        for path in layout.created:
            print(f"créé / created: {path}")
        print(f"{len(layout.kept)} fichier(s) existant(s) gardé(s) / existing file(s) kept")
        print(f"ensuite / next: edit {layout.etc / 'config.toml'}, then `watcher --config {layout.etc / 'config.toml'} "
              "rules check`, `systemctl daemon-reload && systemctl enable --now watcher`")
        return 0
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    print(f"base de données prête / database ready: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import notice files or folders (SEAO XML, .gz accepted); bad records are reported and skipped."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    started = time.perf_counter()
    report = app.import_paths(engine, args.paths, progress=_import_progress if sys.stderr.isatty() else None)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for error in report.errors:
            print(f"erreur / error: {error}", file=sys.stderr)
        if report.titles_built:
            print(f"avertissement / warning: {report.titles_built} avis sans titre utilisable, titre construit à partir de "
                  f"leurs autres champs (title_built) / notice(s) without a usable title, title built from their other "
                  f"fields", file=sys.stderr)
        print(f"{report.files} fichier(s) / file(s): {report.notices_new} nouveaux avis / new notices, "
              f"{report.notices_updated} mis à jour / updated, {report.notices_unchanged} inchangés / unchanged, "
              f"{report.notices_stale} plus anciens ignorés / older ignored, {report.contracts} contrats finaux / final contracts, "
              f"{report.expenses} dépenses / expenses, {len(report.errors)} erreur(s) / error(s) "
              f"en / in {time.perf_counter() - started:.1f} s")
    return 1 if report.errors else 0


def _import_progress(done: int, total: int, path: Path, report: app.ImportReport) -> None:
    """One self-overwriting line on a terminal: files done, notices so far, the file in hand."""
    line = (f"[{done}/{total}] {path.name}: {report.notices_new} nouveaux / new, {report.notices_updated} "
            f"mis à jour / updated, {len(report.errors)} erreur(s) / error(s)")
    width = shutil.get_terminal_size().columns - 1
    print(f"\r{line[:width]:<{width}}",
          end="\n" if done == total else "", file=sys.stderr, flush=True)


def cmd_notices(args: argparse.Namespace) -> int:
    """List stored notices, newest first."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    with engine.connect() as conn:
        for n in repo.load_notices(conn, since=args.since, limit=args.limit):
            if args.json:
                print(json.dumps(notice_json(n), ensure_ascii=False))
            else:
                when = n.published_at.astimezone(MONTREAL).strftime("%Y-%m-%d") if n.published_at else "          "
                unit = "$" if n.currency == "CAD" else n.currency or "?"  # never a pound shown as a dollar
                value = f"{n.value:>12,.0f} {unit}".replace(",", " ") if n.value is not None else " " * 14
                print(f"{n.id:<14} {when} {n.method:<10} {value}  {n.title[:70]}  — {n.buyer_name[:40]}")
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    """Validate every rule file (profiles, thresholds, requirement phrases) and source file; print file:line: field: message."""
    cfg = _config(args)
    errors = [*check_rules(cfg.rules_dir), *_check_thresholds(cfg.rules_dir / "thresholds.toml"),
              *_check_thresholds(cfg.rules_dir / "rates.toml", load_rates),
              *check_requirement_rules(cfg.rules_dir / "requirements.toml"), *check_sources(cfg.sources_dir)]
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} erreur(s) / error(s)", file=sys.stderr)
        return 1
    rulebook = app.load_rulebook(cfg)
    print(f"ok: {len(rulebook.enterprises)} profil(s) d'entreprise / enterprise profile(s), seuils / thresholds, "
          f"exigences / requirements in {cfg.rules_dir}; sources in {cfg.sources_dir}")
    return 0


def _check_thresholds(path: Path, loader=load_thresholds) -> list:
    try:
        loader(path)
    except RuleErrors as exc:
        return list(exc.errors)
    return []


def cmd_match(args: argparse.Namespace) -> int:
    """Match stored notices against the enterprise profiles."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    rulebook = app.load_rulebook(cfg, engine)  # a broken profile: its last good version, or skipped with a warning
    if args.enterprise and rulebook.enterprise(args.enterprise) is None:
        raise WatcherError(f"unknown enterprise {args.enterprise!r}", hint="watcher rules check lists the profiles")
    include_no = args.all or bool(args.notice and args.enterprise)
    count = 0
    for notice, m in app.matches(engine, rulebook, args.enterprise, args.notice, include_no=include_no,
                                 now=_judge_now(args.at), since=args.since):
        count += 1
        if args.json:
            print(json.dumps(match_json(m, cfg.digest.language), ensure_ascii=False))
        else:
            why = "; ".join(r.text(cfg.digest.language) for r in m.reasons)
            print(f"{m.verdict:<10} {m.score:4.2f} {m.enterprise_id:<28} {notice.id:<14} {notice.title[:60]}\n      {why}")
    if not args.json:
        print(f"{count} résultat(s) / result(s)", file=sys.stderr)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Build each enterprise's digest: --preview DIR writes .eml files, --send delivers them."""
    from . import operate

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    rulebook = app.load_rulebook(cfg, engine)
    if args.preview:
        outcomes = app.run_digests(engine, cfg, rulebook, preview_dir=args.preview, since=args.since,
                                   judge_now=_judge_now(args.at))
    else:  # recorded as a digest run (watcher status); temporary failures wait for the daemon's retry
        outcomes = operate.send_digests(engine, cfg, rulebook, since=args.since, judge_now=_judge_now(args.at))
    failed = 0
    for o in outcomes:
        if o.ok:
            print(f"{o.enterprise_id}: {o.notices} avis / notices (+{o.omitted} pour plus tard / for later) -> {o.where}")
        else:
            failed += 1
            print(f"{o.enterprise_id}: ÉCHEC / FAILED: {o.error}", file=sys.stderr)
    if not outcomes:
        print("aucun courriel à envoyer / no digest to send")
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Import the bundled real SEAO notices, match the example profiles, write digests to an outbox."""
    folder = Path(args.dir).resolve()
    data = PROJECT_ROOT / "demo" / "seao"
    if not data.is_dir():
        raise WatcherError(f"demo data not found in {data}", hint="run the demo from a checkout of the project (pip install -e .)")
    for stale in (folder / "outbox", folder / "watcher.db", folder / "watcher.db-wal", folder / "watcher.db-shm"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    base = load_config(None, base=PROJECT_ROOT)
    from dataclasses import replace

    cfg = replace(base, database_url=f"sqlite:///{folder / 'watcher.db'}",
                  delivery=replace(base.delivery, backend="outbox", outbox=folder / "outbox"))
    engine = open_store(cfg.database_url)
    started = time.perf_counter()
    report = app.import_paths(engine, [data])
    print(f"1. import: {report.files} fichiers SEAO / SEAO files, {report.notices_new} avis / notices, "
          f"{len(report.errors)} erreur(s) / error(s), {time.perf_counter() - started:.1f} s")
    rulebook = app.load_rulebook(cfg)
    print(f"2. règles / rules: {len(rulebook.enterprises)} entreprises ({', '.join(e.id for e in rulebook.enterprises)}), "
          "avis jugés à leur date de publication / notices judged as on their publication day")
    outcomes = app.run_digests(engine, cfg, rulebook, judge_now=None)
    print(f"3. courriels / digests: {len(outcomes)} dans / in {cfg.delivery.outbox}")
    for o in outcomes:
        print(f"   {o.enterprise_id}: {o.notices} avis / notices (+{o.omitted}) -> {o.where}")
    demo_cfg = folder / "config.toml"
    demo_cfg.write_text(f'[database]\nurl = "sqlite:///watcher.db"\n\n[paths]\nsources = "{PROJECT_ROOT / "sources"}"\n'
                        f'rules = "{PROJECT_ROOT / "rules"}"\ntemplates = "{PROJECT_ROOT / "templates"}"\n\n'
                        '[delivery]\nbackend = "outbox"\noutbox = "outbox"\n', encoding="utf-8")
    print(f"Base / database: {folder / 'watcher.db'} — essayez / try: watcher --config {demo_cfg} match --enterprise "
          f"{rulebook.enterprises[0].id}   |   watcher --config {demo_cfg} explain NOTICE ENTERPRISE")
    return 0 if outcomes and not report.errors else 1


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f} $".replace(",", " ")


def _day(when: datetime | None) -> str:
    return when.astimezone(MONTREAL).strftime("%Y-%m-%d") if when else "?"


def cmd_explain(args: argparse.Namespace) -> int:
    """Explain one verdict: every criterion (pass/fail, level, evidence) and the facts it rests on."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    rulebook = app.load_rulebook(cfg, engine)
    x = app.explain(engine, rulebook, args.notice, args.enterprise, now=_judge_now(args.at))
    if args.json:
        print(json.dumps(explanation_json(x), ensure_ascii=False))
        return 0
    lang = x.enterprise.language if x.enterprise.language in ("fr", "en") else cfg.digest.language
    n, m, f = x.notice, x.match, x.facts
    at = "à la publication / as on publication day" if x.judged_at is None else _day(x.judged_at)
    print(f"{n.id}  {n.title}")
    print(f"  acheteur / buyer: {n.buyer_name} ({f.buyer}) · mode / method: {n.method} · nature: {n.nature} · "
          f"catégories / categories: {', '.join(n.categories) or '-'} · régions / regions: {', '.join(n.regions) or '-'}")
    print(f"  publié / published: {_day(n.published_at)} · fermeture / closing: {_day(n.closing_at)} · "
          f"soumissionnaires / bidders: {len(n.bidders)}")
    print(f"profil / profile: {x.enterprise.id} ({x.enterprise.name}) — jugé / judged: {at}")
    print(f"verdict: {m.verdict} (score {m.score:.2f})\n\ncritères / criteria:")
    for r in m.reasons:
        state = "ok  " if r.ok else f"ÉCHEC / FAIL ({r.level})"
        print(f"  {r.criterion:<16} {state:<26} {r.text(lang)}")
        if r.evidence:
            print(f"  {'':<16} {'':<26} preuve / evidence: « {' '.join(r.evidence.split())} »")
    estimate = f" (fourchette / range {_money(f.low)} – {_money(f.high)})" if f.estimated and (f.low or f.high) else ""
    print(f"\nfaits / facts:\n  valeur / value: {_money(f.value)}{estimate} — {f.basis_fr} / {f.basis_en}")
    if x.judged_at is None:
        print("  faits retenus / facts used: ceux publics à la publication (ni montant adjugé, ni soumissionnaires, "
              "seulement les contrats de l'acheteur attribués avant) / those public on publication day (no awarded "
              "amount, no bidders, only the buyer's contracts awarded before)")
    print("  exigences / requirements:" + ("" if f.requirements else " aucune connue / none known"))
    for name, req in f.requirements.items():
        size = " ".join(x for x in (f"{req.percent:g} %" if req.percent else "", _money(req.amount) if req.amount else "") if x)
        source = (f"déduite / inferred: {req.basis_fr} / {req.basis_en}" if req.inferred
                  else f"énoncée / stated: « {' '.join(req.evidence.split())} »" if req.evidence else "énoncée / stated")
        print(f"    {name:<22} {req.status:<10} {size:<12} {source}")
    found = {k: v for k, v in x.extracted.to_json().items() if k != "evidence" and v not in (None, False, [], "not_stated")}
    print("  lu dans le texte / read in the text: " + (", ".join(f"{k}={v}" for k, v in found.items()) or "rien / nothing"))
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    """Backtest a profile on stored notices, judged as on their publication day: counts by verdict and the
    list; --file tests an edited copy without installing it; --diff shows what an edit gains and loses."""
    cfg = _config(args)
    rulebook = app.load_rulebook(cfg)
    installed = rulebook.enterprise(args.enterprise)
    if args.file is None and installed is None:
        raise WatcherError(f"unknown enterprise {args.enterprise!r}", hint="watcher rules check lists the profiles; --file tests a file not installed")
    profile = load_enterprise(args.file) if args.file else installed
    if profile.id != args.enterprise:
        print(f"attention / warning: {args.file} a l'id / has id {profile.id!r}", file=sys.stderr)
    profiles = [profile]
    if args.diff is not None:
        if installed is None and not Path(args.diff).is_file():
            raise WatcherError(f"no installed profile {args.enterprise!r} to compare with in git",
                               hint="give a saved copy of the previous version: --diff PATH")
        profiles.insert(0, app.previous_profile(Path(installed.source_file) if installed else Path(args.diff), args.diff))
    engine = open_store(cfg.database_url)
    rows = list(app.backtest(engine, rulebook, profiles, since=args.since))
    since = f" depuis le / since {_day(args.since)}" if args.since else ""
    print(f"{len(rows)} avis jugés à leur date de publication / notices judged as on their publication day{since}")

    def counts(label: str, i: int) -> None:
        tally = backtest.tally(ms[i].verdict for _, ms in rows)
        print(f"{label} {profiles[i].source_file}: " + " · ".join(f"{v} {c}" for v, c in tally.items()))

    if args.diff is None:
        counts("profil / profile", 0)
        for n, (m,) in rows:
            if m.is_match:
                print(f"  {m.verdict:<10} {m.score:4.2f} {n.id:<14} {_day(n.published_at)} {_money(known_value(n)):>12}  "
                      f"{n.title[:60]} — {n.buyer_name[:30]}")
        return 0
    counts("avant / before", 0)
    counts("après / after ", 1)
    by_id = {n.id: (n, old, new) for n, (old, new) in rows}
    changes = backtest.compare({i: o.verdict for i, (_, o, _) in by_id.items()}, {i: w.verdict for i, (_, _, w) in by_id.items()})
    gains = [c for c in changes if c.gained]
    print(f"gains: {len(gains)} · pertes / losses: {len(changes) - len(gains)}  "
          + " · ".join(f"{o} → {w}: {k}" for (o, w), k in backtest.transitions(changes).items()))
    lang = profile.language if profile.language in ("fr", "en") else cfg.digest.language
    for c in changes:
        n, old, new = by_id[c.notice_id]
        print(f"  {'+' if c.gained else '-'} {n.id:<14} {c.old} → {c.new}  {_day(n.published_at)} {n.title[:60]}")
        why = backtest.changed_reasons(old, new)
        if why:
            print("      " + "; ".join(r.text(lang) for r in why))
    return 0


def cmd_requirements(args: argparse.Namespace) -> int:
    """Read sureties, insurance and licences in texts (a plain text file, or JSON lines with "text" and
    an optional "id"); print one JSON object per text with the fields and their evidence."""
    cfg = _config(args)
    rules = load_requirement_rules(cfg.rules_dir / "requirements.toml")
    if args.file == "-":
        raw, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            raw, name = Path(args.file).read_text(encoding="utf-8"), args.file
        except (OSError, UnicodeDecodeError) as exc:
            raise WatcherError(f"{args.file}: illisible / cannot read: {getattr(exc, 'strerror', None) or exc}",
                               hint="a UTF-8 text file, or - for standard input") from None
    for ident, text in app.read_texts(raw, name):
        print(json.dumps(requirements_json(text, extract(text, rules), ident), ensure_ascii=False))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """Collect the sources once (all enabled ones, or those named); one line per source, exit 1 if any failed."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    reports = app.collect(engine, cfg, args.sources or None)
    for r in reports:
        print(r.line(), file=sys.stdout if r.ok else sys.stderr)
    if not reports:
        print(f"aucune source active / no enabled source in {cfg.sources_dir}")
    return 0 if all(r.ok for r in reports) else 1


def cmd_status(args: argparse.Namespace) -> int:
    """Sources, digest runs and rule files at a glance; exit 1 when a source keeps failing or a rule file is broken."""
    from datetime import timedelta, timezone

    from . import ruleset
    from .store import oplog
    from .store.runs import statuses

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    with engine.connect() as conn:
        found = statuses(conn)
        last_digest, last_retry = oplog.last_digest_run(conn, "digest"), oplog.last_digest_run(conn, "retry")
        pending = oplog.pending_retries(conn, datetime.now(timezone.utc), timedelta(hours=cfg.daemon.retry_hours))
    try:
        broken = [b.as_json() for b in ruleset.broken(cfg, engine)]
    except RuleErrors as exc:  # thresholds or requirement phrases: shared by everyone, nothing serves
        broken = [{"file": e.file, "errors": [str(e)], "serving_last_good": False} for e in exc.errors]
    failing = [s for s in found if s.consecutive_failures >= cfg.daemon.max_failures]
    when = lambda d: d.astimezone(MONTREAL).strftime("%Y-%m-%d %H:%M") if d else "—"  # noqa: E731
    if args.json:
        print(json.dumps({"sources": [s.as_json() for s in found], "max_failures": cfg.daemon.max_failures,
                          "failing": [s.source for s in failing],
                          "digests": {"last_run": last_digest.as_json() if last_digest else None,
                                      "last_retry": last_retry.as_json() if last_retry else None,
                                      "pending_retries": pending},
                          "rule_files": {"broken": broken}}, ensure_ascii=False))
    else:
        for s in found:
            flag = "ÉCHEC / FAILING" if s in failing else "ok" if s.consecutive_failures == 0 else "erreur / error"
            print(f"{s.source:<24} {flag:<16} dernier succès / last success {when(s.last_success)}  "
                  f"échecs de suite / failures in a row {s.consecutive_failures}  passages / runs {s.runs}  "
                  f"nouveaux / new {s.notices_new}  mis à jour / updated {s.notices_updated}")
            if s.consecutive_failures:
                print(f"{'':<24} dernière erreur / last error ({when(s.last_error_at)}): {s.last_error}")
        if not found:
            print("aucun passage enregistré / no run recorded yet (watcher collect)")
        for label, run in (("digests", last_digest), ("retry", last_retry)):
            if run:
                print(f"{label:<24} dernier passage / last run {when(run.started_at)}  envoyés / sent {run.sent}  "
                      f"refusés / refused {run.refused}  en échec / failed {run.failed}" + (f"  erreur / error: {run.error}" if run.error else ""))
        if last_digest is None:
            print(f"{'digests':<24} aucun envoi enregistré / no digest run recorded yet")
        if pending:
            print(f"{'':<24} à réessayer / pending retries ({len(pending)}): {', '.join(pending)}")
        for b in broken:
            serving = "dernière version valide en service / last good version serving" if b["serving_last_good"] else "ignoré / skipped"
            print(f"fichier invalide / broken file {b['file']} ({serving})")
            for e in b["errors"]:
                print(f"    {e}")
    return 1 if failing or broken else 0


def cmd_sources_kinds(args: argparse.Namespace) -> int:
    """List the source kinds, what each reads and the options it takes."""
    from .sources import KINDS

    for name, kind in KINDS.items():
        options = ", ".join(f"{k} ({'/'.join(t.__name__ for t in (v if isinstance(v, tuple) else (v,)))})"
                            for k, v in kind.options.items())
        print(f"{name:<12} {kind.doc}\n{'':<12} options: {options or '—'}")
    return 0


def cmd_sources_list(args: argparse.Namespace) -> int:
    """List the declared sources (sources/*.toml) with their kind, schedule and state."""
    cfg = _config(args)
    from . import ruleset

    for s in ruleset.load(cfg).sources:  # a broken file: a warning naming it, the others listed
        state = "actif / enabled" if s.enabled else "désactivé / disabled"
        print(f"{s.name:<24} {s.kind:<11} [{s.schedule}] {state:<21} {s.url}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon: sources and digests on their schedules, retries; SIGHUP reloads, SIGTERM stops."""
    from . import logs, metrics, operate, ruleset
    from .schedule import run_daemon

    cfg = _config(args)
    logs.setup(cfg.daemon.log_level, cfg.daemon.log_format, args.verbose)
    engine = open_store(cfg.database_url)
    broken: list = []

    def rules() -> ruleset.RuleSet:
        """Rule and source files read again; broken ones skipped (last good version serving), the coordinator told once."""
        found = ruleset.load(cfg, engine)
        broken[:] = found.broken
        operate.alert_broken_files(engine, cfg, found.broken)
        return found

    def collect_then_alert(stop, names: list[str] | None) -> None:
        app.collect(engine, cfg, names, stop)
        app.run_alerts(engine, cfg, rules().rulebook)  # [digest] alert_days: closing soon, at once

    def digests(stop, ids: list[str] | None) -> None:  # live: closed notices drop out
        operate.send_digests(engine, cfg, rules().rulebook, only=ids, judge_now=datetime.now(MONTREAL))

    def jobs() -> list:
        found = rules()
        out = [(f"source:{s.name}", s.schedule, (lambda stop, name=s.name: collect_then_alert(stop, [name])))
               for s in found.sources if s.enabled]
        # One digest job per schedule: profiles may set their own ([digest] schedule), the rest use the default.
        schedules: dict[str, list[str]] = {}
        for ent in found.rulebook.enterprises:
            schedules.setdefault(ent.digest_schedule or cfg.daemon.digest_schedule, []).append(ent.id)
        for i, (cron, ids) in enumerate(sorted(schedules.items())):
            out.append((f"digests:{i}", cron, lambda stop, ids=ids: digests(stop, ids)))
        out.append(("retry", cfg.daemon.retry_schedule, lambda stop: operate.retry_pending(
            engine, cfg, rules().rulebook, judge_now=datetime.now(MONTREAL))))
        return out

    def at_start(stop) -> None:  # --now: collect first, then the digests that can use what came in
        collect_then_alert(stop, None)
        if not stop.is_set():
            digests(stop, None)

    registry = metrics.registry_for(engine, lambda: len(broken), cfg.daemon.retry_hours)
    if cfg.metrics.port:
        metrics.serve(registry, cfg.metrics.port, cfg.metrics.address)
    after_job = (lambda: metrics.write_textfile(registry, cfg.metrics.textfile)) if cfg.metrics.textfile else None
    web = None
    if cfg.web.enabled:  # the console beside the jobs, in a thread of its own
        import threading

        from .web import server

        web = server(cfg, engine)
        threading.Thread(target=web.run, name="web", daemon=True).start()
    try:
        run_daemon(jobs(), engine, cfg.daemon.standby_poll, reload=jobs, at_start=at_start if args.now else None,
                   after_job=after_job)
    finally:
        if web is not None:
            web.should_exit = True
    return 0


def cmd_consortia(args: argparse.Namespace) -> int:
    """Candidate consortia for one notice: who covers what, who leads, each share, and why."""
    cfg = _config(args)
    engine = open_store(cfg.database_url)
    rulebook = app.load_rulebook(cfg, engine)
    proposal = app.consortia(engine, rulebook, args.notice, max_size=args.max_size, now=_judge_now(args.at))
    lang = cfg.digest.language
    if args.json:
        print(json.dumps(dataclasses.asdict(proposal), ensure_ascii=False))
        return 0
    print(f"{proposal.notice_id}: besoins / needs: {', '.join(n.label for n in proposal.needs) or '—'}")
    if proposal.alone:
        print(f"  réaliste seule / realistic alone: {', '.join(proposal.alone)} — pas de consortium nécessaire / no team needed")
    if not proposal.teams:
        print(f"  aucune équipe / no team: {proposal.why_en if lang == 'en' else proposal.why_fr}")
    for i, team in enumerate(proposal.teams, 1):
        full = "couverture complète / full coverage" if team.full_coverage else "couverture partielle / partial coverage"
        print(f"  {i}. {' + '.join(team.members)} — tête / lead: {team.lead} — {full}")
        for member in team.members:
            covers = ", ".join(team.covers.get(member, ())) or "—"
            regions = ", ".join(team.regions.get(member, ())) or "—"
            print(f"     {member:<28} part / share {team.shares.get(member, 0):.0%}  couvre / covers: {covers}  régions / regions: {regions}")
        for reason in (team.reasons_en if lang == "en" else team.reasons_fr):
            print(f"     · {reason}")
    if proposal.truncated:
        print("  (recherche écourtée / search cut short: a better team may exist)")
    return 0


def cmd_buyers(args: argparse.Namespace) -> int:
    """The buyers who bought what an enterprise sells: how often, by which mode, amounts, incumbents, what may come back."""
    cfg = _config(args)
    rulebook = app.load_rulebook(cfg)
    enterprise = rulebook.enterprise(args.enterprise)
    if enterprise is None:
        raise WatcherError(f"unknown enterprise {args.enterprise!r}", hint="watcher rules check lists the profiles")
    engine = open_store(cfg.database_url)
    now = args.at if isinstance(args.at, datetime) else datetime.now(MONTREAL)
    leads = app.buyers(engine, enterprise, now, args.years)[: args.limit]
    contacts = app.buyer_contacts(engine, [lead.buyer for lead in leads])
    expected = app.expected_purchases(engine, enterprise, now.date())
    for lead in leads:
        c = contacts.get(lead.buyer)
        seen = c.last_seen.astimezone(MONTREAL).date().isoformat() if c else None
        coming = expected.get(_fold(lead.buyer), [])
        if args.json:
            contact = {"name": c.name or None, "email": c.email or None, "phone": c.phone or None, "seen": seen} if c else None
            print(json.dumps(lead.as_json() | {"contact": contact, "expected": [r.as_json() for r in coming]},
                             ensure_ascii=False, default=str))
            continue
        modes = ", ".join(f"{m} {n}" for m, n in lead.by_method if n)
        print(f"{lead.score:4.2f} {lead.buyer} — {lead.purchases} achat(s) / purchase(s) ({modes}); médiane / median "
              f"{_money(lead.median_amount)}; dernier / last {lead.last_purchase or '?'}")
        if lead.incumbents:
            print("     fournisseurs en place / incumbents: " + ", ".join(f"{i.name} ({i.wins})" for i in lead.incumbents[:3]))
        for r in lead.recurring:
            print(f"     à revenir vers / expected around {r.expected}: {r.title} ({r.evidence_en if enterprise.language == 'en' else r.evidence_fr})")
        for r in coming:
            print(f"     attendu / expected {r.window[0]} … {r.window[1]}: {r.title} ({r.why(enterprise.language)})")
        print(f"     {lead.reason(enterprise.language)}")
        if c:
            print(f"     contact : {', '.join(x for x in (c.name, c.email, c.phone) if x)} (vu le / seen {seen})")
    if not leads and not args.json:
        print(f"aucun acheteur dans les {args.years} dernières années / no buyer in the last {args.years} years "
              f"(as of {now:%Y-%m-%d}; try --at with a date within the stored history)")
    return 0


def cmd_profile_suggest(args: argparse.Namespace) -> int:
    """Write a draft rule file for an enterprise from its bidding history (by NEQ), for a coordinator to review."""
    from .match.suggest import to_toml

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    if args.csv or len(args.neq or []) != 1:
        return _suggest_many(args, cfg, engine)
    args.neq = args.neq[0]
    profile = app.suggest(engine, args.neq, args.until.date() if args.until else None)
    if not profile.bids:
        raise WatcherError(f"aucune soumission pour le NEQ / no bid for NEQ {args.neq} in the stored history",
                           hint="import SEAO award files first (watcher import)")
    try:
        text = to_toml(profile, args.id or _slug(profile.name or args.neq))
    except ValueError as exc:
        raise WatcherError(str(exc)) from None
    text = text.replace('language = "fr"\n', f'language = "fr"\nneq = "{args.neq}"\n', 1)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{args.out}: {profile.bids} soumission(s) / bid(s), {profile.wins} contrat(s) / contract(s) — à vérifier / to review, "
              "puis / then: watcher rules check", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _fold(name: str) -> str:
    return " ".join(name.casefold().replace(".", " ").split())


def _suggest_many(args: argparse.Namespace, cfg, engine) -> int:
    """Several NEQs (--neq repeated, --csv): one draft each in the --out folder, history read once."""
    from .match.bootstrap import drafts, read_neqs

    wanted = [(n, None) for n in args.neq or []]
    if args.csv:
        try:
            wanted += read_neqs(Path(args.csv).read_text(encoding="utf-8-sig"), args.csv)
        except OSError as exc:
            raise WatcherError(f"{args.csv}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise WatcherError(str(exc), hint="une colonne « neq » de NEQ à 10 chiffres / a 'neq' column of 10-digit NEQs") from None
    if not wanted:
        raise WatcherError("aucun NEQ / no NEQ", hint="--neq NEQ (repeatable) or --csv FILE")
    if not args.out:
        raise WatcherError("plusieurs NEQ : --out DOSSIER requis / several NEQs: --out FOLDER is required")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    taken = {p.stem for p in out.glob("*.toml")} | {p.stem for p in (cfg.rules_dir / "enterprises").glob("*.toml")}
    found = drafts(app.history(engine), wanted, args.until.date() if args.until else None, taken)
    failed = 0
    for d in found:
        if d.text is None:
            failed += 1
            print(f"{d.neq}: {d.problem}", file=sys.stderr)
            continue
        (out / f"{d.id}.toml").write_text(d.text, encoding="utf-8")
        print(f"{out / f'{d.id}.toml'}: NEQ {d.neq}, {d.bids} soumission(s) / bid(s), {d.wins} contrat(s) / contract(s)")
    print(f"{len(found) - failed} brouillon(s) / draft(s) écrits / written, {failed} sans suggestion / without one — "
          "à vérifier / to review, puis / then: watcher rules check", file=sys.stderr)
    return 1 if failed else 0


def cmd_web(args: argparse.Namespace) -> int:
    """Serve the coordinators' console and the digest's feedback and unsubscribe pages ([web] in config.toml)."""
    from .web import server

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    server(cfg, engine, args.host, args.port).run()
    return 0


def cmd_web_adduser(args: argparse.Namespace) -> int:
    """Create a console account, or change its password (asked twice, or read from standard input)."""
    import getpass

    from .store import feedback as fb
    from .web.security import hash_password

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("mot de passe / password: ")
        if getpass.getpass("encore / again: ") != password:
            raise WatcherError("les mots de passe diffèrent / passwords differ")
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise WatcherError(str(exc)) from None
    with engine.begin() as conn:
        new = fb.add_user(conn, args.username, hashed)
    print(f"{args.username}: {'compte créé / account created' if new else 'mot de passe changé / password changed'}")
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Digest feedback as relevance labels (JSON lines: notice, enterprise, trade, digest, note, week)."""
    from . import console

    cfg = _config(args)
    engine = open_store(cfg.database_url)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        count = 0
        for label in console.export_labels(engine):
            out.write(json.dumps(label, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"{args.out}: {count} étiquette(s) / label(s)", file=sys.stderr)
    return 0


def _slug(name: str) -> str:
    import unicodedata

    from .match.bootstrap import slug

    return slug(name)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="watcher", description="Veille des marchés publics pour l'économie sociale / procurement watcher for social-economy enterprises")
    p.add_argument("--config", help="config.toml (default: ./config.toml if present, else embedded defaults)")
    p.add_argument("--verbose", action="store_true", help="show tracebacks and progress (stage times)")
    p.add_argument("--version", action="version", version=f"watcher {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help=cmd_init.__doc__)
    s.add_argument("--system", action="store_true",
                   help="lay out the service: /etc/watcher (config, rules, sources, templates), /var/lib/watcher, the unit")
    s.add_argument("--root", default="/", help="with --system: lay it out under this folder (default /)")
    s.add_argument("--from", dest="source_tree", metavar="CHECKOUT",
                   help="with --system: the checkout to copy the default rules, sources, templates from")
    s.add_argument("--user", default="watcher", help="with --system: the service user owning the state (default watcher)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("import", help=cmd_import.__doc__)
    s.add_argument("paths", nargs="+", help="files or folders")
    s.add_argument("--json", action="store_true", help='print {"files", "notices_new", "notices_updated", "errors"}')
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("notices", help=cmd_notices.__doc__)
    s.add_argument("--json", action="store_true", help="one JSON object per line, bidders included")
    s.add_argument("--since", type=_date, help="published on or after YYYY-MM-DD")
    s.add_argument("--limit", type=int, help="at most N notices")
    s.set_defaults(func=cmd_notices)

    s = sub.add_parser("rules", help="rule files: check, test (backtest a profile)")
    rsub = s.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    r = rsub.add_parser("check", help=cmd_rules_check.__doc__)
    r.set_defaults(func=cmd_rules_check)
    r = rsub.add_parser("test", help=cmd_rules_test.__doc__)
    r.add_argument("enterprise", help="enterprise id")
    r.add_argument("--since", type=_date, help="only notices published on or after YYYY-MM-DD")
    r.add_argument("--file", type=Path, metavar="PATH", help="test this edited copy of the profile instead of the installed one")
    r.add_argument("--diff", nargs="?", const="HEAD", metavar="REV|PATH",
                   help="compare with the previous version: a git revision of the installed file (default HEAD) or a saved copy")
    r.set_defaults(func=cmd_rules_test)

    s = sub.add_parser("match", help=cmd_match.__doc__)
    s.add_argument("--enterprise", help="only this enterprise id")
    s.add_argument("--notice", help="only this notice id (e.g. seao:1234567)")
    s.add_argument("--all", action="store_true", help="also print pairs judged 'no' (notices of the enterprise's trade)")
    s.add_argument("--json", action="store_true", help='one {"notice", "enterprise", "score", "verdict", "reasons"} per line')
    s.add_argument("--since", type=_date, help="only notices published on or after YYYY-MM-DD")
    s.add_argument("--at", type=_at, default="published",
                   help="judge as on: 'published' (each notice's publication day, default), 'now', or YYYY-MM-DD")
    s.set_defaults(func=cmd_match)

    s = sub.add_parser("digest", help=cmd_digest.__doc__)
    mode = s.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", type=Path, metavar="DIR", help="write .eml files to DIR, send nothing, record nothing")
    mode.add_argument("--send", action="store_true", help="deliver through [delivery] (outbox folder or SMTP)")
    s.add_argument("--since", type=_date, help="only notices published on or after YYYY-MM-DD")
    s.add_argument("--at", type=_at, default="now",
                   help="judge lead times as on: 'now' (default), 'published' or YYYY-MM-DD (to replay history)")
    s.set_defaults(func=cmd_digest)

    s = sub.add_parser("demo", help=cmd_demo.__doc__)
    s.add_argument("--dir", default="demo-output", help="working folder for the demo (emptied first; default: demo-output)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("explain", help=cmd_explain.__doc__)
    s.add_argument("notice", help="notice id, e.g. seao:1234567")
    s.add_argument("enterprise", help="enterprise id")
    s.add_argument("--at", type=_at, default="published",
                   help="judge as on: 'published' (the notice's publication day, default), 'now', or YYYY-MM-DD")
    s.add_argument("--json", action="store_true", help='one {"notice", "verdict", "criteria", "facts", "extracted"} object')
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("requirements", help=cmd_requirements.__doc__)
    s.add_argument("file", nargs="?", default="-", metavar="FILE", help="text file or JSON lines; - (default) reads standard input")
    s.set_defaults(func=cmd_requirements)
    s = sub.add_parser("collect", help=cmd_collect.__doc__)
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="source names (file names in sources/ without .toml)")
    s.set_defaults(func=cmd_collect)

    s = sub.add_parser("run", help=cmd_run.__doc__)
    s.add_argument("--now", action="store_true", help="also run every job once at start")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("status", help=cmd_status.__doc__)
    s.add_argument("--json", action="store_true", help="one JSON object")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("sources", help="declared sources and source kinds")
    ssub = s.add_subparsers(dest="sources_command", required=True, metavar="SUBCOMMAND")
    ssub.add_parser("list", help=cmd_sources_list.__doc__).set_defaults(func=cmd_sources_list)
    ssub.add_parser("kinds", help=cmd_sources_kinds.__doc__).set_defaults(func=cmd_sources_kinds)
    s = sub.add_parser("consortia", help=cmd_consortia.__doc__)
    s.add_argument("notice", metavar="NOTICE", help="notice id, e.g. seao:1234567")
    s.add_argument("--max-size", type=int, default=4, choices=range(2, 7), metavar="N", help="team size, 2 to 6 (default 4)")
    s.add_argument("--at", type=_at, default="published", help="judge as on: published (default), now, or YYYY-MM-DD")
    s.add_argument("--json", action="store_true", help="the proposal as one JSON object")
    s.set_defaults(func=cmd_consortia)

    s = sub.add_parser("buyers", help=cmd_buyers.__doc__)
    s.add_argument("enterprise", metavar="ENTERPRISE", help="enterprise id")
    s.add_argument("--years", type=int, default=3, help="history window in years (default 3)")
    s.add_argument("--at", type=_date, help="as of this date YYYY-MM-DD (default today)")
    s.add_argument("--limit", type=int, default=20, help="at most N buyers (default 20)")
    s.add_argument("--json", action="store_true", help="one JSON object per buyer")
    s.set_defaults(func=cmd_buyers)

    s = sub.add_parser("profile", help="enterprise profiles: suggest one from bidding history")
    psub = s.add_subparsers(dest="profile_command", required=True, metavar="SUBCOMMAND")
    r = psub.add_parser("suggest", help=cmd_profile_suggest.__doc__)
    r.add_argument("--neq", action="append", help="the enterprise's NEQ (10 digits); repeat it for several")
    r.add_argument("--csv", help="a CSV of NEQs (a 'neq' column, an optional 'id' column): one draft each in --out")
    r.add_argument("--until", type=_date, help="only bids published before YYYY-MM-DD")
    r.add_argument("--id", help="profile id (default: from the enterprise's name)")
    r.add_argument("--out", help="write the rule file here (default: print it); a folder for several NEQs")
    r.set_defaults(func=cmd_profile_suggest)

    s = sub.add_parser("web", help=cmd_web.__doc__)
    s.add_argument("--host", help="listen address (default [web] host)")
    s.add_argument("--port", type=int, help="port (default [web] port)")
    s.set_defaults(func=cmd_web)
    wsub = s.add_subparsers(dest="web_command", metavar="SUBCOMMAND")
    r = wsub.add_parser("adduser", help=cmd_web_adduser.__doc__)
    r.add_argument("username", help="login name")
    r.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    r.set_defaults(func=cmd_web_adduser)

    s = sub.add_parser("feedback", help="digest feedback: export it as relevance labels")
    fsub = s.add_subparsers(dest="feedback_command", required=True, metavar="SUBCOMMAND")
    r = fsub.add_parser("export", help=cmd_feedback_export.__doc__)
    r.add_argument("--out", help="write to this file (default: standard output)")
    r.set_defaults(func=cmd_feedback_export)
    return p


def _one_line_help(parser: argparse.ArgumentParser) -> None:
    """`watcher --help` lists each command with one line (the first of its docstring); the
    command's own --help shows the whole docstring."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                full = (choice.help or "").strip()
                if full and sub.description is None:
                    sub.description = " ".join(full.split())
                first = " ".join(full.split()).split(". ")[0].rstrip(".")
                for cut in ("; ", ": ", " (", ", "):
                    if len(first) > 60 and cut in first:
                        first = first.split(cut)[0]
                choice.help = first
                _one_line_help(sub)


def main(argv: list[str] | None = None) -> int:
    import logging

    from .redact import RedactingFilter, redact

    logging.basicConfig(level=logging.WARNING, format="watcher: %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    parser = build_parser()
    _one_line_help(parser)
    args = parser.parse_args(argv)
    if args.verbose:  # the project's progress lines (not the libraries': SQLAlchemy would print every query)
        logging.getLogger("watcher").setLevel(logging.INFO)
    try:
        return args.func(args)
    except BrokenPipeError:  # `watcher match ... | head`: the reader left; end quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the final flush at exit cannot fail again
        return 141  # 128 + SIGPIPE, as a C tool killed by the broken pipe would report
    except WatcherError as exc:
        if args.verbose:
            import traceback

            print(redact(traceback.format_exc()), file=sys.stderr, end="")
            return 1
        print(f"watcher: {redact(str(exc))}", file=sys.stderr)
        if exc.hint and not isinstance(exc, RuleErrors):
            print(f"  → {exc.hint}", file=sys.stderr)
        elif isinstance(exc, RuleErrors):
            print(f"  → {exc.hint} (watcher rules check)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug: the traceback is wanted, the passwords are not
        import traceback

        print(redact(traceback.format_exc()), file=sys.stderr, end="")
        return 1


if __name__ == "__main__":
    sys.exit(main())
