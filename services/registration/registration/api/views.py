"""Mapping database rows to response bodies."""

from __future__ import annotations

import asyncpg

from registration.api.schemas import (
    EnrolmentOut,
    EnrolmentRosterItem,
    MeetingOut,
    NetworkOut,
    RegistrationOut,
    RegistrationRosterItem,
)


def network(row: asyncpg.Record) -> NetworkOut:
    return NetworkOut(
        network_id=row["id"], **{k: row[k] for k in NetworkOut.model_fields if k != "network_id"}
    )


def meeting(row: asyncpg.Record, *, show_online_url: bool = False) -> MeetingOut:
    """The meeting; its online link only for its organisers (`show_online_url`), everyone
    else learns that it is online. Participants get the link by their own channels."""
    fields = {
        k: row[k]
        for k in MeetingOut.model_fields
        if k not in {"meeting_id", "seats_available", "waitlist_length", "online", "online_url"}
    }
    return MeetingOut(
        meeting_id=row["id"],
        seats_available=max(row["capacity"] - row["seats_taken"], 0),
        waitlist_length=row["waitlist_length"],
        online=row["online_url"] is not None,
        online_url=row["online_url"] if show_online_url else None,
        **fields,
    )


def enrolment(row: asyncpg.Record, *, cancel_token: str | None = None) -> EnrolmentOut:
    return EnrolmentOut(
        enrolment_id=row["id"],
        member_id=row["member_id"],
        network_id=row["network_id"],
        status=row["status"],
        cancel_token=cancel_token,
    )


def registration(
    row: asyncpg.Record, *, waitlist_position: int | None = None, cancel_token: str | None = None
) -> RegistrationOut:
    return RegistrationOut(
        registration_id=row["id"],
        meeting_id=row["meeting_id"],
        member_id=row["member_id"],
        status=row["status"],
        seats=row["seats"],
        waitlist_position=waitlist_position,
        checked_in_at=row["checked_in_at"],
        cancel_token=cancel_token,
    )


def enrolment_roster_item(row: asyncpg.Record) -> EnrolmentRosterItem:
    return EnrolmentRosterItem(**dict(row))


def registration_roster_item(row: asyncpg.Record) -> RegistrationRosterItem:
    return RegistrationRosterItem(**dict(row))
