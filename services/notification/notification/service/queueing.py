"""Putting emails in the delivery ledger: rendered, keyed so a redelivery queues nothing twice,
and held back (`suppressed`) past the hourly limit per recipient."""

from __future__ import annotations

import hashlib
import logging
import uuid

from notification import rendering
from notification.metrics import NOTIFICATIONS
from notification.repository import notifications
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
    for item in outgoing:
        rendered = rendering.render(
            item.template,
            item.language,
            {
                "name": item.recipient.name,
                "companion_of": item.recipient.companion_of,
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
        )
        if row is None:
            continue  # queued before, under the same key
        NOTIFICATIONS.labels(item.template, status).inc()
        if status == "pending":
            queued.append(row["id"])
        else:
            log.warning("notification %s suppressed: recipient over the hourly limit", row["id"])
    return queued
