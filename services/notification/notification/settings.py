"""The notification service's configuration: the only place that reads the environment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`30s`, `90m`, `24h`, `2d`."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("a duration like 24h, 90m, 2d or 30s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        validation_alias=AliasChoices("NOTIFICATION_DATABASE_URL", "DATABASE_URL")
    )
    # Migrations run as the schema's owner role, the service as its app role (least privilege,
    # see tilmeld_shared/roles.py); without it, migrations use DATABASE_URL.
    migration_database_url: str = Field(
        "",
        validation_alias=AliasChoices(
            "NOTIFICATION_MIGRATION_DATABASE_URL", "MIGRATION_DATABASE_URL"
        ),
    )
    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices(
            "NOTIFICATION_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        )
    )
    # The dead-letter producer: on for Apache Kafka, off for Tansu.
    kafka_enable_idempotence: bool = True
    kafka_group_id: str = "tilmeld-notification"
    # Events handled per transaction: one commit per batch, not per event, is what lets the
    # consumer keep up when registrations arrive by the hundred per second.
    batch_max_records: int = 200
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0
    mail_from: str = "Tilmeld <no-reply@tilmeld.example>"
    organiser_token: str = ""
    reporting_token: str = ""
    # Personal data in events is sealed; the registration service opens it for this credential.
    registration_url: str = "http://127.0.0.1:8001"
    personal_data_token: str = ""
    reminder_lead: str = "24h"
    # An event that occurred longer ago than this when it is handled is history (an archive
    # recorded afterwards, a topic read again into a fresh database), not news: nobody is
    # emailed about it.
    mail_events_within: str = "7d"
    max_attempts: int = 8
    max_emails_per_recipient_per_hour: int = 30
    dispatch_batch_size: int = 100
    smtp_connections: int = 4
    reminder_poll_interval_s: float = 5.0
    host: str = "127.0.0.1"
    port: int = Field(8002, validation_alias=AliasChoices("NOTIFICATION_PORT", "PORT"))
    # `GET /metrics` is answered on this port, never on the public one: publish only `port`.
    metrics_port: int = Field(
        9002, validation_alias=AliasChoices("NOTIFICATION_METRICS_PORT", "METRICS_PORT")
    )
    # A client must send a request's headers within this of starting it, and its body within
    # the next; slower ones get 408 and are cut off (see tilmeld_shared/serving.py).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    log_level: str = "INFO"

    @field_validator("reminder_lead", "mail_events_within")
    @classmethod
    def _lead_is_a_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _secrets_in_production(self) -> Settings:
        if self.environment == "production" and not (
            self.organiser_token and self.reporting_token and self.personal_data_token
        ):
            raise ValueError(
                "production needs ORGANISER_TOKEN, REPORTING_TOKEN and PERSONAL_DATA_TOKEN"
            )
        return self

    @property
    def effective_personal_data_token(self) -> str:
        # Development: derived from the organiser token, as the registration service derives it.
        return self.personal_data_token or f"dev-only-personal-data:{self.organiser_token}"

    @property
    def reminder_lead_delta(self) -> timedelta:
        return parse_duration(self.reminder_lead)

    @property
    def mail_events_within_delta(self) -> timedelta:
        return parse_duration(self.mail_events_within)
