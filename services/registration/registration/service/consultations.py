"""Use cases of consultations: an organiser asks the network's audience questions in a window
the clock opens and closes; each person answers once and may amend until it closes; the
organiser exports the responses and sees registration's own counts of them.

The audience: `members` are the network's active members; `parties` are the contact persons
of its joined parties and its active members from a joined party's municipality; `public` is
anyone (the members are the ones invited). Who answers is matched by address. Choice and scale
answers are counted and travel in clear; free-text answers are personal data: stored sealed
with the person's own key and carried in events only in the sealed `personal.answers`.

Every change writes the response's full state (ResponseSubmitted) to the outbox, keyed by the
network; a response is an aggregate of its own (`version`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import confirmations as confirmation_rows
from registration.repository import consultations as consultation_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.service import address_confirmations
from registration.service.dialogue_commands import (
    AnswerIn,
    ConsultationIn,
    ResponseIn,
    ResponsePatch,
)
from registration.service.members import member_for_sign_up
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    Answer,
    ConsultationClosed,
    ConsultationInvitation,
    ConsultationOpened,
    ConsultationState,
    PersonalData,
    Question,
    ResponseSubmitted,
    SealedPersonalData,
)
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound

R = TypeVar("R")
Status = Literal["scheduled", "open", "closed"]
AMEND_PURPOSE = "amend-response"


class Submitted(NamedTuple):
    """A response as stored, and the token that amends it until the consultation closes."""

    response: asyncpg.Record
    token: str


class ConsultationList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None


class ResponseExport(NamedTuple):
    """The consultation and every response with who gave it and all answers (free text
    opened), for its organisers: JSON or CSV."""

    consultation: asyncpg.Record
    responses: list[dict[str, Any]]


class ResponseView(NamedTuple):
    """A person's own response, with their free-text answers opened: for the amend page."""

    response: asyncpg.Record
    consultation: asyncpg.Record
    answers: dict[str, str | int]


def amend_token(ctx: ServiceContext, response_id: uuid.UUID) -> str:
    # The window is the consultation's and may move: the use case judges the time, not the token.
    return tokens.issue(
        ctx.settings.effective_token_secret, AMEND_PURPOSE, response_id, expires_at=None
    )


def form_url(ctx: ServiceContext, consultation_id: uuid.UUID) -> str:
    """The public page of the consultation's form: the invitation's link."""
    return f"{ctx.settings.public_base_url}/consultations/{consultation_id}"


def amend_url(ctx: ServiceContext, consultation_id: uuid.UUID, response_id: uuid.UUID) -> str:
    """The receipt's link: the person's own response, to change until the consultation closes."""
    token = amend_token(ctx, response_id)
    return (
        f"{ctx.settings.public_base_url}/consultations/{consultation_id}/responses/"
        f"{response_id}?token={token}"
    )


def _questions(consultation: asyncpg.Record) -> list[dict[str, Any]]:
    return list(consultation["questions"])


# --- the consultation's state, opened and closed ------------------------------------------------


def _state(
    event: type[ConsultationState], consultation: asyncpg.Record, *, status: Status
) -> ConsultationState:
    return event(
        consultation_id=consultation["id"],
        network_id=consultation["network_id"],
        network_title=consultation["network_title"],
        organisation_id=consultation["organisation_id"],
        title=consultation["title"],
        description=consultation["description"],
        questions=[Question.model_validate(q) for q in _questions(consultation)],
        opens_at=consultation["opens_at"],
        closes_at=consultation["closes_at"],
        audience=consultation["audience"],
        status=status,
        language=consultation["language"],
        audience_size=consultation["audience_size"],
    )


