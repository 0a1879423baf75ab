"""The member dialogue's answers: consultations, responses, results, proposals, votes and
address confirmations, as the API shows them. (Its request bodies are the use cases' own, in
registration.service.dialogue_commands.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from registration.service.address_confirmations import ConfirmationView
from registration.service.consultation_responses import Submitted
from registration.service.consultations import ResponseExport
from registration.service.votes import Voted

ConsultationStatus = Literal["scheduled", "open", "closed"]
Audience = Literal["members", "parties", "public"]


class QuestionOut(BaseModel):
    question_id: uuid.UUID
    text: str
    kind: Literal["text", "choice", "scale"]
    options: list[str]
    required: bool
    min: int | None = None
    max: int | None = None


class ConsultationOut(BaseModel):
    consultation_id: uuid.UUID
    network_id: uuid.UUID
    network_title: str
    title: str
    description: str | None
    questions: list[QuestionOut]
    opens_at: datetime
    closes_at: datetime
    audience: Audience
    status: ConsultationStatus = Field(
        description="By the clock: before, within or after the window."
    )
    audience_size: int | None = Field(
        description="How many people the audience held when it opened (null for the public, "
        "and before it opens)."
    )


class ResponseOut(BaseModel):
    response_id: uuid.UUID
    consultation_id: uuid.UUID
    status: Literal["pending", "counted"] = Field(
        description="pending: it counts once the person confirms their address through the "
        "link emailed to them."
    )
    submitted_at: datetime
    amended_at: datetime | None
    token: str | None = Field(
        None,
        description="Given to whoever answered: amends the response (PATCH /responses/{id}) "
        "until the consultation closes.",
    )


class ExportedResponseOut(BaseModel):
    response_id: uuid.UUID
    status: Literal["pending", "counted"]
    submitted_at: datetime
    amended_at: datetime | None
    member_id: uuid.UUID | None = Field(description="null once the person is erased.")
    name: str | None
    email: str | None
    role: str | None
    organisation: str | None
    municipality: str | None
    municipality_id: uuid.UUID | None
    country: str | None
    answers: dict[str, str | int] = Field(
        description="By question_id: the option, the number, or the text written (free text "
        "is gone once the person is erased)."
    )


class ResponseExportOut(BaseModel):
    consultation_id: uuid.UUID
    title: str
    questions: list[QuestionOut]
    items: list[ExportedResponseOut]


class AnswerCountOut(BaseModel):
    value: str | int
    count: int


class QuestionResultOut(BaseModel):
    question_id: uuid.UUID
    text: str
    kind: Literal["text", "choice", "scale"]
    answered: int | None = Field(description="Counted responses that answer it (null: text).")
    counts: list[AnswerCountOut] = Field(
        default_factory=list, description="Each option or point of the scale, zeros included."
    )
    mean: float | None = None


class MunicipalityResultOut(BaseModel):
    municipality_id: uuid.UUID | None
    municipality: str | None
    country: str | None
    responses: int


class ResultsOut(BaseModel):
    consultation_id: uuid.UUID
    status: ConsultationStatus
    audience: Audience
    audience_size: int | None
    responses: int = Field(description="Counted responses (their address confirmed).")
    pending: int = Field(description="Responses waiting for their address to be confirmed.")
    response_rate: float | None = Field(description="Counted responses over the audience's size.")
    municipalities: list[MunicipalityResultOut]
    questions: list[QuestionResultOut]


class ProposalOut(BaseModel):
    proposal_id: uuid.UUID
    network_id: uuid.UUID
    title: str
    body: str
    status: Literal["submitted", "published", "rejected", "scheduled"]
    counted: bool = Field(description="The author's address is confirmed.")
    votes: int = Field(description="Counted votes.")
    municipality: str | None = Field(description="The author's municipality.")
    submitted_at: datetime
    decided_at: datetime | None
    reason: str | None
    meeting_id: uuid.UUID | None = Field(description="The meeting whose agenda it is on.")


class VoteOut(BaseModel):
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    status: Literal["pending", "counted", "withdrawn"]
    voted_at: datetime
    withdrawn_at: datetime | None
    token: str | None = Field(
        None,
        description="Given to whoever voted: withdraws the vote (POST /votes/{id}/withdraw).",
    )


class ConfirmationCountsOut(BaseModel):
    responses: int
    proposals: int
    votes: int


class ConfirmationOut(BaseModel):
    confirmation_id: uuid.UUID
    network_id: uuid.UUID
    status: Literal["requested", "confirmed"]
    subject: Literal["response", "proposal", "vote"] = Field(
        description="What the person said when they were (last) asked."
    )
    requested_at: datetime
    confirmed_at: datetime | None
    waiting: ConfirmationCountsOut = Field(
        description="On GET: what waits for the confirmation. On POST: what it counted now."
    )


# --- from the use cases' results ------------------------------------------------------------------


def _questions(rows: Any) -> list[QuestionOut]:
    return [QuestionOut.model_validate(question) for question in rows]


def consultation(row: asyncpg.Record) -> ConsultationOut:
    return ConsultationOut(
        consultation_id=row["id"],
        network_id=row["network_id"],
        network_title=row["network_title"],
        title=row["title"],
        description=row["description"],
        questions=_questions(row["questions"]),
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        audience=row["audience"],
        status=row["status"],
        audience_size=row["audience_size"],
    )


def response(row: asyncpg.Record, *, token: str | None = None) -> ResponseOut:
    return ResponseOut(
        response_id=row["id"],
        consultation_id=row["consultation_id"],
        status=row["status"],
        submitted_at=row["submitted_at"],
        amended_at=row["amended_at"],
        token=token,
    )


def submitted(result: Submitted) -> ResponseOut:
    return response(result.response, token=result.token)


def export(result: ResponseExport) -> ResponseExportOut:
    return ResponseExportOut(
        consultation_id=result.consultation["id"],
        title=result.consultation["title"],
        questions=_questions(result.consultation["questions"]),
        items=[ExportedResponseOut.model_validate(item) for item in result.responses],
    )


def proposal(row: asyncpg.Record) -> ProposalOut:
    return ProposalOut(
        proposal_id=row["id"],
        network_id=row["network_id"],
        title=row["title"],
        body=row["body"],
        status=row["status"],
        counted=row["counted"],
        votes=row["votes"],
        municipality=row["municipality"],
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        reason=row["reason"],
        meeting_id=row["meeting_id"],
    )


def vote(row: asyncpg.Record, *, token: str | None = None) -> VoteOut:
    return VoteOut(
        vote_id=row["id"],
        proposal_id=row["proposal_id"],
        status=row["status"],
        voted_at=row["voted_at"],
        withdrawn_at=row["withdrawn_at"],
        token=token,
    )


def voted(result: Voted) -> VoteOut:
    return vote(result.vote, token=result.token)


def confirmation(view: ConfirmationView) -> ConfirmationOut:
    row = view.confirmation
    return ConfirmationOut(
        confirmation_id=row["id"],
        network_id=row["network_id"],
        status=row["status"],
        subject=row["subject"],
        requested_at=row["requested_at"],
        confirmed_at=row["confirmed_at"],
        waiting=ConfirmationCountsOut(
            responses=view.responses, proposals=view.proposals, votes=view.votes
        ),
    )
