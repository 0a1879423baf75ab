from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from registration import tokens

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_a_token_opens_only_its_own_purpose_and_record_until_it_expires() -> None:
    subject = uuid.uuid4()
    token = tokens.issue(
        "secret", "cancel-registration", subject, expires_at=NOW + timedelta(days=1)
    )

    assert tokens.verify("secret", "cancel-registration", subject, token, now=NOW)
    assert not tokens.verify("secret", "cancel-enrolment", subject, token, now=NOW)
    assert not tokens.verify("secret", "cancel-registration", uuid.uuid4(), token, now=NOW)
    assert not tokens.verify("other", "cancel-registration", subject, token, now=NOW)
    assert not tokens.verify(
        "secret", "cancel-registration", subject, token, now=NOW + timedelta(days=2)
    )


def test_a_tampered_expiry_breaks_the_signature() -> None:
    subject = uuid.uuid4()
    token = tokens.issue("secret", "p", subject, expires_at=NOW)
    _, _, signature = token.partition(".")

    assert not tokens.verify("secret", "p", subject, f"9999999999.{signature}", now=NOW)
    assert not tokens.verify("secret", "p", subject, "garbage", now=NOW)


def test_without_a_time_only_the_signature_is_checked() -> None:
    # For links whose life follows a record that can change (a meeting's end), the caller
    # judges the time against the record; the token's own expiry then does not decide.
    subject = uuid.uuid4()
    token = tokens.issue("secret", "p", subject, expires_at=NOW)

    assert tokens.verify("secret", "p", subject, token, now=None)
    assert not tokens.verify("secret", "p", subject, token, now=NOW + timedelta(seconds=1))
    assert not tokens.verify("secret", "other", subject, token, now=None)
