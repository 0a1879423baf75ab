"""Emails in the member's language, with the meeting's time in the meeting's zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from notification import rendering
from tilmeld_shared import calendar

TEMPLATES = [
    "enrolment_confirmed",
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "registration_cancelled",
    "companion_registered",
    "meeting_rescheduled",
    "meeting_cancelled",
    "reminder",
]
MEETING = {"title": "Møde 1", "when": "…", "location": "Helsingør", "online_url": None}


@pytest.mark.parametrize("language", ["da", "nb", "de", "en"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_exists_in_every_language(template: str, language: str) -> None:
    rendered = rendering.render(
        template,
        language,
        {
            "name": "Karen",
            "network_title": "Netværk",
            "meeting": MEETING,
            "seats": 2,
            "companions": 1,
            "waitlist_position": 3,
            "cancel_url": "http://x/cancel",
            "calendar": True,
            "companion_of": "Mette",
        },
    )

    assert rendered.subject and "Karen" in rendered.text


def test_the_time_is_written_in_the_meetings_zone_and_the_members_language() -> None:
    starts = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    ends = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)

    danish = rendering.format_when(starts, ends, "Europe/Copenhagen", "da")
    german = rendering.format_when(starts, ends, "Europe/Berlin", "de")

    assert danish.startswith("søndag den 6. december 2026") and "10.00–15.30" in danish
    assert german.startswith("Sonntag, 6. Dezember 2026") and "10:00–15:30" in german


def test_an_unknown_language_falls_back_to_english() -> None:
    rendered = rendering.render(
        "enrolment_confirmed",
        "fi",
        {"name": "Aino", "network_title": "Network", "cancel_url": None},
    )

    assert rendered.subject.startswith("You have joined")


def test_the_invitation_has_a_stable_uid_per_registration() -> None:
    registration_id = uuid.uuid4()
    ics = calendar.invitation(
        registration_id=registration_id,
        title="Møde",
        location="Helsingør",
        online_url=None,
        starts_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
        ends_at=datetime(2026, 12, 6, 14, tzinfo=UTC),
        attendee_email="a@b.example",
        organiser_email="no-reply@tilmeld.example",
    )

    assert "METHOD:REQUEST" in ics
    assert f"UID:{registration_id}@tilmeld" in ics
    assert "DTSTART:20261206T090000Z" in ics


def test_an_international_domain_travels_in_its_idna_form() -> None:
    from notification.dispatcher import smtp_address

    assert smtp_address("jonas@münster.example") == "jonas@xn--mnster-3ya.example"
    assert smtp_address("karen@ishoj.example") == "karen@ishoj.example"
