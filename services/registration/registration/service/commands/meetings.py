"""What an organiser asks of a meeting: to schedule it (with speakers, an agenda, co-hosts,
questions), to change it, to record one already held, to write to its participants."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    Field,
    HttpUrl,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from registration.service.commands.fields import (
    Capacity,
    LongText,
    Name,
    Patch,
    Request,
    ShortText,
    kept,
)
from registration.service.commands.networks import OfferHours, Waitlist
from registration.service.commands.people import RegistrationIn
from registration.service.commands.questions import Questions
from tilmeld_shared.validation import JSON_INTEGER, Rfc3339


class MessageIn(Request):
    """An organiser's message to a meeting's participants: a one-line subject (the rules of a
    name: it becomes an email's subject) and a plain-text body, to whom by their status."""

    subject: Name
    body: LongText
    to: Literal["confirmed", "waitlisted", "all"]


class SpeakerIn(Request):
    name: Name
    title: ShortText | None = None


RetentionDays = Annotated[StrictInt, Field(ge=0, le=3650), JSON_INTEGER]


class AgendaItemIn(Request):
    starts_at: Rfc3339 | None = None
    title: ShortText
    speakers: list[Name] = Field(default_factory=list, max_length=20)
    proposal_id: uuid.UUID | None = Field(
        None, description="A member's topic proposal this item takes up."
    )


def _distinct_hosts(hosts: list[uuid.UUID] | None) -> list[uuid.UUID] | None:
    if hosts is not None and len(set(hosts)) != len(hosts):
        raise ValueError("each co-host may appear once")
    return hosts


CoHosts = Annotated[list[uuid.UUID], Field(max_length=10), AfterValidator(_distinct_hosts)]


_TIMEZONES = available_timezones()


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _TIMEZONES:
        raise ValueError("not an IANA time zone, e.g. Europe/Copenhagen")
    return value


# At most this many of a meeting's seats per municipality; None: no share.
SeatsPerMunicipality = Annotated[StrictInt, Field(ge=1, le=100_000), JSON_INTEGER]


class MeetingIn(Request):
    title: Name
    description: LongText | None = None
    starts_at: Rfc3339
    ends_at: Rfc3339
    timezone: str = Field("Europe/Copenhagen", max_length=64)
    location: ShortText | None = None
    online_url: HttpUrl | None = None
    capacity: Capacity
    registration_deadline: Rfc3339 | None = None
    open_to_public: StrictBool = False
    speakers: list[SpeakerIn] = Field(default_factory=list, max_length=50)
    seats_per_municipality: SeatsPerMunicipality | None = Field(
        None,
        description="At most this many confirmed seats per municipality (member and companions); "
        "the rest wait for their municipality's seat. Unset: no share.",
    )
    co_hosts: CoHosts = Field(
        default_factory=list,
        description="Other networks of the organisation holding the meeting together with this "
        "one: their members may register, and it is listed and counted under each.",
    )
    agenda: list[AgendaItemIn] = Field(default_factory=list, max_length=50)
    waitlist: Waitlist | None = Field(None, description="Unset: the network's rule.")
    offer_hours: OfferHours | None = None
    questions: Questions = Field(
        default_factory=list,
        description="Asked at registration, e.g. dietary needs or accessibility.",
    )
    answers_retention_days: RetentionDays | None = Field(
        None, description="The answers are erased this many days after the meeting ends."
    )
    feedback: Questions = Field(
        default_factory=list, description="Asked of those who attended, once it is held."
    )

    _tz = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _times_in_order(self) -> MeetingIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.registration_deadline and self.registration_deadline > self.starts_at:
            raise ValueError("registration_deadline must not be after starts_at")
        return self


class MeetingPatch(Patch):
    title: Name | None = kept()
    description: LongText | None = None
    starts_at: Rfc3339 | None = kept()
    ends_at: Rfc3339 | None = kept()
    timezone: str | None = kept(max_length=64)
    location: ShortText | None = None
    online_url: HttpUrl | None = None
    capacity: Capacity | None = kept()
    registration_deadline: Rfc3339 | None = None
    open_to_public: StrictBool | None = kept()
    speakers: list[SpeakerIn] | None = kept(max_length=50)
    seats_per_municipality: SeatsPerMunicipality | None = None
    co_hosts: CoHosts | None = kept()
    agenda: list[AgendaItemIn] | None = kept(max_length=50)
    waitlist: Waitlist | None = None
    offer_hours: OfferHours | None = None
    questions: Questions | None = kept()
    answers_retention_days: RetentionDays | None = None
    feedback: Questions | None = kept()

    _tz = field_validator("timezone")(_check_timezone)


class HeldRegistrationIn(RegistrationIn):
    registered_at: Rfc3339
    attended: StrictBool = False


class HeldMeetingIn(MeetingIn):
    """A meeting that has already been held, with who registered (when) and who came."""

    registrations: list[HeldRegistrationIn] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _registered_while_open(self) -> HeldMeetingIn:
        closed = self.registration_deadline or self.starts_at
        if any(registration.registered_at >= closed for registration in self.registrations):
            raise ValueError("each registered_at must be before registration closed (starts_at)")
        return self
