"""Event contracts: the envelope, unknown types and fields, and unreadable messages."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from tilmeld_shared.events import (
    EVENT_TYPES,
    MemberErased,
    UnreadableEvent,
    new_envelope,
    read_envelope,
)


def test_an_envelope_round_trips_with_its_typed_payload() -> None:
    payload = MemberErased(member_id=uuid.uuid4(), erased_at=datetime.now(UTC))
    envelope = new_envelope(
        payload, aggregate_id=payload.member_id, aggregate_version=1, correlation_id="c-1"
    )

    read, typed = read_envelope(envelope.model_dump_json().encode())

    assert read.event_id == envelope.event_id
    assert typed == payload


def test_readers_ignore_fields_added_later_and_skip_unknown_types() -> None:
    payload = MemberErased(member_id=uuid.uuid4(), erased_at=datetime.now(UTC))
    raw = json.loads(
        new_envelope(
            payload, aggregate_id=payload.member_id, aggregate_version=1, correlation_id="c"
        ).model_dump_json()
    )
    raw["payload"]["added_in_a_later_version"] = True
    raw["new_envelope_field"] = 1

    _, typed = read_envelope(json.dumps(raw).encode())
    _, unknown = read_envelope(json.dumps({**raw, "event_type": "SomethingNew"}).encode())

    assert typed == payload
    assert unknown is None


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"event_id": "x"}'])
def test_malformed_messages_are_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadableEvent):
        read_envelope(raw)


def test_a_newer_schema_version_is_unreadable_rather_than_misread() -> None:
    payload = MemberErased(member_id=uuid.uuid4(), erased_at=datetime.now(UTC))
    raw = json.loads(
        new_envelope(
            payload, aggregate_id=payload.member_id, aggregate_version=1, correlation_id="c"
        ).model_dump_json()
    )
    raw["schema_version"] = 99

    with pytest.raises(UnreadableEvent):
        read_envelope(json.dumps(raw).encode())


def test_every_contract_event_type_is_defined() -> None:
    contract = {
        "NetworkCreated",
        "NetworkUpdated",
        "MemberEnrolled",
        "EnrolmentCancelled",
        "MeetingScheduled",
        "MeetingUpdated",
        "MeetingCancelled",
        "RegistrationConfirmed",
        "RegistrationWaitlisted",
        "RegistrationPromoted",
        "RegistrationCancelled",
        "AttendanceRecorded",
        "MemberErased",
    }

    assert contract <= EVENT_TYPES.keys()
