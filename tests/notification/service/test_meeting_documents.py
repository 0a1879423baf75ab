"""A meeting's document added or removed is read like any known event and emails no one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from tests.notification.conftest import Meeting
from tilmeld_shared.events import (
    MeetingDocumentAdded,
    MeetingDocumentRemoved,
    RegistrationConfirmed,
    read_envelope,
)

Handle = Callable[..., Any]


async def test_documents_of_a_meeting_are_handled_and_email_no_one(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=3)
    document_id = uuid.uuid4()
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )
    added = meeting.event(
        MeetingDocumentAdded(
            document_id=document_id,
            meeting_id=meeting.id,
            network_id=meeting.network_id,
            filename="program.pdf",
            content_type="application/pdf",
            size=1234,
            visibility="participants",
            added_at=datetime.now(UTC),
        )
    )
    removed = meeting.event(
        MeetingDocumentRemoved(
            document_id=document_id,
            meeting_id=meeting.id,
            network_id=meeting.network_id,
            removed_at=datetime.now(UTC),
        )
    )
    # As the consumer reads them off Kafka: typed, not skipped as unknown nor dead-lettered.
    read = [read_envelope(envelope.model_dump_json().encode()) for envelope, _ in (added, removed)]
    assert [type(payload) for _, payload in read] == [MeetingDocumentAdded, MeetingDocumentRemoved]

    queued = await handle(*read)

    assert queued == []
    templates = [r["template"] for r in await pool.fetch("SELECT template FROM notifications")]
    assert templates == ["registration_confirmed"]
    handled = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])",
        [envelope.event_id for envelope, _ in read],
    )
    assert handled == 2
