"""A meeting's documents: upload (multipart, type sniffed, size capped), list, download, remove."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from registration.api import views
from registration.api.deps import (
    ContextDep,
    CursorDep,
    IdempotencyKey,
    Limit,
    Organiser,
    OrganiserIfAny,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import Page
from registration.api.uploads import read_upload
from registration.service import document_inspection, documents
from registration.service.document_types import ACCEPTED
from registration.service.documents import Reader
from registration.storage import ObjectStore
from registration.unit_of_work import per_key
from tilmeld_shared.problems import problem_responses

router = APIRouter(tags=["documents"])


class DocumentOut(BaseModel):
    document_id: uuid.UUID
    meeting_id: uuid.UUID
    title: str
    filename: str
    content_type: str
    size: int
    visibility: Literal["public", "participants"]
    added_at: datetime
    url: str


def document(row: asyncpg.Record) -> DocumentOut:
    return DocumentOut(
        document_id=row["id"],
        meeting_id=row["meeting_id"],
        title=row["title"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        visibility=row["visibility"],
        added_at=row["added_at"],
        url=f"/api/v1/documents/{row['id']}",
    )


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.document_store
    return store


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string", "maxLength": 200},
                        "visibility": {
                            "type": "string",
                            "enum": ["public", "participants"],
                            "default": "public",
                        },
                    },
                }
            }
        },
    }
}

RegistrationId = Annotated[
    uuid.UUID | None,
    Query(description="A participant's registration, with its `token`, to see every document."),
]
Token = Annotated[
    str | None,
    Query(max_length=200, description="The token of the registration's confirmation."),
]


@router.post(
    "/meetings/{meeting_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    openapi_extra=_UPLOAD_BODY,
    responses=problem_responses(415),
)
async def add_document(
    meeting_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Attach a document (PDF, docx/xlsx/pptx, odt/ods/odp, PNG or JPEG, judged by its
    content) of at most 20 MiB to a meeting: `public`, or `participants` for organisers and
    people with a confirmed seat only. Wrong type: 415; too large: 413; nothing is stored."""
    await documents.require_meeting(tx, meeting_id, organiser)
    upload = await read_upload(request, max_file_bytes=ctx.settings.document_max_bytes)
    try:
        inspected = await document_inspection.inspect(
            ctx.settings,
            upload.file.file,
            claimed_name=upload.file.filename,
            title=upload.title,
            visibility=upload.visibility,
        )
        status, payload = await documents.add_document(
            tx,
            _store(request),
            meeting_id,
            inspected,
            organiser=organiser,
            once=per_key(
                idempotent_request(key, request, inspected.fingerprint, caller=organiser),
                lambda row: views.answer(201, document(row)),
            ),
        )
    finally:
        await upload.file.close()
    return JSONResponse(payload, status_code=status)


@router.get("/meetings/{meeting_id}/documents")
async def list_documents(
    meeting_id: uuid.UUID,
    tx: TransactionsDep,
    ctx: ContextDep,
    cursor: CursorDep,
    organiser: OrganiserIfAny,
    registration_id: RegistrationId = None,
    token: Token = None,
    limit: Limit = 100,
) -> Page[DocumentOut]:
    """The meeting's public documents; its organisers, and people with the `registration_id`
    and `token` of a confirmed registration for it, see the participants' ones too."""
    found = await documents.list_documents(
        tx,
        ctx,
        meeting_id,
        Reader(organiser, registration_id, token),
        limit=limit,
        cursor=cursor,
    )
    return Page(
        items=[document(row) for row in found.rows],
        next_cursor=found.next_cursor.encode() if found.next_cursor else None,
    )


@router.get(
    "/documents/{document_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The document's bytes, as a download, in the type its content is.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in sorted({k.content_type for k in ACCEPTED})
            },
        }
    },
)
async def download_document(
    document_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: OrganiserIfAny,
    registration_id: RegistrationId = None,
    token: Token = None,
) -> StreamingResponse:
    """The document as a download. A participants' document only to its meeting's organisers
    and people with a confirmed registration's `registration_id` and `token`; to anyone else
    it does not exist (404)."""
    reader = Reader(organiser, registration_id, token)
    row = await documents.find_document(tx, ctx, document_id, reader)
    chunks = await documents.open_bytes(_store(request), row)
    public = row["visibility"] == "public"
    return StreamingResponse(
        chunks,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": _attachment(row["filename"]),
            "Content-Length": str(row["size"]),
            "X-Content-Type-Options": "nosniff",
            # Opened in the browser after all, it runs nothing and reaches nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=300" if public else "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.delete("/documents/{document_id}", status_code=204, response_class=Response)
async def remove_document(
    document_id: uuid.UUID, request: Request, organiser: Organiser, tx: TransactionsDep
) -> Response:
    """Remove a document from its meeting; its bytes are deleted."""
    await documents.remove_document(tx, _store(request), document_id, organiser=organiser)
    return Response(status_code=204)


def _attachment(filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one percent-encoded (RFC 8187)."""
    fallback = "".join(
        ch if (ch.isascii() and ch.isalnum()) or ch in "._- " else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
