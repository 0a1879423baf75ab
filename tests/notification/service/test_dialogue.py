"""Member dialogue's emails: invitations, reminders, address confirmations, receipts and the
news of a proposal for its author, against real Postgres and through a real SMTP server
(aiosmtpd): what arrived, in whose words, with which link, and how often."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from devstack.smtp import CaughtMail, MailCatcher
from notification.dispatcher import Dispatcher
from notification.service.consultations import queue_due_consultation_reminders
from notification.service.events import handle_event
from notification.settings import Settings
from tests.builders import PERSONAL_DATA
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    AddressConfirmationRequested,
    ConsultationClosed,
    ConsultationInvitation,
    ConsultationOpened,
    ConsultationState,
    Envelope,
    MemberErased,
    Payload,
    PersonalData,
    ProposalPublished,
    ProposalRejected,
    ProposalScheduled,
    ProposalState,
    ProposalSubmitted,
    Question,
    ResponseSubmitted,
    new_envelope,
)

Handle = Callable[..., Any]
Event = tuple[Envelope, Payload]
BASE = "http://127.0.0.1:8001"


def person(number: int) -> tuple[str, str]:
    name, address = f"Kari Nordmann {number}", f"kari{number}@bodo.example"
    PERSONAL_DATA.update((name, address))
    return name, address


def event(payload: Payload, aggregate_id: uuid.UUID, version: int = 1) -> Event:
    return new_envelope(
        payload, aggregate_id=aggregate_id, aggregate_version=version, correlation_id="t"
    ), payload


class Consultation:
    """A consultation's events as the registration service writes them: the person opened
    (as the opener leaves it), or None once erased."""

    def __init__(self, *, closes_in: timedelta = timedelta(days=5), language: str = "nb") -> None:
        self.id = uuid.uuid4()
        self.network_id = uuid.uuid4()
        self.closes_at = NOW + closes_in
        self.language = language
        self.title = "Kultur for framtida: Medlemsdialog"

    def state(self, cls: type[ConsultationState], status: str) -> Event:
        return event(
            cls(
                consultation_id=self.id,
                network_id=self.network_id,
                network_title="KS Kulturnettverk",
                title=self.title,
                questions=[
                    Question(question_id=uuid.uuid4(), text="Hva forventer dere?", kind="text")
                ],
                opens_at=NOW - timedelta(hours=1),
                closes_at=self.closes_at,
                audience="members",
                status=status,
                language=self.language,
                audience_size=3,
            ),
            self.id,
        )

    def opened(self) -> Event:
        return self.state(ConsultationOpened, "open")

    def closed(self) -> Event:
        return self.state(ConsultationClosed, "closed")

    def invitation(self, member_id: uuid.UUID, number: int, *, language: str = "nb") -> Event:
        name, address = person(number)
        return event(
            ConsultationInvitation(
                consultation_id=self.id,
                network_id=self.network_id,
                member_id=member_id,
                language=language,
                title=self.title,
                closes_at=self.closes_at,
                personal=PersonalData(
                    name=name,
                    email=address,
                    action_url=f"{BASE}/consultations/{self.id}?token=form-{number}",
                ),
            ),
            self.id,
        )

    def response(
        self,
        member_id: uuid.UUID,
        number: int,
        *,
        status: str = "counted",
        response_id: uuid.UUID | None = None,
        amended_at: datetime | None = None,
        language: str = "nb",
        erased: bool = False,
    ) -> Event:
        name, address = person(number)
        response_id = response_id or uuid.uuid5(self.id, str(member_id))
        return event(
            ResponseSubmitted(
                network_id=self.network_id,
                member_id=member_id,
                language=language,
                municipality="Bodø",
                response_id=response_id,
                consultation_id=self.id,
                status=status,
                submitted_at=NOW,
                amended_at=amended_at,
                personal=None
                if erased
                else PersonalData(
                    name=name,
                    email=address,
                    action_url=f"{BASE}/responses/{response_id}?token=amend-{number}",
                ),
            ),
            response_id,
        )


def proposal(cls: type[ProposalState], status: str, proposal_id: uuid.UUID, **more: Any) -> Event:
    name, address = person(99)
    return event(
        cls(
            **{
                "network_id": uuid.uuid4(),
                "member_id": uuid.UUID(int=99),
                "language": "de",
                "municipality": "Kreis Steinfurt",
                "proposal_id": proposal_id,
                "title": "Kultur im ländlichen Raum",
                "body": "Wie erreichen wir Dörfer ohne Kulturhaus?",
                "status": status,
                "counted": True,
                "submitted_at": NOW,
                "decided_at": NOW,
                "personal": PersonalData(
                    name=name, email=address, action_url=f"{BASE}/networks/n/proposals"
                ),
                **more,
            }
        ),
        proposal_id,
    )


async def delivered(pool: asyncpg.Pool, database_url: str, smtp: MailCatcher) -> list[CaughtMail]:
    """Send everything queued through the SMTP server; the mails it caught."""
    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    while await dispatcher.send_due():
        pass
    return smtp.mails


def html_of(mail: CaughtMail) -> str:
    part = mail.message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


async def make_reminders_due(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "UPDATE consultation_invitations SET remind_at = now() - interval '1 second'"
        " WHERE remind_at IS NOT NULL"
    )


async def test_the_invited_get_the_form_link_in_their_language_once_whatever_is_redelivered(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    consultation = Consultation()
    bodo, berlin = uuid.uuid4(), uuid.uuid4()
    invitation = consultation.invitation(bodo, 1)
    again = event(invitation[1], consultation.id)  # the same invitation, published again

    await handle(consultation.opened(), invitation, invitation, again)
    await handle(consultation.invitation(berlin, 2, language="de"))
    mails = await delivered(pool, database_url, smtp)

    assert len(mails) == 2
    [norwegian] = smtp.to("kari1@bodo.example")
    assert norwegian.message["Content-Language"] == "nb"
    assert norwegian.subject == (
        "Vi vil gjerne høre dine synspunkter: Kultur for framtida: Medlemsdialog"
    )
    assert "Hei Kari Nordmann 1" in norwegian.text
    assert "Nettverket «KS Kulturnettverk» ber om dine synspunkter" in norwegian.text
    assert f"Svar på spørreundersøkelsen: {BASE}/consultations/{consultation.id}?token=form-1" in (
        norwegian.text
    )
    html = html_of(norwegian)
    assert f'href="{BASE}/consultations/{consultation.id}?token=form-1"' in html
    assert ">Svar på spørreundersøkelsen</a>" in html, "the form link is the email's button"
    [german] = smtp.to("kari2@bodo.example")
    assert german.subject == "Ihre Meinung ist gefragt: Kultur for framtida: Medlemsdialog"
    assert "token=form-2" in german.text and "token=form-1" not in german.text
    rows = await pool.fetch(
        "SELECT member_id, template FROM notifications ORDER BY template, member_id"
    )
    assert {(r["member_id"], r["template"]) for r in rows} == {
        (bodo, "consultation_invitation"),
        (berlin, "consultation_invitation"),
    }


async def test_the_reminder_goes_once_to_those_who_have_not_answered(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher, settings: Settings
) -> None:
    consultation = Consultation(closes_in=timedelta(days=5))
    silent, pending, counted = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await handle(
        consultation.opened(),
        consultation.invitation(silent, 1),
        consultation.invitation(pending, 2),
        consultation.invitation(counted, 3),
        consultation.response(pending, 2, status="pending"),
        consultation.response(counted, 3, status="counted"),
    )
    await delivered(pool, database_url, smtp)
    smtp.mails.clear()
    assert await queue_due_consultation_reminders(pool, settings) == [], "not due yet"

    await make_reminders_due(pool)
    first = await queue_due_consultation_reminders(pool, settings)
    second = await queue_due_consultation_reminders(pool, settings)
    mails = await delivered(pool, database_url, smtp)

    assert len(first) == 1 and second == []
    [reminder] = mails
    assert reminder.is_to("kari1@bodo.example")
    assert reminder.subject == "Påminnelse: Kultur for framtida: Medlemsdialog stenger snart"
    assert "Du har ennå ikke svart på spørreundersøkelsen «Kultur for framtida: Medlemsdialog»" in (
        reminder.text
    )
    assert "token=form-1" in reminder.text
    [member_id] = await pool.fetchval(
        "SELECT array_agg(member_id) FROM notifications WHERE template = 'consultation_reminder'"
    )
    assert member_id == silent


async def test_a_consultation_closed_or_past_its_closing_reminds_nobody(
    handle: Handle, pool: asyncpg.Pool, settings: Settings
) -> None:
    closed, past = Consultation(), Consultation()
    await handle(
        closed.opened(),
        closed.invitation(uuid.uuid4(), 1),
        past.opened(),
        past.invitation(uuid.uuid4(), 2),
        closed.closed(),
    )
    await make_reminders_due(pool)
    # Its closing time passed while the reminder waited (the service was down, say).
    await pool.execute(
        "UPDATE consultations SET closes_at = now() - interval '1 minute' WHERE id = $1", past.id
    )

    assert await queue_due_consultation_reminders(pool, settings) == []
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE template = 'consultation_reminder'"
        )
        == 0
    )


async def test_a_consultation_closing_within_the_reminder_lead_has_no_reminder(
    handle: Handle, pool: asyncpg.Pool, settings: Settings
) -> None:
    soon = Consultation(closes_in=settings.consultation_reminder_lead_delta - timedelta(hours=1))

    await handle(soon.opened(), soon.invitation(uuid.uuid4(), 1))

    [row] = await pool.fetch("SELECT remind_at FROM consultation_invitations")
    assert row["remind_at"] is None, "the invitation, just sent, says when it closes"
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE template = 'consultation_invitation'"
        )
        == 1
    )


async def test_a_late_invitation_to_a_closed_consultation_is_not_sent(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    consultation = Consultation()

    await handle(
        consultation.opened(), consultation.closed(), consultation.invitation(uuid.uuid4(), 1)
    )

    assert await pool.fetchval("SELECT count(*) FROM notifications") == 0


async def test_two_processes_reminding_at_once_send_each_reminder_once(
    database_url: str, pool: asyncpg.Pool, settings: Settings
) -> None:
    consultation = Consultation()
    async with pool.acquire() as conn, conn.transaction():
        for envelope, payload in [
            consultation.opened(),
            *(consultation.invitation(uuid.uuid4(), n) for n in range(40)),
        ]:
            await handle_event(conn, settings, envelope, payload)
    await make_reminders_due(pool)

    async def one_process() -> list[uuid.UUID]:
        queued = []
        for _ in range(10):
            queued += await queue_due_consultation_reminders(pool, settings, limit=3)
        return queued

    first, second = await asyncio.gather(one_process(), one_process())

    reminders = await pool.fetch(
        "SELECT recipient FROM notifications WHERE template = 'consultation_reminder'"
    )
    assert len(first) + len(second) == len(reminders) == 40
    assert len({r["recipient"] for r in reminders}) == 40
    assert first and second, "both processes took a share"


async def test_a_counted_response_gets_one_receipt_and_each_amendment_a_short_one(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    consultation = Consultation(language="da")
    member = uuid.uuid4()
    counted = consultation.response(member, 1, status="counted", language="da")
    amended = NOW + timedelta(hours=2)

    await handle(
        consultation.opened(),
        consultation.response(member, 1, status="pending", language="da"),
        counted,
        counted,  # redelivered
        event(counted[1], consultation.id),  # the same state published again
    )
    await handle(
        consultation.response(member, 1, amended_at=amended, language="da"),
        consultation.response(member, 1, amended_at=amended, language="da"),
        consultation.response(member, 1, amended_at=amended - timedelta(hours=1), language="da"),
    )
    mails = await delivered(pool, database_url, smtp)

    assert sorted(mail.subject for mail in mails) == [
        "Dine svar er opdateret: Kultur for framtida: Medlemsdialog",
        "Tak for dine svar: Kultur for framtida: Medlemsdialog",
    ]
    updated, receipt = sorted(mails, key=lambda mail: mail.subject)
    assert 'Vi har modtaget dine svar på spørgeskemaet "Kultur for framtida: Medlemsdialog"' in (
        receipt.text
    )
    assert "token=amend-1" in receipt.text and "token=amend-1" in updated.text
    assert "Dine ændrede svar er gemt" in updated.text


async def test_a_response_amended_before_it_counted_gets_the_full_receipt_when_it_counts(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    consultation = Consultation(language="en")
    member = uuid.uuid4()
    amended = NOW + timedelta(minutes=5)

    await handle(
        consultation.response(member, 1, status="pending", language="en"),
        consultation.response(member, 1, status="pending", amended_at=amended, language="en"),
        consultation.response(member, 1, status="counted", amended_at=amended, language="en"),
    )

    rows = await pool.fetch("SELECT template, subject FROM notifications")
    assert [(r["template"], r["subject"]) for r in rows] == [
        ("response_receipt", "Thank you for your answers"),
    ], "no consultation known here: a receipt without its title"


async def test_an_address_confirmation_says_what_it_confirms_with_the_link_once(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = uuid.uuid4()
    requests = []
    for number, (what, language) in enumerate(
        [("response", "nb"), ("proposal", "da"), ("vote", "de")], start=1
    ):
        name, address = person(number)
        requests.append(
            event(
                AddressConfirmationRequested(
                    confirmation_id=uuid.uuid4(),
                    network_id=network,
                    member_id=uuid.uuid4(),
                    language=language,
                    subject=what,
                    requested_at=NOW,
                    personal=PersonalData(
                        name=name, email=address, action_url=f"{BASE}/confirm/{number}?token=c"
                    ),
                ),
                network,
            )
        )
    vote = requests[2]

    await handle(*requests, vote, event(vote[1], network))
    mails = await delivered(pool, database_url, smtp)

    assert len(mails) == 3
    [response] = smtp.to("kari1@bodo.example")
    assert response.subject == "Bekreft adressen din, så svarene dine teller"
    assert f"Bekreft adressen din: {BASE}/confirm/1?token=c" in response.text
    [proposal_mail] = smtp.to("kari2@bodo.example")
    assert proposal_mail.subject == "Bekræft din adresse, så dit forslag tæller"
    [vote_mail] = smtp.to("kari3@bodo.example")
    assert vote_mail.subject == "Bestätigen Sie Ihre Adresse, damit Ihre Stimme zählt"
    html = html_of(vote_mail)
    assert f'<a href="{BASE}/confirm/3?token=c"' in html and ">Adresse bestätigen</a>" in html


async def test_a_proposals_author_hears_it_published_rejected_and_scheduled_once_each(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting(language="de")
    published, rejected = uuid.uuid4(), uuid.uuid4()
    publish = proposal(ProposalPublished, "published", published)
    reason = "Das Thema steht schon auf dem Programm."

    await handle(
        meeting.scheduled(title="Netzwerktreffen Frühjahr", timezone="Europe/Berlin"),
        proposal(ProposalSubmitted, "submitted", published),
        publish,
        publish,
        event(publish[1], published),
        proposal(ProposalRejected, "rejected", rejected, reason=reason),
        proposal(ProposalScheduled, "scheduled", published, meeting_id=meeting.id),
        proposal(ProposalScheduled, "scheduled", published, meeting_id=meeting.id),
    )
    mails = await delivered(pool, database_url, smtp)

    by_subject = {mail.subject.split(":")[0]: mail for mail in mails}
    assert len(mails) == len(by_subject) == 3
    publication = by_subject["Ihr Vorschlag ist veröffentlicht"]
    rejection = by_subject["Ihr Vorschlag wurde nicht aufgenommen"]
    scheduling = by_subject["Ihr Vorschlag steht auf der Tagesordnung"]
    assert "Die anderen Mitglieder können ihn jetzt sehen und für ihn stimmen." in (
        publication.text
    )
    assert f"Begründung: {reason}" in rejection.text
    assert "Tagesordnung des Treffens „Netzwerktreffen Frühjahr“ am" in scheduling.text
    assert str(meeting.starts_at.year) in scheduling.text
    rows = await pool.fetch("SELECT DISTINCT member_id FROM notifications")
    assert [r["member_id"] for r in rows] == [uuid.UUID(int=99)]


async def test_the_hourly_limit_per_recipient_holds_for_dialogue_emails(
    pool: asyncpg.Pool, database_url: str
) -> None:
    capped = notification_settings(database_url, max_emails_per_recipient_per_hour=2)
    consultations = [Consultation() for _ in range(3)]
    member = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        for consultation in consultations:
            envelope, payload = consultation.invitation(member, 1)
            await handle_event(conn, capped, envelope, payload)

    statuses = await pool.fetch("SELECT status FROM notifications ORDER BY created_at, id")
    assert sorted(r["status"] for r in statuses) == ["pending", "pending", "suppressed"]


async def test_erasure_removes_the_invitations_and_answers_and_what_was_not_sent(
    handle: Handle, pool: asyncpg.Pool, settings: Settings
) -> None:
    consultation = Consultation()
    erased, kept = uuid.uuid4(), uuid.uuid4()
    await handle(
        consultation.opened(),
        consultation.invitation(erased, 1),
        consultation.invitation(kept, 2),
        consultation.response(erased, 1, status="pending"),
    )

    await handle(event(MemberErased(member_id=erased, erased_at=NOW), erased))
    await make_reminders_due(pool)
    queued = await queue_due_consultation_reminders(pool, settings)

    held = await pool.fetch("SELECT member_id, name, email FROM consultation_invitations")
    assert [(r["member_id"], r["email"]) for r in held] == [(kept, "kari2@bodo.example")]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM consultation_responses WHERE member_id = $1", erased
        )
        == 0
    )
    [row] = await pool.fetch(
        "SELECT recipient, body_text, status FROM notifications WHERE member_id = $1", erased
    )
    assert (row["recipient"], row["body_text"], row["status"]) == ("erased", "", "suppressed")
    reminded = await pool.fetch(
        "SELECT member_id FROM notifications WHERE id = ANY($1::uuid[])", queued
    )
    assert [r["member_id"] for r in reminded] == [kept]


async def test_an_erased_persons_dialogue_events_write_to_nobody(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    consultation = Consultation()
    member = uuid.uuid4()
    invitation = consultation.invitation(member, 1)
    sealed_only = invitation[1].model_copy(update={"personal": None})

    await handle(
        consultation.opened(),
        event(sealed_only, consultation.id),
        consultation.response(member, 1, erased=True),
    )

    assert await pool.fetchval("SELECT count(*) FROM notifications") == 0
    assert await pool.fetchval("SELECT count(*) FROM consultation_invitations") == 0
