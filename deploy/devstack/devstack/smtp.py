"""An SMTP catcher: a real SMTP server (aiosmtpd) that keeps what arrives, with a web mailbox."""

from __future__ import annotations

import email
import email.policy
import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse


@dataclass(frozen=True)
class CaughtMail:
    number: int
    received_at: float
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes = b""  # as it arrived: headers in UTF-8 (SMTPUTF8) read as they were written

    def is_to(self, address: str) -> bool:
        """Whether the mail went to this address (an international domain in either form)."""
        local, _, domain = address.rpartition("@")
        wanted = {address.lower(), f"{local}@{domain.encode('idna').decode()}".lower()}
        return any(recipient.lower() in wanted for recipient in self.recipients)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachments(self, content_type: str) -> list[str]:
        return [
            part.get_content()
            if isinstance(part.get_content(), str)
            else part.get_content().decode()
            for part in self.message.walk()
            if part.get_content_type() == content_type
        ]


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        scripted = self.catcher.next_scripted_reply()
        if scripted is not None:
            return scripted
        self.catcher.keep(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


class MailCatcher:
    """Offers SMTPUTF8 (RFC 6531) as most servers do today: addresses may have a non-ASCII
    local part. `smtputf8=False` plays a server that does not."""

    def __init__(self, *, port: int, store_dir: Path | None = None, smtputf8: bool = True) -> None:
        self.port = port
        self.store_dir = store_dir
        self.mails: list[CaughtMail] = []
        self._lock = threading.Lock()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8
        )
        self._script: list[str] = []
        self.refused = 0

    def reply_next_with(self, *replies: str) -> None:
        """Answer the next messages with these replies (e.g. `421 4.3.0 Busy`) instead of
        accepting them; a test's way to make a real SMTP server fail on cue."""
        with self._lock:
            self._script.extend(replies)

    def next_scripted_reply(self) -> str | None:
        with self._lock:
            if not self._script:
                return None
            self.refused += 1
            return self._script.pop(0)

    def start(self) -> None:
        if self.store_dir:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.store_dir.glob("*.eml")):
                self.keep_raw(path.read_bytes(), save=False)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def keep(self, mail_from: str, recipients: list[str], content: bytes) -> None:
        self.keep_raw(content, mail_from=mail_from, recipients=recipients)

    def keep_raw(
        self,
        content: bytes,
        *,
        mail_from: str = "",
        recipients: list[str] | None = None,
        save: bool = True,
    ) -> None:
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            number = len(self.mails) + 1
            self.mails.append(
                CaughtMail(
                    number,
                    time.time(),
                    mail_from,
                    recipients or [str(message["To"])],
                    message,
                    content,
                )
            )
        if save and self.store_dir:
            (self.store_dir / f"{number:06d}.eml").write_bytes(content)

    def numbered(self, number: int) -> CaughtMail | None:
        """The mail with this number (from 1, as the mailbox shows them), if it arrived."""
        with self._lock:
            # A list index would read 0 and below from the end.
            return self.mails[number - 1] if 1 <= number <= len(self.mails) else None

    def to(self, address: str) -> list[CaughtMail]:
        with self._lock:
            return [m for m in self.mails if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(
        self, predicate: Callable[[CaughtMail], bool], *, count: int = 1, timeout_s: float = 10
    ) -> list[CaughtMail]:
        """Block until `count` caught mails match, or raise TimeoutError."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                found = [m for m in self.mails if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                if len(found) < count:
                    raise TimeoutError(f"{len(found)} of {count} expected mails arrived")
                return found
            time.sleep(0.02)


# Long on purpose: the mailbox's routes are small closures over the catcher, read together.
def mailbox_app(catcher: MailCatcher) -> FastAPI:
    """The catcher's web mailbox: a list, each mail readable, and a JSON view for scripts."""
    app = FastAPI(title="Tilmeld mailbox (development SMTP catcher)")

    def caught(number: int) -> CaughtMail:
        mail = catcher.numbered(number)
        if mail is None:
            raise HTTPException(404, f"No mail number {number}.")
        return mail

    @app.get("/", response_class=HTMLResponse)
    async def inbox() -> str:
        rows = "".join(
            f"<tr><td>{m.number}</td><td>{html.escape(', '.join(m.recipients))}</td>"
            f"<td><a href='/mails/{m.number}'>{html.escape(m.subject)}</a></td>"
            f"<td>{time.strftime('%H:%M:%S', time.localtime(m.received_at))}</td></tr>"
            for m in reversed(catcher.mails)
        )
        return (
            "<!doctype html><meta charset=utf-8><title>Tilmeld mailbox</title>"
            "<meta http-equiv=refresh content=5>"
            "<style>body{font-family:system-ui;margin:2rem}td,th{padding:.3rem .8rem;"
            "text-align:left}tr:nth-child(even){background:#f3f3f3}</style>"
            f"<h1>Mailbox</h1><p>{len(catcher.mails)} mail(s) caught on SMTP port "
            f"{catcher.port}.</p><table><tr><th>#</th><th>To</th><th>Subject</th>"
            f"<th>Received</th></tr>{rows}</table>"
        )

    @app.get("/mails/{number}", response_class=HTMLResponse)
    async def show(number: int) -> str:
        mail = caught(number)
        calendars = "".join(
            f"<h2>Calendar invitation</h2><pre>{html.escape(c)}</pre>"
            for c in mail.attachments("text/calendar")
        )
        return (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(mail.subject)}</title>"
            "<style>body{font-family:system-ui;margin:2rem}pre{background:#f6f6f6;"
            "padding:1rem;white-space:pre-wrap}</style><p><a href='/'>&larr; Mailbox</a></p>"
            f"<h1>{html.escape(mail.subject)}</h1><p>To: {html.escape(', '.join(mail.recipients))}"
            f"<br>Language: {html.escape(str(mail.message['Content-Language']))}</p>"
            f"<pre>{html.escape(mail.text)}</pre>{calendars}"
            f"<p><a href='/mails/{number}/raw'>Raw message</a></p>"
        )

    @app.get("/mails/{number}/raw", response_class=PlainTextResponse)
    async def raw(number: int) -> str:
        return caught(number).message.as_string()

    @app.get("/api/mails")
    async def as_json() -> list[dict[str, Any]]:
        return [
            {
                "number": m.number,
                "to": m.recipients,
                "subject": m.subject,
                "language": str(m.message["Content-Language"]),
                "text": m.text,
            }
            for m in catcher.mails
        ]

    return app
