"""Mapping database rows to response bodies."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel

from registration.api.schemas import (
    EnrolmentOut,
    EnrolmentRosterItem,
    MeetingOut,
    NetworkOut,
    PartyContactOut,
    PartyOut,
    RegistrationOut,
    RegistrationRosterItem,
)
from registration.service.enrolments import Enrolled
from registration.service.parties import Applied
from registration.service.registrations import Registered
from registration.unit_of_work import Answer


def answer(status: int, body: BaseModel) -> Answer:
    """A response as an Idempotency-Key stores it."""
    return status, body.model_dump(mode="json")


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
        # A seat on offer is held for its person: not available to anyone else.
        seats_available=max(row["capacity"] - row["seats_taken"] - row.get("seats_on_offer", 0), 0),
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


def enrolled(result: Enrolled) -> EnrolmentOut:
    """A new enrolment, with the person's cancel token."""
    return enrolment(result.enrolment, cancel_token=result.cancel_token)


def registered(result: Registered) -> RegistrationOut:
    """A new registration, with its waitlist position and the person's cancel token."""
    return registration(
        result.registration,
        waitlist_position=result.waitlist_position,
        cancel_token=result.cancel_token,
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
        companions_arrived=list(row.get("companions_arrived") or []),
        cancel_token=cancel_token,
    )


def enrolment_roster_item(row: asyncpg.Record) -> EnrolmentRosterItem:
    return EnrolmentRosterItem(**dict(row))


def registration_roster_item(
    row: asyncpg.Record, answers: dict[str, str | int] | None = None
) -> RegistrationRosterItem:
    given = [{"question_id": key, "value": value} for key, value in (answers or {}).items()]
    return RegistrationRosterItem(**dict(row), answers=given)


def party(row: asyncpg.Record, *, in_full: bool, withdraw_token: str | None = None) -> PartyOut:
    """A party; its statement, the decline's reason and the contact only `in_full` (for the
    network's organisers)."""
    contact = None
    if in_full and row["contact_member_id"] is not None:
        erased = row["contact_name"] is None
        contact = PartyContactOut(
            name=row["contact_name"],
            email=row["contact_email"],
            role=None if erased else row["contact_role"],
            language=row["contact_language"],
        )
    return PartyOut(
        party_id=row["id"],
        network_id=row["network_id"],
        municipality_id=row["municipality_id"],
        municipality=row["municipality"],
        country=row["country"],
        municipality_code=row["municipality_code"],
        municipality_kind=row["municipality_kind"],
        status=row["status"],
        applied_at=row["applied_at"],
        decided_at=row["decided_at"],
        joined_at=row["joined_at"],
        statement=row["statement"] if in_full else None,
        reason=row["reason"] if in_full else None,
        contact=contact,
        withdraw_token=withdraw_token,
    )


def applied(result: Applied) -> PartyOut:
    """A new party, for whoever applied: no contact echoed, the contact's withdraw token."""
    return party(result.party, in_full=False, withdraw_token=result.withdraw_token)
