"""Reading an uploaded document: a multipart body streamed through a size cap, never held whole.

Every other request body is capped small (MAX_BODY_BYTES) before the app reads it; a document
route gets its own, larger cap instead (`RouteBodyLimits`), counted here while the body streams
into a spooled temporary file (memory for the first megabyte, then disk), so an endless or lying
body is cut off at the cap with a 413 and nothing of it is kept.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Receive, Scope, Send

from tilmeld_shared.problems import BodySizeLimit, Invalid, Problem

# Room for the multipart framing and the small fields beside the file.
FORM_OVERHEAD_BYTES = 64 * 1024
# Routes whose bodies are streamed and capped by their handler, not by MAX_BODY_BYTES.
STREAMED_UPLOADS = re.compile(r"^(/api/v1|/console)/meetings/[^/]+/documents/?$")


class TooLarge(Problem):
    status = 413
    slug = "content-too-large"


class UnsupportedType(Problem):
    status = 415
    slug = "unsupported-media-type"


class RouteBodyLimits:
    """MAX_BODY_BYTES for every request but a document upload, whose handler streams its body
    through the document cap itself (see `read_upload`)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.limited = BodySizeLimit(app, max_bytes=max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and STREAMED_UPLOADS.match(scope["path"])
        ):
            await self.app(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


@dataclass
class Upload:
    file: UploadFile
    title: str | None
    visibility: str


async def read_upload(request: Request, *, max_file_bytes: int) -> Upload:
    """The form's `file`, `title` and `visibility`; 413 past the cap (body or file), 415 for a
    body that is not multipart/form-data, 422 for a malformed one. The caller closes the file."""
    limit = max_file_bytes + FORM_OVERHEAD_BYTES
    too_large = TooLarge(
        f"Documents are limited to {max_file_bytes} bytes.", max_bytes=max_file_bytes
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedType(
            "Send the document as multipart/form-data with a `file` part.",
            slug="unsupported-media-type",
        )

    async def capped() -> AsyncGenerator[bytes, None]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            yield chunk

    parser = MultiPartParser(
        request.headers, capped(), max_files=1, max_fields=5, max_part_size=FORM_OVERHEAD_BYTES
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise _invalid("file", f"The multipart body could not be read: {error.message}") from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise _invalid("file", "The form has no `file` part with a document.")
    if (file.size or 0) > max_file_bytes:
        await file.close()
        raise too_large
    title = form.get("title")
    visibility = form.get("visibility") or "public"
    if not isinstance(title, str | None) or not isinstance(visibility, str):
        await file.close()
        raise _invalid("title", "title and visibility are text fields.")
    if visibility not in ("public", "participants"):
        await file.close()
        raise _invalid("visibility", "visibility is public or participants.")
    return Upload(file=file, title=title, visibility=visibility)


def _invalid(field: str, detail: str) -> Invalid:
    return Invalid(detail, errors=[{"field": field, "in": "body", "message": detail}])
