"""Signed, single-purpose tokens for self-service links: a person cancels without an account.

A token names its purpose and the id it acts on and carries its expiry, all under an HMAC, so
it cannot be reused for another purpose or record and needs no table.

Rotation: the secret that signs is `TOKEN_SECRET`; the former secrets listed in
`TOKEN_SECRETS_PREVIOUS` still verify, so the links already emailed keep working until the
operator drops the old secret (docs/operations.md, key rotation). The settings hand both over as
one `SigningSecret`: a `str` (the current secret, the only one `issue` signs with) that carries
the ones `verify` also accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import datetime

NEVER = 0


class SigningSecret(str):
    """The secret that signs new tokens, carrying the former ones that still verify."""

    previous: tuple[str, ...]

    def __new__(cls, current: str, previous: Iterable[str] = ()) -> SigningSecret:
        secret = super().__new__(cls, current)
        secret.previous = tuple(dict.fromkeys(old for old in previous if old and old != current))
        return secret

    def __repr__(self) -> str:  # a secret: never in a log line or a traceback
        return f"SigningSecret(<hidden>, previous=<{len(self.previous)} hidden>)"

    def verifying(self) -> tuple[str, ...]:
        """The secrets a token may be signed with: the current one first."""
        return (str(self), *self.previous)


def split_secrets(listed: str) -> list[str]:
    """The comma-separated secrets of a setting, blanks dropped."""
    return [secret.strip() for secret in listed.split(",") if secret.strip()]


def _signature(secret: str, purpose: str, subject: uuid.UUID, expires: int) -> str:
    message = f"{purpose}:{subject}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(secret: str, purpose: str, subject: uuid.UUID, *, expires_at: datetime | None) -> str:
    """A token signed with `secret` (a `SigningSecret` signs with its current secret only)."""
    expires = int(expires_at.timestamp()) if expires_at else NEVER
    return f"{expires}.{_signature(str(secret), purpose, subject, expires)}"


def verify(
    secret: str, purpose: str, subject: uuid.UUID, token: str, *, now: datetime | None
) -> bool:
    """Whether the token was issued for this purpose and subject and, given `now`, has not
    expired. `now=None` checks the signature only, for a caller that judges the time itself
    against the record's current state (a meeting's end can move after a token was issued).
    A `SigningSecret` also accepts a token signed with one of its former secrets."""
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit() or not signature:
        return False
    expires = int(expires_text)
    if now is not None and expires != NEVER and now.timestamp() > expires:
        return False
    secrets = secret.verifying() if isinstance(secret, SigningSecret) else (secret,)
    # Every secret is tried, matched or not, so the time taken says nothing about which one.
    matches = [
        hmac.compare_digest(signature, _signature(candidate, purpose, subject, expires))
        for candidate in secrets
    ]
    return any(matches)
