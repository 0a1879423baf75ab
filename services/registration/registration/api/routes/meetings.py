from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
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
    HeldMeetingIn,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    Page,
    RegistrationIn,
    RegistrationOut,
    RegistrationRosterItem,
    require_deliverable,
)
from registration.service import history, meetings, registrations, rosters
from registration.unit_of_work import per_key

router = APIRouter(tags=["meetings"])


@router.get("/networks/{network_id}/meetings")
async def list_meetings(
    network_id: uuid.UUID,
    tx: TransactionsDep,
    cursor: CursorDep,
    organiser: OrganiserIfAny,
    limit: Limit = 50,
) -> Page[MeetingOut]:
    rows, next_cursor, organises = await meetings.read_meetings(
        tx, network_id, organiser, limit=limit, cursor=cursor
    )
    return Page(
        items=[views.meeting(r, show_online_url=organises) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@router.post("/networks/{network_id}/meetings", status_code=201, response_model=MeetingOut)
async def schedule_meeting(
    network_id: uuid.UUID,
    body: MeetingIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    status, payload = await meetings.schedule_meeting(
        tx,
        network_id,
        body,
        organiser=organiser,
        ctx=ctx,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(201, views.meeting(row, show_online_url=True)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/networks/{network_id}/held-meetings", status_code=201, response_model=MeetingOut)
async def record_held_meeting(
    network_id: uuid.UUID,
    body: HeldMeetingIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a meeting that has already been held, with who registered and who came, each at
    its own time (for an archive brought from elsewhere). Its events carry those times, so
    reports chart them then; nobody is emailed about a meeting that is over."""
    status, payload = await history.record_held_meeting(
        tx,
        ctx,
        network_id,
        body,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(201, views.meeting(row, show_online_url=True)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}")
async def get_meeting(
    meeting_id: uuid.UUID, tx: TransactionsDep, organiser: OrganiserIfAny
) -> MeetingOut:
    row, organises = await meetings.read_meeting(tx, meeting_id, organiser)
    return views.meeting(row, show_online_url=organises)


@router.patch("/meetings/{meeting_id}")
async def update_meeting(
    meeting_id: uuid.UUID,
    body: MeetingPatch,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
) -> MeetingOut:
    row = await meetings.update_meeting(tx, ctx, meeting_id, body, organiser=organiser)
    return views.meeting(row, show_online_url=True)


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingOut)
async def cancel_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    status, payload = await meetings.cancel_meeting(
        tx,
        meeting_id,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, "", caller=organiser),
            lambda row: views.answer(200, views.meeting(row, show_online_url=True)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post(
    "/meetings/{meeting_id}/registrations", status_code=201, response_model=RegistrationOut
)
async def register(
    meeting_id: uuid.UUID,
    body: RegistrationIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    require_deliverable(body, smtputf8=ctx.settings.smtp_accepts_smtputf8)
    status, payload = await registrations.register_for_meeting(
        tx,
        ctx,
        meeting_id,
        body,
        once=per_key(
            idempotent_request(
                key,
                request,
                body.model_dump_json(),
                caller=organiser,
                person_email=body.member.email,
            ),
            lambda registered: views.answer(201, views.registered(registered)),
            admit=abuse.public_sign_up(request, body.member.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}/registrations")
async def registration_roster(
    meeting_id: uuid.UUID,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    cursor: CursorDep,
    limit: Limit = 100,
) -> Page[RegistrationRosterItem]:
    rows, next_cursor = await rosters.roster(
        tx, meeting_id, organiser=organiser, limit=limit, cursor=cursor
    )
    given = await rosters.roster_answers(
        tx, ctx.vault, meeting_id, [r["registration_id"] for r in rows], organiser=organiser
    )
    return Page(
        items=[views.registration_roster_item(r, given.get(r["registration_id"])) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
