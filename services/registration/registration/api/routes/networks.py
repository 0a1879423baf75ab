from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

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
from registration.api.schemas import (
    EnrolmentIn,
    EnrolmentOut,
    EnrolmentRosterItem,
    NetworkIn,
    NetworkOut,
    NetworkPatch,
    Page,
    require_deliverable,
)
from registration.service import enrolments, networks
from registration.unit_of_work import per_key

router = APIRouter(tags=["networks"])


@router.get("/networks")
async def list_networks(
    tx: TransactionsDep,
    cursor: CursorDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: Limit = 50,
) -> Page[NetworkOut]:
    rows, next_cursor = await networks.list_networks(tx, status=status, limit=limit, cursor=cursor)
    return Page(
        items=[views.network(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@router.get("/networks/{network_id}")
async def get_network(network_id: uuid.UUID, tx: TransactionsDep) -> NetworkOut:
    return views.network(await networks.get_network(tx, network_id))


@router.post("/networks", status_code=201, response_model=NetworkOut)
async def create_network(
    body: NetworkIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """An organisation's organiser creates networks of that organisation; the platform
    administrator may name any organisation (or none: the platform's own)."""
    status, payload = await networks.create_network(
        tx,
        body,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(201, views.network(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.patch("/networks/{network_id}")
async def update_network(
    network_id: uuid.UUID, body: NetworkPatch, organiser: Organiser, tx: TransactionsDep
) -> NetworkOut:
    return views.network(await networks.update_network(tx, network_id, body, organiser=organiser))


@router.post("/networks/{network_id}/enrolments", status_code=201, response_model=EnrolmentOut)
async def enrol(
    network_id: uuid.UUID,
    body: EnrolmentIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    require_deliverable(body, smtputf8=ctx.settings.smtp_accepts_smtputf8)
    status, payload = await enrolments.enrol(
        tx,
        ctx,
        network_id,
        body,
        once=per_key(
            idempotent_request(
                key,
                request,
                body.model_dump_json(),
                caller=organiser,
                person_email=body.member.email,
            ),
            lambda enrolled: views.answer(201, views.enrolled(enrolled)),
            admit=abuse.public_sign_up(request, body.member.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/networks/{network_id}/enrolments")
async def enrolment_roster(
    network_id: uuid.UUID,
    organiser: Organiser,
    tx: TransactionsDep,
    cursor: CursorDep,
    limit: Limit = 100,
) -> Page[EnrolmentRosterItem]:
    rows, next_cursor = await enrolments.roster(
        tx, network_id, organiser=organiser, limit=limit, cursor=cursor
    )
    return Page(
        items=[views.enrolment_roster_item(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
