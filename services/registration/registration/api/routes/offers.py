"""A seat offered from the waitlist: the person, with the token from their offer link, sees the
offer and accepts it (service/offers.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    IdempotencyKey,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import RegistrationOut
from registration.service import offers
from registration.service.commands import CancelIn
from registration.unit_of_work import per_key

router = APIRouter(tags=["participation"])

Token = Annotated[str, Query(max_length=500, description="The token from the offer link.")]


class OfferOut(BaseModel):
    registration_id: uuid.UUID
    meeting_id: uuid.UUID
    meeting_title: str
    starts_at: datetime
    status: Literal["confirmed", "waitlisted", "cancelled"]
    seats: int
    offer: offers.OfferStatus = Field(
        description="open: the seat is held until offer_expires_at; accepted; expired; "
        "declined (cancelled while open); none (never offered a seat)."
    )
    offer_expires_at: datetime | None = None


@router.get("/registrations/{registration_id}/offer")
async def get_offer(
    registration_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: Token = ""
) -> OfferOut:
    """The seat offered to this registration and until when it is held (403 without the
    offer link's token)."""
    found = await offers.offer_for_person(tx, ctx, registration_id, token=token)
    registration, meeting = found.registration, found.meeting
    return OfferOut(
        registration_id=registration["id"],
        meeting_id=meeting["id"],
        meeting_title=meeting["title"],
        starts_at=meeting["starts_at"],
        status=registration["status"],
        seats=registration["seats"],
        offer=found.status,
        offer_expires_at=registration["offer_expires_at"],
    )


@router.post("/registrations/{registration_id}/offer/accept", response_model=RegistrationOut)
async def accept_offer(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    key: IdempotencyKey = None,
    body: CancelIn | None = None,
    token: Token = "",
) -> JSONResponse:
    """Take the offered seat: 200 with the registration, now confirmed; again, the same answer
    and nothing changes. 409 `offer-expired` once the offer has lapsed, `already-cancelled`,
    `no-offer`, `meeting-cancelled`. The token goes in the body (`{"token": ...}`, as for
    cancelling) or as `?token=`."""
    given = (body.token if body else None) or token
    status, payload = await offers.accept_offer(
        tx,
        ctx,
        registration_id,
        token=given,
        once=per_key(
            idempotent_request(key, request, given, caller=None),
            lambda row: views.answer(200, views.registration(row)),
            admit=abuse.public_request(request, None),
        ),
    )
    return JSONResponse(payload, status_code=status)
