"""A member's journeys, walked on a 390 px phone (JavaScript off) and an 810 px tablet: from
the home page to a members' meeting, joining first and coming back to the form filled in; a
mistake with a companion, the error read first; the confirmation in another language with its
token kept; cancelling from the page, and the confirmation telling the truth afterwards. Each
page is checked for what a person sees, photographed, and checked with axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Browser, Page, expect

from registration.web.words import gettext
from tests.builders import ORGANISER, meeting_body, network_body
from tests.e2e.conftest import Services
from tests.web.conftest import TABLET, Visit

PHONE = {"width": 390, "height": 844}
# What each width's person reads, in the language their browser prefers.
SAYS: dict[str, dict[str, str]] = {
    "da": {
        "members_only": "Kun for medlemmer", "open": "Åben for alle",
        "join_first": "Meld dig ind i netværket først", "join": "Meld mig ind",
        "joined": "Du er meldt ind", "next": "Næste skridt: vælg et møde",
        "filled": "Vi har udfyldt dine oplysninger", "register": "Tilmeld mig",
        "error": "Fejl:", "companion": "Ledsager 2:", "registered": "Du er tilmeldt",
        "cancelled": gettext("da", "Your registration is cancelled"),
    },
    "en": {
        "members_only": "Members only", "open": "Open to everyone",
        "join_first": "Join the network first", "join": "Join",
        "joined": "You have joined", "next": "Next: pick a meeting",
        "filled": "We have filled in your details", "register": "Register",
        "error": "Error:", "companion": "Companion 2:", "registered": "You are registered",
        "cancelled": "Your registration is cancelled",
    },
}  # fmt: skip
# After switching to Norwegian on the confirmation page.
NB = {"registered": "Du er påmeldt", "cancelled": gettext("nb", "Your registration is cancelled")}
ACCEPT_LANGUAGE = {"da": "da-DK", "en": "en-GB"}


def _api(services: Services, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{services.url('registration')}{path}", json=body, headers=ORGANISER)
    assert response.status_code == 201, response.text
    return response.json()


def _morning(days_ahead: int) -> dict[str, str]:
    day = datetime.now(ZoneInfo("Europe/Copenhagen")).date() + timedelta(days=days_ahead)
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/Copenhagen"))
    return {
        "starts_at": starts.astimezone(UTC).isoformat(),
        "ends_at": (starts + timedelta(hours=5, minutes=30)).astimezone(UTC).isoformat(),
        "timezone": "Europe/Copenhagen",
    }


def _network(services: Services, title: str) -> dict[str, str]:
    network = _api(services, "/networks", network_body(title=title, max_companions=2))
    path = f"/networks/{network['network_id']}/meetings"
    workshop = _api(
        services, path, meeting_body(title=f"Workshop: {title}", capacity=10, **_morning(9))
    )
    open_day = _api(
        services,
        path,
        meeting_body(title=f"Open day: {title}", open_to_public=True, **_morning(30)),
    )
    return {
        "title": title,
        "network": network["network_id"],
        "workshop": workshop["meeting_id"],
        "open_day": open_day["meeting_id"],
    }


def test_a_member_joins_books_corrects_a_mistake_and_cancels_on_a_phone_and_a_tablet(
    services: Services, browser: Browser, visit: Visit
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    for width, size, language, scripted in (
        ("phone", PHONE, "da", False),
        ("tablet", TABLET, "en", True),
    ):
        ids = _network(services, f"Klimanetværk {width}")
        context = browser.new_context(
            viewport=size,
            java_script_enabled=scripted,
            extra_http_headers={"Accept-Language": ACCEPT_LANGUAGE[language]},
        )
        page = context.new_page()
        _join_then_book(page, visit, site, ids, width, SAYS[language])
        _states_after_cancelling(page, visit, width, SAYS[language])
        # The next person at the same computer opens the meeting: an empty form.
        page.goto(f"{site}/meetings/{ids['workshop']}")
        expect(page.locator("#name")).to_have_value("")
        expect(page.locator("#members-only")).to_be_visible()
        context.close()
    assert len(visit.audited) >= 20
    assert not visit.findings, visit.findings


def _join_then_book(
    page: Page, visit: Visit, site: str, ids: dict[str, str], width: str, says: dict[str, str]
) -> None:
    # The home page lists the network's coming meetings, and who each is for.
    page.goto(site)
    card = page.locator("li.card", has_text=ids["title"])
    expect(card.locator(".coming li")).to_have_count(2)
    expect(card.locator(".coming li").first).to_contain_text(f"Workshop: {ids['title']}")
    expect(card.locator(".coming li").first).to_contain_text(says["members_only"])
    expect(card.locator(".coming li").last).to_contain_text(says["open"])
    visit.audit(page, f"{width}-home")

    card.get_by_role("link", name=ids["title"], exact=True).click()
    workshop_card = page.locator("li.card", has_text=f"Workshop: {ids['title']}")
    expect(workshop_card.locator(".tag")).to_have_text(says["members_only"])
    expect(page.locator("li.card", has_text="Open day").locator(".tag")).to_have_text(says["open"])
    visit.audit(page, f"{width}-network")

    # A members' meeting says so, and where to join, above the form and before any typing;
    # it says when it ends as well as when it starts.
    workshop_card.get_by_role("link").click()
    notice = page.locator("#members-only")
    expect(notice.locator("h2")).to_have_text(says["join_first"])
    notice_box, form_box = notice.bounding_box(), page.locator("form").bounding_box()
    assert notice_box and form_box and notice_box["y"] < form_box["y"]
    expect(page.locator(".facts time")).to_contain_text("–")
    visit.audit(page, f"{width}-members-meeting")

    notice.get_by_role("link").click()
    expect(page.locator("#enrol ~ .notice")).to_contain_text(f"Workshop: {ids['title']}")
    page.fill("#name", "Sigrid Holm")
    page.fill("#email", f"sigrid.{width}@tynset.example")
    page.fill("#municipality", "Tynset")
    page.fill("#role", "Kultursjef")
    page.check("#consent")
    page.get_by_role("button", name=says["join"], exact=True).click()
    expect(page.locator("h1")).to_have_text(says["joined"])
    expect(page.locator("#next")).to_have_text(says["next"])
    # The meeting the person came for is offered first; leaving is not the next step.
    first = page.locator(".cards .card a").first
    expect(first).to_contain_text(f"Workshop: {ids['title']}")
    visit.audit(page, f"{width}-joined")

    first.click()
    expect(page.locator("#joined")).to_contain_text(says["filled"])
    expect(page.locator("#name")).to_have_value("Sigrid Holm")
    expect(page.locator("#email")).to_have_value(f"sigrid.{width}@tynset.example")
    expect(page.locator("#members-only")).to_have_count(0)
    visit.audit(page, f"{width}-form-filled-in")

    # A companion's job title without a name: the error is read first and names the row.
    page.fill("#companion_2_role", "Planlægger")
    page.get_by_role("button", name=says["register"], exact=True).click()
    assert page.title().startswith(says["error"] + " ")
    summary = page.locator(".summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_contain_text(says["companion"])
    expect(page.locator("#companion_2_name-error")).to_contain_text(says["companion"])
    expect(page.locator("#companion_2_role")).to_have_value("Planlægger")
    expect(page.locator("#joined")).to_be_visible()  # still known as the member who joined
    expect(page.locator("#members-only")).to_have_count(0)
    visit.audit(page, f"{width}-companion-error")

    page.fill("#companion_2_name", "Bo Holm")
    page.get_by_role("button", name=says["register"], exact=True).click()
    expect(page.locator("h1")).to_have_text(says["registered"])
    expect(page.locator("main")).to_contain_text("–")  # the end time here too
    visit.audit(page, f"{width}-registered")


def _states_after_cancelling(page: Page, visit: Visit, width: str, says: dict[str, str]) -> None:
    confirmation = page.url
    # Switching language keeps the confirmation's token: the same page, in Norwegian.
    page.locator("a[hreflang=nb]").click()
    expect(page.locator("h1")).to_have_text(NB["registered"])
    assert "token=" in page.url
    visit.audit(page, f"{width}-confirmation-nb")

    page.locator("main a[href*='/cancel/registrations/']").click()
    # The cancel page: the pages' header with its language switch, the date in words.
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("header nav a[hreflang=de]")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("dag")  # mandag, tirsdag, …
    expect(page.locator("main form button")).to_be_visible()
    visit.audit(page, f"{width}-cancel-ask")
    page.locator("main form button").click()
    expect(page.locator("h1")).to_have_text(NB["cancelled"])
    expect(page.locator("button")).to_have_count(0)
    visit.audit(page, f"{width}-cancelled")

    # The confirmation link opened again says it is cancelled: no green panel, no calendar.
    page.goto(confirmation)
    expect(page.locator(".panel--cancelled h1")).to_have_text(says["cancelled"])
    expect(page.locator("a[download]")).to_have_count(0)
    expect(page.locator(".panel:not(.panel--cancelled)")).to_have_count(0)
    visit.audit(page, f"{width}-confirmation-after-cancelling")
