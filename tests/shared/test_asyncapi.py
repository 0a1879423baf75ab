"""The AsyncAPI documents are true: a realistic message of every event type, built and sealed as
registration builds it, is valid against the schema registration publishes for its topic; the
schemas refuse what a consumer refuses; the consumers describe what they subscribe to and the
dead letters they really send. Building an app opens no connection, so these need no
infrastructure."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema
import pytest

import notification.consumer
import reporting.consumer
from notification.main import create_app as notification_app
from notification.settings import Settings as NotificationSettings
from registration.main import create_app as registration_app
from registration.personal_data import PersonalDataVault
from registration.settings import Settings as RegistrationSettings
from reporting.main import create_app as reporting_app
from reporting.settings import Settings as ReportingSettings
from tilmeld_shared import events as ev
from tilmeld_shared.asyncapi import consumer_document, registration_document
from tilmeld_shared.consuming import dead_letter

NEVER_CONNECTED = {
    "database_url": "postgresql://127.0.0.1:1/never-connected",
    "kafka_bootstrap_servers": "127.0.0.1:1",
}
FORMATS = jsonschema.FormatChecker()  # every format it knows, uuid and date-time included

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NETWORK = uuid.uuid4()
MEETING = uuid.uuid4()
MEMBER = uuid.uuid4()
CONTACT = uuid.uuid4()
RODOVRE = uuid.uuid4()
VAULT = PersonalDataVault(os.urandom(32))


def sealed(member_id: uuid.UUID, name: str, email: str, **more: Any) -> ev.SealedPersonalData:
    """Personal data sealed with the member's own key, as registration seals it."""
    key = VAULT.new_wrapped_key(member_id)
    return VAULT.seal(member_id, key, ev.PersonalData(name=name, email=email, **more))


def network(cls: type[ev.NetworkCreated]) -> ev.Payload:
    return cls(
        network_id=NETWORK,
        title="Klimanetværket for kommunale energirådgivere",
        language="da",
        max_companions=1,
        status="open",
        organisation_id=uuid.uuid4(),
        organisers=["KL"],
        contact_name="Anne Holm",
        contact_email="klimanetvaerket@kl.example",
    )


def party(cls: type[ev.PartyState], status: str, previous: str | None, **more: Any) -> ev.Payload:
    return cls(
        party_id=uuid.uuid4(),
        network_id=NETWORK,
        network_title="Klimanetværket for kommunale energirådgivere",
        municipality_id=RODOVRE,
        municipality="Rødovre",
        country="DK",
        municipality_code="175",
        status=status,
        previous_status=previous,
        applied_at=NOW - timedelta(days=3),
        decided_at=None if status == "applied" else NOW,
        contact_member_id=CONTACT,
        language="da",
        network_contact_email="klimanetvaerket@kl.example",
        personal_sealed=sealed(
            CONTACT,
            "Mette Frederiksen-Holm",
            "mfh@rk.example",
            cancel_url="https://tilmeld.example.org/parties/x/withdraw?token=t",
        ),
        **more,
    )


def registration(cls: type[ev.RegistrationState], status: str, **more: Any) -> ev.Payload:
    return cls(
        registration_id=uuid.uuid4(),
        meeting_id=MEETING,
        network_id=NETWORK,
        member_id=MEMBER,
        municipality="Rødovre",
        municipality_id=RODOVRE,
        country="DK",
        language="da",
        status=status,
        seats=2,
        companions=1,
        registered_at=NOW - timedelta(days=1),
        waitlist_position=3 if status == "waitlisted" else None,
        personal_sealed=sealed(
            MEMBER,
            "Søren Ærøskøbing",
            "soren@example.dk",
            companions=[ev.Companion(name="Ole Klimarådgiver")],
            cancel_url="https://tilmeld.example.org/registrations/x/cancel?token=t",
        ),
        **more,
    )


def meeting(cls: type[ev.MeetingScheduled], **more: Any) -> ev.Payload:
    return cls(
        meeting_id=MEETING,
        network_id=NETWORK,
        title="Varmeplaner efter 2030",
        starts_at=NOW + timedelta(days=14),
        ends_at=NOW + timedelta(days=14, hours=3),
        timezone="Europe/Copenhagen",
        location="Rødovre Rådhus, Rødovre Parkvej 150",
        capacity=40,
        registration_deadline=NOW + timedelta(days=12),
        **more,
    )


