"""The coordinators' console and the public pages behind the digest's links (issue 18).

A small server-rendered Starlette application: Jinja2 templates from `templates/web/`, no
JavaScript needed, French first. `create_app(cfg)` builds it; `serve(cfg)` runs it with uvicorn
(`watcher web`, or beside the daemon with `[web] enabled = true`). Routes live in public.py
(feedback, unsubscribe: no login, signed links) and pages.py (the console: login required);
security.py holds passwords, sessions, CSRF and rate limits.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ..config import Config
from ..digest.links import Links
from ..digest.render import MONTREAL, money
from ..errors import ConfigError
from ..store import open_store
from .security import RateLimiter

# No script at all, styles from our own file, nothing framed; tokens ride in URLs, so no Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class Context:
    """What every handler needs: config, store, links, templates, the rate limiter."""

    def __init__(self, cfg: Config, engine: Engine) -> None:
        if not cfg.web.secret or not cfg.web.base_url:
            raise ConfigError("[web] secret and base_url are required to serve the console",
                              hint="set them in config.toml (see config.example.toml)")
        self.cfg, self.engine = cfg, engine
        self.links = Links(cfg.web.secret, cfg.web.base_url)
        self.templates = Jinja2Templates(directory=str(cfg.templates_dir / "web"))
        self.templates.env.filters.update(day=_day, when=_when, money=_money)
        self.limiter = RateLimiter()
        self.rules_lock = threading.Lock()  # one profile write at a time

    def render(self, request: Request, template: str, status: int = 200, **context) -> Response:
        return self.templates.TemplateResponse(request, template, context, status_code=status)


def _day(value) -> str:
    return value.astimezone(MONTREAL).strftime("%Y-%m-%d") if value else "—"


def _when(value) -> str:
    return value.astimezone(MONTREAL).strftime("%Y-%m-%d %H:%M") if value else "—"


def _money(value) -> str:
    return money(value, "fr_CA") if value is not None else "—"


def create_app(cfg: Config, engine: Engine | None = None) -> Starlette:
    from . import pages, public

    ctx = Context(cfg, engine or open_store(cfg.database_url))
    routes = [Route("/healthz", lambda request: Response("ok", media_type="text/plain")),
              *public.routes(ctx), *pages.routes(ctx)]
    https = cfg.web.base_url.lower().startswith("https://")
    middleware = [Middleware(SessionMiddleware, secret_key=cfg.web.secret, session_cookie="watcher_session",
                             max_age=cfg.web.session_minutes * 60, same_site="lax", https_only=https)]
    middleware.append(Middleware(_SecurityHeaders))
    application = Starlette(routes=routes, middleware=middleware)
    application.state.ctx = ctx
    return application


class _SecurityHeaders:
    """Pure ASGI middleware: the headers above on every response, and no caching of pages."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in {**SECURITY_HEADERS, "Cache-Control": "no-store"}.items()
                         if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def server(cfg: Config, engine: Engine | None = None, host: str | None = None, port: int | None = None):
    """A uvicorn Server for the app (run it, or run it in a thread beside the daemon)."""
    import uvicorn

    config = uvicorn.Config(create_app(cfg, engine), host=host or cfg.web.host, port=port or cfg.web.port,
                            proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_level="info",
                            server_header=False)
    return uvicorn.Server(config)
