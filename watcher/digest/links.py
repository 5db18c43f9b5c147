"""Signed links of a digest: "pertinent" / "pas pour nous" per item, and one-click unsubscribe.

A link works without login, so the link itself is the credential: an itsdangerous token signs
(purpose, enterprise, notice) with `[web] secret` and a timestamp. Changing any part breaks the
signature, so a token made for one enterprise's item cannot vote for another enterprise or item,
nor unsubscribe anyone (each purpose has its own salt); a token older than its max age is refused.
The web side (watcher/web/) verifies; this module only signs and reads, and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FEEDBACK_MAX_AGE = 180 * 86400  # a digest is read within weeks; half a year is generous
UNSUBSCRIBE_MAX_AGE = 3 * 365 * 86400  # an old mail's unsubscribe link must still work


class BadToken(Exception):
    """A token that is forged, altered, for another purpose, or too old."""


@dataclass(frozen=True)
class Links:
    """Makes and checks the links of digests sent by one installation."""

    secret: str
    base_url: str

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"watcher-{purpose}")

    def feedback_token(self, enterprise_id: str, notice_id: str) -> str:
        return self._serializer("feedback").dumps([enterprise_id, notice_id])

    def feedback_url(self, enterprise_id: str, notice_id: str, relevant: bool) -> str:
        return f"{self.base_url}/f/{self.feedback_token(enterprise_id, notice_id)}?v={'1' if relevant else '0'}"

    def unsubscribe_token(self, enterprise_id: str) -> str:
        return self._serializer("unsubscribe").dumps([enterprise_id])

    def unsubscribe_url(self, enterprise_id: str) -> str:
        return f"{self.base_url}/u/{self.unsubscribe_token(enterprise_id)}"

    def read_feedback(self, token: str, max_age: int = FEEDBACK_MAX_AGE) -> tuple[str, str]:
        """(enterprise id, notice id), or BadToken."""
        value = self._load("feedback", token, max_age)
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise BadToken("malformed")
        return value[0], value[1]

    def read_unsubscribe(self, token: str, max_age: int = UNSUBSCRIBE_MAX_AGE) -> str:
        """The enterprise id, or BadToken."""
        value = self._load("unsubscribe", token, max_age)
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], str)):
            raise BadToken("malformed")
        return value[0]

    def _load(self, purpose: str, token: str, max_age: int) -> object:
        try:
            return self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise BadToken("expired") from exc
        except (BadSignature, ValueError, UnicodeError) as exc:
            raise BadToken("bad signature") from exc


def links_for(web) -> Links | None:
    """The Links of a WebConfig, or None when links cannot be made (no secret or no public address)."""
    if web is None or not web.secret or not web.base_url:
        return None
    return Links(web.secret, web.base_url)
