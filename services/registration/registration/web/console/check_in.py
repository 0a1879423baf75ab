"""Check-in at the door: the list to tap through, and the tap itself.

Every form works without JavaScript; the page's script adds a queue that survives a poor
connection, which is why a tap is safe to repeat.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import registrations
from registration.unit_of_work import as_is
from registration.web.console.pages import missing, render, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from registration.web.requests import read_form
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/meetings/{meeting_id}/check-in", response_class=HTMLResponse, response_model=None)
async def check_in_view(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    query = request.query_params.get("q", "").strip().lower()
    people = [p for p in page["confirmed"] if not query or query in (p["name"] or "").lower()]
    arrived = sum(1 for p in page["confirmed"] if p["checked_in_at"] is not None)
    started = ctx.clock.now() >= page["meeting"]["starts_at"]
    return render(
        request,
        "check_in.html",
        people=people,
        query=query,
        arrived=arrived,
        expected=len(page["confirmed"]),
        no_shows=len(page["confirmed"]) - arrived if started else None,
        **page,
    )


@router.post("/registrations/{registration_id}/check-in", response_model=None)
async def check_in(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """A tap at the door. Checking in twice changes nothing, so the page may safely retry."""
    try:
        row = await registrations.check_in(
            tx, ctx, registration_id, organiser=organiser, once=as_is()
        )
    except Problem as error:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"registration_id": str(row["id"]), "checked_in_at": row["checked_in_at"].isoformat()}
        )
    query = (await read_form(request)).get("q", "")
    back = f"/console/meetings/{row['meeting_id']}/check-in"
    return RedirectResponse(f"{back}?{urlencode({'q': query})}#r-{row['id']}", 303)
