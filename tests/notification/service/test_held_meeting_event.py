"""A meeting becoming held (registration marks it after it ends) is news to no one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from tests.notification.conftest import Meeting
from tilmeld_shared.events import MeetingUpdated, RegistrationConfirmed

Handle = Callable[..., Any]


async def test_a_meeting_marked_held_emails_no_one(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting(days_ahead=3)
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )

    await handle(meeting.scheduled(MeetingUpdated, status="held"))

    templates = [r["template"] for r in await pool.fetch("SELECT template FROM notifications")]
    assert templates == ["registration_confirmed"]
    stored = await pool.fetchval("SELECT status FROM meetings WHERE id = $1", meeting.id)
    assert stored == "held"
