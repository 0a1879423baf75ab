"""A seat offered from the waitlist, in a real browser on a phone with JavaScript off: the link
in the offer email shows the seat and until when it is held, the button takes it; the next
person's offer, lapsed while the page was open, says so plainly, and they are told by email."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, meeting_body, member, network_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka
from tests.web.conftest import PHONE, Visit

OFFER_LINK = re.compile(r"(http://\S+/offer/registrations/[^\s?]+\?token=\S+)")


@pytest.fixture
def services(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    # Lapsed offers are looked for every half second.
    yield from run_services(
        database_url, kafka, smtp, tmp_path, extra_env={"OFFER_CHECK_INTERVAL_S": "0.5"}
    )


def sql(database_url: str, query: str, *args: Any) -> None:
    """One statement, from a thread of its own: Playwright's driver holds this one's loop."""
    failure: list[BaseException] = []

    async def execute() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(query, *args)
        finally:
            await conn.close()

    def run() -> None:
        try:
            asyncio.run(execute())
        except BaseException as error:  # handed back to the test
            failure.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def offer_link(smtp: MailCatcher, address: str) -> str:
    mail = smtp.wait_for(
        lambda m: m.is_to(address) and m.subject.startswith("En plads til dig"), timeout_s=30
    )[0]
    found = OFFER_LINK.search(mail.text)
    assert found is not None, mail.text
    return found.group(1)


def test_a_person_accepts_an_offered_seat_and_the_next_offer_lapses(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit, database_url: str
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    network = client.post(
        f"{api}/networks",
        json=network_body(language="da", waitlist="offer", offer_hours=24),
        headers=ORGANISER,
    ).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=1),
        headers=ORGANISER,
    ).json()
    people = [
        member(name="Inger Christensen"),
        member(name="Tove Ditlevsen"),
        member(name="Klaus Rifbjerg"),
    ]
    registered = []
    for person in people:
        enrolled = client.post(
            f"{api}/networks/{network['network_id']}/enrolments",
            json={"member": person, "consent": True},
        )
        assert enrolled.status_code == 201, enrolled.text
        response = client.post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
        )
        assert response.status_code == 201, response.text
        registered.append(response.json())
    seated, first, second = registered
    assert (first["status"], second["status"]) == ("waitlisted", "waitlisted")

    def cancel(registration: dict[str, Any]) -> None:
        response = client.post(
            f"{api}/registrations/{registration['registration_id']}/cancel",
            json={"token": registration["cancel_token"]},
        )
        assert response.status_code == 200, response.text

    # The seat is freed: the first in line is offered it by email.
    cancel(seated)
    link = offer_link(smtp, people[1]["email"])

    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "da-DK"}
    )
    page = phone.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("En plads til dig")
    expect(page.locator("dl")).to_contain_text("Holdt til dig indtil")
    expect(page.locator("dl")).to_contain_text("Tove Ditlevsen")
    visit.audit(page, "offer-open")
    page.click("button:has-text('Tag imod pladsen')")
    expect(page.locator(".lead")).to_contain_text("Pladsen er din")
    visit.audit(page, "offer-accepted")
    page.goto(link)  # the link again: it says so, and offers nothing more
    expect(page.locator(".lead")).to_contain_text("Du har taget imod pladsen")
    expect(page.locator("button")).to_have_count(0)
    seen = client.get(f"{api}/meetings/{meeting['meeting_id']}").json()
    assert (seen["seats_taken"], seen["waitlist_length"]) == (1, 1)

    # A wrong link is refused, and says so, in the language this browser was reading in.
    page.goto(link.replace("token=", "token=1"))  # another expiry: the signature fails
    expect(page.locator("h1")).to_have_text("Linket virker ikke")

    # The seat is freed again: the next person is offered it; their offer lapses while the
    # page is open, and the button then says so plainly instead of taking the seat.
    cancel(first)
    next_link = offer_link(smtp, people[2]["email"])
    page.goto(next_link)
    expect(page.locator("button")).to_have_text("Tag imod pladsen")
    sql(
        database_url,
        "UPDATE registration.registrations SET offer_expires_at = now() - interval '1 second' "
        "WHERE id = $1",
        uuid.UUID(second["registration_id"]),
    )
    page.click("button:has-text('Tag imod pladsen')")
    expect(page.locator(".lead")).to_contain_text("Tilbuddet udløb")
    expect(page.locator("button")).to_have_count(0)
    visit.audit(page, "offer-expired")
    phone.close()

    # The scheduler passes it on (nobody is left to offer it to) and tells the person.
    expired = smtp.wait_for(
        lambda m: m.is_to(people[2]["email"]) and m.subject.startswith("Tilbuddet om en plads"),
        timeout_s=30,
    )[0]
    assert "ventelisten" in expired.text
    assert not visit.findings, visit.findings
