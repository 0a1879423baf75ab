"""An organiser puts the agenda and the slides of a meeting that was held into the console (a
file of the wrong kind refused, with the reason), the meeting's page shows both, and the
network's public archive lists the held meeting with its description, agenda and public
documents; a participants-only document stays off the public pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, network_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka
from tests.registration.document_files import HTML_PRETENDING, docx, tiny_pdf
from tests.web.conftest import PHONE, TABLET, Visit


@pytest.fixture
def services(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    # Ended meetings are marked held within a second, and documents kept in the test's folder.
    yield from run_services(
        database_url,
        kafka,
        smtp,
        tmp_path,
        extra_env={"HELD_CHECK_INTERVAL_S": "0.5", "DOCUMENTS_DIR": str(tmp_path / "documents")},
    )


def _held_meeting(services: Services, network_id: str) -> dict[str, Any]:
    starts = (datetime.now(UTC) - timedelta(days=30)).replace(second=0, microsecond=0)
    answer = httpx.post(
        f"{services.url('registration')}/networks/{network_id}/held-meetings",
        json={
            "title": "Künstliche Intelligenz in kommunalen Kulturverwaltungen",
            "description": "Anwendungen von KI in der Arbeit von Kulturverwaltungen, "
            "Datensicherheit und Kompetenzentwicklung.",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "location": "Münster",
            "capacity": 20,
            "timezone": "Europe/Berlin",
            "agenda": [
                {
                    "starts_at": starts.isoformat(),
                    "title": "Begrüßung",
                    "speakers": ["Anne Melzig"],
                }
            ],
        },
        headers=ORGANISER,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _status(services: Services, meeting_id: str) -> str:
    answer = httpx.get(f"{services.url('registration')}/meetings/{meeting_id}")
    return str(answer.json()["status"])


def _wait_until_held(services: Services, meeting_id: str) -> None:
    deadline = time.monotonic() + 20
    while _status(services, meeting_id) != "held" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _status(services, meeting_id) == "held"


def test_the_console_adds_agenda_and_documents_and_the_archive_shows_them(
    services: Services, browser: Browser, visit: Visit, tmp_path: Path
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    created = httpx.post(
        f"{services.url('registration')}/networks",
        json=network_body(title="Austausch kommunaler Kulturverwaltungen", language="de"),
        headers=ORGANISER,
    )
    assert created.status_code == 201, created.text
    network_id = created.json()["network_id"]
    meeting = _held_meeting(services, network_id)
    meeting_id = meeting["meeting_id"]
    _wait_until_held(services, meeting_id)

    tablet = browser.new_context(viewport=TABLET)
    console = tablet.new_page()
    console.goto(f"{site}/console/login?lang=en")
    console.fill("#token", ORGANISER_TOKEN)
    console.click("button[type=submit]")
    console.goto(f"{site}/console/meetings/{meeting_id}?lang=en")
    console.click("text=Agenda and documents")
    expect(console.locator("h1")).to_have_text("Agenda and documents")
    expect(console.locator("#agenda")).to_contain_text("| Begrüßung | Anne Melzig")
    visit.audit(console, "console-papers")

    # The agenda, one item per line; a time that is no time is named by its line.
    first = datetime.fromisoformat(meeting["starts_at"])
    start = first.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
    console.fill(
        "#agenda",
        f"{start} | Begrüßung | Anne Melzig\nhalb elf | KI im Alltag | Dr. Jana Beispiel",
    )
    console.click("button:has-text('Save the agenda')")
    expect(console.locator(".summary")).to_contain_text("Line 2")
    visit.audit(console, "console-agenda-error")
    console.fill(
        "#agenda",
        f"{start} | Begrüßung | Anne Melzig\n"
        "| KI im Alltag: Erfahrungen | Dr. Jana Beispiel, Tom Muster\n"
        "| Offene Runde",
    )
    console.click("button:has-text('Save the agenda')")
    expect(console.locator("[role=status]")).to_have_text("Saved.")

    # A web page named slides.pdf is refused for what it is; the real PDF is added.
    console.set_input_files(
        "#file", {"name": "slides.pdf", "mimeType": "application/pdf", "buffer": HTML_PRETENDING}
    )
    console.click("button:has-text('Add the document')")
    expect(console.locator(".summary")).to_contain_text("Only PDF")
    visit.audit(console, "console-upload-refused")
    console.set_input_files(
        "#file",
        {"name": "ki-praxis.pdf", "mimeType": "application/pdf", "buffer": tiny_pdf("KI")},
    )
    console.fill("#title", "Folien: KI in der Praxis")
    console.click("button:has-text('Add the document')")
    expect(console.locator("table")).to_contain_text("Folien: KI in der Praxis")
    console.set_input_files(
        "#file",
        {"name": "teilnehmer.docx", "mimeType": "application/msword", "buffer": docx()},
    )
    console.fill("#title", "Teilnehmerliste")
    console.check("#visibility-participants")
    console.click("button:has-text('Add the document')")
    expect(console.locator("table")).to_contain_text("Participants and organisers")
    visit.audit(console, "console-documents")
    tablet.close()

    # The public meeting page and the archive, on a phone with JavaScript off.
    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "de"}
    )
    page = phone.new_page()
    page.goto(f"{site}/meetings/{meeting_id}")
    agenda = page.locator("ol.agenda")
    expect(agenda).to_contain_text("Begrüßung")
    expect(agenda).to_contain_text("Dr. Jana Beispiel, Tom Muster")
    documents = page.locator("ul.documents")
    expect(documents).to_contain_text("Folien: KI in der Praxis")
    expect(documents).not_to_contain_text("Teilnehmerliste")
    visit.audit(page, "meeting-page")
    href = documents.locator("a").first.get_attribute("href")
    assert href is not None
    download = httpx.get(f"{site}{href}")
    assert download.status_code == 200
    assert download.content == tiny_pdf("KI")

    page.goto(f"{site}/networks/{network_id}")
    page.click("text=Archiv")
    expect(page.locator("h1")).to_contain_text("Archiv")
    held = page.locator("article", has_text="Künstliche Intelligenz")
    expect(held).to_contain_text("Datensicherheit und Kompetenzentwicklung")
    expect(held.locator("ol.agenda")).to_contain_text("Offene Runde")
    expect(held.locator("ul.documents")).to_contain_text("Folien: KI in der Praxis")
    expect(held).not_to_contain_text("Teilnehmerliste")
    visit.audit(page, "archive")
    phone.close()
    assert not visit.findings, visit.findings
