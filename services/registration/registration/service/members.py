"""Use cases about the person: the member record, export of all data held, and erasure."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from registration import clients
from registration.outbox import record_event
from registration.personal_data import PersonalDataVault
from registration.repository import answers as answer_rows
from registration.repository import database, events, idempotency
from registration.repository import enrolments as enrolment_rows
from registration.repository import feedback as feedback_rows
from registration.repository import members as member_rows
from registration.repository import parties as party_rows
from registration.repository import registrations as registration_rows
from registration.service import address_confirmations, answers
from registration.service.commands import MemberIn
from registration.service.municipalities import resolve_member_again, typed_municipality
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MemberErased, PersonalData, SealedPersonalData
from tilmeld_shared.problems import NotFound


async def member_for_sign_up(
    conn: Connection,
    vault: PersonalDataVault,
    member: MemberIn,
) -> asyncpg.Record:
    """The member with this email: created from the sign-up if new, else as stored (a sign-up
    never rewrites someone's name or municipality); every member has a data key. A new
    member's municipality is resolved to the register; a stored one that is not yet resolved
    is tried again (the register may have learnt it since)."""
    new_id = uuid.uuid4()
    typed = await typed_municipality(conn, member)
    row = await member_rows.for_sign_up(
        conn,
        member_id=new_id,
        email=member.email,
        name=member.name,
        municipality=typed.name,
        role=member.role,
        organisation=member.organisation,
        language=member.language,
        data_key=vault.new_wrapped_key(new_id),  # used only if this inserts
        municipality_id=typed.municipality_id,
        municipality_key=typed.key,
    )
    if row["id"] != new_id and row["municipality_id"] is None:
        row = await resolve_member_again(conn, row)
    return await with_data_key(conn, vault, row)


async def with_data_key(
    conn: Connection, vault: PersonalDataVault, member: asyncpg.Record
) -> asyncpg.Record:
    """The member, given a data key of their own first if they have none yet: what they say
    is sealed with it."""
    if member["data_key"] is not None:
        return member
    keyed = await member_rows.give_data_key(
        conn, member["id"], data_key=vault.new_wrapped_key(member["id"])
    )
    assert keyed is not None
    return keyed


async def open_personal_data_within(
    conn: Connection, vault: PersonalDataVault, items: list[SealedPersonalData]
) -> list[PersonalData | None]:
    """Open sealed personal data for the notification service; None for an erased member."""
    keys = await member_rows.data_keys(conn, [item.member_id for item in items])
    return [vault.open(item, keys.get(item.member_id)) for item in items]


PARTY_EXPORT = ("id", "network_id", "municipality", "status", "statement", "applied_at")


async def export_member_within(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    """Everything this service holds on the person (GDPR art. 15)."""
    member = await member_rows.get(conn, member_id)
    if member is None:
        raise NotFound(f"No member {member_id}.")
    enrolments = await enrolment_rows.of_member(conn, member_id)
    registrations = await registration_rows.of_member(conn, member_id)
    # The parties they are the contact of: the municipality, its status and their statement.
    contact_of = [
        {key: row[key] for key in PARTY_EXPORT}
        for row in await party_rows.of_contact(conn, member_id)
    ]
    return {
        # The data key is ours, not the person's data: it stays out of the export.
        "member": {key: value for key, value in dict(member).items() if key != "data_key"},
        "enrolments": [dict(row) for row in enrolments],
        "registrations": [
            {
                key: value
                for key, value in dict(row).items()
                if key not in {"position", "answers_sealed"}  # the answers, opened, below
            }
            for row in registrations
        ],
        "parties": contact_of,
    }


async def answers_of_member(
    conn: Connection, vault: PersonalDataVault, member_id: uuid.UUID
) -> dict[str, Any]:
    """The person's answers to meetings' questions and their feedback, opened (their export)."""
    given = []
    for row in await answer_rows.of_member(conn, member_id):
        questions = {str(q.question_id): q.text for q in answers.questions_of(row["questions"])}
        opened = answers.opened(vault, row["answers_sealed"], row["data_key"])
        given.append(
            {
                "registration_id": row["registration_id"],
                "meeting_id": row["meeting_id"],
                "meeting_title": row["meeting_title"],
                "answers": [
                    {"question_id": key, "question": questions.get(key), "value": value}
                    for key, value in opened.items()
                ],
                "erased_at": row["answers_erased_at"],
            }
        )
    feedback = [
        {
            "feedback_id": row["id"],
            "meeting_id": row["meeting_id"],
            "meeting_title": row["meeting_title"],
            "submitted_at": row["submitted_at"],
            "answers": [
                *row["answers"],
                *(
                    {"question_id": key, "value": value}
                    for key, value in answers.opened(
                        vault, row["text_sealed"], row["data_key"]
                    ).items()
                ),
            ],
        }
        for row in await feedback_rows.of_member(conn, member_id)
    ]
    return {"registration_answers": given, "feedback": feedback}


async def erase_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Remove the person's personal data and keep the anonymous facts the aggregates need.

    The caller has already cancelled the person's active enrolments and registrations.
    """
    if not await member_rows.erase(conn, member_id):
        if await member_rows.get(conn, member_id) is None:
            raise NotFound(f"No member {member_id}.")
        return  # already erased: erasure is idempotent
    await registration_rows.erase_companions(conn, member_id)
    await idempotency.forget_mentioning(conn, str(member_id))
    await events.redact_member(conn, member_id)
    await record_event(
        conn,
        MemberErased(member_id=member_id, erased_at=await database.transaction_time(conn)),
        aggregate_id=member_id,
        aggregate_version=1,
        key=member_id,
    )


async def open_personal_data(
    tx: Transactions, vault: PersonalDataVault, items: list[SealedPersonalData]
) -> list[PersonalData | None]:
    """Open sealed personal data for the notification service; None for an erased member."""
    return await tx.read(lambda conn: open_personal_data_within(conn, vault, items))


async def export_member(
    tx: Transactions, ctx: ServiceContext, member_id: uuid.UUID
) -> dict[str, Any]:
    """Everything every service holds on the person (GDPR art. 15), as one document: this
    service's part, read and let go of before the others are asked for theirs."""
    own = await tx.read(lambda conn: export_member_within(conn, member_id))
    own.update(await tx.read(lambda conn: answers_of_member(conn, ctx.vault, member_id)))
    own["dialogue"] = await tx.read(
        lambda conn: address_confirmations.dialogue_of_member_within(conn, ctx, member_id)
    )
    return {"registration": own, **await clients.exports_elsewhere(ctx.settings, member_id)}
