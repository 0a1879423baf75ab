"""Use cases of a consultation's responses: a person of the audience answers once while the
consultation is open, and amends the answers with the token of their receipt until it closes.
A response counts once the person's address is confirmed (see address_confirmations).

Every change writes the response's full state (ResponseSubmitted) to the outbox, keyed by the
network; a response is an aggregate of its own (`version`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.repository import confirmations as confirmation_rows
from registration.repository import consultation_responses as response_rows
from registration.repository import consultations as consultation_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.service import address_confirmations
from registration.service.consultation_answers import (
    check_answers,
    open_texts,
    questions_of,
    seal_texts,
)
from registration.service.consultation_window import open_within
from registration.service.dialogue_commands import ResponseIn, ResponsePatch
from registration.service.members import member_for_sign_up, with_data_key
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import Answer, PersonalData, ResponseSubmitted
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

R = TypeVar("R")
AMEND_PURPOSE = "amend-response"


class Submitted(NamedTuple):
    """A response as stored, and the token that amends it until the consultation closes."""

    response: asyncpg.Record
    token: str


class ResponseView(NamedTuple):
    """A person's own response, with their free-text answers opened: for the amend page."""

    response: asyncpg.Record
    consultation: asyncpg.Record
    answers: dict[str, str | int]


def amend_token(ctx: ServiceContext, response_id: uuid.UUID) -> str:
    # The window is the consultation's and may move: the use case judges the time, not the token.
    return tokens.issue(
        ctx.settings.effective_token_secret, AMEND_PURPOSE, response_id, expires_at=None
    )


def amend_url(ctx: ServiceContext, consultation_id: uuid.UUID, response_id: uuid.UUID) -> str:
    """The receipt's link: the person's own response, to change until the consultation closes."""
    token = amend_token(ctx, response_id)
    return (
        f"{ctx.settings.public_base_url}/consultations/{consultation_id}/responses/"
        f"{response_id}?token={token}"
    )


async def announce_response(
    conn: Connection,
    ctx: ServiceContext,
    response: asyncpg.Record,
    *,
    network_id: uuid.UUID,
) -> None:
    """Write the response's full state (ResponseSubmitted) to the outbox: choice and scale
    answers in clear, free text and the receipt's amend link sealed."""
    member = await member_rows.get(conn, response["member_id"]) if response["member_id"] else None
    network = await network_rows.get(conn, network_id)
    assert network is not None and member is not None
    texts = open_texts(ctx, response["text_sealed"], member["data_key"])
    sealed = None
    if member["email"] and member["data_key"]:
        sealed = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                answers=texts,
                action_url=amend_url(ctx, response["consultation_id"], response["id"]),
            ),
        )
    await record_event(
        conn,
        ResponseSubmitted(
            network_id=network_id,
            member_id=member["id"],
            language=member["language"] or network["language"],
            municipality_id=response["municipality_id"],
            municipality=response["municipality"],
            country=response["country"],
            personal_sealed=sealed,
            response_id=response["id"],
            consultation_id=response["consultation_id"],
            status=response["status"],
            submitted_at=response["submitted_at"],
            amended_at=response["amended_at"],
            answers=[Answer.model_validate(answer) for answer in response["answers"]],
        ),
        aggregate_id=response["id"],
        aggregate_version=response["version"],
        key=network_id,
    )


def _require_open(consultation: asyncpg.Record, now: datetime) -> None:
    if now < consultation["opens_at"]:
        raise Conflict(
            "The consultation is not open for answers yet.",
            slug="consultation-not-open",
            opens_at=consultation["opens_at"].isoformat(),
        )
    if now >= consultation["closes_at"] or consultation["stored_status"] == "closed":
        raise Conflict(
            "The consultation has closed.",
            slug="consultation-closed",
            closes_at=consultation["closes_at"].isoformat(),
        )


async def _respondent(
    conn: Connection, ctx: ServiceContext, consultation: asyncpg.Record, command: ResponseIn
) -> asyncpg.Record:
    """Who answers: anyone for the public (a new person is created), else a person of the
    audience, found by address (nobody else is created)."""
    if consultation["audience"] == "public":
        return await member_for_sign_up(conn, ctx.vault, command.member)
    found = await confirmation_rows.member_by_email(conn, command.member.email)
    if found is None or not await consultation_rows.in_audience(
        conn, consultation["network_id"], consultation["audience"], found["id"]
    ):
        who = (
            "the network's active members"
            if consultation["audience"] == "members"
            else "the contact persons of the network's parties and its members from them"
        )
        raise Forbidden(
            f"This consultation asks {who}; the address given is not among them.",
            slug="not-in-audience",
        )
    return await with_data_key(conn, ctx.vault, found)


