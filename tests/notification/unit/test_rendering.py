"""Emails in the member's language, with the meeting's time in the meeting's zone."""

from __future__ import annotations

import html
import re
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
    "companion_cancelled",
    "companion_meeting_rescheduled",
    "companion_meeting_cancelled",
    "companion_meeting_changed",
    "meeting_rescheduled",
    "meeting_changed",
    "meeting_cancelled",
    "reminder",
    "organiser_message",
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
            "subject": "Nyt lokale",
            "body_lines": ["Vi mødes i sal 2."],
        },
    )

    assert rendered.subject and "Karen" in rendered.text


@pytest.mark.parametrize("language", ["da", "nb", "de", "en"])
@pytest.mark.parametrize("template", ["meeting_changed", "meeting_rescheduled"])
def test_a_change_names_each_thing_that_changed_old_and_new(template: str, language: str) -> None:
    meeting = {**MEETING, "title": "Møde 2", "location": "Køge", "online_url": "https://m.example"}
    rendered = rendering.render(
        template,
        language,
        {
            "name": "Karen",
            "meeting": meeting,
            "cancel_url": "http://x/cancel",
            "calendar": True,
            "changes": ["online", "place", "time", "title"],
            "was": {"title": "Møde 1", "location": "Helsingør", "when": "i går"},
        },
    )

    for words in ("Møde 1", "Møde 2", "Køge", "Helsingør", "https://m.example"):
        assert words in rendered.text
    assert ("i går" in rendered.text) == (template == "meeting_rescheduled")


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

    assert rendered.subject == "Welcome to Network"


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


def test_only_the_links_the_system_wrote_are_clickable_never_one_typed_in_a_name() -> None:
    cancel_url = "http://127.0.0.1:8001/cancel/registrations/r?token=t"
    meeting = {**MEETING, "title": "Møde (se https://evil.example/agenda)"}
    meeting["online_url"] = "https://meet.example/room"
    rendered = rendering.render(
        "registration_confirmed",
        "en",
        {
            "name": "Karen https://evil.example/reset",
            "meeting": meeting,
            "seats": 1,
            "companions": 0,
            "cancel_url": cancel_url,
            "calendar": True,
        },
    )

    hrefs = re.findall(r'href="([^"]*)"', rendered.html)
    assert sorted(hrefs) == [html.escape(cancel_url), "https://meet.example/room"]
    assert "Karen https://evil.example/reset" in rendered.html


def test_a_line_separator_in_a_name_does_not_start_a_line_of_its_own() -> None:
    smuggled = "Karen\u2028Action required: https://evil.example/reset\u0085\u202eeman"
    rendered = rendering.render(
        "companion_registered",
        "en",
        {
            "name": "Ole",
            "companion_of": smuggled,
            "meeting": MEETING,
            "calendar": True,
            "cancel_url": None,
        },
    )

    for part in (rendered.text, rendered.html):
        assert not re.search("[\u2028\u0085\u202e]", part)
    assert not any(line.startswith("Action") for line in rendered.text.split("\n"))
    assert "<br>Action" not in rendered.html
    assert "https://evil.example" not in "".join(re.findall(r'href="[^"]*"', rendered.html))


def test_a_link_followed_by_punctuation_keeps_the_punctuation_out_of_the_link() -> None:
    link = "https://tilmeld.example/cancel?token=a.b"
    body = f"Cancel here ({link}). Or here: {link}."

    html_part = rendering.html_part("Cancel", body, "en", {link})

    escaped = html.escape(link)
    anchor = f'<a href="{escaped}" style="color:#1f6f5c;word-break:break-all">{escaped}</a>'
    assert f"({anchor}). Or here: {anchor}." in html_part


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("da", "(heraf 1 ledsager)", "(heraf 2 ledsagere)"),
        ("nb", "(herav 1 ledsager)", "(herav 2 ledsagere)"),
        ("de", "(davon 1 Begleitperson)", "(davon 2 Begleitpersonen)"),
        ("en", "(including 1 companion)", "(including 2 companions)"),
    ],
)
def test_a_confirmation_counts_companions_by_the_languages_plural_rule(
    language: str, one: str, two: str
) -> None:
    def confirmation(companions: int) -> str:
        context = {
            "name": "Karen",
            "meeting": MEETING,
            "seats": 1 + companions,
            "companions": companions,
            "cancel_url": "http://x/cancel",
            "calendar": True,
        }
        return rendering.render("registration_confirmed", language, context).text

    assert one in confirmation(1) and two in confirmation(2)


@pytest.mark.parametrize("language", ["da", "nb", "de", "en"])
def test_an_organisers_message_keeps_its_lines_and_makes_no_link_of_its_text(
    language: str,
) -> None:
    cancel_url = "http://127.0.0.1:8001/cancel/registrations/r?token=t"
    rendered = rendering.render(
        "organiser_message",
        language,
        {
            "name": "Karen",
            "companion_of": None,
            "subject": "Nyt lokale <b>nu</b>",
            "body_lines": ["Vi mødes i sal 2.", "", "Se https://evil.example/agenda <script>"],
            "meeting": {**MEETING, "online_url": "https://meet.example/room"},
            "calendar": False,
            "cancel_url": cancel_url,
        },
    )

    assert rendered.subject == "Nyt lokale <b>nu</b>"
    assert "Vi mødes i sal 2.\n\nSe https://evil.example/agenda <script>" in rendered.text
    assert "Møde 1" in rendered.text and cancel_url in rendered.text
    assert re.findall(r'href="([^"]*)"', rendered.html) == [html.escape(cancel_url)]
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html