async def open_within(conn: Connection, ctx: ServiceContext, consultation_id: uuid.UUID) -> int:
    """Open a consultation the caller holds locked: ConsultationOpened with the audience's size,
    and an invitation for each person of the audience (the members, for the public). How many
    were invited."""
    consultation = await consultation_rows.stored(conn, consultation_id)
    assert consultation is not None
    people = await consultation_rows.audience(
        conn, consultation["network_id"], consultation["audience"]
    )
    size = None if consultation["audience"] == "public" else len(people)
    version = await consultation_rows.move(conn, consultation_id, status="open", audience_size=size)
    opened = await consultation_rows.stored(conn, consultation_id)
    assert opened is not None
    await record_event(
        conn,
        _state(ConsultationOpened, opened, status="open"),
        aggregate_id=consultation_id,
        aggregate_version=version,
        key=consultation["network_id"],
    )
    link = form_url(ctx, consultation_id)
    invited = 0
    for person in people:
        if not person["email"] or not person["data_key"]:
            continue  # nobody to write to, or no key to seal the address with
        invitation = ConsultationInvitation(
            consultation_id=consultation_id,
            network_id=consultation["network_id"],
            member_id=person["id"],
            language=person["language"] or consultation["language"],
            title=consultation["title"],
            closes_at=consultation["closes_at"],
            personal_sealed=ctx.vault.seal(
                person["id"],
                person["data_key"],
                PersonalData(name=person["name"], email=person["email"], action_url=link),
            ),
        )
        # Each invitation is a fact of its own, named by the consultation and the person.
        await record_event(
            conn,
            invitation,
            aggregate_id=uuid.uuid5(consultation_id, str(person["id"])),
            aggregate_version=1,
            key=consultation["network_id"],
        )
        invited += 1
    return invited


async def close_within(conn: Connection, consultation_id: uuid.UUID) -> None:
    """Close a consultation the caller holds locked (one never opened, too)."""
    consultation = await consultation_rows.stored(conn, consultation_id)
    assert consultation is not None
    size = None
    if consultation["status"] == "scheduled" and consultation["audience"] != "public":
        # Never opened (the clock was away all its window): the audience as it is now.
        people = await consultation_rows.audience(
            conn, consultation["network_id"], consultation["audience"]
        )
        size = len(people)
    version = await consultation_rows.move(
        conn, consultation_id, status="closed", audience_size=size
    )
    closed = await consultation_rows.stored(conn, consultation_id)
    assert closed is not None
    await record_event(
        conn,
        _state(ConsultationClosed, closed, status="closed"),
        aggregate_id=consultation_id,
        aggregate_version=version,
        key=consultation["network_id"],
    )