CONSULTATION = uuid.uuid4()
PROPOSAL = uuid.uuid4()
DIET = ev.Question(question_id=uuid.uuid4(), text="Kosthensyn", kind="text")
SCALE = ev.Question(question_id=uuid.uuid4(), text="Hvor nyttigt?", kind="scale", min=1, max=5)
CHOICE = ev.Question(
    question_id=uuid.uuid4(), text="Hvilket emne?", kind="choice", options=["Musik", "Bibliotek"]
)


def consultation(cls: type[ev.ConsultationState], status: str) -> ev.Payload:
    return cls(
        consultation_id=CONSULTATION,
        network_id=NETWORK,
        network_title="Kultur for framtida",
        title="Medlemsdialog 2025",
        questions=[CHOICE, SCALE, DIET],
        opens_at=NOW,
        closes_at=NOW + timedelta(days=14),
        audience="parties",
        status=status,
        language="nb",
        audience_size=12,
    )


def proposal(cls: type[ev.ProposalState], status: str, **more: Any) -> ev.Payload:
    return cls(
        proposal_id=PROPOSAL,
        network_id=NETWORK,
        member_id=MEMBER,
        language="da",
        municipality_id=RODOVRE,
        title="Kulturens klimaaftryk",
        body="Hvordan måler vi det?",
        status=status,
        counted=True,
        submitted_at=NOW,
        personal_sealed=sealed(MEMBER, "Søren Ærøskøbing", "soren@example.dk"),
        **more,
    )


def vote(cls: type[ev.ProposalVoted], status: str) -> ev.Payload:
    return cls(
        vote_id=uuid.uuid4(),
        proposal_id=PROPOSAL,
        network_id=NETWORK,
        member_id=MEMBER,
        language="da",
        status=status,
        voted_at=NOW,
    )


