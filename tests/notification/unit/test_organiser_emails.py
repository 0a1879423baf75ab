"""Who an email is from, as people see it: the sender name and Reply-To built from the network's
organisers and contact, the signature and footer of every kind, and subjects that say each
thing once."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from notification import rendering
from notification.dispatcher import build_message
from notification.service.networks import SENDER_NAME_MAX, organiser_of

TEMPLATES = sorted(
    path.stem for path in rendering.TEMPLATES.glob("*.txt") if not path.stem.startswith("_")
)
LANGUAGES = ["da", "nb", "de", "en"]
ORGANISER = {
    "name": "KL – Kulturchefnetværket",
    "signature": "KL",
    "contact_name": "Anne Holm",
    "contact_email": "kultur@kl.example",
    "replies": True,
}


def network(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Kulturchefnetværket",
        "organisers": ["KL"],
        "contact_name": "Anne Holm",
        "contact_email": "kultur@kl.example",
        **fields,
    }


def test_the_sender_is_the_organisers_and_the_network() -> None:
    organiser = organiser_of(network())  # type: ignore[arg-type]

    assert organiser is not None
    assert organiser.name == "KL – Kulturchefnetværket"
    assert organiser.signature == "KL"
    assert organiser.contact_email == "kultur@kl.example"


@pytest.mark.parametrize(
    ("organisers", "name", "signature"),
    [
        ([], "Kulturchefnetværket", "Kulturchefnetværket"),
        (["Kulturchefnetværket"], "Kulturchefnetværket", "Kulturchefnetværket"),
        (["KL", "Region Hovedstaden"], "KL, Region Hovedstaden – Kulturchefnetværket", None),
        # Too many to read at a glance: the network's name alone; they still sign.
        (["Kommunernes Landsforening", "Region Hovedstaden", "Region Sjælland"], None, None),
    ],
)
def test_the_sender_name_stays_readable(
    organisers: list[str], name: str | None, signature: str | None
) -> None:
    organiser = organiser_of(network(organisers=organisers))  # type: ignore[arg-type]

    assert organiser is not None
    assert organiser.name == (name or "Kulturchefnetværket")
    assert organiser.signature == (signature or ", ".join(organisers))


def test_a_long_name_is_cut_and_a_network_kept_before_its_contact_takes_the_events() -> None:
    organiser = organiser_of(
        network(title="Netværk " * 20, organisers=[], contact_email=None),  # type: ignore[arg-type]
        contact_email="netvaerk@kl.example",
    )

    assert organiser is not None
    assert len(organiser.name) == SENDER_NAME_MAX and organiser.name.endswith("…")
    assert organiser.contact_email == "netvaerk@kl.example"
    assert organiser_of(None) is None


def row(**fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "recipient": "karen@ishoj.example",
        "subject": "Tilmelding bekræftet: Møde 1",
        "body_text": "Kære Karen",
        "body_html": None,
        "calendar": None,
        "language": "da",
        "created_at": datetime.now(UTC),
        "sender_name": None,
        "reply_to": None,
        **fields,
    }


def test_the_message_keeps_the_configured_address_under_the_organisers_name() -> None:
    raw = build_message(
        row(sender_name="KL – Kulturchefnetværket", reply_to="kultur@kø.example"),
        mail_from="Tilmeld <no-reply@tilmeld.example>",
    )

    message = email.message_from_bytes(raw, policy=email.policy.default)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "KL – Kulturchefnetværket",
        "no-reply@tilmeld.example",
    )
    assert raw.isascii()  # the name as RFC 2047 words
    assert message["Reply-To"].addresses[0].addr_spec == "kultur@xn--k-5ga.example"


def test_a_message_of_no_network_is_from_the_configured_sender_and_has_no_reply_to() -> None:
    raw = build_message(row(), mail_from="Tilmeld <no-reply@tilmeld.example>")

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(message["From"]) == "Tilmeld <no-reply@tilmeld.example>"
    assert message["Reply-To"] is None


def context(**more: Any) -> dict[str, Any]:
    meeting = {"title": "Alfa", "when": "1. marts", "location": "Beta", "online_url": None}
    return {
        "name": "Karen",
        "companion_of": "Mette",
        "meeting": meeting,
        "seats": 1,
        "companions": 0,
        "waitlist_position": 2,
        "calendar": True,
        "cancel_url": "https://tilmeld.example/cancel?token=t",
        "action_url": "https://tilmeld.example/accept?token=t",
        "network_title": "Gamma",
        "network_contact_email": "kultur@kl.example",
        "changes": ["time"],
        "was": {"when": "2. marts"},
        "subject": "Delta",
        "body_lines": ["Epsilon"],
        "municipality": "Zeta",
        "reason": None,
        "proposal_title": "Eta",
        "title": "Theta",
        "closes": "3. marts",
        "what": "vote",
        "expires": "4. marts",
        "ended_on": "5. marts",
        **more,
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_of_a_network_is_signed_by_its_organiser_with_the_contact_in_the_footer(
    template: str, language: str
) -> None:
    rendered = rendering.render(template, language, context(organiser=ORGANISER))

    words, _, footer = rendered.text.rpartition("\n-- \n")
    assert "KL – Kulturchefnetværket\n" in footer, template
    assert "Anne Holm" in footer and "kultur@kl.example" in footer
    assert not words.rstrip().endswith("Tilmeld")
    html_footer = rendered.html.split("border-top", 1)[1]
    assert 'href="mailto:kultur@kl.example"' in html_footer
    if template != "organiser_message":  # the organiser's own words end theirs
        assert words.rstrip().endswith("\nKL"), template


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_without_a_network_known_here_tilmeld_signs_and_no_contact_is_offered(
    template: str, language: str
) -> None:
    rendered = rendering.render(template, language, context())

    if template != "organiser_message":  # whose footer says why the person receives it
        assert rendered.text.rstrip().endswith("\nTilmeld")
        assert "border-top" not in rendered.html
    assert "mailto:" not in rendered.html


# What each language calls a network, and the words of a title that has it in itself.
NETWORK_WORD = {"da": "netværk", "nb": "nettverk", "de": "netzwerk", "en": "network"}
TITLED = {
    "da": "Kulturnetværket",
    "nb": "Kulturnettverket",
    "de": "Kulturnetzwerk",
    "en": "Culture network",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_subject_says_a_thing_twice(language: str) -> None:
    repeated = {}
    titled = TITLED[language]
    for template in TEMPLATES:
        subject = rendering.render(template, language, context(network_title=titled)).subject
        words = [w for w in re.findall(r"\w+", subject.lower()) if len(w) > 4]
        twice = {w for w in words if words.count(w) > 1}
        if twice or subject.lower().count(NETWORK_WORD[language]) > 1:
            repeated[template] = subject
    assert repeated == {}


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("da", "Din ledsager: Ole", "Dine ledsagere: Ole, Jens"),
        ("nb", "Ledsageren din: Ole", "Ledsagerne dine: Ole, Jens"),
        ("de", "Ihre Begleitperson: Ole", "Ihre Begleitpersonen: Ole, Jens"),
        ("en", "Your companion: Ole", "Your companions: Ole, Jens"),
    ],
)
def test_the_member_sees_their_companions_named(language: str, one: str, two: str) -> None:
    for template in ("registration_confirmed", "registration_promoted", "reminder"):
        alone = rendering.render(template, language, context(companion_names=["Ole"])).text
        both = rendering.render(template, language, context(companion_names=["Ole", "Jens"])).text
        assert one in alone and two in both, template
