"""What the use cases are asked to do: the validated input of each command.

Every string is bounded and unknown fields are refused, so bad input fails loudly, as invalid
input naming the field, before a use case runs. The API takes these as its request bodies.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal, Self
from zoneinfo import available_timezones

from babel import Locale
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from tilmeld_shared.events import Language, SealedPersonalData
from tilmeld_shared.validation import INVISIBLE, JSON_INTEGER, LINE_BREAKS, Rfc3339

# Text people type: no control characters and no lone surrogates (which the database cannot
# store), and something besides white space. The pattern tells clients (and fuzzers) the same.
# (Lone surrogates are refused too, but a pattern naming them defeats most generators.)
# One-line text (names above all, which go into emails) also has no line or paragraph
# separator and nothing invisible or bidirectional that could break or reorder a line there.
_SINGLE_LINE = LINE_BREAKS + INVISIBLE
_MULTI_LINE = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
_ONE_LINE_TEXT = Field(
    json_schema_extra={"pattern": f"^[^{_SINGLE_LINE}]*[^\\s{_SINGLE_LINE}][^{_SINGLE_LINE}]*$"}
)
_MULTI_LINE_TEXT = Field(
    json_schema_extra={"pattern": f"^[^{_MULTI_LINE}]*[^\\s{_MULTI_LINE}][^{_MULTI_LINE}]*$"}
)


def _printable(value: str, *, allowed: str = "") -> str:
    for char in value:
        code = ord(char)
        if ((code < 32 or code == 127) and char not in allowed) or 0xD800 <= code <= 0xDFFF:
            raise ValueError("contains a control character or an invalid one")
    return value


_NOT_IN_ONE_LINE = re.compile(rf"[{_SINGLE_LINE}\ud800-\udfff]")


def _one_line(value: str) -> str:
    if _NOT_IN_ONE_LINE.search(value):
        raise ValueError("contains a line break, a control character or an invisible one")
    return value


def _lines(value: str) -> str:
    return _printable(value, allowed="\t\n\r")


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
    _ONE_LINE_TEXT,
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_one_line),
    _ONE_LINE_TEXT,
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_lines),
    _MULTI_LINE_TEXT,
]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
# Counts, as JSON Schema's integers: 5.0 is 5, while 5.5, "5" and true are 422.
Companions = Annotated[StrictInt, Field(ge=0, le=10), JSON_INTEGER]
Capacity = Annotated[StrictInt, Field(ge=0, le=100_000), JSON_INTEGER]
_TIMEZONES = available_timezones()
# ISO 3166-1 alpha-2 codes, as CLDR (through Babel) knows them, less its groupings (EU, UN, ...).
_COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "QO", "ZZ"}
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberIn(Request):
    name: Name
    email: Email
    municipality: Name | None = Field(
        None,
        description="As the person writes it, e.g. 'Rødovre Kommune'; kept as typed and resolved "
        "to the register (GET /municipalities) where it names exactly one entry.",
    )
    municipality_id: uuid.UUID | None = Field(
        None, description="The register's id, instead of the name (or beside it)."
    )
    role: Name
    organisation: Name | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _a_municipality(self) -> MemberIn:
        if self.municipality is None and self.municipality_id is None:
            raise ValueError("give municipality (a name) or municipality_id")
        return self


class EnrolmentIn(Request):
    member: MemberIn
    consent: Literal[True] = Field(
        description="The person agrees that the organiser keeps their data for the network."
    )


class CompanionIn(Request):
    name: Name
    role: Name | None = None
    email: Email | None = None


class AnswerIn(Request):
    """An answer to one of the meeting's questions: the option as written for a choice, a
    whole number for a scale, text for a text question."""

    question_id: uuid.UUID
    value: Annotated[StrictInt, JSON_INTEGER] | LongText


class RegistrationIn(Request):
    member: MemberIn
    companions: list[CompanionIn] = Field(default_factory=list, max_length=10)
    answers: list[AnswerIn] = Field(
        default_factory=list,
        max_length=20,
        description="Answers to the meeting's questions (e.g. dietary needs); kept sealed and "
        "erased answers_retention_days after the meeting.",
    )


class FeedbackIn(Request):
    """An attendee's feedback on a held meeting, with the token from their feedback link."""

    registration_id: uuid.UUID
    token: ShortText
    answers: list[AnswerIn] = Field(default_factory=list, max_length=20)


