"""A meeting's roster as CSV, for the organiser's spreadsheet: headings and statuses in their
language, the separator their Excel expects, times where the meeting is, to the minute."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.web.console.pages import missing, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from registration.web.console.spreadsheets import file_name, local_minute, spreadsheet
from registration.web.requests import language_of
from registration.web.words import gettext
from tilmeld_shared.i18n import N_

router = APIRouter(prefix="/console", include_in_schema=False)

HEADINGS = (
    N_("Status"),
    N_("Place on the waitlist"),
    N_("Name"),
    N_("Email"),
    N_("Municipality"),
    N_("Job title"),
    N_("Organisation"),
    N_("Seats"),
    N_("Companions"),
    N_("Registered on"),
    N_("Checked in at"),
)
STATUSES = {"confirmed": N_("Confirmed"), "waitlisted": N_("On the waitlist")}


@router.get("/meetings/{meeting_id}/roster.csv", response_model=None)
async def roster_csv(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id, vault=ctx.vault)
    if page is None:
        return missing(request)
    language = language_of(request)
    zone = page["meeting"]["timezone"]
    # A column per question of the meeting, headed by its words; erased answers are blank.
    questions = [str(question.question_id) for question in page["questions"]]
    rows = [
        [
            _status_word(language, person["status"]),
            person["waitlist_position"] or "",
            person["name"] or "",
            person["email"] or "",
            person["municipality"],
            person["role"] or "",
            person["organisation"] or "",
            person["seats"],
            "; ".join(c.get("name") or "" for c in person["companions"]),
            local_minute(person["registered_at"], zone),
            local_minute(person["checked_in_at"], zone),
            *(
                page["answers"].get(str(person["registration_id"]), {}).get(question, "")
                for question in questions
            ),
        ]
        for person in [*page["confirmed"], *page["waitlisted"]]
    ]
    header = [
        *(gettext(language, heading) for heading in HEADINGS),
        *(question.text for question in page["questions"]),
    ]
    meeting = page["meeting"]
    name = file_name(
        gettext(language, "participants"),
        meeting["title"],
        meeting["starts_at"].date().isoformat(),
    )
    return spreadsheet(header, rows, language=language, name=name)


def _status_word(language: str, status: str) -> str:
    return gettext(language, STATUSES[status])
