"""Sending queued notifications over SMTP, after their rows are committed.

A batch is claimed with FOR UPDATE SKIP LOCKED and a lease, so two processes never send the same
notification, and sent over a few SMTP connections at once. A crash between the server's
acceptance of a message and the commit of `sent` is the one window in which a message can go
out twice (after the lease expires): a connection hands the server its next message only once
its last accepted one is marked `sent`, and no more than `UNMARKED_MAX` are ever accepted and
not yet marked, so a crash sends at most that many twice. The Message-ID, derived from the
notification id, lets mail systems recognise such a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
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
from notification.repository import Db, deliveries
from notification.settings import Settings
from tilmeld_shared.tracing import TRACE_HEADERS, SpanKind, span_continuing, tracing_on

log = logging.getLogger(__name__)

# Emails the server has accepted that are not yet committed `sent`, at most, whatever the number
# of SMTP connections: the most one crash can send twice.
UNMARKED_MAX = 4


def is_permanent(error: Exception) -> bool:
    """A 5xx from the server will not change on retry; 4xx and connection errors may."""
    code = getattr(error, "code", None)
    return isinstance(code, int) and 500 <= code < 600


def backoff_seconds(attempt: int) -> float:
    """Exponential with full jitter, capped at 15 minutes."""
    return random.uniform(0, min(2**attempt, 900))


@dataclass(frozen=True)
class Accepted:
    """A row the SMTP server accepted, and when (perf_counter), until it is marked `sent`."""

    row: Any
    at: float


class SentMarks:
    """What the SMTP connections of one batch ask the ledger between two messages: mark the
    last accepted one `sent`, and is the next one still to be sent?

    Whatever the connections ask while a round trip is under way goes in the next, in one
    statement and one commit: a commit per email made the database the bottleneck. At most
    `UNMARKED_MAX` emails are handed over and not yet committed `sent` at any time."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._unmarked = asyncio.Semaphore(UNMARKED_MAX)
        self._waiting: list[tuple[Accepted | None, Any, asyncio.Future[bool]]] = []
        self._round_trips: asyncio.Task[None] | None = None

    def ask(self, accepted: Accepted | None, upcoming: Any) -> asyncio.Future[bool]:
        """Once `accepted` (if any) is committed `sent`: whether the row `upcoming` (if any) is
        still to be sent."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((accepted, upcoming, answer))
        if self._round_trips is None or self._round_trips.done():
            self._round_trips = asyncio.create_task(self._answer_all())
        return answer

    async def hand_over(self) -> None:
        """Wait until an email more may be handed to the server before the others are marked."""
        await self._unmarked.acquire()

    def not_accepted(self) -> None:
        """The email handed over was refused: it will not be marked."""
        self._unmarked.release()

    async def _answer_all(self) -> None:
        while self._waiting:
            asked, self._waiting = self._waiting, []
            sent = [accepted for accepted, _, _ in asked if accepted is not None]
            upcoming = [row["id"] for _, row, _ in asked if row is not None]
            try:
                sendable = await deliveries.mark_sent_and_check(
                    self._db, sent=[accepted.row["id"] for accepted in sent], upcoming=upcoming
                )
            except Exception as error:
                for _ in sent:
                    self._unmarked.release()
                for _, _, answer in asked:
                    if not answer.done():  # a connection cancelled meanwhile asks no more
                        answer.set_exception(error)
                continue
            committed = time.perf_counter()
            for accepted in sent:
                self._unmarked.release()
                ACCEPT_TO_COMMIT_SECONDS.observe(committed - accepted.at)
                NOTIFICATIONS.labels(accepted.row["template"], "sent").inc()
                DELIVERY_SECONDS.observe(
                    max(time.time() - accepted.row["created_at"].timestamp(), 0)
                )
            for _, row, answer in asked:
                if not answer.done():
                    answer.set_result(row is not None and row["id"] in sendable)


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
        # The ledger's round trips follow one another all through the batch: one connection
        # for them saves each the pool's reset query.
        async with self._pool.acquire() as conn:
            marks = SentMarks(conn)
            await asyncio.gather(
                *(self._send_over_one_connection(rows[lane::lanes], marks) for lane in range(lanes))
            )
        return len(rows)

    async def _send_over_one_connection(self, rows: list[Any], marks: SentMarks) -> None:
        # Asked first, so the ledger answers while the connection opens.
        still_to_send = marks.ask(None, rows[0])
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
            await still_to_send
            for row in rows:
                await self._failed(row, error)
            return
        try:
            for row, upcoming in zip(rows, [*rows[1:], None], strict=True):
                accepted = await self._send_one(smtp, row, marks, still_to_send)
                still_to_send = marks.ask(accepted, upcoming)
            await still_to_send  # the last message marked before the batch ends
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()

    async def _send_one(
        self,
        smtp: aiosmtplib.SMTP,
        row: Any,
        marks: SentMarks,
        still_to_send: Awaitable[bool],
    ) -> Accepted | None:
        if not tracing_on():
            return await self._send(smtp, row, marks, still_to_send)
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
            return await self._send(smtp, row, marks, still_to_send)

    async def _send(
        self,
        smtp: aiosmtplib.SMTP,
        row: Any,
        marks: SentMarks,
        still_to_send: Awaitable[bool],
    ) -> Accepted | None:
        """The row as the server accepted it; None when it was not (and is marked so), or is
        no longer to be sent (erased or re-queued meanwhile).

        The envelope (MAIL, RCPT) goes out while the ledger answers `still_to_send`, which
        also commits the connection's last message as `sent`; the message itself (DATA) only
        after that answer."""
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            recipient = smtp_address(row["recipient"])
            # A non-ASCII local part needs the server's SMTPUTF8 extension, and UTF-8 headers.
            utf8 = not recipient.isascii()
            message = build_message(row, mail_from=self._settings.mail_from, utf8=utf8)
            await self._envelope(smtp, recipient, utf8=utf8)
        except (UnicodeError, aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            failure = error
        if not await still_to_send and failure is None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.rset()
            return None
        if failure is None:
            await marks.hand_over()
            try:
                await smtp.data(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                marks.not_accepted()
                failure = error
        if failure is not None:
            await self._smtp_failed(smtp, row, failure)
            return None
        accepted_at = time.perf_counter()
        SMTP_SEND_SECONDS.observe(accepted_at - started)
        return Accepted(row, accepted_at)

    async def _envelope(self, smtp: aiosmtplib.SMTP, recipient: str, *, utf8: bool) -> None:
        """MAIL and RCPT, as aiosmtplib's sendmail sends them (without the optional SIZE)."""
        if utf8:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            if not smtp.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
        encoding = "utf-8" if utf8 else "ascii"
        await smtp.mail(self._sender, options=["SMTPUTF8"] if utf8 else [], encoding=encoding)
        await smtp.rcpt(recipient, encoding=encoding)

    async def _smtp_failed(self, smtp: aiosmtplib.SMTP, row: Any, error: Exception) -> None:
        if isinstance(error, UnicodeError | aiosmtplib.SMTPNotSupported):
            # An address no server takes, or one this server never will (SMTPUTF8 is the one
            # extension asked for here): retrying changes nothing.
            await self._failed(row, error, permanent=True)
            return
        await self._failed(row, error)
        if isinstance(error, aiosmtplib.SMTPResponseException):
            # A refusal leaves the envelope open on the server: reset it for the next message.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.rset()
        if isinstance(error, aiosmtplib.SMTPServerDisconnected | OSError):
            with contextlib.suppress(Exception):
                await smtp.connect()

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