_NEEDS_SMTPUTF8 = PydanticCustomError(
    "address_needs_smtputf8",
    "our mail server cannot deliver to an address with characters beyond ASCII before the @; "
    "please give another address",
)


def check_deliverable(command: EnrolmentIn | RegistrationIn, *, smtputf8: bool) -> None:
    """Refuse, as invalid input naming the field, an address our mail server cannot write to:
    a local part beyond ASCII (jürgen@…) needs a server with SMTPUTF8. An internationalised
    domain alone needs nothing (it travels as IDNA)."""
    if smtputf8:
        return
    addresses: list[tuple[tuple[str | int, ...], str | None]] = [
        (("member", "email"), command.member.email)
    ]
    if isinstance(command, RegistrationIn):
        addresses += [
            (("companions", number, "email"), companion.email)
            for number, companion in enumerate(command.companions)
        ]
    refused = [
        InitErrorDetails(type=_NEEDS_SMTPUTF8, loc=where, input=address)
        for where, address in addresses
        if address and not address.rpartition("@")[0].isascii()
    ]
    if refused:
        raise ValidationError.from_exception_data(type(command).__name__, refused)


class CancelIn(Request):
    token: ShortText | None = None


class ContactIn(Request):
    name: Name
    title: Name | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Email | None = None


class MessageIn(Request):
    """An organiser's message to a meeting's participants: a one-line subject (the rules of a
    name: it becomes an email's subject) and a plain-text body, to whom by their status."""

    subject: Name
    body: LongText
    to: Literal["confirmed", "waitlisted", "all"]


class SpeakerIn(Request):
    name: Name
    title: ShortText | None = None


Membership = Literal["people", "municipalities"]
Admission = Literal["open", "application"]
Waitlist = Literal["automatic", "offer"]
Proposals = Literal["off", "moderated", "open"]
# How long an offered seat is held for the person it is offered to.
OfferHours = Annotated[StrictInt, Field(ge=1, le=720), JSON_INTEGER]
RetentionDays = Annotated[StrictInt, Field(ge=0, le=3650), JSON_INTEGER]
ScalePoint = Annotated[StrictInt, Field(ge=-100, le=100), JSON_INTEGER]
# A scale has at most this many points (0..10 is the widest in common use).
_MOST_SCALE_POINTS = 11


class QuestionIn(Request):
    """A question asked at registration (e.g. dietary needs) or as feedback afterwards. A
    choice has its options; a scale its least and greatest value (1 to 5 unless said)."""

    question_id: uuid.UUID | None = Field(
        None, description="Kept when a question is edited; a new question gets one."
    )
    text: ShortText
    kind: Literal["text", "choice", "scale"]
    options: list[ShortText] = Field(default_factory=list, max_length=30)
    required: StrictBool = False
    min: ScalePoint | None = None
    max: ScalePoint | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.kind == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice needs at least two options")
            if len({option.casefold() for option in self.options}) != len(self.options):
                raise ValueError("a choice's options must differ")
        elif self.options:
            raise ValueError(f"options are for a choice, not for a {self.kind} question")
        if self.kind == "scale":
            least, greatest = self.min if self.min is not None else 1, self.max or 5
            if greatest <= least or greatest - least + 1 > _MOST_SCALE_POINTS:
                raise ValueError(f"a scale runs from min to max: 2 to {_MOST_SCALE_POINTS} points")
            self.min, self.max = least, greatest
        elif self.min is not None or self.max is not None:
            raise ValueError(f"min and max are for a scale, not for a {self.kind} question")
        return self


def _distinct_questions(questions: list[QuestionIn] | None) -> list[QuestionIn] | None:
    if questions is not None:
        ids = [question.question_id for question in questions if question.question_id]
        if len(set(ids)) != len(ids):
            raise ValueError("each question_id may appear once")
    return questions


Questions = Annotated[list[QuestionIn], Field(max_length=20), AfterValidator(_distinct_questions)]


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


def _without_null(schema: dict[str, Any]) -> None:
    # The document of a field `_kept` made: its value, without the null branch or default.
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


def _kept(**constraints: Any) -> Any:
    """A PATCH field that may be left out (None: unchanged) but not sent as null, since it must
    keep a value; the OpenAPI document offers no null for it either."""
    return Field(None, json_schema_extra=_without_null, **constraints)


