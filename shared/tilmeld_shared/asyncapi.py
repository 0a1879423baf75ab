"""The AsyncAPI 3 documents of the event flow, generated from the event models.

Registration's document says what it publishes on each topic; each consumer's says what it
reads and what it dead-letters. The message payloads are JSON Schemas generated from the
models in `tilmeld_shared.events` (one schema per event type: the envelope with its payload),
so a field added to a model is in every document at once. Each service serves its document at
`/asyncapi.json` and renders it at `/asyncapi`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, cast

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification.asyncapi.site import get_asyncapi_html
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from tilmeld_shared.events import (
    ALL_TOPICS,
    EVENT_TYPES,
    SCHEMA_VERSION,
    TOPIC_DIALOGUE,
    TOPIC_ENROLMENTS,
    TOPIC_MEETINGS,
    TOPIC_NETWORKS,
    Envelope,
    Payload,
    PersonalData,
)
from tilmeld_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from faststream.specification.base import Specification

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS = "#/components/schemas/"

# What each topic carries, and what its key is (each aggregate's events stay in one partition).
TOPICS: dict[str, tuple[str, str]] = {
    TOPIC_NETWORKS: ("Networks and the municipalities that are parties to them.", "network id"),
    TOPIC_ENROLMENTS: ("Members' enrolments in networks, and erasures.", "network id"),
    TOPIC_MEETINGS: ("Meetings and the registrations for them.", "meeting id"),
    TOPIC_DIALOGUE: (
        "Member dialogue: consultations and their responses, topic proposals and votes.",
        "network id",
    ),
}

SUMMARIES = {
    "NetworkCreated": "A network was created.",
    "NetworkUpdated": "A network's title, language, companions or status changed (its full state).",
    "PartyApplied": "A municipality applied to be a party of a network.",
    "PartyJoined": "A municipality became a party: at once (open network) or on acceptance.",
    "PartyDeclined": "An organiser declined a municipality's application.",
    "PartyWithdrew": "A party withdrew, or an organiser withdrew it.",
    "MemberEnrolled": "A person enrolled in a network.",
    "EnrolmentCancelled": "An enrolment ended: by the member, an organiser or erasure.",
    "EnrolmentEnded": "The network's term ended, and with it the enrolment.",
    "MemberErased": "A member's personal data was erased everywhere; aggregates stay.",
    "MeetingScheduled": "A meeting was scheduled.",
    "MeetingUpdated": "A meeting changed: its full state, and `changed` names the fields that did.",
    "MeetingCancelled": "A meeting was cancelled.",
    "MeetingMessageSent": "An organiser wrote to a meeting's participants.",
    "MeetingDocumentAdded": "A document was attached to a meeting.",
    "MeetingDocumentRemoved": "A document was removed from a meeting.",
    "RegistrationConfirmed": "A registration got its seats (its full state).",
    "RegistrationWaitlisted": "A registration is on the waitlist (its full state).",
    "RegistrationPromoted": "A waitlisted registration got its seats (its full state).",
    "RegistrationCancelled": "A registration was cancelled (its full state).",
    "SeatOffered": "A freed seat is held for a waitlisted registration until the offer expires.",
    "SeatOfferExpired": "An offered seat was not accepted in time and moves on.",
    "AttendanceRecorded": "A registered person was checked in at the meeting.",
    "CompanionCheckedIn": "A companion of a registration arrived at the door.",
    "AttendanceUndone": "A check-in made by mistake was taken back.",
    "FeedbackSubmitted": "An attendee gave feedback on a held meeting.",
    "ConsultationOpened": "A consultation opened (its full state).",
    "ConsultationClosed": "A consultation closed (its full state).",
    "ConsultationInvitation": "One person of a consultation's audience was invited to answer.",
    "AddressConfirmationRequested": "A person must confirm their address before they count.",
    "AddressConfirmed": "A person confirmed their address; what they said now counts.",
    "ResponseSubmitted": "A response to a consultation, submitted, amended or counted.",
    "ProposalSubmitted": "A member proposed a topic.",
    "ProposalPublished": "A topic proposal was published for votes.",
    "ProposalRejected": "An organiser rejected a topic proposal.",
    "ProposalScheduled": "A topic proposal was put on a meeting's agenda.",
    "ProposalVoted": "A vote for a topic proposal, cast or counted.",
    "ProposalVoteWithdrawn": "A vote for a topic proposal was withdrawn.",
}

ENVELOPE = (
    "Every message is one JSON envelope: the event's id (unique; consumers deduplicate on it), "
    "its type, the schema version, when it happened, the aggregate it belongs to and that "
    "aggregate's version (1, 2, 3 … per aggregate), the correlation id of the request that "
    "caused it, and the payload of its type. Contracts are additive only: a reader ignores "
    "fields it does not know. A person's name, address and self-service link travel only "
    "sealed (`personal_sealed`, AES-256-GCM with the member's own key, which registration "
    "holds and erasure destroys); reporting gets none of it."
)


class DeadLetterNotice(BaseModel):
    """Announces a record a consumer could never read. The record itself stays in the
    consumer's `dead_letters` table, where erasure can reach it; a topic cannot be edited,
    so it carries only where the record was and a digest of it."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    origin_topic: str
    """The topic the record was read from."""
    origin_partition: int = Field(ge=0)
    """Its partition."""
    origin_offset: int = Field(ge=0)
    """Its offset in that partition."""
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    """SHA-256 of the record's value, hex."""
    kept_in: str
    """Where the record is kept: `<service>.dead_letters`."""


