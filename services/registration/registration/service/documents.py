"""Use cases of a meeting's documents: an organiser adds or removes one; people list and read
them, the participants' ones only organisers and those with a confirmed seat.

An upload is judged by its bytes (service/document_types.py), scanned if a scanner is set,
stored in the object store, and only then recorded with its event (MeetingDocumentAdded) in one
transaction; if that transaction does not commit (or an Idempotency-Key replays an earlier
upload), the stored bytes are deleted again, so nothing is kept that no row names.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shlex
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import documents as document_rows
from registration.repository import meetings as meeting_rows
from registration.repository import registrations as registration_rows
from registration.service.document_types import ACCEPTED, Kind, safe_filename, sniff
from registration.service.organisations import organises, require_in_scope
from registration.service.registration_events import CANCEL_PURPOSE
from registration.settings import Settings
from registration.storage import ObjectMissing, ObjectStore
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingDocumentAdded, MeetingDocumentRemoved
from tilmeld_shared.problems import Conflict, Invalid, NotFound, Problem

log = logging.getLogger(__name__)
R = TypeVar("R")
_HASH_CHUNK = 1024 * 1024


class Unsupported(Problem):
    status = 415
    slug = "unsupported-document-type"


class ScannerUnavailable(Problem):
    status = 503
    slug = "virus-scanner-unavailable"


@dataclass(frozen=True)
class Reader:
    """Who asks for a meeting's documents: an organiser (by their token), or a person with
    the registration id and token of their confirmation (the cancel link's)."""

    organiser: Principal | None = None
    registration_id: uuid.UUID | None = None
    token: str | None = None


class Inspected(NamedTuple):
    """An upload judged and ready to store."""

    file: IO[bytes]
    kind: Kind
    filename: str
    title: str
    visibility: str
    size: int
    sha256: str

    @property
    def fingerprint(self) -> str:
        """What an Idempotency-Key's retry must repeat: the same bytes, title and visibility."""
        return json.dumps([self.sha256, self.title, self.visibility])


class Listed(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None
    in_full: bool


def _title(claimed: str | None, filename: str) -> str:
    title = " ".join((claimed or "").split())
    if len(title) > 200:
        raise Invalid(
            "The title is at most 200 characters.",
            errors=[{"field": "title", "in": "body", "message": "longer than 200 characters"}],
        )
    return title or filename.rsplit(".", 1)[0]


def _digest(file: IO[bytes]) -> tuple[int, str]:
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(_HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return size, digest.hexdigest()


async def inspect(
    settings: Settings,
    file: IO[bytes],
    *,
    claimed_name: str | None,
    title: str | None,
    visibility: str,
) -> Inspected:
    """Judge an upload by its bytes (415 for a kind not accepted, whatever the client said it
    was), scan it if a scanner is set, and name it safely."""
    kind = await asyncio.to_thread(sniff, file)
    if kind is None:
        accepted = ", ".join(sorted({k.extension for k in ACCEPTED}))
        raise Unsupported(
            f"The file is not a document this service accepts ({accepted}); it was judged by "
            "its content, not by its name or Content-Type.",
            accepted=sorted({k.content_type for k in ACCEPTED}),
        )
    size, sha256 = await asyncio.to_thread(_digest, file)
    if size == 0:
        raise Invalid(
            "The file is empty.", errors=[{"field": "file", "in": "body", "message": "empty"}]
        )
    await scan(settings, file)
    filename = safe_filename(claimed_name, kind, fallback="document")
    return Inspected(
        file, kind, filename, _title(title, filename), visibility, size=size, sha256=sha256
    )


async def scan(settings: Settings, file: IO[bytes]) -> None:
    """Run VIRUS_SCAN_COMMAND with the file on standard input: exit 0 clean, 1 infected (422);
    anything else, or no answer in time, is a 503 and nothing is stored."""
    if not settings.virus_scan_command.strip():
        return
    command = shlex.split(settings.virus_scan_command)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as error:
        log.error("virus scanner cannot start: %s", type(error).__name__)
        raise ScannerUnavailable("The virus scanner is unavailable; try again later.") from None

    async def feed() -> None:
        # In chunks, so a large upload is never in memory whole; a scanner that has its verdict
        # before the end may close its input.
        assert process.stdin is not None
        file.seek(0)
        try:
            while chunk := await asyncio.to_thread(file.read, _HASH_CHUNK):
                process.stdin.write(chunk)
                await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            file.seek(0)

    try:
        await asyncio.wait_for(
            asyncio.gather(feed(), process.wait()), settings.virus_scan_timeout_s
        )
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ScannerUnavailable("The virus scan took too long; try again later.") from None
    if process.returncode == 1:
        raise Invalid(
            "The virus scanner found something in this file; it was not stored.",
            slug="document-infected",
            errors=[{"field": "file", "in": "body", "message": "refused by the virus scanner"}],
        )
    if process.returncode != 0:
        log.error("virus scanner failed", extra={"exit_code": process.returncode})
        raise ScannerUnavailable("The virus scanner failed; try again later.")


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
