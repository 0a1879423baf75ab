"""The console's page of a meeting's agenda and documents: the agenda as a text box with one
item per line (no JavaScript needed), documents uploaded and removed with plain forms, and
the participants' documents downloaded with the console's session."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.api.routes.documents import _attachment
from registration.api.schemas import MeetingPatch
from registration.api.uploads import read_upload
from registration.service import archive, document_inspection, documents, meetings
from registration.service.documents import Reader
from registration.unit_of_work import Transactions, as_is
from registration.web.console.pages import missing, render
from registration.web.console.session import ConsoleOrganiser
from registration.web.public.archive import KIND_NAMES
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.auth import Principal
from tilmeld_shared.problems import Invalid, Problem

router = APIRouter(prefix="/console", include_in_schema=False)

# "10:00", or a date and time for a meeting over several days ("2025-03-07 09:30").
_TIME = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2})[:.](\d{2})$")
_FIELD = re.compile(r"^agenda\.(\d+)(?:\.(\w+))?")


def agenda_text(meeting: Any) -> str:
    """The stored agenda as the text box shows it: time | title | speakers | proposal."""
    zone = ZoneInfo(meeting["timezone"])
    start_day = meeting["starts_at"].astimezone(zone).date()
    lines = []
    for item in meeting["agenda"] or []:
        time = ""
        if item.get("starts_at"):
            local = datetime.fromisoformat(item["starts_at"]).astimezone(zone)
            time = local.strftime("%H:%M" if local.date() == start_day else "%Y-%m-%d %H:%M")
        speakers = ", ".join(item.get("speakers") or [])
        columns = [time, item["title"], speakers, str(item.get("proposal_id") or "")]
        while len(columns) > 2 and not columns[-1]:
            columns.pop()
        lines.append(" | ".join(columns).strip())
    return "\n".join(lines)


class _LineError(Exception):
    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = number
        self.message = message


def agenda_from(text: str, meeting: Any) -> list[dict[str, Any]]:
    """The text box's lines as agenda items; a time alone is on the meeting's first day, in
    its own time zone."""
    zone = ZoneInfo(meeting["timezone"])
    start_day = meeting["starts_at"].astimezone(zone).date()
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = [column.strip() for column in line.split("|")]
        if len(columns) == 1:
            columns = ["", columns[0]]
        time, title, *rest = columns
        item: dict[str, Any] = {"title": title}
        if time:
            found = _TIME.match(time)
            if found is None:
                raise _LineError(number, "time")
            day = datetime.fromisoformat(found[1]).date() if found[1] else start_day
            try:
                local = datetime(
                    day.year, day.month, day.day, int(found[2]), int(found[3]), tzinfo=zone
                )
            except ValueError:
                raise _LineError(number, "time") from None
            item["starts_at"] = local.isoformat()
        if rest and rest[0]:
            item["speakers"] = [name.strip() for name in rest[0].split(",") if name.strip()]
        if len(rest) > 1 and rest[1]:
            item["proposal_id"] = rest[1]
        item["_line"] = number
        items.append(item)
    return items


def _line_message(lang: str, number: int, what: str) -> str:
    messages = {
        "time": gettext(lang, "write the time as 10:00 (or 2025-03-07 10:00)"),
        "starts_at": gettext(lang, "the time is outside the meeting"),
        "proposal_id": gettext(lang, "not a topic proposal of this network"),
        "title": gettext(lang, "the title is missing"),
    }
    line = gettext(lang, "Line %(number)s") % {"number": number}
    message = messages.get(what) or gettext(lang, "not valid")
    return f"{line}: {message}"


def _errors_by_line(fields: list[str], items: list[dict[str, Any]], lang: str) -> list[str]:
    found = []
    for field in fields:
        match = _FIELD.match(field)
        if match is None or int(match[1]) >= len(items):
            found.append(field)
            continue
        found.append(_line_message(lang, items[int(match[1])]["_line"], match[2] or ""))
    return found


async def _page(
    tx: Transactions, ctx: Any, organiser: Principal, meeting_id: uuid.UUID
) -> dict[str, Any] | None:
    try:
        meeting, network = await meetings.meeting_and_network(tx, meeting_id)
        await documents.require_meeting(tx, meeting_id, organiser)
    except Problem:
        return None
    papers = await archive.papers_of_meeting(tx, ctx, meeting_id, Reader(organiser))
    return {
        "meeting": meeting,
        "network": network,
        "documents": [
            {
                "id": row["id"],
                "title": row["title"],
                "filename": row["filename"],
                "kind": KIND_NAMES.get(row["content_type"], row["content_type"]),
                "size_kb": max(row["size"] // 1024, 1),
                "visibility": row["visibility"],
            }
            for row in papers.documents
        ],
        "max_mb": ctx.settings.document_max_bytes // (1024 * 1024),
    }


def _answer(
    request: Request,
    page: dict[str, Any],
    *,
    status: int = 200,
    agenda: str | None = None,
    agenda_errors: list[str] | None = None,
    document_problem: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "papers.html",
        status=status,
        agenda=agenda if agenda is not None else agenda_text(page["meeting"]),
        agenda_errors=agenda_errors or [],
        document_problem=document_problem,
        saved=request.query_params.get("saved"),
        **page,
    )


@router.get("/meetings/{meeting_id}/papers", response_class=HTMLResponse, response_model=None)
async def show_papers(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _page(tx, ctx, organiser, meeting_id)
    return missing(request) if page is None else _answer(request, page)


@router.post("/meetings/{meeting_id}/agenda", response_model=None)
async def save_agenda(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Replace the agenda with the text box's lines."""
    form = await read_form(request, max_chars=40_000)
    text = form.get("agenda", "")
    lang = language_of(request)
    page = await _page(tx, ctx, organiser, meeting_id)
    if page is None:
        return missing(request)
    items: list[dict[str, Any]] = []
    try:
        items = agenda_from(text, page["meeting"])
        command = MeetingPatch.model_validate(
            {"agenda": [{k: v for k, v in item.items() if k != "_line"} for item in items]}
        )
        await meetings.update_meeting(tx, ctx, meeting_id, command, organiser=organiser)
    except _LineError as error:
        errors = [_line_message(lang, error.number, error.message)]
    except ValidationError as error:
        fields = [".".join(str(part) for part in e["loc"]) for e in error.errors()]
        errors = _errors_by_line(fields, items, lang)
    except Invalid as error:
        fields = [e["field"] for e in error.extensions.get("errors", [])]
        errors = _errors_by_line(fields, items, lang) or [error.detail]
    except Problem as error:
        errors = [error.detail]
    else:
        return RedirectResponse(f"/console/meetings/{meeting_id}/papers?saved=agenda", 303)
    return _answer(request, page, status=422, agenda=text, agenda_errors=errors)


