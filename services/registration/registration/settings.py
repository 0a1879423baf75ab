"""The registration service's configuration: the only place that reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        validation_alias=AliasChoices("REGISTRATION_DATABASE_URL", "DATABASE_URL")
    )
    # Migrations run as the schema's owner role, the service as its app role (least privilege,
    # see tilmeld_shared/roles.py); without it, migrations use DATABASE_URL.
    migration_database_url: str = Field(
        "",
        validation_alias=AliasChoices(
            "REGISTRATION_MIGRATION_DATABASE_URL", "MIGRATION_DATABASE_URL"
        ),
    )
    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices(
            "REGISTRATION_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        )
    )
    # Apache Kafka: on. Tansu's build here fails InitProducerId, so the local stack turns it off.
    kafka_enable_idempotence: bool = True
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1

    organiser_token: str = ""
    reporting_token: str = ""
    # Signs the self-service cancel tokens in confirmations.
    token_secret: str = ""
    # Wraps each member's data key (base64 of 32 random bytes); see personal_data.py.
    personal_data_key: str = ""
    # The credential the notification service presents to have personal data opened.
    personal_data_token: str = ""
    public_base_url: str = "http://127.0.0.1:8001"

    host: str = "127.0.0.1"
    port: int = Field(8001, validation_alias=AliasChoices("REGISTRATION_PORT", "PORT"))
    # `GET /metrics` is answered on this port, never on the public one: publish only `port`.
    metrics_port: int = Field(
        9001, validation_alias=AliasChoices("REGISTRATION_METRICS_PORT", "METRICS_PORT")
    )
    # A client must send a request's headers within this of starting it, and its body within
    # the next; slower ones get 408 and are cut off (see tilmeld_shared/serving.py).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_body_bytes: int = 64 * 1024
    idempotency_retention_hours: int = 48
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 1.0
    db_pool_max: int = 20
    db_command_timeout_s: float = 5.0
    log_level: str = "INFO"

    # Organisers signing in with their organisation's OpenID Connect provider (bearer JWTs):
    # both set to turn it on; the keys come from OIDC_JWKS_URL or the issuer's discovery.
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""

    # The other services, asked for what they hold on a person when it is exported.
    notification_url: str = "http://127.0.0.1:8002"
    reporting_url: str = "http://127.0.0.1:8003"

    # Origins whose pages may call this API from a browser (comma-separated). Empty: CORS off,
    # which is right while the web pages are served by this service itself.
    cors_allowed_origins: str = ""

    # Abuse limits on what anyone may post without a token (limits' notation, e.g. "30/minute";
    # empty turns one off). Counted per process unless the storage is shared, e.g.
    # "async+redis://redis:6379" for several replicas.
    rate_limit_per_address: str = "30/minute"
    rate_limit_per_email: str = "10/hour"
    rate_limit_storage: str = "async+memory://"
    # Active registrations (confirmed or waitlisted, meeting not over) one email may hold.
    max_active_registrations_per_email: int = 20
    # Whether the outgoing mail server (notification's SMTP_HOST) offers SMTPUTF8. Without it
    # no email can reach an address whose local part is not ASCII (jürgen@…), so sign-up
    # refuses one (422). An internationalised domain alone needs nothing: it travels as IDNA.
    smtp_accepts_smtputf8: bool = False

    @model_validator(mode="after")
    def _secrets_in_production(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name in (
                    "organiser_token",
                    "reporting_token",
                    "token_secret",
                    "personal_data_key",
                    "personal_data_token",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"production needs {', '.join(n.upper() for n in missing)}")
        return self

    @property
    def effective_personal_data_token(self) -> str:
        # Development: derived from the organiser token, as the notification service derives it.
        return self.personal_data_token or f"dev-only-personal-data:{self.organiser_token}"

    @property
    def effective_token_secret(self) -> str:
        # Development without a secret still signs tokens, with one derived from the organiser's.
        return self.token_secret or f"dev-only:{self.organiser_token}"
