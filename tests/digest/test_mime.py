"""The renderer assembles its mails from header objects and encoded parts instead of the stdlib's
msg[...] = / set_content / add_alternative (issue 16: half of rendering), and a few steps took
cheaper forms. These tests hold each to what the plain form gives (for the mail: the bytes the
stdlib's documented way writes), so a Python upgrade that changes either is caught."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from watcher.digest.build import build_digest
from watcher.digest.links import Links
from watcher.digest.render import POLICY, Renderer, quoted_printable, typography
from watcher.limits import safe_url

ROOT = Path(__file__).resolve().parent.parent.parent


def stdlib_qp(text: str) -> str:
    part = EmailMessage(policy=POLICY)
    part.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return part.get_payload()


def _edge_texts() -> list[str]:
    """Lines around the 78-character limit with an escape, whitespace or a non-ASCII letter where
    a soft break falls, other line ends, controls, and random mixes of all of them."""
    texts = ["", "\n", "a", "é\n\n", "tab\tat end\t", "space at end ", "a\r\nb\rc\n", "\x0b\x0c\x1c\x85\x7f\x00 ="]
    for length in range(70, 84):
        for last in ("a", "=", "é", " ", "\t", "€", "\u00a0"):
            for filler in ("a", "=", "é", " "):
                texts.append(filler * (length - 1) + last)
                texts.append("x" * (length - 3) + last + filler * 3 + "\nfin")
    rng = random.Random(16)
    odd = "Z09 \t=.<>\"'é€—\u00a0\u202f\x01\x0b\x7f\x85😀"

    def char() -> str:
        draw = rng.random()
        return rng.choice(("\n", "\r\n", "\r")) if draw < 0.01 else rng.choice(odd) if draw < 0.3 else "a"

    texts += ["".join(char() for _ in range(rng.randrange(1, 600))) for _ in range(3000)]
    return texts


def test_quoted_printable_is_the_stdlib_encoding():
    for text in _edge_texts():
        assert quoted_printable(text, POLICY.max_line_length) == stdlib_qp(text), repr(text)


def stdlib_mail(msg: EmailMessage) -> EmailMessage:
    """The same mail built the documented way, from the rendered mail's own headers and contents."""
    ref = EmailMessage(policy=POLICY)
    for name, value in msg.items():
        if name != "MIME-Version" and not name.lower().startswith("content-"):
            ref[name] = str(value)
    ref.set_content(msg.get_body(("plain",)).get_content(), subtype="plain", charset="utf-8", cte="quoted-printable")
    ref.add_alternative(msg.get_body(("html",)).get_content(), subtype="html", charset="utf-8", cte="quoted-printable")
    for part in msg.iter_attachments():
        ref.add_attachment(part.get_payload(decode=True), maintype="text", subtype="calendar",
                           filename=part.get_filename(), params={"method": part.get_param("method")})
    ref["Content-Language"] = msg["Content-Language"]
    return ref


def _wire(msg: EmailMessage) -> tuple[bytes, bytes]:
    """The mail as written to a file and as sent by SMTP, with fixed multipart boundaries."""
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"boundary-{i}")
    return bytes(msg), msg.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize("case", ["calendar", "no calendar", "english with links and reply-to"])
def test_mail_is_byte_for_byte_the_one_set_content_builds(renderer, coop_digest, seao, case):
    reply_to = None
    if case == "calendar":
        digest = coop_digest
    elif case == "no calendar":
        digest = build_digest(seao.coop, [], seao.now, 25, send_empty=True)
    else:
        renderer = Renderer(ROOT / "templates", Links("a-test-secret-0123456789abcdefghij", "https://veille.example.org"))
        digest = replace(coop_digest, language="en")
        reply_to = "Coordination <coordination@example.org>"
    msg = renderer.render(digest, seao.sender, reply_to=reply_to)
    assert (msg.get_content_type() == "multipart/mixed") == (case != "no calendar")
    ref = stdlib_mail(msg)
    assert _wire(msg) == _wire(ref)


def test_headers_shared_by_mails_are_folded_for_each_policy(renderer, coop_digest, seao):
    """The fixed headers (sender, date, content types) are one object in every mail of a run, and
    remember their last folding: written to a file (\\n) and to SMTP (\\r\\n) in turn, each mail
    stays byte for byte the stdlib's."""
    first = renderer.render(coop_digest, seao.sender)
    second = renderer.render(build_digest(seao.coop, [], seao.now, 25, send_empty=True), seao.sender)
    assert first["From"] is second["From"] and first["Date"] is second["Date"]  # shared: the memo is used
    for msg in (first, second, first, second):
        assert _wire(msg) == _wire(stdlib_mail(msg))
        assert b"\r\n" not in bytes(msg) and b"\n" not in msg.as_bytes(policy=policy.SMTP).replace(b"\r\n", b"")


def test_french_typography_is_the_rule_as_first_written():
    """typography() replaces only the space (a literal replacement, cheaper): the same text as the
    first form of the rule, which replaced the space and the mark."""
    first = re.compile(r"[ \u202f]([:;!?])(?=[\s<]|$)")
    rng = random.Random(1)
    for _ in range(5000):
        text = "".join(rng.choice("a :;!?<>\n\t\u202f\u00a0") for _ in range(rng.randrange(0, 30)))
        assert typography(text, "fr") == first.sub("\u00a0\\1", text), repr(text)
        assert typography(text, "en") == text


def test_safe_url_refuses_any_space_or_control_character():
    for code in [*range(0x21), *range(0x7F, 0xA0), 0x200E, 0x202E, 0xFEFF]:
        assert safe_url(f"https://example.org/a{chr(code)}b") is None, hex(code)
    assert safe_url("https://example.org/a-b?c=d") == "https://example.org/a-b?c=d"
