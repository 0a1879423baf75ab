"""What every service's `Settings` has in common, and the one check that guards production.

Each service subclasses `ServiceSettings`, names itself (`service = "registration"`) and adds
its own fields. A field documents itself with the docstring under it, which is what
`docs/configuration.md` shows (`python -m tilmeld_shared.settings_doc`).

Environment names: a field is read from its upper-case name (`LOG_LEVEL`). The settings that
locate or size a service's own resources (`per_service`) are read from the service's own name
first and the shared one second (`REGISTRATION_DATABASE_URL`, then `DATABASE_URL`), so one
environment can serve all three services and still split them where a deployment needs to.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What the local stack (`make run`) and the tests use; production refuses each of them.
DEVELOPMENT_SECRETS = frozenset({"dev-organiser-token", "dev-reporting-token", "dev-only-password"})


class ServiceSettings(BaseSettings):
    """The settings every service has; a subclass per service adds the rest."""

    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    service: ClassVar[str] = ""
    # Read as `<SERVICE>_<NAME>` first, then `<NAME>`.
    per_service: ClassVar[tuple[str, ...]] = (
        "database_url",
        "migration_database_url",
        "kafka_bootstrap_servers",
        "kafka_enable_idempotence",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "host",
        "port",
        "metrics_port",
        "db_pool_min",
        "db_pool_max",
        "db_command_timeout_s",
        "log_level",
    )
    # Production refuses to start while one of these is blank or a development value.
    production_secrets: ClassVar[tuple[str, ...]] = ("organiser_token", "reporting_token")
    # Former secrets still accepted during a rotation (comma-separated), each with the field of
    # the current one. Secrets too: never shown; production refuses the current one among them.
    previous_secrets: ClassVar[dict[str, str]] = {}

    environment: Literal["development", "production"] = "development"
    """`production` refuses to start without its secrets, or with a development value for one."""
    database_url: str
    """Postgres; each service keeps to its own schema."""
    migration_database_url: str = ""
    """Postgres as the schema's owner role, for `migrate` (the service itself runs as its app
    role); empty: migrations use the database URL."""
    kafka_bootstrap_servers: str
    """Kafka bootstrap servers, comma-separated."""
    kafka_enable_idempotence: bool = True
    """Idempotent Kafka producer (the relay's, the consumers' dead-letter producer), with
    `acks=all`: keep it on for Apache Kafka, so a retried send is never written twice or out
    of order; `make run` turns it off for Tansu, whose InitProducerId fails."""
    kafka_create_topics: bool = True
    """Create a missing topic at startup; `false` where the platform owns the topics (Strimzi
    KafkaTopics): a missing topic then stops the service before it is ready, naming the topic."""
    kafka_topic_partitions: int = 3
    """Partitions of each topic the service creates (existing topics are left alone)."""
    kafka_replication_factor: int = 1
    """Replication factor of each topic the service creates."""
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """How every Kafka client connects: in clear, over TLS, with SASL, or SASL over TLS."""
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    """SASL mechanism (with a `SASL_*` protocol); PLAIN sends the password itself, so only
    over `SASL_SSL`."""
    kafka_sasl_username: str = ""
    """SASL user (with a `SASL_*` protocol); one per service lets the broker's ACLs give each
    only its own topics and group."""
    kafka_sasl_password: str = ""
    """SASL password (with a `SASL_*` protocol); production refuses a blank one."""
    kafka_ssl_cafile: str = ""
    """PEM file of the CA that signed the brokers' certificates (with `SSL`/`SASL_SSL`);
    empty: the system's CAs."""
    kafka_ssl_certfile: str = ""
    """PEM client certificate, for brokers that authenticate clients by TLS (mutual TLS)."""
    kafka_ssl_keyfile: str = ""
    """PEM private key of the client certificate (empty: it is in the certificate file)."""
    organiser_token: str = ""
    """Bearer token of the platform administrator (writes, rosters, exports, erasure); also
    what the services present to each other for a member's export, the event log and counts."""
    reporting_token: str = ""
    """Bearer token for reports, and for notifications without their addresses."""
    host: str = "127.0.0.1"
    """Address the HTTP and metrics ports are bound to."""
    port: int
    """HTTP port (public: the API, pages and health checks)."""
    metrics_port: int
    """Port answering `GET /metrics` (Prometheus); expose it to the scraper only."""
    header_timeout_s: float = 10.0
    """Seconds a client has to send a request's headers (from its first byte); slower: 408."""
    body_timeout_s: float = 30.0
    """Seconds a client then has to send the body; slower: 408 and the connection closed."""
    forwarded_allow_ips: str = "127.0.0.1,::1"
    """Peers (addresses or CIDR networks, comma-separated) whose `X-Forwarded-For` names the
    client; behind a load balancer or ingress, its addresses. From any other peer the header is
    ignored, so a client cannot choose the address the per-address rate limit counts."""
    db_pool_min: int = 1
    """Database connections the process keeps open."""
    db_pool_max: int = 10
    """Database connections the process may open at most."""
    db_command_timeout_s: float = 10.0
    """Seconds a database statement may take before it is abandoned."""
    log_level: str = "INFO"
    """JSON log lines at this level and above (ids, routes and timings; never names or emails)."""
    otel_traces_exporter: Literal["none", "otlp", "console"] = "none"
    """Where OpenTelemetry traces go: `otlp` (to `OTEL_EXPORTER_OTLP_ENDPOINT`), `console`
    (stdout, for a look by hand) or `none`, the default: no provider, nothing recorded or sent."""
    otel_exporter_otlp_endpoint: str = ""
    """Base URL of the OTLP/HTTP collector (`http://otel-collector:4318`); traces go to its
    `/v1/traces`. Empty: the SDK's default, `http://localhost:4318`."""
    otel_traces_sampler_arg: float = 1.0
    """Share of new traces recorded, 0 to 1; a request that arrives traced keeps its caller's
    choice, and a registration's trace is kept or dropped whole."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.service:
            return
        fields = cls.model_fields  # each class holds its own copy of every field
        for name in cls.per_service:
            fields[name].validation_alias = AliasChoices(*cls.environment_names(name))
        for name in (*cls.production_secrets, *cls.previous_secrets):
            fields[name].repr = False  # a secret is never in a repr, a log line or a traceback
        for name, field in fields.items():
            # A service that only changes a default keeps the meaning written above.
            if field.description is None and name in ServiceSettings.model_fields:
                field.description = ServiceSettings.model_fields[name].description
        cls.model_rebuild(force=True)

    @classmethod
    def environment_names(cls, field: str) -> tuple[str, ...]:
        """The variables a field is read from, in the order they are tried."""
        if field in cls.per_service and cls.service:
            return (f"{cls.service}_{field}".upper(), field.upper())
        return (field.upper(),)

    @classmethod
    def variable(cls, field: str) -> str:
        """How an error message names a field's variables: `REPORTING_PORT or PORT`."""
        return " or ".join(cls.environment_names(field))

    @model_validator(mode="after")
    def _refuse_development_values_in_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = [
            f"{self.variable(name)} is not set"
            for name in self.production_secrets
            if not getattr(self, name)
        ]
        problems += [
            f"{self.variable(name)} is a development value"
            for name in self.production_secrets
            if getattr(self, name) in DEVELOPMENT_SECRETS
        ]
        problems += [
            f"{self.variable(name)} uses the development database password"
            for name in ("database_url", "migration_database_url")
            if _password(getattr(self, name)) in DEVELOPMENT_SECRETS
        ]
        for previous, current in self.previous_secrets.items():
            former = {secret.strip() for secret in getattr(self, previous).split(",")} - {""}
            if getattr(self, current).strip() in former:
                problems.append(
                    f"{self.variable(previous)} repeats {self.variable(current)}: a former "
                    "secret must differ from the current one"
                )
            if former & DEVELOPMENT_SECRETS:
                problems.append(f"{self.variable(previous)} holds a development value")
        if self.kafka_security_protocol.startswith("SASL"):
            problems += [
                f"{self.variable(name)} is not set (KAFKA_SECURITY_PROTOCOL="
                f"{self.kafka_security_protocol})"
                for name in ("kafka_sasl_username", "kafka_sasl_password")
                if not getattr(self, name).strip()
            ]
        if (self.kafka_security_protocol, self.kafka_sasl_mechanism) == ("SASL_PLAINTEXT", "PLAIN"):
            problems.append("KAFKA_SASL_MECHANISM=PLAIN would send the Kafka password in clear")
        if problems:
            raise ValueError(f"ENVIRONMENT=production, but {'; '.join(problems)}")
        return self


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:  # not a URL we can read; the database will say what is wrong with it
        return None
