"""Series enrolment in email: at the end of a network's term the member is told, in their own
language, that their enrolment ended, and invited to the next term with their renew link (once,
whatever is redelivered; nothing for an erased member); an automatic registration says where it
comes from."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from devstack.smtp import MailCatcher
from tests.builders import PERSONAL_DATA
from tests.notification.conftest import NOW, Meeting, Network
from tests.notification.service.test_parties import delivered
from tilmeld_shared.events import EnrolmentEnded, PersonalData, RegistrationConfirmed

Handle = Callable[..., Any]
RENEW = "https://tilmeld.example.org/networks/n/renew?renew=e&token=renew-secret"


def ended(
    network: Network, *, language: str = "da", email: str | None = "karen@helsingor.example"
) -> tuple[Any, Any]:
    PERSONAL_DATA.update(("Karen Holm", *([email] if email else [])))
    enrolment_id = uuid.uuid4()
    payload = EnrolmentEnded(
        enrolment_id=enrolment_id,
        network_id=network.id,
        member_id=uuid.uuid4(),
        municipality="Helsingør",
        language=language,
        cancelled_at=NOW - timedelta(hours=1),
        personal=PersonalData(name="Karen Holm", email=email, action_url=RENEW) if email else None,
    )
    return network.event(payload, aggregate_id=enrolment_id)


@pytest.mark.parametrize(
    ("language", "subject", "invitation"),
    [
        ("da", "Året i Grøn omstilling er slut: meld dig ind", "Meld dig ind i næste"),
        ("nb", "Året i Grøn omstilling er over: meld deg inn", "Meld deg inn for neste"),
        ("de", "Das Jahr in Grøn omstilling ist zu Ende", "Für die nächste Laufzeit beitreten"),
        ("en", "The year in Grøn omstilling has ended: join the next term", "Join the next term"),
    ],
)
async def test_the_member_is_invited_to_the_next_term_in_their_language(
    handle: Handle,
    pool: asyncpg.Pool,
    database_url: str,
    smtp: MailCatcher,
    language: str,
    subject: str,
    invitation: str,
) -> None:
    network = Network(language="da", title="Grøn omstilling")
    await handle(network.created(), ended(network, language=language))

    [mail] = await delivered(pool, database_url, smtp)

    assert mail.message["Content-Language"] == language
    assert mail.subject.startswith(subject)
    assert "Karen Holm" in mail.text
    assert f"{invitation}" in mail.text and RENEW in mail.text
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None and "renew-secret" in html.get_content()
    assert mail.attachments("text/calendar") == []
    row = await pool.fetchrow("SELECT template, language, status FROM notifications")
    assert (row["template"], row["language"], row["status"]) == ("term_ended", language, "sent")


async def test_a_redelivered_term_end_emails_once_and_an_erased_member_not_at_all(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    network = Network()
    event = ended(network)

    await handle(network.created(), event)
    await handle(event)
    await handle(ended(network, email=None))
    mails = await delivered(pool, database_url, smtp)

    assert len(mails) == 1
    assert await pool.fetchval("SELECT count(*) FROM notifications") == 1


async def test_an_automatic_registration_says_it_comes_from_the_series_and_cancels_alone(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(),
        meeting.registration(RegistrationConfirmed, status="confirmed", automatic=True),
        meeting.registration(RegistrationConfirmed, status="confirmed", email="ole@koege.example"),
    )

    await delivered(pool, database_url, smtp)

    [automatic] = smtp.to("karen@ishoj.example")
    [by_hand] = smtp.to("ole@koege.example")
    assert "som medlem af netværkets mødeforløb" in automatic.text
    assert "mødeforløb" not in by_hand.text
