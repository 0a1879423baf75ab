"""Endpoints a person uses with their token, or an organiser with theirs."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    Organiser,
    OrganiserIfAny,
    PlatformAdmin,
    SettingsDep,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import CancelIn, EnrolmentOut, RegistrationOut
from registration.service import enrolments, erasure, members, registrations
from registration.service.organisations import scoped

router = APIRouter(tags=["participation"])


@router.get("/registrations/{registration_id}")
async def get_registration(
    registration_id: uuid.UUID, organiser: Organiser, tx: TransactionsDep
) -> RegistrationOut:
    row, position = await tx.read(
        scoped(
            organiser,
            "registration",
            registration_id,
            lambda conn: registrations.get_registration(conn, registration_id),
        )
    )
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
    token = body.token if body else None
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json() if body else "", caller=organiser),
        scoped(
            organiser,
            "registration",
            registration_id,
            lambda conn: registrations.cancel_registration(
                conn, ctx, registration_id, token=token, by_organiser=organiser is not None
            ),
        ),
        lambda row: (200, views.registration(row).model_dump(mode="json")),
        admit=abuse.public_request(request, organiser),
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
    token = body.token if body else None
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json() if body else "", caller=organiser),
        scoped(
            organiser,
            "enrolment",
            enrolment_id,
            lambda conn: enrolments.cancel_enrolment(
                conn, ctx, enrolment_id, token=token, by_organiser=organiser is not None
            ),
        ),
        lambda row: (200, views.enrolment(row).model_dump(mode="json")),
        admit=abuse.public_request(request, organiser),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/registrations/{registration_id}/check-in", response_model=RegistrationOut)
async def check_in(
    registration_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, "", caller=organiser),
        scoped(
            organiser,
            "registration",
            registration_id,
            lambda conn: registrations.check_in(conn, ctx, registration_id),
        ),
        lambda row: (200, views.registration(row).model_dump(mode="json")),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/members/{member_id}/export")
async def export_member(
    member_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep, settings: SettingsDep
) -> Any:
    """Everything every service holds on the person (GDPR art. 15), as one JSON document. A
    person may belong to networks of several organisations: the platform answers. All or
    nothing: if a service cannot answer, the export is a 503, never a partial one."""
    own = await tx.read(lambda conn: members.export_member(conn, member_id))
    headers = {"Authorization": f"Bearer {settings.organiser_token}"}
    path = f"/api/v1/members/{member_id}/export"
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        try:
            held = {
                name: (await client.get(url + path)).raise_for_status().json()
                for name, url in (
                    ("notification", settings.notification_url),
                    ("reporting", settings.reporting_url),
                )
            }
        except httpx.HTTPError as error:
            raise ConnectionError("another service could not export its part") from error
    return {"registration": own, **held}


@router.delete("/members/{member_id}", status_code=204)
async def erase_member(
    member_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep, ctx: ContextDep
) -> None:
    await tx.run(lambda conn: erasure.forget_member(conn, ctx, member_id))