async def submit_within(
    conn: Connection, ctx: ServiceContext, consultation_id: uuid.UUID, command: ResponseIn
) -> Submitted:
    now = ctx.clock.now()
    consultation = await consultation_rows.get(conn, consultation_id, now=now)
    if consultation is None:
        raise NotFound(f"No consultation {consultation_id}.")
    _require_open(consultation, now)
    checked = check_answers(questions_of(consultation), command.answers)
    member = await _respondent(conn, ctx, consultation, command)
    if consultation["stored_status"] == "scheduled":
        # Its window has begun but the clock has not come by yet: open it now, so that its
        # ConsultationOpened comes before any response on the topic.
        locked = await consultation_rows.lock(conn, consultation_id)
        if locked is not None and locked["status"] == "scheduled":
            await open_within(conn, ctx, consultation_id)
    existing = await response_rows.response_of(conn, consultation_id, member["id"])
    if existing is not None:
        raise _already(existing)
    network = await network_rows.get(conn, consultation["network_id"])
    assert network is not None
    counts = await address_confirmations.counts_within(
        conn, ctx, member, network, subject="response"
    )
    response = await response_rows.insert(
        conn,
        response_id=uuid.uuid4(),
        consultation_id=consultation_id,
        member=member,
        status="counted" if counts else "pending",
        answers=checked.counted,
        text_sealed=seal_texts(ctx, member, checked.texts),
        at=now,
    )
    if response is None:  # a twin of this request committed first
        existing = await response_rows.response_of(conn, consultation_id, member["id"])
        assert existing is not None
        raise _already(existing)
    await announce_response(conn, ctx, response, network_id=consultation["network_id"])
    return Submitted(response, amend_token(ctx, response["id"]))


def _already(existing: asyncpg.Record) -> Conflict:
    return Conflict(
        "This person has answered this consultation already; the link in their receipt "
        "amends the response until the consultation closes.",
        slug="already-responded",
        response_id=str(existing["id"]),
    )


async def _own_response(
    conn: Connection, ctx: ServiceContext, response_id: uuid.UUID, token: str, *, lock: bool
) -> asyncpg.Record:
    response = await (
        response_rows.lock(conn, response_id) if lock else response_rows.get(conn, response_id)
    )
    if response is None or response["member_id"] is None:
        raise NotFound(f"No response {response_id}.")
    if not tokens.verify(
        ctx.settings.effective_token_secret, AMEND_PURPOSE, response_id, token, now=None
    ):
        raise Forbidden("The response's token is missing or wrong.")
    return response


async def amend_within(
    conn: Connection, ctx: ServiceContext, response_id: uuid.UUID, command: ResponsePatch
) -> asyncpg.Record:
    response = await _own_response(conn, ctx, response_id, command.token, lock=True)
    now = ctx.clock.now()
    consultation = await consultation_rows.get(conn, response["consultation_id"], now=now)
    assert consultation is not None
    _require_open(consultation, now)
    checked = check_answers(questions_of(consultation), command.answers)
    member = await member_rows.get(conn, response["member_id"])
    assert member is not None
    amended = await response_rows.amend(
        conn,
        response_id,
        answers=checked.counted,
        text_sealed=seal_texts(ctx, member, checked.texts),
        at=now,
    )
    await announce_response(conn, ctx, amended, network_id=consultation["network_id"])
    return amended


async def count_pending_within(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> int:
    """The person's address is confirmed: each pending response counts (and says so)."""
    pending = await response_rows.pending_of_member(conn, member_id)
    for row in pending:
        counted = await response_rows.count(conn, row["id"])
        await announce_response(conn, ctx, counted, network_id=row["network_id"])
    return len(pending)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def submit_response(
    tx: Transactions,
    ctx: ServiceContext,
    consultation_id: uuid.UUID,
    command: ResponseIn,
    *,
    once: Once[Submitted, R],
) -> R:
    """A person of the audience answers, once, while the consultation is open."""
    return await tx.once(once, lambda conn: submit_within(conn, ctx, consultation_id, command))


async def amend_response(
    tx: Transactions,
    ctx: ServiceContext,
    response_id: uuid.UUID,
    command: ResponsePatch,
) -> asyncpg.Record:
    """The person (with their token) replaces their answers, until the consultation closes."""
    return await tx.run(lambda conn: amend_within(conn, ctx, response_id, command))


async def get_response(
    tx: Transactions, ctx: ServiceContext, response_id: uuid.UUID, token: str
) -> ResponseView:
    """The person's own response (with their token), free text opened, to amend it."""

    async def read(conn: Connection) -> ResponseView:
        response = await _own_response(conn, ctx, response_id, token, lock=False)
        consultation = await consultation_rows.get(
            conn, response["consultation_id"], now=ctx.clock.now()
        )
        member = await member_rows.get(conn, response["member_id"])
        assert consultation is not None and member is not None
        answers: dict[str, str | int] = {
            answer["question_id"]: answer["value"] for answer in response["answers"]
        }
        answers.update(open_texts(ctx, response["text_sealed"], member["data_key"]))
        return ResponseView(response, consultation, answers)

    return await tx.read(read)


# --- the person's data: export and erasure ------------------------------------------------------


async def export_of_member_within(
    conn: Connection, ctx: ServiceContext, member_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The person's responses with every answer (free text opened), for their data export."""
    member = await member_rows.get(conn, member_id)
    data_key = member["data_key"] if member else None
    return [
        {
            "response_id": row["id"],
            "consultation_id": row["consultation_id"],
            "consultation": row["consultation_title"],
            "network_id": row["network_id"],
            "status": row["status"],
            "submitted_at": row["submitted_at"],
            "amended_at": row["amended_at"],
            "answers": {
                **{answer["question_id"]: answer["value"] for answer in row["answers"]},
                **open_texts(ctx, row["text_sealed"], data_key),
            },
        }
        for row in await response_rows.of_member(conn, member_id)
    ]


async def forget_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: their free text goes and their responses are nobody's; the choice and scale
    answers stay counted as they were (with the municipality), so the results stay right."""
    await response_rows.forget_member(conn, member_id)
