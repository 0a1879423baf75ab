"""Sending queued notifications over SMTP, after their rows are committed.

Due rows are claimed in batches with FOR UPDATE SKIP LOCKED and a lease, so two processes never
send the same notification, and sent over a few SMTP connections that stay open from one batch to
the next; the next batch is claimed while the current one is sent, and each connection takes the
next row as soon as it is free. A crash between the server's acceptance of a message and the commit
of `sent` is the one window in which a message can go out twice (after the lease expires): no more
than `UNMARKED_MAX` are ever accepted and not yet marked, so a crash sends at most that many twice.
The Message-ID, derived from the notification id, lets mail systems recognise such a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import aiosmtplib
import asyncpg
from aiosmtplib import SMTPStatus
from aiosmtplib.email import quote_address

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
# of SMTP connections: the most one crash can send twice. As many as the default connections: with
# 4, a connection often waited for a commit with its next email ready (10,000 emails to a local
# server: 874-891 emails/s with 4, 993-1,025 with 8, 1,001 with 16; the commit under 10 ms at p99).
UNMARKED_MAX = 8

# A connection left idle this long is closed; servers drop idle clients after a few minutes
# (RFC 5321 4.5.3.2.7), and a pause in the traffic should not hold a server's slot.
SMTP_IDLE_CLOSE_S = 30.0

# What the ledger needs, beyond the server's answers, to commit `sent` before a lease runs out.
COMMIT_MARGIN_S = 5.0


def is_permanent(error: Exception) -> bool:
    """A 5xx from the server will not change on retry; 4xx and connection errors may."""
    code = getattr(error, "code", None)
    return isinstance(code, int) and 500 <= code < 600


def backoff_seconds(attempt: int) -> float:
    """Exponential with full jitter, capped at 15 minutes."""
    return random.uniform(0, min(2**attempt, 900))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased row, and the last moment (monotonic) its message may be handed to the server:
    after that the server's answer and the commit of `sent` might outlast the lease, and another
    process could claim and send the row meanwhile."""

    row: Any
    hand_over_by: float


@dataclass(frozen=True, slots=True)
class Accepted:
    """A row the SMTP server accepted, and when (perf_counter), until it is marked `sent`."""

    row: Any
    at: float


class SentMarks:
    """The ledger as the SMTP connections use it: accepted emails marked `sent`, and before
    each message, whether its row is still to be sent (erasure may suppress a leased row).

    Whatever is asked while a round trip is under way goes in the next, in one statement and one
    commit: a commit per email made the database the bottleneck. At most `UNMARKED_MAX` emails
    are handed over and not yet committed `sent` at any time; once a round trip fails, none is
    handed over any more (those accepted stay unmarked, as after a crash)."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._unmarked = asyncio.Semaphore(UNMARKED_MAX)
        self._to_mark: list[Accepted] = []
        self._to_check: list[tuple[Any, asyncio.Future[bool]]] = []
        self._round_trips: asyncio.Task[None] | None = None
        self._failure: Exception | None = None

    def still_to_send(self, row: Any) -> asyncio.Future[bool]:
        """Whether `row` is still to be sent, as the next round trip finds it."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._failure is not None:
            answer.set_exception(self._failure)
            return answer
        self._to_check.append((row, answer))
        self._start()
        return answer

    async def hand_over(self) -> None:
        """Wait until an email more may be handed to the server before the others are marked."""
        await self._unmarked.acquire()
        if self._failure is not None:
            self._unmarked.release()
            raise self._failure

    def not_accepted(self) -> None:
        """The email handed over was refused: it will not be marked."""
        self._unmarked.release()

    def accepted(self, accepted: Accepted) -> None:
        """Mark `accepted` sent in the next round trip; its place is free once committed."""
        self._to_mark.append(accepted)
        self._start()

    async def settled(self) -> None:
        """Once every accepted email is committed `sent` (raises if a round trip failed)."""
        while self._round_trips is not None and not self._round_trips.done():
            await self._round_trips
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        if self._round_trips is not None:
            self._round_trips.cancel()

    def _start(self) -> None:
        if self._round_trips is None or self._round_trips.done():
            self._round_trips = asyncio.create_task(self._answer_all())

    async def _answer_all(self) -> None:
        while self._to_mark or self._to_check:
            marking, self._to_mark = self._to_mark, []
            checking, self._to_check = self._to_check, []
            try:
                sendable = await deliveries.mark_sent_and_check(
                    self._db,
                    sent=[accepted.row["id"] for accepted in marking],
                    upcoming=[row["id"] for row, _ in checking],
                )
            except Exception as error:
                self._failure = error
                # Wakes a connection waiting to hand over, which then finds the failure.
                for _ in marking:
                    self._unmarked.release()
                for _, answer in [*checking, *self._to_check]:
                    if not answer.done():
                        answer.set_exception(error)
                self._to_check = []
                return
            committed = time.perf_counter()
            for accepted in marking:
                self._unmarked.release()
                ACCEPT_TO_COMMIT_SECONDS.observe(committed - accepted.at)
                NOTIFICATIONS.labels(accepted.row["template"], "sent").inc()
                DELIVERY_SECONDS.observe(
                    max(time.time() - accepted.row["created_at"].timestamp(), 0)
                )
            for row, answer in checking:
                if not answer.done():  # a connection cancelled meanwhile asks no more
                    answer.set_result(row["id"] in sendable)