async def create_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: ConsultationIn
) -> asyncpg.Record:
    """Store the consultation; one whose window has begun opens at once, in this transaction
    (the clock would only open it a run later)."""
    network = await network_rows.get(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    if network["status"] != "open":
        raise Conflict("The network is closed.", slug="network-closed")
    now = ctx.clock.now()
    if command.closes_at <= now:
        raise Invalid(
            "The consultation would close before it is created.",
            errors=[{"field": "closes_at", "in": "body", "message": "must be in the future"}],
        )
    questions = [
        {"question_id": str(question.question_id or uuid.uuid4()), **_question_fields(question)}
        for question in command.questions
    ]
    ids = [question["question_id"] for question in questions]
    if len(set(ids)) != len(ids):
        raise Invalid(
            "Each question_id may appear once.",
            errors=[{"field": "questions", "in": "body", "message": "question_id repeated"}],
        )
    consultation_id = uuid.uuid4()
    await consultation_rows.insert(
        conn,
        consultation_id=consultation_id,
        network_id=network_id,
        title=command.title,
        description=command.description,
        questions=questions,
        opens_at=command.opens_at,
        closes_at=command.closes_at,
        audience=command.audience,
        at=now,
    )
    if command.opens_at <= now:
        await consultation_rows.lock(conn, consultation_id)
        await open_within(conn, ctx, consultation_id)
    found = await consultation_rows.get(conn, consultation_id, now=now)
    assert found is not None
    return found


def _question_fields(question: Any) -> dict[str, Any]:
    fields = question.model_dump(mode="json", exclude={"question_id"})
    return {key: fields[key] for key in ("text", "kind", "options", "required", "min", "max")}


# --- answers ------------------------------------------------------------------------------------


class Checked(NamedTuple):
    """Answers that fit their questions: choice and scale (in clear), free text (to seal)."""

    counted: list[dict[str, Any]]
    texts: dict[str, str]


def check_answers(questions: list[dict[str, Any]], answers: list[AnswerIn]) -> Checked:
    """The answers as stored, or invalid input naming each one that does not fit: an unknown
    question, a question answered twice, a choice outside its options, a scale out of range or
    not a whole number, text for a question that is not free text; and each required question
    left unanswered (as `answers`, with its `question_id`)."""
    by_id = {question["question_id"]: question for question in questions}
    errors: list[dict[str, Any]] = []
    counted: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    seen: set[str] = set()

    def refuse(index: int, field: str, question_id: str, message: str) -> None:
        errors.append(
            {
                "field": f"answers.{index}.{field}",
                "in": "body",
                "message": message,
                "question_id": question_id,
            }
        )

    for index, answer in enumerate(answers):
        question_id = str(answer.question_id)
        question = by_id.get(question_id)
        if question is None:
            refuse(index, "question_id", question_id, "not a question of this consultation")
            continue
        if question_id in seen:
            refuse(index, "question_id", question_id, "this question is answered already")
            continue
        seen.add(question_id)
        value = answer.value
        kind = question["kind"]
        if kind == "choice":
            options = {option.casefold(): option for option in question["options"]}
            chosen = options.get(value.strip().casefold()) if isinstance(value, str) else None
            if chosen is None:
                refuse(index, "value", question_id, "not one of the question's options")
                continue
            counted.append({"question_id": question_id, "value": chosen})
        elif kind == "scale":
            least, greatest = question.get("min", 1), question.get("max", 5)
            if not isinstance(value, int) or isinstance(value, bool):
                refuse(index, "value", question_id, "a scale's answer is a whole number")
                continue
            if not least <= value <= greatest:
                refuse(index, "value", question_id, f"must be from {least} to {greatest}")
                continue
            counted.append({"question_id": question_id, "value": value})
        else:
            if not isinstance(value, str):
                refuse(index, "value", question_id, "a free-text answer is text")
                continue
            if value.strip():
                texts[question_id] = value.strip()
            else:
                seen.discard(question_id)  # an empty text is no answer
    for question in questions:
        if question.get("required") and question["question_id"] not in seen:
            errors.append(
                {
                    "field": "answers",
                    "in": "body",
                    "message": f"the question {question['text']!r} must be answered",
                    "question_id": question["question_id"],
                }
            )
    if errors:
        raise Invalid("Some answers do not fit their questions.", errors=errors)
    return Checked(counted, texts)


def _seal_texts(
    ctx: ServiceContext, member: asyncpg.Record, texts: dict[str, str]
) -> dict[str, Any] | None:
    """Free-text answers sealed with the person's own key, as stored (None: there are none)."""
    if not texts:
        return None
    sealed = ctx.vault.seal(
        member["id"], member["data_key"], PersonalData(name="", email="", answers=texts)
    )
    return sealed.model_dump(mode="json")


def open_texts(ctx: ServiceContext, stored: Any, data_key: bytes | None) -> dict[str, str]:
    """The free-text answers of a stored response; none once the person is erased."""
    if not stored:
        return {}
    opened = ctx.vault.open(SealedPersonalData.model_validate(stored), data_key)
    return dict(opened.answers) if opened is not None else {}


async def announce_response(
    conn: Connection,
    ctx: ServiceContext,
    response: asyncpg.Record,
    *,
    network_id: uuid.UUID,
) -> None:
    """Write the response's full state (ResponseSubmitted) to the outbox: choice and scale
    answers in clear, free text and the receipt's amend link sealed."""
    member = await member_rows.get(conn, response["member_id"]) if response["member_id"] else None
    network = await network_rows.get(conn, network_id)
    assert network is not None and member is not None
    texts = open_texts(ctx, response["text_sealed"], member["data_key"])
    sealed = None
    if member["email"] and member["data_key"]:
        sealed = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                answers=texts,
                action_url=amend_url(ctx, response["consultation_id"], response["id"]),
            ),
        )
    await record_event(
        conn,
        ResponseSubmitted(
            network_id=network_id,
            member_id=member["id"],
            language=member["language"] or network["language"],
            municipality_id=response["municipality_id"],
            municipality=response["municipality"],
            country=response["country"],
            personal_sealed=sealed,
            response_id=response["id"],
            consultation_id=response["consultation_id"],
            status=response["status"],
            submitted_at=response["submitted_at"],
            amended_at=response["amended_at"],
            answers=[Answer.model_validate(answer) for answer in response["answers"]],
        ),
        aggregate_id=response["id"],
        aggregate_version=response["version"],
        key=network_id,
    )


