"""The organiser's other journeys in the console, on a tablet and on a phone: the member list,
the sign-in sheet as it prints, name badges as a PDF, a form mistake told in their words, and
the door with companions on their own lines and a tick taken back. What a person sees is
asserted, each page is screenshot and checked with axe-core, and nothing scrolls sideways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pypdfium2 as pdfium
from playwright.sync_api import Browser, Page, expect

from tests.builders import ORGANISER, ORGANISER_TOKEN, companion, member
from tests.e2e.conftest import Services
from tests.web.conftest import TABLET, Visit

PHONE = {"width": 390, "height": 844}
HELD_AT = datetime(2025, 3, 6, 9, tzinfo=UTC)


def _prepare(api: str) -> tuple[str, str]:
    """A network with a held meeting (one of two came) and a coming one with a companion."""
    network = httpx.post(
        f"{api}/networks",
        json={
            "title": "Netværk om grøn omstilling i kulturlivet",
            "description": "Kultur og klima.",
            "organisers": ["KL"],
            "language": "da",
            "max_companions": 1,
        },
        headers=ORGANISER,
    ).json()
    came = member(name="Birgitte Ærøskøbing-Østergaard Lindholm", municipality="Roskilde")
    away = member(name="Aksel Holm", municipality="Køge")
    held = httpx.post(
        f"{api}/networks/{network['network_id']}/held-meetings",
        json={
            "title": "Kultur og klima",
            "starts_at": HELD_AT.isoformat(),
            "ends_at": (HELD_AT + timedelta(hours=3)).isoformat(),
            "capacity": 30,
            "registrations": [
                {
                    "member": person,
                    "registered_at": (HELD_AT - timedelta(days=10)).isoformat(),
                    "attended": person is came,
                }
                for person in (came, away)
            ],
        },
        headers=ORGANISER,
    )
    assert held.status_code == 201, held.text
    starts = (datetime.now(UTC) + timedelta(days=20)).replace(hour=9, minute=0, microsecond=0)
    meeting = httpx.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json={
            "title": "Møde 2: Åbne strategier",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=4)).isoformat(),
            "capacity": 40,
            "open_to_public": True,
        },
        headers=ORGANISER,
    ).json()
    for body in (
        {"member": came, "companions": [companion("Ole Klimarådgiver")]},
        {"member": away},
    ):
        answer = httpx.post(f"{api}/meetings/{meeting['meeting_id']}/registrations", json=body)
        assert answer.status_code == 201, answer.text
    return str(network["network_id"]), str(meeting["meeting_id"])


def _fits(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _journeys(
    page: Page, site: str, network_id: str, meeting_id: str, visit: Visit, tag: str
) -> None:
    page.goto(f"{site}/console/login?lang=en")
    page.fill("#token", ORGANISER_TOKEN)
    page.click("button[type=submit]")

    # The member list: who came how often, former members apart, a spreadsheet to download.
    page.goto(f"{site}/console/networks/{network_id}?lang=en")
    page.click("a:has-text('Members')")
    expect(page.locator("h1")).to_have_text("Members")
    row = page.locator("tr", has_text="Birgitte")
    expect(row).to_contain_text("1 of 1 held meetings")
    expect(page.locator("tr", has_text="Aksel Holm")).to_contain_text("0 of 1 held meetings")
    expect(page.locator("a:has-text('Download the member list (CSV)')")).to_be_visible()
    _fits(page)
    visit.audit(page, f"{tag}-members")

    # The sign-in sheet, as it prints: the list alone, the companion on a line of their own.
    page.goto(f"{site}/console/meetings/{meeting_id}?lang=en")
    page.click("a:has-text('Sign-in sheet to print')")
    expect(page.locator("caption")).to_have_text("3 people expected.")
    expect(page.locator("tbody tr", has_text="Ole Klimarådgiver")).to_contain_text("Companion of")
    _fits(page)
    visit.audit(page, f"{tag}-sign-in-sheet")
    page.emulate_media(media="print")
    expect(page.locator(".screen-only")).to_be_hidden()
    visit.snap(page, f"{tag}-sign-in-sheet-printed")
    page.emulate_media(media="screen")

    # Name badges: a PDF with every name, rendered to look at.
    page.goto(f"{site}/console/meetings/{meeting_id}?lang=en")
    with page.expect_download() as download:
        page.click("a:has-text('Name badges (PDF)')")
    pdf = pdfium.PdfDocument(download.value.path().read_bytes())
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    assert "Ole Klimarådgiver" in text and "Aksel Holm" in text
    image = pdf[0].render(scale=1.5).to_pil()
    image.save(visit.folder / f"{tag}-badges.png")
    assert image.convert("L").getextrema()[0] < 100

    # A mistake in the meeting form, told at the field in the organiser's words.
    page.goto(f"{site}/console/networks/{network_id}?lang=en")
    page.click("summary:has-text('New meeting')")
    page.fill("#title", "Møde 3")
    page.fill("#starts_at", "2030-03-06T10:00")
    page.fill("#ends_at", "2030-03-06T09:00")
    page.fill("#capacity", "20")
    page.click("form[action$='/meetings'] button")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Ends: The meeting must end after it starts.")
    expect(summary).to_be_focused()
    expect(page.locator("#ends_at")).to_have_attribute("aria-invalid", "true")
    _fits(page)
    visit.audit(page, f"{tag}-meeting-error")

    # The door: the companion found by name, ticked, and a wrong tick taken back.
    page.goto(f"{site}/console/meetings/{meeting_id}/check-in?lang=en")
    expect(page.locator("#expected")).to_have_text("3")
    page.fill("#q", "ole")
    expect(page.locator("#people li:visible")).to_have_count(1)
    page.locator("#people li:visible button[data-registration]").click()
    expect(page.locator("#arrived")).to_have_text("1")
    page.fill("#q", "")
    aksel = page.locator("li", has_text="Aksel Holm")
    aksel.locator("button[data-registration]").click()
    expect(page.locator("#arrived")).to_have_text("2")
    aksel.locator("button[data-undo]").click()
    expect(page.locator("#arrived")).to_have_text("1")
    expect(aksel.locator("button[data-registration]")).to_be_visible()
    _fits(page)
    visit.audit(page, f"{tag}-door")


def _cancel(page: Page, site: str, meeting_id: str, visit: Visit, tag: str) -> None:
    """Cancelling asks first, saying who will be emailed; afterwards the page says it plainly."""
    page.goto(f"{site}/console/meetings/{meeting_id}?lang=en")
    page.click("summary:has-text('Cancel the meeting')")
    page.fill("#reason", "Sygdom")
    page.click("button.danger")
    expect(page.locator("main")).to_contain_text(
        "2 people registered or waiting will be emailed that the meeting is cancelled."
    )
    _fits(page)
    visit.audit(page, f"{tag}-cancel-confirm")
    page.click("button:has-text('Yes, cancel it and email 2 people')")
    expect(page.locator(".notice.warning")).to_contain_text("This meeting is cancelled.")
    expect(page.locator("a:has-text('Check-in')")).to_have_count(0)
    _fits(page)
    visit.audit(page, f"{tag}-cancelled")


def test_an_organisers_journeys_on_a_tablet_and_a_phone(
    services: Services, browser: Browser, visit: Visit
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    network_id, meeting_id = _prepare(services.url("registration"))

    for tag, viewport in (("tablet", TABLET), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        page = context.new_page()
        _journeys(page, site, network_id, meeting_id, visit, tag)
        if tag == "phone":  # last: the meeting is gone after it
            _cancel(page, site, meeting_id, visit, tag)
        context.close()
        # The next width's door starts again from nobody arrived.
        for registration in httpx.get(
            f"{services.url('registration')}/meetings/{meeting_id}/registrations",
            headers=ORGANISER,
        ).json()["items"]:
            for companion_index in (None, 0):
                query = "" if companion_index is None else f"?companion={companion_index}"
                httpx.delete(
                    f"{services.url('registration')}/registrations/"
                    f"{registration['registration_id']}/check-in{query}",
                    headers=ORGANISER,
                )

    assert not visit.findings, visit.findings