class SmtpConnection:
    """One connection to the SMTP server: opened when first needed, kept for the next emails,
    dropped after an error (and opened again for the next email)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_s,
        )
        await smtp.connect()
        if smtp.is_ehlo_or_helo_needed:  # MAIL goes out as a plain command, with no EHLO of its own
            try:
                await smtp.ehlo()
            except aiosmtplib.SMTPHeloError:
                await smtp.helo()  # a server without ESMTP, as aiosmtplib itself falls back
        self._smtp = smtp
        return smtp

    async def reset(self) -> None:
        """Forget an envelope begun for a message that will not be sent (RSET)."""
        if self._smtp is None or not self._smtp.is_connected:
            return
        try:
            await self._smtp.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self.drop()

    def drop(self) -> None:
        """Close at once: after an error or a cancellation the exchange's state is unknown."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    async def close(self) -> None:
        """Say goodbye (QUIT) and close."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            with contextlib.suppress(Exception):
                await smtp.quit()


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self._sender = parseaddr(settings.mail_from)[1]
        self._quoted_sender = quote_address(self._sender).encode("ascii")
        self._connections = [SmtpConnection(settings) for _ in range(settings.smtp_connections)]
        # The server may take smtp_timeout_s for each of DATA and the message; a row's lease
        # covers that and the commit of `sent` after its message is handed over.
        self._answer_within_s = 2 * settings.smtp_timeout_s + COMMIT_MARGIN_S
        self._lease_s = max(deliveries.LEASE_SECONDS, 2 * self._answer_within_s)
        self.wakeup = asyncio.Event()

    async def run(self) -> None:
        last_census = 0.0
        last_sent = time.monotonic()
        try:
            while True:
                self.wakeup.clear()
                try:
                    sent = await self._send(claim_ahead=True)
                    if time.monotonic() - last_census > 10:
                        await self._census()
                        last_census = time.monotonic()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher round failed")
                    sent = 0
                if sent:
                    last_sent = time.monotonic()
                    continue
                if time.monotonic() - last_sent > SMTP_IDLE_CLOSE_S:
                    await self.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), 1.0)
        finally:
            for connection in self._connections:
                connection.drop()

    async def send_due(self) -> int:
        """Claim one batch and send it; the SMTP connections stay open for the next."""
        return await self._send(claim_ahead=False)

    async def close(self) -> None:
        """Close the SMTP connections (they open again when there is something to send)."""
        await asyncio.gather(*(connection.close() for connection in self._connections))

    async def _send(self, *, claim_ahead: bool) -> int:
        """Claim due rows and send them over the SMTP connections at once (the time per message
        is mostly waiting for the server, so parallel connections multiply throughput); with
        `claim_ahead`, batch after batch until nothing is due, each claimed while the previous
        one is sent. How many rows were claimed."""
        batch = await self._claim()
        if not batch:
            return 0
        queue: asyncio.Queue[Claimed | None] = asyncio.Queue(self._settings.dispatch_batch_size)
        # The ledger's round trips follow one another all through the batches: one connection
        # for them saves each the pool's reset query.
        async with self._pool.acquire() as conn:
            marks = SentMarks(conn)
            feeder = asyncio.create_task(self._feed(queue, batch, claim_ahead=claim_ahead))
            senders = [
                asyncio.create_task(self._send_from(queue, connection, marks))
                for connection in self._connections
            ]
            try:
                await asyncio.gather(feeder, *senders)
                await marks.settled()
            except BaseException:
                for task in (feeder, *senders):
                    task.cancel()
                marks.stop()
                await asyncio.gather(feeder, *senders, return_exceptions=True)
                for connection in self._connections:
                    connection.drop()
                raise
        return feeder.result()

    async def _claim(self) -> list[Claimed]:
        hand_over_by = time.monotonic() + self._lease_s - self._answer_within_s
        rows = await deliveries.claim_due(
            self._pool, limit=self._settings.dispatch_batch_size, lease_s=self._lease_s
        )
        return [Claimed(row, hand_over_by) for row in rows]

    async def _feed(
        self, queue: asyncio.Queue[Claimed | None], batch: list[Claimed], *, claim_ahead: bool
    ) -> int:
        """Queue `batch` for the connections, and the batches due after it (when claiming
        ahead); then one end for each connection. How many rows were queued."""
        queued = 0
        while batch:
            for claimed in batch:
                await queue.put(claimed)
            queued += len(batch)
            batch = await self._claim() if claim_ahead else []
        for _ in self._connections:
            await queue.put(None)
        return queued

    async def _send_from(
        self, queue: asyncio.Queue[Claimed | None], connection: SmtpConnection, marks: SentMarks
    ) -> None:
        while (claimed := await queue.get()) is not None:
            if time.monotonic() > claimed.hand_over_by:
                continue  # waited out its lease: left to the next claim once the lease expires
            await self._send_one(connection, claimed, marks)

    async def _send_one(
        self, connection: SmtpConnection, claimed: Claimed, marks: SentMarks
    ) -> None:
        if not tracing_on():
            await self._send_row(connection, claimed, marks)
            return
        row = claimed.row
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
            await self._send_row(connection, claimed, marks)

    async def _send_row(
        self, connection: SmtpConnection, claimed: Claimed, marks: SentMarks
    ) -> None:
        """Send one row: accepted, it is marked `sent` (by `marks`); refused, `failed` or
        `dead`; no longer to be sent (erased or re-queued meanwhile), left as it is.

        The envelope (MAIL, RCPT) goes out while the ledger answers whether the row is still to
        be sent; the message itself (DATA) only after that answer."""
        row = claimed.row
        still_to_send = marks.still_to_send(row)
        started = time.perf_counter()
        try:
            recipient = smtp_address(row["recipient"])
            # A non-ASCII local part needs the server's SMTPUTF8 extension, and UTF-8 headers.
            utf8 = not recipient.isascii()
            message = build_message(row, mail_from=self._settings.mail_from, utf8=utf8)
            smtp = await connection.open()
            try:
                await self._envelope(smtp, recipient, utf8=utf8)
            except aiosmtplib.SMTPServerDisconnected:
                # A kept connection the server closed meanwhile (idle, or after a 421): nothing
                # of this email went out, so it goes over a new one, not into a retry.
                connection.drop()
                smtp = await connection.open()
                await self._envelope(smtp, recipient, utf8=utf8)
        except (UnicodeError, aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await still_to_send  # a row erased meanwhile stays so: marking it failed leaves it
            await self._smtp_failed(connection, row, error)
            return
        if not await still_to_send:
            await connection.reset()
            return
        await marks.hand_over()
        if time.monotonic() > claimed.hand_over_by:  # its lease ran short waiting for its turn
            marks.not_accepted()
            await connection.reset()
            return
        try:
            await smtp.data(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            marks.not_accepted()
            await self._smtp_failed(connection, row, error)
            return
        accepted_at = time.perf_counter()
        SMTP_SEND_SECONDS.observe(accepted_at - started)
        marks.accepted(Accepted(row, accepted_at))

    async def _envelope(self, smtp: aiosmtplib.SMTP, recipient: str, *, utf8: bool) -> None:
        """MAIL and RCPT, as aiosmtplib's sendmail sends them (without the optional SIZE)."""
        if utf8:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            if not smtp.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
        encoding = "utf-8" if utf8 else "ascii"
        # The sender is the same for every email: quoted once, not parsed again for each.
        response = await smtp.execute_command(
            b"MAIL", b"FROM:" + self._quoted_sender, *([b"SMTPUTF8"] if utf8 else [])
        )
        if response.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, self._sender)
        await smtp.rcpt(recipient, encoding=encoding)

    async def _smtp_failed(self, connection: SmtpConnection, row: Any, error: Exception) -> None:
        if isinstance(error, UnicodeError | aiosmtplib.SMTPNotSupported):
            # An address no server takes, or one this server never will (SMTPUTF8 is the one
            # extension asked for here): retrying changes nothing.
            await self._failed(row, error, permanent=True)
            return
        await self._failed(row, error)
        if isinstance(error, aiosmtplib.SMTPResponseException) and error.code != 421:
            # A refusal leaves the envelope open on the server: reset it for the next message.
            await connection.reset()
        else:
            # Disconnected, timed out, or a 421 (the server closes the channel after it): the
            # next message opens another connection.
            connection.drop()

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
