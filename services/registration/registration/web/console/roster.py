"""A meeting's roster as CSV, for the organiser's spreadsheet."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.web import headers
from registration.web.console.pages import missing, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from tilmeld_shared.csv_export import write_csv

router = APIRouter(prefix="/console", include_in_schema=False)
HEADER = ["status", "waitlist_position", "name", "email", "municipality", "seats",
          "companions", "registered_at", "checked_in_at"]  # fmt: skip


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
    # A column per question of the meeting, headed by its words; erased answers are blank.
    questions = [str(question.question_id) for question in page["questions"]]
    rows = [
        [
            person["status"],
            person["waitlist_position"] or "",
            person["name"] or "",
            person["email"] or "",
            person["municipality"],
            person["seats"],
            "; ".join(c.get("name") or "" for c in person["companions"]),
            person["registered_at"].isoformat(),
            person["checked_in_at"].isoformat() if person["checked_in_at"] else "",
            *(
                page["answers"].get(str(person["registration_id"]), {}).get(question, "")
                for question in questions
            ),
        ]
        for person in [*page["confirmed"], *page["waitlisted"]]
    ]
    header = [*HEADER, *(question.text for question in page["questions"])]
    return Response(
        "\ufeff" + write_csv(header, rows),  # a BOM, so spreadsheets read the letters æøå right
        media_type="text/csv; charset=utf-8",
        headers={
            **headers.SIGNED_IN,
            "Content-Disposition": f'attachment; filename="roster-{meeting_id}.csv"',
        },
    )
