"""Sending queued notifications over SMTP, after the row is committed, exactly once in effect.

A notification is claimed with FOR UPDATE SKIP LOCKED and a lease, so two processes never send
the same one. A crash after the SMTP server accepted the message but before `sent` was committed
sends it again after the lease expires; the Message-ID, derived from the notification id, lets
mail systems recognise that duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import asyncpg
from prometheus_client import Counter

from notification.settings import Settings

log = logging.getLogger(__name__)

NOTIFICATIONS_SENT = Counter(
    "tilmeld_notifications_total", "Notification delivery outcomes.", ["outcome"]
)

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
WHERE id = $1
"""


def build_message(row: Any, *, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = f"<{row['id']}@tilmeld>"
    message["Content-Language"] = row["language"]
    message.set_content(row["body_text"])
    if row["calendar"]:
        method = "CANCEL" if "METHOD:CANCEL" in row["calendar"] else "REQUEST"
        message.add_attachment(
            row["calendar"].encode(),
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method},
        )
    return message


def is_permanent(error: Exception) -> bool:
    """A 5xx from the server will not change on retry; 4xx and connection errors may."""
    code = getattr(error, "code", None)
    return isinstance(code, int) and 500 <= code < 600


def backoff_seconds(attempt: int) -> float:
    return random.uniform(0, min(2**attempt, 900))


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self.wakeup = asyncio.Event()

    async def run(self) -> None:
        while True:
            self.wakeup.clear()
            try:
                sent = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher round failed")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), 1.0)

    async def send_due(self, batch: int = 20) -> int:
        rows = await self._pool.fetch(CLAIM_DUE, batch)
        await asyncio.gather(*(self._send_one(row) for row in rows))
        return len(rows)

    async def _send_one(self, row: Any) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                build_message(row, mail_from=settings.mail_from),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password or None,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            dead = is_permanent(error) or row["attempts"] >= settings.max_attempts
            status = "dead" if dead else "failed"
            await self._pool.execute(
                MARK_FAILED,
                row["id"],
                status,
                f"{type(error).__name__}: {error}"[:500],
                backoff_seconds(row["attempts"]),
            )
            NOTIFICATIONS_SENT.labels(status).inc()
            log.warning("notification %s %s after attempt %d", row["id"], status, row["attempts"])
            return
        await self._pool.execute(MARK_SENT, row["id"])
        NOTIFICATIONS_SENT.labels("sent").inc()
