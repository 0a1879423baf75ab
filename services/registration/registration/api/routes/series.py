"""Series enrolment's own endpoint: enrolling again for the next term."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    OrganiserIfAny,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import CancelIn, EnrolmentOut
from registration.service import renewal
from registration.unit_of_work import per_key

router = APIRouter(tags=["participation"])


@router.post("/enrolments/{enrolment_id}/renew", status_code=201, response_model=EnrolmentOut)
async def renew_enrolment(
    enrolment_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: OrganiserIfAny,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
    body: CancelIn | None = None,
) -> JSONResponse:
    """Enrol the member of an ended enrolment again, with the `token` of the link the term's
    end emailed them (or as an organiser): 409 `term-ended` until the next term is set."""
    status, payload = await renewal.renew(
        tx,
        ctx,
        enrolment_id,
        token=body.token if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda result: views.answer(201, views.enrolled(result)),
            admit=abuse.public_request(request, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)
