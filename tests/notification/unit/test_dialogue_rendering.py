"""Member dialogue's emails in every language: the subject and greeting, the link for what
the email asks as the HTML part's button, and nothing clickable but the system's links."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from notification import rendering
from notification.service.dialogue import format_moment

LINK = "http://127.0.0.1:8001/consultations/c?token=secret"
TEMPLATES = [
    "consultation_invitation",
    "consultation_reminder",
    "response_receipt",
    "response_updated",
    "address_confirmation",
    "proposal_published",
    "proposal_rejected",
    "proposal_scheduled",
]
CONTEXT = {
    "name": "Kari Nordmann",
    "title": "Kultur for framtida",
    "network_title": "KS Kulturnettverk",
    "closes": "tirsdag 8. desember 2026, 12:00 (CET)",
    "action_url": LINK,
    "what": "vote",
    "proposal_title": "Kultur i distriktene",
    "reason": "Allerede på programmet.",
    "meeting": {"title": "Nettverkssamling", "when": "mandag 11. januar 2027"},
}
# The words before the link in each kind that asks something (the button's label), in nb.
BUTTONS = {
    "consultation_invitation": "Svar på spørreundersøkelsen",
    "consultation_reminder": "Svar på spørreundersøkelsen",
    "response_receipt": "Endre svarene dine",
    "response_updated": "Endre svarene dine",
    "address_confirmation": "Bekreft adressen din",
    "proposal_published": "Se innspillene",
    "proposal_scheduled": "Se innspillene",
}


@pytest.mark.parametrize("language", ["da", "nb", "de", "en"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_dialogue_email_exists_in_every_language_with_its_link(
    template: str, language: str
) -> None:
    rendered = rendering.render(template, language, CONTEXT)

    assert rendered.subject and "Kari Nordmann" in rendered.text
    assert f'lang="{language}"' in rendered.html
    if template in BUTTONS:
        assert LINK in rendered.text
        assert f'href="{html.escape(LINK)}"' in rendered.html
    for word in ("Dear", "Your", "Confirm", "Thank"):
        if language != "en":
            assert not rendered.subject.startswith(word), "translated"


@pytest.mark.parametrize("template", sorted(BUTTONS))
def test_the_link_for_what_the_email_asks_is_a_button_labelled_with_the_words_before_it(
    template: str,
) -> None:
    rendered = rendering.render(template, "nb", CONTEXT)

    buttons = re.findall(
        r'<a href="([^"]*)" style="display:inline-block[^"]*">([^<]*)</a>', rendered.html
    )
    assert buttons == [(html.escape(LINK), BUTTONS[template])]


def test_a_name_with_a_link_in_it_stays_text_and_the_button_keeps_the_systems_link() -> None:
    rendered = rendering.render(
        "consultation_invitation",
        "en",
        {**CONTEXT, "name": "Kari https://evil.example/x", "title": "See https://evil.example/y"},
    )

    assert re.findall(r'href="([^"]*)"', rendered.html) == [html.escape(LINK)]


def test_the_confirmation_says_what_it_confirms() -> None:
    subjects = {
        what: rendering.render("address_confirmation", "en", {**CONTEXT, "what": what}).subject
        for what in ("response", "proposal", "vote")
    }

    assert subjects == {
        "response": "Confirm your address so your answers count",
        "proposal": "Confirm your address so your proposal counts",
        "vote": "Confirm your address so your vote counts",
    }


def test_a_closing_time_is_written_the_readers_way_in_their_languages_zone() -> None:
    closes = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)

    assert format_moment(closes, "nb") == "tirsdag 8. desember 2026, 12:00 (CET)"
    assert format_moment(closes, "de") == "Dienstag, 8. Dezember 2026, 12:00 (CET)"
    assert format_moment(closes, "en") == "Tuesday, 8 December 2026, 12:00 (CET)"