PAYLOADS: list[ev.Payload] = [
    network(ev.NetworkCreated),
    network(ev.NetworkUpdated),
    party(ev.PartyApplied, "applied", None),
    party(ev.PartyJoined, "joined", "applied"),
    party(ev.PartyDeclined, "declined", "applied", reason="Netværket er for kommuner i Region H."),
    party(ev.PartyWithdrew, "withdrawn", "joined", withdrawn_by="organiser"),
    ev.MemberEnrolled(
        enrolment_id=uuid.uuid4(),
        network_id=NETWORK,
        network_title="Klimanetværket for kommunale energirådgivere",
        member_id=MEMBER,
        municipality="Rødovre",
        municipality_id=RODOVRE,
        country="DK",
        role="Energirådgiver",
        language="da",
        enrolled_at=NOW,
        personal_sealed=sealed(MEMBER, "Søren Ærøskøbing", "soren@example.dk"),
    ),
    ev.EnrolmentCancelled(
        enrolment_id=uuid.uuid4(),
        network_id=NETWORK,
        member_id=MEMBER,
        municipality="Rødovre",
        language="da",
        cancelled_at=NOW,
        cancelled_by="member",
        personal_sealed=sealed(MEMBER, "Søren Ærøskøbing", "soren@example.dk"),
    ),
    ev.EnrolmentEnded(
        enrolment_id=uuid.uuid4(),
        network_id=NETWORK,
        member_id=MEMBER,
        municipality="Rødovre",
        language="da",
        cancelled_at=NOW,
        personal_sealed=sealed(
            MEMBER,
            "Søren Ærøskøbing",
            "soren@example.dk",
            action_url="https://tilmeld.example.org/networks/x/renew?token=t",
        ),
    ),
    ev.MemberErased(member_id=MEMBER, erased_at=NOW),
    meeting(ev.MeetingScheduled),
    meeting(
        ev.MeetingUpdated,
        rescheduled=True,
        changed=["starts_at", "ends_at"],
        co_hosts=[uuid.uuid4()],
        agenda=[
            ev.AgendaItem(starts_at=NOW, title="Velkomst", speakers=["Anne Bæk"]),
            ev.AgendaItem(title="Varmeplaner", proposal_id=uuid.uuid4()),
        ],
        waitlist="offer",
        offer_hours=24,
        questions=[DIET],
        answers_retention_days=30,
        feedback=[SCALE],
    ),
    ev.MeetingCancelled(
        meeting_id=MEETING, network_id=NETWORK, cancelled_at=NOW, reason="Sygdom hos oplægsholder"
    ),
    ev.MeetingMessageSent(
        message_id=uuid.UUID(int=7),
        meeting_id=MEETING,
        network_id=NETWORK,
        to="confirmed",
        subject="Nyt lokale",
        body="Vi mødes i sal 2.\n\nVenlig hilsen",
        sent_at=NOW,
        registration_ids=[uuid.UUID(int=8)],
    ),
    ev.MeetingDocumentAdded(
        document_id=uuid.UUID(int=9),
        meeting_id=MEETING,
        network_id=NETWORK,
        filename="Program.pdf",
        content_type="application/pdf",
        size=48_213,
        visibility="public",
        added_at=NOW,
    ),
    ev.MeetingDocumentRemoved(
        document_id=uuid.UUID(int=9), meeting_id=MEETING, network_id=NETWORK, removed_at=NOW
    ),
    registration(ev.RegistrationConfirmed, "confirmed"),
    registration(ev.RegistrationWaitlisted, "waitlisted"),
    registration(ev.RegistrationPromoted, "confirmed"),
    registration(
        ev.RegistrationCancelled,
        "cancelled",
        previous_status="confirmed",
        cancelled_at=NOW,
        cancelled_by="meeting_cancelled",
    ),
    registration(ev.SeatOffered, "waitlisted", offer_expires_at=NOW + timedelta(hours=24)),
    registration(ev.SeatOfferExpired, "cancelled"),
    registration(ev.AttendanceRecorded, "confirmed", checked_in_at=NOW + timedelta(days=14)),
    registration(
        ev.CompanionCheckedIn,
        "confirmed",
        companion_index=0,
        checked_in_at=NOW + timedelta(days=14),
    ),
    registration(ev.AttendanceUndone, "confirmed", undone_at=NOW + timedelta(days=14)),
    ev.FeedbackSubmitted(
        feedback_id=uuid.uuid4(),
        meeting_id=MEETING,
        network_id=NETWORK,
        submitted_at=NOW,
        answers=[ev.Answer(question_id=SCALE.question_id, value=4)],
        municipality_id=RODOVRE,
    ),
    consultation(ev.ConsultationOpened, "open"),
    consultation(ev.ConsultationClosed, "closed"),
    ev.ConsultationInvitation(
        consultation_id=CONSULTATION,
        network_id=NETWORK,
        member_id=MEMBER,
        language="da",
        title="Kultur for framtida",
        closes_at=NOW + timedelta(days=14),
        personal_sealed=sealed(
            MEMBER,
            "Søren Ærøskøbing",
            "soren@example.dk",
            action_url="https://tilmeld.example.org/consultations/x",
        ),
    ),
    ev.AddressConfirmationRequested(
        confirmation_id=uuid.uuid4(),
        network_id=NETWORK,
        member_id=MEMBER,
        language="da",
        subject="vote",
        requested_at=NOW,
        personal_sealed=sealed(
            MEMBER,
            "Søren Ærøskøbing",
            "soren@example.dk",
            action_url="https://tilmeld.example.org/confirmations/x?token=t",
        ),
    ),
    ev.AddressConfirmed(member_id=MEMBER, network_id=NETWORK, confirmed_at=NOW),
    ev.ResponseSubmitted(
        response_id=uuid.uuid4(),
        consultation_id=CONSULTATION,
        network_id=NETWORK,
        member_id=MEMBER,
        language="da",
        municipality_id=RODOVRE,
        municipality="Rødovre",
        country="DK",
        status="counted",
        submitted_at=NOW,
        answers=[ev.Answer(question_id=SCALE.question_id, value=5)],
        personal_sealed=sealed(
            MEMBER,
            "Søren Ærøskøbing",
            "soren@example.dk",
            answers={str(DIET.question_id): "Mere musik i skolerne"},
        ),
    ),
    proposal(ev.ProposalSubmitted, "submitted"),
    proposal(ev.ProposalPublished, "published"),
    proposal(ev.ProposalRejected, "rejected", reason="Emnet er allerede på programmet."),
    proposal(ev.ProposalScheduled, "scheduled", meeting_id=MEETING),
    vote(ev.ProposalVoted, "counted"),
    vote(ev.ProposalVoteWithdrawn, "withdrawn"),
]


