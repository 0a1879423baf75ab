"""A network's public archive of held meetings, and a meeting's agenda and documents as its
page shows them (the participants' documents too, when the address carries the person's
registration and token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_time
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration.api.deps import TransactionsDep
from registration.service import archive
from registration.service.agenda import in_order
from registration.service.documents import Reader
from registration.unit_of_work import ServiceContext, Transactions
from registration.web.public.page import not_found, render, when
from registration.web.requests import language_of
from tilmeld_shared.problems import Problem

router = APIRouter(include_in_schema=False)

# What a person calls each kind of document, by its sniffed type.
KIND_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.oasis.opendocument.presentation": "ODP",
}


def agenda_items(meeting: Any, lang: str) -> list[dict[str, Any]]:
    """The agenda as shown: by time, each time in the meeting's own zone."""
    zone = ZoneInfo(meeting["timezone"])
    items = []
    for item in in_order(meeting["agenda"] or []):
        at = item.get("starts_at")
        moment = datetime.fromisoformat(at).astimezone(zone) if at else None
        items.append(
            {
                "time": format_time(moment, "short", locale=lang) if moment else "",
                "time_iso": moment.isoformat() if moment else "",
                "title": item["title"],
                "speakers": ", ".join(item.get("speakers") or []),
                "proposed": bool(item.get("proposal_id")),
            }
        )
    return items


def document_items(rows: list[Any], lang: str, *, query: str = "") -> list[dict[str, Any]]:
    return [
        {
            "title": row["title"],
            "kind": KIND_NAMES.get(row["content_type"], row["content_type"]),
            "size": _size(row["size"], lang),
            "participants": row["visibility"] == "participants",
            "url": f"/api/v1/documents/{row['id']}" + (f"?{query}" if query else ""),
        }
        for row in rows
    ]


def _size(size: int, lang: str) -> str:
    if size < 1024 * 1024:
        return f"{format_decimal(max(size // 1024, 1), locale=lang)} kB"
    return f"{format_decimal(round(size / (1024 * 1024), 1), locale=lang)} MB"


def reader_of(request: Request) -> Reader:
    """A person's registration and token from the page's address, if they came with them."""
    token = request.query_params.get("token")
    try:
        registration_id = uuid.UUID(request.query_params.get("registration_id", ""))
    except ValueError:
        return Reader()
    return Reader(None, registration_id, token[:200] if token else None)


async def meeting_papers(
    request: Request, tx: Transactions, ctx: ServiceContext, meeting: Any, lang: str
) -> dict[str, Any]:
    """The meeting page's agenda and documents, for whoever the address says is reading."""
    reader = reader_of(request)
    papers = await archive.papers_of_meeting(tx, ctx, meeting["id"], reader)
    query = (
        urlencode({"registration_id": str(reader.registration_id), "token": reader.token or ""})
        if papers.in_full and reader.registration_id
        else ""
    )
    return {
        "agenda": agenda_items(meeting, lang),
        "documents": document_items(papers.documents, lang, query=query),
    }


@router.get("/networks/{network_id}/archive", response_class=HTMLResponse)
async def show_archive(
    network_id: uuid.UUID, request: Request, tx: TransactionsDep
) -> HTMLResponse:
    """The meetings the network held, newest first, each with what it was about, its agenda
    and its public documents."""
    try:
        found = await archive.held_meetings(tx, network_id)
    except Problem:
        return not_found(request)
    lang = language_of(request, found.network["language"])
    meetings = [
        {
            "id": row["id"],
            "title": row["title"],
            "description": row["description"],
            "when": when(row["starts_at"], row["timezone"], lang),
            "starts_iso": row["starts_at"].isoformat(),
            "location": row["location"],
            "agenda": agenda_items(row, lang),
            "documents": document_items(found.documents.get(row["id"], []), lang),
        }
        for row in found.meetings
    ]
    return render(request, "archive.html", lang, network=found.network, meetings=meetings)
