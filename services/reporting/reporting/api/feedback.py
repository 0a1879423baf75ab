"""A held meeting's feedback results, as JSON or, with `Accept: text/csv`, CSV. Counting rules
are in docs/api.md (feedback)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from reporting import feedback
from reporting.api.auth import Reader
from reporting.api.dialogue import QuestionResults
from reporting.api.routes import Pool, one_moment, respond
from reporting.api.schemas import CSV_TOO, AsOf

router = APIRouter(prefix="/reports", tags=["reports"])


class FeedbackReport(BaseModel):
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    title: str
    starts_at: datetime
    status: str
    responses: int = Field(description="How many attendees gave feedback.")
    questions: list[QuestionResults] = Field(
        description="The choice and scale questions; what people wrote is not in reporting."
    )
    as_of: AsOf


# One row per answer to a question (with its count), and the mean on a scale's rows.
FEEDBACK_CSV = (
    "meeting_id",
    "responses",
    "question_id",
    "question",
    "kind",
    "value",
    "count",
    "mean",
    "as_of",
)


def feedback_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "meeting_id": report["meeting_id"],
            "responses": report["responses"],
            "question_id": question["question_id"],
            "question": question["text"],
            "kind": question["kind"],
            "value": answer["value"],
            "count": answer["count"],
            "mean": question.get("mean"),
            "as_of": report["as_of"],
        }
        for question in report["questions"]
        for answer in question["answers"]
    ] or [
        {name: None for name in FEEDBACK_CSV}
        | {
            "meeting_id": report["meeting_id"],
            "responses": report["responses"],
            "as_of": report["as_of"],
        }
    ]


@router.get("/meetings/{meeting_id}/feedback", response_model=FeedbackReport, responses=CSV_TOO)
async def feedback_report(
    meeting_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    """How many attendees gave feedback on the meeting, and each choice and scale question's
    answers (a scale's mean too). CSV: one row per answer of each question."""
    async with one_moment(pool) as conn:
        report = await feedback.feedback_report(
            conn, meeting_id, organisation_id=reader.organisation_id
        )
    return respond(request, feedback_rows(report), report)
