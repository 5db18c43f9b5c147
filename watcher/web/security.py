"""Console accounts, sessions, CSRF and rate limits: the few rules that keep the console writable
only by a logged-in coordinator, and the public links cheap to abuse for nobody.

- Passwords: argon2id (argon2-cffi), never stored nor logged in clear.
- Sessions: Starlette's signed cookie (itsdangerous), HttpOnly, SameSite=Lax, Secure behind https;
  the login time is inside, and a session older than `[web] session_minutes` is void whatever the
  cookie's own age says.
- CSRF: one random token per session, in a hidden field of every console form, compared in
  constant time on every POST; a POST without the session's token is refused (403).
- Rate limits (the `limits` library, moving window, per client address): public feedback and
  unsubscribe pages, and login attempts.
"""

from __future__ import annotations

import hmac
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password: equalises the time of unknown users")

PUBLIC_LIMIT = parse("30/minute")  # per address: a person clicks a few links, a scanner many
LOGIN_LIMIT = parse("10/minute")  # per address: slows password guessing


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("le mot de passe doit avoir au moins 10 caractères / the password needs 10 characters or more")
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user costs the same time as a wrong password."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class RateLimiter:
    """In-process moving windows: one daemon serves the console, so memory is the right store."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, limit, *keys: str) -> bool:
        return self._limiter.hit(limit, *keys)


def start_session(session: dict, username: str) -> None:
    session.clear()
    session.update(user=username, login_at=int(time.time()), csrf=secrets.token_urlsafe(32))


def session_user(session: dict, max_minutes: int) -> str | None:
    """The logged-in user, or None (no session, or one older than `max_minutes`: it is cleared)."""
    user, at = session.get("user"), session.get("login_at")
    if not user or not isinstance(at, int):
        return None
    if time.time() - at > max_minutes * 60:
        session.clear()
        return None
    return user


def csrf_token(session: dict) -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))
