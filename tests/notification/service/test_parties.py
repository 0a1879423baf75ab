"""Municipalities as parties of a network: which emails each party event sends, in whose words,
against real Postgres and through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from devstack.smtp import CaughtMail, MailCatcher
from notification.dispatcher import Dispatcher
from tests.notification.conftest import NOW, Network, notification_settings
from tilmeld_shared.events import (
    MemberErased,
    PartyApplied,
    PartyDeclined,
    PartyJoined,
    PartyWithdrew,
    new_envelope,
)

Handle = Callable[..., Any]
CONTACT = "mette@rodovre.example"
ORGANISER = "kultur@kl.example"


async def delivered(pool: asyncpg.Pool, database_url: str, smtp: MailCatcher) -> list[CaughtMail]:
    """Send everything queued through the SMTP server; the mails it caught."""
    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    while await dispatcher.send_due():
        pass
    return smtp.mails


async def ledger(pool: asyncpg.Pool) -> list[tuple[str, str, str, str]]:
    rows = await pool.fetch(
        "SELECT recipient, template, language, status FROM notifications ORDER BY template"
    )
    return [(r["recipient"], r["template"], r["language"], r["status"]) for r in rows]


async def test_an_application_gets_the_contact_a_receipt_and_tells_the_organiser(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(language="da")
    await handle(network.created(), network.party(PartyApplied, language="de"))

    mails = await delivered(pool, database_url, smtp)

    assert await ledger(pool) == [
        (ORGANISER, "organiser_party_applied", "da", "sent"),
        (CONTACT, "party_applied", "de", "sent"),
    ]
    [receipt] = smtp.to(CONTACT)
    assert receipt.message["Content-Language"] == "de"
    assert receipt.subject == "Bewerbung eingegangen: Rødovre bei Kulturmetropolen"
    assert "Guten Tag Mette Hansen," in receipt.text
    assert "Bewerbung von Rødovre um Aufnahme in das Netzwerk „Kulturmetropolen“" in receipt.text
    assert "token=secret-token" in receipt.text, "the contact's own link to withdraw"
    assert receipt.message.get_body(preferencelist=("html",)) is not None
    assert receipt.attachments("text/calendar") == []
    # The organiser: in the network's language, naming the municipality, nothing secret.
    [notice] = smtp.to(ORGANISER)
    assert notice.message["Content-Language"] == "da"
    assert notice.subject == "Ny ansøgning: Rødovre til Kulturmetropolen"
    assert 'Rødovre har søgt om optagelse i netværket "Kulturmetropolen".' in notice.text
    raw = notice.raw.decode(errors="replace")
    assert "Mette" not in raw and CONTACT not in raw and "token" not in raw
    assert not re.search(r"https?://", notice.text)
    assert len(mails) == 2


async def test_the_organiser_of_a_network_not_kept_here_hears_in_the_events_language(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    network = Network(language="da")  # its NetworkCreated came before this service kept networks

    await handle(network.party(PartyApplied, language="nb", network_title=""))

    [notice] = await pool.fetch(
        "SELECT language, subject FROM notifications WHERE template = 'organiser_party_applied'"
    )
    assert (notice["language"], notice["subject"]) == ("nb", "Ny søknad: Rødovre til Tilmeld")


async def test_an_open_network_welcomes_the_party_and_an_accepted_application_says_so(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(language="nb", title="Kulturskole 3.0")
    await handle(
        network.created(),
        network.party(
            PartyJoined,
            status="joined",
            municipality="Bodø",
            language="nb",
            email="kari@bodo.example",
            decided_at=NOW,
        ),
        network.party(
            PartyJoined,
            status="joined",
            municipality="Tromsø",
            language="nb",
            email="ola@tromso.example",
            applied_at=NOW - timedelta(days=3),
            decided_at=NOW,
            previous_status="applied",
        ),
    )

    await delivered(pool, database_url, smtp)

    [welcome] = smtp.to("kari@bodo.example")
    assert welcome.subject == "Bodø er nå med i Kulturskole 3.0"
    assert "Bodø er nå med i nettverket «Kulturskole 3.0», med deg som kontaktperson." in (
        welcome.text
    )
    assert "godkjent" not in welcome.text
    [accepted] = smtp.to("ola@tromso.example")
    assert accepted.subject == "Søknad godkjent: Tromsø i Kulturskole 3.0"
    assert "Arrangørene har godkjent søknaden fra Tromsø" in accepted.text
    assert "Ansatte i Tromsø kan nå melde seg inn i nettverket" in accepted.text
    assert {template for _, template, _, _ in await ledger(pool)} == {
        "party_joined",
        "party_accepted",
    }, "a decision is news for the contact only"


async def test_a_decline_tells_the_contact_the_organisers_reason(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(language="da")
    reason = "Netværket er for kommunerne i Kulturmetropolen-aftalen."
    await handle(
        network.created(),
        network.party(
            PartyDeclined, status="declined", language="da", decided_at=NOW, reason=reason
        ),
        network.party(
            PartyDeclined,
            status="declined",
            municipality="Gladsaxe",
            language="en",
            email="jens@gladsaxe.example",
            decided_at=NOW,
        ),
    )

    await delivered(pool, database_url, smtp)

    [with_reason] = smtp.to(CONTACT)
    assert with_reason.subject == "Ansøgning afvist: Rødovre i Kulturmetropolen"
    assert "afvist ansøgningen fra Rødovre om optagelse i netværket" in with_reason.text
    assert f"Begrundelse: {reason}" in with_reason.text
    # Where to write with questions: the footer, and a reply reaches the network's contact.
    assert f"Spørgsmål? Svar på denne e-mail, eller skriv til {ORGANISER}." in with_reason.text
    assert with_reason.message["Reply-To"] == ORGANISER
    [without] = smtp.to("jens@gladsaxe.example")
    assert without.subject == "Application declined: Gladsaxe in Kulturmetropolen"
    assert "reason" not in without.text


async def test_a_withdrawal_is_confirmed_to_the_contact_or_told_them_when_an_organiser_withdrew(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network(language="de", title="Kulturverwaltungen im Dialog")
    await handle(
        network.created(),
        network.party(
            PartyWithdrew,
            status="withdrawn",
            municipality="Kreis Steinfurt",
            language="de",
            email="anna@steinfurt.example",
            withdrawn_by="contact",
        ),
        network.party(
            PartyWithdrew,
            status="withdrawn",
            municipality="Kreis Borken",
            language="en",
            email="jonas@borken.example",
            withdrawn_by="organiser",
            reason="No longer in the region's programme.",
        ),
    )

    await delivered(pool, database_url, smtp)

    [confirmed] = smtp.to("anna@steinfurt.example")
    assert (
        confirmed.subject == "Austritt bestätigt: Kreis Steinfurt bei Kulturverwaltungen im Dialog"
    )
    assert "wie gewünscht ist Kreis Steinfurt aus dem Netzwerk" in confirmed.text
    [told] = smtp.to("jonas@borken.example")
    assert told.subject == "Kreis Borken is no longer a party to Kulturverwaltungen im Dialog"
    assert "The organisers have withdrawn Kreis Borken from the network" in told.text
    assert "Their reason: No longer in the region's programme." in told.text
    assert sorted(template for _, template, _, _ in await ledger(pool)) == [
        "party_withdrawn",
        "party_withdrawn_by_organiser",
    ]


async def test_a_party_event_delivered_three_times_sends_each_email_once(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network()
    applied = network.party(PartyApplied)
    joined = network.party(PartyJoined, status="joined")

    await handle(network.created(), applied, applied, joined, applied, joined)
    await delivered(pool, database_url, smtp)
    await handle(applied, joined)  # again, after sending
    await delivered(pool, database_url, smtp)

    assert sorted(m.subject for m in smtp.mails) == [
        "Ansøgning modtaget: Rødovre i Kulturmetropolen",
        "Ny ansøgning: Rødovre til Kulturmetropolen",
        "Rødovre er nu med i Kulturmetropolen",
    ]


async def test_an_erased_contact_gets_nothing_and_the_organiser_still_hears_of_the_application(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    network = Network()

    await handle(
        network.created(),
        network.party(PartyApplied, email=None),
        network.party(PartyDeclined, status="declined", email=None, reason="Nej."),
    )

    assert await ledger(pool) == [(ORGANISER, "organiser_party_applied", "da", "pending")]


async def test_erasing_the_contact_blanks_their_party_emails(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    network = Network()
    contact_id = uuid.uuid4()
    await handle(network.party(PartyApplied, contact_member_id=contact_id))

    erased = MemberErased(member_id=contact_id, erased_at=NOW)
    await handle(
        (
            new_envelope(erased, aggregate_id=contact_id, aggregate_version=1, correlation_id="t"),
            erased,
        )
    )

    assert await ledger(pool) == [
        (ORGANISER, "organiser_party_applied", "da", "pending"),
        ("erased", "party_applied", "da", "suppressed"),
    ]


async def test_applications_past_the_hourly_limit_to_the_organiser_are_held_back(
    pool: asyncpg.Pool, database_url: str
) -> None:
    from notification.service.events import handle_event

    settings = notification_settings(database_url, max_emails_per_recipient_per_hour=2)
    network = Network()
    for municipality in ("Albertslund", "Furesø", "Halsnæs"):
        envelope, payload = network.party(
            PartyApplied, municipality=municipality, email=f"{uuid.uuid4().hex[:8]}@x.example"
        )
        async with pool.acquire() as conn, conn.transaction():
            await handle_event(conn, settings, envelope, payload)

    to_organiser = await pool.fetch(
        "SELECT status FROM notifications WHERE recipient = $1 ORDER BY created_at", ORGANISER
    )
    assert [row["status"] for row in to_organiser] == ["pending", "pending", "suppressed"]
