"""Use cases about the person: the member record, export of all data held, and erasure."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from registration import repository as repo
from registration.api.schemas import MemberIn
from registration.outbox import record_event
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MemberErased
from tilmeld_shared.problems import NotFound


async def upsert_member(conn: Connection, member: MemberIn) -> asyncpg.Record:
    row = await conn.fetchrow(
        repo.UPSERT_MEMBER,
        uuid.uuid4(),
        member.email,
        member.name,
        member.municipality,
        member.role,
        member.organisation,
        member.language,
    )
    assert row is not None
    return row


async def export_member(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    """Everything this service holds on the person (GDPR art. 15)."""
    member = await conn.fetchrow(repo.MEMBER, member_id)
    if member is None:
        raise NotFound(f"No member {member_id}.")
    enrolments = await conn.fetch(repo.MEMBER_ENROLMENTS, member_id)
    registrations = await conn.fetch(repo.MEMBER_REGISTRATIONS, member_id)
    return {
        "member": dict(member),
        "enrolments": [dict(row) for row in enrolments],
        "registrations": [
            {key: value for key, value in dict(row).items() if key != "position"}
            for row in registrations
        ],
    }


async def erase_member(conn: Connection, member_id: uuid.UUID) -> None:
    """Remove the person's personal data and keep the anonymous facts the aggregates need.

    The caller has already cancelled the person's active enrolments and registrations.
    """
    erased = await conn.fetchval(repo.ERASE_MEMBER, member_id)
    if erased is None:
        if await conn.fetchrow(repo.MEMBER, member_id) is None:
            raise NotFound(f"No member {member_id}.")
        return  # already erased: erasure is idempotent
    await conn.execute(repo.ERASE_COMPANIONS, member_id)
    await conn.execute(repo.REDACT_OUTBOX, str(member_id))
    now = await conn.fetchval("SELECT now()")
    await record_event(
        conn,
        MemberErased(member_id=member_id, erased_at=now),
        aggregate_id=member_id,
        aggregate_version=1,
        key=member_id,
    )