class Patch(Request):
    @model_validator(mode="after")
    def _kept_fields_stay_set(self) -> Self:
        nulled = sorted(
            name
            for name, field in type(self).model_fields.items()
            if field.json_schema_extra is _without_null
            and name in self.model_fields_set
            and getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave a field out to keep it")
        return self


class NetworkPatch(Patch):
    title: Name | None = _kept()
    description: LongText | None = _kept()
    purpose: LongText | None = None
    target_group: LongText | None = None
    organisers: list[Name] | None = _kept(min_length=1, max_length=20)
    language: Language | None = _kept()
    max_companions: Companions | None = _kept()
    contact: ContactIn | None = None
    period: ShortText | None = None
    status: Literal["open", "closed"] | None = _kept()
    membership: Membership | None = _kept()
    admission: Admission | None = _kept()
    applications_close_at: Rfc3339 | None = None
    auto_register: StrictBool | None = _kept()
    term_ends_at: Rfc3339 | None = None
    waitlist: Waitlist | None = _kept()
    offer_hours: OfferHours | None = None
    proposals: Proposals | None = _kept()


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _TIMEZONES:
        raise ValueError("not an IANA time zone, e.g. Europe/Copenhagen")
    return value


# At most this many of a meeting's seats per municipality; None: no share.
SeatsPerMunicipality = Annotated[StrictInt, Field(ge=1, le=100_000), JSON_INTEGER]


class MunicipalityIn(Request):
    """A body the register lacks, e.g. a German Kreis."""

    name: Name
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] = Field(
        description="ISO 3166-1 alpha-2, e.g. DE"
    )
    code: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None
    ) = Field(None, description="The official number, e.g. a German Kreisschlüssel")
    kind: Literal["municipality", "county", "region", "district"]
    aliases: list[Name] = Field(default_factory=list, max_length=20)

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        value = value.upper()
        if value not in _COUNTRIES:
            raise ValueError("not an ISO 3166-1 alpha-2 country code, e.g. DE")
        return value


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
    title: Name | None = _kept()
    description: LongText | None = None
    starts_at: Rfc3339 | None = _kept()
    ends_at: Rfc3339 | None = _kept()
    timezone: str | None = _kept(max_length=64)
    location: ShortText | None = None
    online_url: HttpUrl | None = None
    capacity: Capacity | None = _kept()
    registration_deadline: Rfc3339 | None = None
    open_to_public: StrictBool | None = _kept()
    speakers: list[SpeakerIn] | None = _kept(max_length=50)
    seats_per_municipality: SeatsPerMunicipality | None = None
    co_hosts: CoHosts | None = _kept()
    agenda: list[AgendaItemIn] | None = _kept(max_length=50)
    waitlist: Waitlist | None = None
    offer_hours: OfferHours | None = None
    questions: Questions | None = _kept()
    answers_retention_days: RetentionDays | None = None
    feedback: Questions | None = _kept()

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


class PartyContactIn(Request):
    """The person who speaks for the municipality in the network."""

    name: Name
    email: Email
    role: Name
    language: Language | None = None


class PartyIn(Request):
    """A municipality joins or applies to a network: by its register id or by its name."""

    municipality_id: uuid.UUID | None = None
    municipality: Name | None = Field(
        None, description="A name the register resolves, e.g. 'Rødovre Kommune'."
    )
    contact: PartyContactIn
    statement: LongText | None = None

    @model_validator(mode="after")
    def _one_municipality(self) -> PartyIn:
        if (self.municipality_id is None) == (self.municipality is None):
            raise ValueError("give either municipality_id or municipality")
        return self


class DecisionIn(Request):
    reason: LongText | None = None


class WithdrawIn(Request):
    token: ShortText | None = None
    reason: LongText | None = None


class OrganisationIn(Request):
    name: Name


class ApiKeyIn(Request):
    name: Name = Field(description="What the key is for, e.g. 'KL culture team'.")
    role: Literal["organiser", "reporting"] = "organiser"


# Sealed personal data the notification service asks to have opened (no docstring: it would
# become the schema's description in the API document).
class OpenIn(BaseModel):
    items: list[SealedPersonalData] = Field(max_length=1000)