@router.post("/meetings/{meeting_id}/documents", response_model=None)
async def upload_document(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Upload a document from the console's form (the same checks as the API's)."""
    page = await _page(tx, ctx, organiser, meeting_id)
    if page is None:
        return missing(request)
    try:
        upload = await read_upload(request, max_file_bytes=ctx.settings.document_max_bytes)
        try:
            inspected = await document_inspection.inspect(
                ctx.settings,
                upload.file.file,
                claimed_name=upload.file.filename,
                title=upload.title,
                visibility=upload.visibility,
            )
            await documents.add_document(
                tx,
                request.app.state.document_store,
                meeting_id,
                inspected,
                organiser=organiser,
                once=as_is(),
            )
        finally:
            await upload.file.close()
    except Problem as error:
        lang = language_of(request)
        words = {
            413: gettext(lang, "The file is too large."),
            415: gettext(lang, "Only PDF, office documents, PNG and JPEG can be added."),
        }
        return _answer(
            request,
            page,
            status=error.status,
            document_problem=words.get(error.status, error.detail),
        )
    return RedirectResponse(f"/console/meetings/{meeting_id}/papers?saved=document", 303)


@router.post("/documents/{document_id}/delete", response_model=None)
async def delete_document(
    document_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    try:
        row = await documents.find_document(tx, ctx, document_id, Reader(organiser))
        await documents.remove_document(
            tx, request.app.state.document_store, document_id, organiser=organiser
        )
    except Problem:
        return missing(request)
    return RedirectResponse(f"/console/meetings/{row['meeting_id']}/papers?saved=removed", 303)


@router.get("/documents/{document_id}", response_model=None)
async def download_document(
    document_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Any document of the organiser's meetings, participants' ones included."""
    try:
        row = await documents.find_document(tx, ctx, document_id, Reader(organiser))
        chunks = await documents.open_bytes(request.app.state.document_store, row)
    except Problem:
        return missing(request)
    return StreamingResponse(
        chunks,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": _attachment(row["filename"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
