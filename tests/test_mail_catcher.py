"""The local stack's SMTP catcher (devstack/smtp.py): what it takes and how its mailbox answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from devstack.smtp import MailCatcher, mailbox_app


async def send(catcher: MailCatcher, recipient: str, subject: str = "Hej") -> None:
    message = EmailMessage()
    message["From"] = "no-reply@tilmeld.example"
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content("Hej.")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=catcher.port)


@pytest.fixture
async def mailbox(smtp: MailCatcher) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mailbox_app(smtp))
    async with httpx.AsyncClient(transport=transport, base_url="http://mailbox") as client:
        yield client


async def test_the_mailbox_answers_404_for_a_mail_that_never_arrived(
    smtp: MailCatcher, mailbox: httpx.AsyncClient
) -> None:
    await send(smtp, "karen@ishoj.example", subject="Den eneste")

    shown = await mailbox.get("/mails/1")
    unknown = [
        (await mailbox.get(path)).status_code
        for path in ("/mails/2", "/mails/0", "/mails/-1", "/mails/2/raw", "/mails/0/raw")
    ]

    assert shown.status_code == 200 and "Den eneste" in shown.text
    assert unknown == [404] * 5


async def test_the_catcher_takes_an_address_with_a_non_ascii_local_part(
    smtp: MailCatcher,
) -> None:
    await send(smtp, "jürgen@bücher.example")

    (mail,) = smtp.wait_for(lambda m: m.is_to("jürgen@bücher.example"))
    assert mail.message["To"] == "jürgen@bücher.example"
