"""Check-in at the door: the list to tap through (members and each companion on a line of their
own), the tap itself, and taking a tap back.

Every form works without JavaScript; the page's script adds a queue that survives a poor
connection, which is why a tap is safe to repeat.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import door, registrations
from registration.unit_of_work import as_is
from registration.web.console.pages import missing, render, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from registration.web.requests import read_form
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)


def door_rows(confirmed: list[Any]) -> list[dict[str, Any]]:
    """One line per person expected: the member, then each of their companions."""
    rows = []
    for person in confirmed:
        member_name = person["name"] or "—"
        rows.append(
            {
                "key": f"{person['registration_id']}",
                "registration_id": person["registration_id"],
                "companion": None,
                "name": member_name,
                "companion_of": None,
                "municipality": person["municipality"],
                "arrived": person["checked_in_at"] is not None,
            }
        )
        arrived = set(person.get("companions_arrived") or [])
        for index, companion in enumerate(person["companions"]):
            rows.append(
                {
                    "key": f"{person['registration_id']}-c{index}",
                    "registration_id": person["registration_id"],
                    "companion": index,
                    "name": companion.get("name") or "—",
                    "companion_of": member_name,
                    "municipality": person["municipality"],
                    "arrived": index in arrived,
                }
            )
    return rows


def _matches(row: dict[str, Any], query: str) -> bool:
    """A search finds a person by their own name, or a companion by their member's too."""
    names = (row["name"], row["companion_of"] or "")
    return not query or any(query in name.casefold() for name in names)


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
    query = request.query_params.get("q", "").strip().casefold()
    everyone = door_rows(page["confirmed"])
    arrived = sum(1 for row in everyone if row["arrived"])
    started = ctx.clock.now() >= page["meeting"]["starts_at"]
    cancelled = page["meeting"]["status"] == "cancelled"
    return render(
        request,
        "check_in.html",
        people=[row for row in everyone if _matches(row, query)],
        query=query,
        # Seats: each member and each companion is a person at the door.
        arrived=arrived,
        expected=len(everyone),
        no_shows=len(everyone) - arrived if started else None,
        cancelled=cancelled,
        **page,
    )


def _companion(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


async def _answer(request: Request, row: Any, query: str, anchor: str) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {
                "registration_id": str(row["id"]),
                "checked_in_at": row["checked_in_at"].isoformat() if row["checked_in_at"] else None,
                "companions_arrived": list(row["companions_arrived"] or []),
            }
        )
    back = f"/console/meetings/{row['meeting_id']}/check-in"
    return RedirectResponse(f"{back}?{urlencode({'q': query})}#r-{anchor}", 303)


@router.post("/registrations/{registration_id}/check-in", response_model=None)
async def check_in(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """A tap at the door. Checking in twice changes nothing, so the page may safely retry."""
    form = await read_form(request)
    companion = _companion(form.get("companion") or request.query_params.get("companion"))
    try:
        if companion is None:
            row = await registrations.check_in(
                tx, ctx, registration_id, organiser=organiser, once=as_is()
            )
        else:
            row = await door.check_in_companion(
                tx, ctx, registration_id, companion, organiser=organiser, once=as_is()
            )
    except Problem as error:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    anchor = f"{registration_id}" if companion is None else f"{registration_id}-c{companion}"
    return await _answer(request, row, form.get("q", ""), anchor)


@router.post("/registrations/{registration_id}/check-in/undo", response_model=None)
async def undo_check_in(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """A tap taken back (the wrong person ticked); the line can be ticked again."""
    form = await read_form(request)
    companion = _companion(form.get("companion") or request.query_params.get("companion"))
    try:
        row = await door.undo_check_in(
            tx, ctx, registration_id, companion=companion, organiser=organiser, once=as_is()
        )
    except Problem as error:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    anchor = f"{registration_id}" if companion is None else f"{registration_id}-c{companion}"
    return await _answer(request, row, form.get("q", ""), anchor)
