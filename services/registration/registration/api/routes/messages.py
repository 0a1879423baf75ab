from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from registration.api import views
from registration.api.deps import IdempotencyKey, Organiser, TransactionsDep, idempotent_request
from registration.api.schemas import MessageIn, MessageOut
from registration.service import messages
from registration.unit_of_work import per_key

router = APIRouter(tags=["meetings"])


@router.post("/meetings/{meeting_id}/messages", status_code=202, response_model=MessageOut)
async def send_message(
    meeting_id: uuid.UUID,
    body: MessageIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Email the meeting's confirmed, waitlisted or all participants once each (their
    companions with an email too); `recipients` is how many people that is now."""
    status, payload = await messages.send_message(
        tx,
        meeting_id,
        body,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda sent: views.answer(
                202, MessageOut(message_id=sent.message_id, recipients=sent.recipients)
            ),
        ),
    )
    return JSONResponse(payload, status_code=status)
