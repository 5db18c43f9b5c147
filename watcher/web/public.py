"""Pages behind the digest's links, open without login: the signed token is the credential.

GET never changes anything (mail scanners follow links): it shows a one-button form; the POST
records. The one-click unsubscribe POST of RFC 8058 ("List-Unsubscribe=One-Click", sent by the
mail provider without cookies) is accepted as is. Every public route is rate-limited per address.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..digest.links import BadToken
from ..errors import WatcherError
from ..rules import load_enterprises
from ..store import feedback as fb
from ..store import repo
from ..store.feedback import REASONS
from .security import PUBLIC_LIMIT

WORDS = {
    "fr": {"lang": "fr", "title": "Votre avis sur cette occasion", "question": "Cet avis vous concerne-t-il ?",
           "yes": "Pertinent", "no": "Pas pour nous", "why": "Pourquoi ? (facultatif)", "send": "Envoyer",
           "reasons": {"": "—", "trade": "pas notre domaine", "size": "trop gros ou trop petit", "region": "hors de nos régions",
                       "timing": "délai trop court"},
           "thanks": "Merci : votre avis est enregistré. Il aide votre coordonnateur à ajuster votre profil.",
           "change": "Vous pouvez le modifier ci-dessous.",
           "bad": "Ce lien n'est pas valide ou a expiré.", "slow": "Trop de demandes : réessayez dans une minute.",
           "unsub_title": "Se désabonner", "unsub_q": "Ne plus recevoir la veille des marchés publics pour {name} ?",
           "unsub_button": "Me désabonner", "unsub_done": "C'est fait : {name} ne recevra plus de courriel de la veille. "
           "Votre coordonnateur peut vous réinscrire à votre demande."},
    "en": {"lang": "en", "title": "Your opinion on this opportunity", "question": "Is this notice for you?",
           "yes": "Relevant", "no": "Not for us", "why": "Why? (optional)", "send": "Send",
           "reasons": {"": "—", "trade": "not our trade", "size": "too big or too small", "region": "outside our regions",
                       "timing": "too little time"},
           "thanks": "Thank you: your answer is recorded. It helps your coordinator tune your profile.",
           "change": "You can change it below.",
           "bad": "This link is not valid or has expired.", "slow": "Too many requests: try again in a minute.",
           "unsub_title": "Unsubscribe", "unsub_q": "Stop receiving the procurement watch for {name}?",
           "unsub_button": "Unsubscribe me", "unsub_done": "Done: {name} will receive no more mail from the watch. "
           "Your coordinator can subscribe you again if you ask."},
}


def routes(ctx) -> list[Route]:
    def enterprise(ent_id: str):
        try:
            return next((e for e in load_enterprises(ctx.cfg.rules_dir) if e.id == ent_id), None)
        except WatcherError:
            return None

    def words(ent) -> dict:
        return WORDS["en" if ent is not None and ent.language == "en" else "fr"]

    def limited(request: Request) -> Response | None:
        address = request.client.host if request.client else "?"
        if not ctx.limiter.allow(PUBLIC_LIMIT, "public", address):
            return ctx.render(request, "message.html", 429, w=WORDS["fr"], text=WORDS["fr"]["slow"] + " / " + WORDS["en"]["slow"])
        return None

    def bad(request: Request) -> Response:
        return ctx.render(request, "message.html", 403, w=WORDS["fr"], text=WORDS["fr"]["bad"] + " / " + WORDS["en"]["bad"])

    async def feedback(request: Request) -> Response:
        if (slow := limited(request)) is not None:
            return slow
        try:
            ent_id, notice_id = ctx.links.read_feedback(request.path_params["token"])
        except BadToken:
            return bad(request)
        with ctx.engine.connect() as conn:
            found = list(repo.load_notices(conn, ids=[notice_id]))
        if not found:
            return bad(request)
        ent = enterprise(ent_id)
        w = words(ent)
        done = False
        vote = request.query_params.get("v", "1") != "0"
        reason = ""
        if request.method == "POST":
            form = await request.form()
            vote = form.get("vote") != "0"
            reason = str(form.get("reason") or "")
            reason = reason if reason in REASONS else ""
            with ctx.engine.begin() as conn:
                fb.record_feedback(conn, ent_id, notice_id, vote, reason or None, via="mail")
            done = True
        return ctx.render(request, "feedback.html", w=w, notice=found[0], name=ent.name if ent else ent_id,
                          vote=vote, reason=reason, done=done)

    async def unsubscribe(request: Request) -> Response:
        if (slow := limited(request)) is not None:
            return slow
        try:
            ent_id = ctx.links.read_unsubscribe(request.path_params["token"])
        except BadToken:
            return bad(request)
        ent = enterprise(ent_id)
        w = words(ent)
        done = False
        if request.method == "POST":  # RFC 8058 one-click, or the button of the page below
            form = await request.form()
            via = "one-click" if form.get("List-Unsubscribe") == "One-Click" else "page"
            with ctx.engine.begin() as conn:
                fb.unsubscribe(conn, ent_id, via)
            done = True
        return ctx.render(request, "unsubscribe.html", w=w, name=ent.name if ent else ent_id, done=done)

    return [Route("/f/{token}", feedback, methods=["GET", "POST"]),
            Route("/u/{token}", unsubscribe, methods=["GET", "POST"])]
