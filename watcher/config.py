"""Load and validate config.toml once. Nothing else in watcher reads files or the environment for settings.

Relative paths are resolved against the folder of the config file (the current folder when
running on the embedded defaults), so a checkout runs as is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .tomlpos import key_line


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False  # implicit TLS (port 465)
    timeout: float = 30.0
    connections: int = 2  # SMTP connections used at once by a run (each sends many mails)


@dataclass(frozen=True)
class DeliveryConfig:
    backend: str = "outbox"  # "outbox" | "smtp"
    outbox: Path = Path("outbox")
    sender: str = "Veille des marchés publics <veille@example.org>"
    reply_to: str | None = None
    smtp: SmtpConfig = field(default_factory=SmtpConfig)


@dataclass(frozen=True)
class DigestConfig:
    language: str = "fr"  # default language of mails when a profile does not say
    max_items: int = 25  # per digest; the rest waits for the next one
    profile_help: str = "Pour modifier votre profil, écrivez à votre coordonnateur régional."


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = "watcher/0.1 (veille des marches publics; +mailto:veille@example.org)"  # HTTP headers are ASCII
    timeout: float = 60.0
    max_bytes: int = 200 * 1024 * 1024
    min_interval: float = 2.0  # seconds between two requests to the same host
    retries: int = 3
    respect_robots: bool = True
    deadline: float = 900.0  # seconds one download may take in all, retries and slow bodies included


@dataclass(frozen=True)
class DaemonConfig:
    digest_schedule: str = "0 7 * * mon"  # cron, America/Montreal: Monday 7:00
    max_failures: int = 3  # consecutive failures before status exits non-zero and the coordinator is alerted
    coordinator_email: str | None = None
    standby_poll: float = 30.0  # seconds between two tries of a standby daemon (PostgreSQL)


@dataclass(frozen=True)
class WebConfig:
    """The coordinators' console and the public feedback/unsubscribe links (watcher/web/)."""

    enabled: bool = False  # off unless asked: `watcher run` then serves it too
    host: str = "127.0.0.1"  # behind a reverse proxy, keep it on the loopback
    port: int = 8080
    secret: str | None = None  # signs digest links and session cookies; required when enabled
    base_url: str | None = None  # public address digest links point to, e.g. https://veille.example.org
    session_minutes: int = 480  # a console session ends this long after login


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///watcher.db"
    sources_dir: Path = Path("sources")
    rules_dir: Path = Path("rules")
    templates_dir: Path = Path("templates")
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    web: WebConfig = field(default_factory=WebConfig)
    path: Path | None = None  # the file this came from; None for the embedded defaults


# Allowed keys per table, with their expected types. Unknown keys are errors (typos must show).
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"url": str},
    "paths": {"sources": str, "rules": str, "templates": str},
    "delivery": {"backend": str, "outbox": str, "sender": str, "reply_to": str, "smtp": dict},
    "delivery.smtp": {
        "host": str, "port": int, "user": str, "password": str,
        "starttls": bool, "ssl": bool, "timeout": (int, float), "connections": int,
    },
    "digest": {"language": str, "max_items": int, "profile_help": str},
    "fetch": {"user_agent": str, "timeout": (int, float), "max_bytes": int, "min_interval": (int, float),
              "retries": int, "respect_robots": bool, "deadline": (int, float)},
    "daemon": {"digest_schedule": str, "max_failures": int, "coordinator_email": str, "standby_poll": (int, float)},
    "web": {"enabled": bool, "host": str, "port": int, "secret": str, "base_url": str, "session_minutes": int},
}


def load_config(path: str | Path | None = None, base: Path | None = None) -> Config:
    """Read `path` (or return the embedded defaults when None), checking every key and type."""
    if path is None:
        root = (base or Path.cwd()).resolve()
        return _resolve(Config(), root)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    _check(path, text, data, "")
    return _resolve(_build(path, text, data), path.resolve().parent)


def _check(path: Path, text: str, data: dict[str, Any], prefix: str) -> None:
    tables = {k for k in _SCHEMA if "." not in k} if not prefix else set()
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if not prefix:
            if key not in tables:
                _fail(path, text, dotted, f"unknown table (allowed: {', '.join(sorted(tables))})")
            if not isinstance(value, dict):
                _fail(path, text, dotted, "must be a table [" + key + "]")
            _check_table(path, text, key, value)


