"""Endpoints a person uses with their token, or an organiser with theirs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    Organiser,
    OrganiserIfAny,
    PlatformAdmin,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import CancelIn, EnrolmentOut, RegistrationOut
from registration.service import door, enrolments, erasure, members, registrations
from registration.unit_of_work import Answer, Once, per_key

router = APIRouter(tags=["participation"])


@router.get("/registrations/{registration_id}")
async def get_registration(
    registration_id: uuid.UUID, organiser: Organiser, tx: TransactionsDep
) -> RegistrationOut:
    row, position = await registrations.get_registration(tx, registration_id, organiser=organiser)
    return views.registration(row, waitlist_position=position)


@router.post("/registrations/{registration_id}/cancel", response_model=RegistrationOut)
async def cancel_registration(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: OrganiserIfAny,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
    body: CancelIn | None = None,
) -> JSONResponse:
    status, payload = await registrations.cancel_registration(
        tx,
        ctx,
        registration_id,
        token=body.token if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, views.registration(row)),
            admit=abuse.public_request(request, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/enrolments/{enrolment_id}/cancel", response_model=EnrolmentOut)
async def cancel_enrolment(
    enrolment_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: OrganiserIfAny,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
    body: CancelIn | None = None,
) -> JSONResponse:
    status, payload = await enrolments.cancel_enrolment(
        tx,
        ctx,
        enrolment_id,
        token=body.token if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, views.enrolment(row)),
            admit=abuse.public_request(request, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


# Which companion, by their place in the registration's companions (from 0); none: the member.
CompanionQuery = Annotated[int | None, Query(ge=0, le=10)]


@router.post("/registrations/{registration_id}/check-in", response_model=RegistrationOut)
async def check_in(
    registration_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    companion: CompanionQuery = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The member's arrival, or with `companion` one companion's; again changes nothing."""
    once: Once[asyncpg.Record, Answer] = per_key(
        idempotent_request(key, request, "", caller=organiser),
        lambda row: views.answer(200, views.registration(row)),
    )
    if companion is None:
        status, payload = await registrations.check_in(
            tx, ctx, registration_id, organiser=organiser, once=once
        )
    else:
        status, payload = await door.check_in_companion(
            tx, ctx, registration_id, companion, organiser=organiser, once=once
        )
    return JSONResponse(payload, status_code=status)


@router.delete("/registrations/{registration_id}/check-in", response_model=RegistrationOut)
async def undo_check_in(
    registration_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    companion: CompanionQuery = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Take back a check-in made by mistake (the member's, or with `companion` theirs)."""
    status, payload = await door.undo_check_in(
        tx,
        ctx,
        registration_id,
        companion=companion,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, "", caller=organiser),
            lambda row: views.answer(200, views.registration(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/members/{member_id}/export")
async def export_member(
    member_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep, ctx: ContextDep
) -> Any:
    """Everything every service holds on the person (GDPR art. 15), as one JSON document. A
    person may belong to networks of several organisations: the platform answers. All or
    nothing: if a service cannot answer, the export is a 503, never a partial one."""
    return await members.export_member(tx, ctx, member_id)


@router.delete("/members/{member_id}", status_code=204)
async def erase_member(
    member_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep, ctx: ContextDep
) -> None:
    await erasure.forget_member(tx, ctx, member_id)
