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
from registration.service import history, meetings, registrations
from registration.service.organisations import scoped

router = APIRouter(tags=["meetings"])


@router.get("/networks/{network_id}/meetings")
async def list_meetings(
    network_id: uuid.UUID,
    tx: TransactionsDep,
    cursor: CursorDep,
    organiser: OrganiserIfAny,
    limit: Limit = 50,
) -> Page[MeetingOut]:
    rows, next_cursor, organises = await tx.read(
        lambda conn: meetings.read_meetings(conn, network_id, organiser, limit=limit, cursor=cursor)
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
    key: IdempotencyKey = None,
) -> JSONResponse:
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json(), caller=organiser),
        scoped(
            organiser,
            "network",
            network_id,
            lambda conn: meetings.schedule_meeting(conn, network_id, body),
        ),
        lambda row: (201, views.meeting(row, show_online_url=True).model_dump(mode="json")),
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
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, body.model_dump_json(), caller=organiser),
        scoped(
            organiser,
            "network",
            network_id,
            lambda conn: history.record_held_meeting(conn, ctx, network_id, body),
        ),
        lambda row: (201, views.meeting(row, show_online_url=True).model_dump(mode="json")),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}")
async def get_meeting(
    meeting_id: uuid.UUID, tx: TransactionsDep, organiser: OrganiserIfAny
) -> MeetingOut:
    row, organises = await tx.read(lambda conn: meetings.read_meeting(conn, meeting_id, organiser))
    return views.meeting(row, show_online_url=organises)


@router.patch("/meetings/{meeting_id}")
async def update_meeting(
    meeting_id: uuid.UUID,
    body: MeetingPatch,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
) -> MeetingOut:
    change = scoped(
        organiser,
        "meeting",
        meeting_id,
        lambda conn: meetings.update_meeting(conn, ctx, meeting_id, body),
    )
    return views.meeting(await tx.run(change), show_online_url=True)


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingOut)
async def cancel_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    status, payload = await tx.run_idempotent(
        idempotent_request(key, request, "", caller=organiser),
        scoped(organiser, "meeting", meeting_id, lambda c: meetings.cancel_meeting(c, meeting_id)),
        lambda row: (200, views.meeting(row, show_online_url=True).model_dump(mode="json")),
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
    status, payload = await tx.run_idempotent(
        idempotent_request(
            key,
            request,
            body.model_dump_json(),
            caller=organiser,
            person_email=body.member.email,
        ),
        lambda conn: registrations.register_for_meeting(conn, ctx, meeting_id, body),
        lambda result: (
            201,
            views.registration(
                result[0], waitlist_position=result[1], cancel_token=result[2]
            ).model_dump(mode="json"),
        ),
        admit=abuse.public_sign_up(request, body.member.email, organiser),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}/registrations")
async def registration_roster(
    meeting_id: uuid.UUID,
    organiser: Organiser,
    tx: TransactionsDep,
    cursor: CursorDep,
    limit: Limit = 100,
) -> Page[RegistrationRosterItem]:
    rows, next_cursor = await tx.read(
        scoped(
            organiser,
            "meeting",
            meeting_id,
            lambda conn: registrations.roster(conn, meeting_id, limit=limit, cursor=cursor),
        )
    )
    return Page(
        items=[views.registration_roster_item(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
