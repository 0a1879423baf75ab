"""Use cases of a meeting's documents: an organiser adds or removes one; people list and read
them, the participants' ones only organisers and those with a confirmed seat.

An upload is judged by its bytes and scanned (service/document_inspection.py), stored in the
object store, and only then recorded with its event (MeetingDocumentAdded) in one
transaction; if that transaction does not commit (or an Idempotency-Key replays an earlier
upload), the stored bytes are deleted again, so nothing is kept that no row names.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import documents as document_rows
from registration.repository import meetings as meeting_rows
from registration.repository import registrations as registration_rows
from registration.service.document_inspection import Inspected
from registration.service.organisations import organises, require_in_scope
from registration.service.registration_events import CANCEL_PURPOSE
from registration.storage import ObjectMissing, ObjectStore
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingDocumentAdded, MeetingDocumentRemoved
from tilmeld_shared.problems import Conflict, NotFound

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass(frozen=True)
class Reader:
    """Who asks for a meeting's documents: an organiser (by their token), or a person with
    the registration id and token of their confirmation (the cancel link's)."""

    organiser: Principal | None = None
    registration_id: uuid.UUID | None = None
    token: str | None = None


class Listed(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None
    in_full: bool


async def require_meeting(tx: Transactions, meeting_id: uuid.UUID, organiser: Principal) -> None:
    """404 unless the meeting exists and is the organiser's: checked before reading a body."""

    async def check(conn: Connection) -> None:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        if await meeting_rows.get(conn, meeting_id) is None:
            raise NotFound(f"No meeting {meeting_id}.")

    await tx.read(check)


def storage_key(meeting_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"meetings/{meeting_id}/{document_id}"


async def add_within(
    conn: Connection, meeting_id: uuid.UUID, document_id: uuid.UUID, upload: Inspected, key: str
) -> asyncpg.Record:
    """Record a stored document on its meeting and announce it; a cancelled meeting takes
    none."""
    meeting = await meeting_rows.lock(conn, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    row = await document_rows.insert(
        conn,
        document_id=document_id,
        meeting_id=meeting_id,
        title=upload.title,
        filename=upload.filename,
        content_type=upload.kind.content_type,
        size=upload.size,
        sha256=upload.sha256,
        visibility=upload.visibility,
        storage_key=key,
    )
    await record_event(
        conn,
        MeetingDocumentAdded(
            document_id=document_id,
            meeting_id=meeting_id,
            network_id=meeting["network_id"],
            filename=row["filename"],
            content_type=row["content_type"],
            size=row["size"],
            visibility=row["visibility"],
            added_at=row["added_at"],
        ),
        aggregate_id=document_id,
        aggregate_version=1,
        key=meeting_id,
    )
    return row


async def add_document(
    tx: Transactions,
    store: ObjectStore,
    meeting_id: uuid.UUID,
    upload: Inspected,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Store the bytes, then record the document in a meeting of the organiser's own."""
    document_id = uuid.uuid4()
    key = storage_key(meeting_id, document_id)
    upload.file.seek(0)
    await store.put(key, upload.file)
    recorded = False

    async def add(conn: Connection) -> asyncpg.Record:
        nonlocal recorded
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        row = await add_within(conn, meeting_id, document_id, upload, key)
        recorded = True
        return row

    try:
        result = await tx.once(once, add)
    except BaseException:
        await _forget(store, key)
        raise
    if not recorded:  # a replayed Idempotency-Key: the first upload's document stands
        await _forget(store, key)
    return result


async def _forget(store: ObjectStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:  # the store away: an orphan object, named in the log for a sweep
        log.exception("could not delete stored document bytes", extra={"storage_key": key})


async def remove_document(
    tx: Transactions, store: ObjectStore, document_id: uuid.UUID, *, organiser: Principal
) -> None:
    """Remove a document of a meeting of the organiser's own: the row stays for the record,
    the bytes go once the removal has committed."""

    async def remove(conn: Connection) -> asyncpg.Record:
        found = await document_rows.get(conn, document_id)
        if found is None:
            raise NotFound(f"No document {document_id}.")
        await require_in_scope(conn, organiser, "meeting", found["meeting_id"])
        row = await document_rows.remove(conn, document_id)
        if row is None:
            raise NotFound(f"No document {document_id}.")
        await record_event(
            conn,
            MeetingDocumentRemoved(
                document_id=document_id,
                meeting_id=found["meeting_id"],
                network_id=found["network_id"],
                removed_at=row["removed_at"],
            ),
            aggregate_id=document_id,
            aggregate_version=2,
            key=found["meeting_id"],
        )
        return row

    row = await tx.run(remove)
    await _forget(store, row["storage_key"])


async def sees_all(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, reader: Reader
) -> bool:
    """Whether the reader may see the participants' documents: an organiser of the meeting,
    or the holder of a confirmed registration's token (its signature is what counts: the
    documents stay theirs after the meeting, when the link no longer cancels)."""
    if await organises(conn, reader.organiser, "meeting", meeting_id):
        return True
    if reader.registration_id is None or not reader.token:
        return False
    if not tokens.verify(
        ctx.settings.effective_token_secret,
        CANCEL_PURPOSE,
        reader.registration_id,
        reader.token,
        now=None,
    ):
        return False
    registration = await registration_rows.get(conn, reader.registration_id)
    return (
        registration is not None
        and registration["meeting_id"] == meeting_id
        and registration["status"] == "confirmed"
    )


async def list_documents(
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    reader: Reader,
    *,
    limit: int,
    cursor: Cursor | None,
) -> Listed:
    """A page of the meeting's documents in the order added: the public ones, or all of them
    for those who may see the participants' ones (`in_full`)."""

    async def read(conn: Connection) -> Listed:
        if await meeting_rows.get(conn, meeting_id) is None:
            raise NotFound(f"No meeting {meeting_id}.")
        in_full = await sees_all(conn, ctx, meeting_id, reader)
        rows = await document_rows.page(
            conn,
            meeting_id,
            public_only=not in_full,
            after_time=cursor.after_time if cursor else None,
            after_id=cursor.after_id if cursor else None,
            limit=limit + 1,
        )
        page, next_cursor = Cursor.page(rows, limit, time_column="added_at")
        return Listed(page, next_cursor, in_full)

    return await tx.read(read)


async def find_document(
    tx: Transactions, ctx: ServiceContext, document_id: uuid.UUID, reader: Reader
) -> asyncpg.Record:
    """The document, if the reader may have it: a participants' one to others is a 404, as
    for one that does not exist (saying "forbidden" would confirm it does)."""

    async def read(conn: Connection) -> asyncpg.Record:
        row = await document_rows.get(conn, document_id)
        if row is None or (
            row["visibility"] != "public"
            and not await sees_all(conn, ctx, row["meeting_id"], reader)
        ):
            raise NotFound(f"No document {document_id}.")
        return row

    return await tx.read(read)


async def open_bytes(store: ObjectStore, row: asyncpg.Record) -> AsyncIterator[bytes]:
    """The document's bytes, its first chunk already read, so a missing object is a 404 before
    any response has started."""
    chunks = store.read(row["storage_key"])
    try:
        first = await anext(chunks)
    except (ObjectMissing, StopAsyncIteration):
        log.error("document bytes missing", extra={"document_id": str(row["id"])})
        raise NotFound(f"No document {row['id']}.") from None

    async def stream() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return stream()
