"""The coordinators' console: every page needs a login, every POST the session's CSRF token.

Handlers only read the request, call watcher.console / watcher.app, and render a template;
backtests run in a worker thread so one coordinator's diff does not stall the others' pages.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from tomlkit.exceptions import TOMLKitError
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import app, console
from ..codes import CATEGORIES, METHOD_LABELS, REGIONS
from ..errors import RuleErrors, WatcherError
from ..store import feedback as fb
from ..store import repo
from ..store.console import search_notice_ids
from ..store.feedback import REASONS
from ..rules.edit import FORM_FIELDS, apply_form, form_values
from ..store.runs import statuses
from .security import LOGIN_LIMIT, check_password, csrf_ok, csrf_token, session_user, start_session


MAX_TEAMS = 5  # consortium notices whose teams an enterprise page works out (each is a search)


def routes(ctx) -> list[Route]:
    minutes = ctx.cfg.web.session_minutes

    def page(request: Request, template: str, status: int = 200, **context) -> Response:
        if template == "edit.html":
            context["fields"] = _fields(context["text"])
        return ctx.render(request, template, status, user=session_user(request.session, minutes),
                          csrf=csrf_token(request.session), regions=REGIONS, categories=CATEGORIES,
                          methods=METHOD_LABELS, **context)

    def guard(handler):
        """Login for every console route; on POST, the session's CSRF token too (else 403, nothing done)."""
        async def wrapped(request: Request) -> Response:
            user = session_user(request.session, minutes)
            if not user:
                if request.method != "GET":
                    return page(request, "message.html", 403, text="Connexion requise / login required")
                return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
            form = None
            if request.method == "POST":
                form = await request.form()
                if not csrf_ok(request.session, form.get("csrf")):
                    return page(request, "message.html", 403,
                                text="Jeton CSRF manquant ou invalide : rechargez la page / missing or invalid CSRF token")
            return await handler(request, user, form)
        return wrapped

    def rulebook():
        return app.load_rulebook(ctx.cfg)

    async def css(request: Request) -> Response:
        return FileResponse(ctx.cfg.templates_dir / "web" / "console.css", media_type="text/css")

    async def login(request: Request) -> Response:
        target = request.query_params.get("next", "/console")
        target = target if target.startswith("/") and not target.startswith("//") else "/console"
        if request.method == "GET":
            return page(request, "login.html", next=target)
        form = await request.form()
        if not csrf_ok(request.session, form.get("csrf")):
            return page(request, "login.html", 403, next=target, error="Jeton CSRF invalide : rechargez la page / invalid CSRF token")
        username = str(form.get("username") or "").strip()
        address = request.client.host if request.client else "?"
        if not ctx.limiter.allow(LOGIN_LIMIT, "login", address):
            return page(request, "login.html", 429, next=target, error="Trop d'essais : attendez une minute / too many attempts")
        with ctx.engine.connect() as conn:
            stored = fb.password_hash(conn, username)
        if not await run_in_threadpool(check_password, stored, str(form.get("password") or "")):
            return page(request, "login.html", 401, next=target, error="Identifiant ou mot de passe incorrect / wrong user or password")
        start_session(request.session, username)  # a fresh session and CSRF token: no fixation
        return RedirectResponse(target, status_code=303)

    @guard
    async def logout(request: Request, user: str, form) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @guard
    async def home(request: Request, user: str, form) -> Response:
        with ctx.engine.connect() as conn:
            sources = statuses(conn)
        return page(request, "home.html", sources=sources, week=console.week_overview(ctx.engine),
                    precision=console.weekly_precision(ctx.engine), max_failures=ctx.cfg.daemon.max_failures)

    @guard
    async def notices(request: Request, user: str, form) -> Response:
        q = request.query_params
        fields = {k: q.get(k, "").strip() for k in ("q", "buyer", "region", "code", "since", "until")}
        found, error = [], ""
        if any(fields.values()):
            try:
                since = _day(fields["since"])
                until = _day(fields["until"])
            except ValueError:
                error = "Date invalide (AAAA-MM-JJ) / invalid date (YYYY-MM-DD)"
            else:
                with ctx.engine.connect() as conn:
                    ids = search_notice_ids(conn, fields["q"], fields["buyer"], fields["region"], fields["code"], since, until)
                    found = list(repo.load_notices(conn, ids=ids))
        else:
            with ctx.engine.connect() as conn:
                found = list(repo.load_notices(conn, limit=30))
        return page(request, "notices.html", fields=fields, found=found, error=error, searched=any(fields.values()))

    @guard
    async def notice(request: Request, user: str, form) -> Response:
        notice_id = request.path_params["notice_id"]
        try:
            n, pairs, facts = await run_in_threadpool(console.notice_verdicts, ctx.engine, rulebook(), notice_id)
        except WatcherError as exc:
            return page(request, "message.html", 404, text=str(exc))
        with ctx.engine.connect() as conn:
            votes = {r["enterprise_id"]: r for r in fb.feedback_rows(conn) if r["notice_id"] == notice_id}
        return page(request, "notice.html", n=n, pairs=pairs, facts=facts, votes=votes, reasons=REASONS,
                    url=n.url if n.url and n.url.lower().startswith(("https://", "http://")) else None)

    @guard
    async def vote(request: Request, user: str, form) -> Response:
        notice_id, ent_id = str(form.get("notice", "")), str(form.get("enterprise", ""))
        reason = str(form.get("reason") or "")
        if rulebook().enterprise(ent_id) is None:
            return page(request, "message.html", 404, text="Entreprise inconnue / unknown enterprise")
        with ctx.engine.begin() as conn:
            if not list(repo.load_notices(conn, ids=[notice_id])):
                return page(request, "message.html", 404, text="Avis inconnu / unknown notice")
            fb.record_feedback(conn, ent_id, notice_id, form.get("vote") == "1", reason if reason in REASONS else None,
                               via=f"console:{user}"[:20])
        return RedirectResponse(f"/console/notices/{quote(notice_id)}", status_code=303)

    @guard
    async def enterprises(request: Request, user: str, form) -> Response:
        with ctx.engine.connect() as conn:
            stopped = fb.unsubscribed(conn)
            open_proposals = fb.proposal_rows(conn, status="open")
        waiting = {}
        for p in open_proposals:
            waiting[p["enterprise_id"]] = waiting.get(p["enterprise_id"], 0) + 1
        return page(request, "enterprises.html", ents=rulebook().enterprises, stopped=stopped, waiting=waiting)

    @guard
    async def enterprise(request: Request, user: str, form) -> Response:
        ent_id = request.path_params["ent"]
        book = rulebook()
        ent = book.enterprise(ent_id)
        if ent is None:
            return page(request, "message.html", 404, text="Entreprise inconnue / unknown enterprise")

        def gather():
            found = [(n, m) for n, m in app.matches(ctx.engine, book, enterprise_id=ent_id)][:60]
            hist = app.history(ctx.engine)
            dates = [n.published_at for n in hist if n.published_at]
            as_of = min(max(dates), datetime.now(timezone.utc)) if dates else datetime.now(timezone.utc)
            from ..match.buyers import buyer_leads

            wanted = [n.id for n, m in found if m.verdict == "consortium"][:MAX_TEAMS]
            teams = {i: app.consortia(ctx.engine, book, i) for i in wanted}
            return found, buyer_leads(hist, ent, as_of)[:10], as_of, teams

        found, leads, as_of, teams = await run_in_threadpool(gather)
        with ctx.engine.connect() as conn:
            votes = fb.feedback_rows(conn, ent_id)
            proposals = fb.proposal_rows(conn, ent_id)
            edits = fb.edits(conn, ent_id)
            stopped = fb.unsubscribed(conn).get(ent_id)
        return page(request, "enterprise.html", ent=ent, found=found, leads=leads, as_of=as_of, votes=votes, teams=teams,
                    proposals=proposals, edits=edits, stopped=stopped, flash=request.query_params.get("ok", ""))

    @guard
    async def edit(request: Request, user: str, form) -> Response:
        ent_id = request.path_params["ent"]
        book = rulebook()
        installed = book.enterprise(ent_id)
        if installed is None:
            return page(request, "message.html", 404, text="Entreprise inconnue / unknown enterprise")
        path = console.profile_path(ctx.cfg.rules_dir, ent_id)
        if form is None:
            return page(request, "edit.html", ent=installed, text=path.read_text(encoding="utf-8"), errors=[], diff=None, checked="",
                        lines=[])
        text = str(form.get("text", "")).replace("\r\n", "\n")
        if form.get("action") == "form":  # the form's fields written into the TOML (comments kept), then checked
            try:
                text = apply_form(text, {k: str(form.get(f"f:{k}", "")) for k, _ in FORM_FIELDS})
            except (TOMLKitError, ValueError):
                pass  # the TOML itself is broken: the check below names its line
        digest = hashlib.sha256(text.encode()).hexdigest()
        profile, errors = console.check_profile(ctx.cfg, ent_id, text)
        if errors:
            return page(request, "edit.html", 422, ent=installed, text=text, errors=errors, diff=None, checked="",
                        lines=text.splitlines())
        if form.get("action") == "save":
            if form.get("checked") != digest:  # the diff shown must be the diff of what is saved
                return page(request, "edit.html", 409, ent=installed, text=text, errors=[], diff=None, checked="", lines=[],
                            error="Vérifiez d'abord la différence de ce texte / check this text's diff first")
            with ctx.rules_lock:
                await run_in_threadpool(console.save_profile_text, ctx.engine, ctx.cfg, ent_id, text, user,
                                        str(form.get("summary") or "")[:300])
            return RedirectResponse(f"/console/enterprises/{quote(ent_id)}?ok=saved", status_code=303)
        (diff,) = await run_in_threadpool(console.diffs, ctx.engine, book, installed, [profile])
        return page(request, "edit.html", ent=installed, text=text, errors=[], diff=diff, checked=digest, lines=[])

    @guard
    async def propose(request: Request, user: str, form) -> Response:
        ent_id = request.path_params["ent"]
        try:
            made = await run_in_threadpool(console.refresh_proposals, ctx.engine, ctx.cfg, rulebook(), ent_id)
        except (WatcherError, RuleErrors) as exc:
            return page(request, "message.html", 400, text=str(exc))
        return RedirectResponse(f"/console/enterprises/{quote(ent_id)}?ok=proposals-{made}", status_code=303)

    @guard
    async def decide(request: Request, user: str, form) -> Response:
        pid = int(request.path_params["pid"])
        with ctx.engine.connect() as conn:
            p = fb.proposal(conn, pid)
        if p is None:
            return page(request, "message.html", 404, text="Proposition inconnue / unknown proposal")
        try:
            with ctx.rules_lock:
                await run_in_threadpool(console.decide, ctx.engine, ctx.cfg, pid, form.get("action") == "accept", user)
        except WatcherError as exc:
            return page(request, "message.html", 409, text=str(exc))
        return RedirectResponse(f"/console/enterprises/{quote(p['enterprise_id'])}?ok={form.get('action')}", status_code=303)

    @guard
    async def preview(request: Request, user: str, form) -> Response:
        """The digest this enterprise would receive now, as `digest --preview` writes it (nothing sent or recorded)."""
        ent_id = request.path_params["ent"]
        book = rulebook()
        if book.enterprise(ent_id) is None:
            return page(request, "message.html", 404, text="Entreprise inconnue / unknown enterprise")

        # ?at=published replays history (each notice as on its publication day), like `digest --at published`
        live = request.query_params.get("at") != "published"

        def build() -> str | None:
            with tempfile.TemporaryDirectory() as tmp:
                done = app.run_digests(ctx.engine, ctx.cfg, book, preview_dir=Path(tmp), only=[ent_id],
                                       judge_now=datetime.now(timezone.utc) if live else None)
                return Path(done[0].where).with_suffix(".html").read_text(encoding="utf-8") if done else None

        html = await run_in_threadpool(build)
        if html is None:
            return page(request, "message.html", text="Rien à envoyer cette semaine / nothing to send this week")
        # the mail's own inline styles, still no script and no framing
        return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                      "frame-ancestors 'none'; base-uri 'none'"})

    @guard
    async def resubscribe(request: Request, user: str, form) -> Response:
        ent_id = request.path_params["ent"]
        with ctx.engine.begin() as conn:
            fb.resubscribe(conn, ent_id)
        return RedirectResponse(f"/console/enterprises/{quote(ent_id)}?ok=resubscribed", status_code=303)

    return [
        Route("/static/console.css", css),
        Route("/", lambda request: RedirectResponse("/console", status_code=303)),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/console", home),
        Route("/console/notices", notices),
        Route("/console/notices/{notice_id:path}", notice),
        Route("/console/feedback", vote, methods=["POST"]),
        Route("/console/enterprises", enterprises),
        Route("/console/enterprises/{ent}", enterprise),
        Route("/console/enterprises/{ent}/edit", edit, methods=["GET", "POST"]),
        Route("/console/enterprises/{ent}/proposals", propose, methods=["POST"]),
        Route("/console/enterprises/{ent}/resubscribe", resubscribe, methods=["POST"]),
        Route("/console/enterprises/{ent}/preview", preview),
        Route("/console/proposals/{pid:int}", decide, methods=["POST"]),
    ]


FIELD_LABELS = {"name": "Nom", "emails": "Courriels (un par ligne)", "match.keywords": "Mots-clés (un par ligne ; * = préfixe)",
                "match.exclude": "Mots exclus (un par ligne)", "match.regions": "Régions (01 à 17, ou *)",
                "match.categories": "Catégories SEAO", "match.unspsc": "Préfixes UNSPSC", "capacity.min_value": "Valeur minimale ($)",
                "capacity.max_value": "Valeur maximale ($)"}


def _fields(text: str) -> list[tuple[str, str, str, str]]:
    """(key, label, kind, value) of the form, read from the TOML; none when the TOML does not parse."""
    try:
        values = form_values(text)
    except (TOMLKitError, ValueError):
        return []
    return [(k, FIELD_LABELS[k], kind, values[k]) for k, kind in FORM_FIELDS]


def _day(value: str) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc) if value else None
