"""The notification service's configuration: the only place that reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        validation_alias=AliasChoices("NOTIFICATION_DATABASE_URL", "DATABASE_URL")
    )
    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices(
            "NOTIFICATION_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        )
    )
    kafka_group_id: str = "tilmeld-notification"
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
    reminder_lead: str = "24h"
    max_attempts: int = 8
    host: str = "127.0.0.1"
    port: int = Field(8002, validation_alias=AliasChoices("NOTIFICATION_PORT", "PORT"))
    log_level: str = "INFO"
