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


def test_a_rotated_secret_signs_with_the_current_and_verifies_with_the_former_ones() -> None:
    subject = uuid.uuid4()
    before = tokens.issue("old", "p", subject, expires_at=None)
    rotated = tokens.SigningSecret("new", ["old"])

    after = tokens.issue(rotated, "p", subject, expires_at=None)

    assert after == tokens.issue("new", "p", subject, expires_at=None)  # signed by the new one
    assert not tokens.verify("old", "p", subject, after, now=NOW)
    assert tokens.verify(rotated, "p", subject, before, now=NOW)
    assert tokens.verify(rotated, "p", subject, after, now=NOW)
    # A secret that is not listed opens nothing; nor does a former one another purpose.
    stranger = tokens.issue("unlisted", "p", subject, expires_at=None)
    assert not tokens.verify(rotated, "p", subject, stranger, now=NOW)
    assert not tokens.verify(rotated, "q", subject, before, now=NOW)


def test_a_signing_secret_never_shows_itself_and_drops_a_repeat_of_the_current_one() -> None:
    rotated = tokens.SigningSecret("new-secret", ["old-secret", "new-secret", "", "old-secret"])

    assert rotated.verifying() == ("new-secret", "old-secret")
    assert "secret" not in repr(rotated)
    assert tokens.split_secrets(" a, ,b ,") == ["a", "b"]
