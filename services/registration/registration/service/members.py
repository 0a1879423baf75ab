"""Use cases about the person: the member record, export of all data held, and erasure."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from registration import repository as repo
from registration.api.schemas import MemberIn
from registration.outbox import record_event
from registration.personal_data import PersonalDataVault
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MemberErased, PersonalData, SealedPersonalData
from tilmeld_shared.problems import NotFound


async def member_for_sign_up(
    conn: Connection, vault: PersonalDataVault, member: MemberIn
) -> asyncpg.Record:
    """The member with this email: created from the sign-up if new, else as stored (a sign-up
    never rewrites someone's name or municipality); every member has a data key."""
    new_id = uuid.uuid4()
    row = await conn.fetchrow(
        repo.MEMBER_FOR_SIGN_UP,
        new_id,
        member.email,
        member.name,
        member.municipality,
        member.role,
        member.organisation,
        member.language,
        vault.new_wrapped_key(new_id),  # used only if this inserts
    )
    assert row is not None
    if row["data_key"] is None:
        row = await conn.fetchrow(repo.GIVE_DATA_KEY, row["id"], vault.new_wrapped_key(row["id"]))
        assert row is not None
    return row


async def open_personal_data(
    conn: Connection, vault: PersonalDataVault, items: list[SealedPersonalData]
) -> list[PersonalData | None]:
    """Open sealed personal data for the notification service; None for an erased member."""
    keys = {
        row["id"]: row["data_key"]
        for row in await conn.fetch(repo.DATA_KEYS, [item.member_id for item in items])
    }
    return [vault.open(item, keys.get(item.member_id)) for item in items]


async def export_member(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    """Everything this service holds on the person (GDPR art. 15)."""
    member = await conn.fetchrow(repo.MEMBER, member_id)
    if member is None:
        raise NotFound(f"No member {member_id}.")
    enrolments = await conn.fetch(repo.MEMBER_ENROLMENTS, member_id)
    registrations = await conn.fetch(repo.MEMBER_REGISTRATIONS, member_id)
    return {
        # The data key is ours, not the person's data: it stays out of the export.
        "member": {key: value for key, value in dict(member).items() if key != "data_key"},
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
    await conn.execute(repo.FORGET_IDEMPOTENCY_RECORDS, str(member_id))
    await conn.execute(repo.REDACT_OUTBOX, str(member_id))
    now = await conn.fetchval("SELECT now()")
    await record_event(
        conn,
        MemberErased(member_id=member_id, erased_at=now),
        aggregate_id=member_id,
        aggregate_version=1,
        key=member_id,
    )