def _require_open(consultation: asyncpg.Record, now: datetime) -> None:
    if now < consultation["opens_at"]:
        raise Conflict(
            "The consultation is not open for answers yet.",
            slug="consultation-not-open",
            opens_at=consultation["opens_at"].isoformat(),
        )
    if now >= consultation["closes_at"] or consultation["stored_status"] == "closed":
        raise Conflict(
            "The consultation has closed.",
            slug="consultation-closed",
            closes_at=consultation["closes_at"].isoformat(),
        )


async def _respondent(
    conn: Connection, ctx: ServiceContext, consultation: asyncpg.Record, command: ResponseIn
) -> asyncpg.Record:
    """Who answers: anyone for the public (a new person is created), else a person of the
    audience, found by address (nobody else is created)."""
    if consultation["audience"] == "public":
        return await member_for_sign_up(conn, ctx.vault, command.member)
    found = await confirmation_rows.member_by_email(conn, command.member.email)
    if found is None or not await consultation_rows.in_audience(
        conn, consultation["network_id"], consultation["audience"], found["id"]
    ):
        who = (
            "the network's active members"
            if consultation["audience"] == "members"
            else "the contact persons of the network's parties and its members from them"
        )
        raise Forbidden(
            f"This consultation asks {who}; the address given is not among them.",
            slug="not-in-audience",
        )
    if found["data_key"] is None:
        keyed = await member_rows.give_data_key(
            conn, found["id"], data_key=ctx.vault.new_wrapped_key(found["id"])
        )
        assert keyed is not None
        found = keyed
    return found


async def submit_within(
    conn: Connection, ctx: ServiceContext, consultation_id: uuid.UUID, command: ResponseIn
) -> Submitted:
    now = ctx.clock.now()
    consultation = await consultation_rows.get(conn, consultation_id, now=now)
    if consultation is None:
        raise NotFound(f"No consultation {consultation_id}.")
    _require_open(consultation, now)
    checked = check_answers(_questions(consultation), command.answers)
    member = await _respondent(conn, ctx, consultation, command)
    if consultation["stored_status"] == "scheduled":
        # Its window has begun but the clock has not come by yet: open it now, so that its
        # ConsultationOpened comes before any response on the topic.
        locked = await consultation_rows.lock(conn, consultation_id)
        if locked is not None and locked["status"] == "scheduled":
            await open_within(conn, ctx, consultation_id)
    existing = await consultation_rows.response_of(conn, consultation_id, member["id"])
    if existing is not None:
        raise _already(existing)
    network = await network_rows.get(conn, consultation["network_id"])
    assert network is not None
    counts = await address_confirmations.counts_within(
        conn, ctx, member, network, subject="response"
    )
    response = await consultation_rows.insert_response(
        conn,
        response_id=uuid.uuid4(),
        consultation_id=consultation_id,
        member=member,
        status="counted" if counts else "pending",
        answers=checked.counted,
        text_sealed=_seal_texts(ctx, member, checked.texts),
        at=now,
    )
    if response is None:  # a twin of this request committed first
        existing = await consultation_rows.response_of(conn, consultation_id, member["id"])
        assert existing is not None
        raise _already(existing)
    await announce_response(conn, ctx, response, network_id=consultation["network_id"])
    return Submitted(response, amend_token(ctx, response["id"]))


def _already(existing: asyncpg.Record) -> Conflict:
    return Conflict(
        "This person has answered this consultation already; the link in their receipt "
        "amends the response until the consultation closes.",
        slug="already-responded",
        response_id=str(existing["id"]),
    )


async def _own_response(
    conn: Connection, ctx: ServiceContext, response_id: uuid.UUID, token: str, *, lock: bool
) -> asyncpg.Record:
    response = await (
        consultation_rows.lock_response(conn, response_id)
        if lock
        else consultation_rows.response(conn, response_id)
    )
    if response is None or response["member_id"] is None:
        raise NotFound(f"No response {response_id}.")
    if not tokens.verify(
        ctx.settings.effective_token_secret, AMEND_PURPOSE, response_id, token, now=None
    ):
        raise Forbidden("The response's token is missing or wrong.")
    return response