class DeadLetterHeaders(BaseModel):
    """Why and where from, as Kafka headers (UTF-8), so tools can filter without the value."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, use_attribute_docstrings=True)

    error: str = Field(alias="x-error", max_length=1000)
    """Why the record is unreadable (email addresses masked)."""
    origin_topic: str = Field(alias="x-origin-topic")
    """The topic the record was read from."""
    origin_partition: str = Field(alias="x-origin-partition", pattern="^[0-9]+$")
    """Its partition, in decimal."""
    origin_offset: str = Field(alias="x-origin-offset", pattern="^[0-9]+$")
    """Its offset, in decimal."""
    failed_by: Literal["notification", "reporting"] = Field(alias="x-failed-by")
    """The service whose consumer could not read it."""


def envelope_model(payload_type: type[Payload]) -> type[Envelope]:
    """The envelope of one event type, its payload typed: what the relay sends for it."""
    event_type: Any = Literal[payload_type.event_type]  # a Literal built at run time
    model: type[Envelope] = create_model(
        f"{payload_type.__name__}Envelope",
        __base__=Envelope,
        __doc__=f"{payload_type.event_type} in its envelope. {ENVELOPE}",
        event_type=(event_type, ...),
        payload=(payload_type, ...),
    )
    return model


def component_schemas() -> dict[str, Any]:
    """Every schema the documents refer to, by name, generated from the models."""
    models: list[type[BaseModel]] = [envelope_model(cls) for cls in EVENT_TYPES.values()]
    models += [PersonalData, DeadLetterNotice, DeadLetterHeaders]
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = definitions["$defs"]
    for name in EVENT_TYPES:
        properties = schemas[name]["properties"]
        # Plaintext personal data exists only in registration's memory, never on a topic.
        properties.pop("personal", None)
        if "cancel_url" in properties:  # superseded by the link sealed with the person
            properties["cancel_url"]["deprecated"] = True
    schemas["PersonalData"]["description"] = (
        "What `personal_sealed.ciphertext` decrypts to (notification has registration open "
        "it); never on a topic in clear."
    )
    schemas["SealedPersonalData"]["description"] = (
        "PersonalData encrypted (AES-256-GCM) with the member's own key; the member id is the "
        "key's id and the associated data. Unreadable for good once the member is erased."
    )
    return schemas


def _messages() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for name, payload_type in EVENT_TYPES.items():
        key = TOPICS[payload_type.topic][1]
        messages[name] = {
            "name": name,
            "title": name,
            "summary": SUMMARIES.get(name, name),
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "event_type": {"type": "string", "const": name, "description": "UTF-8"}
                },
                "required": ["event_type"],
            },
            "payload": {"$ref": f"{SCHEMAS}{name}Envelope"},
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "format": "uuid", "description": f"The {key}."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "A record the consumer could never read, announced with why and where from.",
        "contentType": "application/json",
        "headers": {"$ref": f"{SCHEMAS}DeadLetterHeaders"},
        "payload": {"$ref": f"{SCHEMAS}DeadLetterNotice"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The unreadable record's key, as it was."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    return messages


def _servers(settings: ServiceSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Kafka server as the settings reach it, and the security schemes it asks for."""
    protocol = settings.kafka_security_protocol
    schemes: dict[str, Any] = {}
    if protocol.startswith("SASL"):
        name, kind = {
            "PLAIN": ("saslPlain", "plain"),
            "SCRAM-SHA-256": ("saslScramSha256", "scramSha256"),
            "SCRAM-SHA-512": ("saslScramSha512", "scramSha512"),
        }[settings.kafka_sasl_mechanism]
        schemes[name] = {"type": kind, "description": "One Kafka user per service."}
    if settings.kafka_ssl_certfile:
        schemes["clientCertificate"] = {"type": "X509", "description": "Mutual TLS."}
    bootstrap = [server.strip() for server in settings.kafka_bootstrap_servers.split(",")]
    server: dict[str, Any] = {
        "host": bootstrap[0],
        "protocol": "kafka-secure" if protocol.endswith("SSL") else "kafka",
        "description": f"Bootstrap servers {', '.join(bootstrap)} ({protocol}).",
    }
    if schemes:
        server["security"] = [{"$ref": f"#/components/securitySchemes/{name}"} for name in schemes]
    return {settings.environment: server}, schemes


