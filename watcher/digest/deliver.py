"""Hand rendered mails to a backend: an outbox folder of .eml files, or an SMTP server.

SMTP goes over one connection for a whole run (servers throttle many short sessions), or a few
for many mails. Mails are taken one by one as they go out: a run renders each digest when a
connection is free to send it, and holds only those few. Each mail
gets its own result, so the caller records as sent exactly the mails a server accepted. A server
that is down or answers 4xx is tried again with exponential backoff ([delivery.smtp] retries,
retry_delay) within the run; what still fails comes back as a temporary failure per mail, for
the daemon's next tick to retry (watcher.digest.retry), never as an exception that loses the run.

Guarantee: at least once. A mail is recorded right after the server's 250; a crash between that
250 and the commit sends it again on the next run, so at most one duplicate per SMTP connection
in flight at the crash (tests/test_crash_window.py kills the sender inside that window).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path

import aiosmtplib

from ..config import DeliveryConfig, SmtpConfig
from ..errors import DeliveryError


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one mail. `ok` when at least one recipient accepted it (it must not be sent
    again); `error` names what failed, `permanent` says whether trying later is pointless (5xx)."""

    ok: bool
    where: str  # the .eml path, or smtp://host:port
    error: str | None = None
    permanent: bool = False
    refused: tuple[str, ...] = ()  # recipients that did not get it
    message_id: str | None = None


OnResult = Callable[[EmailMessage, "DeliveryResult"], None]


