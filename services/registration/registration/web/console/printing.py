"""What an organiser prints for the door: a sign-in sheet (A4, the browser prints it) and
name badges (a PDF). Companions are people at the door too: each gets their own line and badge."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from registration.api.deps import TransactionsDep
from registration.web import headers
from registration.web.console.pages import missing, render, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from registration.web.console.spreadsheets import attachment, file_name
from registration.web.requests import language_of
from registration.web.words import gettext

router = APIRouter(prefix="/console", include_in_schema=False)


def people_at_the_door(confirmed: list[Any], language: str) -> list[dict[str, str]]:
    """Everyone expected, member and companions alike, in alphabetical order."""
    people = []
    for person in confirmed:
        name = person["name"] or gettext(language, "Erased")
        detail = ", ".join(part for part in (person["role"], person["organisation"]) if part)
        people.append({"name": name, "detail": detail, "municipality": person["municipality"]})
        for companion in person["companions"]:
            people.append(
                {
                    "name": companion.get("name") or gettext(language, "Companion"),
                    "detail": gettext(language, "Companion of %(name)s", name=name),
                    "municipality": person["municipality"],
                }
            )
    return sorted(people, key=lambda p: p["name"].casefold())


@router.get(
    "/meetings/{meeting_id}/sign-in-sheet", response_class=HTMLResponse, response_model=None
)
async def sign_in_sheet(
    meeting_id: uuid.UUID, request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    people = people_at_the_door(page["confirmed"], language_of(request))
    return render(request, "sign_in_sheet.html", people=people, **page)


@router.get("/meetings/{meeting_id}/badges.pdf", response_model=None)
async def badges(
    meeting_id: uuid.UUID, request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    language = language_of(request)
    meeting = page["meeting"]
    people = people_at_the_door(page["confirmed"], language)
    footer = f"{meeting['title']} · {page['when']}"
    # Imported here: reportlab keeps ~10 MB resident, for a page printed a few times a meeting.
    from registration.web.console.badges import Badge, badges_pdf

    pdf = badges_pdf(
        [Badge(p["name"], p["detail"], p["municipality"]) for p in people],
        footer=footer,
        title=gettext(language, "Name badges") + f" · {meeting['title']}",
    )
    name = file_name(
        gettext(language, "badges"),
        meeting["title"],
        meeting["starts_at"].date().isoformat(),
        extension="pdf",
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**headers.SIGNED_IN, "Content-Disposition": attachment(name)},
    )
