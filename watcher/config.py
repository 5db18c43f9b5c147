"""Load and validate config.toml once. Nothing else in watcher reads files or the environment for settings.

Relative paths are resolved against the folder of the config file (the current folder when
running on the embedded defaults), so a checkout runs as is.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import redact
from .errors import ConfigError
from .tomlpos import key_line


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr, a log or a traceback
    starttls: bool = False
    ssl: bool = False  # implicit TLS (port 465)
    timeout: float = 30.0
    connections: int = 2  # SMTP connections used at once by a run (each sends many mails)
    retries: int = 3  # more tries after a refused connection or a 4xx, within the run
    retry_delay: float = 5.0  # seconds before the 2nd try, doubled each time (5, 10, 20 s)


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
    profile_help_en: str = "To change your profile, write to your regional coordinator."  # English digests


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
    retry_schedule: str = "*/15 * * * *"  # cron: digests that failed for a temporary reason are tried again
    retry_hours: float = 48.0  # after that long a temporary delivery failure is given up (reported)
    log_format: str = "text"  # text | json (one object per line)
    log_level: str = "INFO"


@dataclass(frozen=True)
class MetricsConfig:
    port: int = 0  # > 0: Prometheus endpoint on http://address:port/metrics while `watcher run` runs
    address: str = "127.0.0.1"
    textfile: Path | None = None  # a .prom file for the node exporter's textfile collector


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
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    path: Path | None = None  # the file this came from; None for the embedded defaults


# Allowed keys per table, with their expected types. Unknown keys are errors (typos must show).
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"url": str, "password_file": str},
    "paths": {"sources": str, "rules": str, "templates": str},
    "delivery": {"backend": str, "outbox": str, "sender": str, "reply_to": str, "smtp": dict},
    "delivery.smtp": {
        "host": str, "port": int, "user": str, "password": str, "password_file": str,
        "starttls": bool, "ssl": bool, "timeout": (int, float), "connections": int,
        "retries": int, "retry_delay": (int, float),
    },
    "digest": {"language": str, "max_items": int, "profile_help": str, "profile_help_en": str},
    "fetch": {"user_agent": str, "timeout": (int, float), "max_bytes": int, "min_interval": (int, float),
              "retries": int, "respect_robots": bool, "deadline": (int, float)},
    "daemon": {"digest_schedule": str, "max_failures": int, "coordinator_email": str, "standby_poll": (int, float),
               "retry_schedule": str, "retry_hours": (int, float), "log_format": str, "log_level": str},
    "metrics": {"port": int, "address": str, "textfile": str},
    "web": {"enabled": bool, "host": str, "port": int, "secret": str, "base_url": str, "session_minutes": int},
}

# Secrets may live outside config.toml: systemd credentials (LoadCredential=, read from
# $CREDENTIALS_DIRECTORY), then the environment. A `password_file` key wins over both.
SECRETS = {"smtp": ("smtp_password", "WATCHER_SMTP_PASSWORD"), "database": ("database_password", "WATCHER_DATABASE_PASSWORD")}
log = logging.getLogger("watcher.config")


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
    redact.register(_url_password(data.get("database", {}).get("url", "")))
    _warn_if_readable(path, data)
    return _resolve(_build(path, text, data), path.resolve().parent)


def _warn_if_readable(path: Path, data: dict[str, Any]) -> None:
    """A password written in config.toml must not be readable by every local user."""
    smtp = data.get("delivery", {}).get("smtp", {})
    url = data.get("database", {}).get("url", "")
    if not (smtp.get("password") or _url_password(url)):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o004:
        log.warning("%s contient un mot de passe et est lisible par tous / holds a password and is readable by "
                    "every user: chmod 640 %s, or move it to password_file / $CREDENTIALS_DIRECTORY", path, path)


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None


def _secret(path: Path, text: str, dotted: str, inline: str | None, file_value: str | None, kind: str) -> str | None:
    """The password: inline in config.toml, else `password_file` (relative to the config's folder),
    else $CREDENTIALS_DIRECTORY/<credential> (systemd LoadCredential=), else the environment."""
    value = _find_secret(path, text, dotted, inline, file_value, kind)
    redact.register(value)
    return value


def _find_secret(path: Path, text: str, dotted: str, inline: str | None, file_value: str | None, kind: str) -> str | None:
    credential, env = SECRETS[kind]
    if inline:
        return inline
    candidates = []
    if file_value:
        candidates.append(Path(file_value) if Path(file_value).is_absolute() else path.resolve().parent / file_value)
    elif os.environ.get("CREDENTIALS_DIRECTORY"):
        found = Path(os.environ["CREDENTIALS_DIRECTORY"]) / credential
        if found.exists():
            candidates.append(found)
    for candidate in candidates:
        try:
            return candidate.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            _fail(path, text, dotted, f"cannot read {candidate}: {exc.strerror}")
    return os.environ.get(env) or None


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
    if not url.startswith("sqlite") and not _url_password(url):
        db_password = _secret(path, text, "database.password_file", None, db.get("password_file"), "database")
        if db_password:
            from sqlalchemy.engine import make_url

            url = make_url(url).set(password=db_password).render_as_string(hide_password=False)
    for key in ("retry_schedule", "digest_schedule"):
        if key in data.get("daemon", {}):
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(data["daemon"][key])
            except ValueError as exc:
                _fail(path, text, f"daemon.{key}", f"invalid cron (minute hour day month weekday): {exc}")
    dm_ = data.get("daemon", {})
    if dm_.get("log_format", "text") not in ("text", "json"):
        _fail(path, text, "daemon.log_format", f"{dm_['log_format']!r} is not allowed (allowed: text, json)")
    if str(dm_.get("log_level", "INFO")).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        _fail(path, text, "daemon.log_level", f"{dm_['log_level']!r} is not allowed (allowed: DEBUG, INFO, WARNING, ERROR)")
    if smtp.get("retries", 0) < 0 or smtp.get("retries", 0) > 10:
        _fail(path, text, "delivery.smtp.retries", "must be between 0 and 10")
    mt = data.get("metrics", {})
    if "port" in mt and not 0 <= mt["port"] < 65536:
        _fail(path, text, "metrics.port", "must be between 0 (off) and 65535")
    defaults = DigestConfig()
    fe, dm = data.get("fetch", {}), data.get("daemon", {})
    if dm.get("max_failures", 1) < 1:
        _fail(path, text, "daemon.max_failures", "must be 1 or more")
    web = _web(path, text, data.get("web", {}))
    redact.register(web.secret)
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
                password=_secret(path, text, "delivery.smtp.password_file", smtp.get("password"),
                                 smtp.get("password_file"), "smtp"),
                starttls=smtp.get("starttls", False),
                ssl=smtp.get("ssl", False),
                timeout=float(smtp.get("timeout", 30.0)),
                connections=smtp.get("connections", 2),
                retries=smtp.get("retries", SmtpConfig.retries),
                retry_delay=float(smtp.get("retry_delay", SmtpConfig.retry_delay)),
            ),
        ),
        digest=DigestConfig(
            language=language,
            max_items=dg.get("max_items", defaults.max_items),
            profile_help=dg.get("profile_help", defaults.profile_help),
            profile_help_en=dg.get("profile_help_en", defaults.profile_help_en),
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
            retry_schedule=dm.get("retry_schedule", daemon_defaults.retry_schedule),
            retry_hours=float(dm.get("retry_hours", daemon_defaults.retry_hours)),
            log_format=dm.get("log_format", daemon_defaults.log_format),
            log_level=str(dm.get("log_level", daemon_defaults.log_level)).upper(),
        ),
        metrics=MetricsConfig(port=mt.get("port", 0), address=mt.get("address", "127.0.0.1"),
                              textfile=Path(mt["textfile"]) if "textfile" in mt else None),
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
        metrics=replace(cfg.metrics, textfile=rel(cfg.metrics.textfile) if cfg.metrics.textfile else None),
    )
