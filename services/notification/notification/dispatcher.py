"""Sending queued notifications over SMTP, after their rows are committed.

A batch is claimed with FOR UPDATE SKIP LOCKED and a lease, so two processes never send the same
notification, and sent over one SMTP connection. Each message is marked `sent` as soon as the
server accepts it: a crash between that acceptance and the commit of `sent` is the one window in
which a message can go out twice (after the lease expires). The Message-ID, derived from the
notification id, lets mail systems recognise such a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import logging
import random
import time
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, cast

import aiosmtplib
import asyncpg

from notification.metrics import (
    ACCEPT_TO_COMMIT_SECONDS,
    DELIVERY_SECONDS,
    NOTIFICATION_STATES,
    NOTIFICATIONS,
    RETRIES,
    SMTP_SEND_SECONDS,
)
from notification.repository import deliveries
from notification.settings import Settings
from tilmeld_shared.tracing import TRACE_HEADERS, SpanKind, span_continuing, tracing_on

log = logging.getLogger(__name__)


def smtp_address(address: str) -> str:
    """The address as SMTP carries it: an internationalised domain in its IDNA (xn--) form.

    A local part beyond ASCII has no such form: only a server offering SMTPUTF8 takes it."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def build_message(row: Any, *, mail_from: str, utf8: bool = False) -> bytes:
    """Text and HTML alternatives, and the invitation both inline (so calendar clients offer
    to add it in one click) and as an .ics attachment.

    Built with the compat32 MIME classes: an order of magnitude cheaper than EmailMessage's
    header registry, which made building the message most of a send's cost. `utf8` writes the
    headers as UTF-8 (RFC 6532, for a server that took SMTPUTF8): a non-ASCII address cannot be
    an RFC 2047 encoded word, which would turn the whole address into unreadable text.
    """
    alternatives = MIMEMultipart("alternative")
    alternatives.attach(MIMEText(row["body_text"], "plain", "utf-8"))
    if row["body_html"]:
        alternatives.attach(MIMEText(row["body_html"], "html", "utf-8"))
    message: MIMEMultipart = alternatives
    if row["calendar"]:
        method = "CANCEL" if "METHOD:CANCEL" in row["calendar"] else "REQUEST"
        inline = MIMEText(row["calendar"], "calendar", "utf-8")
        inline.set_param("method", method)
        alternatives.attach(inline)
        attachment = MIMEApplication(row["calendar"].encode(), "ics")
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message = MIMEMultipart("mixed")
        message.attach(alternatives)
        message.attach(attachment)
    message["From"] = sender(row, mail_from)
    message["To"] = smtp_address(row["recipient"])
    reply_to = row.get("reply_to")
    if reply_to and (utf8 or reply_to.rpartition("@")[0].isascii()):
        # The network's contact: a reply reaches the organisers, not the unattended sender. An
        # address no header can carry is left out rather than costing the person their email.
        with contextlib.suppress(UnicodeError):
            message["Reply-To"] = smtp_address(reply_to)
    # compat32 takes a Header object and encodes it as RFC 2047 words when flattening.
    message["Subject"] = row["subject"] if utf8 else cast(str, Header(row["subject"], "utf-8"))
    message["Message-ID"] = f"<{row['id']}@tilmeld>"
    message["Date"] = formatdate(localtime=False)
    message["Content-Language"] = row["language"]
    return message.as_bytes(policy=email.policy.SMTPUTF8) if utf8 else message.as_bytes()


def sender(row: Any, mail_from: str) -> str:
    """The configured sender's address under the name of those the email is sent for (the
    network's organisers): the address stays the one SPF and DKIM vouch for."""
    name = row.get("sender_name")
    if not name:
        return mail_from
    return formataddr((name, parseaddr(mail_from)[1]), charset="utf-8")


def is_permanent(error: Exception) -> bool:
    """A 5xx from the server will not change on retry; 4xx and connection errors may."""
    code = getattr(error, "code", None)
    return isinstance(code, int) and 500 <= code < 600