class Outbox:
    """A folder of .eml files, for previews and for sites that hand mails to another system."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def deliver(self, msg: EmailMessage) -> str:
        """Write `msg` whole or not at all (temp file then link/rename) and return its path."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(bytes(msg))
                    out.flush()
                    os.fsync(out.fileno())
                return str(self._place(tmp, _file_stem(msg)))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:
            raise DeliveryError(f"{self.folder}: cannot write the mail: {exc.strerror or exc}",
                                hint="vérifiez [delivery] outbox et ses droits / check [delivery] outbox and its permissions") from exc

    def _place(self, tmp: str, stem: str) -> Path:
        """Give the file its final name without overwriting another mail written the same second."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 10_000):
            target = self.folder / f"{stem}-{stamp}-{n}.eml"
            try:
                os.link(tmp, target)  # fails if the name is taken: no race with another writer
                return target
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links
                if target.exists():
                    continue
                os.replace(tmp, target)
                return target
        raise OSError(f"no free file name for {stem} in {self.folder}")


def _file_stem(msg: EmailMessage) -> str:
    """The enterprise id when the renderer put one, else the first address: safe on any file system."""
    raw = msg.get("X-Watcher-Enterprise") or parseaddr(msg.get("To", ""))[1] or "mail"
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", str(raw)).strip("._") or "mail"


class SmtpSender:
    """Sends many mails over one SMTP connection, retrying what the server says is temporary."""

    def __init__(self, cfg: SmtpConfig, tries: int | None = None, delay: float | None = None) -> None:
        self.cfg = cfg
        self.tries = max(1, cfg.retries + 1 if tries is None else tries)
        self.delay = cfg.retry_delay if delay is None else delay  # seconds before the 2nd try; doubled each time
        self.where = f"smtp://{cfg.host}:{cfg.port}"
        self._down: str | None = None  # set when a reconnection failed: the rest fails fast

    def _client(self) -> aiosmtplib.SMTP:
        cfg = self.cfg
        return aiosmtplib.SMTP(hostname=cfg.host, port=cfg.port, username=cfg.user, password=cfg.password,
                               use_tls=cfg.ssl, start_tls=cfg.starttls, timeout=cfg.timeout)

    async def deliver_many(self, msgs: Iterable[EmailMessage] | AsyncIterable[EmailMessage],
                           on_result: OnResult | None = None) -> list[DeliveryResult]:
        """Connect once, at the first mail (none: no connection), send each mail, quit. Raises
        DeliveryError only if no connection can be made. `on_result` is called after each mail,
        before the next is taken: the caller records what the server accepted at once, so a crash
        later in the run cannot make it send that mail again."""
        self._down = None
        client: aiosmtplib.SMTP | None = None
        results = []
        try:
            async for msg in _each(msgs):
                if client is None:
                    client = self._client()
                    await self._connect(client)
                result = await self._send(client, msg)
                if on_result is not None:
                    on_result(msg, result)
                results.append(result)
            return results
        finally:
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    async def _connect(self, client: aiosmtplib.SMTP) -> None:
        for attempt in range(self.tries):
            try:
                await client.connect()
                return
            except aiosmtplib.SMTPAuthenticationError as exc:
                raise DeliveryError(f"{self.where}: login refused: {exc.code} {exc.message}", permanent=True,
                                    hint="vérifiez [delivery.smtp] user et password / check [delivery.smtp] user and password") from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                client.close()
                if _code(exc) >= 500 or attempt + 1 == self.tries:
                    raise DeliveryError(
                        f"{self.where}: cannot reach the SMTP server: {_describe(exc)}",
                        permanent=_code(exc) >= 500,
                        hint="vérifiez [delivery.smtp] host, port, ssl/starttls et que le serveur répond / "
                             "check [delivery.smtp] host, port, ssl/starttls and that the server is up",
                    ) from exc
                await asyncio.sleep(self.delay * 2**attempt)

    async def _send(self, client: aiosmtplib.SMTP, msg: EmailMessage) -> DeliveryResult:
        """Send one mail; a 4xx or a dropped connection is tried again, only to those who did not get it."""
        sender = parseaddr(msg.get("Sender") or msg.get("From", ""))[1]
        pending = [addr for _, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if addr]
        msg_id = msg.get("Message-ID")
        if not sender or not pending:
            return DeliveryResult(False, self.where, "no sender or no recipient in the mail", permanent=True,
                                  message_id=msg_id)
        accepted: list[str] = []
        final: dict[str, tuple[int, str]] = {}  # recipient -> (code, text) of a failure; code 0 when no reply
        for attempt in range(self.tries):
            if attempt:
                await asyncio.sleep(self.delay * 2 ** (attempt - 1))
            failed = await self._try(client, msg, sender, pending)
            accepted += [r for r in pending if r not in failed]
            final.update(failed)  # a recipient that gets it on a later try is taken out below
            pending = [r for r, f in failed.items() if f[0] < 500]
            if not pending or self._down:
                break
        for r in accepted:
            final.pop(r, None)
        if not final:
            return DeliveryResult(ok=True, where=self.where, message_id=msg_id)
        error = "; ".join(f"{r}: {code} {text}" if code else f"{r}: {text}" for r, (code, text) in final.items())
        return DeliveryResult(ok=bool(accepted), where=self.where, error=error,
                              permanent=all(code >= 500 for code, _ in final.values()),
                              refused=tuple(final), message_id=msg_id)

    async def _try(self, client: aiosmtplib.SMTP, msg: EmailMessage, sender: str,
                   recipients: list[str]) -> dict[str, tuple[int, str]]:
        """One attempt; returns the recipients that did not get the mail, with the server's reply."""
        if self._down:
            return {r: (0, self._down) for r in recipients}
        try:
            if not client.is_connected:
                await self._connect(client)
            refused, _ = await client.send_message(msg, sender=sender, recipients=recipients)
            return {r: (resp.code, resp.message) for r, resp in refused.items()}
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return {e.recipient: (e.code, e.message) for e in exc.recipients}
        except aiosmtplib.SMTPResponseException as exc:
            return {r: (exc.code, exc.message) for r in recipients}
        except DeliveryError as exc:  # could not reconnect
            self._down = str(exc)
            return {r: (0, self._down) for r in recipients}
        except ValueError as exc:  # an address aiosmtplib will not send to
            return {r: (501, str(exc)) for r in recipients}
        except (aiosmtplib.SMTPException, OSError) as exc:  # disconnected, timed out
            client.close()
            return {r: (0, _describe(exc)) for r in recipients}


async def _each(msgs: Iterable[EmailMessage] | AsyncIterable[EmailMessage]) -> AsyncIterator[EmailMessage]:
    if isinstance(msgs, AsyncIterable):
        async for msg in msgs:
            yield msg
    else:
        for msg in msgs:
            yield msg


