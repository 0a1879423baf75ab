"""Erasure of a person (GDPR art. 17): withdraw them from everything, then forget them."""

from __future__ import annotations

import uuid

from registration import repository as repo
from registration.service import enrolments, members, registrations
from registration.unit_of_work import ServiceContext
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import NotFound


async def forget_member(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> None:
    """Cancel the person's active registrations (freeing seats for the waitlist) and
    enrolments, then blank their personal data everywhere this service keeps it."""
    if await conn.fetchrow(repo.MEMBER, member_id) is None:
        raise NotFound(f"No member {member_id}.")
    for row in await conn.fetch(repo.MEMBER_ACTIVE_REGISTRATIONS, member_id):
        await registrations.cancel_registration(
            conn, ctx, row["id"], token=None, by_organiser=True, cancelled_by="erasure"
        )
    for row in await conn.fetch(repo.MEMBER_ACTIVE_ENROLMENTS, member_id):
        await enrolments.cancel_enrolment(
            conn, ctx, row["id"], token=None, by_organiser=True, erasure=True
        )
    await members.erase_member(conn, member_id)