def backoff_seconds(attempt: int) -> float:
    """Exponential with full jitter, capped at 15 minutes."""
    return random.uniform(0, min(2**attempt, 900))


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self._sender = parseaddr(settings.mail_from)[1]
        self.wakeup = asyncio.Event()

    async def run(self) -> None:
        last_census = 0.0
        while True:
            self.wakeup.clear()
            try:
                sent = await self.send_due()
                if time.monotonic() - last_census > 10:
                    await self._census()
                    last_census = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher round failed")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), 1.0)

    async def send_due(self) -> int:
        """Claim a batch and send it over a few SMTP connections at once (the time per message
        is mostly waiting for the server, so parallel connections multiply throughput)."""
        rows = await deliveries.claim_due(self._pool, limit=self._settings.dispatch_batch_size)
        if not rows:
            return 0
        lanes = max(1, min(self._settings.smtp_connections, len(rows)))
        await asyncio.gather(
            *(self._send_over_one_connection(rows[lane::lanes]) for lane in range(lanes))
        )
        return len(rows)

    async def _send_over_one_connection(self, rows: list[Any]) -> None:
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_s,
        )
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            for row in rows:
                await self._failed(row, error)
            return
        try:
            for row in rows:
                await self._send_one(smtp, row)
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()

    async def _send_one(self, smtp: aiosmtplib.SMTP, row: Any) -> None:
        if not await deliveries.still_sendable(self._pool, row["id"]):
            return  # erased or re-queued meanwhile
        if not tracing_on():
            await self._send_and_mark(smtp, row)
            return
        # In the trace of the event that queued it; a reminder's is a trace of its own.
        with span_continuing(
            {name: row[name] for name in TRACE_HEADERS},
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={
                "tilmeld.notification_id": str(row["id"]),
                "tilmeld.template": row["template"],
                "tilmeld.attempt": row["attempts"],
                "server.address": self._settings.smtp_host,
                "server.port": self._settings.smtp_port,
            },
        ):
            await self._send_and_mark(smtp, row)

    async def _send_and_mark(self, smtp: aiosmtplib.SMTP, row: Any) -> None:
        started = time.perf_counter()
        try:
            recipient = smtp_address(row["recipient"])
            # A non-ASCII local part needs the server's SMTPUTF8 extension, and UTF-8 headers.
            utf8 = not recipient.isascii()
            await smtp.sendmail(
                self._sender,
                [recipient],
                build_message(row, mail_from=self._settings.mail_from, utf8=utf8),
                mail_options=["SMTPUTF8"] if utf8 else [],
            )
        except (UnicodeError, aiosmtplib.SMTPNotSupported) as error:
            # An address no server takes, or one this server never will (SMTPUTF8 is the one
            # extension asked for here): retrying changes nothing.
            await self._failed(row, error, permanent=True)
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self._failed(row, error)
            if isinstance(error, aiosmtplib.SMTPServerDisconnected | OSError):
                with contextlib.suppress(Exception):
                    await smtp.connect()
            return
        accepted = time.perf_counter()
        SMTP_SEND_SECONDS.observe(accepted - started)
        await deliveries.mark_sent(self._pool, row["id"])
        ACCEPT_TO_COMMIT_SECONDS.observe(time.perf_counter() - accepted)
        NOTIFICATIONS.labels(row["template"], "sent").inc()
        DELIVERY_SECONDS.observe(max(time.time() - row["created_at"].timestamp(), 0))

    async def _failed(self, row: Any, error: Exception, *, permanent: bool = False) -> None:
        dead = permanent or is_permanent(error) or row["attempts"] >= self._settings.max_attempts
        status = "dead" if dead else "failed"
        await deliveries.mark_failed(
            self._pool,
            row["id"],
            status=status,
            error=f"{type(error).__name__}: {error}"[:500],
            retry_in_s=backoff_seconds(row["attempts"]),
        )
        NOTIFICATIONS.labels(row["template"], status).inc()
        if not dead:
            RETRIES.inc()
        log.warning(
            "notification %s %s after attempt %d (%s)",
            row["id"],
            status,
            row["attempts"],
            type(error).__name__,
        )

    async def _census(self) -> None:
        counts = await deliveries.state_counts(self._pool)
        for status in ("pending", "sent", "failed", "dead", "suppressed"):
            NOTIFICATION_STATES.labels(status).set(counts.get(status, 0))
