"""Putting emails in the delivery ledger: rendered, keyed so a redelivery queues nothing twice,
and held back (`suppressed`) past the hourly limit per recipient."""

from __future__ import annotations

import hashlib
import logging
import uuid

from notification import rendering
from notification.metrics import NOTIFICATIONS
from notification.repository import networks, notifications
from notification.service.networks import Organiser, organiser_of
from notification.service.recipients import Outgoing
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.tracing import message_trace_context

log = logging.getLogger(__name__)


async def queue(
    conn: Connection,
    settings: Settings,
    outgoing: list[Outgoing],
    *,
    dedupe_prefix: str | None,
    event_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Write the notification rows, in the caller's transaction; returns the ids to send.

    Over the hourly limit a row is `suppressed`, not sent. Each row keeps the trace context
    of the event's consumer span, so the dispatcher's send joins the event's trace."""
    queued = []
    trace_context = message_trace_context(event_id)
    organisers: dict[uuid.UUID, Organiser | None] = {}
    for item in outgoing:
        organiser = None
        if item.network_id is not None:
            if item.network_id not in organisers:
                network = await networks.get_network(conn, item.network_id)
                organisers[item.network_id] = organiser_of(
                    network, contact_email=item.context.get("network_contact_email")
                )
            organiser = organisers[item.network_id]
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
        key = item.context.get("dedupe_key") or f"{dedupe_prefix}:{address}:{item.template}"
        recent = await notifications.recent_to_recipient(conn, item.recipient.email)
        status = "suppressed" if recent >= settings.max_emails_per_recipient_per_hour else "pending"
        row = await notifications.insert_notification(
            conn,
            event_id=event_id,
            dedupe_key=key,
            member_id=item.member_id,
            registration_id=item.registration_id,
            recipient=item.recipient.email,
            template=item.template,
            language=rendering.language_or_fallback(item.language),
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            calendar=item.calendar,
            status=status,
            traceparent=trace_context.get("traceparent"),
            tracestate=trace_context.get("tracestate"),
            sender_name=organiser.name if organiser else None,
            reply_to=reply_to,
        )
        if row is None:
            continue  # queued before, under the same key
        NOTIFICATIONS.labels(item.template, status).inc()
        if status == "pending":
            queued.append(row["id"])
        else:
            log.warning("notification %s suppressed: recipient over the hourly limit", row["id"])
    return queued
