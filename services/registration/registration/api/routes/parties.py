"""Municipalities as parties of a network: apply or join, the organiser's decision, withdrawal,
and the network's list of parties."""

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
from registration.api.schemas import DecisionIn, Page, PartyIn, PartyOut, WithdrawIn
from registration.service import parties
from registration.unit_of_work import per_key

router = APIRouter(tags=["parties"])


@router.post("/networks/{network_id}/parties", status_code=201, response_model=PartyOut)
async def apply_as_party(
    network_id: uuid.UUID,
    body: PartyIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A municipality joins the network (open admission: `joined`) or applies to it
    (`applied`, until an organiser decides). Once per municipality: again is a 409."""
    status, payload = await parties.apply(
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
                person_email=body.contact.email,
            ),
            lambda result: views.answer(201, views.applied(result)),
            admit=abuse.public_sign_up(request, body.contact.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/networks/{network_id}/parties")
async def list_parties(
    network_id: uuid.UUID,
    tx: TransactionsDep,
    cursor: CursorDep,
    organiser: OrganiserIfAny,
    status: Annotated[
        Literal["applied", "joined", "declined", "withdrawn"] | None,
        Query(description="The network's organisers may list one status; others see joined."),
    ] = None,
    limit: Limit = 100,
) -> Page[PartyOut]:
    """The joined parties, without contacts; the network's organisers see every status, the
    contacts, statements and reasons."""
    found = await parties.list_parties(
        tx, network_id, caller=organiser, status=status, limit=limit, cursor=cursor
    )
    return Page(
        items=[views.party(row, in_full=found.in_full) for row in found.rows],
        next_cursor=found.next_cursor.encode() if found.next_cursor else None,
    )


@router.post("/parties/{party_id}/accept", response_model=PartyOut)
async def accept_party(
    party_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
    body: DecisionIn | None = None,
) -> JSONResponse:
    """Accept an application: the party joins. Only an application awaiting a decision (409)."""
    return await _decide(party_id, request, organiser, tx, ctx, key, body, accept=True)


@router.post("/parties/{party_id}/decline", response_model=PartyOut)
async def decline_party(
    party_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
    body: DecisionIn | None = None,
) -> JSONResponse:
    """Decline an application, with a `reason` the contact is sent. Only an application
    awaiting a decision (409)."""
    return await _decide(party_id, request, organiser, tx, ctx, key, body, accept=False)


async def _decide(
    party_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: str | None,
    body: DecisionIn | None,
    *,
    accept: bool,
) -> JSONResponse:
    status, payload = await parties.decide(
        tx,
        ctx,
        party_id,
        accept=accept,
        reason=body.reason if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, views.party(row, in_full=True)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/parties/{party_id}/withdraw", response_model=PartyOut)
async def withdraw_party(
    party_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: OrganiserIfAny,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
    body: WithdrawIn | None = None,
) -> JSONResponse:
    """Withdraw an application or a joined party: the contact with the `token` they were
    given, or an organiser of the network (with a `reason`)."""
    status, payload = await parties.withdraw(
        tx,
        ctx,
        party_id,
        token=body.token if body else None,
        reason=body.reason if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, views.party(row, in_full=organiser is not None)),
            admit=abuse.public_request(request, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)