async def amend_within(
    conn: Connection, ctx: ServiceContext, response_id: uuid.UUID, command: ResponsePatch
) -> asyncpg.Record:
    response = await _own_response(conn, ctx, response_id, command.token, lock=True)
    now = ctx.clock.now()
    consultation = await consultation_rows.get(conn, response["consultation_id"], now=now)
    assert consultation is not None
    _require_open(consultation, now)
    checked = check_answers(_questions(consultation), command.answers)
    member = await member_rows.get(conn, response["member_id"])
    assert member is not None
    amended = await consultation_rows.amend(
        conn,
        response_id,
        answers=checked.counted,
        text_sealed=_seal_texts(ctx, member, checked.texts),
        at=now,
    )
    await announce_response(conn, ctx, amended, network_id=consultation["network_id"])
    return amended


async def count_pending_within(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> int:
    """The person's address is confirmed: each pending response counts (and says so)."""
    pending = await consultation_rows.pending_of_member(conn, member_id)
    for row in pending:
        counted = await consultation_rows.count(conn, row["id"])
        await announce_response(conn, ctx, counted, network_id=row["network_id"])
    return len(pending)


# --- reading ------------------------------------------------------------------------------------


async def _in_scope(
    conn: Connection, organiser: Principal | None, consultation_id: uuid.UUID
) -> asyncpg.Record:
    owner = await consultation_rows.organisation_of(conn, consultation_id)
    if owner is None:
        raise NotFound(f"No consultation {consultation_id}.")
    await require_in_scope(conn, organiser, "network", owner["network_id"])
    return owner


def _member_export(ctx: ServiceContext, row: asyncpg.Record) -> dict[str, Any]:
    texts = open_texts(ctx, row["text_sealed"], row["data_key"])
    answers: dict[str, Any] = {answer["question_id"]: answer["value"] for answer in row["answers"]}
    answers.update(texts)
    return {
        "response_id": row["id"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "amended_at": row["amended_at"],
        "member_id": row["member_id"],
        "name": row["name"],
        "email": row["email"],
        "role": row["role"],
        "organisation": row["organisation"],
        "municipality": row["municipality"],
        "municipality_id": row["municipality_id"],
        "country": row["country"],
        "answers": answers,
    }


def _results(consultation: asyncpg.Record, rows: list[asyncpg.Record]) -> dict[str, Any]:
    counted = [row for row in rows if row["status"] == "counted"]
    per_municipality: Counter[tuple[Any, Any, Any]] = Counter(
        (row["municipality_id"], row["municipality"], row["country"]) for row in counted
    )
    per_question = []
    for question in _questions(consultation):
        given = [
            answer["value"]
            for row in counted
            for answer in row["answers"]
            if answer["question_id"] == question["question_id"]
        ]
        entry: dict[str, Any] = {
            "question_id": question["question_id"],
            "text": question["text"],
            "kind": question["kind"],
        }
        if question["kind"] == "choice":
            tally = Counter(given)
            entry["counts"] = [
                {"value": option, "count": tally.get(option, 0)} for option in question["options"]
            ]
            entry["answered"] = len(given)
        elif question["kind"] == "scale":
            tally = Counter(given)
            points = range(question.get("min", 1), question.get("max", 5) + 1)
            entry["counts"] = [{"value": point, "count": tally.get(point, 0)} for point in points]
            entry["answered"] = len(given)
            entry["mean"] = round(sum(given) / len(given), 2) if given else None
        else:
            # Free text stays with the responses (the export); here only how many wrote one.
            entry["answered"] = None
        per_question.append(entry)
    size = consultation["audience_size"]
    return {
        "consultation_id": consultation["id"],
        "status": consultation["status"],
        "audience": consultation["audience"],
        "audience_size": size,
        "responses": len(counted),
        "pending": len(rows) - len(counted),
        "response_rate": round(len(counted) / size, 4) if size else None,
        "municipalities": [
            {
                "municipality_id": municipality_id,
                "municipality": name,
                "country": country,
                "responses": number,
            }
            for (municipality_id, name, country), number in sorted(
                per_municipality.items(), key=lambda item: (-item[1], str(item[0][1]))
            )
        ],
        "questions": per_question,
    }


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def create_consultation(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: ConsultationIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own asks its audience questions in a window."""

    async def create(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "network", network_id)
        return await create_within(conn, ctx, network_id, command)

    return await tx.once(once, create)


async def list_consultations(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    *,
    limit: int,
    cursor: Cursor | None,
) -> ConsultationList:
    """The network's consultations in the order they open (public)."""

    async def read(conn: Connection) -> ConsultationList:
        if await network_rows.get(conn, network_id) is None:
            raise NotFound(f"No network {network_id}.")
        rows = await consultation_rows.page(
            conn,
            network_id,
            now=ctx.clock.now(),
            after_time=cursor.after_time if cursor else None,
            after_id=cursor.after_id if cursor else None,
            limit=limit + 1,
        )
        page, next_cursor = Cursor.page(rows, limit, time_column="opens_at")
        return ConsultationList(page, next_cursor)

    return await tx.read(read)


async def get_consultation(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID
) -> asyncpg.Record | None:
    """The consultation with its network's title and status by the clock; None if none."""
    return await tx.read(
        lambda conn: consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
    )


async def submit_response(
    tx: Transactions,
    ctx: ServiceContext,
    consultation_id: uuid.UUID,
    command: ResponseIn,
    *,
    once: Once[Submitted, R],
) -> R:
    """A person of the audience answers, once, while the consultation is open."""
    return await tx.once(once, lambda conn: submit_within(conn, ctx, consultation_id, command))


async def amend_response(
    tx: Transactions,
    ctx: ServiceContext,
    response_id: uuid.UUID,
    command: ResponsePatch,
) -> asyncpg.Record:
    """The person (with their token) replaces their answers, until the consultation closes."""
    return await tx.run(lambda conn: amend_within(conn, ctx, response_id, command))


async def get_response(
    tx: Transactions, ctx: ServiceContext, response_id: uuid.UUID, token: str
) -> ResponseView:
    """The person's own response (with their token), free text opened, to amend it."""

    async def read(conn: Connection) -> ResponseView:
        response = await _own_response(conn, ctx, response_id, token, lock=False)
        consultation = await consultation_rows.get(
            conn, response["consultation_id"], now=ctx.clock.now()
        )
        member = await member_rows.get(conn, response["member_id"])
        assert consultation is not None and member is not None
        answers: dict[str, str | int] = {
            answer["question_id"]: answer["value"] for answer in response["answers"]
        }
        answers.update(open_texts(ctx, response["text_sealed"], member["data_key"]))
        return ResponseView(response, consultation, answers)

    return await tx.read(read)


async def export_responses(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> ResponseExport:
    """Every response, with who gave it and all answers, for the network's organisers."""

    async def read(conn: Connection) -> ResponseExport:
        await _in_scope(conn, organiser, consultation_id)
        consultation = await consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
        assert consultation is not None
        rows = await consultation_rows.export(conn, consultation_id)
        return ResponseExport(consultation, [_member_export(ctx, row) for row in rows])

    return await tx.read(read)


async def consultation_results(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> dict[str, Any]:
    """Registration's own counts: responses counted and pending, the audience, per
    municipality, and per choice and scale question the count of each answer."""

    async def read(conn: Connection) -> dict[str, Any]:
        await _in_scope(conn, organiser, consultation_id)
        consultation = await consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
        assert consultation is not None
        return _results(consultation, await consultation_rows.for_results(conn, consultation_id))

    return await tx.read(read)


# --- the person's data: export and erasure ------------------------------------------------------


async def export_of_member_within(
    conn: Connection, ctx: ServiceContext, member_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The person's responses with every answer (free text opened), for their data export."""
    member = await member_rows.get(conn, member_id)
    data_key = member["data_key"] if member else None
    return [
        {
            "response_id": row["id"],
            "consultation_id": row["consultation_id"],
            "consultation": row["consultation_title"],
            "network_id": row["network_id"],
            "status": row["status"],
            "submitted_at": row["submitted_at"],
            "amended_at": row["amended_at"],
            "answers": {
                **{answer["question_id"]: answer["value"] for answer in row["answers"]},
                **open_texts(ctx, row["text_sealed"], data_key),
            },
        }
        for row in await consultation_rows.of_member(conn, member_id)
    ]


async def forget_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: their free text goes and their responses are nobody's; the choice and scale
    answers stay counted as they were (with the municipality), so the results stay right."""
    await consultation_rows.forget_member(conn, member_id)