def on_the_wire(payload: ev.Payload) -> dict[str, Any]:
    """The message value as the relay sends it (the outbox stores `new_envelope`'s JSON)."""
    envelope = ev.new_envelope(
        payload, aggregate_id=uuid.uuid4(), aggregate_version=2, correlation_id="req-7f3a"
    )
    value: dict[str, Any] = json.loads(envelope.model_dump_json())
    return value


def payload_schema(document: dict[str, Any], topic: str, event_type: str) -> dict[str, Any]:
    """The schema of one event type's messages on a topic, resolvable in the document."""
    channel = document["channels"][topic]
    message = resolve(document, channel["messages"][event_type]["$ref"])
    return {"$ref": message["payload"]["$ref"], "components": document["components"]}


def resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def errors(schema: dict[str, Any], value: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    return registration_document(RegistrationSettings(**NEVER_CONNECTED))


def test_the_samples_cover_every_event_type() -> None:
    assert [payload.event_type for payload in PAYLOADS] == list(ev.EVENT_TYPES)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.event_type)
def test_every_event_as_sent_is_valid_against_the_schema_registration_publishes(
    payload: ev.Payload, published: dict[str, Any]
) -> None:
    message = on_the_wire(payload)

    assert not errors(payload_schema(published, payload.topic, payload.event_type), message)
    assert ev.read_envelope(json.dumps(message).encode())[1] == payload  # and consumers read it


def test_the_schemas_refuse_what_a_consumer_refuses(published: dict[str, Any]) -> None:
    schema = payload_schema(published, ev.TOPIC_MEETINGS, "RegistrationCancelled")
    good = on_the_wire(PAYLOADS[list(ev.EVENT_TYPES).index("RegistrationCancelled")])

    def variant(change: Any) -> dict[str, Any]:
        message = json.loads(json.dumps(good))
        change(message)
        return message

    assert errors(schema, variant(lambda m: m["payload"].pop("previous_status")))
    assert errors(schema, variant(lambda m: m.update(event_type="RegistrationConfirmed")))
    assert errors(schema, variant(lambda m: m.update(aggregate_version=0)))
    assert errors(schema, variant(lambda m: m["payload"].update(language="sv")))
    assert errors(schema, variant(lambda m: m["payload"].update(member_id="not-a-uuid")))
    assert errors(schema, variant(lambda m: m["payload"]["personal_sealed"].pop("ciphertext")))
    # Additive contracts: a field a reader does not know yet is no error.
    assert not errors(schema, variant(lambda m: m["payload"].update(seat_numbers=[4, 5])))


def test_each_topic_offers_exactly_its_event_types_and_says_its_key(
    published: dict[str, Any],
) -> None:
    for topic in ev.ALL_TOPICS:
        channel = published["channels"][topic]
        expected = [name for name, cls in ev.EVENT_TYPES.items() if cls.topic == topic]
        assert list(channel["messages"]) == expected
        assert channel["address"] == topic
        operation = published["operations"][f"publish:{topic}"]
        assert operation["action"] == "send"
    assert "Key: the meeting id" in published["channels"][ev.TOPIC_MEETINGS]["description"]


def test_no_schema_puts_personal_data_on_a_topic_in_clear(published: dict[str, Any]) -> None:
    schemas = published["components"]["schemas"]
    for name, cls in ev.EVENT_TYPES.items():
        properties = schemas[name]["properties"]
        assert "personal" not in properties
        assert ("personal_sealed" in properties) == ("personal_sealed" in cls.model_fields)
    assert set(schemas["PersonalData"]["properties"]) >= {"name", "email", "cancel_url"}


def test_every_reference_in_every_document_resolves() -> None:
    documents = [
        registration_document(RegistrationSettings(**NEVER_CONNECTED)),
        consumer_document(
            ReportingSettings(**NEVER_CONNECTED), title="t", description="d", group_id="g"
        ),
    ]

    def references(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for value in node.values() for r in references(value)]
        if isinstance(node, list):
            return [r for value in node for r in references(value)]
        return []

    for document in documents:
        for reference in references(document):
            assert resolve(document, reference) is not None, reference


