"""Feedback on a held meeting: given by an attendee with the token from their link, read by
the meeting's organisers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    Organiser,
    TransactionsDep,
    idempotent_request,
)
from registration.service import feedback
from registration.service.commands import FeedbackIn
from registration.unit_of_work import per_key

router = APIRouter(tags=["feedback"])


class FeedbackOut(BaseModel):
    feedback_id: uuid.UUID
    meeting_id: uuid.UUID
    submitted_at: datetime


class FeedbackResponseOut(BaseModel):
    feedback_id: uuid.UUID
    submitted_at: datetime
    # Choices, numbers and (for the organisers only, blank once the person is erased) text.
    answers: list[dict[str, Any]]


def _given(row: asyncpg.Record) -> FeedbackOut:
    return FeedbackOut(
        feedback_id=row["id"], meeting_id=row["meeting_id"], submitted_at=row["submitted_at"]
    )


@router.post("/meetings/{meeting_id}/feedback", status_code=201, response_model=FeedbackOut)
async def give_feedback(
    meeting_id: uuid.UUID,
    body: FeedbackIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """An attendee's answers to the meeting's feedback questions, once the meeting is over:
    once per registration (409 after), with the token from their feedback link (403 without),
    only for those who attended (409)."""
    status, payload = await feedback.submit_feedback(
        tx,
        ctx,
        meeting_id,
        body,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=None),
            lambda row: views.answer(201, _given(row)),
            admit=abuse.public_request(request, None),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}/feedback")
async def feedback_given(
    meeting_id: uuid.UUID, organiser: Organiser, tx: TransactionsDep, ctx: ContextDep
) -> list[FeedbackResponseOut]:
    """Every feedback given on the meeting, with what people wrote, for its organisers."""
    responses = await feedback.feedback_of_meeting(tx, ctx.vault, meeting_id, organiser=organiser)
    return [FeedbackResponseOut(**response) for response in responses]
