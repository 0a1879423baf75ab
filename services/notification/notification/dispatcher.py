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
import logging
import random
import time
from email.utils import parseaddr
from typing import Any

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
from notification.mime import build_message, smtp_address
from notification.repository import deliveries
from notification.settings import Settings
from tilmeld_shared.tracing import TRACE_HEADERS, SpanKind, span_continuing, tracing_on

log = logging.getLogger(__name__)


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
