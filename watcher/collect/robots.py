"""robots.txt rules per host, fetched once per Fetcher and read with urllib.robotparser.

Kept apart from fetch.py so the RFC 9309 decisions (what a 404, a 5xx or an unreachable host
means) are in one place. The fetching itself is the Fetcher's, so robots.txt requests are paced
and identified like every other request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..errors import FetchError

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 2.5: parse at least 500 KiB; the rest is ignored

DISALLOW_HINT = (
    "le site interdit ce chemin aux robots; retirez la source ou demandez l'accord de l'éditeur"
    " / robots.txt forbids this path: drop the source or ask the publisher"
)
UNREACHABLE_HINT = (
    "robots.txt est injoignable: on ne télécharge rien de ce site (RFC 9309); réessayez plus tard"
    " / robots.txt is unreachable, so nothing is fetched from this host (RFC 9309); try again later"
)

# (robots_url) -> (HTTP status, body or None); raises FetchError when the host cannot be reached.
RobotsGetter = Callable[[str], tuple[int, bytes | None]]


@dataclass(frozen=True)
class HostRules:
    """What one host's robots.txt allows; `unreachable` is the reason nothing may be fetched."""

    parser: RobotFileParser
    unreachable: str | None = None


def host_key(url: str) -> str:
    """robots.txt governs one scheme + host + port (RFC 9309 2.3)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class Robots:
    """Cache of HostRules for the life of a Fetcher (a run); a host's robots.txt is read once."""

    def __init__(self, user_agent: str, getter: RobotsGetter) -> None:
        self.user_agent = user_agent
        self.token = user_agent.split("/")[0].strip() or user_agent  # what robots.txt groups name
        self._get = getter
        self._rules: dict[str, HostRules] = {}

    def rules(self, url: str) -> HostRules:
        """The host's rules, fetching robots.txt on first use."""
        key = host_key(url)
        if key not in self._rules:
            self._rules[key] = self._load(key + "/robots.txt")
        return self._rules[key]

    def check(self, url: str) -> None:
        """Raise FetchError unless robots.txt lets our user agent fetch `url`."""
        rules = self.rules(url)
        if rules.unreachable:
            raise FetchError(url, f"not fetched: {rules.unreachable}", UNREACHABLE_HINT, transient=True)
        if not rules.parser.can_fetch(self.user_agent, url):
            raise FetchError(url, f"robots.txt disallows it for user agent {self.token!r}",
                             DISALLOW_HINT, transient=False)

    def crawl_delay(self, url: str) -> float:
        """Seconds robots.txt asks between two requests (Crawl-delay or Request-rate), 0 if none.

        Only known once robots.txt was read; never triggers a fetch itself.
        """
        rules = self._rules.get(host_key(url))
        if rules is None or rules.unreachable:
            return 0.0
        delay = float(rules.parser.crawl_delay(self.user_agent) or 0)
        rate = rules.parser.request_rate(self.user_agent)
        if rate and rate.requests > 0:
            delay = max(delay, rate.seconds / rate.requests)
        return delay

    def _load(self, robots_url: str) -> HostRules:
        parser = RobotFileParser(robots_url)
        try:
            status, body = self._get(robots_url)
        except FetchError as exc:  # unreachable host, timeouts, too many redirects
            parser.disallow_all = True
            return HostRules(parser, f"robots.txt could not be read ({exc.message})")
        if 200 <= status < 300:
            text = (body or b"").decode("utf-8", errors="replace").lstrip("\ufeff")
            parser.parse(text.splitlines())
            return HostRules(parser)
        if 400 <= status < 500 and status != 429:  # RFC 9309 2.3.1.3: unavailable means allowed
            parser.allow_all = True
            return HostRules(parser)
        # 5xx, 429 after retries, or anything odd: unreachable, so nothing is fetched (2.3.1.4)
        parser.disallow_all = True
        return HostRules(parser, f"robots.txt answered HTTP {status}")