def _channel(topic: str, summary: str, messages: Iterable[str], server: str) -> dict[str, Any]:
    return {
        "address": topic,
        "title": topic,
        "description": summary,
        "servers": [{"$ref": f"#/servers/{server}"}],
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(action: str, topic: str, channel: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [
            {"$ref": f"#/channels/{topic}/messages/{name}"} for name in channel["messages"]
        ],
        **more,
    }


def _event_channel(topic: str, server: str) -> dict[str, Any]:
    summary, key = TOPICS[topic]
    on_topic = [name for name, cls in EVENT_TYPES.items() if cls.topic == topic]
    return _channel(topic, f"{summary} Key: the {key}.", on_topic, server)


def _document(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    channels: dict[str, dict[str, Any]],
    operations: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    servers, schemes = _servers(settings)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": f"{description}\n\n{ENVELOPE}",
        },
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": component_schemas(),
            "messages": _messages(),
            "securitySchemes": schemes,
        },
    }


def registration_document(settings: ServiceSettings) -> dict[str, Any]:
    """What registration's outbox relay publishes: every event type, on its topic."""
    server = settings.environment
    channels = {topic: _event_channel(topic, server) for topic in ALL_TOPICS}
    operations = {
        f"publish:{topic}": _operation(
            "send",
            topic,
            channel,
            summary=f"The outbox relay publishes {topic} in commit order, acks=all.",
        )
        for topic, channel in channels.items()
    }
    return _document(
        settings,
        title="Tilmeld registration",
        description="The events the registration service publishes, from its transactional "
        "outbox: every state change, in order per aggregate, at least once.",
        channels=channels,
        operations=operations,
    )


def consumer_document(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    group_id: str,
    topics: Iterable[str] = ALL_TOPICS,
) -> dict[str, Any]:
    """What a consumer reads (as consumer group `group_id`) and dead-letters."""
    server = settings.environment
    channels: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    group = {"groupId": {"type": "string", "const": group_id}}
    for topic in topics:
        channels[topic] = channel = _event_channel(topic, server)
        operations[f"consume:{topic}"] = _operation(
            "receive",
            topic,
            channel,
            summary=f"Read in batches by group {group_id}; offsets committed after the batch "
            "is applied, so a crash redelivers it (the inbox makes that harmless).",
            bindings={"kafka": {**group, "bindingVersion": KAFKA_BINDING_VERSION}},
        )
        dead_letters = f"{topic}.dlq"
        channels[dead_letters] = channel = _channel(
            dead_letters,
            f"Records of {topic} that no consumer could read (bad JSON, a failed validation, "
            "a newer schema version): never retried, kept, and announced here.",
            ["DeadLetter"],
            server,
        )
        operations[f"dead-letter:{topic}"] = _operation(
            "send",
            dead_letters,
            channel,
            summary=f"Announces a record of {topic} that is kept in the service's dead letters.",
        )
    return _document(
        settings, title=title, description=description, channels=channels, operations=operations
    )


class _Rendered:
    """What FastStream's AsyncAPI page needs of a document: its title and its JSON."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.title = document["info"]["title"]
        self._json = json.dumps(document)

    def to_json(self) -> str:
        return self._json


def asyncapi_router(document: dict[str, Any]) -> APIRouter:
    """`/asyncapi` (a page) and `/asyncapi.json` (the document)."""
    page_html = get_asyncapi_html(cast("Specification", _Rendered(document)), try_it_out_path=None)
    router = APIRouter(tags=["asyncapi"])

    @router.get("/asyncapi", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(page_html)

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_document() -> JSONResponse:
        return JSONResponse(document)

    return router
