"""Feedback after a meeting: each attendee answers its feedback questions once, through the
link their check-in put in the event notification emails them when the meeting is held.

Choice and scale answers are published in clear (FeedbackSubmitted, with no member id) so that
reporting can count them; what a person wrote in free text stays here, sealed with their key,
for the meeting's organisers, and goes when the person is erased.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.personal_data import PersonalDataVault
from registration.repository import feedback as feedback_rows
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import registrations as registration_rows
from registration.service import answers
from registration.service.commands import AnswerIn, FeedbackIn
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import Answer, FeedbackSubmitted, Question
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

FEEDBACK_PURPOSE = "meeting-feedback"
R = TypeVar("R")


def feedback_token(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    # No expiry inside: the window is judged against the meeting's end as it is when used.
    return tokens.issue(
        ctx.settings.effective_token_secret, FEEDBACK_PURPOSE, registration_id, expires_at=None
    )


def feedback_url(ctx: ServiceContext, meeting_id: uuid.UUID, registration_id: uuid.UUID) -> str:
    token = feedback_token(ctx, registration_id)
    return (
        f"{ctx.settings.public_base_url}/meetings/{meeting_id}/feedback"
        f"?registration={registration_id}&token={token}"
    )


def closes_at(ctx: ServiceContext, meeting: asyncpg.Record) -> datetime:
    ends_at: datetime = meeting["ends_at"]
    return ends_at + timedelta(days=ctx.settings.feedback_days)


class FeedbackForm(NamedTuple):
    meeting: asyncpg.Record
    network: asyncpg.Record
    registration: asyncpg.Record
    questions: list[Question]
    given: asyncpg.Record | None  # the feedback already given, if any


async def _attendee(
    conn: Connection,
    ctx: ServiceContext,
    meeting: asyncpg.Record,
    registration_id: uuid.UUID,
    token: str,
) -> asyncpg.Record:
    """The registration the token proves, if it is this meeting's and its person came."""
    registration = await registration_rows.get(conn, registration_id)
    if (
        registration is None
        or registration["meeting_id"] != meeting["id"]
        or not tokens.verify(
            ctx.settings.effective_token_secret,
            FEEDBACK_PURPOSE,
            registration_id,
            token,
            now=None,
        )
    ):
        raise Forbidden("The feedback link is missing, wrong or not for this meeting.")
    if registration["checked_in_at"] is None:
        raise Conflict("Feedback is asked of those who attended.", slug="not-attended")
    return registration


def _open_for_feedback(ctx: ServiceContext, meeting: asyncpg.Record) -> None:
    now = ctx.clock.now()
    if not meeting["feedback"]:
        raise Conflict("This meeting asks for no feedback.", slug="no-feedback")
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    if meeting["ends_at"] > now:
        raise Conflict("Feedback opens once the meeting is over.", slug="meeting-not-held")
    if now > closes_at(ctx, meeting):
        raise Conflict("Feedback on this meeting has closed.", slug="feedback-closed")


async def feedback_form(
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    registration_id: uuid.UUID,
    token: str,
) -> FeedbackForm:
    """What the feedback page shows the attendee the token names (403, 404 or 409 if none)."""

    async def read(conn: Connection) -> FeedbackForm:
        meeting = await meeting_rows.get(conn, meeting_id)
        if meeting is None:
            raise NotFound(f"No meeting {meeting_id}.")
        registration = await _attendee(conn, ctx, meeting, registration_id, token)
        _open_for_feedback(ctx, meeting)
        network = await network_rows.get(conn, meeting["network_id"])
        assert network is not None
        return FeedbackForm(
            meeting,
            network,
            registration,
            answers.questions_of(meeting["feedback"]),
            await feedback_rows.of_registration(conn, registration_id),
        )

    return await tx.read(read)


async def submit_feedback_within(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: FeedbackIn
) -> asyncpg.Record:
    """Keep an attendee's feedback and publish its choices and numbers; once per registration
    (409 after)."""
    # The meeting first, as every use case locks it before a registration: no deadlock.
    meeting = await meeting_rows.lock(conn, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    registration = await _attendee(conn, ctx, meeting, command.registration_id, command.token)
    _open_for_feedback(ctx, meeting)
    if await feedback_rows.of_registration(conn, registration["id"]) is not None:
        raise Conflict("Feedback for this registration was given already.", slug="feedback-given")
    questions = answers.questions_of(meeting["feedback"])
    given = answers.checked_answers(questions, command.answers)
    kinds = {str(question.question_id): question.kind for question in questions}
    counted = [
        Answer(question_id=uuid.UUID(question_id), value=value)
        for question_id, value in given.items()
        if kinds[question_id] != "text"
    ]
    written = {key: value for key, value in given.items() if kinds[key] == "text"}
    member = await member_rows.get(conn, registration["member_id"])
    assert member is not None
    sealed = None
    if written and member["data_key"] is not None:
        sealed = answers.seal(ctx.vault, member["id"], member["data_key"], written)
    now = ctx.clock.now()
    row = await feedback_rows.insert(
        conn,
        feedback_id=uuid.uuid4(),
        meeting_id=meeting_id,
        registration_id=registration["id"],
        answers=[answer.model_dump(mode="json") for answer in counted],
        text_sealed=sealed.model_dump(mode="json") if sealed else None,
        submitted_at=now,
    )
    if row is None:  # given at the same moment by another request (the unique key held)
        raise Conflict("Feedback for this registration was given already.", slug="feedback-given")
    version = await meeting_rows.bump(conn, meeting_id)
    await record_event(
        conn,
        # No member, no registration, no municipality: the answers count, nobody is named.
        FeedbackSubmitted(
            feedback_id=row["id"],
            meeting_id=meeting_id,
            network_id=meeting["network_id"],
            submitted_at=now,
            answers=counted,
        ),
        aggregate_id=meeting_id,
        aggregate_version=version,
        key=meeting_id,
    )
    return row


async def submit_feedback(
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    command: FeedbackIn,
    *,
    once: Once[asyncpg.Record, R],
) -> R:
    """An attendee's feedback, in one transaction."""
    return await tx.once(once, lambda conn: submit_feedback_within(conn, ctx, meeting_id, command))


def answers_in(form: dict[str, str], questions: list[Question]) -> list[AnswerIn]:
    """The answers a feedback or registration form holds (`question-<id>` fields); a field
    left empty is no answer, a scale's number is read as one where it is one."""
    found = []
    for question in questions:
        raw = form.get(f"question-{question.question_id}", "").strip()
        if not raw:
            continue
        value: str | int = raw
        if question.kind == "scale" and raw.lstrip("-").isdigit():
            value = int(raw)
        found.append(AnswerIn(question_id=question.question_id, value=value))
    return found


# --- what the organisers see ---------------------------------------------------------------


async def feedback_of_meeting(
    tx: Transactions, vault: PersonalDataVault, meeting_id: uuid.UUID, *, organiser: Principal
) -> list[dict[str, Any]]:
    """Every feedback given on the meeting, its free text opened (blank once the person is
    erased), for an organiser of the meeting's own."""

    async def read(conn: Connection) -> list[dict[str, Any]]:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        if await meeting_rows.get(conn, meeting_id) is None:
            raise NotFound(f"No meeting {meeting_id}.")
        return [
            {
                "feedback_id": row["id"],
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
            for row in await feedback_rows.of_meeting(conn, meeting_id)
        ]

    return await tx.read(read)
