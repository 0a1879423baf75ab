"""Signed, single-purpose tokens for self-service links: a person cancels without an account.

A token names its purpose and the id it acts on and carries its expiry, all under an HMAC, so
it cannot be reused for another purpose or record and needs no table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime

NEVER = 0


def _signature(secret: str, purpose: str, subject: uuid.UUID, expires: int) -> str:
    message = f"{purpose}:{subject}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(secret: str, purpose: str, subject: uuid.UUID, *, expires_at: datetime | None) -> str:
    expires = int(expires_at.timestamp()) if expires_at else NEVER
    return f"{expires}.{_signature(secret, purpose, subject, expires)}"


def verify(
    secret: str, purpose: str, subject: uuid.UUID, token: str, *, now: datetime | None
) -> bool:
    """Whether the token was issued for this purpose and subject and, given `now`, has not
    expired. `now=None` checks the signature only, for a caller that judges the time itself
    against the record's current state (a meeting's end can move after a token was issued)."""
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit() or not signature:
        return False
    expires = int(expires_text)
    if now is not None and expires != NEVER and now.timestamp() > expires:
        return False
    expected = _signature(secret, purpose, subject, expires)
    return hmac.compare_digest(signature, expected)
