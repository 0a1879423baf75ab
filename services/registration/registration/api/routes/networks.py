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
from registration.service.organisations import scoped
from tilmeld_shared.problems import Forbidden

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
    body: NetworkIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """An organisation's organiser creates networks of that organisation; the platform
    administrator may name any organisation (or none: the platform's own)."""
    owner = body.organisation_id if organiser.platform else organiser.organisation_id
    if not organiser.platform and body.organisation_id not in (None, owner):
        raise Forbidden("Networks can be created for your own organisation only.")
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json(), caller=organiser),
        lambda conn: networks.create_network(conn, body, organisation_id=owner),
        lambda row: (201, views.network(row).model_dump(mode="json")),
    )
    return JSONResponse(payload, status_code=status)


@router.patch("/networks/{network_id}")
async def update_network(
    network_id: uuid.UUID, body: NetworkPatch, organiser: Organiser, tx: TransactionsDep
) -> NetworkOut:
    change = scoped(
        organiser, "network", network_id, lambda c: networks.update_network(c, network_id, body)
    )
    return views.network(await tx.run(change))


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
    status, payload = await tx.run_idempotent(
        idempotent_request(
            key,
            request,
            body.model_dump_json(),
            caller=organiser,
            person_email=body.member.email,
        ),
        lambda conn: enrolments.enrol(conn, ctx, network_id, body),
        lambda result: (
            201,
            views.enrolment(result[0], cancel_token=result[1]).model_dump(mode="json"),
        ),
        admit=abuse.public_sign_up(request, body.member.email, organiser),
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
    rows, next_cursor = await tx.read(
        scoped(
            organiser,
            "network",
            network_id,
            lambda conn: enrolments.roster(conn, network_id, limit=limit, cursor=cursor),
        )
    )
    return Page(
        items=[views.enrolment_roster_item(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