def _code(exc: BaseException) -> int:
    return getattr(exc, "code", 0) or 0


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


LANE_EVERY = 20  # one more connection (up to [delivery.smtp] connections) for each 20 mails taken


async def _deliver_concurrently(msgs: Iterable[EmailMessage], cfg: SmtpConfig, on_result: OnResult | None) -> list[DeliveryResult]:
    """Up to cfg.connections connections at once, one opened per LANE_EVERY mails (one connection
    when there are few), each taking the next mail when it is free; results come back in the order
    of `msgs`. `msgs` is read as the connections take them, through a queue of a few mails: a
    caller that renders each mail in a generator never holds more than those (issue 16: 10,000
    rendered digests held at once were 2.2 GB)."""
    queue: asyncio.Queue[tuple[int, EmailMessage] | None] = asyncio.Queue(maxsize=max(1, cfg.connections))
    results: list[DeliveryResult | None] = []
    lanes: list[asyncio.Task] = []
    try:
        for i, msg in enumerate(msgs):
            if not lanes or (len(lanes) < cfg.connections and i + 1 >= LANE_EVERY * (len(lanes) + 1)):
                lanes.append(asyncio.create_task(_lane(cfg, queue, results, on_result)))
            results.append(None)
            await queue.put((i, msg))
            if all(lane.done() for lane in lanes):  # every connection died of an error of ours: stop taking mails
                break
    finally:
        for _ in lanes:
            await _put_unless_all_done(queue, None, lanes)
        await asyncio.gather(*lanes)
    return results  # type: ignore[return-value]


async def _put_unless_all_done(queue: asyncio.Queue, item, lanes: list[asyncio.Task]) -> None:
    """Put `item`, unless no lane is left to take it (a full queue would then wait for ever)."""
    while not all(lane.done() for lane in lanes):
        try:
            queue.put_nowait(item)
            return
        except asyncio.QueueFull:
            await asyncio.sleep(0.01)


async def _lane(cfg: SmtpConfig, queue: asyncio.Queue, results: list, on_result: OnResult | None) -> None:
    """One connection: takes mails from `queue` until None, stores each result at its index. A server
    that stays unreachable (after the retries) or refuses the login makes each mail it takes a
    failure of its own, temporary unless the server said 5xx."""
    sender = SmtpSender(cfg)
    taken: list[tuple[int, EmailMessage]] = []  # the mail in hand, until its result is known

    async def feed() -> AsyncIterator[EmailMessage]:
        while (item := await queue.get()) is not None:
            taken.append(item)
            yield item[1]

    def keep(msg: EmailMessage, result: DeliveryResult) -> None:
        results[taken.pop()[0]] = result
        if on_result is not None:
            on_result(msg, result)

    try:
        await sender.deliver_many(feed(), keep)
    except DeliveryError as exc:
        def failed(msg: EmailMessage) -> DeliveryResult:
            return DeliveryResult(False, sender.where, str(exc), permanent=exc.permanent, message_id=msg.get("Message-ID"))
        if taken:
            keep(taken[-1][1], failed(taken[-1][1]))
        while (item := await queue.get()) is not None:
            taken.append(item)
            keep(item[1], failed(item[1]))


def deliver(msgs: Iterable[EmailMessage], cfg: DeliveryConfig, on_result: OnResult | None = None) -> list[DeliveryResult]:
    """Deliver through the configured backend; one result per mail, in order, each also passed to
    `on_result` as soon as it is known. `msgs` may be a generator: it is read as mails go out. Synchronous, for the CLI and the scheduler's threads (must
    not be called from inside a running event loop)."""
    if cfg.backend == "outbox":
        box = Outbox(cfg.outbox)
        results = []
        for m in msgs:
            result = DeliveryResult(ok=True, where=box.deliver(m), message_id=m.get("Message-ID"))
            if on_result is not None:
                on_result(m, result)
            results.append(result)
        return results
    if cfg.backend == "smtp":
        return asyncio.run(_deliver_concurrently(msgs, cfg.smtp, on_result))
    raise DeliveryError(f"unknown delivery backend {cfg.backend!r} (allowed: outbox, smtp)")