def _check_table(path: Path, text: str, table: str, data: dict[str, Any]) -> None:
    allowed = _SCHEMA[table]
    for key, value in data.items():
        dotted = f"{table}.{key}"
        if key not in allowed:
            _fail(path, text, dotted, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        expected = allowed[key]
        if expected is dict:
            if not isinstance(value, dict):
                _fail(path, text, dotted, "must be a table")
            _check_table(path, text, dotted, value)
            continue
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not ok:
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            _fail(path, text, dotted, f"must be {names}, not {type(value).__name__} ({value!r})")


def _fail(path: Path, text: str, dotted: str, message: str) -> None:
    line = key_line(text, dotted)
    where = f"{path}:{line}" if line else str(path)
    raise ConfigError(f"{where}: {dotted}: {message}")


def _build(path: Path, text: str, data: dict[str, Any]) -> Config:
    db = data.get("database", {})
    paths = data.get("paths", {})
    dl = data.get("delivery", {})
    smtp = dl.get("smtp", {})
    dg = data.get("digest", {})
    backend = dl.get("backend", "outbox")
    if backend not in ("outbox", "smtp"):
        _fail(path, text, "delivery.backend", f"{backend!r} is not allowed (allowed: outbox, smtp)")
    language = dg.get("language", "fr")
    if language not in ("fr", "en"):
        _fail(path, text, "digest.language", f"{language!r} is not allowed (allowed: fr, en)")
    if dg.get("max_items", 1) < 1:
        _fail(path, text, "digest.max_items", "must be 1 or more")
    if not data.get("fetch", {}).get("user_agent", "").isascii():
        _fail(path, text, "fetch.user_agent", "HTTP headers take ASCII only: write it without accents")
    if "connections" in smtp and not 1 <= smtp["connections"] <= 16:
        _fail(path, text, "delivery.smtp.connections", "must be between 1 and 16")
    if "port" in smtp and not 0 < smtp["port"] < 65536:
        _fail(path, text, "delivery.smtp.port", "must be between 1 and 65535")
    if smtp.get("starttls") and smtp.get("ssl"):
        _fail(path, text, "delivery.smtp.ssl", "starttls and ssl exclude each other: choose one")
    url = db.get("url", Config.database_url)
    if "://" not in url:
        _fail(path, text, "database.url", f"{url!r} is not a database URL (e.g. sqlite:///watcher.db, postgresql+psycopg://user@host/db)")
    defaults = DigestConfig()
    fe, dm = data.get("fetch", {}), data.get("daemon", {})
    if dm.get("max_failures", 1) < 1:
        _fail(path, text, "daemon.max_failures", "must be 1 or more")
    if "digest_schedule" in dm:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(dm["digest_schedule"])
        except ValueError as exc:
            _fail(path, text, "daemon.digest_schedule", f"invalid cron (minute hour day month weekday): {exc}")
    web = _web(path, text, data.get("web", {}))
    fetch_defaults, daemon_defaults = FetchConfig(), DaemonConfig()
    return Config(
        database_url=url,
        sources_dir=Path(paths.get("sources", "sources")),
        rules_dir=Path(paths.get("rules", "rules")),
        templates_dir=Path(paths.get("templates", "templates")),
        delivery=DeliveryConfig(
            backend=backend,
            outbox=Path(dl.get("outbox", "outbox")),
            sender=dl.get("sender", DeliveryConfig.sender),
            reply_to=dl.get("reply_to"),
            smtp=SmtpConfig(
                host=smtp.get("host", "localhost"),
                port=smtp.get("port", 465 if smtp.get("ssl") else 25),
                user=smtp.get("user"),
                password=smtp.get("password"),
                starttls=smtp.get("starttls", False),
                ssl=smtp.get("ssl", False),
                timeout=float(smtp.get("timeout", 30.0)),
                connections=smtp.get("connections", 2),
            ),
        ),
        digest=DigestConfig(
            language=language,
            max_items=dg.get("max_items", defaults.max_items),
            profile_help=dg.get("profile_help", defaults.profile_help),
        ),
        fetch=FetchConfig(
            user_agent=fe.get("user_agent", fetch_defaults.user_agent),
            timeout=float(fe.get("timeout", fetch_defaults.timeout)),
            max_bytes=fe.get("max_bytes", fetch_defaults.max_bytes),
            min_interval=float(fe.get("min_interval", fetch_defaults.min_interval)),
            retries=fe.get("retries", fetch_defaults.retries),
            respect_robots=fe.get("respect_robots", fetch_defaults.respect_robots),
            deadline=float(fe.get("deadline", fetch_defaults.deadline)),
        ),
        daemon=DaemonConfig(
            digest_schedule=dm.get("digest_schedule", daemon_defaults.digest_schedule),
            max_failures=dm.get("max_failures", daemon_defaults.max_failures),
            coordinator_email=dm.get("coordinator_email"),
            standby_poll=float(dm.get("standby_poll", daemon_defaults.standby_poll)),
        ),
        web=web,
        path=path,
    )


def _web(path: Path, text: str, wb: dict[str, Any]) -> WebConfig:
    """[web]: a secret long enough to sign links, and an absolute http(s) base_url, when enabled."""
    defaults = WebConfig()
    if "port" in wb and not 0 < wb["port"] < 65536:
        _fail(path, text, "web.port", "must be between 1 and 65535")
    if wb.get("session_minutes", 1) < 1:
        _fail(path, text, "web.session_minutes", "must be 1 or more")
    base = wb.get("base_url")
    if base is not None and not base.lower().startswith(("https://", "http://")):
        _fail(path, text, "web.base_url", f"{base!r} must be an absolute http(s) address, e.g. https://veille.example.org")
    secret = wb.get("secret")
    if secret is not None and len(secret) < 32:
        _fail(path, text, "web.secret", "at least 32 characters (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if wb.get("enabled"):
        for key, value in (("secret", secret), ("base_url", base)):
            if not value:
                _fail(path, text, "web.enabled", f"web.{key} is required when the console is enabled")
    return WebConfig(enabled=wb.get("enabled", False), host=wb.get("host", defaults.host), port=wb.get("port", defaults.port),
                     secret=secret, base_url=base.rstrip("/") if base else None,
                     session_minutes=wb.get("session_minutes", defaults.session_minutes))


def _resolve(cfg: Config, root: Path) -> Config:
    """Make relative paths absolute against `root`; a relative SQLite file too."""
    def rel(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    url = cfg.database_url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        url = prefix + str(root / url[len(prefix):])
    from dataclasses import replace

    return replace(
        cfg,
        database_url=url,
        sources_dir=rel(cfg.sources_dir),
        rules_dir=rel(cfg.rules_dir),
        templates_dir=rel(cfg.templates_dir),
        delivery=replace(cfg.delivery, outbox=rel(cfg.delivery.outbox)),
    )
