"""The registration service's configuration: the only place that reads the environment."""

from __future__ import annotations

from typing import ClassVar

from registration.tokens import SigningSecret, split_secrets
from tilmeld_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "registration"
    production_secrets: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.production_secrets,
        "token_secret",
        "personal_data_key",
        "personal_data_token",
    )
    previous_secrets: ClassVar[dict[str, str]] = {
        "token_secrets_previous": "token_secret",
        "personal_data_keys_previous": "personal_data_key",
    }

    port: int = 8001
    metrics_port: int = 9001
    db_pool_max: int = 20
    db_command_timeout_s: float = 5.0

    run_relay: bool = True
    """Whether `serve` also runs the outbox relay. Off where the relay runs as a process of its
    own (`python -m registration relay`), as a cluster deployment does."""
    relay_batch_size: int = 500
    """Outbox events the relay publishes per batch."""
    relay_poll_interval_s: float = 1.0
    """Seconds between the relay's looks at the outbox when no commit woke it."""

    held_check_interval_s: float = 60.0
    """Seconds between looks for meetings that have ended, to mark them `held`."""
    dialogue_clock_interval_s: float = 30.0
    """Seconds between looks for consultations whose window has opened or closed, to open
    (inviting their audience) or close them."""
    series_check_interval_s: float = 60.0
    """Seconds between looks for terms that have ended and for registrations series enrolment
    still owes (each enrolment and scheduling registers its own at once; this catches up)."""
    offer_check_interval_s: float = 60.0
    """Seconds between looks for seat offers that have lapsed, to pass their seats on."""
    offer_hours_default: int = 48
    """Hours a freed seat is held for the person offered it, where neither the meeting nor its
    network sets `offer_hours` (never beyond the meeting's start)."""
    answers_retention_days_default: int = 30
    """Days after a meeting's end its registration answers (dietary needs, accessibility) are
    erased when the meeting sets no `answers_retention_days` of its own."""
    answers_retention_check_interval_s: float = 3600.0
    """Seconds between looks for registration answers whose retention has run out."""
    feedback_days: int = 30
    """Days after a meeting's end its attendees may still give their feedback."""

    token_secret: str = ""
    """Signs the self-service tokens (cancel links, confirmation pages) and the organiser
    console's session cookie."""
    token_secrets_previous: str = ""
    """Comma-separated secrets that verify links and sessions but never sign: the former
    `TOKEN_SECRET` until the longest-lived link it signed has lapsed, and the next one while it
    is staged (operations: key rotation)."""
    personal_data_key: str = ""
    """Base64 of 32 random bytes: wraps each member's data key, which seals their personal data
    in events (`openssl rand -base64 32`)."""
    personal_data_keys_previous: str = ""
    """Comma-separated base64 master keys that unwrap member keys but never wrap: the former
    `PERSONAL_DATA_KEY` until `rotate-personal-data-key` has re-wrapped every member key, and
    the next one while it is staged (operations: key rotation)."""
    personal_data_token: str = ""
    """The credential the notification service presents to have sealed personal data opened."""
    public_base_url: str = "http://127.0.0.1:8001"
    """Base of the links in emails and pages."""

    max_body_bytes: int = 64 * 1024
    """Largest request body accepted; larger ones are answered 413."""
    idempotency_retention_hours: int = 48
    """Hours an `Idempotency-Key` answer is kept for retries."""

    # Meeting documents (agenda papers, slides): their bytes in an object store.
    document_store_url: str = ""
    """`s3://bucket/prefix` for an S3-compatible store (with the settings below), or
    `file:///dir`; empty: the directory DOCUMENTS_DIR."""
    documents_dir: str = ""
    """Directory of the documents when no DOCUMENT_STORE_URL is set (`make run`: in
    `.devstack/documents`); empty: a folder of the system's temporary directory."""
    document_store_endpoint: str = ""
    """The S3 endpoint (e.g. `https://minio.internal:9000`); empty: AWS's for the region."""
    document_store_region: str = ""
    """The bucket's region; empty: AWS_REGION or us-east-1."""
    document_store_access_key_id: str = ""
    """S3 access key; empty: the AWS_* environment or the instance's role."""
    document_store_secret_access_key: str = ""
    """S3 secret key; empty: the AWS_* environment or the instance's role."""
    document_max_bytes: int = 20 * 1024 * 1024
    """Largest document accepted (20 MiB); the upload is cut off with a 413 past it."""
    virus_scan_command: str = ""
    """A command that scans each upload before it is stored, given the file on standard input
    (e.g. `clamdscan --no-summary -`): exit 0 clean, 1 infected (refused, 422), anything else
    is a scanner failure (503, nothing stored). Empty: no scan."""
    virus_scan_timeout_s: float = 60.0
    """Seconds the scan command may take before the upload is refused as unscanned (503)."""

    # Organisers signing in with their organisation's OpenID Connect provider (bearer JWTs).
    oidc_issuer: str = ""
    """OpenID Connect issuer whose organisation-scoped bearer JWTs are accepted (with the
    audience; both set to turn it on)."""
    oidc_audience: str = ""
    """Audience the JWTs must name."""
    oidc_jwks_url: str = ""
    """Where the provider's signing keys are; empty: found through the issuer's discovery."""

    notification_url: str = "http://127.0.0.1:8002"
    """The notification service, asked what it holds on a person when they are exported."""
    reporting_url: str = "http://127.0.0.1:8003"
    """The reporting service, asked what it holds on a person when they are exported."""

    # Empty is right while the web pages are served by this service itself.
    cors_allowed_origins: str = ""
    """Comma-separated origins whose pages may call the API from a browser; empty: CORS off."""

    # Counted per process unless the storage is shared (several replicas).
    rate_limit_per_address: str = "30/minute"
    """Public POSTs per client address (limits' notation, e.g. `30/minute`; empty: off)."""
    rate_limit_per_email: str = "10/hour"
    """Public POSTs per email address (empty: off)."""
    rate_limit_dialogue_per_email: str = "60/hour"
    """Votes, responses and topic proposals per email address (empty: off); the per-address
    limit holds for them too. A refused one is stored nowhere and never counted."""
    rate_limit_storage: str = "async+memory://"
    """Where the rate limits count, e.g. `async+redis://redis:6379` to share between replicas."""
    max_active_registrations_per_email: int = 20
    """Active registrations (confirmed or waitlisted, meeting not over) one person may hold."""
    # Without SMTPUTF8 no email can reach an address whose local part is not ASCII (jürgen@…);
    # an internationalised domain alone needs nothing: it travels as IDNA.
    smtp_accepts_smtputf8: bool = False
    """Whether notification's SMTP server offers SMTPUTF8; without it a sign-up with an address
    whose local part is not ASCII (`jürgen@…`) is refused (422); an internationalised domain
    alone is fine. Notification sends such addresses with SMTPUTF8 and marks them `dead` at once
    on a server without it. `make run` sets it for its catcher."""

    @property
    def effective_personal_data_token(self) -> str:
        # Development: derived from the organiser token, as the notification service derives it.
        return self.personal_data_token or f"dev-only-personal-data:{self.organiser_token}"

    @property
    def effective_token_secret(self) -> SigningSecret:
        # Development without a secret still signs tokens, with one derived from the organiser's.
        current = self.token_secret or f"dev-only:{self.organiser_token}"
        return SigningSecret(current, split_secrets(self.token_secrets_previous))
