"""Which organisation a resource belongs to, through its network (NULL: the platform's)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import asyncpg

from registration.repository import enrolments, meetings, networks, parties, registrations
from tilmeld_shared.db import Connection

Kind = Literal["network", "meeting", "registration", "enrolment", "party"]

_OWNER: dict[str, Callable[[Connection, uuid.UUID], Awaitable[asyncpg.Record | None]]] = {
    "network": networks.organisation_of,
    "meeting": meetings.organisation_of,
    "registration": registrations.organisation_of,
    "enrolment": enrolments.organisation_of,
    "party": parties.organisation_of,
}


async def owner_of(conn: Connection, kind: str, resource_id: uuid.UUID) -> asyncpg.Record | None:
    """The row (`organisation_id`) of the resource's owner, or None if there is no resource."""
    return await _OWNER[kind](conn, resource_id)
