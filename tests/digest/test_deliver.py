"""Delivery: atomic .eml files in an outbox, and a real SMTP server (aiosmtpd, tests/conftest.py)
that receives, refuses (550) or defers (451) mails."""

from __future__ import annotations

import asyncio
import email
import os
import socket
import time
from dataclasses import replace
from email import policy

import pytest

from watcher.config import DeliveryConfig, SmtpConfig
from watcher.digest.build import build_digest
from watcher.digest.deliver import Outbox, SmtpSender, deliver
from watcher.errors import DeliveryError


@pytest.fixture
def mails(renderer, seao):
    """Two real digests: the coop's, in French to two addresses, and an English one to one address."""
    fr = build_digest(seao.coop, seao.pairs, seao.now, 25)
    en_ent = replace(seao.coop, id="reboot-montreal", name="Reboot Montréal", emails=("info@example.net",),
                     language="en")
    en = build_digest(en_ent, seao.pairs, seao.now, 25)
    return [renderer.render(fr, seao.sender), renderer.render(en, seao.sender)]


def sender_for(server, **kw) -> SmtpSender:
    return SmtpSender(SmtpConfig(host=server.host, port=server.port, timeout=5), delay=0.01, **kw)


def send(server, msgs, **kw):
    return asyncio.run(sender_for(server, **kw).deliver_many(msgs))


# --- outbox -----------------------------------------------------------------------------------

def test_outbox_writes_whole_files_named_by_enterprise(tmp_path, mails):
    box = Outbox(tmp_path / "outbox")  # created on first use
    first, second = box.deliver(mails[0]), box.deliver(mails[0])
    assert first != second  # same enterprise, same second: a new number, nothing overwritten
    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert names == sorted(os.path.basename(p) for p in (first, second))  # no temp file left
    assert all(n.startswith("coop-entretien-horizon-") and n.endswith(".eml") for n in names)
    back = email.message_from_bytes(open(first, "rb").read(), policy=policy.default)
    assert back["Subject"] == mails[0]["Subject"]
    assert "Coop de solidarité" in back.get_body(("plain",)).get_content()


def test_outbox_falls_back_to_a_safe_name_from_to(tmp_path, mails):
    msg = mails[1]
    del msg["X-Watcher-Enterprise"]
    msg.replace_header("To", "Info <../../etc/info@example.net>")
    path = Outbox(tmp_path).deliver(msg)
    assert os.path.dirname(path) == str(tmp_path)
    assert os.path.basename(path).startswith("etc_info@example.net-")


def test_outbox_not_writable_is_a_delivery_error(tmp_path, mails):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError) as err:
        Outbox(blocker).deliver(mails[0])
    assert "outbox" in err.value.hint


def test_sync_deliver_to_outbox(tmp_path, mails):
    results = deliver(mails, DeliveryConfig(backend="outbox", outbox=tmp_path))
    assert [r.ok for r in results] == [True, True]
    assert all(os.path.exists(r.where) for r in results)


# --- SMTP -------------------------------------------------------------------------------------

def test_smtp_delivers_all_over_one_connection(smtp_server, mails):
    results = send(smtp_server, mails)
    assert [(r.ok, r.error) for r in results] == [(True, None), (True, None)]
    assert results[0].message_id == mails[0]["Message-ID"]
    assert len(smtp_server.messages) == 2
    assert len(set(smtp_server.peers)) == 1  # one connection (same client port) for both
    fr, en = smtp_server.messages
    assert fr["From"] == "Veille des marchés publics <veille@example.org>"
    assert fr["To"] == "soumissions@example.org, direction@example.org"
    assert fr["Subject"].startswith("Veille des marchés publics — 4 occasions pour Coop de solidarité")
    assert en["To"] == "info@example.net" and en["Subject"].startswith("Public procurement watch — 4 opportunities")
    assert fr["List-Unsubscribe"] == "<mailto:veille@example.org?subject=d%C3%A9sabonnement%20coop-entretien-horizon>"
    text, html = fr.get_body(("plain",)).get_content(), fr.get_body(("html",)).get_content()
    assert "Commission scolaire de la Seigneurie-des-Mille-Îles" in text and "Montérégie" in text
    assert "Seigneurie-des-Mille-Îles" in html and "370\u00a0833\u00a0$" in html


def test_smtp_550_is_permanent_and_the_other_mail_still_goes(smtp_server, mails):
    smtp_server.fail("info@example.net", 550)
    refused, accepted = send(smtp_server, [mails[1], mails[0]])
    assert not refused.ok and refused.permanent and "550" in refused.error
    assert refused.refused == ("info@example.net",)
    assert accepted.ok and accepted.error is None
    assert [m["To"] for m in smtp_server.messages] == ["soumissions@example.org, direction@example.org"]


