"""What an organiser asks of a network: to create it, or to change it (a PATCH keeps what it
leaves out)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from registration.service.commands.fields import (
    Companions,
    Email,
    LongText,
    Name,
    Patch,
    Request,
    ShortText,
    kept,
)
from tilmeld_shared.events import Language
from tilmeld_shared.validation import JSON_INTEGER, Rfc3339


class ContactIn(Request):
    name: Name
    title: Name | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Email | None = None


Membership = Literal["people", "municipalities"]
Admission = Literal["open", "application"]
Waitlist = Literal["automatic", "offer"]
Proposals = Literal["off", "moderated", "open"]
# How long an offered seat is held for the person it is offered to.
OfferHours = Annotated[StrictInt, Field(ge=1, le=720), JSON_INTEGER]


class NetworkIn(Request):
    title: Name
    description: LongText
    purpose: LongText | None = None
    target_group: LongText | None = None
    organisers: list[Name] = Field(min_length=1, max_length=20)
    language: Language
    max_companions: Companions = 1
    contact: ContactIn | None = None
    period: ShortText | None = None
    organisation_id: uuid.UUID | None = Field(
        None,
        description="The platform administrator may name the organisation; an organisation's "
        "organiser creates networks of their own organisation.",
    )
    membership: Membership = Field(
        "people", description="Whether people or municipalities (parties) are its members."
    )
    admission: Admission = Field(
        "open", description="Parties join at once (open) or apply for an organiser's decision."
    )
    applications_close_at: Rfc3339 | None = None
    auto_register: StrictBool = Field(
        False,
        description="Series enrolment: enrolling registers the member for every upcoming "
        "members' meeting, including those scheduled later.",
    )
    term_ends_at: Rfc3339 | None = Field(None, description="Enrolments end then.")
    waitlist: Waitlist = Field(
        "automatic",
        description="A freed seat goes to the next person at once (automatic) or is offered "
        "to them for offer_hours (offer). A meeting may say otherwise for itself.",
    )
    offer_hours: OfferHours | None = None
    proposals: Proposals = Field(
        "off",
        description="Whether members propose topics: not at all, for an organiser's review "
        "(moderated), or published at once (open).",
    )


class NetworkPatch(Patch):
    title: Name | None = kept()
    description: LongText | None = kept()
    purpose: LongText | None = None
    target_group: LongText | None = None
    organisers: list[Name] | None = kept(min_length=1, max_length=20)
    language: Language | None = kept()
    max_companions: Companions | None = kept()
    contact: ContactIn | None = None
    period: ShortText | None = None
    status: Literal["open", "closed"] | None = kept()
    membership: Membership | None = kept()
    admission: Admission | None = kept()
    applications_close_at: Rfc3339 | None = None
    auto_register: StrictBool | None = kept()
    term_ends_at: Rfc3339 | None = None
    waitlist: Waitlist | None = kept()
    offer_hours: OfferHours | None = None
    proposals: Proposals | None = kept()
