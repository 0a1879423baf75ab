"""A network's member list in the console: who, from where, since when, how often they came;
on the page and as a spreadsheet."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import member_lists
from registration.web.console.forms import DEFAULT_TIMEZONE, NETWORK_TIMEZONES
from registration.web.console.pages import missing, render
from registration.web.console.session import ConsoleOrganiser
from registration.web.console.spreadsheets import file_name, local_minute, spreadsheet
from registration.web.requests import language_of
from registration.web.words import gettext
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/networks/{network_id}/members", response_class=HTMLResponse, response_model=None)
async def member_list(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    try:
        found = await member_lists.network_members(tx, ctx, network_id, organiser=organiser)
    except Problem:
        return missing(request)
    people = [_person(row) for row in found.members]
    return render(
        request,
        "members.html",
        network=found.network,
        members=[p for p in people if p["active"]],
        former=[p for p in people if not p["active"]],
    )


@router.get("/networks/{network_id}/members.csv", response_model=None)
async def member_list_csv(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    try:
        found = await member_lists.network_members(tx, ctx, network_id, organiser=organiser)
    except Problem:
        return missing(request)
    language = language_of(request)
    # A network has no time zone of its own: its dates are read in its language's, as the
    # network form reads them.
    zone = NETWORK_TIMEZONES.get(found.network["language"], DEFAULT_TIMEZONE)
    header = [
        gettext(language, "Name"),
        gettext(language, "Email"),
        gettext(language, "Municipality"),
        gettext(language, "Job title"),
        gettext(language, "Organisation"),
        gettext(language, "Member since"),
        gettext(language, "Left on"),
        gettext(language, "Meetings held since joining"),
        gettext(language, "Meetings attended"),
    ]
    rows = [
        [
            row["name"] or "",
            row["email"] or "",
            row["municipality"],
            row["role"],
            row["organisation"] or "",
            local_minute(row["enrolled_at"], zone),
            local_minute(row["cancelled_at"], zone),
            row["meetings_held"],
            row["meetings_attended"],
        ]
        for row in found.members
    ]
    name = file_name(
        gettext(language, "members"), found.network["title"], ctx.clock.now().date().isoformat()
    )
    return spreadsheet(header, rows, language=language, name=name)


def _person(row: Any) -> dict[str, Any]:
    return {
        "name": row["name"],
        "email": row["email"],
        "municipality": row["municipality"],
        "role": row["role"],
        "organisation": row["organisation"],
        "since": row["enrolled_at"].date().isoformat(),
        "left": row["cancelled_at"].date().isoformat() if row["cancelled_at"] else "",
        "active": row["status"] == "active",
        "held": row["meetings_held"],
        "attended": row["meetings_attended"],
    }
