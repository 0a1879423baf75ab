"""The registration API's bodies: the commands it takes (defined with the use cases, in
registration.service.commands) and the shapes it answers with."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from registration.service.commands import (
    ApiKeyIn,
    CancelIn,
    CompanionIn,
    ContactIn,
    DecisionIn,
    EnrolmentIn,
    HeldMeetingIn,
    HeldRegistrationIn,
    MeetingIn,
    MeetingPatch,
    MemberIn,
    MessageIn,
    NetworkIn,
    NetworkPatch,
    OpenIn,
    OrganisationIn,
    PartyContactIn,
    PartyIn,
    RegistrationIn,
    SpeakerIn,
    WithdrawIn,
    check_deliverable,
)
from tilmeld_shared.events import Language, PersonalData

__all__ = [
    "ApiKeyIn",
    "ApiKeyOut",
    "CancelIn",
    "CompanionIn",
    "ContactIn",
    "DecisionIn",
    "EnrolmentIn",
    "EnrolmentOut",
    "EnrolmentRosterItem",
    "HeldMeetingIn",
    "HeldRegistrationIn",
    "MeetingIn",
    "MeetingOut",
    "MeetingPatch",
    "MemberIn",
    "MessageIn",
    "MessageOut",
    "NetworkIn",
    "NetworkOut",
    "NetworkPatch",
    "OpenIn",
    "OpenOut",
    "OrganisationIn",
    "OrganisationOut",
    "Page",
    "PartyContactIn",
    "PartyIn",
    "PartyOut",
    "RegistrationIn",
    "RegistrationOut",
    "RegistrationRosterItem",
    "SpeakerIn",
    "WithdrawIn",
    "check_deliverable",
    "require_deliverable",
]


def require_deliverable(command: EnrolmentIn | RegistrationIn, *, smtputf8: bool) -> None:
    """`check_deliverable` for a JSON body: the API's 422 problem, naming e.g. member.email."""
    try:
        check_deliverable(command, smtputf8=smtputf8)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
        ) from None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class MessageOut(BaseModel):
    message_id: uuid.UUID
    recipients: int = Field(
        description="How many people it will reach: the members of the registrations addressed "
        "and their companions with an email."
    )


class NetworkOut(BaseModel):
    network_id: uuid.UUID
    title: str
    description: str
    purpose: str | None
    target_group: str | None
    organisers: list[str]
    language: Language
    max_companions: int
    contact: dict[str, Any] | None
    period: str | None
    status: str
    organisation_id: uuid.UUID | None
    created_at: datetime
    membership: Literal["people", "municipalities"] = "people"
    admission: Literal["open", "application"] = "open"
    applications_close_at: datetime | None = None
    auto_register: bool = False
    term_ends_at: datetime | None = None
    waitlist: Literal["automatic", "offer"] = "automatic"
    offer_hours: int | None = None
    proposals: Literal["off", "moderated", "open"] = "off"


class MeetingOut(BaseModel):
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    title: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None
    # Whether people meet online. The link itself is for the meeting's organisers and its
    # registered participants (their emails, calendar entries, confirmation page): null to
    # anyone else.
    online: bool
    online_url: str | None
    capacity: int
    seats_taken: int
    seats_available: int
    waitlist_length: int
    registration_deadline: datetime | None
    open_to_public: bool
    speakers: list[dict[str, Any]]
    status: str
    # At most this many confirmed seats per municipality; null: no share.
    seats_per_municipality: int | None = None
    co_hosts: list[uuid.UUID] = Field(default_factory=list)
    agenda: list[dict[str, Any]] = Field(default_factory=list)
    # The meeting's own waitlist rule; null: the network's.
    waitlist: Literal["automatic", "offer"] | None = None
    offer_hours: int | None = None
    questions: list[dict[str, Any]] = Field(default_factory=list)
    answers_retention_days: int | None = None
    feedback: list[dict[str, Any]] = Field(default_factory=list)


class EnrolmentOut(BaseModel):
    enrolment_id: uuid.UUID
    member_id: uuid.UUID
    network_id: uuid.UUID
    # "ended": with the network's term (term_ends_at).
    status: Literal["active", "cancelled", "ended"]
    cancel_token: str | None = None


class RegistrationOut(BaseModel):
    registration_id: uuid.UUID
    meeting_id: uuid.UUID
    member_id: uuid.UUID
    status: Literal["confirmed", "waitlisted", "cancelled"]
    seats: int
    waitlist_position: int | None = None
    checked_in_at: datetime | None = None
    # Which companions (by their place in the registration, from 0) have arrived.
    companions_arrived: list[int] = Field(default_factory=list)
    cancel_token: str | None = None


class EnrolmentRosterItem(BaseModel):
    enrolment_id: uuid.UUID
    member_id: uuid.UUID
    status: str
    name: str | None
    email: str | None
    municipality: str
    # The register entry it resolved to; null: unknown or ambiguous, kept as typed.
    municipality_id: uuid.UUID | None = None
    role: str
    organisation: str | None
    enrolled_at: datetime
    cancelled_at: datetime | None


class RegistrationRosterItem(BaseModel):
    registration_id: uuid.UUID
    member_id: uuid.UUID
    status: str
    seats: int
    name: str | None
    email: str | None
    municipality: str
    municipality_id: uuid.UUID | None = None
    companions: list[dict[str, Any]]
    waitlist_position: int | None
    registered_at: datetime
    checked_in_at: datetime | None
    # Answers to the meeting's questions (e.g. dietary needs); none once erased, which happens
    # answers_retention_days after the meeting.
    answers: list[dict[str, Any]] = Field(default_factory=list)


class PartyContactOut(BaseModel):
    name: str | None = Field(description="null once the person is erased")
    email: str | None
    role: str | None
    language: Language | None


class PartyOut(BaseModel):
    party_id: uuid.UUID
    network_id: uuid.UUID
    municipality_id: uuid.UUID
    municipality: str
    country: str
    municipality_code: str | None
    municipality_kind: Literal["municipality", "county", "region", "district"]
    status: Literal["applied", "joined", "declined", "withdrawn"]
    applied_at: datetime
    decided_at: datetime | None
    joined_at: datetime | None
    # For the network's organisers only (null to anyone else):
    statement: str | None = None
    reason: str | None = None
    contact: PartyContactOut | None = None
    withdraw_token: str | None = Field(
        None, description="Given once, to whoever applied: the contact's withdraw token."
    )


class OrganisationOut(BaseModel):
    organisation_id: uuid.UUID
    name: str
    created_at: datetime


class ApiKeyOut(BaseModel):
    api_key_id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(None, description="Shown once, when the key is created.")


class OpenOut(BaseModel):
    items: list[PersonalData | None] = Field(
        description="In the order asked; null where the member was erased (the key is gone)."
    )
