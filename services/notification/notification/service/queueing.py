"""Putting emails in the delivery ledger: rendered, keyed so a redelivery queues nothing twice,
and held back (`suppressed`) past the hourly limit per recipient."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

import asyncpg

from notification import rendering
from notification.metrics import NOTIFICATIONS
from notification.repository import networks, notifications
from notification.service.networks import Organiser, organiser_of
from notification.service.recipients import Outgoing
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.tracing import message_trace_context

log = logging.getLogger(__name__)


class Ledger:
    """The emails of one transaction, rendered as their events are handled and written to the
    ledger together: a consumer batch costs a few round trips, not two per email.

    `write` must run before anything in the transaction reads the ledger (an erasure), and at
    the end; the networks read are kept until `forget_networks` (a network event changed one)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._rows: list[notifications.NewNotification] = []
        self._networks: dict[uuid.UUID, asyncpg.Record | None] = {}

    def forget_networks(self) -> None:
        self._networks.clear()

    async def add(
        self,
        conn: Connection,
        outgoing: list[Outgoing],
        *,
        dedupe_prefix: str | None,
        event_id: uuid.UUID | None,
    ) -> None:
        """Render the emails and hold them for `write`. Each row keeps the trace context of the
        event's consumer span, so the dispatcher's send joins the event's trace."""
        trace_context = message_trace_context(event_id)
        organisers: dict[uuid.UUID, Organiser | None] = {}
        for item in outgoing:
            organiser = None
            if item.network_id is not None:
                if item.network_id not in organisers:
                    organisers[item.network_id] = organiser_of(
                        await self._network(conn, item.network_id),
                        contact_email=item.context.get("network_contact_email"),
                    )
                organiser = organisers[item.network_id]
            self._rows.append(_row(item, organiser, dedupe_prefix, event_id, trace_context))

    async def write(self, conn: Connection) -> list[uuid.UUID]:
        """Insert the rows held, in the order they were added; returns the ids to send.

        Over the hourly limit a row is `suppressed`, not sent; rows earlier in the same write
        count toward the limit as if each had been inserted alone, and a key queued before (or
        earlier in the write) queues nothing."""
        rows, self._rows = self._rows, []
        if not rows:
            return []
        recent = await notifications.recent_to_recipients(conn, [r.recipient for r in rows])
        seen = await notifications.queued_keys(conn, [r.dedupe_key for r in rows])
        limit = self._settings.max_emails_per_recipient_per_hour
        kept = []
        for row in rows:
            if row.dedupe_key in seen:
                continue  # queued before, under the same key
            seen.add(row.dedupe_key)
            address = row.recipient.lower()
            row.status = "suppressed" if recent.get(address, 0) >= limit else "pending"
            if row.status == "pending":
                recent[address] = recent.get(address, 0) + 1
            kept.append(row)
        queued = []
        for inserted in await notifications.insert_notifications(conn, kept):
            NOTIFICATIONS.labels(inserted["template"], inserted["status"]).inc()
            if inserted["status"] == "pending":
                queued.append(inserted["id"])
            else:
                log.warning(
                    "notification %s suppressed: recipient over the hourly limit", inserted["id"]
                )
        return queued

    async def _network(self, conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
        if network_id not in self._networks:
            self._networks[network_id] = await networks.get_network(conn, network_id)
        return self._networks[network_id]


async def queue(
    conn: Connection,
    settings: Settings,
    outgoing: list[Outgoing],
    *,
    dedupe_prefix: str | None,
    event_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Write the notification rows, in the caller's transaction; returns the ids to send."""
    ledger = Ledger(settings)
    await ledger.add(conn, outgoing, dedupe_prefix=dedupe_prefix, event_id=event_id)
    return await ledger.write(conn)


def _row(
    item: Outgoing,
    organiser: Organiser | None,
    dedupe_prefix: str | None,
    event_id: uuid.UUID | None,
    trace_context: dict[str, Any],
) -> notifications.NewNotification:
    reply_to = organiser.contact_email if organiser else None
    if reply_to and reply_to.lower() == item.recipient.email.lower():
        reply_to = None  # the contact themselves: a reply would come back to them
    rendered = rendering.render(
        item.template,
        item.language,
        {
            "name": item.recipient.name,
            "companion_of": item.recipient.companion_of,
            "organiser": {**organiser.context(), "replies": reply_to is not None}
            if organiser
            else None,
            **item.context,
        },
    )
    # The address goes into the key as a digest: the key outlives an erasure.
    address = hashlib.sha256(item.recipient.email.lower().encode()).hexdigest()[:32]
    return notifications.NewNotification(
        event_id=event_id,
        dedupe_key=item.context.get("dedupe_key") or f"{dedupe_prefix}:{address}:{item.template}",
        member_id=item.member_id,
        registration_id=item.registration_id,
        recipient=item.recipient.email,
        template=item.template,
        language=rendering.language_or_fallback(item.language),
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        calendar=item.calendar,
        traceparent=trace_context.get("traceparent"),
        tracestate=trace_context.get("tracestate"),
        sender_name=organiser.name if organiser else None,
        reply_to=reply_to,
    )
