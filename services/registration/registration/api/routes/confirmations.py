"""Address confirmation: the emailed link shows (GET) what it confirms and confirms (POST);
mail scanners follow GETs, so a GET changes nothing."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from registration.api import dialogue_schemas as dialogue
from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    TransactionsDep,
    idempotent_request,
)
from registration.api.dialogue_schemas import ConfirmationOut
from registration.service import address_confirmations
from registration.unit_of_work import per_key

router = APIRouter(tags=["address confirmation"])
Token = Annotated[
    str, Query(min_length=1, max_length=500, description="The token from the emailed link.")
]


@router.get("/confirmations/{confirmation_id}")
async def show_confirmation(
    confirmation_id: uuid.UUID, token: Token, tx: TransactionsDep, ctx: ContextDep
) -> ConfirmationOut:
    """What the link confirms and what waits for it (responses, proposals, votes). Changes
    nothing. 403 for a wrong token."""
    view = await address_confirmations.show_confirmation(tx, ctx, confirmation_id, token)
    return dialogue.confirmation(view)


@router.post("/confirmations/{confirmation_id}", response_model=ConfirmationOut)
async def confirm_address(
    confirmation_id: uuid.UUID,
    token: Token,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Confirm the address: every pending response, proposal and vote of the person counts now
    (`waiting` says how many), and whatever they send from it later counts at once, in every
    network. Confirming again changes nothing."""
    status, payload = await address_confirmations.confirm_address(
        tx,
        ctx,
        confirmation_id,
        token,
        once=per_key(
            idempotent_request(key, request, token, caller=None),
            lambda view: views.answer(200, dialogue.confirmation(view)),
            admit=abuse.public_request(request, None),
        ),
    )
    return JSONResponse(payload, status_code=status)
