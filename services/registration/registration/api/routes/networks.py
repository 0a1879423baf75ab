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
    IsOrganiser,
    Limit,
    Organiser,
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
)
from registration.service import enrolments, networks

router = APIRouter(tags=["networks"])


@router.get("/networks")
async def list_networks(
    tx: TransactionsDep,
    cursor: CursorDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: Limit = 50,
) -> Page[NetworkOut]:
    rows, next_cursor = await tx.read(
        lambda conn: networks.list_networks(conn, status=status, limit=limit, cursor=cursor)
    )
    return Page(
        items=[views.network(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@router.get("/networks/{network_id}")
async def get_network(network_id: uuid.UUID, tx: TransactionsDep) -> NetworkOut:
    return views.network(await tx.read(lambda conn: networks.get_network(conn, network_id)))


@router.post("/networks", status_code=201, response_model=NetworkOut)
async def create_network(
    body: NetworkIn, request: Request, _: Organiser, tx: TransactionsDep, key: IdempotencyKey = None
) -> JSONResponse:
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json()),
        lambda conn: networks.create_network(conn, body),
        lambda row: (201, views.network(row).model_dump(mode="json")),
    )
    return JSONResponse(payload, status_code=status)


@router.patch("/networks/{network_id}")
async def update_network(
    network_id: uuid.UUID, body: NetworkPatch, _: Organiser, tx: TransactionsDep
) -> NetworkOut:
    return views.network(await tx.run(lambda conn: networks.update_network(conn, network_id, body)))


@router.post("/networks/{network_id}/enrolments", status_code=201, response_model=EnrolmentOut)
async def enrol(
    network_id: uuid.UUID,
    body: EnrolmentIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    by_organiser: IsOrganiser,
    key: IdempotencyKey = None,
) -> JSONResponse:
    if not by_organiser:  # organisers enter people themselves; limits are for the public
        await abuse.check_address(request)
        await abuse.check_email(body.member.email)
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json()),
        lambda conn: enrolments.enrol(conn, ctx, network_id, body),
        lambda result: (
            201,
            views.enrolment(result[0], cancel_token=result[1]).model_dump(mode="json"),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/networks/{network_id}/enrolments")
async def enrolment_roster(
    network_id: uuid.UUID, _: Organiser, tx: TransactionsDep, cursor: CursorDep, limit: Limit = 100
) -> Page[EnrolmentRosterItem]:
    rows, next_cursor = await tx.read(
        lambda conn: enrolments.roster(conn, network_id, limit=limit, cursor=cursor)
    )
    return Page(
        items=[views.enrolment_roster_item(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
