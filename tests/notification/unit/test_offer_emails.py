"""The waitlist offer emails in every language: the accept link as the button, the time the seat
is held until in the meeting's zone; the expiry notice with no link to act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from notification import rendering
from notification.service.offers import format_moment

MEETING = {"title": "Møde 1", "when": "…", "location": "Helsingør", "online_url": None}
ACCEPT = "http://127.0.0.1:8001/offer/registrations/r?token=offer"
CANCEL = "http://127.0.0.1:8001/cancel/registrations/r?token=cancel"
# 13:00 UTC on 4 December is 14:00 in Copenhagen (CET).
EXPIRES = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
LANGUAGES = ["da", "nb", "de", "en"]


def context(language: str, **extra: object) -> dict[str, object]:
    return {
        "name": "Karen",
        "meeting": MEETING,
        "calendar": False,
        "seats": 1,
        "companions": 0,
        "waitlist_position": 1,
        "expires": format_moment(EXPIRES, "Europe/Copenhagen", language),
        **extra,
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offer_has_the_accept_link_as_its_button_and_the_expiry(language: str) -> None:
    rendered = rendering.render(
        "seat_offered", language, context(language, action_url=ACCEPT, cancel_url=CANCEL)
    )

    assert rendered.subject and "Karen" in rendered.text
    assert ACCEPT in rendered.text and CANCEL in rendered.text
    assert "(CET)" in rendered.text and ("14:00" in rendered.text or "14.00" in rendered.text)
    assert "2026" in rendered.text
    links = re.findall(r'href="([^"]*)"', rendered.html)
    assert set(links) == {ACCEPT.replace("&", "&amp;"), CANCEL.replace("&", "&amp;")}
    button = re.search(r'<a href="([^"]*)"[^>]*display:inline-block', rendered.html)
    assert button is not None and button.group(1) == ACCEPT


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_expiry_notice_says_the_seat_went_on_and_links_nothing(language: str) -> None:
    rendered = rendering.render("offer_expired", language, context(language, cancel_url=None))

    assert rendered.subject and "Karen" in rendered.text
    assert "(CET)" in rendered.text
    assert "href=" not in rendered.html


def test_the_expiry_is_written_each_languages_way() -> None:
    written = {
        language: format_moment(EXPIRES, "Europe/Copenhagen", language) for language in LANGUAGES
    }

    assert written["da"].startswith("fredag den 4. december 2026")
    assert written["de"].startswith("Freitag, 4. Dezember 2026")
    assert written["en"].startswith("Friday, 4 December 2026")
    assert written["nb"].startswith("fredag 4. desember 2026")
