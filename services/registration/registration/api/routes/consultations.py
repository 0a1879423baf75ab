"""Consultations: an organiser asks, the audience answers once (amending until it closes), the
organiser exports the responses (JSON or CSV) and sees the counts."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from registration.api import dialogue_schemas as dialogue
from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    CursorDep,
    IdempotencyKey,
    Limit,
    Organiser,
    OrganiserIfAny,
    TransactionsDep,
    idempotent_request,
)
from registration.api.dialogue_schemas import (
    ConsultationOut,
    ResponseExportOut,
    ResponseOut,
    ResultsOut,
)
from registration.api.schemas import Page
from registration.service import consultation_responses, consultations
from registration.service.dialogue_commands import ConsultationIn, ResponseIn, ResponsePatch
from registration.unit_of_work import per_key
from tilmeld_shared.csv_export import write_csv
from tilmeld_shared.problems import NotFound

router = APIRouter(tags=["consultations"])
CSV_HEADER = ["response_id", "status", "submitted_at", "amended_at", "name", "email",
              "municipality", "role", "organisation"]  # fmt: skip


@router.post(
    "/networks/{network_id}/consultations", status_code=201, response_model=ConsultationOut
)
async def create_consultation(
    network_id: uuid.UUID,
    body: ConsultationIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask the network's audience questions (free text, choice, scale) between `opens_at` and
    `closes_at`. The clock opens it (inviting the audience by email) and closes it; one whose
    window has begun opens at once."""
    status, payload = await consultations.create_consultation(
        tx,
        ctx,
        network_id,
        body,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(201, dialogue.consultation(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/networks/{network_id}/consultations")
async def list_consultations(
    network_id: uuid.UUID,
    tx: TransactionsDep,
    ctx: ContextDep,
    cursor: CursorDep,
    limit: Limit = 100,
) -> Page[ConsultationOut]:
    """The network's consultations in the order they open, each with its status by the clock."""
    found = await consultations.list_consultations(tx, ctx, network_id, limit=limit, cursor=cursor)
    return Page(
        items=[dialogue.consultation(row) for row in found.rows],
        next_cursor=found.next_cursor.encode() if found.next_cursor else None,
    )


@router.get("/consultations/{consultation_id}")
async def get_consultation(
    consultation_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep
) -> ConsultationOut:
    row = await consultations.get_consultation(tx, ctx, consultation_id)
    if row is None:
        raise NotFound(f"No consultation {consultation_id}.")
    return dialogue.consultation(row)


@router.post(
    "/consultations/{consultation_id}/responses", status_code=201, response_model=ResponseOut
)
async def submit_response(
    consultation_id: uuid.UUID,
    body: ResponseIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Answer, once per person, while it is open (else 409); only its audience (else 403:
    members are matched by address). `pending` until the person confirms their address through
    the emailed link; the `token` amends the response until the consultation closes."""
    status, payload = await consultation_responses.submit_response(
        tx,
        ctx,
        consultation_id,
        body,
        once=per_key(
            idempotent_request(
                key,
                request,
                body.model_dump_json(),
                caller=organiser,
                person_email=body.member.email,
            ),
            lambda result: views.answer(201, dialogue.submitted(result)),
            admit=abuse.public_voice(request, body.member.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.patch("/responses/{response_id}")
async def amend_response(
    response_id: uuid.UUID,
    body: ResponsePatch,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> ResponseOut:
    """Replace the answers (all of them, as when submitted) with the response's `token`, until
    the consultation closes (then 409). The response keeps its status."""
    await abuse.check_address(request)
    row = await consultation_responses.amend_response(tx, ctx, response_id, body)
    return dialogue.response(row)


@router.get(
    "/consultations/{consultation_id}/responses",
    response_model=ResponseExportOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_responses(
    consultation_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(description="csv: the same as `Accept: text/csv`."),
    ] = None,
) -> Response:
    """Every response with who gave it and each answer (free text included), for the
    network's organisers: JSON, or CSV (`Accept: text/csv` or `?format=csv`; UTF-8 with a BOM,
    a column per question)."""
    export = await consultations.export_responses(tx, ctx, consultation_id, organiser=organiser)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if not wants_csv:
        return JSONResponse(dialogue.export(export).model_dump(mode="json"))
    questions = list(export.consultation["questions"])
    rows = [
        [
            str(item["response_id"]),
            item["status"],
            item["submitted_at"].isoformat(),
            item["amended_at"].isoformat() if item["amended_at"] else "",
            item["name"] or "",
            item["email"] or "",
            item["municipality"] or "",
            item["role"] or "",
            item["organisation"] or "",
            *(item["answers"].get(str(question["question_id"]), "") for question in questions),
        ]
        for item in export.responses
    ]
    header = [*CSV_HEADER, *(question["text"] for question in questions)]
    return Response(
        "\ufeff" + write_csv(header, rows),  # a BOM, so spreadsheets read the letters æøå right
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="responses-{consultation_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/consultations/{consultation_id}/results")
async def consultation_results(
    consultation_id: uuid.UUID, organiser: Organiser, tx: TransactionsDep, ctx: ContextDep
) -> ResultsOut:
    """The registration service's own counts of the counted responses: in all, per
    municipality, and per choice and scale question each answer's count (free text: in the
    export only)."""
    results = await consultations.consultation_results(
        tx, ctx, consultation_id, organiser=organiser
    )
    return ResultsOut.model_validate(results)
