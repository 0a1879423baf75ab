"""A meeting's documents at the service layer: the kinds judged from bytes, the object store
(a real directory), the virus-scan hook (a real command), and that no bytes outlive a refused
or rolled-back upload."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from registration.service import document_inspection, documents, meetings
from registration.service.document_inspection import Inspected, ScannerUnavailable, Unsupported
from registration.service.document_types import DOCX, JPEG, ODT, PDF, PNG, safe_filename, sniff
from registration.service.documents import Reader
from registration.settings import Settings
from registration.storage import (
    FileSystemStore,
    ObjectMissing,
    S3CompatibleStore,
    open_store,
)
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.document_files import (
    HTML_PRETENDING,
    docx,
    odt,
    plain_zip,
    pptx,
    tiny_pdf,
)
from tests.registration.service.conftest import PLATFORM, Given, outbox
from tilmeld_shared.problems import Conflict, Invalid, NotFound

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A stand-in scanner with clamdscan's contract: the file on stdin, exit 1 when it finds one.
FAKE_SCANNER = "sh -c 'if grep -q EICAR-STANDARD; then exit 1; else exit 0; fi'"


def settings_with(ctx: ServiceContext, **overrides: object) -> Settings:
    return ctx.settings.model_copy(update=overrides)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (tiny_pdf(), PDF),
        (docx(), DOCX),
        (odt(), ODT),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, PNG),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, JPEG),
    ],
    ids=["pdf", "docx", "odt", "png", "jpeg"],
)
def test_an_accepted_kind_is_known_by_its_first_bytes(content: bytes, kind: object) -> None:
    file = io.BytesIO(content)
    file.seek(5)

    assert sniff(file) == kind
    assert file.tell() == 0


@pytest.mark.parametrize(
    "content",
    [HTML_PRETENDING, plain_zip(), docx(macros=True), b"PK\x03\x04 broken", b"", b"GIF89a"],
    ids=["html", "zip", "macros", "broken-zip", "empty", "gif"],
)
def test_anything_else_is_no_accepted_kind(content: bytes) -> None:
    assert sniff(io.BytesIO(content)) is None


def test_a_pptx_is_a_presentation_not_a_word_document() -> None:
    kind = sniff(io.BytesIO(pptx()))

    assert kind is not None and kind.extension == "pptx"


def test_a_download_name_keeps_no_path_quotes_controls_or_claimed_extension() -> None:
    assert safe_filename("../../etc/passwd", PDF, fallback="d") == "passwd.pdf"
    assert safe_filename('C:\\tmp\\"Mø\x00de"\r\n.exe', PDF, fallback="d") == "Møde.pdf"
    assert safe_filename(None, DOCX, fallback="document") == "document.docx"
    assert safe_filename("...", ODT, fallback="document") == "document.odt"


async def test_the_filesystem_store_keeps_reads_and_deletes_bytes(tmp_path: Path) -> None:
    store = FileSystemStore(tmp_path / "objects")
    content = tiny_pdf() * 3000  # several chunks

    await store.put("meetings/a/b", io.BytesIO(content))
    read = b"".join([chunk async for chunk in store.read("meetings/a/b")])
    await store.delete("meetings/a/b")
    await store.delete("meetings/a/b")  # gone already: nothing to do

    assert read == content
    with pytest.raises(ObjectMissing):
        _ = [chunk async for chunk in store.read("meetings/a/b")]


def test_the_settings_choose_the_store(tmp_path: Path, ctx: ServiceContext) -> None:
    in_dir = open_store(settings_with(ctx, documents_dir=str(tmp_path / "d")))
    by_url = open_store(settings_with(ctx, document_store_url=f"file://{tmp_path}/u"))
    s3 = open_store(
        settings_with(
            ctx,
            document_store_url="s3://tilmeld-documents/registration",
            document_store_endpoint="http://minio.internal:9000",
            document_store_region="eu-central-1",
            document_store_access_key_id="key",
            document_store_secret_access_key="secret",
        )
    )

    assert isinstance(in_dir, FileSystemStore) and (tmp_path / "d").is_dir()
    assert isinstance(by_url, FileSystemStore) and (tmp_path / "u").is_dir()
    assert isinstance(s3, S3CompatibleStore)
    assert "secret" not in s3.description
    with pytest.raises(ValueError, match="DOCUMENT_STORE_URL"):
        open_store(settings_with(ctx, document_store_url="ftp://example/x"))


async def inspected(ctx: ServiceContext, content: bytes, **settings: object) -> Inspected:
    return await document_inspection.inspect(
        settings_with(ctx, **settings),
        io.BytesIO(content),
        claimed_name="Oplæg.pdf",
        title=None,
        visibility="public",
    )


async def test_inspection_names_and_titles_the_upload_by_its_content(ctx: ServiceContext) -> None:
    found = await inspected(ctx, docx())

    assert found.kind == DOCX
    assert (found.filename, found.title) == ("Oplæg.docx", "Oplæg")


async def test_inspection_refuses_what_is_not_a_document(ctx: ServiceContext) -> None:
    with pytest.raises(Unsupported) as refused:
        await inspected(ctx, HTML_PRETENDING)

    assert refused.value.status == 415


async def test_the_virus_scanner_refuses_an_infected_file_and_passes_a_clean_one(
    ctx: ServiceContext,
) -> None:
    clean = await inspected(ctx, tiny_pdf(), virus_scan_command=FAKE_SCANNER)
    with pytest.raises(Invalid) as infected:
        await inspected(ctx, tiny_pdf() + EICAR, virus_scan_command=FAKE_SCANNER)

    assert clean.kind == PDF
    assert infected.value.slug == "document-infected"


async def test_a_scanner_that_fails_or_is_missing_stores_nothing(ctx: ServiceContext) -> None:
    with pytest.raises(ScannerUnavailable):
        await inspected(ctx, tiny_pdf(), virus_scan_command="sh -c 'exit 2'")
    with pytest.raises(ScannerUnavailable):
        await inspected(ctx, tiny_pdf(), virus_scan_command="/nonexistent/clamdscan -")
    with pytest.raises(ScannerUnavailable):
        await inspected(ctx, tiny_pdf(), virus_scan_command="sleep 5", virus_scan_timeout_s=0.2)


async def test_a_document_is_stored_recorded_and_announced(
    tx: Transactions, ctx: ServiceContext, given: Given, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    store = FileSystemStore(tmp_path)
    meeting_id = await given.meeting(await given.network())

    row = await documents.add_document(
        tx, store, meeting_id, await inspected(ctx, tiny_pdf()), organiser=PLATFORM, once=as_is()
    )

    assert row["content_type"] == "application/pdf"
    assert (tmp_path / documents.storage_key(meeting_id, row["id"])).is_file()
    assert await outbox(pool, aggregate_id=row["id"]) == ["MeetingDocumentAdded"]

    await documents.remove_document(tx, store, row["id"], organiser=PLATFORM)

    assert not (tmp_path / documents.storage_key(meeting_id, row["id"])).exists()
    assert await outbox(pool, aggregate_id=row["id"]) == [
        "MeetingDocumentAdded",
        "MeetingDocumentRemoved",
    ]
    with pytest.raises(NotFound):
        await documents.find_document(tx, ctx, row["id"], Reader())


async def test_a_refused_upload_leaves_no_bytes_behind(
    tx: Transactions, ctx: ServiceContext, given: Given, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    store = FileSystemStore(tmp_path)
    meeting_id = await given.meeting(await given.network())
    await meetings.cancel_meeting(tx, meeting_id, organiser=PLATFORM, once=as_is())

    with pytest.raises(Conflict):
        await documents.add_document(
            tx,
            store,
            meeting_id,
            await inspected(ctx, tiny_pdf()),
            organiser=PLATFORM,
            once=as_is(),
        )

    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert "MeetingDocumentAdded" not in await outbox(pool)


async def test_a_participant_sees_all_documents_only_while_their_seat_is_confirmed(
    tx: Transactions, ctx: ServiceContext, given: Given, tmp_path: Path
) -> None:
    store = FileSystemStore(tmp_path)
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    upload = await document_inspection.inspect(
        ctx.settings,
        io.BytesIO(docx()),
        claimed_name="liste.docx",
        title="Deltagerliste",
        visibility="participants",
    )
    row = await documents.add_document(
        tx, store, meeting_id, upload, organiser=PLATFORM, once=as_is()
    )
    registered = await given.register(meeting_id, await given.member(network_id))
    reader = Reader(None, registered.registration.get("id"), registered.cancel_token)

    seen = await documents.find_document(tx, ctx, row["id"], reader)
    await given.tx.run(
        lambda conn: conn.execute(
            "UPDATE registrations SET status = 'cancelled' WHERE id = $1",
            registered.registration["id"],
        )
    )

    assert seen["id"] == row["id"]
    with pytest.raises(NotFound):
        await documents.find_document(tx, ctx, row["id"], reader)
    with pytest.raises(NotFound):
        await documents.find_document(
            tx, ctx, row["id"], Reader(None, uuid.uuid4(), registered.cancel_token)
        )


@pytest.fixture
async def s3_endpoint() -> AsyncIterator[tuple[str, dict[str, bytes], list[dict[str, str]]]]:
    """A small S3-compatible endpoint over real HTTP: the object calls the store makes (PUT,
    GET, the bulk-delete POST), path-style, keeping what it is sent and each request's headers.
    A stand-in for MinIO or S3 that checks the wiring: URL, prefix, endpoint, credentials."""
    objects: dict[str, bytes] = {}
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path, **request.headers})
        if request.method == "PUT":
            objects[request.path] = await request.read()
            return web.Response(headers={"ETag": '"1"'})
        if request.method == "POST" and "delete" in request.query:
            keys = re.findall(r"<Key>([^<]*)</Key>", (await request.read()).decode())
            for key in keys:
                objects.pop(f"{request.path.rstrip('/')}/{key}", None)
            deleted = "".join(f"<Deleted><Key>{key}</Key></Deleted>" for key in keys)
            return web.Response(
                text=f"<DeleteResult>{deleted}</DeleteResult>", content_type="application/xml"
            )
        if request.method == "GET" and request.path in objects:
            body = objects[request.path]
            return web.Response(
                body=body,
                headers={"ETag": '"1"', "Last-Modified": "Wed, 02 Dec 2026 10:00:00 GMT"},
            )
        return web.Response(
            status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", objects, seen
    await runner.cleanup()


async def test_the_s3_store_puts_reads_and_deletes_under_its_prefix_with_its_credentials(
    s3_endpoint: tuple[str, dict[str, bytes], list[dict[str, str]]], ctx: ServiceContext
) -> None:
    endpoint, objects, seen = s3_endpoint
    store = open_store(
        settings_with(
            ctx,
            document_store_url="s3://tilmeld-documents/registration",
            document_store_endpoint=endpoint,
            document_store_region="eu-central-1",
            document_store_access_key_id="TILMELDKEY",
            document_store_secret_access_key="not-a-real-secret",
        )
    )
    content = tiny_pdf("S3")

    await store.put("meetings/m/d", io.BytesIO(content))
    read = b"".join([chunk async for chunk in store.read("meetings/m/d")])
    await store.delete("meetings/m/d")

    assert read == content
    assert objects == {}
    assert seen[0]["path"] == "/tilmeld-documents/registration/meetings/m/d"
    assert "Credential=TILMELDKEY/" in seen[0]["Authorization"]
    assert "eu-central-1/s3/aws4_request" in seen[0]["Authorization"]
    with pytest.raises(ObjectMissing):
        _ = [chunk async for chunk in store.read("meetings/m/d")]
