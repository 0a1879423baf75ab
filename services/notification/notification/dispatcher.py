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
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import asyncpg

from notification.metrics import (
    DELIVERY_SECONDS,
    NOTIFICATION_STATES,
    NOTIFICATIONS,
    RETRIES,
    SMTP_SEND_SECONDS,
)
from notification.settings import Settings

log = logging.getLogger(__name__)

LEASE_SECONDS = 60

CLAIM_DUE = f"""
UPDATE notifications n
SET locked_until = now() + interval '{LEASE_SECONDS} seconds', attempts = n.attempts + 1
FROM (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
      AND (locked_until IS NULL OR locked_until < now())
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE n.id = due.id
RETURNING n.*
"""

MARK_SENT = """
UPDATE notifications SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = NULL
WHERE id = $1
"""

MARK_FAILED = """
UPDATE notifications
SET status = $2, last_error = $3, locked_until = NULL,
    next_attempt_at = now() + make_interval(secs => $4)
WHERE id = $1 AND status IN ('pending', 'failed')
"""

# Erasure may have suppressed a row while it was leased: check just before sending.
STILL_SENDABLE = "SELECT status IN ('pending', 'failed') FROM notifications WHERE id = $1"

STATE_COUNTS = "SELECT status, count(*) AS n FROM notifications GROUP BY status"


def build_message(row: Any, *, mail_from: str) -> EmailMessage:
    """Text and HTML alternatives, and the invitation both inline (so calendar clients offer
    to add it in one click) and as an .ics attachment."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = f"<{row['id']}@tilmeld>"
    message.set_content(row["body_text"])
    if row["body_html"]:
        message.add_alternative(row["body_html"], subtype="html")
    if row["calendar"]:
        method = "CANCEL" if "METHOD:CANCEL" in row["calendar"] else "REQUEST"
        message.add_alternative(row["calendar"], subtype="calendar", params={"method": method})
        message.add_attachment(
            row["calendar"].encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    # After the body: making a message multipart moves Content-* headers into the first part.
    message["Content-Language"] = row["language"]
    return message


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
        rows = await self._pool.fetch(CLAIM_DUE, self._settings.dispatch_batch_size)
        if not rows:
            return 0
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
            return len(rows)
        try:
            for row in rows:
                await self._send_one(smtp, row)
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()
        return len(rows)

    async def _send_one(self, smtp: aiosmtplib.SMTP, row: Any) -> None:
        if not await self._pool.fetchval(STILL_SENDABLE, row["id"]):
            return  # erased or re-queued meanwhile
        started = time.perf_counter()
        try:
            await smtp.send_message(build_message(row, mail_from=self._settings.mail_from))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self._failed(row, error)
            if isinstance(error, aiosmtplib.SMTPServerDisconnected | OSError):
                with contextlib.suppress(Exception):
                    await smtp.connect()
            return
        SMTP_SEND_SECONDS.observe(time.perf_counter() - started)
        await self._pool.execute(MARK_SENT, row["id"])
        NOTIFICATIONS.labels(row["template"], "sent").inc()
        DELIVERY_SECONDS.observe(max(time.time() - row["created_at"].timestamp(), 0))

    async def _failed(self, row: Any, error: Exception) -> None:
        dead = is_permanent(error) or row["attempts"] >= self._settings.max_attempts
        status = "dead" if dead else "failed"
        await self._pool.execute(
            MARK_FAILED,
            row["id"],
            status,
            f"{type(error).__name__}: {error}"[:500],
            backoff_seconds(row["attempts"]),
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
        counts = {row["status"]: row["n"] for row in await self._pool.fetch(STATE_COUNTS)}
        for status in ("pending", "sent", "failed", "dead", "suppressed"):
            NOTIFICATION_STATES.labels(status).set(counts.get(status, 0))
