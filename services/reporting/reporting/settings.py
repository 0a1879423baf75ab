"""The reporting service's configuration: the only place that reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        validation_alias=AliasChoices("REPORTING_DATABASE_URL", "DATABASE_URL")
    )
    # Migrations run as the schema's owner role, the service as its app role (least privilege,
    # see tilmeld_shared/roles.py); without it, migrations use DATABASE_URL.
    migration_database_url: str = Field(
        "",
        validation_alias=AliasChoices("REPORTING_MIGRATION_DATABASE_URL", "MIGRATION_DATABASE_URL"),
    )
    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices(
            "REPORTING_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        )
    )
    # The dead-letter producer: on for Apache Kafka, off for Tansu.
    kafka_enable_idempotence: bool = True
    kafka_group_id: str = "tilmeld-reporting"
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    batch_max_records: int = Field(
        500, validation_alias=AliasChoices("BATCH_MAX_RECORDS", "REPORTING_BATCH_MAX_RECORDS")
    )
    # The registration service: its event log (rebuild), counts (reconcile), outbox (dashboard).
    registration_url: str = "http://127.0.0.1:8001"
    # Organisation-scoped readers with JWTs from an OpenID Connect provider (both to turn on).
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    organiser_token: str = ""
    reporting_token: str = ""
    host: str = "127.0.0.1"
    port: int = Field(8003, validation_alias=AliasChoices("REPORTING_PORT", "PORT"))
    # `GET /metrics` is answered on this port, never on the public one: publish only `port`.
    metrics_port: int = Field(
        9003, validation_alias=AliasChoices("REPORTING_METRICS_PORT", "METRICS_PORT")
    )
    # A client must send a request's headers within this of starting it, and its body within
    # the next; slower ones get 408 and are cut off (see tilmeld_shared/serving.py).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    log_level: str = "INFO"
