"""The reporting service's configuration: the only place that reads the environment."""

from __future__ import annotations

from typing import ClassVar

from tilmeld_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "reporting"
    per_service: ClassVar[tuple[str, ...]] = (*ServiceSettings.per_service, "batch_max_records")

    port: int = 8003
    metrics_port: int = 9003

    kafka_group_id: str = "tilmeld-reporting"
    """The consumer group; processes in one group share the partitions."""
    batch_max_records: int = 500
    """Events applied per transaction."""

    registration_url: str = "http://127.0.0.1:8001"
    """The registration service: it checks organisations' API keys, and gives its event log
    for `rebuild`, its counts for `reconcile` and its outbox backlog for the pipeline view."""

    # Organisation-scoped readers with JWTs from an OpenID Connect provider (both to turn on).
    oidc_issuer: str = ""
    """OpenID Connect issuer whose organisation-scoped bearer JWTs are accepted (with the
    audience; both set to turn it on)."""
    oidc_audience: str = ""
    """Audience the JWTs must name."""
    oidc_jwks_url: str = ""
    """Where the provider's signing keys are; empty: found through the issuer's discovery."""
