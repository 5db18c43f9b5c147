"""Polite, incremental HTTP fetching shared by every collector.

Why one place: every source must be fetched the same careful way. Conditional requests make an
unchanged source cost one request and no body; a per-host pace, robots.txt and a clear
User-Agent keep publishers willing to serve us; a size cap and bounded retries keep one bad
source from stalling or filling the machine. Every failure is a FetchError naming the URL.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from ..errors import FetchError
from .robots import ROBOTS_MAX_BYTES, Robots

MiB = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
ERROR_EXCERPT = 300  # characters of an error body quoted in the message (CKAN explains its 4xx there)

SIZE_HINT = ("augmentez [fetch] max_bytes dans config.toml si ce fichier est légitimement plus gros"
             " / raise [fetch] max_bytes in config.toml if the file is legitimately larger")
URL_HINT = ("vérifiez l'adresse de la source (a-t-elle changé?) / check the source URL (did it move?)")


@dataclass(frozen=True)
class FetchResult:
    """One successful GET. `body` is None when the server answered 304 Not Modified."""

    url: str  # final URL, after redirects
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    bytes: int
    sha256: str | None
    elapsed: float  # seconds, retries and waits included
    attempts: int  # HTTP requests made for this URL (redirect hops and retries included)

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes | None
    attempts: int = 1


class Fetcher:
    """GETs with conditional requests, retries, per-host pacing, robots.txt and a size cap.

    Safe to share between threads: requests to one host are serialised and paced.
    """

    def __init__(
        self, user_agent: str, timeout: float = 30.0, max_bytes: int = 200 * MiB,
        min_interval: float = 1.0, retries: int = 3, backoff: float = 1.0,
        respect_robots: bool = True, client: httpx.Client | None = None, *,
        max_retry_after: float = 300.0, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic, deadline: float = 900.0, stop: threading.Event | None = None,
    ) -> None:
        self.user_agent, self.timeout, self.max_bytes = user_agent, timeout, max_bytes
        self.min_interval, self.retries, self.backoff = min_interval, retries, backoff
        self.respect_robots, self.max_retry_after = respect_robots, max_retry_after
        self._sleep, self._clock = sleep, clock
        self.deadline = deadline  # seconds one get() may take in all: a body dripping one byte at a time ends
        self.stop = stop  # set (SIGTERM): the download in hand ends at its next chunk, a wait at once
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._last: dict[str, float] = {}  # host -> clock() when its last request ended
        self._locks: dict[str, threading.Lock] = {}
        self.robots = Robots(user_agent, self._get_robots)

    @classmethod
    def from_config(cls, cfg: Any, **overrides: Any) -> Fetcher:
        """Build from config.fetch (a FetchConfig); keys not in config keep their defaults."""
        names = ("user_agent", "timeout", "max_bytes", "min_interval", "retries", "backoff",
                 "respect_robots", "max_retry_after", "deadline")
        kwargs = {n: getattr(cfg, n) for n in names if hasattr(cfg, n)}
        return cls(**{**kwargs, **overrides})

    def close(self) -> None:
        """Close the HTTP client if we made it (an injected one belongs to the caller)."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API -----------------------------------------------------------------------
    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url`; with the etag / last_modified of the previous fetch, an unchanged source
        answers 304 and costs no body."""
        start = self._clock()
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        ans = self._request(url, headers, self.max_bytes, truncate=False, robots=self.respect_robots,
                            until=start + self.deadline)
        h = ans.headers
        if ans.status == 304:  # keep the validators we sent when the server does not repeat them
            return FetchResult(ans.url, 304, None, h.get("etag") or etag,
                               h.get("last-modified") or last_modified, h.get("content-type"),
                               0, None, self._clock() - start, ans.attempts)
        if not 200 <= ans.status < 300:
            raise _status_error(ans)
        body = ans.body or b""
        return FetchResult(ans.url, ans.status, body, h.get("etag"), h.get("last-modified"),
                           h.get("content-type"), len(body), hashlib.sha256(body).hexdigest(),
                           self._clock() - start, ans.attempts)

    def get_json(self, url: str) -> Any:
        """GET and decode JSON (UTF-8, with or without BOM), e.g. a CKAN API call."""
        body = self.get(url).body or b""
        try:
            return json.loads(body)
        except ValueError as exc:
            raise FetchError(url, f"response is not valid JSON ({exc})", URL_HINT) from exc

    # -- internals ------------------------------------------------------------------------
    def _get_robots(self, robots_url: str) -> tuple[int, bytes | None]:
        ans = self._request(robots_url, {}, ROBOTS_MAX_BYTES, truncate=True, robots=False,
                            until=self._clock() + self.deadline)
        return ans.status, ans.body

    def _request(self, url: str, headers: dict[str, str], cap: int, *, truncate: bool,
                 robots: bool, until: float) -> _Answer:
        """Follow redirects ourselves, so each hop is checked against robots.txt and paced."""
        attempts = 0
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise FetchError(url, "not an http(s) URL", URL_HINT, transient=False)
            if robots:
                self.robots.check(url)
            ans = self._with_retries(url, headers, cap, truncate, until)
            attempts += ans.attempts
            location = ans.headers.get("location")
            if ans.status not in REDIRECT_STATUSES or not location:
                return replace(ans, attempts=attempts)
            url = urljoin(url, location)
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects", URL_HINT, transient=False)

    def _with_retries(self, url: str, headers: dict[str, str], cap: int, truncate: bool, until: float) -> _Answer:
        """Retry connection errors, timeouts, 429 and 5xx with exponential backoff."""
        failure = ""
        for attempt in range(1, self.retries + 2):
            try:
                ans: _Answer | None = self._once(url, headers, cap, truncate, until)
            except httpx.UnsupportedProtocol as exc:
                raise FetchError(url, f"unsupported URL ({exc})", URL_HINT, transient=False) from exc
            except (httpx.TransportError, httpx.DecodingError) as exc:
                ans, failure = None, _describe(exc)
            if ans is not None and ans.status not in RETRY_STATUSES:
                return replace(ans, attempts=attempt)
            if attempt > self.retries:
                break
            delay = self.backoff * 2 ** (attempt - 1)
            if ans is not None and (wait := _retry_after(ans.headers)) is not None:
                if wait > self.max_retry_after:
                    back = datetime.now(timezone.utc) + timedelta(seconds=wait)
                    raise FetchError(
                        url, f"HTTP {ans.status}: server asks to wait {wait:.0f} s (Retry-After), more than"
                        f" the {self.max_retry_after:.0f} s allowed; come back after {back:%Y-%m-%d %H:%M} UTC",
                        f"réessayez après {back:%Y-%m-%d %H:%M} UTC / retry after {back:%Y-%m-%d %H:%M} UTC",
                        status=ans.status, retry_at=back)
                delay = max(delay, wait)
            if self._clock() + delay > until:
                break  # no time left for another try
            self._wait(url, delay)
        if ans is None:
            raise FetchError(url, f"{failure} (gave up after {attempt} attempts)")
        return replace(ans, attempts=attempt)

    def _wait(self, url: str, seconds: float) -> None:
        """Sleep, unless `stop` is set meanwhile: then give up this fetch at once."""
        if self.stop is None:
            self._sleep(seconds)
        elif self.stop.wait(seconds):
            raise FetchError(url, "arrêté / stopped (SIGTERM)", transient=True)

    def _once(self, url: str, headers: dict[str, str], cap: int, truncate: bool, until: float) -> _Answer:
        """One paced request; reads a 2xx body under the cap, an excerpt of an error body."""
        host = urlsplit(url).netloc.lower()
        with self._locks.setdefault(host, threading.Lock()):
            self._pace(host, url)
            if self._clock() >= until:
                raise FetchError(url, f"délai total de {self.deadline:.0f} s dépassé / took more than {self.deadline:.0f} s in all")
            try:
                with self._client.stream("GET", url, headers={"User-Agent": self.user_agent, **headers},
                                         timeout=self.timeout, follow_redirects=False) as r:
                    status = r.status_code
                    if status in REDIRECT_STATUSES or status == 304:
                        body = None
                    elif 200 <= status < 300:
                        body = _read(r, url, cap, truncate, self._bound(until))
                    else:
                        body = _read(r, url, 4 * ERROR_EXCERPT, True, self._bound(until))
                    return _Answer(str(r.url), status, r.headers, body)
            finally:
                self._last[host] = self._clock()

    def _pace(self, host: str, url: str) -> None:
        """Wait until the host's interval (ours, or robots.txt's Crawl-delay if longer) has passed."""
        interval = max(self.min_interval, self.robots.crawl_delay(url) if self.respect_robots else 0.0)
        last = self._last.get(host)
        wait = 0.0 if last is None else last + interval - self._clock()
        if wait > self.max_retry_after:
            raise FetchError(url, f"host asks for {interval:.0f} s between requests, more than the"
                             f" {self.max_retry_after:.0f} s allowed")
        if wait > 0:
            self._wait(url, wait)

    def _bound(self, until: float) -> Callable[[], str | None]:
        """Called between two chunks of a body: why to stop reading now, or None."""
        def check() -> str | None:
            if self.stop is not None and self.stop.is_set():
                return "arrêté pendant le téléchargement / stopped during the download (SIGTERM)"
            if self._clock() > until:
                return (f"délai total de {self.deadline:.0f} s dépassé pendant le téléchargement / the download took"
                        f" more than {self.deadline:.0f} s in all (server too slow?)")
            return None
        return check


def _read(r: httpx.Response, url: str, cap: int, truncate: bool, bound: Callable[[], str | None] = lambda: None) -> bytes:
    """Stream the (decompressed) body, stopping as soon as it passes `cap` bytes, or when `bound` says why
    (the total deadline passed, SIGTERM)."""
    declared = r.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > cap:
        raise FetchError(url, f"announces {int(declared)} bytes (Content-Length), more than the"
                         f" {cap} allowed; not downloaded", SIZE_HINT, status=r.status_code, transient=False)
    buf = bytearray()
    for chunk in r.iter_bytes():
        if (why := bound()) is not None:
            raise FetchError(url, why, status=r.status_code)
        buf += chunk
        if len(buf) > cap:
            if truncate:
                return bytes(buf[:cap])
            raise FetchError(url, f"body exceeds {cap} bytes; download stopped", SIZE_HINT,
                             status=r.status_code, transient=False)
    return bytes(buf)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP date; None when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_KINDS = ((httpx.TimeoutException, "timed out"), (httpx.RemoteProtocolError, "connection broken (truncated download?)"),
          (httpx.DecodingError, "could not decompress the body"))


def _describe(exc: Exception) -> str:
    kind = next((text for cls, text in _KINDS if isinstance(exc, cls)), "connection failed")
    return f"{kind}: {type(exc).__name__}" + (f": {exc}" if str(exc) else "")


def _status_error(ans: _Answer) -> FetchError:
    try:
        reason = httpx.codes(ans.status).phrase
    except ValueError:
        reason = ""
    text = f"HTTP {ans.status} {reason}".rstrip()
    if ans.attempts > 1:
        text += f" after {ans.attempts} attempts"
    excerpt = " ".join((ans.body or b"").decode("utf-8", errors="replace").split())[:ERROR_EXCERPT]
    if excerpt:
        text += f": {excerpt}"
    retry, wait = ans.status in RETRY_STATUSES, _retry_after(ans.headers)
    back = datetime.now(timezone.utc) + timedelta(seconds=wait) if retry and wait is not None else None
    return FetchError(ans.url, text + (f" (come back after {back:%Y-%m-%d %H:%M} UTC)" if back else ""),
                      None if retry else URL_HINT, status=ans.status, transient=retry, retry_at=back)


# -- CKAN (Données Québec) -------------------------------------------------------------------
@dataclass(frozen=True)
class Resource:
    """One file of a CKAN dataset. Key state on `id`: a file name can be republished under a new id."""

    id: str
    name: str
    url: str
    format: str | None
    last_modified: str | None  # ISO 8601 as CKAN gives it (no zone)
    size: int | None


def ckan_resources(fetcher: Fetcher, base_url: str, package_id: str,
                   name_prefixes: tuple[str, ...] = ("hebdo_", "mensuel_")) -> list[Resource]:
    """The package's resources whose name starts with a prefix, oldest change first.

    Republished files (same name, new id) are all listed, so a collector sees every version.
    """
    url = f"{base_url.rstrip('/')}/api/3/action/package_show?id={quote(package_id, safe='')}"
    data = fetcher.get_json(url)
    if not isinstance(data, dict) or not data.get("success") or not isinstance(data.get("result"), dict):
        error = data.get("error") if isinstance(data, dict) else None
        raise FetchError(url, f"CKAN package_show failed: {json.dumps(error, ensure_ascii=False)[:ERROR_EXCERPT]}",
                         "vérifiez l'identifiant du jeu de données / check the dataset id", transient=False)
    found = []
    for res in data["result"].get("resources") or []:
        name = res.get("name") or res.get("url", "").rsplit("/", 1)[-1]
        if not res.get("id") or not res.get("url") or not name.startswith(tuple(name_prefixes)):
            continue
        size = res.get("size")
        found.append(Resource(
            id=res["id"], name=name, url=res["url"], format=res.get("format") or None,
            last_modified=res.get("last_modified") or res.get("metadata_modified") or res.get("created"),
            size=int(size) if isinstance(size, int) or (isinstance(size, str) and size.isdigit()) else None,
        ))
    return sorted(found, key=lambda r: (r.last_modified or "", r.name, r.id))
