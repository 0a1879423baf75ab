"""Topic proposals: their author hears when an organiser publishes, rejects (with the reason
when given) or schedules one (with the meeting's title and time when this service knows the
meeting), once each. Submitting, voting and withdrawing a vote are news to nobody here: the
address confirmation, when one is needed, is an email of its own."""

from __future__ import annotations

from typing import Any

from notification import rendering
from notification.repository import meetings
from notification.service.dialogue import network_title
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    ProposalPublished,
    ProposalRejected,
    ProposalScheduled,
    ProposalState,
)


async def proposal_published(
    conn: Connection, settings: Settings, payload: ProposalPublished, version: int
) -> list[Outgoing]:
    return await _to_author(conn, payload, "proposal_published")


async def proposal_rejected(
    conn: Connection, settings: Settings, payload: ProposalRejected, version: int
) -> list[Outgoing]:
    return await _to_author(conn, payload, "proposal_rejected", reason=payload.reason)


async def proposal_scheduled(
    conn: Connection, settings: Settings, payload: ProposalScheduled, version: int
) -> list[Outgoing]:
    meeting = None
    if payload.meeting_id is not None:
        meeting = await meetings.get_meeting(conn, payload.meeting_id)
    about = None
    if meeting is not None:
        about = {
            "title": meeting["title"],
            "when": rendering.format_when(
                meeting["starts_at"], meeting["ends_at"], meeting["timezone"], payload.language
            ),
        }
    return await _to_author(conn, payload, "proposal_scheduled", meeting=about)


async def _to_author(
    conn: Connection, payload: ProposalState, template: str, **news: Any
) -> list[Outgoing]:
    """The author's email, keyed by the proposal: one per proposal and kind of news."""
    personal = payload.personal
    if personal is None:
        return []  # an erased author: nobody to write to
    return [
        Outgoing(
            Recipient(personal.name, personal.email),
            template,
            payload.language,
            payload.member_id,  # so the author's erasure blanks these rows too
            None,
            {
                "proposal_title": payload.title,
                "network_title": await network_title(conn, payload.network_id),
                "action_url": personal.action_url,
                "reason": None,
                "meeting": None,
                **news,
                "dedupe_key": f"{template}:{payload.proposal_id}",
            },
            network_id=payload.network_id,
        )
    ]
