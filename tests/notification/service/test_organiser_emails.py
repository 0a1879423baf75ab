"""Emails sent on a network's behalf look like its organisers' own, through a real SMTP server:
their name as the sender's (at the configured address, which SPF and DKIM vouch for), replies
to the network's contact, a footer naming both; a reschedule says the old time and the new; the
member and their companion each see the other named."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

import asyncpg

from devstack.smtp import CaughtMail, MailCatcher
from notification import rendering
from tests.builders import PERSONAL_DATA
from tests.notification.conftest import NOW, Meeting, Network
from tests.notification.service.test_dialogue import Consultation, proposal
from tests.notification.service.test_meeting_messages import message
from tests.notification.service.test_offers import offered
from tests.notification.service.test_parties import delivered
from tests.notification.service.test_term_ended import ended
from tilmeld_shared.events import (
    MeetingUpdated,
    MemberEnrolled,
    NetworkCreated,
    NetworkUpdated,
    PartyApplied,
    PersonalData,
    ProposalPublished,
    RegistrationConfirmed,
    RegistrationWaitlisted,
)

Handle = Callable[..., Any]
SENDER = "no-reply@tilmeld.example"  # the address notification_settings sends from
CONTACT = "kultur@kl.example"
LEAVE = "https://tilmeld.example.org/networks/n/leave"


def network_event(
    network: Network,
    cls: type[NetworkCreated] = NetworkCreated,
    *,
    contact_email: str | None = CONTACT,
    contact_name: str | None = "Anne Holm",
    organisers: tuple[str, ...] = ("KL",),
) -> tuple[Any, Any]:
    payload = cls(
        network_id=network.id,
        title=network.title,
        language=network.language,
        max_companions=1,
        status="open",
        organisers=list(organisers),
        contact_name=contact_name,
        contact_email=contact_email,
    )
    return network.event(payload, aggregate_id=network.id)


def in_network(network: Network, **kwargs: Any) -> Meeting:
    meeting = Meeting(**kwargs)
    meeting.network_id = network.id
    return meeting


def part(mail: CaughtMail, subtype: str) -> str:
    body = mail.message.get_body((subtype,))
    assert body is not None, subtype
    return str(body.get_content())


def text_of(mail: CaughtMail) -> str:
    return part(mail, "plain")


def html_of(mail: CaughtMail) -> str:
    return part(mail, "html")


def to(mails: list[CaughtMail], address: str) -> CaughtMail:
    [mail] = [m for m in mails if m.is_to(address)]
    return mail


async def test_a_confirmation_comes_from_the_organiser_and_replies_reach_the_networks_contact(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(title="Kulturchefnetværket")
    meeting = in_network(network)
    await handle(
        network_event(network),
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", companion_email="ole@ishoj.example"
        ),
    )

    mails = await delivered(pool, database_url, smtp)

    member, companion = to(mails, "karen@ishoj.example"), to(mails, "ole@ishoj.example")
    for mail in (member, companion):
        name, address = parseaddr(str(mail.message["From"]))
        assert (name, address) == ("KL – Kulturchefnetværket", SENDER)
        assert mail.mail_from == SENDER  # the envelope's sender too: SPF holds
        assert parseaddr(str(mail.message["Reply-To"]))[1] == CONTACT
        text = text_of(mail)
        assert text.rstrip().endswith(
            "Venlig hilsen\nKL\n-- \nKL – Kulturchefnetværket\n"
            "Spørgsmål? Svar på denne e-mail, eller skriv til Anne Holm på kultur@kl.example."
        )
        footer = html_of(mail).split("border-top", 1)[1]
        assert "KL – Kulturchefnetværket" in footer
        assert f'<a href="mailto:{CONTACT}"' in footer
    # The member sees whom they bring; the companion who brings them.
    assert "Din ledsager: Ole" in text_of(member)
    assert "Karen Hansen har tilmeldt dig som ledsager" in text_of(companion)


async def test_a_reschedule_says_the_old_time_and_the_new_signed_by_the_organiser(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(title="Klimanetværket", language="en")
    meeting = in_network(network, language="en")
    old_start = meeting.starts_at
    await handle(
        network_event(network, organisers=("KL", "Region Hovedstaden")),
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", companion_email="ole@ishoj.example"
        ),
    )
    await delivered(pool, database_url, smtp)
    new_start = old_start + timedelta(days=2, hours=3)

    await handle(
        meeting.scheduled(
            MeetingUpdated,
            starts_at=new_start,
            ends_at=new_start + timedelta(hours=5),
            changed=["starts_at", "ends_at"],
            rescheduled=True,
        )
    )
    mails = await delivered(pool, database_url, smtp)

    old = rendering.format_when(
        old_start, old_start + timedelta(hours=5), "Europe/Copenhagen", "en"
    )
    new = rendering.format_when(
        new_start, new_start + timedelta(hours=5), "Europe/Copenhagen", "en"
    )
    moved = [m for m in mails if m.subject.startswith("The meeting has moved")]
    assert sorted(m.recipients[0] for m in moved) == ["karen@ishoj.example", "ole@ishoj.example"]
    for mail in moved:
        text = text_of(mail)
        assert f"New time: {new}." in text and f"Previous time: {old}" in text
        assert parseaddr(str(mail.message["From"]))[0] == "KL, Region Hovedstaden – Klimanetværket"
        assert parseaddr(str(mail.message["Reply-To"]))[1] == CONTACT
        assert "Questions? Reply to this email, or write to Anne Holm at kultur@kl.example." in text
        html = html_of(mail)
        assert new in html and old in html
    assert "Karen Hansen registered you for as their companion" in text_of(
        to(moved, "ole@ishoj.example")
    )


async def test_the_network_as_it_was_last_changed_signs_and_a_replayed_older_state_does_not(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(title="Kulturmetropolen", language="de")
    meeting = in_network(network, language="de")
    created = network_event(network)
    updated = network_event(
        network,
        NetworkUpdated,
        contact_email="team@kulturmetropolen.example",
        contact_name=None,
        organisers=(),
    )
    await handle(created, updated, created)  # the older state again, as a replay brings it

    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )
    [mail] = await delivered(pool, database_url, smtp)

    assert parseaddr(str(mail.message["From"])) == ("Kulturmetropolen", SENDER)
    assert parseaddr(str(mail.message["Reply-To"]))[1] == "team@kulturmetropolen.example"
    assert (
        text_of(mail)
        .rstrip()
        .endswith(
            "Mit freundlichen Grüßen\nKulturmetropolen\n-- \nKulturmetropolen\n"
            "Fragen? Antworten Sie auf diese E-Mail oder schreiben Sie an "
            "team@kulturmetropolen.example."
        )
    )


async def test_an_email_of_a_network_not_known_here_comes_from_tilmeld_as_before(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting(language="en")  # its network's events never came
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )

    [mail] = await delivered(pool, database_url, smtp)

    assert str(mail.message["From"]) == f"Tilmeld <{SENDER}>"
    assert mail.message["Reply-To"] is None
    assert text_of(mail).rstrip().endswith("Kind regards,\nTilmeld")
    assert "border-top" not in html_of(mail)  # no footer to show


async def test_a_network_without_a_contact_address_has_no_reply_to_and_names_its_contact(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(title="Bibliotekernes netværk", language="nb")
    PERSONAL_DATA.update(("Siri Dahl", "siri@bergen.example"))
    enrolled = MemberEnrolled(
        enrolment_id=uuid.uuid4(),
        network_id=network.id,
        network_title=network.title,
        member_id=uuid.uuid4(),
        municipality="Bergen",
        role="Bibliotekar",
        language="nb",
        enrolled_at=NOW,
        personal=PersonalData(
            name="Siri Dahl", email="siri@bergen.example", cancel_url=f"{LEAVE}?token=t"
        ),
    )
    await handle(
        network_event(network, contact_email=None, contact_name="Ola Nordmann", organisers=()),
        network.event(enrolled, aggregate_id=enrolled.enrolment_id),
    )

    [mail] = await delivered(pool, database_url, smtp)

    assert parseaddr(str(mail.message["From"])) == ("Bibliotekernes netværk", SENDER)
    assert mail.message["Reply-To"] is None
    assert mail.subject == "Velkommen til Bibliotekernes netværk"
    assert text_of(mail).rstrip().endswith("-- \nBibliotekernes netværk\nKontakt: Ola Nordmann")
    # The link to leave is labelled by its words in the HTML part, its token out of sight.
    html = html_of(mail)
    assert f'<a href="{LEAVE}?token=t"' in html and f">{LEAVE}" not in html


async def test_every_kind_of_a_networks_email_is_sent_for_its_organiser(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    """Registration, message, seat offer, term end, party, consultation, proposal: each finds
    its network (through its meeting or its own event) and is queued under its organiser's
    name with the contact as Reply-To; only the organisers' own notice of an application is
    not."""
    network = Network(title="Kulturchefnetværket")
    meeting = in_network(network)
    confirmed, waiting = uuid.uuid4(), uuid.uuid4()
    consultation = Consultation()
    consultation.network_id = network.id
    envelope, payload = proposal(ProposalPublished, "published", uuid.uuid4())
    published = (envelope, payload.model_copy(update={"network_id": network.id}))
    await handle(
        network_event(network),
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=confirmed,
            companion_email="ole@ishoj.example",
        ),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=waiting,
            waitlist_position=1,
            email="jonas@koege.example",
        ),
        message(meeting, "confirmed", [confirmed]),
        offered(meeting, waiting),
        ended(network),
        network.party(PartyApplied),
        consultation.invitation(uuid.uuid4(), 1),
        published,
    )

    rows = await pool.fetch("SELECT template, sender_name, reply_to FROM notifications")
    kinds = {row["template"]: (row["sender_name"], row["reply_to"]) for row in rows}
    assert kinds.pop("organiser_party_applied") == (None, None)
    assert set(kinds) >= {
        "registration_confirmed",
        "companion_registered",
        "registration_waitlisted",
        "organiser_message",
        "seat_offered",
        "term_ended",
        "party_applied",
        "consultation_invitation",
        "proposal_published",
    }
    assert set(kinds.values()) == {("KL – Kulturchefnetværket", CONTACT)}