CONSUMERS = {
    "notification": (NotificationSettings, notification.consumer.SERVICE),
    "reporting": (ReportingSettings, reporting.consumer.SERVICE),
}


def subscribed_topics(service: str, settings: Any) -> set[str]:
    if service == "notification":
        broker = notification.consumer.create_broker(settings, None, None, None)  # type: ignore[arg-type]
    else:
        broker = reporting.consumer.create_broker(settings, None)  # type: ignore[arg-type]
    return {topic.name for subscriber in broker.subscribers for topic in subscriber.topics}


@pytest.mark.parametrize("service", CONSUMERS)
def test_a_consumer_describes_what_it_subscribes_to_and_where_it_dead_letters(
    service: str,
) -> None:
    settings = CONSUMERS[service][0](**NEVER_CONNECTED)
    document = consumer_document(
        settings, title=service, description="-", group_id=settings.kafka_group_id
    )
    received = {
        resolve(document, operation["channel"]["$ref"])["address"]
        for operation in document["operations"].values()
        if operation["action"] == "receive"
    }
    sent = {
        resolve(document, operation["channel"]["$ref"])["address"]
        for operation in document["operations"].values()
        if operation["action"] == "send"
    }

    assert received == subscribed_topics(service, settings)
    assert sent == {f"{topic}.dlq" for topic in received}
    for payload in PAYLOADS:  # the same payloads as registration publishes
        schema = payload_schema(document, payload.topic, payload.event_type)
        assert not errors(schema, on_the_wire(payload))


@pytest.mark.parametrize("service", CONSUMERS)
async def test_a_dead_letter_as_sent_is_valid_against_the_documented_headers_and_payload(
    service: str,
) -> None:
    settings = CONSUMERS[service][0](**NEVER_CONNECTED)
    document = consumer_document(settings, title=service, description="-", group_id="g")
    sent: dict[str, Any] = {}

    class Broker:
        async def publish(self, message: bytes, **more: Any) -> None:
            sent.update(message=json.loads(message), **more)

    class Pool:
        async def execute(self, *_: Any) -> None:
            return None

    record = SimpleNamespace(
        topic=ev.TOPIC_ENROLMENTS,
        partition=4,
        offset=1812,
        key=str(NETWORK).encode(),
        value=b'{"event_type": "MemberEnrolled", "payload": {"email": "soren@example.dk"}}',
    )
    await dead_letter(
        Broker(),  # type: ignore[arg-type]
        Pool(),  # type: ignore[arg-type]
        record,
        error="payload.member_id: Field required (soren@example.dk)",
        service=CONSUMERS[service][1],
    )

    channel = document["channels"][f"{ev.TOPIC_ENROLMENTS}.dlq"]
    message = resolve(document, channel["messages"]["DeadLetter"]["$ref"])
    components = document["components"]
    assert sent["topic"] == f"{ev.TOPIC_ENROLMENTS}.dlq"
    assert not errors({**message["payload"], "components": components}, sent["message"])
    assert not errors({**message["headers"], "components": components}, sent["headers"])
    assert "soren@example.dk" not in json.dumps(sent, default=repr)  # masked in x-error


@pytest.mark.parametrize(
    ("app", "title"),
    [
        (lambda: registration_app(RegistrationSettings(**NEVER_CONNECTED)), "registration"),
        (lambda: notification_app(NotificationSettings(**NEVER_CONNECTED)), "notification"),
        (lambda: reporting_app(ReportingSettings(**NEVER_CONNECTED)), "reporting"),
    ],
)
async def test_each_service_serves_its_document_and_a_page_for_it(app: Any, title: str) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app()), base_url="http://service"
    ) as client:
        document = await client.get("/asyncapi.json")
        page = await client.get("/asyncapi")

    assert document.status_code == 200
    assert document.json()["asyncapi"] == "3.0.0"
    assert document.json()["info"]["title"] == f"Tilmeld {title}"
    assert page.status_code == 200
    assert "AsyncApiStandalone.render" in page.text
