"""A meeting's documents through HTTP: multipart uploads judged by their bytes (a lying
Content-Type or name changes nothing), the 20 MiB cap while the body streams, nothing stored
when refused, and who may list and download the participants' documents."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from registration import tokens
from registration.main import create_app
from registration.web.public.confirmations import VIEW_REGISTRATION
from tests.builders import ORGANISER
from tests.registration.api.conftest import Api, registration_settings
from tests.registration.document_files import HTML_PRETENDING, docx, odt, plain_zip, tiny_pdf

PDF = tiny_pdf("Oplæg om kunstig intelligens")
CAP = 64 * 1024  # a small cap, so a test need not send 20 MiB


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
async def api(database_url: str, store_dir: Path) -> AsyncIterator[Api]:
    settings = registration_settings(
        database_url, documents_dir=str(store_dir), document_max_bytes=CAP
    )
    app = create_app(settings, run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registration/api/v1"
        ) as client:
            yield Api(client, transport)


def stored_files(store_dir: Path) -> list[Path]:
    return [path for path in store_dir.rglob("*") if path.is_file()] if store_dir.exists() else []


async def upload(
    api: Api,
    meeting_id: str,
    content: bytes,
    *,
    filename: str = "oplaeg.pdf",
    content_type: str = "application/pdf",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    return await api.client.post(
        f"/meetings/{meeting_id}/documents",
        files={"file": (filename, content, content_type)},
        data=fields,
        headers=headers if headers is not None else ORGANISER,
    )


async def a_meeting(api: Api) -> tuple[str, str]:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    return network["network_id"], meeting["meeting_id"]


async def outbox(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope::text AS text FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = $1 ORDER BY id",
            event_type,
        )
        return [json.loads(row["text"]) for row in rows]
    finally:
        await conn.close()


async def test_a_pdf_is_stored_listed_and_downloaded_as_an_attachment(
    api: Api, store_dir: Path, database_url: str
) -> None:
    _, meeting_id = await a_meeting(api)

    added = await upload(api, meeting_id, PDF, title="Oplæg: kunstig intelligens")

    assert added.status_code == 201, added.text
    body = added.json()
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["visibility"] == "public"
    assert body["title"] == "Oplæg: kunstig intelligens"
    assert len(stored_files(store_dir)) == 1
    listed = await api.client.get(f"/meetings/{meeting_id}/documents")
    assert [item["document_id"] for item in listed.json()["items"]] == [body["document_id"]]
    download = await api.client.get(f"/documents/{body['document_id']}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith('attachment; filename="oplaeg.pdf"')
    (event,) = await outbox(database_url, "MeetingDocumentAdded")
    assert event["payload"]["document_id"] == body["document_id"]
    assert event["payload"]["size"] == len(PDF)


async def test_office_and_opendocument_files_are_recognised_by_their_contents(
    api: Api,
) -> None:
    _, meeting_id = await a_meeting(api)

    word = await upload(
        api, meeting_id, docx(), filename="program", content_type="application/octet-stream"
    )
    writer = await upload(api, meeting_id, odt(), filename="referat.txt", content_type="text/plain")

    assert word.status_code == 201, word.text
    assert word.json()["content_type"].endswith("wordprocessingml.document")
    assert word.json()["filename"] == "program.docx"
    assert writer.status_code == 201, writer.text
    assert writer.json()["content_type"] == "application/vnd.oasis.opendocument.text"
    assert writer.json()["filename"] == "referat.odt"


@pytest.mark.parametrize(
    "content",
    [HTML_PRETENDING, plain_zip(), docx(macros=True)],
    ids=["html-named-pdf", "zip-with-a-program", "word-with-macros"],
)
async def test_a_file_that_is_not_an_accepted_document_is_415_whatever_it_claims(
    api: Api, store_dir: Path, database_url: str, content: bytes
) -> None:
    _, meeting_id = await a_meeting(api)

    refused = await upload(api, meeting_id, content, filename="slides.pdf")

    assert refused.status_code == 415, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert stored_files(store_dir) == []
    assert (await api.client.get(f"/meetings/{meeting_id}/documents")).json()["items"] == []
    assert await outbox(database_url, "MeetingDocumentAdded") == []


async def test_a_file_over_the_cap_is_413_and_nothing_is_stored(
    api: Api, store_dir: Path, database_url: str
) -> None:
    _, meeting_id = await a_meeting(api)
    over = PDF + b"%" * CAP  # still a PDF, one cap too long

    declared = await upload(api, meeting_id, over)

    async def chunked() -> AsyncIterator[bytes]:
        # No Content-Length: the cap must hold while the body streams.
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n'
        yield b"Content-Type: application/pdf\r\n\r\n" + PDF
        for _ in range(40):
            yield b"%" * 4096
        yield b"\r\n" + boundary + b"--\r\n"

    streamed = await api.client.post(
        f"/meetings/{meeting_id}/documents",
        content=chunked(),
        headers={**ORGANISER, "content-type": "multipart/form-data; boundary=b0undary"},
    )

    assert declared.status_code == 413, declared.text
    assert streamed.status_code == 413, streamed.text
    assert declared.headers["content-type"] == "application/problem+json"
    assert stored_files(store_dir) == []
    assert await outbox(database_url, "MeetingDocumentAdded") == []


async def test_a_body_that_is_not_multipart_is_415_and_a_form_without_a_file_is_422(
    api: Api,
) -> None:
    _, meeting_id = await a_meeting(api)

    raw = await api.client.post(
        f"/meetings/{meeting_id}/documents",
        content=PDF,
        headers={**ORGANISER, "content-type": "application/pdf"},
    )
    no_file = await api.client.post(
        f"/meetings/{meeting_id}/documents", data={"title": "x"}, files={}, headers=ORGANISER
    )
    bad_visibility = await upload(api, meeting_id, PDF, visibility="secret")

    assert raw.status_code == 415
    assert no_file.status_code in (415, 422)
    assert bad_visibility.status_code == 422
    assert bad_visibility.json()["errors"][0]["field"] == "visibility"


async def test_only_organisers_upload_and_delete(api: Api, store_dir: Path) -> None:
    _, meeting_id = await a_meeting(api)

    anonymous = await upload(api, meeting_id, PDF, headers={})
    unknown_meeting = await upload(api, str(uuid.uuid4()), PDF)
    added = await upload(api, meeting_id, PDF)
    document_id = added.json()["document_id"]
    anonymous_delete = await api.client.delete(f"/documents/{document_id}")
    deleted = await api.client.delete(f"/documents/{document_id}", headers=ORGANISER)
    again = await api.client.delete(f"/documents/{document_id}", headers=ORGANISER)

    assert anonymous.status_code == 401
    assert unknown_meeting.status_code == 404
    assert anonymous_delete.status_code == 401
    assert deleted.status_code == 204
    assert again.status_code == 404
    assert stored_files(store_dir) == []
    assert (await api.client.get(f"/documents/{document_id}")).status_code == 404


async def test_a_participants_document_reaches_organisers_and_confirmed_people_only(
    api: Api,
) -> None:
    network_id, _ = await a_meeting(api)
    meeting_id = (await api.meeting(network_id, capacity=1))["meeting_id"]
    other_meeting_id = (await api.meeting(network_id))["meeting_id"]
    public = (await upload(api, meeting_id, PDF, title="Program")).json()
    private = (
        await upload(api, meeting_id, docx(), title="Deltagerliste", visibility="participants")
    ).json()

    async def register(meeting: str) -> dict[str, Any]:
        person = await api.enrolled(network_id)
        answer = await api.client.post(
            f"/meetings/{meeting}/registrations", json={"member": person}
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    confirmed = await register(meeting_id)
    waitlisted = await register(meeting_id)
    elsewhere = await register(other_meeting_id)
    assert (confirmed["status"], waitlisted["status"]) == ("confirmed", "waitlisted")

    def as_person(registration: dict[str, Any], token: str | None = None) -> dict[str, str]:
        return {
            "registration_id": registration["registration_id"],
            "token": token or registration["cancel_token"],
        }

    url = f"/documents/{private['document_id']}"
    assert (await api.client.get(url)).status_code == 404
    assert (await api.client.get(url, headers=ORGANISER)).status_code == 200
    person = await api.client.get(url, params=as_person(confirmed))
    assert person.status_code == 200
    assert person.headers["cache-control"] == "private, no-store"
    assert (await api.client.get(url, params=as_person(waitlisted))).status_code == 404
    assert (await api.client.get(url, params=as_person(elsewhere))).status_code == 404
    forged = as_person(confirmed, token=waitlisted["cancel_token"])
    assert (await api.client.get(url, params=forged)).status_code == 404

    listing = f"/meetings/{meeting_id}/documents"
    public_list = (await api.client.get(listing)).json()["items"]
    person_list = (await api.client.get(listing, params=as_person(confirmed))).json()["items"]
    organiser_list = (await api.client.get(listing, headers=ORGANISER)).json()["items"]
    assert [d["document_id"] for d in public_list] == [public["document_id"]]
    assert len(person_list) == len(organiser_list) == 2


async def test_an_idempotent_retry_stores_the_document_once(api: Api, store_dir: Path) -> None:
    _, meeting_id = await a_meeting(api)
    headers = {**ORGANISER, "Idempotency-Key": "upload-1"}

    first = await upload(api, meeting_id, PDF, headers=headers)
    retry = await upload(api, meeting_id, PDF, headers=headers)
    other = await upload(api, meeting_id, tiny_pdf("Andet"), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert other.status_code == 422
    assert len(stored_files(store_dir)) == 1


async def test_another_organisations_organiser_cannot_see_the_meeting_to_upload(
    api: Api, store_dir: Path
) -> None:
    _, meeting_id = await a_meeting(api)
    created = await api.client.post(
        "/organisations", json={"name": f"Kreis {uuid.uuid4().hex[:6]}"}, headers=ORGANISER
    )
    assert created.status_code == 201, created.text
    issued = await api.client.post(
        f"/organisations/{created.json()['organisation_id']}/api-keys",
        json={"name": "console", "role": "organiser"},
        headers=ORGANISER,
    )
    assert issued.status_code == 201, issued.text
    stranger = {"Authorization": f"Bearer {issued.json()['key']}"}

    refused = await upload(api, meeting_id, PDF, headers=stranger)

    assert refused.status_code == 404
    assert stored_files(store_dir) == []


async def test_a_person_with_a_name_full_of_tricks_gets_a_safe_download_name(api: Api) -> None:
    _, meeting_id = await a_meeting(api)

    added = await upload(api, meeting_id, PDF, filename="C:\\Users\\kl\\Mødeplan.exe")
    download = await api.client.get(f"/documents/{added.json()['document_id']}")

    assert added.json()["filename"] == "Mødeplan.pdf"
    disposition = download.headers["content-disposition"]
    assert (
        disposition == "attachment; filename=\"M_deplan.pdf\"; filename*=UTF-8''M%C3%B8deplan.pdf"
    )


async def test_the_documents_of_an_unknown_meeting_are_a_404_not_an_empty_list(
    api: Api,
) -> None:
    missing = await api.client.get(f"/meetings/{uuid.uuid4()}/documents")

    assert missing.status_code == 404


async def test_a_confirmed_persons_link_shows_the_participants_documents_on_a_private_page(
    api: Api, database_url: str
) -> None:
    network_id, meeting_id = await a_meeting(api)
    await upload(api, meeting_id, PDF, title="Program")
    await upload(api, meeting_id, docx(), title="Deltagerliste", visibility="participants")
    person = await api.enrolled(network_id)
    registered = (
        await api.client.post(f"/meetings/{meeting_id}/registrations", json={"member": person})
    ).json()
    settings = registration_settings(database_url)
    view = tokens.issue(
        settings.effective_token_secret,
        VIEW_REGISTRATION,
        uuid.UUID(registered["registration_id"]),
        expires_at=None,
    )
    page = "http://registration/meetings/" + meeting_id

    confirmation = await api.client.get(
        f"http://registration/registrations/{registered['registration_id']}/confirmation",
        params={"token": view, "lang": "en"},
    )
    public = await api.client.get(page, params={"lang": "en"})
    link = re.search(r'href="(/meetings/[^"]*token=[^"]*)"', confirmation.text)
    assert link is not None, confirmation.text
    personal = await api.client.get("http://registration" + html.unescape(link[1]))

    assert "Program" in public.text and "Deltagerliste" not in public.text
    assert "Deltagerliste" in personal.text
    assert "no-store" in personal.headers["cache-control"]
    private_link = re.search(
        r'href="(/api/v1/documents/[^"]*token=[^"]*)" download><span[^>]*>Deltagerliste',
        personal.text,
    )
    assert private_link is not None
    download = await api.client.get("http://registration" + html.unescape(private_link[1]))
    assert download.status_code == 200
    assert download.content == docx()
