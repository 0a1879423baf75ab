"""Every email's HTML part in headless Chromium at a phone's width (390 px): nothing wider than
the screen (long titles, words, addresses and 150-character links wrap, the button fits), the
main action a button, the cancel link labelled by its words. Screenshots go to
artifacts/screenshots/emails/ for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, sync_playwright

from notification import rendering
from tests.browser import chromium

PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).parent.parent.parent.parent / "artifacts" / "screenshots" / "emails"
TEMPLATES = sorted(
    path.stem for path in rendering.TEMPLATES.glob("*.txt") if not path.stem.startswith("_")
)
TOKEN = "eyJhbGciOiJIUzI1NiJ9" + "Q" * 110  # a token as long as the real ones
CANCEL = f"https://tilmeld.example.org/cancel/registrations/4f0c9a2e?token={TOKEN}"
ACTION = f"https://tilmeld.example.org/offers/4f0c9a2e/accept?token={TOKEN}"
ONLINE = "https://teams.microsoft.example/l/meetup-join/19%3ameeting_" + "N" * 90
LONG_WORD = "Kommunalbestyrelsesmedlemsuddannelsesforløbets-evalueringskonference"
ORGANISER: dict[str, Any] = {
    "name": "Kommunernes Landsforening – Kulturchefnetværket for de nordiske kommuner",
    "signature": "Kommunernes Landsforening",
    "contact_name": "Anne-Mette Kristiansen-Bødtcher",
    "contact_email": "kulturchefnetvaerket.sekretariatet@kommunernes-landsforening.example",
    "replies": True,
}


def context(language: str) -> dict[str, Any]:
    """The longest an email is likely to get: every variable any template takes, long."""
    when = rendering.format_when(
        datetime(2026, 12, 6, 9, tzinfo=UTC),
        datetime(2026, 12, 7, 14, tzinfo=UTC),
        "Europe/Copenhagen",
        language,
    )
    meeting = {
        "title": f"Møde 3: {LONG_WORD} og samskabelse i praksis",
        "when": when,
        "location": "Kulturværftet, Allégade 2, 3000 Helsingør (indgang fra havnesiden)",
        "online_url": ONLINE,
    }
    return {
        "name": "Karen Margrethe Østergaard-Christoffersen",
        "companion_of": "Mette Frederiksen-Holmgaard",
        "companion_names": ["Ole Bjørn Kristensen", "Jens Peter Vestergaard-Nielsen"],
        "meeting": meeting,
        "seats": 3,
        "companions": 2,
        "waitlist_position": 12,
        "calendar": True,
        "cancel_url": CANCEL,
        "action_url": ACTION,
        "network_title": f"Netværket for {LONG_WORD}",
        "network_contact_email": ORGANISER["contact_email"],
        "organiser": ORGANISER,
        "changes": ["online", "place", "time", "title"],
        "was": {"title": "Møde 3", "location": "Rådhuset, Helsingør", "when": when},
        "subject": f"Nyt lokale til {LONG_WORD}",
        "body_lines": ["Vi mødes i sal 2.", "", f"Se dagsordenen: {ONLINE}"],
        "municipality": "Lyngby-Taarbæk Kommune",
        "reason": f"Netværket er for kommuner i Region Hovedstaden; {LONG_WORD}.",
        "proposal_title": f"Forslag om {LONG_WORD}",
        "title": f"Høring om {LONG_WORD}",
        "closes": when,
        "what": "answers",
        "expires": when,
        "ended_on": "30. juni 2027",
    }


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport=PHONE)
        yield page
        browser.close()


@pytest.mark.parametrize("language", ["da", "nb", "de", "en"])
def test_every_email_fits_a_phone_with_its_main_action_a_button(page: Page, language: str) -> None:
    too_wide = {}
    for template in TEMPLATES:
        rendered = rendering.render(template, language, context(language))
        page.set_content(rendered.html)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[template] = width
        if language in ("da", "de"):
            page.screenshot(path=str(SCREENSHOTS / f"{language}-{template}.png"), full_page=True)
        # Every button is within the screen, and no link shows the cancel link's token.
        for box in page.eval_on_selector_all(
            "a", "links => links.map(a => a.getBoundingClientRect().right)"
        ):
            assert box <= PHONE["width"], template
        assert f">{CANCEL}<" not in rendered.html.replace("&amp;", "&"), template
        if ACTION in rendered.text:
            assert page.locator(f'a[href="{ACTION}"]').count() >= 1, template
            label = page.locator(f'a[href="{ACTION}"]').first.inner_text()
            assert label and "token=" not in label, template
    assert too_wide == {}


def test_the_phone_sees_the_button_the_footer_and_no_sideways_scrolling(page: Page) -> None:
    rendered = rendering.render("seat_offered", "da", context("da"))
    page.set_content(rendered.html)

    button = page.get_by_role("link", name="Tag imod pladsen")
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.get_by_role("link", name=re.compile("ikke komme, så afmeld dig")).count() == 1
    footer = page.locator("p", has_text=str(ORGANISER["name"]))
    assert footer.count() == 1
    assert page.locator(f'a[href="mailto:{ORGANISER["contact_email"]}"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "da-seat_offered-phone.png"))
