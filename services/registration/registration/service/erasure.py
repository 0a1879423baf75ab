"""Erasure of a person (GDPR art. 17): withdraw them from everything, then forget them."""

from __future__ import annotations

import uuid

from registration.repository import answers as answer_rows
from registration.repository import enrolments as enrolment_rows
from registration.repository import feedback as feedback_rows
from registration.repository import members as member_rows
from registration.repository import parties as party_rows
from registration.repository import registrations as registration_rows
from registration.service import address_confirmations, enrolments, members, registrations
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import NotFound


async def forget_member_within(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> None:
    """Cancel the person's active registrations (freeing seats for the waitlist) and
    enrolments, then blank their personal data everywhere this service keeps it. A party they
    are the contact of stays as it is (the municipality is nobody's personal data), without
    them and the statement they wrote."""
    if await member_rows.get(conn, member_id) is None:
        raise NotFound(f"No member {member_id}.")
    for row in await registration_rows.active_of_member(conn, member_id):
        await registrations.cancel_registration_within(
            conn, ctx, row["id"], token=None, by_organiser=True, cancelled_by="erasure"
        )
    for row in await enrolment_rows.active_of_member(conn, member_id):
        await enrolments.cancel_enrolment_within(
            conn, ctx, row["id"], token=None, by_organiser=True, erasure=True
        )
    await party_rows.forget_contact(conn, member_id)
    # Their answers (dietary needs, accessibility) and what they wrote as feedback go too; the
    # choices and numbers of their feedback stay, tied to nobody.
    await answer_rows.erase_of_member(conn, member_id, at=ctx.clock.now())
    await feedback_rows.erase_text_of_member(conn, member_id)
    # In the member dialogue: their free-text answers, authorship and votes' tie to them go; the
    # counted choices, scales and votes stay, tied to nobody, so the counts stay right.
    await address_confirmations.forget_dialogue_of_member_within(conn, member_id)
    await members.erase_member_within(conn, member_id)


async def forget_member(tx: Transactions, ctx: ServiceContext, member_id: uuid.UUID) -> None:
    """Erase the person, in one transaction: all of it happens, or none of it."""
    await tx.run(lambda conn: forget_member_within(conn, ctx, member_id))
