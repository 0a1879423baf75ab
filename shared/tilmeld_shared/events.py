"""Integration events: the envelope on every Kafka message and the payload of each event type.

Contracts are additive only. A consumer reads what it knows and ignores the rest, so a new
optional field never breaks a reader; a change a reader cannot ignore gets a new
`schema_version` (and, for a break in meaning, a new topic suffix).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

SCHEMA_VERSION = 1

TOPIC_NETWORKS = "registration.networks.v1"
TOPIC_ENROLMENTS = "registration.enrolments.v1"
TOPIC_MEETINGS = "registration.meetings.v1"
TOPIC_DIALOGUE = "registration.dialogue.v1"
ALL_TOPICS = (TOPIC_NETWORKS, TOPIC_ENROLMENTS, TOPIC_MEETINGS, TOPIC_DIALOGUE)
# Where a consumer puts a message it can never process, with the error and origin in headers.
DLQ_TOPICS = tuple(f"{topic}.dlq" for topic in ALL_TOPICS)

Language = Literal["da", "nb", "de", "en"]
LANGUAGES: tuple[Language, ...] = ("da", "nb", "de", "en")


class Payload(BaseModel):
    """Base of every event payload: frozen, and tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[str]


class Companion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str
    email: str | None = None


class PersonalData(BaseModel):
    """What notification needs to reach a person; reporting never stores it.

    Kept in one sub-object so it can be removed or encrypted as a unit (erasure, crypto-shredding).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str
    email: str
    companions: list[Companion] = Field(default_factory=list)
    # The person's self-service link carries a secret token: it travels sealed, never in clear.
    cancel_url: str | None = None
    # The link for what this particular email asks of the person (confirm their address, accept
    # an offered seat, answer a consultation, give feedback, renew for the next term): secret
    # tokens again, so sealed too.
    action_url: str | None = None
    # What the person wrote in free text to a consultation's text questions, by question id:
    # personal data, so sealed, and never stored by reporting.
    answers: dict[str, str] = Field(default_factory=dict)


class SealedPersonalData(BaseModel):
    """PersonalData encrypted with the member's own key, which only the registration service
    holds (AES-256-GCM; the member id is the key's id and the associated data). Notification
    has it opened; after erasure the key is gone and the ciphertext stays unreadable."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    member_id: uuid.UUID
    nonce: str  # base64
    ciphertext: str  # base64
    algorithm: Literal["AES-256-GCM"] = "AES-256-GCM"


QuestionKind = Literal["text", "choice", "scale"]


class Question(BaseModel):
    """One question of a consultation, of a meeting's registration form (dietary needs,
    accessibility) or of a meeting's feedback. `options` for a choice; `min`..`max` for a scale."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    question_id: uuid.UUID
    text: str
    kind: QuestionKind
    options: list[str] = Field(default_factory=list)
    required: bool = False
    min: int | None = None
    max: int | None = None


class Answer(BaseModel):
    """An answer to a choice (the option as written) or scale (the number) question. These
    travel in clear so reporting can count them; free-text answers travel sealed
    (PersonalData.answers) and never leave the registration service otherwise."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    question_id: uuid.UUID
    value: str | int


class AgendaItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    starts_at: datetime | None = None
    title: str
    speakers: list[str] = Field(default_factory=list)
    # A member's topic proposal put on the agenda (see ProposalScheduled).
    proposal_id: uuid.UUID | None = None


# --- networks -----------------------------------------------------------------------------------


class NetworkCreated(Payload):
    event_type = "NetworkCreated"
    topic = TOPIC_NETWORKS
    network_id: uuid.UUID
    title: str
    language: Language
    max_companions: int
    status: str
    # The organisation the network belongs to (None: the platform's own), for scoped reports.
    organisation_id: uuid.UUID | None = None
    # Series enrolment: enrolling registers the member for every upcoming member meeting.
    auto_register: bool = False
    # Enrolments end then (EnrolmentEnded); None: they do not end.
    term_ends_at: datetime | None = None
    # How a freed seat reaches the waitlist: at once ("automatic") or as an offer held for
    # `offer_hours` ("offer"); a meeting may say otherwise for itself.
    waitlist: Literal["automatic", "offer"] = "automatic"
    offer_hours: int | None = None
    # Topic proposals: not taken, published after an organiser's review, or published at once.
    proposals: Literal["off", "moderated", "open"] = "off"
    # Who runs the network and how to reach them, for the emails sent on its behalf (sender
    # name, footer, Reply-To). Published on the network's public page, so they travel in clear
    # (organisations' names and the network's own contact, not a member's personal data).
    organisers: list[str] = Field(default_factory=list)
    contact_name: str | None = None
    contact_email: str | None = None


class NetworkUpdated(NetworkCreated):
    event_type = "NetworkUpdated"


# --- parties: municipalities as members of a network -------------------------------------------

MunicipalityKind = Literal["municipality", "county", "region", "district"]


class PartyState(Payload):
    """The full current state of one municipality's party to a network (as RegistrationState is
    for a registration). The municipality is not personal data and travels in clear; the
    contact person travels sealed. A network's own contact address (public on its page) is in
    clear, so the organiser can hear of new applications."""

    topic = TOPIC_NETWORKS
    party_id: uuid.UUID
    network_id: uuid.UUID
    network_title: str = ""
    organisation_id: uuid.UUID | None = None
    municipality_id: uuid.UUID
    municipality: str
    country: str  # ISO 3166-1 alpha-2
    municipality_code: str | None = None
    municipality_kind: MunicipalityKind = "municipality"
    status: Literal["applied", "joined", "declined", "withdrawn"]
    # The status before this event (None for the first): PartyJoined from "applied" is an
    # acceptance, from None an open network's welcome; PartyWithdrew says what was withdrawn.
    previous_status: Literal["applied", "joined"] | None = None
    applied_at: datetime
    decided_at: datetime | None = None
    # The organiser's reason for a decline, written to be sent to the contact.
    reason: str | None = None
    # The contact is stored as a member (sealed with their own key), so MemberErased covers them;
    # their self-service link (withdraw) travels as `personal.cancel_url`.
    contact_member_id: uuid.UUID | None = None
    language: Language
    network_contact_email: str | None = None
    # Plaintext only in memory (never serialised by registration): see SealedPersonalData.
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None


class PartyApplied(PartyState):
    event_type = "PartyApplied"


class PartyJoined(PartyState):
    """Joined: at once in an open network, or on an organiser's acceptance."""

    event_type = "PartyJoined"


class PartyDeclined(PartyState):
    event_type = "PartyDeclined"


class PartyWithdrew(PartyState):
    event_type = "PartyWithdrew"
    withdrawn_by: Literal["contact", "organiser"] = "contact"


# --- enrolments ---------------------------------------------------------------------------------


class MemberEnrolled(Payload):
    event_type = "MemberEnrolled"
    topic = TOPIC_ENROLMENTS
    enrolment_id: uuid.UUID
    network_id: uuid.UUID
    network_title: str = ""
    member_id: uuid.UUID
    municipality: str
    role: str
    language: Language
    enrolled_at: datetime
    # The municipality resolved in the register (None: the name matched no entry, kept as typed).
    municipality_id: uuid.UUID | None = None
    country: str | None = None
    # Plaintext only in memory (never serialised by registration): see SealedPersonalData.
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None
    # Deprecated and never set: the link travels in the sealed personal data.
    cancel_url: str | None = None


class EnrolmentCancelled(Payload):
    event_type = "EnrolmentCancelled"
    topic = TOPIC_ENROLMENTS
    enrolment_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    municipality: str
    language: Language
    cancelled_at: datetime
    cancelled_by: Literal["member", "organiser", "erasure", "term_ended"]
    # As on MemberEnrolled, so a cancellation read before its enrolment still places the member.
    municipality_id: uuid.UUID | None = None
    country: str | None = None
    # Plaintext only in memory (never serialised by registration): see SealedPersonalData.
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None


class EnrolmentEnded(EnrolmentCancelled):
    """The network's term ended (`term_ends_at`): the enrolment ends, and the member is invited
    to the next term (the link, if there is one, in `personal.action_url`)."""

    event_type = "EnrolmentEnded"
    cancelled_by: Literal["member", "organiser", "erasure", "term_ended"] = "term_ended"


class MemberErased(Payload):
    event_type = "MemberErased"
    topic = TOPIC_ENROLMENTS
    member_id: uuid.UUID
    erased_at: datetime


# --- meetings and their registrations ----------------------------------------------------------


class MeetingScheduled(Payload):
    event_type = "MeetingScheduled"
    topic = TOPIC_MEETINGS
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None = None
    online_url: str | None = None
    capacity: int
    registration_deadline: datetime | None = None
    open_to_public: bool = False
    status: str = "scheduled"
    # Confirmed seats one municipality may hold (None: no share); the rest of its people wait.
    seats_per_municipality: int | None = None
    # Other networks holding the meeting together with `network_id` (the organiser's); their
    # members may register, and it counts for each of them in reports.
    co_hosts: list[uuid.UUID] = Field(default_factory=list)
    agenda: list[AgendaItem] = Field(default_factory=list)
    # The meeting's own waitlist rule (None: the network's).
    waitlist: Literal["automatic", "offer"] | None = None
    offer_hours: int | None = None
    # Asked at registration. The answers stay in the registration service, out of every event
    # (the event log is kept; answers are erased this many days after the meeting).
    questions: list[Question] = Field(default_factory=list)
    answers_retention_days: int | None = None
    # Asked of the attendees once the meeting is held.
    feedback: list[Question] = Field(default_factory=list)
    # What the meeting is about (the public archive keeps it with the agenda).
    description: str | None = None


class MeetingUpdated(MeetingScheduled):
    event_type = "MeetingUpdated"
    rescheduled: bool = False
    capacity_changed: bool = False
    # The names of the fields whose values changed (empty in events written before it existed).
    changed: list[str] = []


class MeetingCancelled(Payload):
    event_type = "MeetingCancelled"
    topic = TOPIC_MEETINGS
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    cancelled_at: datetime
    reason: str | None = None


class MeetingMessageSent(Payload):
    """An organiser's message to a meeting's participants, and whom it addressed when sent.

    `registration_ids` is the state at send time: notification writes to those registrations'
    people, not to whoever is registered when it reads the event. The subject and body travel
    in clear: they are the organisation's words to its participants, not a member's personal
    data, and they are the same for every recipient, so there is no one member's key to seal
    them with (a member's erasure cannot be made to shred an organiser's text). Organisers are
    told not to put personal details in them; reporting ignores them and never stores them."""

    event_type = "MeetingMessageSent"
    topic = TOPIC_MEETINGS
    message_id: uuid.UUID
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    to: Literal["confirmed", "waitlisted", "all"]
    subject: str
    body: str
    sent_at: datetime
    registration_ids: list[uuid.UUID] = Field(default_factory=list)


class MeetingDocumentAdded(Payload):
    """A document (slides, minutes) attached to a meeting. The file stays in the registration
    service's object store; the event says it exists, never its content."""

    event_type = "MeetingDocumentAdded"
    topic = TOPIC_MEETINGS
    document_id: uuid.UUID
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    visibility: Literal["public", "participants"]
    added_at: datetime


class MeetingDocumentRemoved(Payload):
    event_type = "MeetingDocumentRemoved"
    topic = TOPIC_MEETINGS
    document_id: uuid.UUID
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    removed_at: datetime


class RegistrationState(Payload):
    """The full current state of one registration, so a consumer can apply the newest version
    it has seen and ignore older ones (order-independent under redelivery)."""

    topic = TOPIC_MEETINGS
    registration_id: uuid.UUID
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    municipality: str
    language: Language
    status: Literal["confirmed", "waitlisted", "cancelled"]
    seats: int
    companions: int
    registered_at: datetime
    waitlist_position: int | None = None
    # The municipality resolved in the register (None: the name matched no entry, kept as typed).
    municipality_id: uuid.UUID | None = None
    country: str | None = None
    # Plaintext only in memory (never serialised by registration): see SealedPersonalData.
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None
    # Deprecated and never set: the link travels in the sealed personal data.
    cancel_url: str | None = None
    # A seat offered to this waitlisted registration is held for it until then (see SeatOffered).
    offer_expires_at: datetime | None = None
    # Registered by series enrolment (an auto_register network), not by the person's own hand.
    automatic: bool = False


class RegistrationConfirmed(RegistrationState):
    event_type = "RegistrationConfirmed"


class RegistrationWaitlisted(RegistrationState):
    event_type = "RegistrationWaitlisted"


class RegistrationPromoted(RegistrationState):
    event_type = "RegistrationPromoted"


class RegistrationCancelled(RegistrationState):
    event_type = "RegistrationCancelled"
    previous_status: Literal["confirmed", "waitlisted"]
    cancelled_at: datetime
    cancelled_by: Literal[
        "member", "organiser", "meeting_cancelled", "erasure", "offer_expired", "term_ended"
    ]


class SeatOffered(RegistrationState):
    """A freed seat is held for this waitlisted registration until `offer_expires_at`; the
    person accepts through the link in `personal.action_url` (RegistrationPromoted follows)."""

    event_type = "SeatOffered"


class SeatOfferExpired(RegistrationState):
    """The offer lapsed unaccepted; the seat moves on to the next person. `status` says where
    this registration stands now."""

    event_type = "SeatOfferExpired"


class AttendanceRecorded(RegistrationState):
    event_type = "AttendanceRecorded"
    checked_in_at: datetime


class CompanionCheckedIn(RegistrationState):
    """A companion of the registration arrived at the door (`companion_index` into the
    registration's companions, from 0). The member's own arrival is AttendanceRecorded."""

    event_type = "CompanionCheckedIn"
    companion_index: int
    checked_in_at: datetime


class AttendanceUndone(RegistrationState):
    """A check-in made by mistake was taken back: the member's (`companion_index` None), or a
    companion's."""

    event_type = "AttendanceUndone"
    companion_index: int | None = None
    undone_at: datetime


class FeedbackSubmitted(Payload):
    """An attendee's feedback on a held meeting: choice and scale answers in clear for the
    results; free text stays in the registration service."""

    event_type = "FeedbackSubmitted"
    topic = TOPIC_MEETINGS
    feedback_id: uuid.UUID
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    submitted_at: datetime
    answers: list[Answer] = Field(default_factory=list)
    municipality_id: uuid.UUID | None = None


# --- member dialogue: consultations, topic proposals, votes -------------------------------------

Audience = Literal["members", "parties", "public"]


class ConsultationState(Payload):
    """The full current state of a consultation. Opened and closed by the clock (a scheduler in
    the registration service), each once."""

    topic = TOPIC_DIALOGUE
    consultation_id: uuid.UUID
    network_id: uuid.UUID
    network_title: str = ""
    organisation_id: uuid.UUID | None = None
    title: str
    description: str | None = None
    questions: list[Question]
    opens_at: datetime
    closes_at: datetime
    audience: Audience
    status: Literal["scheduled", "open", "closed"]
    language: Language
    # How many people the audience held when it opened (members, or the joined parties'
    # contacts); None for the public. The denominator of the response rate.
    audience_size: int | None = None


class ConsultationOpened(ConsultationState):
    event_type = "ConsultationOpened"


class ConsultationClosed(ConsultationState):
    event_type = "ConsultationClosed"


class ConsultationInvitation(Payload):
    """One person of the audience invited to answer, written when the consultation opens (the
    link to the form in `personal.action_url`). Notification keeps it to remind, before the
    consultation closes, those who have not answered."""

    event_type = "ConsultationInvitation"
    topic = TOPIC_DIALOGUE
    consultation_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    language: Language
    title: str
    closes_at: datetime
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None


class AddressConfirmationRequested(Payload):
    """A person whose address is not yet confirmed said something (a response, a proposal, a
    vote): it counts once they confirm through the link in `personal.action_url`."""

    event_type = "AddressConfirmationRequested"
    topic = TOPIC_DIALOGUE
    confirmation_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    language: Language
    subject: Literal["response", "proposal", "vote"]
    requested_at: datetime
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None


class AddressConfirmed(Payload):
    event_type = "AddressConfirmed"
    topic = TOPIC_DIALOGUE
    member_id: uuid.UUID
    network_id: uuid.UUID
    confirmed_at: datetime


class DialogueParticipant(Payload):
    """Who said it, as far as counting needs: the municipality in clear, the person sealed."""

    topic = TOPIC_DIALOGUE
    network_id: uuid.UUID
    member_id: uuid.UUID
    language: Language
    municipality_id: uuid.UUID | None = None
    municipality: str | None = None
    country: str | None = None
    personal: PersonalData | None = None
    personal_sealed: SealedPersonalData | None = None


class ResponseSubmitted(DialogueParticipant):
    """The full current state of one response (again on amendment and when it becomes counted):
    choice and scale answers in clear, free text only sealed (`personal.answers`)."""

    event_type = "ResponseSubmitted"
    response_id: uuid.UUID
    consultation_id: uuid.UUID
    status: Literal["pending", "counted"]
    submitted_at: datetime
    amended_at: datetime | None = None
    answers: list[Answer] = Field(default_factory=list)


class ProposalState(DialogueParticipant):
    """The full current state of a topic proposal. Its title and body are meant for the
    network's pages and travel in clear; its author only sealed. `counted`: the author's
    address is confirmed (an unconfirmed proposal is neither reviewed nor listed)."""

    proposal_id: uuid.UUID
    title: str
    body: str
    status: Literal["submitted", "published", "rejected", "scheduled"]
    counted: bool
    submitted_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None
    meeting_id: uuid.UUID | None = None
    votes: int = 0


class ProposalSubmitted(ProposalState):
    event_type = "ProposalSubmitted"


class ProposalPublished(ProposalState):
    event_type = "ProposalPublished"


class ProposalRejected(ProposalState):
    event_type = "ProposalRejected"


class ProposalScheduled(ProposalState):
    event_type = "ProposalScheduled"


class ProposalVoted(DialogueParticipant):
    """The full current state of one vote: `pending` until the voter's address is confirmed,
    `counted`, or `withdrawn`. Reporting counts votes, never who cast them."""

    event_type = "ProposalVoted"
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    status: Literal["pending", "counted", "withdrawn"]
    voted_at: datetime


class ProposalVoteWithdrawn(ProposalVoted):
    event_type = "ProposalVoteWithdrawn"


EVENT_TYPES: dict[str, type[Payload]] = {
    cls.event_type: cls
    for cls in (
        NetworkCreated,
        NetworkUpdated,
        PartyApplied,
        PartyJoined,
        PartyDeclined,
        PartyWithdrew,
        MemberEnrolled,
        EnrolmentCancelled,
        EnrolmentEnded,
        MemberErased,
        MeetingScheduled,
        MeetingUpdated,
        MeetingCancelled,
        MeetingMessageSent,
        MeetingDocumentAdded,
        MeetingDocumentRemoved,
        RegistrationConfirmed,
        RegistrationWaitlisted,
        RegistrationPromoted,
        RegistrationCancelled,
        SeatOffered,
        SeatOfferExpired,
        AttendanceRecorded,
        CompanionCheckedIn,
        AttendanceUndone,
        FeedbackSubmitted,
        ConsultationOpened,
        ConsultationClosed,
        ConsultationInvitation,
        AddressConfirmationRequested,
        AddressConfirmed,
        ResponseSubmitted,
        ProposalSubmitted,
        ProposalPublished,
        ProposalRejected,
        ProposalScheduled,
        ProposalVoted,
        ProposalVoteWithdrawn,
    )
}


class Envelope(BaseModel):
    """The one shape of every message on every topic."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    event_type: str
    schema_version: int
    occurred_at: datetime
    aggregate_id: uuid.UUID
    aggregate_version: int = Field(ge=1)
    correlation_id: str
    payload: dict[str, Any]


class UnreadableEvent(Exception):
    """A message no retry can make readable: bad JSON, a failed validation, a future schema."""


def new_envelope(
    payload: Payload,
    *,
    aggregate_id: uuid.UUID,
    aggregate_version: int,
    correlation_id: str,
    occurred_at: datetime | None = None,
) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        event_type=payload.event_type,
        schema_version=SCHEMA_VERSION,
        occurred_at=occurred_at or datetime.now(UTC),
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )


def _typed_envelope(payload_type: type[Payload]) -> type[Envelope]:
    event_type: Any = Literal[payload_type.event_type]  # a Literal built at run time
    return create_model(
        f"{payload_type.__name__}Envelope",
        __base__=Envelope,
        event_type=(event_type, ...),
        payload=(payload_type, ...),
    )


# One pass over the JSON for known types: the event_type picks the payload model directly,
# about twice as fast as validating the envelope and then its payload.
_ANY_KNOWN_ENVELOPE: Any = Annotated[
    Union[tuple(_typed_envelope(cls) for cls in EVENT_TYPES.values())],  # noqa: UP007
    Field(discriminator="event_type"),
]
_KNOWN_ENVELOPES: TypeAdapter[Any] = TypeAdapter(_ANY_KNOWN_ENVELOPE)


def read_envelope(raw: bytes) -> tuple[Envelope, Payload | None]:
    """Decode one Kafka message value; raise UnreadableEvent for anything no retry can fix.

    An event type this reader does not know comes back with no payload, to be skipped."""
    try:
        envelope = _KNOWN_ENVELOPES.validate_json(raw)
        payload: Payload | None = envelope.payload
    except ValidationError as typed_error:
        try:
            envelope = Envelope.model_validate_json(raw)
        except ValidationError as error:
            raise UnreadableEvent(str(error)) from error
        if envelope.event_type in EVENT_TYPES:
            raise UnreadableEvent(str(typed_error)) from typed_error
        payload = None
    if envelope.schema_version > SCHEMA_VERSION:
        raise UnreadableEvent(f"schema_version {envelope.schema_version} is newer than ours")
    return envelope, payload