def test_smtp_one_recipient_refused_of_two_is_still_sent(smtp_server, mails):
    smtp_server.fail("direction@example.org", 550)
    (result,) = send(smtp_server, [mails[0]])
    assert result.ok and result.permanent and result.refused == ("direction@example.org",)
    assert len(smtp_server.messages) == 1  # soumissions@ got it: it must not be sent again


def test_smtp_451_then_success_is_retried(smtp_server, mails):
    smtp_server.fail("info@example.net", 451, times=1)
    (result,) = send(smtp_server, [mails[1]])
    assert result.ok and result.error is None
    assert len(smtp_server.messages) == 1


def test_smtp_451_every_time_is_a_temporary_failure(smtp_server, mails):
    smtp_server.fail("info@example.net", 451)
    started = time.monotonic()
    (result,) = send(smtp_server, [mails[1]], tries=3)
    assert not result.ok and not result.permanent and "451" in result.error
    assert smtp_server.messages == [] and time.monotonic() - started < 2


def test_smtp_retries_only_recipients_that_did_not_get_it(smtp_server, mails):
    smtp_server.fail("direction@example.org", 451, times=1)
    (result,) = send(smtp_server, [mails[0]])
    assert result.ok and result.error is None
    assert len(smtp_server.messages) == 2  # first to soumissions@, then the retry to direction@ only


def test_smtp_unreachable_is_a_delivery_error_with_a_hint(mails):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = SmtpSender(SmtpConfig(host="127.0.0.1", port=port, timeout=2), delay=0.01)
    with pytest.raises(DeliveryError) as err:
        asyncio.run(sender.deliver_many(mails))
    assert f"smtp://127.0.0.1:{port}: cannot reach the SMTP server" in str(err.value)
    assert "[delivery.smtp]" in err.value.hint and not err.value.permanent


def test_sync_deliver_over_smtp(smtp_server, mails):
    cfg = DeliveryConfig(backend="smtp", smtp=SmtpConfig(host=smtp_server.host, port=smtp_server.port))
    results = deliver(mails, cfg)
    assert [r.ok for r in results] == [True, True]
    assert results[0].where == f"smtp://{smtp_server.host}:{smtp_server.port}"
    assert len(smtp_server.messages) == 2


def test_nothing_to_send_opens_no_connection():
    cfg = DeliveryConfig(backend="smtp", smtp=SmtpConfig(host="127.0.0.1", port=1))
    assert deliver([], cfg) == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_and_refused_credentials(mails):
    """Login per config, on a server of its own that requires it (plain text: no TLS in tests)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.rcpt_tos)
            return "250 OK"

    def check(server, session, envelope, mechanism, data):
        return AuthResult(success=(data.login, data.password) == (b"veille", b"s3cret"), handled=False)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=check,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        good = SmtpConfig(host="127.0.0.1", port=port, user="veille", password="s3cret", timeout=5)
        assert [r.ok for r in asyncio.run(SmtpSender(good, delay=0.01).deliver_many(mails))] == [True, True]
        assert len(received) == 2
        with pytest.raises(DeliveryError) as err:
            asyncio.run(SmtpSender(replace(good, password="wrong"), delay=0.01).deliver_many(mails))
        assert err.value.permanent and "login refused: 535" in str(err.value) and "password" in err.value.hint
    finally:
        controller.stop()


def test_mails_are_taken_as_they_go_out_never_all_at_once(smtp_server, mails):
    """A generator of 60 mails over 2 connections: each mail is taken only when a connection is free,
    so no more than a few are ever rendered and not yet answered (issue 16: 10,000 held were 2.2 GB)."""
    taken, answered, ahead = [], [], []

    def generate():
        for i in range(60):
            msg = email.message_from_bytes(bytes(mails[i % 2]), policy=policy.default)  # a new mail each time
            del msg["Message-ID"]
            msg["Message-ID"] = f"<m{i}@test>"
            taken.append(i)
            ahead.append(len(taken) - len(answered))
            yield msg

    cfg = DeliveryConfig(backend="smtp", smtp=SmtpConfig(host=smtp_server.host, port=smtp_server.port, timeout=5,
                                                         connections=2))
    results = deliver(generate(), cfg, on_result=lambda msg, r: answered.append(msg["Message-ID"]))
    assert [r.message_id for r in results] == [f"<m{i}@test>" for i in range(60)]  # in the order given
    assert all(r.ok for r in results) and len(smtp_server.messages) == 60
    assert max(ahead) <= 2 + 2 + 1  # one in hand per connection, the queue of 2, the one being put
    assert len(set(smtp_server.peers)) == 2  # a second connection once 40 mails were taken
