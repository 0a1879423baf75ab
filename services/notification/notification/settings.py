"""The notification service's configuration: the only place that reads the environment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import ClassVar

from pydantic import field_validator

from tilmeld_shared.settings import ServiceSettings

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`30s`, `90m`, `24h`, `2d`."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("a duration like 24h, 90m, 2d or 30s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Settings(ServiceSettings):
    service: ClassVar[str] = "notification"
    per_service: ClassVar[tuple[str, ...]] = (*ServiceSettings.per_service, "batch_max_records")
    production_secrets: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.production_secrets,
        "personal_data_token",
    )

    port: int = 8002
    metrics_port: int = 9002

    kafka_group_id: str = "tilmeld-notification"
    """The consumer group; processes in one group share the partitions."""
    # One commit per batch, not per event, is what lets the consumer keep up when
    # registrations arrive by the hundred per second.
    batch_max_records: int = 200
    """Events handled per transaction."""

    smtp_host: str = "127.0.0.1"
    """SMTP server the emails are sent through."""
    smtp_port: int = 1025
    """Its port."""
    smtp_username: str = ""
    """SMTP login (empty: none)."""
    smtp_password: str = ""
    """SMTP password."""
    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS."""
    smtp_timeout_s: float = 10.0
    """Seconds an SMTP exchange may take."""
    # The time per email is mostly waiting for the server and the ledger: more connections
    # send more at once, and a crash still sends at most 8 emails twice (dispatcher.UNMARKED_MAX).
    smtp_connections: int = 8
    """Parallel SMTP connections per dispatch batch."""
    mail_from: str = "Tilmeld <no-reply@tilmeld.example>"
    """The emails' From. Its address sends every email; one sent on a network's behalf shows
    the network's organisers as the name, with the network's contact as Reply-To."""

    registration_url: str = "http://127.0.0.1:8001"
    """The registration service, which opens the sealed personal data in events."""
    personal_data_token: str = ""
    """The credential presented to the registration service to have personal data opened."""

    reminder_lead: str = "24h"
    """How long before a meeting the reminder goes out (`90m`, `24h`, `2d`, `30s`)."""
    consultation_reminder_lead: str = "48h"
    """How long before a consultation closes those invited who have not answered are reminded,
    once; a consultation that closes sooner than this after the invitation reminds nobody."""
    # An archive recorded afterwards, or a topic read again into a fresh database, is history.
    mail_events_within: str = "7d"
    """An event that occurred longer ago than this when it is handled is history, not news:
    nobody is emailed about it."""
    max_attempts: int = 8
    """Sends tried before a notification is `dead`."""
    max_emails_per_recipient_per_hour: int = 30
    """More to one address in an hour are `suppressed`, not sent."""
    dispatch_batch_size: int = 400
    """Due emails the dispatcher claims at a time."""
    reminder_poll_interval_s: float = 5.0
    """Seconds between looks for due reminders."""

    @field_validator("reminder_lead", "consultation_reminder_lead", "mail_events_within")
    @classmethod
    def _lead_is_a_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def effective_personal_data_token(self) -> str:
        # Development: derived from the organiser token, as the registration service derives it.
        return self.personal_data_token or f"dev-only-personal-data:{self.organiser_token}"

    @property
    def reminder_lead_delta(self) -> timedelta:
        return parse_duration(self.reminder_lead)

    @property
    def consultation_reminder_lead_delta(self) -> timedelta:
        return parse_duration(self.consultation_reminder_lead)

    @property
    def mail_events_within_delta(self) -> timedelta:
        return parse_duration(self.mail_events_within)
