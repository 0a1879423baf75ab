"""Member dialogue's reports: a consultation's results and a network's proposal ranking, as
JSON or, with `Accept: text/csv`, CSV. Counting rules are in docs/api.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from reporting import dialogue_reports
from reporting.api.auth import Reader
from reporting.api.routes import Pool, one_moment, respond
from reporting.api.schemas import CSV_TOO, AsOf

router = APIRouter(prefix="/reports", tags=["reports"])

ConsultationStatus = Literal["scheduled", "open", "closed"]
Audience = Literal["members", "parties", "public"]


class AnswerCount(BaseModel):
    value: str | int = Field(description="The option as written, or the scale's number.")
    count: int


class QuestionResults(BaseModel):
    question_id: uuid.UUID
    text: str
    kind: Literal["choice", "scale"]
    answered: int = Field(description="Counted responses that answered it.")
    answers: list[AnswerCount] = Field(
        description="Each option, or each step of the scale from min to max, in order (0 where "
        "no one chose it); then any other value given."
    )
    min: int | None = None
    max: int | None = None
    mean: float | None = Field(
        default=None, description="A scale's mean answer, 2 decimal places; null for a choice."
    )


class MunicipalityResponses(BaseModel):
    municipality: str | None = Field(
        description="The register's name where it is a party of a network, else as typed; "
        "null: no municipality was given."
    )
    municipality_id: uuid.UUID | None = Field(
        description="The register entry; null: unresolved (kept as typed) or none given."
    )
    country: str | None
    municipality_code: str | None = Field(
        description="The official number, where the register's entry is known here."
    )
    responses: int


class ConsultationSummary(BaseModel):
    consultation_id: uuid.UUID
    title: str
    status: ConsultationStatus
    audience: Audience
    audience_size: int | None = Field(description="The audience when it opened; null: public.")
    opens_at: datetime
    closes_at: datetime
    responses: int = Field(description="Counted responses (the address confirmed).")
    responses_pending: int = Field(description="Responses waiting for a confirmed address.")
    response_rate: float | None = Field(
        description="responses / audience_size, 4 decimal places; null for the public or an "
        "empty audience."
    )


class ConsultationReport(ConsultationSummary):
    network_id: uuid.UUID
    municipalities: list[MunicipalityResponses] = Field(
        description="Counted responses per municipality, most first."
    )
    questions: list[QuestionResults] = Field(
        description="The choice and scale questions; free-text answers are not in reporting."
    )
    as_of: AsOf


class ConsultationsReport(BaseModel):
    network_id: uuid.UUID
    title: str
    items: list[ConsultationSummary] = Field(description="Newest opening first.")
    as_of: AsOf
    next_cursor: str | None


class RankedProposal(BaseModel):
    rank: int = Field(description="Its place: by counted votes, then the earliest submitted.")
    proposal_id: uuid.UUID
    title: str
    status: Literal["published", "scheduled"]
    submitted_at: datetime
    decided_at: datetime | None
    meeting_id: uuid.UUID | None = Field(description="The meeting whose agenda it is on.")
    meeting_title: str | None
    meeting_starts_at: datetime | None
    votes: int = Field(description="Counted votes (confirmed, not withdrawn).")
    votes_pending: int = Field(description="Votes waiting for a confirmed address.")
    municipalities: int = Field(description="Distinct register entries among the counted votes.")


class ProposalRanking(BaseModel):
    network_id: uuid.UUID
    title: str
    votes: int = Field(description="Counted votes for the listed proposals.")
    items: list[RankedProposal] = Field(
        description="Published and scheduled proposals; submitted and rejected ones are not listed."
    )
    as_of: AsOf
    next_cursor: str | None


# The CSV of a consultation: one row per figure, `section` saying which (the response count
# and rate, one municipality, one answer to one question), so a spreadsheet can pivot it.
CONSULTATION_CSV = (
    "consultation_id",
    "section",
    "question_id",
    "question",
    "kind",
    "value",
    "municipality",
    "municipality_id",
    "country",
    "municipality_code",
    "count",
    "audience_size",
    "response_rate",
    "as_of",
)


def consultation_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    def row(section: str, count: int, **cells: Any) -> dict[str, Any]:
        return {name: None for name in CONSULTATION_CSV} | {
            "consultation_id": report["consultation_id"],
            "section": section,
            "count": count,
            "as_of": report["as_of"],
            **cells,
        }

    return [
        row(
            "responses",
            report["responses"],
            audience_size=report["audience_size"],
            response_rate=report["response_rate"],
        ),
        *(
            row(
                "municipality",
                place["responses"],
                municipality=place["municipality"],
                municipality_id=place["municipality_id"],
                country=place["country"],
                municipality_code=place["municipality_code"],
            )
            for place in report["municipalities"]
        ),
        *(
            row(
                "answer",
                answer["count"],
                question_id=question["question_id"],
                question=question["text"],
                kind=question["kind"],
                value=answer["value"],
            )
            for question in report["questions"]
            for answer in question["answers"]
        ),
    ]


@router.get(
    "/consultations/{consultation_id}", response_model=ConsultationReport, responses=CSV_TOO
)
async def consultation_report(
    consultation_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    """A consultation's counted responses: of its audience, per municipality, and each choice
    and scale question's answers. CSV: one row per figure (`section`: responses, municipality,
    answer)."""
    async with one_moment(pool) as conn:
        report = await dialogue_reports.consultation_report(
            conn, consultation_id, organisation_id=reader.organisation_id
        )
    return respond(request, consultation_rows(report), report)


@router.get(
    "/networks/{network_id}/consultations", response_model=ConsultationsReport, responses=CSV_TOO
)
async def consultation_reports(
    network_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    """A network's consultations with their counted responses; CSV: one row per consultation."""
    async with one_moment(pool) as conn:
        report = await dialogue_reports.network_consultations(
            conn, network_id, organisation_id=reader.organisation_id
        )
    rows = [
        {"network_id": report["network_id"], **item, "as_of": report["as_of"]}
        for item in report["items"]
    ]
    return respond(request, rows, report)


@router.get("/networks/{network_id}/proposals", response_model=ProposalRanking, responses=CSV_TOO)
async def proposal_ranking(
    network_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    """A network's published and scheduled topic proposals by counted votes; CSV: one row per
    proposal."""
    async with one_moment(pool) as conn:
        report = await dialogue_reports.proposal_ranking(
            conn, network_id, organisation_id=reader.organisation_id
        )
    rows = [
        {"network_id": report["network_id"], **item, "as_of": report["as_of"]}
        for item in report["items"]
    ]
    return respond(request, rows, report)
